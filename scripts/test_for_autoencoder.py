#!/usr/bin/env python
"""Demo: stacked autoencoder pretraining vs random init (test_for_autoencoder.m).

Run with --help; the logic is in nntoolbox.demos.autoencoder_demo."""
import os

# Before numpy loads: mini-batch training is faster on one BLAS thread (MNIST epoch
# 0.5 s vs 1.7-20 s with threaded OpenBLAS on a busy 2-core machine); set it yourself to override.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from nntoolbox.demos.autoencoder_demo import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python
"""Demo: the course's MNIST network (test_for_NN.m).

Run with --help; the logic is in nntoolbox.demos.mnist."""
import os

# Before numpy loads: mini-batch training is faster on one BLAS thread (MNIST epoch
# 0.5 s vs 1.7-20 s with threaded OpenBLAS on a busy 2-core machine); set it yourself to override.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from nntoolbox.demos.mnist import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())

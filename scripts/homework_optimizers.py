#!/usr/bin/env python
"""The course homework: Momentum vs. RMSProp_Nesterov (and any --method) on chess and MNIST.

``python scripts/homework_optimizers.py --help``; the logic is in nntoolbox.demos.homework."""
import os

# Before numpy loads; each run also limits BLAS to one thread itself (threadpoolctl)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from nntoolbox.demos.homework import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python
"""Sweep configurations x seeds on the chess or MNIST task: ``python scripts/compare.py --help``.

The logic is in nntoolbox.demos.compare_cli; the sweep itself in nntoolbox.compare."""
import os

# Before numpy loads; each run also limits BLAS to one thread itself (threadpoolctl)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from _launch import run  # noqa: E402 - Ctrl-C while the libraries load: exit 130 with one line

if __name__ == "__main__":
    raise SystemExit(run("nntoolbox.demos.compare_cli"))

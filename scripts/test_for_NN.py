#!/usr/bin/env python
"""Demo: the course's MNIST network (test_for_NN.m).

Run with --help; the logic is in nntoolbox.demos.mnist."""
from _launch import run

if __name__ == "__main__":
    raise SystemExit(run("nntoolbox.demos.mnist"))

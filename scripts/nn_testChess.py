#!/usr/bin/env python
"""Demo: the course's nn_testChess.m (same as ``nn-testchess``).

Run with --help; the logic is in nntoolbox.demos.chess."""
from _launch import run

if __name__ == "__main__":
    raise SystemExit(run("nntoolbox.demos.chess"))

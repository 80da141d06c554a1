#!/usr/bin/env python
"""Demo: stacked autoencoder pretraining vs random init (test_for_autoencoder.m).

Run with --help; the logic is in nntoolbox.demos.autoencoder_demo."""
from _launch import run

if __name__ == "__main__":
    raise SystemExit(run("nntoolbox.demos.autoencoder_demo"))

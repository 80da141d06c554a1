#!/usr/bin/env python
"""Demo: a sparse autoencoder on MNIST (test_for_SAE.m).

Run with --help; the logic is in nntoolbox.demos.sae_demo."""
from _launch import run

if __name__ == "__main__":
    raise SystemExit(run("nntoolbox.demos.sae_demo"))

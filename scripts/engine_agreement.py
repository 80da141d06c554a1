#!/usr/bin/env python
"""How far apart the two engines end: the same network trained with engine='fused' and 'stepwise'.

Same seed, same batch orders, sklearn's 8x8 digits (64-H-10, cross entropy, no batch norm):
the largest absolute difference of the weights after each of ``--epochs`` epochs, per optimizer.
One step agrees to rounding; methods that divide by sqrt(r) can amplify that rounding over many epochs.
``python scripts/engine_agreement.py [--hidden 100] [--activation sigmoid] [--method RMSProp_Nesterov ...]``"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from nntoolbox import nn_create, nn_test, nn_train, one_hot  # noqa: E402

METHODS = {"RMSProp_Nesterov": 0.01, "RMSProp": 0.01, "Adam": 0.01, "Momentum": 0.5, "normal": 0.5}


def weight_gap(method: str, lr: float, activation: str, hidden: int, epochs: int, x: np.ndarray,
               y: np.ndarray) -> tuple[list[float], dict[str, float]]:
    """Max |W_fused - W_stepwise| over all layers after each epoch, and each engine's final accuracy."""
    orders = np.random.default_rng(1).permuted(np.tile(np.arange(len(x)), (epochs, 1)), axis=1)
    nets = {engine: nn_create([64, hidden, 10], "optimization method", method, "learning rate", lr,
                              "active function", activation, "objective function", "Cross Entropy", seed=0)
            for engine in ("fused", "stepwise")}
    gaps = []
    for epoch in range(epochs):
        for engine in nets:
            option = {"batch_size": 100, "iteration": 1, "engine": engine, "order": orders[epoch:epoch + 1],
                      "progress": False}
            nets[engine] = nn_train(nets[engine], option, x, y)
        gaps.append(max(float(np.abs(a - b).max()) for a, b in zip(nets["fused"].W, nets["stepwise"].W)))
    return gaps, {engine: nn_test(nn, x, y)[1] for engine, nn in nets.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--hidden", type=int, default=32, help="hidden units (default 32)")
    parser.add_argument("--method", action="append", choices=list(METHODS), help="(repeatable; default: all)")
    args = parser.parse_args()
    digits = load_digits()
    x, y = digits.data / 16.0, one_hot(digits.target, 10)
    for method in args.method or METHODS:
        gaps, accuracy = weight_gap(method, METHODS[method], args.activation, args.hidden, args.epochs, x, y)
        print(f"{method:17s} max |W_fused - W_stepwise| after 1 epoch {gaps[0]:.1e}, after {args.epochs} epochs "
              f"{gaps[-1]:.1e}; training accuracy fused {accuracy['fused']:.4f}, stepwise {accuracy['stepwise']:.4f}")


if __name__ == "__main__":
    main()

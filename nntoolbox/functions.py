"""Objectives: the output layer's sensitivity rule and the reported cost.

Shapes follow the course: activations are ``units x samples``.  Activations
live in :mod:`nntoolbox.activations`, optimizers in :mod:`nntoolbox.optimizers`.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .activations import ACTIVATIONS, SOFTMAX
from .kernels.fused import LOG_FLOOR  # compiled into the fused kernel too

Array = np.ndarray


def output_theta(out: str, objective: str) -> Callable[[Array, Array], Array]:
    """theta{depth} = d(m * cost)/d(pre-activation) for an output function and objective."""
    entry = ACTIVATIONS[out]
    if entry.kind == SOFTMAX:
        if objective == "Cross Entropy":
            return lambda a, y: a - y

        # softmax Jacobian applied to (a - y).  The course used a - y here, the
        # cross-entropy gradient, which is wrong for MSE.
        def theta(a: Array, y: Array) -> Array:
            g = a - y
            return a * (g - (a * g).sum(axis=0, keepdims=True))
        return theta
    # MSE (nn_create pairs cross entropy with softmax only); relu: the course had no rule and crashed
    return lambda a, y: -(y - a) * entry.df(a)


def data_cost(a: Array, y: Array, objective: str, ce_factor: float) -> float:
    """Data term of the course's cost (without weight decay / sparsity), averaged over samples."""
    m = a.shape[1]
    # in float64 whatever the network's dtype, as the fused kernel accumulates it: in float32 the log
    # floor would round to 0 and log(0) = -inf
    a, y = a.astype(np.float64, copy=False), y.astype(np.float64, copy=False)
    if objective == "MSE":
        return 0.5 / m * float(np.sum((a - y) ** 2))
    return -ce_factor * float(np.sum(y * np.log(np.maximum(a, LOG_FLOOR)))) / m


def kl_sparsity(rho: float, rho_hat: Array) -> float:
    """sum_j KL(rho || rho_hat_j), the sparse autoencoder's penalty."""
    return float(np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))))

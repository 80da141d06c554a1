"""Activation, output and objective functions as registries (name -> function).

Shapes follow the course: activations are ``units x samples``.  The integer
codes (``ACT_CODES`` ...) are what the Numba kernels receive, so a new entry
must be added to both the registry and the kernels' dispatch.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.special import expit

Array = np.ndarray


def softmax(z: Array) -> Array:
    """Column-wise softmax; subtracting the max keeps exp from overflowing
    (the course's ``softmax.m`` computes exp(z) directly and returns NaN for z > 709)."""
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


# name -> (forward f(z), derivative f'(z) written in terms of a = f(z))
ACTIVATIONS: dict[str, tuple[Callable[[Array], Array], Callable[[Array], Array]]] = {
    "sigmoid": (expit, lambda a: a * (1 - a)),
    "tanh": (np.tanh, lambda a: 1 - a ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda a: (a > 0).astype(a.dtype)),
}
OUTPUTS: dict[str, Callable[[Array], Array]] = {
    **{k: f for k, (f, _) in ACTIVATIONS.items()},
    "softmax": softmax,
}


def _mse_theta(out: str) -> Callable[[Array, Array], Array]:
    if out == "softmax":
        # softmax Jacobian applied to (a - y).  The course used a - y here, the
        # cross-entropy gradient, which is wrong for MSE.
        def theta(a: Array, y: Array) -> Array:
            g = a - y
            return a * (g - (a * g).sum(axis=0, keepdims=True))
        return theta
    dfun = ACTIVATIONS[out][1]  # relu: the course had no rule and crashed
    return lambda a, y: -(y - a) * dfun(a)


# (output function, objective) -> theta{depth} = d(m * cost)/d(pre-activation)
OUTPUT_RULES: dict[tuple[str, str], Callable[[Array, Array], Array]] = {
    **{(o, "MSE"): _mse_theta(o) for o in OUTPUTS},
    ("softmax", "Cross Entropy"): lambda a, y: a - y,
}

# log() argument floor: log(0) would make the cost -inf/NaN
LOG_FLOOR = 1e-300


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


# integer codes for the Numba kernels (order matters)
ACT_CODES = {name: i for i, name in enumerate(("sigmoid", "tanh", "relu", "softmax"))}
OBJ_CODES = {"MSE": 0, "Cross Entropy": 1}
OPT_CODES = {name: i for i, name in enumerate(("normal", "Momentum", "AdaGrad", "RMSProp", "Adam"))}
BN_CODES = {"off": 0, "course": 1, "standard": 2}

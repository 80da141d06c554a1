"""Optimizer updates over the flat parameter buffer: one loop per update.

Shared by ``nn_applygradient`` and the fused training kernel so both paths
produce identical numbers.  The arithmetic follows ``nn_applygradient.m``
operation by operation (e.g. ``(lr*g)/(sqrt(r)+0.001)``), which is what makes
the results match the course to the last bits.
"""
from __future__ import annotations

import numpy as np

from . import njit

SGD, MOMENTUM, ADAGRAD, RMSPROP, ADAM = 0, 1, 2, 3, 4
ADAM_RHO1, ADAM_RHO2 = 0.9, 0.999


@njit
def apply_update(p: np.ndarray, g: np.ndarray, state: np.ndarray, method: int, lr: float,
                 rho: float, t: float, adam_textbook: bool) -> None:
    """Update ``p`` in place from gradient ``g``; ``state`` rows are the method's slots
    (Momentum: v; AdaGrad/RMSProp: r; Adam: s, r)."""
    n = p.shape[0]
    if method == SGD:
        for i in range(n):
            p[i] = p[i] - lr * g[i]
    elif method == MOMENTUM:
        v = state[0]
        for i in range(n):
            v[i] = rho * v[i] - lr * g[i]
            p[i] = p[i] + v[i]
    elif method == ADAGRAD:
        r = state[0]
        for i in range(n):
            r[i] = r[i] + g[i] * g[i]
            p[i] = p[i] - lr * g[i] / (np.sqrt(r[i]) + 0.001)
    elif method == RMSPROP:
        r = state[0]
        for i in range(n):
            r[i] = 0.9 * r[i] + 0.1 * (g[i] * g[i])
            p[i] = p[i] - lr * g[i] / (np.sqrt(r[i]) + 0.001)
    else:  # ADAM
        s = state[0]
        r = state[1]
        c1 = 1 - ADAM_RHO1 ** t
        c2 = 1 - ADAM_RHO2 ** t
        for i in range(n):
            s[i] = ADAM_RHO1 * s[i] + (1 - ADAM_RHO1) * g[i]
            r[i] = ADAM_RHO2 * r[i] + (1 - ADAM_RHO2) * (g[i] * g[i])
            sh = s[i] / c1
            rh = r[i] / c2
            if adam_textbook:
                p[i] = p[i] - lr * sh / (np.sqrt(rh) + 1e-8)
            else:
                p[i] = p[i] - lr * sh / np.sqrt(rh + 0.00001)

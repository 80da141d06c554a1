"""Nesterov momentum and RMSProp with Nesterov momentum, registered exactly as a user would.

Goodfellow, Bengio & Courville, *Deep Learning*, Algorithms 8.3 and 8.6 (the
latter with a stabiliser delta).  Both take the gradient at the interim point
``theta + alpha*v`` (the look-ahead); ``v`` and ``r`` start at zero; with batch
normalisation Gamma and Beta are updated the same way (they are part of the
flat parameter buffer).
"""
from __future__ import annotations

import numba
import numpy as np

from .kernels import CACHE
from .optimizers import register_optimizer
from .options import number_option


@numba.njit(cache=CACHE)  # CACHE: False where no directory is writable (see kernels)
def momentum_lookahead(p, state, hyper, out):
    """theta~ = theta + alpha*v (hyper[1] = alpha)."""
    alpha, v = hyper[1], state[0]
    for i in range(p.shape[0]):
        out[i] = p[i] + alpha * v[i]


@numba.njit(cache=CACHE)
def nesterov_update(p, g, state, hyper, t):  # noqa: ARG001 - no step count needed
    """v = alpha*v - lr*g; theta += v (g taken at theta~)."""
    lr, alpha, v = hyper[0], hyper[1], state[0]
    for i in range(p.shape[0]):
        v[i] = alpha * v[i] - lr * g[i]
        p[i] = p[i] + v[i]


@numba.njit(cache=CACHE)
def rmsprop_nesterov_update(p, g, state, hyper, t):  # noqa: ARG001
    """r = rho*r + (1-rho)*g^2; v = alpha*v - lr*g/sqrt(delta + r); theta += v."""
    lr, alpha, rho, delta = hyper[0], hyper[1], hyper[2], hyper[3]
    v, r = state[0], state[1]
    for i in range(p.shape[0]):
        r[i] = rho * r[i] + (1 - rho) * g[i] * g[i]
        v[i] = alpha * v[i] - lr * g[i] / np.sqrt(delta + r[i])
        p[i] = p[i] + v[i]


ALPHA = number_option(0.9, 0, 1, hi_open=True, doc="momentum alpha")
register_optimizer("Nesterov", nesterov_update, slots=("v",), hyper={"momentum": ALPHA},
                   lookahead=momentum_lookahead, doc="Nesterov momentum (Goodfellow et al. Alg. 8.3)")
register_optimizer("RMSProp_Nesterov", rmsprop_nesterov_update, slots=("v", "r"),
                   hyper={"momentum": ALPHA, "rho": number_option(0.9, 0, 1, hi_open=True, doc="decay rate rho"),
                          "delta": number_option(1e-6, 0, float("inf"), lo_open=True, doc="stabiliser delta")},
                   lookahead=momentum_lookahead, doc="RMSProp with Nesterov momentum (Goodfellow et al. Alg. 8.6)")

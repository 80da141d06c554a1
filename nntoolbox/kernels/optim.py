"""The course's optimizer updates, written as registered optimizers (see :mod:`nntoolbox.optimizers`).

Each is ``update(p, g, state, hyper, t)`` over the whole flat parameter buffer:
``hyper[0]`` is the learning rate, then the optimizer's declared
hyper-parameters; ``state`` rows are its slots.  The arithmetic follows
``nn_applygradient.m`` operation by operation (e.g. ``(lr*g)/(sqrt(r)+0.001)``),
which is what makes the results match the course to the last bits.
"""
from __future__ import annotations

import numpy as np

from . import njit

ADAM_RHO1, ADAM_RHO2 = 0.9, 0.999


@njit
def sgd(p, g, state, hyper, t):  # noqa: ARG001 - the registered signature
    """normal: W -= lr*g."""
    lr = hyper[0]
    for i in range(p.shape[0]):
        p[i] = p[i] - lr * g[i]


@njit
def momentum(p, g, state, hyper, t):  # noqa: ARG001
    """Momentum: v = rho*v - lr*g; W += v (hyper: lr, momentum)."""
    lr, rho = hyper[0], hyper[1]
    v = state[0]
    for i in range(p.shape[0]):
        v[i] = rho * v[i] - lr * g[i]
        p[i] = p[i] + v[i]


@njit
def adagrad(p, g, state, hyper, t):  # noqa: ARG001
    """AdaGrad: r += g^2; W -= lr*g/(sqrt(r)+0.001)."""
    lr = hyper[0]
    r = state[0]
    for i in range(p.shape[0]):
        r[i] = r[i] + g[i] * g[i]
        p[i] = p[i] - lr * g[i] / (np.sqrt(r[i]) + 0.001)


@njit
def rmsprop(p, g, state, hyper, t):  # noqa: ARG001
    """RMSProp: r = rho*r + (1-rho)*g^2 (course rho 0.9); W -= lr*g/(sqrt(r)+0.001)."""
    lr, rho = hyper[0], hyper[1]
    r = state[0]
    for i in range(p.shape[0]):
        r[i] = rho * r[i] + (1 - rho) * (g[i] * g[i])
        p[i] = p[i] - lr * g[i] / (np.sqrt(r[i]) + 0.001)


@njit
def adam(p, g, state, hyper, t):
    """Adam with bias correction at time ``t``; ``hyper[1]`` = 1 for the textbook
    denominator sqrt(r_hat)+1e-8, 0 for the course's sqrt(r_hat+1e-5).  Scalars are cast to
    the parameters' dtype, so float32 networks update in float32 (float64: the same numbers)."""
    f = p.dtype.type
    lr, textbook = f(hyper[0]), hyper[1] != 0
    rho1, rho2, one_rho1, one_rho2 = f(ADAM_RHO1), f(ADAM_RHO2), f(1 - ADAM_RHO1), f(1 - ADAM_RHO2)
    eps_out, eps_in = f(1e-8), f(0.00001)
    s = state[0]
    r = state[1]
    # reciprocal bias corrections: one multiply per element instead of a division (a division's
    # throughput is a sixth of a multiply's; the result is within an ulp of s/(1-rho1^t))
    c1 = f(1 / (1 - ADAM_RHO1 ** t))
    c2 = f(1 / (1 - ADAM_RHO2 ** t))
    for i in range(p.shape[0]):
        s[i] = rho1 * s[i] + one_rho1 * g[i]
        r[i] = rho2 * r[i] + one_rho2 * (g[i] * g[i])
        sh = s[i] * c1
        rh = r[i] * c2
        if textbook:
            p[i] = p[i] - lr * sh / (np.sqrt(rh) + eps_out)
        else:
            p[i] = p[i] - lr * sh / np.sqrt(rh + eps_in)

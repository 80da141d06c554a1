"""One epoch of a single linear neuron's per-sample rules: Rosenblatt's perceptron and Widrow-Hoff LMS.

Both visit the samples one at a time in a given order and update ``w`` and the bias ``b[0]`` in place
after each: the loop over samples is the algorithm, so it is compiled.
"""
from __future__ import annotations

import numpy as np

from . import interrupt_safe, njit


@njit
def _score(x, i, w, b):
    z = b[0]
    for j in range(x.shape[1]):
        z += w[j] * x[i, j]
    return z


@njit
def _perceptron_epoch(x, t, order, w, b, rate):
    """Rosenblatt's rule, t in {-1, +1}: a sample with sgn(w'x + b) != t (sgn(0) = +1, as the step unit)
    moves the line towards it, w += rate*t*x, b += rate*t.  Returns the number of updates."""
    updates = 0
    for i in order:
        if (1.0 if _score(x, i, w, b) >= 0 else -1.0) != t[i]:
            updates += 1
            step = rate * t[i]
            for j in range(x.shape[1]):
                w[j] += step * x[i, j]
            b[0] += step
    return updates


@njit
def _lms_epoch(x, t, order, w, b, rate):
    """Widrow-Hoff (LMS): every sample moves the linear output towards its target,
    w += rate*(t - z)*x, b += rate*(t - z)."""
    for i in order:
        step = rate * (t[i] - _score(x, i, w, b))
        for j in range(x.shape[1]):
            w[j] += step * x[i, j]
        b[0] += step
    return 0


@interrupt_safe
def linear_unit_epoch(rule: str, x: np.ndarray, t: np.ndarray, order: np.ndarray, w: np.ndarray, b: np.ndarray,
                      rate: float) -> int:
    """One epoch of ``rule`` ('perceptron' or 'adaline') in place on ``w``, ``b`` (float64, ``b`` of shape (1,));
    returns the perceptron's number of updates (0 for LMS)."""
    kernel = _perceptron_epoch if rule == "perceptron" else _lms_epoch
    return int(kernel(x, t, order, w, b, rate))

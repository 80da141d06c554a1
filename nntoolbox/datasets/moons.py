"""The chapter's small two-class data sets: Haykin's double moon and the four XOR points."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..create import make_rng
from ..options import OPTIONS, check_number


def double_moon(n: int, radius: float = 10, width: float = 6, distance: float = 1,
                seed: Any = 0) -> tuple[np.ndarray, np.ndarray]:
    """Haykin's double-moon data (*Neural Networks and Learning Machines*, ch. 1; MATLAB ``halfmoon.m``).

    Two half rings of radii uniform in ``[radius - width/2, radius + width/2]``: the upper one (label +1)
    centred at (0, 0), angles in [0, pi]; the lower one (label -1) flipped, centred at (``radius``,
    ``-distance``).  ``distance > 0`` leaves a gap between them (linearly separable); ``distance < 0``
    makes them overlap vertically (not separable).  Returns ``(x, y)``: ``x`` ``n x 2`` float64, ``y`` the
    labels (+1 / -1, float64), rows shuffled; an odd ``n`` gives the upper moon the extra sample
    (``ceil(n/2)`` rows of +1).  ``seed``: int, numpy Generator or None (fresh entropy).
    """
    n = check_number(n, "n", lo=2, integer=True)
    radius = check_number(radius, "radius", lo=0, lo_open=True)
    width = check_number(width, "width", lo=0, hi=2 * radius, lo_open=True)  # the inner radius: radius - width/2
    distance = check_number(distance, "distance")
    rng = make_rng(OPTIONS["seed"].check("seed", seed))
    upper = (n + 1) // 2
    r = radius - width / 2 + width * rng.random(n)
    theta = math.pi * rng.random(n)
    x = np.column_stack((r * np.cos(theta), r * np.sin(theta)))
    x[upper:] = [radius, -distance] - x[upper:]  # flip the lower moon (angles pi..2pi), then shift it
    y = np.where(np.arange(n) < upper, 1.0, -1.0)
    order = rng.permutation(n)
    return x[order], y[order]


def xor_data() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points: ``x`` rows (0,0), (0,1), (1,0), (1,1) and targets ``y`` = 0, 1, 1, 0 as a 4 x 1
    column (float64), ready for ``nn_train`` on a ``[2, 2, 1]`` network and for ``perceptron_train``."""
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return x, np.logical_xor(x[:, :1], x[:, 1:]).astype(np.float64)

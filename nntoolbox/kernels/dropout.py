"""Counter-based dropout masks, shared by the step-by-step and fused paths.

The mask entry for (seed, training step, layer, unit, sample) is a pure
function of those numbers (a SplitMix64 hash), so both paths draw identical
masks without sharing a random-number stream.
"""
from __future__ import annotations

import numpy as np

from . import interrupt_safe, njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@njit
def keep_unit(seed: np.uint64, step: np.int64, layer: np.int64, index: np.int64, p: float) -> bool:
    """True when the unit is kept: a uniform draw in [0, 1) below ``p``."""
    x = np.uint64(seed) + np.uint64(step) * _GOLDEN + np.uint64(layer) * _M1 + np.uint64(index) * _M2
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)) * (1.0 / 9007199254740992.0) < p


@njit
def _fill_mask(out: np.ndarray, seed: np.uint64, step: np.int64, layer: np.int64, p: float) -> None:
    units, m = out.shape
    for u in range(units):
        for s in range(m):
            out[u, s] = 1.0 / p if keep_unit(seed, step, layer, u * m + s, p) else 0.0


@interrupt_safe
def dropout_mask(seed: int, step: int, layer: int, shape: tuple[int, int], p: float) -> np.ndarray:
    """Inverted-dropout mask (``units x m``): ``1/p`` where kept, 0 where dropped."""
    out = np.empty(shape)
    _fill_mask(out, np.uint64(seed), step, layer, p)
    return out

"""Class labels <-> one-hot target rows (the course's ``train_y``)."""
from __future__ import annotations

from typing import Any

import numpy as np


def one_hot(labels: Any, n_classes: int | None = None) -> np.ndarray:
    """Integer class labels ``0 .. n_classes-1`` -> ``N x n_classes`` one-hot float64 rows.

    MATLAB labels are 1-based: pass ``labels - 1``.  ``n_classes`` defaults to
    ``max(labels) + 1``; give it when a class may be missing from ``labels``.
    """
    arr = np.asarray(labels)
    if arr.dtype.kind not in "iuf" or arr.ndim > 2 or (arr.ndim == 2 and 1 not in arr.shape):
        raise TypeError(f"labels must be a vector of integer class labels; got {arr.dtype} of shape {arr.shape}")
    arr = arr.ravel()
    if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)) or np.any(arr < 0):
        raise ValueError("labels must be non-negative integers 0 .. n_classes-1 (subtract 1 from MATLAB's 1-based "
                         "labels)")
    arr = arr.astype(np.int64)
    n = int(arr.max()) + 1 if n_classes is None and arr.size else int(n_classes or 0)
    if arr.size and arr.max() >= n:
        raise ValueError(f"label {arr.max()} is out of range for n_classes={n} (labels are 0 .. n_classes-1)")
    out = np.zeros((arr.size, n))
    out[np.arange(arr.size), arr] = 1.0
    return out

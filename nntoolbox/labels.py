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


def class_labels(y: Any, name: str = "y", n_classes: int | None = None) -> np.ndarray:
    """Integer class labels from one-hot rows or network outputs (argmax per row, the course's
    ``max(..., [], 2)``) or from a label vector (also as one column).  ``n_classes``, when known: the
    rows' width and the labels' bound.  ``ValueError`` starting with ``name`` otherwise."""
    a = np.asarray(y)
    if a.ndim == 2 and a.shape[1] != 1:
        if n_classes is not None and a.shape[1] != n_classes:
            raise ValueError(f"{name} must be one-hot rows with {n_classes} columns or integer labels; "
                             f"got shape {a.shape}")
        return a.argmax(axis=1)
    if a.ndim > 2:
        raise ValueError(f"{name} must be one-hot rows or a vector of integer labels; got shape {a.shape}")
    a = a.ravel()
    if a.size and (a.dtype.kind not in "uifb" or np.any(a != np.round(a)) or a.min() < 0):
        raise ValueError(f"{name} must hold non-negative integer class labels")
    labels = a.astype(np.int64)
    if n_classes is not None and labels.size and labels.max() >= max(n_classes, 2):
        raise ValueError(f"{name} labels must lie in 0..{max(n_classes, 2) - 1}; got {labels.min()}..{labels.max()}")
    return labels

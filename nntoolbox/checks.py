"""Input validation shared by the public functions: clear errors instead of
MATLAB's 'nonconformant arguments' (or silent NaN) deep inside the maths."""
from __future__ import annotations

from typing import Any

import numpy as np

from .network import Network


def as_matrix(x: Any, name: str, dtype: np.dtype) -> np.ndarray:
    """``x`` as a finite 2-D float array (one sample per row); a 1-D input is one sample."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a numeric array, one sample per row; got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except Exception as e:  # ragged lists etc.
        raise TypeError(f"{name} is not a numeric array: {e}") from None
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric; got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (samples x features); got shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} contains NaN or inf (first at row {bad[0]}, column {bad[1]})")
    return arr


def check_xy(nn: Network, x: Any, y: Any | None, what: str = "x",
             y_name: str = "y") -> tuple[np.ndarray, np.ndarray | None]:
    """Validate inputs (and targets) against the network's layer sizes."""
    dt = np.dtype(nn["dtype"])
    n_in, n_out = int(nn["size"][0]), int(nn["size"][-1])
    x = as_matrix(x, what, dt)
    if x.shape[1] != n_in:
        hint = " (pass samples as rows, as the course does)" if x.shape[0] == n_in else ""
        raise ValueError(f"{what} has {x.shape[1]} columns but the network has {n_in} inputs{hint}")
    if y is None:
        return x, None
    y = as_matrix(y, y_name, dt)
    if y.shape[1] != n_out:
        hint = " (labels must be one-hot, one row per sample)" if y.shape[1] == 1 and n_out > 1 else \
            " (pass samples as rows, as the course does)" if y.shape[0] == n_out else ""
        raise ValueError(f"{y_name} has {y.shape[1]} columns but the network has {n_out} outputs{hint}")
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"{what} has {x.shape[0]} rows but {y_name} has {y.shape[0]}: one target row per sample")
    return x, y

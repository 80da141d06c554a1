"""Input validation shared by the public functions: clear errors instead of
MATLAB's 'nonconformant arguments' (or silent NaN / silently wrong results) deep inside the maths."""
from __future__ import annotations

from typing import Any

import numpy as np

from .activations import ACTIVATIONS
from .datacache import remembered
from .network import PARAM_GROUPS, Network, n_layers
from .preprocessing import apply_input_normalization

# Tolerance of "each target row sums to 1" for cross entropy (float32 data rounds).
_ROW_SUM_TOL = 1e-4


def as_matrix(x: Any, name: str, dtype: np.dtype, min_rows: int = 1) -> np.ndarray:
    """``x`` as a finite 2-D float array (one sample per row); a 1-D input is one sample."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a numeric array, one sample per row; got {type(x).__name__}")
    if hasattr(x, "toarray") and hasattr(x, "nnz"):  # scipy.sparse: densifying could exhaust memory
        raise TypeError(f"{name} is a scipy sparse matrix; pass a dense array ({name}.toarray()) if it fits "
                        "in memory")
    try:
        arr = np.asarray(x)
    except Exception as e:  # noqa: BLE001 - ragged lists etc.
        raise TypeError(f"{name} is not a numeric array: {e}") from None
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric; got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (samples x features); got shape {arr.shape}")
    if arr.shape[0] < min_rows:
        raise ValueError(f"{name} has no rows (0 samples)")
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} contains NaN or inf (first at row {bad[0]}, column {bad[1]})")
    return arr


def _label_vector_hint(y: Any, n_out: int, m: int, y_name: str) -> str | None:
    """A message for integer class labels given where one-hot rows are needed (None if ``y`` is not that)."""
    arr = np.asarray(y) if not isinstance(y, (str, bytes)) and y is not None else None
    if arr is None or arr.dtype.kind not in "iuf" or n_out < 2:
        return None
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1 or arr.size != m or m < 2 or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
        return None
    return (f"{y_name} is a vector of {m} class labels, but the network needs one-hot rows ({m} x {n_out}): "
            f"use nntoolbox.one_hot({y_name}, {n_out}) (labels 0..{n_out - 1}; subtract 1 from MATLAB's "
            "1-based labels first)")


def check_xy(nn: Network, x: Any, y: Any | None, what: str = "x",
             y_name: str = "y", min_rows: int = 1) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate inputs (and targets) against the network's layer sizes; the inputs come back as the
    network sees them (normalised with ``nn.input_mean``/``nn.input_std`` when it carries them)."""
    dt = np.dtype(nn["dtype"])
    n_in, n_out = nn.sizes[0], nn.sizes[-1]
    x = as_matrix(x, what, dt, min_rows)
    if x.shape[1] != n_in:
        hint = " (pass samples as rows, as the course does)" if x.shape[0] == n_in else ""
        raise ValueError(f"{what} has {x.shape[1]} columns but the network has {n_in} inputs{hint}")
    # a network carrying input normalisation (nn.input_mean/input_std) takes raw rows in every function
    x = apply_input_normalization(nn, x)
    if y is None:
        return x, None
    hint = _label_vector_hint(y, n_out, x.shape[0], y_name)
    if hint:
        raise ValueError(hint)
    y = as_matrix(y, y_name, dt, min_rows)
    if y.shape[1] != n_out:
        hint = " (pass samples as rows, as the course does)" if y.shape[0] == n_out else ""
        raise ValueError(f"{y_name} has {y.shape[1]} columns but the network has {n_out} outputs{hint}")
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"{what} has {x.shape[0]} rows but {y_name} has {y.shape[0]}: one target row per sample")
    return x, y


def check_targets(nn: Network, y: np.ndarray, y_name: str) -> None:
    """Targets the objective can learn: cross entropy needs class probabilities (rows in [0, 1] summing to 1)."""
    if nn["objective_function"] != "Cross Entropy":
        return
    if y.min() < 0 or y.max() > 1:
        bad = np.argwhere((y < 0) | (y > 1))[0]
        raise ValueError(f"{y_name} has the value {y[bad[0], bad[1]]:g} (row {bad[0]}, column {bad[1]}); cross "
                         "entropy needs targets in [0, 1] (one-hot rows); for other targets use the 'MSE' objective")
    sums = y.astype(np.float64, copy=False) @ np.ones(y.shape[1])
    if np.abs(sums - 1).max() > _ROW_SUM_TOL:
        bad_rows = np.flatnonzero(np.abs(sums - 1) > _ROW_SUM_TOL)
        r = bad_rows[0]
        raise ValueError(f"row {r} of {y_name} sums to {sums[r]:g}; cross entropy needs each target row to be a "
                         f"class distribution summing to 1 (one-hot: one 1 per row; {bad_rows.size} rows differ)")


def check_trainable(nn: Network, batch: int, what: str) -> None:
    """Settings that cannot train: tiny batch-norm batches, a KL penalty on units outside (0, 1)."""
    if nn["batch_normalization"] and batch < 2:
        # the course's std of one sample makes S = sqrt(0/0): NaN from the first batch on
        raise ValueError(f"batch normalization needs at least 2 samples per batch ({what})")
    if nn["encoder"]:
        lo, hi = ACTIVATIONS[nn["active_function"]].range
        if lo < 0 or hi > 1:
            raise ValueError(f"the sparse autoencoder's KL penalty needs hidden activations in (0, 1) (e.g. "
                             f"'sigmoid'); {nn['active_function']!r} ranges over [{lo}, {hi}] (set nn.encoder = 0 "
                             "for a plain autoencoder)")


def check_differentiable(nn: Network, what: str) -> None:
    """Backpropagation needs a derivative: refuse a network using an activation registered with
    ``differentiable=False`` (the 'step' M-P unit) before ``what`` (nn_train, nn_backpropagation) starts."""
    used = ("active_function", "output_function") if n_layers(nn) > 1 else ("output_function",)
    for option in used:
        name = nn[option]
        if not ACTIVATIONS[name].differentiable:
            raise ValueError(
                f"{what}: the network's {option.replace('_', ' ')} {name!r} has no gradient (its derivative "
                "is 0 wherever it exists and undefined at the threshold), so backpropagation cannot learn "
                f"through it. Use {name!r} with hand-set weights in nn_forward / nn_predict; to learn a "
                "threshold unit use nntoolbox.perceptron.perceptron_train, or train with 'sigmoid' instead")


def check_finite_parameters(nn: Network) -> None:
    """Training cannot start from NaN/inf parameters (e.g. after an overflowing nn_applygradient)."""
    buf = nn._buf
    if not np.isfinite(buf.params).all():  # (the method: np.all's Python wrapper costs as much again)
        k, g, _, _, _ = next(row for row in buf.layout
                             if not np.all(np.isfinite(buf.params[row[2]:row[2] + row[3] * row[4]])))
        raise ValueError(f"nn.{PARAM_GROUPS[g]}[{k}] contains NaN or inf: training cannot start from it "
                         "(set it to finite values, or start again from nn_create)")


def check_training_data(nn: Network, x: Any, y: Any, x_name: str, y_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Validated inputs and targets for training (shapes, finiteness, targets the objective can use);
    once per content of ``x`` and ``y`` (:mod:`nntoolbox.datacache`)."""
    def run() -> tuple[np.ndarray, np.ndarray]:
        xc, yc = check_xy(nn, x, y, x_name, y_name)
        check_targets(nn, yc, y_name)
        return xc, yc
    return remembered(nn, "training", (x, y), run)


def check_test_data(nn: Network, x: Any, y: Any, x_name: str, y_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Validated inputs and targets, each target row naming one class (a single largest entry:
    :func:`check_class_labels`; ``nn_test``); once per content of ``x`` and ``y``
    (:mod:`nntoolbox.datacache`)."""
    def run() -> tuple[np.ndarray, np.ndarray]:
        xc, yc = check_xy(nn, x, y, x_name, y_name)
        check_class_labels(yc, y_name)
        return xc, yc
    return remembered(nn, "test", (x, y), run)


def check_validation_data(nn: Network, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """Validated rows of ``option.validation``, and whether the network classifies them (scored by
    accuracy: cross entropy or one-hot targets; then each target row names one class, as
    :func:`check_test_data` checks), else scored by val_cost; once per content of ``x`` and ``y``
    (:mod:`nntoolbox.datacache`)."""
    def run() -> tuple[np.ndarray, np.ndarray, bool]:
        xc, yc = check_xy(nn, x, y, "validation x", "validation y")
        one_hot = yc.shape[1] > 1 and np.all((yc == 0) | (yc == 1)) and np.all(yc.sum(axis=1) == 1)
        classify = bool(nn["objective_function"] == "Cross Entropy" or one_hot)
        if classify:
            check_class_labels(yc, "validation y")
        return xc, yc, classify
    return remembered(nn, "validation", (x, y), run)


def check_class_labels(y: np.ndarray, y_name: str) -> None:
    """Every one-hot/score row of ``y`` (finite, validated) names one class: refuses rows without a single
    largest entry (the compiled inference pass then takes each row's arg-max as its class)."""
    if y.shape[1] < 2:
        raise ValueError(f"{y_name} has one column: classification (nn_test) needs one output per class; "
                         "for one sigmoid output compare nn_predict(nn, x) > 0.5 with the labels yourself")
    # numpy, not a compiled loop: the checks run once per array content (datacache), and a kernel's
    # compile cost a cold start 0.15-0.3 s; numpy takes ~1 ms for 60,000 rows of 10
    tied = np.count_nonzero(y == y.max(axis=1, keepdims=True), axis=1) > 1
    ties = int(np.count_nonzero(tied))
    if ties:
        r = int(tied.argmax())
        raise ValueError(f"row {r} of {y_name} has no single largest entry ({y[r].tolist()[:10]}): every row "
                         f"needs one class (one-hot); {ties} rows are like this")

"""The chapter's single neuron: Rosenblatt's perceptron and ADALINE (Widrow-Hoff LMS), trained one sample at a
time, and their prediction.

``p = perceptron_train(x, y)``, ``a = adaline_train(x, y)``, ``perceptron_predict(p, x)``; rows of ``x`` are
samples, ``y`` holds one label per row, coded {-1, +1} or {0, 1}.  Both start from ``w = 0, b = 0`` and visit the
samples in a fresh shuffled order every epoch (``seed``).  The result is a :class:`LinearUnit` value.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .checks import as_matrix
from .create import make_rng
from .kernels.linear_unit import linear_unit_epoch
from .network import _readonly
from .options import OPTIONS, check_number

CODINGS = ((-1.0, 1.0), (0.0, 1.0))
# ADALINE has diverged once its training MSE exceeds this many times the MSE of w = 0, b = 0
DIVERGED_FACTOR = 1e6


@dataclass(frozen=True, eq=False)
class LinearUnit:
    """A trained single neuron: output ``w' x + b`` thresholded into the label coding it was trained with.

    ``w`` (one weight per feature), ``b`` (bias); per epoch: ``errors`` (perceptron: misclassified samples
    met during the epoch, i.e. updates; ADALINE: training samples misclassified after it) and ``mse``
    (mean of (y - output)^2 over the training set after the epoch, in the label coding; output = the
    predicted label for the perceptron, the linear output ``w' x + b`` that LMS fits for ADALINE).
    ``labels``: (negative, positive) label, e.g. (-1, 1) or (0, 1).  ``converged``: the last epoch had no
    errors; ``diverged``: ADALINE stopped because its MSE blew up (lower ``learning_rate``).
    """
    w: np.ndarray
    b: float
    errors: np.ndarray
    mse: np.ndarray
    labels: np.ndarray
    rule: str
    learning_rate: float
    converged: bool
    diverged: bool = False

    @property
    def epochs(self) -> int:
        """Epochs run."""
        return int(self.errors.size)

    def decision_function(self, x: Any) -> np.ndarray:
        """The linear output ``x @ w + b`` (one value per row of ``x``)."""
        return _rows(x, self.w.size, "x") @ self.w + self.b

    @property
    def threshold(self) -> float:
        """Where the output switches to the positive label: 0 for the perceptron's sgn; for ADALINE the
        midpoint of the two label values its linear output was fitted to (0 for +-1, 0.5 for 0/1)."""
        return 0.0 if self.rule == "perceptron" else float(np.mean(self.labels.astype(float)))


def _rows(x: Any, n_features: int | None, name: str) -> np.ndarray:
    if not isinstance(x, (str, bytes)) and x is not None and np.ndim(x) == 1 and n_features != np.size(x):
        raise ValueError(f"{name} is 1-D with {np.size(x)} values: pass one sample per row (for one feature: "
                         f"{name}[:, None])")
    arr = as_matrix(x, name, np.dtype(np.float64))
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name} has {arr.shape[1]} columns but the unit was trained on {n_features} features")
    return arr


def _labels(y: Any, m: int) -> tuple[np.ndarray, np.ndarray]:
    """``y`` as a float vector and its (negative, positive) labels in y's own dtype."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"y must be numeric labels, {{-1, +1}} or {{0, 1}}; got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"y must hold one label per sample (a vector); got shape {arr.shape}")
    if arr.size != m:
        raise ValueError(f"x has {m} rows but y has {arr.size} labels: one label per sample")
    t = arr.astype(np.float64)
    if not np.all(np.isfinite(t)):
        raise ValueError(f"y contains NaN or inf (first at index {np.flatnonzero(~np.isfinite(t))[0]})")
    values = set(np.unique(t).tolist())
    coding = next((c for c in CODINGS if values <= set(c)), None)
    if coding is None:
        raise ValueError(f"y must be coded {{-1, +1}} or {{0, 1}}; got the values {sorted(values)[:10]}")
    if len(values) < 2:
        raise ValueError(f"y has one class only ({values.pop():g}): the neuron needs samples of both classes")
    return t, np.array(coding).astype(arr.dtype)


def _train(rule: str, x: Any, y: Any, learning_rate: Any, epochs: Any, seed: Any) -> LinearUnit:
    """The shared epoch loop of both rules: checks, shuffled orders, per-epoch record, divergence stop."""
    x = _rows(x, None, "x")
    y, labels = _labels(y, x.shape[0])
    # nn_create's own checks of a learning rate and a seed
    rate = OPTIONS["learning_rate"].check("learning_rate", learning_rate)
    epochs = check_number(epochs, "epochs", lo=1, integer=True)
    rng = make_rng(OPTIONS["seed"].check("seed", seed))
    lo, hi = labels.astype(np.float64)
    # the perceptron's rule moves by +-rate whichever the coding (in 0/1 that is rate*(t - y)); LMS fits y itself
    t = np.where(y == hi, 1.0, -1.0) if rule == "perceptron" else y
    w, b = np.zeros(x.shape[1]), np.zeros(1)
    errors, mse, diverged = [], [], False
    zero_mse = float(np.mean(y ** 2))  # the MSE of w = 0, b = 0
    for _ in range(epochs):
        previous = w.copy(), b.copy()
        updates = linear_unit_epoch(rule, x, t, rng.permutation(x.shape[0]), w, b, rate)
        with np.errstate(over="ignore", invalid="ignore"):
            z = x @ w + b[0]
            if rule == "perceptron":
                wrong, out = updates, np.where(z >= 0, hi, lo)
            else:
                wrong, out = int(np.sum(np.where(z >= (lo + hi) / 2, hi, lo) != y)), z
            err = float(np.mean((y - out) ** 2))
        if not np.isfinite(err) or err > DIVERGED_FACTOR * zero_mse:
            (w, b), diverged = previous, True
            warnings.warn(
                f"{rule}_train: the MSE blew up in epoch {len(mse) + 1} (learning_rate={rate:g} is too large for "
                f"these inputs; LMS needs it well below 2 / mean(|x|^2 + 1) = "
                f"{2 / float(np.mean(np.sum(x ** 2, axis=1) + 1)):.3g}, or standardise x); the unit is kept as "
                f"it was after epoch {len(mse)} (.diverged is True)", RuntimeWarning, stacklevel=3)
            break
        errors.append(wrong)
        mse.append(err)
        if rule == "perceptron" and wrong == 0:  # every sample was on its side: nothing more to learn
            break
    return LinearUnit(_readonly(w), float(b[0]), _readonly(np.array(errors, dtype=np.int64)),
                      _readonly(np.array(mse)), _readonly(labels), rule, rate,
                      bool(errors) and errors[-1] == 0, diverged)


def perceptron_train(x: Any, y: Any, learning_rate: float = 1.0, epochs: int = 100, seed: Any = 0) -> LinearUnit:
    """Rosenblatt's perceptron (the course's perceptron algorithm; M-P neuron with a learned threshold).

    ``y_hat = sgn(w' x + b)`` (+1 where ``w' x + b >= 0``).  Each epoch visits the samples one at a time
    in a shuffled order (``seed``: int, Generator or None); a misclassified sample updates
    ``w = w + learning_rate * t * x``, ``b = b + learning_rate * t`` (t = +-1; with 0/1 labels this is
    ``learning_rate * (t - y_hat) * x``, the notes' rule).  Training stops after the first epoch without
    an error (on linearly separable data it comes, by the perceptron convergence theorem) or after
    ``epochs`` epochs.  ``y``: labels {-1, +1} or {0, 1}, one per row of ``x``.
    Returns a :class:`LinearUnit` (``.w``, ``.b``, ``.errors``, ``.mse`` per epoch); predict with
    :func:`perceptron_predict`, which answers in the coding of ``y``.
    """
    return _train("perceptron", x, y, learning_rate, epochs, seed)


def adaline_train(x: Any, y: Any, learning_rate: float = 1e-4, epochs: int = 50, seed: Any = 0) -> LinearUnit:
    """ADALINE: a linear neuron trained by the Widrow-Hoff rule (LMS, one sample at a time).

    Each epoch visits the samples in a shuffled order (``seed``) and moves the linear output
    ``z = w' x + b`` towards the label: ``w = w + learning_rate * (t - z) * x``,
    ``b = b + learning_rate * (t - z)`` (stochastic gradient descent on ``(t - z)^2 / 2``).  It runs all
    ``epochs``; ``.mse`` (mean of ``(t - z)^2`` after each epoch) falls for a small enough rate.  A rate too
    large for the inputs makes it grow without bound: training stops, keeps the last good epoch, sets
    ``.diverged`` and warns (``RuntimeWarning``).  Prediction (:func:`perceptron_predict`) thresholds ``z``
    midway between the two labels.
    """
    return _train("adaline", x, y, learning_rate, epochs, seed)


def perceptron_predict(p: LinearUnit, x: Any) -> np.ndarray:
    """Labels for the rows of ``x`` from a unit of :func:`perceptron_train` or :func:`adaline_train`, in the
    coding it was trained with (-1/+1 or 0/1): the positive label where ``w' x + b >= p.threshold``."""
    if not isinstance(p, LinearUnit):
        raise TypeError(f"p must be the result of perceptron_train or adaline_train; got {type(p).__name__}")
    return np.where(p.decision_function(x) >= p.threshold, p.labels[1], p.labels[0])

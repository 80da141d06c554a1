"""Input normalisation: the course's ``data_normalize.m`` / ``normalize.m`` and a
z-score kept **in the network**.

The course z-scores the chess features with the training rows' mean and std
(``avgX``, ``sigma``, saved as ``avgX.mat``/``sigma.mat``) and must apply the
same numbers to every later input.  Here the two vectors can live in the
network as the fields ``nn.input_mean`` and ``nn.input_std`` (1 x inputs, as
MATLAB row vectors): every function that takes inputs (``nn_train`` and its
``validation`` rows, ``nn_forward``, ``nn_predict``, ``nn_test``) then takes raw rows
and applies them, and :mod:`nntoolbox.io` saves and loads them (``.npz`` and
``.mat``), so a saved network predicts on raw inputs, as MATLAB's own networks
carry their ``mapminmax`` settings.  A network without them (the course's way:
normalise the data yourself) takes its inputs as given.

In MATLAB/Octave, a saved network's inputs are normalised by
``x = (x - nn.input_mean) ./ nn.input_std;`` before the course's ``nn_predict``.

``link_regulation.m`` (a table of the binary codes of 1..y in x bits) is not
ported: no script of the chapter calls it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .network import Network

__all__ = ["zscore", "data_normalize", "normalize", "fit_input_normalization", "set_input_normalization",
           "apply_input_normalization", "INPUT_FIELDS"]

INPUT_FIELDS = ("input_mean", "input_std")  # network fields (MATLAB-readable names)


def _rows(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 2 or a.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (rows are samples); got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf")
    return a


def zscore(x: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MATLAB ``[z, mu, sigma] = zscore(x)``: columns scaled to mean 0, std 1.

    ``sigma`` is the sample std (ddof=1, as MATLAB); a column with zero std (or a
    single row) is divided by 1 instead, as MATLAB does, and its returned
    ``sigma`` is 1 so that ``normalize(x, mu, sigma)`` repeats the scaling.
    ``mu`` and ``sigma`` are 1 x columns rows.
    """
    a = _rows(x, "x")
    mu = a.mean(axis=0, keepdims=True)
    sigma = a.std(axis=0, ddof=1, keepdims=True) if a.shape[0] > 1 else np.zeros_like(mu)
    sigma = np.where(sigma > 0, sigma, 1.0)
    return (a - mu) / sigma, mu, sigma


def data_normalize(x: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The course's ``data_normalize.m``: ``[x, mu, sigma] = zscore(x)``.

    The MATLAB function never assigns its output ``y`` (calling it with an
    output fails); this twin returns what it meant to: ``(z, mu, sigma)``.
    """
    return zscore(x)


def normalize(x: Any, mu: Any, sigma: Any) -> np.ndarray:
    """The course's ``normalize.m``: ``(x - mu) ./ sigma`` column by column (``bsxfun``)."""
    a = _rows(x, "x")
    mu, sigma = _stats(mu, sigma, a.shape[1])
    return (a - mu) / sigma


def _stats(mu: Any, sigma: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``mu``, ``sigma`` as finite 1 x n rows, ``sigma`` > 0; errors name the field."""
    out = []
    for name, v in (("input_mean", mu), ("input_std", sigma)):
        a = np.asarray(v, dtype=float)
        if a.size != n or (a.ndim > 1 and max(a.shape) != a.size):
            raise ValueError(f"{name} must have one value per input column ({n}); got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or inf")
        out.append(a.reshape(1, n))
    if np.any(out[1] <= 0):
        raise ValueError("input_std must be positive (a column with zero std is divided by 1)")
    return out[0], out[1]


def set_input_normalization(nn: Network, mu: Any, sigma: Any) -> Network:
    """A copy of ``nn`` carrying ``nn.input_mean = mu`` and ``nn.input_std = sigma``
    (MATLAB ``nn.input_mean = avgX; nn.input_std = sigma;``); ``None, None`` removes them."""
    out = nn.copy()
    if mu is None and sigma is None:
        for f in INPUT_FIELDS:
            if f in out:
                del out[f]
        return out
    mu, sigma = _stats(mu, sigma, nn.sizes[0])
    out["input_mean"], out["input_std"] = mu, sigma
    return out


def fit_input_normalization(nn: Network, x_train: Any) -> Network:
    """A copy of ``nn`` carrying the z-score of ``x_train`` (the course's ``avgX``/``sigma``).

    ``nn_train``, ``nn_predict``, ``nn_test`` ... then take raw rows.
    """
    _, mu, sigma = zscore(x_train)
    return set_input_normalization(nn, mu, sigma)


def apply_input_normalization(nn: Network, x: Any) -> Any:
    """``(x - nn.input_mean) ./ nn.input_std`` in ``x``'s dtype, or ``x`` unchanged
    when the network carries no input normalisation."""
    if "input_mean" not in nn:
        return x
    a = np.asarray(x)
    mu, sigma = _stats(nn["input_mean"], nn.get("input_std"), nn.sizes[0])
    if a.ndim != 2 or a.shape[1] != mu.shape[1]:
        raise ValueError(f"x must have {mu.shape[1]} columns (rows are samples); got shape {a.shape}")
    return ((a - mu) / sigma).astype(a.dtype if a.dtype.kind == "f" else float, copy=False)

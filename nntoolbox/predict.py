"""``nn_predict`` and ``nn_test`` (MATLAB ``nn_predict.m``, ``nn_test.m``)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .checks import check_test_data, check_xy
from .engines import misclassified, predict_rows
from .network import Network


def nn_predict(nn: Network, x: Any, engine: str = "fused") -> np.ndarray:
    """Network outputs for ``x`` (rows are samples), one row per sample.

    MATLAB ``nn = nn_predict(nn, x)`` returned the network with the outputs in
    ``nn.a{end}`` (units x samples); here the outputs are returned directly,
    as ``nn.a{end}'``.  Uses stored batch-norm statistics and no dropout.
    ``engine='numpy'`` runs the plain numpy pass (same numbers).  A network
    carrying ``nn.input_mean``/``nn.input_std`` (:mod:`nntoolbox.preprocessing`)
    normalises the raw rows ``x`` first.
    """
    x, _ = check_xy(nn, x, None, min_rows=0)
    if engine not in ("fused", "numpy"):
        raise ValueError(f"engine must be 'fused' or 'numpy'; got {engine!r}")
    if x.shape[0] == 0:
        return np.zeros((0, nn.sizes[-1]), dtype=x.dtype)
    return predict_rows(nn, x, engine)


def nn_test(nn: Network, test_x: Any, test_y: Any) -> tuple[np.ndarray, float, Network]:
    """Classification test (MATLAB ``[wrongs, accuracy, nn] = nn_test(nn, test_x, test_y)``).

    ``wrongs`` holds the ZERO-based row indices whose arg-max output differs
    from the arg-max of ``test_y`` (MATLAB's are one-based: add 1 to compare);
    ``accuracy`` is ``1 - len(wrongs)/rows``.  Each row of ``test_y`` must name one
    class (a single largest entry, as one-hot rows do).  The returned network is a
    copy of ``nn`` (value semantics: editing it leaves ``nn`` alone).  Like
    ``nn_predict``, it normalises raw ``test_x`` with ``nn.input_mean``/``nn.input_std``.
    """
    x, y = check_test_data(nn, test_x, test_y, "test_x", "test_y")
    wrongs = misclassified(nn, x, y)
    return wrongs, 1.0 - wrongs.size / y.shape[0], nn.copy()

"""The validation pass's compiled score (kernels.fused.score_rows) gives what numpy gives: the objective's
data term as functions.data_cost computes it, and np.argmax's class (first largest, NaN counting as
largest) for the accuracy."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nntoolbox.functions import data_cost
from nntoolbox.kernels.fused import OBJ_CODES, score_rows


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(1, 40), k=st.integers(2, 5),
       objective=st.sampled_from(sorted(OBJ_CODES)), dtype=st.sampled_from([np.float64, np.float32]),
       holes=st.booleans())
def test_score_rows_matches_numpy(seed, n, k, objective, dtype, holes):
    rng = np.random.default_rng(seed)
    out = rng.random((n, k)).astype(dtype)
    out[rng.random((n, k)) < 0.2] = 0.5  # ties: the first largest counts
    if holes:
        out[rng.integers(0, n), rng.integers(0, k)] = np.nan  # a NaN output counts as the largest
    y = np.eye(k, dtype=dtype)[rng.integers(0, k, n)]
    labels = rng.integers(0, k, n)
    cost, correct = score_rows(out, y, labels, OBJ_CODES[objective], 0.5)
    expected = data_cost(out.T, y.T, objective, 0.5)
    assert correct == int(np.sum(np.argmax(out, axis=1) == labels))
    if np.isnan(expected):
        assert np.isnan(cost)
    else:
        assert cost == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_no_labels_counts_nothing():
    out = np.array([[0.2, 0.8], [0.9, 0.1]])
    cost, correct = score_rows(out, np.eye(2), np.empty(0, np.int64), OBJ_CODES["MSE"], 1.0)
    assert correct == 0 and cost == pytest.approx(0.5 / 2 * np.sum((out - np.eye(2)) ** 2))

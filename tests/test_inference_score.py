"""The compiled inference pass (kernels.fused._predict) scores the rows it runs without keeping the
outputs: the objective's data term as functions.data_cost computes it from nn_predict's outputs, and
np.argmax's class (the first largest, a NaN counting as largest) against the target row's for nn_test's
wrong rows and the validation accuracy."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nntoolbox import nn_create, nn_predict, nn_test, nn_train, register_activation
from nntoolbox.engines import inference_score
from nntoolbox.forward import ce_factor
from nntoolbox.functions import data_cost
from nntoolbox.train import Validation

# an output that is its input but NaN at 0.25: a row's NaN output among finite ones
register_activation("test_nan_at_quarter", lambda z: np.nan if z == 0.25 else z, lambda a: 1.0, hidden=False)


def _identity(k: int, dtype, **options):
    """A one-layer [k, k] network whose outputs are f(x) (W = I, b = 0)."""
    nn = nn_create([k, k], dtype=dtype, **options)
    nn.W = [np.eye(k, dtype=dtype)]
    nn.b = [np.zeros((k, 1), dtype=dtype)]
    return nn


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(1, 40), k=st.integers(2, 5),
       objective=st.sampled_from(["MSE", "Cross Entropy"]), dtype=st.sampled_from([np.float64, np.float32]),
       holes=st.booleans())
def test_the_pass_scores_what_numpy_scores(seed, n, k, objective, dtype, holes):
    rng = np.random.default_rng(seed)
    x = rng.random((n, k)).astype(dtype)
    x[rng.random((n, k)) < 0.2] = 0.5  # ties: the first largest counts
    if holes and objective == "MSE":
        x[rng.integers(0, n), rng.integers(0, k)] = 0.25  # a NaN output counts as the largest
    options = {"objective_function": objective}
    if objective == "MSE":
        options["output_function"] = "test_nan_at_quarter"
    nn = _identity(k, dtype, **options)
    labels = rng.integers(0, k, n)
    y = np.eye(k, dtype=dtype)[labels]
    if not holes:  # scores as targets (still one largest entry a row): their arg-max is the class
        y = (y + rng.random((n, k)).astype(dtype) * 0.5) / 2
    out = nn_predict(nn, x)
    expected_wrong = np.flatnonzero(np.argmax(out, axis=1) != labels)
    np.testing.assert_array_equal(nn_test(nn, x, y)[0], expected_wrong)
    cost, correct = inference_score(nn, x, y, True)
    assert correct == n - expected_wrong.size
    expected = data_cost(out.T, y.T, objective, ce_factor(nn))
    if np.isnan(expected):
        assert np.isnan(cost)
    else:
        assert cost == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_no_classes_counts_nothing():
    x = np.array([[0.2, 0.8], [0.9, 0.1]])
    cost, correct = inference_score(_identity(2, np.float64, output_function="linear"), x, np.eye(2))
    assert correct == 0 and cost == pytest.approx(0.5 / 2 * np.sum((x - np.eye(2)) ** 2))


@pytest.mark.parametrize("options, one_hot", [
    ({}, True),
    ({"dtype": "float32"}, True),
    ({"dropout": "inverted", "keep_probability": 0.8}, True),
    ({"bn_mode": "standard"}, True),
    ({"optimization_method": "Nesterov", "batch_normalization": 0}, True),
    ({"objective_function": "MSE", "output_function": "sigmoid"}, True),
    ({"objective_function": "MSE", "output_function": "sigmoid"}, False),
], ids=["course", "float32", "dropout", "standard-bn", "look-ahead", "mse", "regression"])
def test_the_history_holds_the_validation_score_of_each_epochs_network(options, one_hot):
    """nn_train's validation columns are what inference_score gives for the network after each epoch (as
    the callback sees it), whatever the optional features of the training pass."""
    rng = np.random.default_rng(7)
    x, vx = rng.standard_normal((120, 4)), rng.standard_normal((50, 4))
    y = np.eye(3)[rng.integers(0, 3, 120)] if one_hot else rng.random((120, 3))
    vy = np.eye(3)[rng.integers(0, 3, 50)] if one_hot else rng.random((50, 3))
    nn = nn_create([4, 8, 3], seed=3, **{"batch_normalization": 1, **options})
    kept = []
    trained = nn_train(nn, {"batch_size": 20, "iteration": 4, "validation": (vx, vy), "restore_best": False,
                            "callback": lambda epoch, net: kept.append(net)}, x, y)
    val = Validation(nn, (vx, vy))
    for net, (_, row) in zip(kept, trained.history.iterrows()):
        expected = val.score(net)
        assert row["val_cost"] == pytest.approx(expected["val_cost"], rel=1e-12)
        assert ("val_accuracy" in expected) == ("val_accuracy" in row) and \
            row.get("val_accuracy", 0) == expected.get("val_accuracy", 0)


@pytest.mark.parametrize("sizes", [[5, 7, 3, 9, 4, 6, 2], [5, 9, 2], [5, 3, 12, 2]])
@pytest.mark.parametrize("bn_mode", ["course", "standard"])
def test_the_pass_keeps_two_layers_of_blocks_and_matches_numpy(sizes, bn_mode):
    """The compiled inference pass keeps only the block it reads and the one it writes (odd layers in the
    first, even in the second, whichever layer is widest), in chunks of PREDICT_CHUNK rows: its outputs
    and scores are the numpy pass's, for deep and shallow networks and more rows than one chunk."""
    from nntoolbox.kernels.fused import PREDICT_CHUNK
    rng = np.random.default_rng(len(sizes))
    n = PREDICT_CHUNK + 37
    x = rng.standard_normal((n, sizes[0]))
    y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    nn = nn_create(sizes, seed=4, batch_normalization=1, bn_mode=bn_mode, active_function="relu")
    nn = nn_train(nn, {"batch_size": 50, "iteration": 1}, x[:500], y[:500])
    out = nn_predict(nn, x, engine="numpy")
    np.testing.assert_allclose(nn_predict(nn, x), out, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(nn_test(nn, x, y)[0], np.flatnonzero(out.argmax(axis=1) != y.argmax(axis=1)))
    cost, correct = inference_score(nn, x, y, True)
    assert cost == pytest.approx(data_cost(out.T, y.T, nn.objective_function, ce_factor(nn)), rel=1e-10)

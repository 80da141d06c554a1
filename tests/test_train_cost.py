"""option.train_cost: the whole training set's cost after every epoch, as nn_predict computes it."""
from __future__ import annotations

import numpy as np
import pytest

import nntoolbox.engines
from nntoolbox import nn_create, nn_predict, nn_train
from nntoolbox.preprocessing import fit_input_normalization


def data(classes: bool, m: int = 150, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(3.0, 2.0, size=(m, 4))  # raw rows: the networks carry input normalisation
    if classes:
        return x, np.eye(3)[(x[:, 0] + x[:, 1] > 6).astype(int) + (x[:, 2] > 3)]
    return x, np.column_stack([np.tanh(x[:, 0] - 3), np.sin(x[:, 1])]) * 0.4 + 0.5


NETWORKS = {
    # the chess network's kind: relu, course batch norm, Adam, cross entropy (course 0.5 factor); dropout
    "relu-bn-adam-ce-dropout": (True, dict(sizes=[4, 8, 8, 3], active_function="relu", batch_normalization=1,
                                           optimization_method="Adam", learning_rate=0.01,
                                           objective_function="Cross Entropy", keep_probability=0.8,
                                           dropout="inverted")),
    # regression with weight decay (not part of train_cost, as of val_cost), standard batch norm
    "tanh-mse-decay-standard-bn": (False, dict(sizes=[4, 6, 2], active_function="tanh", weight_decay=0.01,
                                                  batch_normalization=1, bn_mode="standard", learning_rate=0.5)),
}


def recomputed_cost(nn, x: np.ndarray, y: np.ndarray) -> float:
    """The cost of nn_predict's outputs (the numpy pass), by the objective's formula."""
    a = nn_predict(nn, x, engine="numpy")
    if nn["objective_function"] == "MSE":
        return 0.5 * np.sum((a - y) ** 2) / len(y)
    return -(0.5 if nn["ce_cost"] == "course" else 1.0) * np.sum(y * np.log(a)) / len(y)


@pytest.mark.parametrize("engine", ["fused", "stepwise"])
@pytest.mark.parametrize("case", list(NETWORKS))
def test_train_cost_is_the_cost_of_nn_predict_after_each_epoch(case, engine):
    classes, kw = NETWORKS[case]
    x, y = data(classes)
    options = {k: v for k, v in kw.items() if k != "sizes"}
    nn = fit_input_normalization(nn_create(kw["sizes"], **options, seed=1), x)
    expected = []
    option = {"batch_size": 16, "iteration": 4, "engine": engine, "train_cost": True,
              "callback": lambda epoch, net: expected.append(recomputed_cost(net, x, y))}
    trained = nn_train(nn, option, x, y)
    h = trained.history
    assert list(h.columns) == ["epoch", "cost", "train_cost", "seconds"]
    np.testing.assert_allclose(h["train_cost"], expected, rtol=1e-9)
    assert h["train_cost"].iloc[-1] == pytest.approx(recomputed_cost(trained, x, y), rel=1e-9)
    assert h["train_cost"].iloc[-1] < h["train_cost"].iloc[0]  # it learns: the curve is not flat noise


def test_train_cost_equals_val_cost_on_the_training_rows():
    x, y = data(True)
    nn = nn_create([4, 8, 3], "objective function", "Cross Entropy", "batch normalization", 1, seed=2)
    h = nn_train(nn, {"batch_size": 10, "iteration": 3, "train_cost": True, "validation": (x, y)}, x, y).history
    assert list(h.columns) == ["epoch", "cost", "train_cost", "val_cost", "val_accuracy", "seconds"]
    np.testing.assert_array_equal(h["train_cost"], h["val_cost"])


def test_fused_engine_makes_no_numpy_pass(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("train_cost ran the numpy inference pass")

    monkeypatch.setattr(nntoolbox.engines, "stepwise_predict", refuse)
    x, y = data(True)
    nn = nn_create([4, 5, 3], objective_function="Cross Entropy", seed=3)
    assert len(nn_train(nn, {"batch_size": 50, "iteration": 2, "train_cost": True}, x, y).history) == 2


def test_off_by_default_and_continued_runs():
    x, y = data(False)
    nn = nn_create([4, 5, 2], output_function="linear", learning_rate=0.1, seed=4)
    nn = nn_train(nn, {"batch_size": 50, "iteration": 2}, x, y)
    assert "train_cost" not in nn.history
    nn = nn_train(nn, {"batch_size": 50, "iteration": 2, "train_cost": True}, x, y)
    h = nn.history
    assert h["train_cost"].isna().tolist() == [True, True, False, False]


@pytest.mark.parametrize("value", ["yes", 2, None])
def test_bad_value_is_refused(value):
    x, y = data(False)
    with pytest.raises(ValueError, match="option.train_cost"):
        nn_train(nn_create([4, 5, 2], seed=0), {"batch_size": 50, "train_cost": value}, x, y)

"""nn_checkgradient: what it reports, what it refuses, and a wrong derivative it must catch.

The built-in activation x output x objective x batch-norm matrix is checked in
tests/test_gradients.py, through nn_checkgradient."""
from __future__ import annotations

import math

import numpy as np
import pytest

from nntoolbox import nn_checkgradient, nn_create, register_activation
from nntoolbox.activations import ACTIVATIONS
from nntoolbox.preprocessing import fit_input_normalization

SIZES = [3, 4, 2]


def _registered(name: str, f, df) -> str:
    """Register once per process (the registry is global; the names are this file's own)."""
    if name not in ACTIVATIONS:
        register_activation(name, f, df)
    return name


def softplus() -> str:
    # log(1 + e^z); its derivative sigmoid(z) = 1 - e^-a in terms of the output a
    return _registered("test_checkgradient_softplus", lambda z: math.log1p(math.exp(z)),
                       lambda a: 1.0 - math.exp(-a))


def wrong_tanh() -> str:
    # tanh with the derivative 1 - a (should be 1 - a^2): trains, silently wrong
    return _registered("test_checkgradient_wrong_tanh", lambda z: math.tanh(z), lambda a: 1.0 - a)


def batch(rng: np.random.Generator, m: int = 6, classes: bool = True) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-1.5, 1.5, size=(m, SIZES[0]))
    y = np.eye(SIZES[-1])[rng.integers(SIZES[-1], size=m)] if classes else rng.uniform(0.1, 0.9, (m, SIZES[-1]))
    return x, y


@pytest.mark.parametrize("bn", [0, 1])
def test_registered_activation_with_correct_derivative_passes(bn):
    nn = nn_create(SIZES, active_function=softplus(), objective_function="Cross Entropy", batch_normalization=bn,
                   seed=0)
    df = nn_checkgradient(nn, *batch(np.random.default_rng(0)))
    assert df.attrs["passed"] and df["max_relative_error"].max() <= 1e-6, df.attrs["summary"]


@pytest.mark.parametrize("bn", [0, 1])
def test_registered_activation_with_wrong_derivative_is_flagged(bn):
    nn = nn_create(SIZES, active_function=wrong_tanh(), output_function="linear", batch_normalization=bn, seed=0)
    df = nn_checkgradient(nn, *batch(np.random.default_rng(1), classes=False))
    assert not df.attrs["passed"]
    assert df["max_relative_error"].max() > 1e-3
    worst = df.attrs["worst"]
    # the hidden layer's derivative is wrong: only the parameters below it see it
    assert worst["parameter"].endswith("[0]") and worst["relative_error"] == df["max_relative_error"].max()
    assert df.set_index("parameter").loc["W[1]", "max_relative_error"] <= 1e-6
    assert worst["parameter"] in df.attrs["summary"] and "FAILED" in df.attrs["summary"]


def test_table_layout_and_worst_entry():
    nn = nn_create(SIZES, active_function="tanh", weight_decay=0.01, batch_normalization=1, bn_mode="standard", seed=2)
    df = nn_checkgradient(nn, *batch(np.random.default_rng(2), classes=False))
    assert list(df.columns) == ["parameter", "shape", "max_abs_error", "max_relative_error", "worst_index",
                                "max_abs_gradient", "not_smooth"]
    assert df["not_smooth"].sum() == 0 and df.attrs["not_smooth"] == 0
    assert list(df["parameter"]) == ["W[0]", "b[0]", "Gamma[0]", "Beta[0]", "W[1]", "b[1]", "Gamma[1]", "Beta[1]"]
    assert list(df["shape"]) == [(4, 3), (4, 1), (4, 1), (4, 1), (2, 4), (2, 1), (2, 1), (2, 1)]
    worst = df.attrs["worst"]
    row = df.loc[df["max_relative_error"].idxmax()]
    assert (worst["parameter"], worst["index"]) == (row["parameter"], row["worst_index"])
    assert worst["analytic"] == pytest.approx(nn_analytic(nn, df, worst), rel=1e-12)
    assert df.attrs["passed"] and df.attrs["summary"].startswith("passed")


def nn_analytic(nn, df, worst) -> float:
    """The analytic entry named by ``worst``, from nn_forward + nn_backpropagation."""
    from nntoolbox import nn_backpropagation, nn_forward

    x, y = batch(np.random.default_rng(2), classes=False)
    done = nn_backpropagation(nn_forward(nn, x, y), y)
    group, k = worst["parameter"].rstrip("]").split("[")
    return float(done[group + "_grad"][int(k)][worst["index"]])


def kinked_relu_net(w0: list, b0: list, out: str = "linear", w1=((1.0, 2.0),), b1: float = 1.0):
    """The 2-2-1 relu network of notebook 08 with hand-set weights; x = (1, 2), target 2."""
    nn = nn_create([2, 2, 1], active_function="relu", output_function=out, seed=0)
    nn.W[0], nn.b[0] = np.array(w0, dtype=float), np.array(b0, dtype=float)
    nn.W[1], nn.b[1] = np.array(w1, dtype=float), np.array([[b1]])
    return nn, np.array([[1.0, 2.0]]), np.array([[2.0]])


def test_relu_kink_is_left_out_not_failed():
    # hidden unit 2 has z = 0 exactly: its three parameters move the cost across relu's kink
    nn, x, y = kinked_relu_net([[1, 0], [0, 0]], [[1], [0]])
    df = nn_checkgradient(nn, x, y)
    assert list(df["not_smooth"]) == [2, 1, 0, 0] and df.attrs["not_smooth"] == 3
    assert df.attrs["passed"] and "3 of 9 entries not compared" in df.attrs["summary"]
    assert df["max_relative_error"].max() <= 1e-6


def test_mostly_kinks_is_not_a_pass():
    nn, x, y = kinked_relu_net([[0, 0], [0, 0]], [[0], [0]])  # both hidden units at their kink
    df = nn_checkgradient(nn, x, y)
    assert df.attrs["not_smooth"] == 6 and not df.attrs["passed"]
    assert "6 of 9 entries not compared (more than half)" in df.attrs["summary"]
    assert np.isnan(df.loc[0, "max_relative_error"]) and df.loc[0, "worst_index"] is None


def test_wrong_derivative_is_found_beside_kinks():
    # the output's derivative is wrong (tanh output, small weights: away from saturation)
    nn, x, y = kinked_relu_net([[1, 0], [0, 0]], [[1], [0]], out=wrong_tanh(), w1=[[0.1, 0.2]], b1=0.1)
    df = nn_checkgradient(nn, x, y / 4)
    assert df.attrs["not_smooth"] == 3 and not df.attrs["passed"]
    assert df.set_index("parameter").loc["W[1]", "max_relative_error"] > 1e-3


def test_argument_is_unchanged_and_float32_is_checked_in_float64():
    nn64 = nn_create(SIZES, active_function="sigmoid", batch_normalization=1, seed=3, cost_history="append")
    nn32 = nn64.copy()
    nn32["dtype"] = "float32"
    x, y = batch(np.random.default_rng(3))
    before = (nn32._buf.params.copy(), nn32._buf.stats.copy(), nn32["vecNum"], len(nn32["cost"]))
    df32, df64 = nn_checkgradient(nn32, x, y), nn_checkgradient(nn64, x, y)
    assert df32.attrs["passed"], df32.attrs["summary"]
    # the float32 parameters, widened, are a float64 network close to nn64: nearly the same errors
    np.testing.assert_allclose(df32["max_abs_gradient"], df64["max_abs_gradient"], rtol=1e-5)
    after = (nn32._buf.params, nn32._buf.stats, nn32["vecNum"], len(nn32["cost"]))
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:] and nn32["dtype"] == "float32"


def test_raw_inputs_of_a_network_with_input_normalization():
    rng = np.random.default_rng(4)
    x, y = batch(rng)
    nn = fit_input_normalization(nn_create(SIZES, seed=4), 100 + 50 * x)
    assert nn_checkgradient(nn, 100 + 50 * x, y).attrs["passed"]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"nn": "net"}, TypeError, "nn must be a network"),
    ({"epsilon": 0}, ValueError, "epsilon must be in"),
    ({"epsilon": 1.0}, ValueError, "epsilon must be in"),
    ({"epsilon": "1e-4"}, TypeError, "epsilon must be a number"),
    ({"epsilon": True}, TypeError, "epsilon must be a number"),
    ({"x": np.ones((6, 2))}, ValueError, "x has 2 columns"),
    ({"y": np.ones((5, 2)) / 2}, ValueError, "x has 6 rows but y has 5"),
    ({"y": np.full((6, 2), np.nan)}, ValueError, "y contains NaN"),
])
def test_bad_arguments_are_refused(kwargs, error, match):
    args = {"nn": nn_create(SIZES, seed=0), "x": np.ones((6, 3)), "y": np.full((6, 2), 0.5)}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        nn_checkgradient(**args)


def test_batch_normalization_needs_two_samples():
    with pytest.raises(ValueError, match="at least 2 samples"):
        nn_checkgradient(nn_create(SIZES, batch_normalization=1, seed=0), np.ones((1, 3)), np.full((1, 2), 0.5))

"""nntoolbox.perceptron (Rosenblatt's perceptron, ADALINE) and the data sets they learn: the double moon, XOR."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nntoolbox.datasets import double_moon, xor_data
from nntoolbox.perceptron import adaline_train, perceptron_predict, perceptron_train

CODINGS = {"pm1": lambda y: y, "01": lambda y: (y + 1) / 2}


@pytest.fixture(scope="module")
def moon():
    """A separable moon (distance 1) to train on and fresh samples of it to test on."""
    return double_moon(1000, distance=1, seed=0), double_moon(2000, distance=1, seed=1)


@pytest.mark.parametrize("coding", CODINGS)
def test_perceptron_separates_the_double_moon(moon, coding):
    (x, y), (x_new, y_new) = moon
    code = CODINGS[coding]
    p = perceptron_train(x, code(y), epochs=100, seed=0)
    assert p.errors[-1] == 0 and p.converged and p.epochs < 100  # stopped at its first error-free epoch
    assert np.all(p.errors[:-1] > 0)
    assert p.mse[-1] == 0
    assert np.mean(perceptron_predict(p, x_new) == code(y_new)) >= 0.99
    assert set(np.unique(perceptron_predict(p, x_new))) == set(code(np.array([-1.0, 1.0])))


@pytest.mark.parametrize("coding", CODINGS)
def test_perceptron_on_overlapping_moons_runs_every_epoch(coding):
    x, y = double_moon(600, distance=-4, seed=0)
    p = perceptron_train(x, CODINGS[coding](y), epochs=25, seed=0)
    assert p.epochs == 25 and p.errors.shape == (25,) and p.mse.shape == (25,)
    assert np.all(p.errors > 0) and not p.converged
    assert np.all(p.mse > 0)


def test_perceptron_codings_learn_the_same_line(moon):
    """In 0/1 the update rate*(t - y_hat)*x is the +-1 rule's rate*t*x: the same weights, the same epochs."""
    (x, y), _ = moon
    a, b = perceptron_train(x, y, seed=3), perceptron_train(x, (y + 1) / 2, seed=3)
    assert np.array_equal(a.w, b.w) and a.b == b.b and np.array_equal(a.errors, b.errors)
    assert np.array_equal(b.mse, a.mse / 4)  # a wrong 0/1 label costs 1, a wrong +-1 label 4


@pytest.mark.parametrize("coding", CODINGS)
def test_adaline_mse_falls_and_classifies_the_moon(moon, coding):
    (x, y), (x_new, y_new) = moon
    code = CODINGS[coding]
    a = adaline_train(x, code(y), learning_rate=1e-4, epochs=40, seed=0)
    assert a.epochs == 40 and not a.diverged
    zero = np.mean(code(y) ** 2)  # the MSE of w = 0, b = 0
    assert a.mse[0] < zero and a.mse[-1] < a.mse[0] and np.mean(a.mse[-10:]) < np.mean(a.mse[:5])
    assert np.mean(perceptron_predict(a, x_new) == code(y_new)) >= 0.95


def test_adaline_on_standardised_inputs_falls_every_epoch(moon):
    (x, y), _ = moon
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    a = adaline_train(z, y, learning_rate=1e-4, epochs=15, seed=0)
    assert np.all(np.diff(a.mse) < 0)


def test_adaline_reports_a_diverging_rate(moon):
    (x, y), _ = moon
    with pytest.warns(RuntimeWarning, match="learning_rate=0.05 is too large"):
        a = adaline_train(x, y, learning_rate=0.05, epochs=20)
    assert a.diverged and a.epochs < 20
    assert np.all(np.isfinite(a.w)) and np.isfinite(a.b) and np.all(np.isfinite(a.mse))


def test_training_is_reproducible_and_leaves_inputs_alone(moon):
    (x, y), _ = moon
    x0, y0 = x.copy(), y.copy()
    a, b = adaline_train(x, y, seed=5), adaline_train(x, y, seed=np.random.default_rng(5))
    assert np.array_equal(a.w, b.w) and np.array_equal(a.mse, b.mse)
    assert np.array_equal(x, x0) and np.array_equal(y, y0)
    with pytest.raises(ValueError):
        a.w[0] = 1.0  # read-only, like the network's fields


def test_xor_defeats_one_neuron():
    x, y = xor_data()
    assert x.shape == (4, 2) and y.shape == (4, 1)
    assert y.ravel().tolist() == [0, 1, 1, 0]
    p = perceptron_train(x, y, epochs=30)
    assert p.epochs == 30 and not p.converged and np.all(p.errors > 0)
    assert np.any(perceptron_predict(p, x) != y.ravel())


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 80), d=st.integers(1, 5), seed=st.integers(0, 2 ** 32), rate=st.floats(1e-3, 10))
def test_perceptron_keeps_novikoffs_bound_on_separable_data(n, d, seed, rate):
    """On data a unit vector u separates with margin gamma (augmented rows (x, 1) of norm <= R), Rosenblatt's
    rule from w = 0 makes at most (R / gamma)^2 updates, whatever the rate and the order, and then stops."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=d + 1)
    u /= np.linalg.norm(u)
    x = rng.uniform(-1, 1, size=(4 * n, d))
    score = x @ u[:d] + u[d]
    keep = np.abs(score) >= 0.05
    if np.sum(keep & (score > 0)) == 0 or np.sum(keep & (score < 0)) == 0:
        return  # one class only: nothing to separate
    x, y = x[keep], np.sign(score[keep])
    gamma, radius = np.min(np.abs(score[keep])), np.sqrt(np.max(np.sum(x ** 2, axis=1) + 1))
    bound = (radius / gamma) ** 2
    p = perceptron_train(x, y, learning_rate=rate, epochs=int(bound) + 2, seed=seed)
    assert p.converged and np.sum(p.errors) <= bound
    assert np.array_equal(perceptron_predict(p, x), y)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 60), radius=st.floats(0.5, 50), fraction=st.floats(0.05, 1.0),
       distance=st.floats(-20, 20), seed=st.integers(0, 2 ** 32))
def test_double_moon_follows_haykins_construction(n, radius, fraction, distance, seed):
    width = 2 * radius * fraction
    x, y = double_moon(n, radius=radius, width=width, distance=distance, seed=seed)
    assert x.shape == (n, 2) and y.shape == (n,) and x.dtype == y.dtype == np.float64
    assert np.sum(y == 1) == (n + 1) // 2 and np.sum(y == -1) == n // 2
    up, low = x[y == 1], x[y == -1] - [radius, -distance]
    for part, sign in ((up, 1), (low, -1)):
        r = np.hypot(part[:, 0], part[:, 1])
        tol = 1e-9 * (radius + abs(distance))
        assert np.all(r >= radius - width / 2 - tol) and np.all(r <= radius + width / 2 + tol)
        assert np.all(sign * part[:, 1] >= -tol)  # upper moon above its centre, lower one below
    if distance > 0:  # a gap between the moons: the line y = -distance / 2 separates them
        assert np.all(x[y == 1, 1] > -distance / 2) and np.all(x[y == -1, 1] < -distance / 2)


def test_double_moon_is_seeded():
    a, b, c = double_moon(50, seed=1), double_moon(50, seed=1), double_moon(50, seed=2)
    assert np.array_equal(a[0], b[0]) and not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("kwargs, error, match", [
    ({"n": 1}, ValueError, r"n must be an integer in \[2"),
    ({"n": 10.5}, TypeError, "n must be an integer"),
    ({"n": 10, "radius": 0}, ValueError, r"radius must be in \(0"),
    ({"n": 10, "width": 25}, ValueError, "width must be in"),
    ({"n": 10, "width": 0}, ValueError, "width must be in"),
    ({"n": 10, "distance": float("nan")}, ValueError, "distance must be finite"),
    ({"n": 10, "distance": "1"}, TypeError, "distance must be a number"),
    ({"n": 10, "seed": -1}, ValueError, "seed"),
])
def test_double_moon_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        double_moon(**kwargs)


X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([-1.0, -1.0, -1.0, 1.0])


@pytest.mark.parametrize("train", [perceptron_train, adaline_train])
@pytest.mark.parametrize("args, kwargs, error, match", [
    ((X[:, 0], Y), {}, ValueError, r"x is 1-D .* x\[:, None\]"),
    ((X, Y[:3]), {}, ValueError, "x has 4 rows but y has 3 labels"),
    ((X, np.ones((4, 2))), {}, ValueError, "one label per sample"),
    ((np.where(X == 1, np.nan, X), Y), {}, ValueError, "x contains NaN"),
    ((X, np.array([-1.0, np.nan, 1.0, 1.0])), {}, ValueError, "y contains NaN"),
    ((X, np.array([0.0, 1.0, 2.0, 1.0])), {}, ValueError, r"coded \{-1, \+1\} or \{0, 1\}"),
    ((X, np.array([-1.0, 0.0, 1.0, 1.0])), {}, ValueError, r"coded \{-1, \+1\} or \{0, 1\}"),
    ((X, np.ones(4)), {}, ValueError, "one class only"),
    ((X, np.array(["a", "b", "a", "b"])), {}, TypeError, "y must be numeric"),
    ((X, Y), {"learning_rate": 0}, ValueError, r"'learning_rate' must be in \(0, inf\)"),
    ((X, Y), {"learning_rate": float("inf")}, ValueError, r"'learning_rate' must be in \(0, inf\)"),
    ((X, Y), {"learning_rate": "0.1"}, TypeError, "'learning_rate' must be a number"),
    ((X, Y), {"epochs": 0}, ValueError, "epochs must be a positive integer"),
    ((X, Y), {"epochs": 2.5}, TypeError, "epochs must be a positive integer"),
    ((X, Y), {"seed": "x"}, TypeError, "seed"),
])
def test_bad_training_input(train, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        train(*args, **kwargs)


def test_predict_checks_its_arguments():
    p = perceptron_train(X, Y)
    assert perceptron_predict(p, X).tolist() == [-1, -1, -1, 1]  # AND, learned
    assert perceptron_predict(p, [1.0, 1.0]).tolist() == [1]  # one sample as a vector
    with pytest.raises(TypeError, match="result of perceptron_train"):
        perceptron_predict({"w": p.w, "b": p.b}, X)
    with pytest.raises(ValueError, match="3 columns but the unit was trained on 2"):
        perceptron_predict(p, np.ones((2, 3)))


def test_labels_answer_in_their_own_dtype():
    p = perceptron_train(X, np.array([0, 0, 0, 1]))
    assert perceptron_predict(p, X).dtype.kind == "i" and perceptron_predict(p, X).tolist() == [0, 0, 0, 1]
    q = perceptron_train(X, np.array([False, False, False, True]))
    assert perceptron_predict(q, X).tolist() == [False, False, False, True]


def test_no_warnings_on_ordinary_use(moon):
    (x, y), _ = moon
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        perceptron_train(x, y)
        adaline_train(x, y)

"""Bad input gives a clear ValueError / TypeError naming the problem, not a numpy error deep
inside the maths (MATLAB's 'nonconformant arguments') or silently wrong numbers."""
from __future__ import annotations

import re
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from nntoolbox import TrainOptions, nn_create, nn_forward, nn_predict, nn_test, nn_train, sae_create, sae_train

N_IN, N_OUT, M = 3, 2, 10


@pytest.fixture
def nn():
    return nn_create([N_IN, 4, N_OUT], seed=0)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.random((M, N_IN))
    y = np.eye(N_OUT)[rng.integers(N_OUT, size=M)]
    return x, y


OPTION = {"batch_size": 5, "iteration": 1}

# the three functions taking (x, y) and the one taking only x
XY_CALLS = {
    "nn_train": lambda net, x, y: nn_train(net, OPTION, x, y),
    "nn_forward": lambda net, x, y: nn_forward(net, x, y),
    "nn_test": lambda net, x, y: nn_test(net, x, y),
}
X_CALLS = {**XY_CALLS, "nn_predict": lambda net, x, y: nn_predict(net, x)}


# ----------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("call", X_CALLS)
def test_x_columns_differ_from_inputs(call, nn, data):
    x, y = data
    with pytest.raises(ValueError, match=r"has 4 columns but the network has 3 inputs"):
        X_CALLS[call](nn, np.hstack([x, x[:, :1]]), y)


@pytest.mark.parametrize("call", X_CALLS)
def test_x_transposed_gets_a_hint(call, nn, data):
    x, y = data
    with pytest.raises(ValueError, match=r"10 columns but the network has 3 inputs.*samples as rows"):
        X_CALLS[call](nn, x.T, y)


@pytest.mark.parametrize("call", XY_CALLS)
def test_y_columns_differ_from_outputs(call, nn, data):
    x, y = data
    with pytest.raises(ValueError, match=r"y has 3 columns but the network has 2 outputs"):
        XY_CALLS[call](nn, x, np.hstack([y, y[:, :1]]))


@pytest.mark.parametrize("call", XY_CALLS)
@pytest.mark.parametrize("shape", ["column", "vector"])
def test_y_as_label_column_gets_one_hot_hint(call, nn, data, shape):
    x, y = data
    labels = np.argmax(y, axis=1)
    labels = labels[:, None] if shape == "column" else labels
    with pytest.raises(ValueError, match=r"vector of 10 class labels.*one-hot rows \(10 x 2\).*nntoolbox.one_hot"):
        XY_CALLS[call](nn, x, labels)


@pytest.mark.parametrize("call", XY_CALLS)
def test_x_and_y_rows_differ(call, nn, data):
    x, y = data
    with pytest.raises(ValueError, match=r"has 10 rows but \w*y has 7.*one target row per sample"):
        XY_CALLS[call](nn, x, y[:7])


def test_sae_train_checks_shape(data):
    sae = sae_create([N_IN, 2])
    with pytest.raises(ValueError, match=r"columns but the network has 3 inputs.*samples as rows"):
        sae = sae_train(sae, OPTION, data[0].T)


# ----------------------------------------------------------------------------- non-finite / non-numeric data
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("call", X_CALLS)
def test_non_finite_inputs(call, bad, nn, data):
    x, y = data
    x = x.copy()
    x[3, 1] = bad
    with pytest.raises(ValueError, match=r"x contains NaN or inf \(first at row 3, column 1\)"):
        X_CALLS[call](nn, x, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("call", XY_CALLS)
def test_non_finite_targets(call, bad, nn, data):
    x, y = data
    y = y.copy()
    y[4, 0] = bad
    with pytest.raises(ValueError, match=r"y contains NaN or inf \(first at row 4, column 0\)"):
        XY_CALLS[call](nn, x, y)


@pytest.mark.parametrize("bad_x", ["abc", np.array([["a", "b", "c"]]), [["1", "2", "3"]], None,
                                   [[1.0, 2.0, 3.0], [1.0, 2.0]]], ids=["str", "str-array", "str-list", "None",
                                                                        "ragged"])
@pytest.mark.parametrize("call", X_CALLS)
def test_string_or_non_numeric_inputs(call, bad_x, nn, data):
    with pytest.raises(TypeError, match=r"x (must be|is not) (a )?numeric"):
        X_CALLS[call](nn, bad_x, data[1])


@pytest.mark.parametrize("call", XY_CALLS)
def test_string_targets(call, nn, data):
    with pytest.raises(TypeError, match=r"y must be (a )?numeric"):
        XY_CALLS[call](nn, data[0], "labels")


# ----------------------------------------------------------------------------- nn_create options
@pytest.mark.parametrize("args,kwargs,suggestion", [
    (("learning_rat", 0.1), {}, "learning rate"),
    (("activ function", "relu"), {}, "active function"),
    (("Learning Rat", 0.1), {}, "learning rate"),
    ((), {"learning_rat": 0.1}, "learning rate"),
    ((), {"optimisation_method": "Adam"}, "optimization method"),
    (("objective fuction", "MSE"), {}, "objective function"),
])
def test_unknown_option_name_suggests_nearest(args, kwargs, suggestion):
    with pytest.raises(ValueError, match=rf"unknown option .*did you mean '{suggestion}'\?"):
        nn_create([2, 3, 2], *args, **kwargs)


@pytest.mark.parametrize("name,value,suggestion", [
    ("optimization method", "Adamm", "Adam"),
    ("optimization method", "rmsprop2", "RMSProp"),
    ("active function", "sigmod", "sigmoid"),
    ("output function", "softmx", "softmax"),
    ("objective function", "cross entropy loss", "Cross Entropy"),
])
def test_unknown_option_value_suggests_nearest(name, value, suggestion):
    with pytest.raises(ValueError, match=rf"option '{name}': unknown value '{value}'.*did you mean '{suggestion}'\?"):
        nn_create([2, 3, 2], name, value)


def test_option_value_of_wrong_type():
    with pytest.raises(TypeError, match=r"option 'active function' must be a string"):
        nn_create([2, 3, 2], "active function", 1)
    with pytest.raises(TypeError, match=r"option 'learning rate' must be a number"):
        nn_create([2, 3, 2], "learning rate", "0.1")


def test_option_name_not_a_string():
    with pytest.raises(TypeError, match=r"option names must be strings"):
        nn_create([2, 3, 2], 3, 4)


@pytest.mark.parametrize("pairs", [("learning rate",), ("active function", "relu", "learning rate")])
def test_odd_number_of_name_value_args(pairs):
    with pytest.raises(ValueError, match=r"name/value pairs; got an odd number"):
        nn_create([2, 3, 2], *pairs)


def test_option_given_twice():
    with pytest.raises(ValueError, match=r"option 'active_function' given twice"):
        nn_create([2, 3, 2], "Active Function", "tanh", active_function="relu")


@pytest.mark.parametrize("sizes,message", [
    ([], r"at least an input and an output layer"),
    ([3], r"at least an input and an output layer"),
    ([3, 0, 2], r"sizes must be positive integers"),
    ([3, -1, 2], r"sizes must be positive integers"),
    ([3, 2.5, 1], r"sizes must be positive integers"),
    ([3, np.nan, 1], r"sizes must be positive integers"),
    ([3, "2"], r"sizes must be positive integers"),
    ("abc", r"sizes"),
])
def test_invalid_sizes(sizes, message):
    with pytest.raises((ValueError, TypeError), match=message):
        nn_create(sizes)


@pytest.mark.parametrize("lr", [0, 0.0, -0.1, -5])
def test_learning_rate_must_be_positive(lr):
    with pytest.raises(ValueError, match=r"option 'learning rate' must be in \(0"):
        nn_create([2, 3, 2], "learning rate", lr)


@pytest.mark.parametrize("lr", [np.nan, np.inf])
def test_learning_rate_must_be_finite(lr):
    with pytest.raises(ValueError, match=r"option 'learning rate' must be in"):
        nn_create([2, 3, 2], learning_rate=lr)


@pytest.mark.parametrize("name,value,message", [
    ("keep probability", 0, r"'keep probability' must be in \(0"),
    ("keep probability", 1.5, r"'keep probability' must be in"),
    ("weight decay", -1, r"'weight decay' must be in \[0"),
    ("sparsity", 1, r"'sparsity' must be in \(0"),
    ("batch normalization", 2, r"'batch normalization' must be 0 or 1"),
    ("batch normalization", "yes", r"'batch normalization' must be 0 or 1"),
    ("dtype", "int32", r"'dtype' must be float64 or float32"),
    ("seed", 1.5, r"'seed' must be a non-negative int seed"),
])
def test_other_invalid_option_values(name, value, message):
    with pytest.raises((ValueError, TypeError), match=message):
        nn_create([2, 3, 2], name, value)


def test_flag_option_given_an_array():
    with pytest.raises(ValueError, match=r"'batch normalization' must be 0 or 1"):
        nn_create([2, 3, 2], "batch normalization", np.array([1, 1]))


@pytest.mark.parametrize("out", ["sigmoid", "tanh", "relu"])
def test_cross_entropy_with_explicit_non_softmax_output(out):
    with pytest.raises(ValueError, match=rf"'Cross Entropy' needs output function 'softmax' \(got '{out}'"):
        nn_create([2, 3, 2], "objective function", "Cross Entropy", "output function", out)


def test_matlab_style_option_spellings():
    nn = nn_create([2, 3, 2], "Active Function", "tanh", "learning_rate", 0.1, "Optimization Method", "adam",
                   "OBJECTIVE FUNCTION", "cross entropy", "batch_normalization", 1, weight_decay=0.01)
    assert nn.active_function == "tanh"
    assert nn.learning_rate == 0.1
    assert nn.optimization_method == "Adam"  # values are case-insensitive, stored canonically
    assert nn.objective_function == "Cross Entropy"
    assert nn.output_function == "softmax"
    assert nn.batch_normalization == 1
    assert nn.weight_decay == 0.01
    for value, canonical in [("adam", "Adam"), ("MOMENTUM", "Momentum"), ("adagrad", "AdaGrad"),
                             (" rmsprop ", "RMSProp"), ("Normal", "normal")]:
        assert nn_create([2, 2], "optimization method", value).optimization_method == canonical
    assert nn_create([2, 2], "active function", "ReLU").active_function == "relu"


# ----------------------------------------------------------------------------- training options
def test_batch_size_larger_than_data(nn, data):
    with pytest.raises(ValueError, match=r"option.batch_size \(11\) is larger than the number of samples \(10\)"):
        nn = nn_train(nn, {"batch_size": 11}, *data)


@pytest.mark.parametrize("name", ["batch_size", "iteration"])
@pytest.mark.parametrize("value", [0, -1, 2.5, "5", True, None])
def test_batch_size_and_iteration_must_be_positive_integers(name, value, nn, data):
    option = {"batch_size": 5, "iteration": 1, name: value}
    with pytest.raises((ValueError, TypeError), match=rf"option.{name} must be a positive integer"):
        nn = nn_train(nn, option, *data)


@pytest.mark.parametrize("value", [np.inf, np.nan])
def test_batch_size_not_finite(value, nn, data):
    with pytest.raises(ValueError, match=r"option.batch_size must be a positive integer"):
        nn = nn_train(nn, {"batch_size": value}, *data)


def test_integral_float_sizes_are_accepted(nn, data):
    nn = nn_train(nn, {"batch_size": 5.0, "iteration": np.array([2.0])}, *data)
    assert nn.cost.size >= 2


def test_batch_size_required(nn, data):
    with pytest.raises(ValueError, match=r"option.batch_size is required"):
        nn = nn_train(nn, {"iteration": 2}, *data)


@pytest.mark.parametrize("typo,suggestion", [("iteratoin", "iteration"), ("batchsize", "batch_size"),
                                             ("remaindr", "remainder"), ("ordr", "order")])
def test_unknown_training_option_name(typo, suggestion, nn, data):
    with pytest.raises(ValueError, match=rf"unknown training option '{typo}'; did you mean '{suggestion}'\?"):
        nn = nn_train(nn, {"batch_size": 5, typo: 1}, *data)


def test_unknown_training_option_on_struct_like_object(nn, data):
    with pytest.raises(ValueError, match=r"unknown training option 'iterations'; did you mean 'iteration'\?"):
        nn = nn_train(nn, SimpleNamespace(batch_size=5, iterations=3), *data)


def test_struct_like_and_dataclass_options_work(nn, data):
    nn2 = nn.copy()
    nn = nn_train(nn, SimpleNamespace(batch_size=5, iteration=2, order=np.tile(np.arange(M), (2, 1))), *data)
    nn2 = nn_train(nn2, TrainOptions(batch_size=5, iteration=2, order=np.tile(np.arange(M), (2, 1))), *data)
    np.testing.assert_array_equal(nn._buf.params, nn2._buf.params)


@pytest.mark.parametrize("name,value,message", [
    ("remainder", "rest", r"option.remainder must be 'drop' or 'keep'"),
    ("engine", "gpu", r"option.engine must be one of"),
])
def test_invalid_training_option_values(name, value, message, nn, data):
    with pytest.raises(ValueError, match=message):
        nn = nn_train(nn, {"batch_size": 5, name: value}, *data)


@pytest.mark.parametrize("iteration,order", [
    (2, np.arange(M)),  # one row for two epochs
    (1, np.arange(M - 1)),  # too short
    (1, np.tile(np.arange(M), (2, 1))),  # two rows for one epoch
    (1, np.arange(M)[:, None]),  # a column
])
def test_order_with_wrong_shape(iteration, order, nn, data):
    with pytest.raises(ValueError, match=rf"option.order must have shape \(iteration, m\) = \({iteration}, {M}\)"):
        nn = nn_train(nn, {"batch_size": 5, "iteration": iteration, "order": order}, *data)


@pytest.mark.parametrize("order", [
    np.zeros(M, dtype=int),  # repeats
    np.arange(1, M + 1),  # one-based (MATLAB randperm)
    np.r_[-1, np.arange(1, M)],  # negative
], ids=["repeats", "one-based", "negative"])
def test_order_not_a_permutation(order, nn, data):
    with pytest.raises(ValueError, match=r"permutation of 0..m-1 \(zero-based\)"):
        nn = nn_train(nn, {"batch_size": 5, "order": order}, *data)


def test_order_not_integer(nn, data):
    with pytest.raises(ValueError, match=r"option.order must hold integer"):
        nn = nn_train(nn, {"batch_size": 5, "order": np.arange(M) + 0.5}, *data)


def test_valid_order_is_used(nn, data):
    x, y = data
    order = np.random.default_rng(3).permutation(M)
    a, b = nn.copy(), nn.copy()
    a = nn_train(a, {"batch_size": M, "order": order}, x, y)
    b = nn_train(b, {"batch_size": M, "order": np.arange(M)}, x[order], y[order])
    np.testing.assert_allclose(a._buf.params, b._buf.params, rtol=1e-12)


# ----------------------------------------------------------------------------- divergence
def _diverging_net():
    # lr * weight_decay = 1e6: every step multiplies W by about -1e6, so the cost
    # (which holds 0.5*wd*sum(W^2)) overflows after ~26 steps while W is still finite.
    return nn_create([N_IN, 8, N_OUT], "active function", "relu", "learning rate", 1e6, "weight decay", 1.0,
                     seed=0, cost_history="append")


def test_divergence_stops_with_warning_and_keeps_last_good_epoch(data):
    x, y = data
    nn = _diverging_net()
    start = nn.copy()
    orders = np.stack([np.random.default_rng(e).permutation(M) for e in range(40)])
    with pytest.warns(RuntimeWarning, match=r"cost became NaN/inf in epoch (\d+).*lower learning rate") as rec:
        nn = nn_train(nn, {"batch_size": 5, "iteration": 40, "order": orders}, x, y)
    assert nn.diverged is True
    assert nn.interrupted is False
    message = str([w for w in rec if issubclass(w.category, RuntimeWarning)][0].message)
    bad_epoch = int(re.search(r"epoch (\d+)", message).group(1))
    good = bad_epoch - 1
    assert f"as it was after epoch {good}" in message
    assert 1 <= good < 40
    # finite weights and history, and the weights equal a run of exactly the good epochs
    assert np.all(np.isfinite(nn._buf.params))
    assert np.all(np.isfinite(nn.cost)) and nn.cost.size == 2 * good
    ref = start.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the good epochs alone do not diverge
        ref = nn_train(ref, {"batch_size": 5, "iteration": good, "order": orders[:good]}, x, y)
    np.testing.assert_array_equal(nn._buf.params, ref._buf.params)
    np.testing.assert_array_equal(nn.cost, ref.cost)
    assert ref.diverged is False


def test_divergence_in_first_epoch_restores_initial_network(data):
    x, y = data
    x = x.copy()
    x[0] = 1e200  # overflows in the first forward pass
    nn = nn_create([N_IN, 4, N_OUT], active_function="relu", output_function="relu", seed=0)
    start = nn._buf.params.copy()
    with pytest.warns(RuntimeWarning, match=r"epoch 1; the network is kept as it was after epoch 0"):
        nn = nn_train(nn, {"batch_size": M, "iteration": 3}, x, y)
    assert nn.diverged
    np.testing.assert_array_equal(nn._buf.params, start)


@pytest.mark.parametrize("iteration", [1, 3])
def test_weights_overflowing_in_last_update_of_an_epoch_are_detected(iteration):
    rng = np.random.default_rng(0)
    x, y = rng.random((20, 4)) * 100, np.full((20, 2), 5.0)
    nn = nn_create([4, 8, 2], active_function="relu", output_function="relu", learning_rate=1e308, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        nn = nn_train(nn, {"batch_size": 20, "iteration": iteration}, x, y)
    assert np.all(np.isfinite(nn._buf.params)), "nn_train left non-finite weights"
    assert nn.diverged

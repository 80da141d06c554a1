"""The M-P neuron's 'step' unit: hand-set AND / OR / XOR networks in every forward path, and training refused."""
from __future__ import annotations

import numpy as np
import pytest

from nntoolbox import nn_backpropagation, nn_create, nn_forward, nn_predict, nn_train, register_activation
from nntoolbox.activations import ACTIVATIONS
from nntoolbox.datasets import xor_data
from nntoolbox.options import NAMES

X, _ = xor_data()
AND, OR, XOR = [0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0]


def _neuron(w, b, dtype="float64"):
    nn = nn_create([2, 1], output_function="step", dtype=dtype, seed=0)
    nn.W[0], nn.b[0] = np.array([w]), np.array([[b]])
    return nn


def _xor_net(dtype="float64", hidden="step"):
    """The notes' 2-2-1 M-P network (004, question 9): hidden units x1 - x2 and x2 - x1, output their OR;
    thresholds 0.5 so that sgn(0) = 1 cannot fire a unit."""
    nn = nn_create([2, 2, 1], active_function=hidden, output_function="step", dtype=dtype, seed=0)
    nn.W[0], nn.b[0] = np.array([[1.0, -1.0], [-1.0, 1.0]]), np.array([[-0.5], [-0.5]])
    nn.W[1], nn.b[1] = np.array([[1.0, 1.0]]), np.array([[-0.5]])
    return nn


def _outputs(nn):
    """The outputs of every forward path: fused and numpy nn_predict, and nn_forward's nn.a{end}."""
    dtype = np.dtype(nn.dtype)
    y = np.zeros((4, 1))
    return {"fused": nn_predict(nn, X), "numpy": nn_predict(nn, X, engine="numpy"),
            "nn_forward": nn_forward(nn, X, y).a[-1].T.astype(dtype)}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("w, b, truth", [([1.0, 1.0], -1.5, AND), ([1.0, 1.0], -0.5, OR)], ids=["AND", "OR"])
def test_hand_set_neuron_computes_and_or(dtype, w, b, truth):
    for path, out in _outputs(_neuron(w, b, dtype)).items():
        assert out.dtype == np.dtype(dtype), path
        assert out.ravel().tolist() == truth, path


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_hand_set_2_2_1_network_computes_xor(dtype):
    for path, out in _outputs(_xor_net(dtype)).items():
        assert out.ravel().tolist() == XOR, path


def test_step_is_one_at_the_threshold_and_zero_below():
    z = np.array([[-np.inf, -1e-300, -0.0, 0.0, 1e-300, 2.0, np.inf]])
    want = [0, 0, 1, 1, 1, 1, 1]
    assert ACTIVATIONS["step"].f(z).ravel().tolist() == want
    nn = _neuron([1.0, 0.0], 0.0)
    x = np.column_stack((np.clip(z.ravel(), -1e300, 1e300), np.zeros(7)))  # inputs must be finite
    for engine in ("fused", "numpy"):
        assert nn_predict(nn, x, engine=engine).ravel().tolist() == want, engine


def test_step_is_an_option_name_like_the_others():
    assert "step" in NAMES["active_function"] and "step" in NAMES["output_function"]
    assert nn_create([2, 1], "Output Function", "Step").output_function == "step"
    assert ACTIVATIONS["step"].range == (0, 1) and not ACTIVATIONS["step"].differentiable
    assert all(ACTIVATIONS[n].differentiable for n in ("sigmoid", "tanh", "relu", "leaky_relu", "linear", "softmax"))


def test_cross_entropy_still_needs_softmax():
    with pytest.raises(ValueError, match="needs output function 'softmax'"):
        nn_create([2, 2], output_function="step", objective_function="Cross Entropy")


@pytest.mark.parametrize("engine", ["fused", "stepwise"])
@pytest.mark.parametrize("where", ["output", "hidden"])
def test_training_a_step_network_is_refused(engine, where):
    nn = _neuron([1.0, 1.0], -1.5) if where == "output" else _xor_net(hidden="step")
    if where == "hidden":
        nn.output_function = "sigmoid"
    option = {"batch_size": 4, "iteration": 3, "engine": engine}
    layer = "output function" if where == "output" else "active function"
    with pytest.raises(ValueError, match=rf"nn_train: the network's {layer} 'step' has no gradient.*Use 'step' with hand-set weights.*"
                                         r"nntoolbox\.perceptron\.perceptron_train"):
        nn_train(nn, option, X, np.array([XOR]).T)


def test_backpropagation_through_step_is_refused():
    nn = nn_forward(_xor_net(), X, np.array([XOR]).T)
    with pytest.raises(ValueError, match="nn_backpropagation: the network's active function 'step' has no gradient"):
        nn_backpropagation(nn, np.array([XOR]).T)


def test_a_network_without_hidden_layer_ignores_its_unused_active_function():
    nn = nn_create([2, 1], active_function="step", output_function="sigmoid", seed=0)
    trained = nn_train(nn, {"batch_size": 4, "iteration": 2}, X, np.array([AND]).T)
    assert trained.history.shape[0] == 2


def test_a_registered_threshold_unit_is_refused_too():
    register_activation("sign_h1_test", lambda z: 1.0 if z >= 0 else -1.0, lambda a: 0.0, range=(-1, 1),
                        differentiable=False)
    nn = nn_create([2, 3, 1], active_function="sign_h1_test", output_function="sigmoid", seed=0)
    assert nn_predict(nn, X).shape == (4, 1)
    with pytest.raises(ValueError, match="'sign_h1_test' has no gradient"):
        nn_train(nn, {"batch_size": 2}, X, np.array([XOR]).T)

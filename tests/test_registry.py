"""Registries of optimizers and activations: Nesterov methods against hand-computed steps, user
optimizers in both engines, a user activation's gradient, the linear output, bad registrations."""
from __future__ import annotations

import warnings

import numba
import numpy as np
import pytest

import test_gradients as tg
from nntoolbox import (nn_backpropagation, nn_create, nn_forward, nn_predict, nn_train, register_activation,
                       register_optimizer)
from nntoolbox.optimizers import method_options
from nntoolbox.options import number_option

ENGINES = ("stepwise", "fused")


# --------------------------------------------------------------------- Nesterov, by hand
def _hand_nesterov(method, theta, v, r, g, nn):
    lr, alpha = nn["learning_rate"], nn["momentum"]
    if method == "Nesterov":
        v = alpha * v - lr * g
    else:
        rho, delta = nn["rho"], nn["delta"]
        r = rho * r + (1 - rho) * g * g
        v = alpha * v - lr * g / np.sqrt(delta + r)
    return theta + v, v, r


@pytest.mark.parametrize("bn", ["off", "course"])
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("method", ["Nesterov", "RMSProp_Nesterov"])
def test_nesterov_first_three_updates_match_the_formulas(method, engine, bn):
    nn = nn_create([4, 6, 3], optimization_method=method, learning_rate=0.05, seed=3, **tg.bn_options(bn))
    assert nn["momentum"] == 0.9 and (method == "Nesterov" or (nn["rho"] == 0.9 and nn["delta"] == 1e-6))
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, (8, 4)), rng.uniform(0.1, 0.9, (8, 3))
    ref = nn.copy()  # the gradient of every step comes from nn_forward/nn_backpropagation at theta~
    theta = nn._buf.params.copy()
    v, r = np.zeros_like(theta), np.zeros_like(theta)
    order = np.arange(8)
    for step in range(3):
        nn = nn_train(nn, {"batch_size": 8, "iteration": 1, "order": order, "engine": engine}, x, y)
        ref._buf.params[...] = theta + ref["momentum"] * v  # theta~ = theta + alpha v
        ref = nn_backpropagation(nn_forward(ref, x, y), y)
        theta, v, r = _hand_nesterov(method, theta, v, r, ref._buf.grads.copy(), ref)
        np.testing.assert_allclose(nn._buf.params, theta, rtol=1e-10, atol=1e-13, err_msg=f"step {step + 1}")
        np.testing.assert_allclose(nn._buf.state[0], v, rtol=1e-10, atol=1e-13)
        if method == "RMSProp_Nesterov":
            np.testing.assert_allclose(nn._buf.state[1], r, rtol=1e-10, atol=1e-13)
    assert np.any(v != 0)
    if bn != "off":  # Gamma and Beta move by the same rule
        assert nn.Gamma[0].item() != 1.0 and nn.Beta[0].item() != 0.0


def test_nesterov_state_views_and_options():
    nn = nn_create([3, 4, 2], optimization_method="RMSProp_Nesterov", momentum=0.5, delta=1e-4)
    assert "vW" in nn and "rW" in nn and nn.momentum == 0.5 and nn.delta == 1e-4 and nn.rho == 0.9
    assert nn_create([3, 2], optimization_method="Momentum").momentum == 0.1  # the course's default stays
    assert set(method_options("RMSProp_Nesterov")) == {"momentum", "rho", "delta"}
    with pytest.raises(ValueError, match="'rho' must be in"):
        nn_create([3, 2], optimization_method="RMSProp", rho=1.5)
    with pytest.raises(ValueError, match="'delta' must be in"):
        nn_create([3, 2], optimization_method="RMSProp_Nesterov", delta=0)


# ------------------------------------------------------------------- user optimizers
@numba.njit
def _user_adam(p, g, state, hyper, t):
    lr, b1, b2 = hyper[0], hyper[1], hyper[2]
    s, r = state[0], state[1]
    c1, c2 = 1 / (1 - b1 ** t), 1 / (1 - b2 ** t)  # reciprocal bias corrections, as the built-in Adam
    for i in range(p.shape[0]):
        s[i] = b1 * s[i] + (1 - b1) * g[i]
        r[i] = b2 * r[i] + (1 - b2) * (g[i] * g[i])
        p[i] = p[i] - lr * (s[i] * c1) / (np.sqrt(r[i] * c2) + 1e-8)


def _numpy_sgd(p, g, state, hyper, t):
    p -= hyper[0] * g


register_optimizer("TestAdam", _user_adam, slots=("s", "r"), time="update",
                   hyper={"beta1": number_option(0.9, 0, 1, hi_open=True), "beta2": 0.999})
register_optimizer("TestNumpySGD", _numpy_sgd)


def _data(seed=0, m=40):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (m, 5))
    return x, np.eye(2)[(x[:, 0] + x[:, 1] > 0).astype(int)]


@pytest.mark.parametrize("engine", ENGINES)
def test_user_njit_optimizer_equals_builtin_textbook_adam(engine):
    x, y = _data()
    opts = dict(learning_rate=0.01, seed=1, objective_function="Cross Entropy", batch_normalization=1)
    option = {"batch_size": 10, "iteration": 3, "rng": 5, "engine": engine}
    mine = nn_train(nn_create([5, 6, 2], optimization_method="TestAdam", **opts), option, x, y)
    builtin = nn_train(nn_create([5, 6, 2], optimization_method="Adam", adam="textbook", state_init="zeros",
                                 **opts), option, x, y)
    assert mine.TestAdamTime == 12 and mine.beta1 == 0.9 and "sW" in mine
    np.testing.assert_allclose(mine._buf.params, builtin._buf.params, rtol=1e-12, atol=1e-14)


def test_numpy_optimizer_runs_stepwise_with_one_warning():
    x, y = _data()
    option = {"batch_size": 10, "iteration": 2, "rng": 5}
    with pytest.warns(RuntimeWarning, match="stepwise engine"):
        mine = nn_train(nn_create([5, 4, 2], optimization_method="TestNumpySGD", seed=1), option, x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # only once
        nn_train(mine, option, x, y)
    ref = nn_train(nn_create([5, 4, 2], optimization_method="normal", seed=1), dict(option, engine="stepwise"), x, y)
    np.testing.assert_array_equal(mine._buf.params, ref._buf.params)


# ------------------------------------------------------------------ user activations
register_activation("test_softplus", lambda z: np.log1p(np.exp(z)), lambda a: 1.0 - np.exp(-a), range=(0, np.inf))


@pytest.mark.parametrize("bn", tg.BNS)
def test_registered_activation_gradient(bn, monkeypatch):
    monkeypatch.setitem(tg.FUNCS, "test_softplus", lambda z: np.log1p(np.exp(z)))

    def make_net(seed):
        return nn_create(tg.SIZES, active_function="test_softplus", output_function="test_softplus", seed=seed,
                         cost_history="append", **tg.bn_options(bn))
    tg.check_network(make_net, "relu", "MSE")


def test_registered_activation_engines_agree():
    x, y = _data()
    nn = nn_create([5, 4, 2], active_function="test_softplus", objective_function="Cross Entropy", seed=2)
    a, b = (nn_train(nn, {"batch_size": 10, "iteration": 2, "rng": 1, "engine": e}, x, y) for e in ENGINES)
    np.testing.assert_allclose(a._buf.params, b._buf.params, rtol=1e-10)
    np.testing.assert_allclose(nn_predict(a, x), nn_predict(a, x, engine="numpy"), rtol=1e-12)


def test_linear_output_fits_a_noisy_linear_map():
    rng = np.random.default_rng(0)
    A, c = rng.normal(size=(5, 3)), rng.normal(size=3)
    x = rng.uniform(-1, 1, (600, 5))
    y = x @ A + c + 0.05 * rng.normal(size=(600, 3))
    nn = nn_create([5, 12, 3], active_function="leaky_relu", output_function="linear", learning_rate=0.01,
                   optimization_method="Adam", adam="textbook", seed=0)
    nn = nn_train(nn, {"batch_size": 20, "iteration": 60, "rng": 0}, x[:500], y[:500])
    pred = nn_predict(nn, x[500:])
    r2 = 1 - np.sum((pred - y[500:]) ** 2) / np.sum((y[500:] - y[500:].mean(axis=0)) ** 2)
    assert r2 >= 0.98, r2


# ------------------------------------------------------------------- bad registrations
def test_bad_optimizer_registrations():
    with pytest.raises(ValueError, match="already registered"):
        register_optimizer("Adam", _user_adam)
    with pytest.raises(TypeError, match=r"update must take 5 arguments"):
        register_optimizer("bad1", lambda p, g, t: None)
    with pytest.raises(TypeError, match="lookahead must take 4 arguments"):
        register_optimizer("bad2", _numpy_sgd, lookahead=lambda p, out: None)
    with pytest.raises(ValueError, match="bad default"):
        register_optimizer("bad3", _numpy_sgd, hyper={"beta9": number_option(2.0, 0, 1)})
    with pytest.raises(TypeError, match="needs a default number"):
        register_optimizer("bad4", _numpy_sgd, hyper={"beta9": "big"})
    with pytest.raises(ValueError, match="would replace the nn_create option"):
        register_optimizer("bad5", _numpy_sgd, hyper={"learning_rate": 0.1})
    with pytest.raises(ValueError, match="letter prefixes"):
        register_optimizer("bad6", _numpy_sgd, slots=("v1",))
    with pytest.raises(ValueError, match="time must be"):
        register_optimizer("bad7", _numpy_sgd, time="batch")
    with pytest.raises(TypeError, match="calling the update on float64 buffers failed"):
        register_optimizer("bad8", numba.njit(lambda p, g, state, hyper, t: p.nosuchattr))
    with pytest.raises(ValueError, match="'bad9'.*out of bounds"):
        register_optimizer("bad9", lambda p, g, state, hyper, t: state[2])  # uses a slot it did not declare
    with pytest.raises(ValueError, match="unknown value 'bad1'"):
        nn_create([3, 2], optimization_method="bad1")  # nothing half-registered


def test_bad_activation_registrations():
    with pytest.raises(ValueError, match="already registered"):
        register_activation("relu", lambda z: z, lambda a: 1.0)
    with pytest.raises(TypeError, match="exactly one argument"):
        register_activation("bad_a", lambda z, w: z, lambda a: 1.0)
    with pytest.raises(TypeError, match="must compile with Numba"):
        register_activation("bad_b", lambda z: np.nosuchfunction(z), lambda a: 1.0)
    with pytest.raises(TypeError, match="must return a number"):
        register_activation("bad_b", lambda z: [z], lambda a: 1.0)
    with pytest.raises(ValueError, match="low < high"):
        register_activation("bad_c", lambda z: z, lambda a: 1.0, range=(1, 0))
    with pytest.raises(ValueError, match="unknown value 'bad_b'"):
        nn_create([3, 2], active_function="bad_b")
    with pytest.raises(ValueError, match="unknown value 'linear'"):
        nn_create([3, 4, 2], active_function="linear")  # an output function only


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_new_functions_and_methods_agree_between_engines(dtype):
    x, y = _data()
    for method in ("Nesterov", "RMSProp_Nesterov", "TestAdam"):
        nn = nn_create([5, 6, 2], active_function="leaky_relu", output_function="linear", optimization_method=method,
                       learning_rate=0.01, batch_normalization=1, dtype=dtype, seed=4)
        a, b = (nn_train(nn, {"batch_size": 10, "iteration": 2, "rng": 1, "engine": e}, x, y) for e in ENGINES)
        assert a._buf.params.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a._buf.params, b._buf.params, rtol=1e-9 if dtype == "float64" else 1e-4,
                                   atol=1e-12 if dtype == "float64" else 1e-5, err_msg=method)


def test_linear_decoder_autoencoder_trains_in_both_engines():
    from nntoolbox import sae_create, sae_train
    x = np.random.default_rng(0).uniform(0, 1, (40, 8))
    sae = sae_create([8, 4], output_function="linear", learning_rate=0.1, seed=0)
    a, b = (sae_train(sae, {"batch_size": 10, "iteration": 3, "rng": 2, "engine": e}, x) for e in ENGINES)
    np.testing.assert_allclose(a._buf.params, b._buf.params, rtol=1e-10)
    assert a.cost[-1] < a.cost[0]

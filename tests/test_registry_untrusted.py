"""A student's registered function is untrusted (issue 21 items 1, 3, 4, 8, 9): out-of-bounds updates and
bad names are refused at registration, an exception inside a compiled update or activation stops training
with its message in both engines, and registry loose ends (pickles, step counters, per-optimizer ranges)."""
from __future__ import annotations

import pickle

import numba
import numpy as np
import pytest

from nntoolbox import nn_create, nn_predict, nn_train, register_activation, register_optimizer
from nntoolbox.activations import ACTIVATIONS
from nntoolbox.optimizers import OPTIMIZERS
from nntoolbox.options import NAMES, number_option

ENGINES = ("stepwise", "fused")


def _data(m=20, scale=1.0):
    rng = np.random.default_rng(0)
    x = scale * rng.uniform(-1, 1, (m, 3))
    return x, np.eye(2)[(x[:, 0] > 0).astype(int)]


@numba.njit
def _sgd(p, g, state, hyper, t):
    for i in range(p.shape[0]):
        p[i] = p[i] - hyper[0] * g[i]


# ------------------------------------------------------------ item 1: out-of-bounds updates
@numba.njit
def _reads_hyper5(p, g, state, hyper, t):
    for i in range(p.shape[0]):
        p[i] = p[i] - hyper[5] * g[i]


@numba.njit
def _writes_past_p(p, g, state, hyper, t):
    for i in range(p.shape[0]):
        p[i + 1] = p[i] - hyper[0] * g[i]


@numba.njit
def _second_slot(p, g, state, hyper, t):
    v, r = state[0], state[1]
    for i in range(p.shape[0]):
        v[i] = r[i] + g[i]
        p[i] = p[i] - hyper[0] * v[i]


@numba.njit
def _lookahead_past_out(p, state, hyper, out):
    for i in range(p.shape[0] + 1):
        out[i] = p[i]


@pytest.mark.parametrize("update, kw", [(_reads_hyper5, {"hyper": {"gain": 1.0}}), (_writes_past_p, {}),
                                        (_second_slot, {"slots": ("v",)}),
                                        (_sgd, {"lookahead": _lookahead_past_out})])
def test_out_of_bounds_njit_update_is_refused_at_registration(update, kw):
    name = f"OOB_{update.__name__.strip('_')}"
    with pytest.raises(ValueError, match=rf"register_optimizer\('{name}'\).*out of bounds"):
        register_optimizer(name, update, **kw)
    assert name not in OPTIMIZERS and name not in NAMES["optimization_method"]


def test_plain_update_out_of_bounds_is_refused_too():
    def plain(p, g, state, hyper, t):
        p -= hyper[2] * g
    with pytest.raises(ValueError, match="out of bounds"):
        register_optimizer("OOB_plain", plain)


# --------------------------------------------- item 3: exceptions stop training in both engines
@numba.njit
def _raises_late(p, g, state, hyper, t):
    if t > 3:
        raise ValueError("step budget exhausted")
    for i in range(p.shape[0]):
        p[i] = p[i] - hyper[0] * g[i]


register_optimizer("RaisesLate", _raises_late, time="update")


@pytest.mark.parametrize("engine", ENGINES)
def test_exception_in_update_stops_training_with_its_message(engine, capfd):
    x, y = _data()
    nn = nn_create([3, 4, 2], optimization_method="RaisesLate", seed=0)
    with pytest.raises(ValueError, match="step budget exhausted"):
        nn_train(nn, {"batch_size": 5, "iteration": 3, "engine": engine}, x, y)
    assert "Exception ignored" not in capfd.readouterr().err
    assert nn.RaisesLateTime == 0  # the argument is unchanged (value semantics)


@numba.njit
def _capped(z):
    if z > 1e3:
        raise OverflowError("input too large for capped")
    return np.tanh(z)


@numba.njit
def _capped_df(a):
    if a > 1e3:
        raise OverflowError("derivative input too large")
    return 1.0


register_activation("capped", _capped, lambda a: 1 - a * a)
register_activation("raw_df", lambda z: z if z < 1e3 else 2e3, _capped_df, output=False)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("where", ["active_function", "output_function"])
def test_exception_in_activation_stops_training_and_prediction(engine, where, capfd):
    x, y = _data(scale=1e6)
    nn = nn_create([3, 4, 2], seed=0, **{where: "capped"})
    nn.W[1] = np.full((2, 4), 1e5)  # a sigmoid layer below the output: its inputs are in (0, 1)
    with pytest.raises(OverflowError, match="input too large for capped"):
        nn_train(nn, {"batch_size": 5, "iteration": 1, "engine": engine}, x, y)
    with pytest.raises(OverflowError, match="input too large for capped"):
        nn_predict(nn, x, engine="numpy" if engine == "stepwise" else "fused")
    assert "Exception ignored" not in capfd.readouterr().err


@pytest.mark.parametrize("engine", ENGINES)
def test_exception_in_activation_derivative_stops_training(engine):
    x, y = _data(scale=1e6)
    nn = nn_create([3, 4, 2], active_function="raw_df", seed=0)
    with pytest.raises(OverflowError, match="derivative input too large"):
        nn_train(nn, {"batch_size": 5, "iteration": 1, "engine": engine}, x, y)


def test_activation_trial_refuses_nan_and_errors():
    with pytest.raises(ValueError, match=r"'nan_below'.*f\(-10.0\) is NaN"):
        register_activation("nan_below", lambda z: np.sqrt(z), lambda a: 1.0)
    with pytest.raises(TypeError, match=r"'div0'.*f\(0.0\) failed.*ZeroDivisionError"):
        register_activation("div0", lambda z: 1.0 / z, lambda a: 1.0)
    with pytest.raises(ValueError, match=r"df\(0.5\) is NaN"):
        register_activation("nan_df", lambda z: 0.5, lambda a: np.log(a - 1))
    assert not {"nan_below", "div0", "nan_df"} & set(ACTIVATIONS)


# ------------------------------------------------------------------ items 4 and 9: names
@pytest.mark.parametrize("name, why", [("adam", "already registered"), ("MOMENTUM", "already registered"),
                                       ("learning_rate", "network field"), ("Cost", "network field"),
                                       ("vW", "network field"), ("my opt", "MATLAB field name"),
                                       ("1opt", "MATLAB field name"), ("Opt-2", "MATLAB field name"),
                                       ("Ünicode", "MATLAB field name"), ("", "MATLAB field name")])
def test_optimizer_names_are_refused(name, why):
    with pytest.raises(ValueError, match=why):
        register_optimizer(name, _sgd)
    assert nn_create([3, 2], optimization_method="Adam").optimization_method == "Adam"


def test_activation_names_are_refused():
    for name in ("ReLU", "SIGMOID", "Softmax", "dtype", "leaky relu"):
        with pytest.raises(ValueError):
            register_activation(name, lambda z: z, lambda a: 1.0)
    assert ACTIVATIONS["relu"].f(np.array([-1.0]))[0] == 0.0
    with pytest.raises(TypeError, match="must be a string"):
        register_optimizer(3, _sgd)


def test_name_with_time_fits_a_matlab_field(tmp_path):
    with pytest.raises(ValueError, match="at most 27 characters"):
        register_optimizer("A" * 28, _sgd, time="update")
    name = "B" * 27
    register_optimizer(name, _sgd, time="update")
    register_optimizer("C" * 31, _sgd)  # no counter field: 31 characters fit
    from nntoolbox.io import nn_load, nn_save
    x, y = _data()
    nn = nn_train(nn_create([3, 2], optimization_method=name, seed=0), {"batch_size": 5, "iteration": 1}, x, y)
    path = tmp_path / "long.mat"
    nn_save(nn, path)
    assert nn_load(path)[name + "Time"] == 4


# ---------------------------------------------------------- item 8: hyper-parameter names
@pytest.mark.parametrize("key", ["r", "size", "depth", "cost", "encoder", "grad_squared", "b", "w", "e",
                                 "vecnum", "interrupted", "history", "input_mean", "v", "q", "learning_rate"])
def test_hyper_parameter_names_that_are_fields_are_refused(key):
    with pytest.raises(ValueError, match=f"hyper-parameter '{key}'"):
        register_optimizer("HyperClash", _sgd, slots=("q",), hyper={key: 0.5})
    assert "HyperClash" not in OPTIMIZERS
    nn = nn_create([3, 4, 2], optimization_method="RMSProp")  # every nn_create still works
    assert nn.r == 0.0 and list(nn.size) == [3, 4, 2]


# ----------------------------------------------------------------- item 9: loose ends
register_optimizer("PickOpt", _sgd, slots=("k",), hyper={"kappa": 0.5}, time="update")
register_activation("pick_act", lambda z: z / (1.0 + abs(z)), lambda a: (1 - abs(a)) ** 2)


@pytest.mark.parametrize("field, name", [("optimization_method", "PickOpt"), ("active_function", "pick_act"),
                                         ("output_function", "pick_act")])
def test_unpickling_where_not_registered_names_the_registration(field, name, monkeypatch):
    nn = nn_create([3, 4, 2], seed=0, **{field: name})
    data = pickle.dumps(nn)
    registry = OPTIMIZERS if field == "optimization_method" else ACTIVATIONS
    monkeypatch.delitem(registry, name)
    for key, names in list(NAMES.items()):
        monkeypatch.setitem(NAMES, key, [n for n in names if n != name])
    what = "register_optimizer" if field == "optimization_method" else "register_activation"
    with pytest.raises(ValueError, match=rf"{name!r} .*not registered.*{what}"):
        pickle.loads(data)


@pytest.mark.parametrize("value", [-1, "x", float("nan"), 1.5, None, True])
def test_step_counter_of_a_registered_optimizer_is_a_non_negative_integer(value):
    nn = nn_create([3, 2], optimization_method="PickOpt")
    with pytest.raises((TypeError, ValueError), match="PickOptTime"):
        nn.PickOptTime = value
    nn.PickOptTime = 7.0
    assert nn.PickOptTime == 7 and isinstance(nn.PickOptTime, int)


register_optimizer("WideRho", _sgd, hyper={"rho": number_option(2.0, 0, 10)})


def test_hyper_parameter_ranges_are_per_optimizer():
    nn = nn_create([3, 2], optimization_method="WideRho", rho=5)
    assert nn.rho == 5
    nn.rho = 9.5
    with pytest.raises(ValueError, match="'rho' must be in"):
        nn.rho = 11
    with pytest.raises(ValueError, match="'rho' must be in"):
        nn_create([3, 2], optimization_method="WideRho", rho=11)
    with pytest.raises(ValueError, match="'rho' must be in"):
        nn_create([3, 2], optimization_method="RMSProp", rho=5)  # RMSProp's own range [0, 1)
    assert nn_create([3, 2], optimization_method="WideRho").rho == 2.0
    assert nn_create([3, 2], "optimization method", "WideRho", "rho", 5).rho == 5  # pairs too

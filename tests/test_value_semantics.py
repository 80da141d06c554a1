"""The network is a value: MATLAB struct habits never corrupt memory, lose training or give a silently
wrong result (copies, pickles, field edits, assignments, label checks; both engines agree)."""
from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from nntoolbox import (nn_applygradient, nn_backpropagation, nn_create, nn_forward, nn_predict, nn_test,
                       nn_train, one_hot, sae_create, sae_train)
from nntoolbox.forward import forward_train
from nntoolbox.io import nn_load, nn_save

M = 60
RNG = np.random.default_rng(0)
X = RNG.random((M, 4))
Y = np.eye(3)[RNG.integers(3, size=M)]
ORDER = np.stack([RNG.permutation(M) for _ in range(3)])
OPTION = {"batch_size": 10, "iteration": 3, "order": ORDER}


def state(nn) -> tuple:
    """Everything training changes, for before/after comparisons."""
    b = nn._buf
    return (b.params.copy(), b.grads.copy(), b.state.copy(), None if b.stats is None else b.stats.copy(),
            np.array(nn.cost), nn.get("AdamTime"), nn.get("vecNum"), nn._dropout_step,
            nn._rng_state["state"]["state"])


def assert_same_state(a: tuple, b: tuple) -> None:
    for u, v in zip(a, b):
        if isinstance(u, np.ndarray):
            np.testing.assert_array_equal(u, v)
        else:
            assert u == v


def chess_like(**kw):
    return nn_create([4, 10, 10, 3], "active function", "relu", "learning rate", 0.01, "batch normalization", 1,
                     "optimization method", "Adam", "objective function", "Cross Entropy", seed=3, **kw)


# ----------------------------------------------------------------------------- value semantics
@pytest.mark.parametrize("call", ["train", "forward", "backprop", "apply", "test", "sae"])
def test_functions_leave_their_argument_alone(call):
    nn = chess_like()
    if call == "sae":
        nn = sae_create([4, 3], seed=1)
        before = state(nn)
        out = sae_train(nn, {"batch_size": 10}, X)
        assert nn["encoder"] == 0 and out["encoder"] == 1
    else:
        if call in ("backprop", "apply"):
            nn = nn_forward(nn, X[:10], Y[:10])
        if call == "apply":
            nn = nn_backpropagation(nn, Y[:10])
        before = state(nn)
        out = {"train": lambda: nn_train(nn, OPTION, X, Y), "forward": lambda: nn_forward(nn, X[:10], Y[:10]),
               "backprop": lambda: nn_backpropagation(nn, Y[:10]), "apply": lambda: nn_applygradient(nn),
               "test": lambda: nn_test(nn, X, Y)[2]}[call]()
    assert out is not nn
    assert_same_state(state(nn), before)
    out.learning_rate = 0.5  # the result is its own value too
    assert nn.learning_rate != 0.5


def test_course_storedNN_loop_keeps_the_best_network():
    """nn_testChess.m's loop ported line by line: storedNN = nn keeps the best network."""
    rng = np.random.default_rng(1)
    x, labels = rng.standard_normal((400, 4)), rng.integers(3, size=400)
    labels[x[:, 0] > 0.5] = 0
    y = one_hot(labels, 3)
    xTraining, yTraining, xValidation, yValidation = x[:300], y[:300], x[300:], y[300:]
    nn = chess_like()
    option = {"batch_size": 100, "iteration": 1}
    maxAccuracy, storedNN, accuracies = 0, None, []
    for iteration in range(30):
        nn = nn_train(nn, option, xTraining, yTraining)
        wrongs, accuracy, _ = nn_test(nn, xValidation, yValidation)
        accuracies.append(accuracy)
        if accuracy > maxAccuracy:
            maxAccuracy = accuracy
            storedNN = nn
    assert max(accuracies) > accuracies[-1] or max(accuracies) == accuracies[-1]
    wrongs, accuracy, _ = nn_test(storedNN, xValidation, yValidation)
    assert accuracy == maxAccuracy
    assert storedNN is not nn or accuracies[-1] == maxAccuracy


def test_one_call_of_n_epochs_equals_n_calls_of_one():
    one = nn_train(chess_like(), {"batch_size": 10, "iteration": 4}, X, Y)
    many = chess_like()
    for _ in range(4):
        many = nn_train(many, {"batch_size": 10, "iteration": 1}, X, Y)
    assert_same_state(state(one), state(many))
    assert one.history.epoch.tolist() == many.history.epoch.tolist() == [1, 2, 3, 4]
    np.testing.assert_array_equal(one.history.cost, many.history.cost)


@pytest.mark.parametrize("how", ["copy", "copy.copy", "deepcopy", "pickle", "joblib"])
def test_copies_and_pickles_are_whole_networks(how, tmp_path):
    nn = nn_train(chess_like(dropout="inverted", keep_probability=0.8), OPTION, X, Y)
    if how == "joblib":
        joblib = pytest.importorskip("joblib")
        joblib.dump(nn, tmp_path / "nn.joblib")
        twin = joblib.load(tmp_path / "nn.joblib")
    else:
        twin = {"copy": nn.copy, "copy.copy": lambda: copy.copy(nn), "deepcopy": lambda: copy.deepcopy(nn),
                "pickle": lambda: pickle.loads(pickle.dumps(nn))}[how]()
    assert_same_state(state(twin), state(nn))
    np.testing.assert_array_equal(nn_predict(twin, X), nn_predict(nn, X))
    a, b = nn_train(nn, {"batch_size": 10, "iteration": 2}, X, Y), nn_train(twin, {"batch_size": 10, "iteration": 2}, X, Y)
    assert_same_state(state(a), state(b))
    assert not np.array_equal(a.W[0], nn.W[0])  # training really changed the weights
    nn_save(b, tmp_path / "b.npz")
    np.testing.assert_array_equal(nn_load(tmp_path / "b.npz").W[0], a.W[0])
    # the twin's per-layer arrays are views of its own buffers
    twin.W[0][0, 0] = 123.0
    assert twin._buf.params[0] == 123.0 and nn.W[0][0, 0] != 123.0


def test_views_held_by_the_user_stay_valid_and_unshared():
    nn = chess_like()
    W = nn.W
    nn2 = nn_train(nn, OPTION, X, Y)
    W[0][...] = 0.0  # edits nn (the value W came from), not nn2
    assert np.all(nn.W[0] == 0) and not np.all(nn2.W[0] == 0)


# ----------------------------------------------------------------------------- field edits
EDITS = [
    ("optimization_method", "RMSProp"), ("optimization_method", "Momentum"), ("optimization_method", "AdaGrad"),
    ("optimization_method", "Adam"), ("optimization_method", "normal"), ("batch_normalization", 1),
    ("batch_normalization", 0), ("bn_mode", "standard"), ("objective_function", "Cross Entropy"),
    ("dtype", "float32"), ("active_function", "relu"), ("output_function", "tanh"), ("keep_probability", 0.5),
    ("dropout", "inverted"), ("textbook", True), ("adam", "textbook"), ("weight_decay", 0.01),
]


def test_field_edits_never_crash_and_both_engines_agree():
    """The reproduction of the memory corruption, in a subprocess: a crash must not take pytest down."""
    code = textwrap.dedent(f"""
        import warnings, numpy as np
        from nntoolbox import nn_create, nn_train, nn_forward, nn_backpropagation, nn_applygradient
        warnings.simplefilter("ignore")
        rng = np.random.default_rng(0)
        x, y = rng.random((60, 4)), np.eye(3)[rng.integers(3, size=60)]
        order = np.stack([rng.permutation(60) for _ in range(2)])
        for field, value in {EDITS!r}:
            for start in ({{}}, {{"batch_normalization": 1}}, {{"optimization_method": "Adam"}}):
                nn = nn_create([4, 500, 3], seed=1, learning_rate=0.1, **start)
                setattr(nn, field, value)
                fused = nn_train(nn, {{"batch_size": 10, "iteration": 2, "order": order}}, x, y)
                step = nn_train(nn, {{"batch_size": 10, "iteration": 2, "order": order, "engine": "stepwise"}}, x, y)
                tol = 1e-4 if nn.dtype == "float32" else 1e-10
                assert np.allclose(fused._buf.params, step._buf.params, rtol=tol, atol=tol), (field, value, start)
                assert not fused.diverged and not step.diverged, (field, value, start)
                nn = nn_applygradient(nn_backpropagation(nn_forward(nn, x[:10], y[:10]), y[:10]))
                assert np.all(np.isfinite(nn._buf.params))
        print("done")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr[-3000:]}"
    assert "done" in done.stdout


def test_structural_edits_rebuild_what_the_setting_needs():
    nn = nn_train(nn_create([4, 5, 3], seed=0), OPTION, X, Y)
    W = [w.copy() for w in nn.W]
    nn.optimization_method = "adam"  # case-insensitive, as in nn_create
    assert nn.optimization_method == "Adam" and nn.AdamTime == 0 and "sW" in nn and "rW" in nn
    assert all(np.array_equal(a, b) for a, b in zip(W, nn.W))
    nn.batch_normalization = 1
    assert [g.item() for g in nn.Gamma] == [1.0, 1.0] and nn.vecNum == 0 and "E" in nn
    assert all(g.item() == 1.0 for g in nn.sGamma)  # course quirk 7: Adam's sGamma starts at 1
    assert all(np.array_equal(a, b) for a, b in zip(W, nn.W))
    nn.bn_mode = "standard"
    assert nn.Gamma[0].shape == (5, 1) and np.all(nn.S[0] == 1)
    nn.optimization_method = "Momentum"
    assert "AdamTime" not in nn and "vW" in nn and "sW" not in nn
    nn.dtype = "float32"
    assert nn.W[0].dtype == np.float32 and nn._buf.state.dtype == np.float32
    nn.batch_normalization = 0
    assert "Gamma" not in nn and "vecNum" not in nn and "vW" in nn
    trained = nn_train(nn, OPTION, X, Y)
    assert trained.W[0].dtype == np.float32 and np.all(np.isfinite(trained._buf.params))


def test_textbook_switches_every_quirk():
    nn = nn_create([4, 5, 3], "batch normalization", 1)
    nn.textbook = True
    assert (nn.bn_mode, nn.adam, nn.momentum, nn.dropout, nn.ce_cost) == (
        "standard", "textbook", 0.9, "inverted", "textbook")
    assert nn.Gamma[0].shape == (5, 1)


def test_cross_entropy_edit_sets_softmax_like_nn_create():
    nn = nn_create([4, 5, 3])
    with pytest.warns(UserWarning, match="also sets nn.output_function = 'softmax'"):
        nn.objective_function = "Cross Entropy"
    assert nn.output_function == "softmax"
    with pytest.raises(ValueError, match="needs the 'softmax' output"):
        nn.output_function = "sigmoid"
    with pytest.raises(ValueError, match="at least 2 output units"):
        nn_create([4, 5, 1]).objective_function = "Cross Entropy"


@pytest.mark.parametrize("field,value,error,match", [
    ("size", [4, 6, 3], ValueError, "cannot be changed after nn_create"),
    ("depth", 4, ValueError, "cannot be changed after nn_create"),
    ("seed", 3, ValueError, "applies at nn_create"),
    ("W", None, TypeError, "one array per layer"),
    ("W", [np.zeros((5, 4))], ValueError, "one array per layer \\(2\\)"),
    ("learningrate", 0.1, ValueError, "did you mean nn.learning_rate"),
    ("optimization_method", "adamw", ValueError, "did you mean 'Adam'"),
    ("learning_rate", -1, ValueError, "learning rate"),
    ("batch_normalization", 2, ValueError, "0 or 1"),
    ("AdamTime", -1, ValueError, "non-negative integer"),
    ("vecNum", float("nan"), ValueError, r"nn.vecNum must be in \[0"),
    ("encoder", 3, ValueError, "0 or 1"),
    ("cost", "abc", TypeError, "vector of numbers"),
    ("history", [1, 2], TypeError, "DataFrame"),
])
def test_bad_field_edits_are_refused_clearly(field, value, error, match):
    nn = nn_create([4, 5, 3], "optimization method", "Adam")
    with pytest.raises(error, match=match):
        setattr(nn, field, value)


def test_new_fields_work_like_matlab_and_survive_copies():
    nn = nn_create([4, 5, 3])
    nn.note = "my run"
    nn["input_scale"] = np.ones(4)
    twin = pickle.loads(pickle.dumps(nn_train(nn, OPTION, X, Y)))
    assert twin.note == "my run" and np.array_equal(twin.input_scale, np.ones(4))
    twin.input_scale[0] = 5
    assert nn.input_scale[0] == 1
    del nn.note
    assert "note" not in nn
    with pytest.raises(KeyError, match="cannot be removed"):
        del nn["learning_rate"]
    with pytest.raises(AttributeError, match="internal"):
        nn._params = np.zeros(3)
    with pytest.raises(ValueError, match="internal"):
        nn["_params"] = np.zeros(3)


# ----------------------------------------------------------------------------- assignments
@pytest.mark.parametrize("value,match", [
    (lambda W: W.T, r"nonconformant.*\(4, 5\).*\(5, 4\) \(transposed\?\)"),
    (lambda W: W.ravel(), r"nonconformant.*\(20,\).*\(5, 4\)"),
    (lambda W: np.full_like(W, np.nan), "NaN or inf"),
    (lambda W: W.astype(complex), "real numeric"),
    (lambda W: "W", "numeric array"),
])
def test_layer_assignments_are_checked(value, match):
    nn = nn_create([4, 5, 3], seed=0)
    before = nn.W[0].copy()
    with pytest.raises((ValueError, TypeError), match=match):
        nn.W[0] = value(nn.W[0])
    np.testing.assert_array_equal(nn.W[0], before)


def test_layer_assignments_copy_into_the_buffers():
    nn = nn_create([4, 5, 3], "batch normalization", 1, seed=0)
    nn.W[1] = np.ones((3, 5))
    nn.b[0] = np.arange(5.0)  # a vector for a column is unambiguous
    nn.Gamma[0] = 2.0
    nn.W[0] *= 2  # in place, then assigned back
    assert np.all(nn._buf.params[nn._buf.layout[4, 2]:][:15] == 1.0)
    np.testing.assert_array_equal(nn.b[0].ravel(), np.arange(5.0))
    assert nn.Gamma[0].item() == 2.0
    nn.W = [np.zeros((5, 4)), np.zeros((3, 5))]  # MATLAB nn.W = {...}
    assert not np.any(nn_predict(nn, X) != nn_predict(nn, X[:1])[0])  # zero weights: same output everywhere
    with pytest.raises(TypeError, match="length cannot change"):
        nn.W.append(np.zeros((3, 5)))


# ----------------------------------------------------------------------------- labels and inputs
def test_label_checks():
    nn = nn_create([4, 5, 3], "objective function", "Cross Entropy", seed=0)
    with pytest.raises(ValueError, match="row 0 of test_y has no single largest entry"):
        nn_test(nn, X, np.zeros((M, 3)))
    with pytest.raises(ValueError, match="one column"):
        nn_test(nn_create([4, 5, 1]), X, np.ones((M, 1)))
    with pytest.raises(ValueError, match="targets in \\[0, 1\\]"):
        nn_train(nn, OPTION, X, -Y)
    with pytest.raises(ValueError, match="sums to 0.5"):
        nn_train(nn, OPTION, X, Y / 2)
    with pytest.raises(ValueError, match="nntoolbox.one_hot\\(train_y, 3\\)"):
        nn_train(nn, OPTION, X, Y.argmax(axis=1))
    soft = 0.9 * Y + 0.1 / 3  # label smoothing: rows still sum to 1
    assert np.isfinite(nn_train(nn, OPTION, X, soft).cost).all()
    np.testing.assert_array_equal(one_hot([0, 2, 1], 3), np.eye(3)[[0, 2, 1]])


def test_zero_rows_and_one_sample_batch_norm():
    nn = nn_create([4, 5, 3], "batch normalization", 1, seed=0)
    assert nn_predict(nn, X[:0]).shape == (0, 3)
    with pytest.raises(ValueError, match="test_x has no rows"):
        nn_test(nn, X[:0], Y[:0])
    with pytest.raises(ValueError, match="at least 2 samples per batch"):
        nn_forward(nn, X[:1], Y[:1])
    assert np.all(np.isfinite(nn.S[0]))


def test_sparse_autoencoder_needs_sigmoid_hidden_units():
    for act in ("tanh", "relu"):
        with pytest.raises(ValueError, match="KL penalty needs hidden activations in \\(0, 1\\)"):
            sae_train(sae_create([4, 3], "active function", act), {"batch_size": 10}, X)


def test_sparse_inputs_get_a_clear_message():
    scipy_sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match="scipy sparse matrix.*toarray"):
        nn_predict(nn_create([4, 5, 3]), scipy_sparse.csr_matrix(X))


def test_float32_cross_entropy_log_floor_agrees_between_engines():
    nn = nn_create([4, 5, 3], "objective function", "Cross Entropy", dtype="float32", seed=0)
    nn.W[1] = np.full((3, 5), 40.0) * np.array([[1], [-1], [-1]])  # softmax outputs of classes 1, 2 underflow to 0
    y = np.eye(3)[np.full(10, 1)]
    cost = forward_train(nn.copy(), X[:10].astype(np.float32), y.astype(np.float32))
    assert np.isfinite(cost) and cost > 100
    order = np.stack([np.arange(10)])
    a = nn_train(nn, {"batch_size": 10, "order": order}, X[:10], y)
    b = nn_train(nn, {"batch_size": 10, "order": order, "engine": "stepwise"}, X[:10], y)
    assert not a.diverged and not b.diverged
    np.testing.assert_allclose(a.cost, b.cost, rtol=1e-5)


# ----------------------------------------------------------------------------- engines agree
CONFIGS = [
    dict(active_function=a, objective_function=o, batch_normalization=bn, bn_mode=mode, optimization_method=opt)
    for a in ("sigmoid", "tanh", "relu")
    for o in ("MSE", "Cross Entropy")
    for bn, mode in ((0, "course"), (1, "course"), (1, "standard"))
    for opt in ("normal", "Momentum", "AdaGrad", "RMSProp", "Adam")
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_engines_agree_on_every_configuration(config, dtype):
    # state_init='zeros': the course's sGamma = 1 (quirk 7) sends Gamma to ~100 in a few Adam steps, where
    # float32 rounding is amplified into large differences between any two summation orders
    nn = nn_create([4, 6, 5, 3], **config, learning_rate=0.05, dtype=dtype, seed=4, state_init="zeros",
                   weight_decay=0.001, dropout="inverted", keep_probability=0.9)
    option = {"batch_size": 10, "iteration": 3, "order": ORDER}
    fused = nn_train(nn, option, X, Y)
    step = nn_train(nn, {**option, "engine": "stepwise"}, X, Y)
    # float32: the engines sum in different orders (BLAS vs loops); adaptive steps (AdaGrad, Adam) on
    # gradients that standard BN makes ~0 turn that rounding into differences of up to ~1e-4 in 18 steps
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == "float64" else dict(rtol=2e-3, atol=5e-4)
    np.testing.assert_allclose(fused._buf.params, step._buf.params, **tol)
    np.testing.assert_allclose(fused.cost, step.cost, **tol)
    np.testing.assert_allclose(nn_predict(fused, X), nn_predict(step, X, engine="numpy"), **tol)


# ----------------------------------------------------------------------------- registered optimizers
def test_switching_optimizer_takes_the_new_methods_defaults_unless_chosen():
    nn = nn_create([4, 5, 3])
    assert nn.momentum == 0.1  # the course's Momentum rho
    nn.optimization_method = "Nesterov"
    assert nn.momentum == 0.9 and "vW" in nn
    nn.optimization_method = "RMSProp_Nesterov"
    assert (nn.momentum, nn.rho, nn.delta) == (0.9, 0.9, 1e-6)
    nn.rho = 0.8  # chosen by the user: kept across switches
    nn.optimization_method = "RMSProp"
    assert nn.rho == 0.8
    chosen = nn_create([4, 5, 3], momentum=0.5)
    chosen.optimization_method = "Nesterov"
    assert chosen.momentum == 0.5
    with pytest.raises(ValueError, match="rho"):
        nn.rho = 2


def test_a_user_optimizers_state_and_counter_are_saved(tmp_path):
    import numba

    from nntoolbox import register_optimizer

    @numba.njit(cache=True)
    def counted_sgd(p, g, state, hyper, t):
        for i in range(p.shape[0]):
            state[0, i] = t
            p[i] -= hyper[0] * g[i]

    if "CountedSGD" not in nt_optimizers():
        register_optimizer("CountedSGD", counted_sgd, slots=("q",), hyper={"gain": 2.0}, time="update")
    nn = nn_train(nn_create([4, 5, 3], "optimization method", "CountedSGD", "gain", 3.0, seed=0), OPTION, X, Y)
    assert nn.CountedSGDTime == 18 and np.all(nn.qW[0] == 18)
    for ext in ("npz", "mat"):
        back = nn_load(nn_save(nn, tmp_path / f"net.{ext}"))
        assert back.CountedSGDTime == 18 and back.gain == 3.0
        np.testing.assert_array_equal(back.qW[0], nn.qW[0])


def nt_optimizers():
    from nntoolbox.optimizers import OPTIMIZERS
    return OPTIMIZERS


@pytest.mark.parametrize("engine", ["fused", "stepwise"])
def test_training_refuses_to_start_from_non_finite_parameters(engine):
    """Each engine's epoch refuses NaN/inf parameters before it changes anything (the fused kernel checks
    them itself, then the message names the field)."""
    nn = nn_create([4, 5, 3], "learning rate", 1e300, "weight decay", 1e300, seed=0)
    with np.errstate(all="ignore"):
        nn = nn_applygradient(nn_backpropagation(nn_forward(nn, X[:10], Y[:10]), Y[:10]))  # overflows, as MATLAB
    assert not np.all(np.isfinite(nn._buf.params))
    before = nn._buf.params.copy()
    with pytest.raises(ValueError, match=r"nn.W\[0\] contains NaN or inf: training cannot start"):
        nn_train(nn, {**OPTION, "engine": engine}, X, Y)
    np.testing.assert_array_equal(nn._buf.params, before)
    nn.b[1][0, 0] = np.inf
    nn.W = [np.ones_like(w) for w in nn.W]
    with pytest.raises(ValueError, match=r"nn.b\[1\] contains NaN or inf"):
        nn_train(nn, {**OPTION, "engine": engine}, X, Y)


@pytest.mark.parametrize("engine", ["fused", "stepwise"])
def test_both_engines_count_an_overflowing_square_as_divergence(engine):
    """Finite parameters whose squares overflow float64 (the engines' common test of an epoch: the sum of
    the squares of its costs and of the parameters after it) stop the run as NaN would."""
    nn = nn_create([4, 5, 3], "learning rate", 1e-300, seed=0)  # (the weights hardly move)
    nn.W[1][0, 0] = 1e160
    with pytest.warns(RuntimeWarning, match="cost became NaN/inf in epoch 1"), np.errstate(over="ignore"):
        out = nn_train(nn, {**OPTION, "engine": engine}, X, Y)  # (numpy's L2 term overflows: stepwise)
    assert out.diverged and np.array_equal(out._buf.params, nn._buf.params)


# ----------------------------------------------------------------------------- issue 21: aliasing assignments
@pytest.mark.parametrize("how", ["slice", "tuple", "cell", "grads"])
def test_swapping_layers_through_their_own_views_swaps(how):
    nn = nn_create([4, 4, 4], "batch normalization", 1, seed=0)
    w0, w1 = nn.W[0].copy(), nn.W[1].copy()
    held = nn.W  # a LayerList taken before the swap keeps working
    if how == "slice":
        nn.W[0:2] = [nn.W[1], nn.W[0]]
    elif how == "tuple":
        nn.W[0], nn.W[1] = nn.W[1], nn.W[0]
    elif how == "cell":
        nn.W = [nn.W[1], nn.W[0]]
    else:  # another buffer: gradients
        nn.W_grad[0][...], nn.W_grad[1][...] = 1.0, 2.0
        nn.W_grad[0], nn.W_grad[1] = nn.W_grad[1], nn.W_grad[0]
        assert np.all(nn.W_grad[0] == 2) and np.all(nn.W_grad[1] == 1)
        return
    np.testing.assert_array_equal(nn.W[0], w1)
    np.testing.assert_array_equal(nn.W[1], w0)
    held[0][0, 0] = 7.0
    assert nn.W[0][0, 0] == 7.0 and nn._buf.params[0] == 7.0
    assert nn_predict(nn, X).shape == (M, 4)


def test_sparse_training_data_gets_the_same_clear_message():
    scipy_sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match="train_x is a scipy sparse matrix.*toarray"):
        nn_train(nn_create([4, 5, 3]), OPTION, scipy_sparse.csr_matrix(X), Y)
    with pytest.raises(TypeError, match="train_y is a scipy sparse matrix.*toarray"):
        nn_train(nn_create([4, 5, 3]), OPTION, X, scipy_sparse.csr_matrix(Y))


def test_the_buffers_refuse_a_network_whose_optimizer_changed_behind_their_back():
    """The layout signature names the optimizer (a name is registered once): a method stored without the
    edit that rebuilds the buffers is refused at the next kernel entry, as when it held the state slots."""
    nn = nn_create([4, 3, 3], "optimization method", "Momentum")
    nn._fields["optimization_method"] = "RMSProp"  # same number of slots, other optimizer: still refused
    nn._memo = {}
    with pytest.raises(RuntimeError, match="do not match its fields"):
        nn.checked_buffers()


def test_unpickling_checks_the_slots_and_reads_the_older_signature():
    nn = nn_create([4, 3, 3], "optimization method", "Adam")
    state_ = nn.__getstate__()
    layout, params, grads, st, stats, slots, sig = state_["buf"]
    old = {**state_, "buf": (layout, params, grads, st, stats, slots, (*sig[:3], slots, sig[4]))}  # pre-name pickle
    back = type(nn).__new__(type(nn))
    back.__setstate__(old)
    assert back.checked_buffers().signature == sig
    other = {**state_, "buf": (layout, params, grads, st[:1], stats, ("s",), sig)}  # saved with other slots
    with pytest.raises(ValueError, match="state slots"):
        type(nn).__new__(type(nn)).__setstate__(other)

"""Issue 23's fast path: repeated nn_train / nn_test calls check the same data once per array CONTENT
(nntoolbox.datacache); an array edited in place, a view of other rows or another dtype is checked again,
and the batch-order generator a run leaves behind is taken over only by a call continuing from it."""
from __future__ import annotations

import numpy as np
import pytest

import nntoolbox.datacache as datacache
import nntoolbox.engines as engines
import nntoolbox.train as train
from nntoolbox import nn_create, nn_predict, nn_test, nn_train
from nntoolbox.checks import check_test_data, check_training_data
from nntoolbox.preprocessing import fit_input_normalization

RNG = np.random.default_rng(5)
M = 80
OPT = {"batch_size": 20, "iteration": 1}


def net(sizes=(4, 6, 3), objective="Cross Entropy", **kw):
    return nn_create(list(sizes), "active function", "relu", "batch normalization", 1, "optimization method", "Adam",
                     "objective function", objective, seed=2, **kw)


def data(dtype=np.float64):
    return RNG.random((M, 4)).astype(dtype), np.eye(3)[RNG.integers(3, size=M)].astype(dtype)


@pytest.fixture(autouse=True)
def empty_cache():
    datacache.forget()
    yield
    datacache.forget()


def counting(monkeypatch) -> list:
    """Calls of the real checks behind the cache (check_xy), in a list."""
    calls, real = [], datacache.remembered

    def remembered(nn, check, arrays, run):
        return real(nn, check, arrays, lambda: calls.append(check) or run())
    monkeypatch.setattr(datacache, "remembered", remembered)
    monkeypatch.setattr("nntoolbox.checks.remembered", remembered)
    return calls


def test_same_arrays_are_checked_once(monkeypatch):
    calls = counting(monkeypatch)
    x, y = data()
    nn = net()
    for _ in range(3):
        nn = nn_train(nn, OPT, x, y)
        nn_test(nn, x, y)
    assert calls == ["training", "test"]


@pytest.mark.parametrize("target", ["x", "y"])
def test_an_array_edited_in_place_is_checked_again(target):
    x, y = data()
    nn = nn_train(net(), OPT, x, y)
    if target == "x":
        x[7, 2] = np.nan
        message = "train_x contains NaN"
    else:
        y[7] = [0, 0.5, 0.6]  # not a class distribution: cross entropy refuses it
        message = "row 7 of train_y sums to 1.1"
    with pytest.raises(ValueError, match=message):
        nn_train(nn, OPT, x, y)


def test_nn_test_sees_an_edited_target_row():
    x, y = data()
    nn = net()
    assert nn_test(nn, x, y)[1] >= 0
    y[3] = [0.5, 0.5, 0]  # a tie: no single class
    with pytest.raises(ValueError, match="row 3 of test_y has no single largest entry"):
        nn_test(nn, x, y)
    y[3] = [0, 0, 1]
    wrongs, acc, _ = nn_test(nn, x, y)
    labels = np.argmax(y, axis=1)
    np.testing.assert_array_equal(wrongs, np.flatnonzero(np.argmax(nn_predict(nn, x), axis=1) != labels))


def test_views_are_checked_by_their_own_rows():
    x, y = data()
    nn = net()
    nn_train(nn, OPT, x, y)
    head_x, head_y = x[:40], y[:40]  # C-contiguous views: their own content
    nn_train(nn, OPT, head_x, head_y)
    x[50, 0] = np.inf  # outside the view: the view's rows are still fine
    nn_train(nn, OPT, head_x, head_y)
    with pytest.raises(ValueError, match="row 50"):
        nn_train(nn, OPT, x, y)
    x[10, 1] = np.nan  # inside the view, through its base
    with pytest.raises(ValueError, match="train_x contains NaN"):
        nn_train(nn, OPT, head_x, head_y)


def test_strided_views_are_checked_every_call(monkeypatch):
    calls = counting(monkeypatch)
    x, y = data()
    wide = np.repeat(x, 2, axis=1)[:, ::2]  # not C-contiguous: no content key
    nn = net()
    for _ in range(2):
        nn = nn_train(nn, OPT, wide, y)
    assert calls == ["training", "training"]
    wide[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        nn_train(nn, OPT, wide, y)


def test_another_dtype_keeps_the_cast_copy_and_checks_it_too():
    x32, y32 = data(np.float32)
    nn = net()  # float64: the float32 rows are cast
    first = check_training_data(nn, x32, y32, "x", "y")
    again = check_training_data(nn, x32, y32, "x", "y")
    assert again[0] is first[0] and again[0].dtype == np.float64  # the kept cast, not a new one
    np.testing.assert_array_equal(again[0], x32)
    first[0][0, 0] = np.nan  # the kept copy edited (say through a network's a[0]): checked again
    third = check_training_data(nn, x32, y32, "x", "y")
    assert third[0] is not first[0] and np.isfinite(third[0]).all()
    x64 = x32.astype(np.float64)  # the same numbers in another dtype: its own entry
    assert check_training_data(nn, x64, y32, "x", "y")[0] is x64
    x32[1, 1] = np.inf
    with pytest.raises(ValueError, match="x contains NaN or inf"):
        check_training_data(nn, x32, y32, "x", "y")


def test_the_network_settings_are_part_of_the_key():
    x, y = data()
    odd = y.copy()
    odd[0] = [0.2, 0.2, 0.2]  # fine for MSE, refused by cross entropy
    check_training_data(net(objective="MSE"), x, odd, "x", "y")
    with pytest.raises(ValueError, match="row 0 of y sums to 0.6"):
        check_training_data(net(), x, odd, "x", "y")
    assert check_training_data(net(), x, y, "x", "y")[0].dtype == np.float64
    assert check_training_data(net(dtype="float32"), x, y, "x", "y")[0].dtype == np.float32
    three = x[:, :3].copy()
    check_test_data(net((3, 6, 3)), three, y, "x", "y")
    with pytest.raises(ValueError, match="x has 3 columns but the network has 4 inputs"):
        check_test_data(net(), three, y, "x", "y")


def test_input_normalisation_is_applied_every_call():
    x, y = data()
    nn = fit_input_normalization(net(), x)
    a = check_training_data(nn, x, y, "x", "y")[0]
    nn.input_mean[0, 0] += 1  # a field edited in place: the normalised rows change
    b = check_training_data(nn, x, y, "x", "y")[0]
    np.testing.assert_allclose(a[:, 0] - b[:, 0], 1 / nn.input_std[0, 0])


def test_results_equal_the_checked_path():
    x, y = data()
    nn = net()
    a = nn_train(nn, OPT, x, y)
    b = nn_train(nn, OPT, x.copy(), y.copy())  # a fresh entry: checked again
    c = nn_train(nn, OPT, x, y)  # from the cache
    for other in (b, c):
        np.testing.assert_array_equal(a._buf.params, other._buf.params)
    assert nn_test(a, x, y)[1] == nn_test(a, x.copy(), y.copy())[1]


def test_the_kept_generator_serves_only_the_network_that_continues():
    x, y = data()
    one = nn_train(net(), OPT, x, y)
    a = nn_train(one, OPT, x, y)  # takes the generator one's run left
    b = nn_train(one, OPT, x, y)  # one's state again: a generator rebuilt from it, same batch order
    np.testing.assert_array_equal(a._buf.params, b._buf.params)
    loop = net()
    for _ in range(3):
        loop = nn_train(loop, OPT, x, y)
    whole = nn_train(net(), {**OPT, "iteration": 3}, x, y)
    np.testing.assert_array_equal(loop._buf.params, whole._buf.params)
    assert loop._rng_state == whole._rng_state


def test_an_interrupted_run_leaves_its_generator_at_the_rolled_back_stream(monkeypatch):
    """Ctrl-C in the second epoch: the generator has drawn that epoch's order, the network rolls back to
    the first epoch's state; a later call takes the generator moved back to that state."""
    x, y = data()
    one = nn_train(net(), OPT, x, y)
    real, calls = engines.fused_epoch, []

    def epoch(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args)
    monkeypatch.setattr(engines, "fused_epoch", epoch)
    with pytest.warns(train.TrainingStopped):
        stopped = nn_train(one, {**OPT, "iteration": 3}, x, y)
    monkeypatch.setattr(engines, "fused_epoch", real)
    assert stopped.interrupted and len(stopped.history) == 2
    a = nn_train(stopped, OPT, x, y)
    b = nn_train(stopped, OPT, x, y)
    np.testing.assert_array_equal(a._buf.params, b._buf.params)


def test_a_run_keeping_its_best_epoch_leaves_the_generator_at_that_epochs_stream():
    x, y = data()
    vx, vy = data()
    best = nn_train(net(), {**OPT, "iteration": 6, "validation": (vx, vy)}, x, y)
    for epochs in range(6, 30):  # a run whose best epoch is not its last
        if best.best_epoch < len(best.history):
            break
        best = nn_train(net(learning_rate=0.3), {**OPT, "iteration": epochs, "validation": (vx, vy)}, x, y)
    assert best.best_epoch < len(best.history)
    a = nn_train(best, OPT, x, y)  # takes the generator, moved back to the best epoch's stream
    b = nn_train(best, OPT, x, y)  # a generator rebuilt from that stream
    np.testing.assert_array_equal(a._buf.params, b._buf.params)
    assert a._rng_state == b._rng_state


def test_validation_rows_edited_in_place_are_checked_again(monkeypatch):
    calls = counting(monkeypatch)
    x, y = data()
    vx, vy = data()
    option = {**OPT, "iteration": 2, "validation": (vx, vy)}
    nn = nn_train(net(), option, x, y)
    nn = nn_train(nn, option, x, y)
    assert calls == ["training", "validation"] and "val_accuracy" in nn.history
    vy[4] = [0.5, 0.5, 0]
    with pytest.raises(ValueError, match="row 4 of validation y has no single largest entry"):
        nn_train(nn, option, x, y)
    vy[4], vx[2, 2] = [1, 0, 0], np.nan
    with pytest.raises(ValueError, match="validation x contains NaN"):
        nn_train(nn, option, x, y)


def test_regression_validation_keeps_no_labels():
    x, y = data()
    y = y * 0.5 + 0.1  # not one-hot: scored by val_cost under MSE
    mse = net(objective="MSE")
    for _ in range(2):
        h = nn_train(mse, {**OPT, "validation": (x, y)}, x, y).history
        assert "val_accuracy" not in h and np.isfinite(h["val_cost"]).all()

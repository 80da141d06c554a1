"""nn_train's best-on-validation loop (the course's storedNN loop in one call): validation, restore_best,
patience, callback, nn.history, and what happens on Ctrl-C and divergence."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nntoolbox import TrainOptions, nn_create, nn_test, nn_train, one_hot, sae_create, sae_train

RNG = np.random.default_rng(3)
X = RNG.standard_normal((200, 4))
LABELS = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
Y = one_hot(LABELS, 3)
XT, YT, XV, YV = X[:150], Y[:150], X[150:], Y[150:]
ORDERS = np.stack([RNG.permutation(150) for _ in range(12)])


def net(**kw):
    return nn_create([4, 8, 3], "objective function", "Cross Entropy", "optimization method", "Adam",
                     "learning rate", 0.05, seed=1, **kw)


def option(n, **kw):
    return {"batch_size": 30, "iteration": n, "order": ORDERS[:n], **kw}


def test_validation_history_and_best_network():
    best = nn_train(net(), option(12, validation=(XV, YV)), XT, YT)
    h = best.history
    assert isinstance(h, pd.DataFrame)
    assert list(h.columns) == ["epoch", "cost", "val_cost", "val_accuracy", "seconds"]
    assert h.epoch.tolist() == list(range(1, 13))
    k = best.best_epoch
    assert h.val_accuracy[k - 1] == h.val_accuracy.max() and (h.val_accuracy[:k - 1] < h.val_accuracy.max()).all()
    same = nn_train(net(), option(k), XT, YT)  # the network after exactly best_epoch epochs
    np.testing.assert_array_equal(best._buf.params, same._buf.params)
    assert nn_test(best, XV, YV)[1] == h.val_accuracy.max()
    assert len(best.cost) == 12 * 5  # the record of the whole run
    as_dataclass = nn_train(net(), TrainOptions(**option(12, validation=(XV, YV))), XT, YT)
    assert as_dataclass.best_epoch == k  # a TrainOptions is checked and defaulted like a dict
    last = nn_train(net(), option(12, validation=(XV, YV), restore_best=False), XT, YT)
    np.testing.assert_array_equal(last._buf.params, nn_train(net(), option(12), XT, YT)._buf.params)


def test_history_continues_across_calls_and_has_no_validation_columns_without_it():
    nn = nn_train(net(), option(2), XT, YT)
    assert list(nn.history.columns) == ["epoch", "cost", "seconds"]
    nn = nn_train(nn, {"batch_size": 30, "iteration": 2, "validation": (XV, YV)}, XT, YT)
    assert nn.history.epoch.tolist() == [1, 2, 3, 4]
    assert np.isnan(nn.history.val_accuracy[:2]).all() and np.isfinite(nn.history.val_accuracy[2:]).all()


def test_patience_stops_after_epochs_without_improvement():
    best = nn_train(net(), option(12, validation=(XV, YV), patience=2), XT, YT)
    acc = best.history.val_accuracy.to_numpy()
    assert len(acc) < 12, "patience never triggered: choose data where it does"
    # stopped after two epochs that did not beat the best one, which is the network returned
    assert best.best_epoch == len(acc) - 2 and acc[-3] > acc[:-3].max(initial=0) and (acc[-2:] <= acc[-3]).all()


def test_callback_sees_a_copy_and_can_stop_or_change_the_network():
    seen = []

    def callback(epoch, nn):
        seen.append((epoch, nn.learning_rate, len(nn.history)))
        nn.W[0][...] = 0.0  # a copy: training goes on with its own network
        if epoch == 2:
            nn.learning_rate = 0.01
            return nn  # continue from this network (a learning-rate schedule)
        return False if epoch == 4 else None

    out = nn_train(net(), option(8, callback=callback), XT, YT)
    assert [s[0] for s in seen] == [1, 2, 3, 4] and [s[2] for s in seen] == [1, 2, 3, 4]
    assert [s[1] for s in seen] == [0.05, 0.05, 0.01, 0.01] and out.learning_rate == 0.01
    assert len(out.history) == 4
    with pytest.raises(ValueError, match="callback returned a network of size"):
        nn_train(net(), option(2, callback=lambda e, nn: nn_create([4, 3])), XT, YT)


def test_ctrl_c_keeps_the_last_complete_epoch():
    def interrupt(epoch, nn):
        if epoch == 3:
            raise KeyboardInterrupt

    with pytest.warns(RuntimeWarning, match="interrupted"):
        out = nn_train(net(), option(6, callback=interrupt), XT, YT)
    assert out.interrupted and not out.diverged and len(out.history) == 2 and len(out.cost) == 10
    np.testing.assert_array_equal(out._buf.params, nn_train(net(), option(2), XT, YT)._buf.params)


def test_divergence_keeps_the_last_good_epoch_and_its_history():
    calls = []

    def blow_up(epoch, nn):
        calls.append(epoch)
        if epoch == 2:
            nn.learning_rate = 1e300
            return nn

    with pytest.warns(RuntimeWarning, match="NaN/inf in epoch 3"):
        out = nn_train(net(), option(5, callback=blow_up), XT, YT)
    assert out.diverged and out.history.epoch.tolist() == [1, 2] and np.isfinite(out._buf.params).all()


def test_autoencoder_validation_uses_the_reconstruction_cost():
    x = RNG.random((120, 6))
    sae = sae_train(sae_create([6, 3], seed=0), {"batch_size": 20, "iteration": 4, "validation": (x[:20], x[:20])},
                    x[20:])
    assert "val_accuracy" not in sae.history and sae.best_epoch == int(sae.history.val_cost.idxmin()) + 1


@pytest.mark.parametrize("extra, error, match", [
    ({"patience": 3}, ValueError, "patience needs option.validation"),
    ({"restore_best": True}, ValueError, "restore_best needs option.validation"),
    ({"validation": (XV, YV), "patience": 0}, ValueError, "positive integer"),
    ({"validation": XV}, TypeError, "pair"),
    ({"validation": (XV, YV[:, :2])}, ValueError, "validation y has 2 columns"),
    ({"validation": (XV, np.zeros_like(YV))}, ValueError, "no single largest entry"),
    ({"callback": 3}, TypeError, "callback"),
    ({"rng": "x"}, TypeError, "option.rng"),
])
def test_bad_loop_options(extra, error, match):
    with pytest.raises(error, match=match):
        nn_train(net(), {"batch_size": 30, **extra}, XT, YT)


def test_a_parsed_option_dict_is_reused_only_for_the_same_settings():
    """parse_train_options keeps the result for a dict of plain values (the course's loop passes the same
    one every epoch): the same settings give the same options, and a changed dict, or a value of another
    type that compares equal (True == 1), is parsed (and checked) again."""
    from nntoolbox.train import parse_train_options
    opts = {"batch_size": 30, "iteration": 1}
    first = parse_train_options(opts)
    assert parse_train_options(dict(opts)) is first
    opts["iteration"] = 2
    assert parse_train_options(opts).iteration == 2
    with pytest.raises(TypeError, match="option.iteration"):
        parse_train_options({"batch_size": 30, "iteration": True})
    with pytest.raises(TypeError, match="option.batch_size"):
        parse_train_options({"batch_size": 30.5, "iteration": 1})
    assert parse_train_options({"batch_size": 30.0, "iteration": 1}).batch_size == 30

"""nn_train's record of a run (issue 21 item 13): a second Ctrl-C cannot escape the rollback of the first,
the cost record and history grow in amortised storage that copies never share for appending, and the
memory check counts what a run of ``iteration`` epochs keeps."""
from __future__ import annotations

import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest

from nntoolbox import nn_create, nn_train

TRIES = int(os.environ.get("NNTOOLBOX_SIGINT_TRIES", "8"))
RNG = np.random.default_rng(0)
X = RNG.standard_normal((100, 3))
Y = np.eye(2)[(X[:, 0] > 0).astype(int)]


def net(**kw):
    return nn_create([3, 4, 2], "objective function", "Cross Entropy", seed=0, **kw)


def test_double_ctrl_c_never_escapes_the_rollback():
    """Two SIGINTs a fraction of a millisecond apart, at random moments of training: nn_train always
    returns the network of its last complete epoch, marked interrupted, its record consistent."""
    rng = np.random.default_rng(int(os.environ.get("NNTOOLBOX_SIGINT_SEED", "0")))
    start = net(cost_history="append")
    start.cost = np.zeros(2_000_000)  # a long record: writing it takes milliseconds
    nn_train(start, {"batch_size": 20}, X, Y)  # kernels loaded
    escaped = 0
    for _ in range(TRIES):
        first, gap = rng.uniform(0.05, 0.15), rng.uniform(0.0001, 0.003)

        def send():
            time.sleep(first)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(gap)
            os.kill(os.getpid(), signal.SIGINT)
        sender = threading.Thread(target=send)
        result = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                sender.start()
                result = nn_train(start, {"batch_size": 20, "iteration": 10 ** 7}, X, Y)
                sender.join()  # the second SIGINT may come after nn_train returned: not its to catch
                time.sleep(0.05)
        except KeyboardInterrupt:
            sender.join()
            time.sleep(0.05)
        if result is None:
            escaped += 1
            continue
        assert result.interrupted
        epochs = len(result.history)
        assert result.history["epoch"].tolist() == list(range(1, epochs + 1))
        assert len(result.cost) == 2_000_000 + 5 * epochs
    assert escaped == 0, f"KeyboardInterrupt escaped nn_train in {escaped} of {TRIES} tries"


def test_course_loop_appends_in_amortised_storage():
    """nn_train once per epoch (the course's loop) and nn_forward per batch reallocate their records
    O(log n) times, not once per call."""
    from nntoolbox import nn_forward
    nn, buffers = net(), set()
    for _ in range(300):
        nn = nn_train(nn, {"batch_size": 20}, X, Y)
        buffers.add(id(nn._fields["cost"]._store.data))
        buffers.add(id(nn._hist["seconds"]._store.data))
    assert len(nn.cost) == 1500 and len(nn.history) == 300 and len(buffers) < 30
    assert nn.history["epoch"].dtype == np.int64 and nn.history["epoch"].tolist() == list(range(1, 301))
    stored = set()
    for k in range(200):
        nn = nn_forward(nn, X[:10], Y[:10])
        stored.add(id(nn._fields["cost"]._store.data))
    assert len(nn.cost) == 1700 and len(stored) < 5


@pytest.mark.parametrize("cost_history", ["course", "append"])
def test_copies_never_see_each_others_appends(cost_history):
    base = nn_train(net(cost_history=cost_history), {"batch_size": 20, "iteration": 3}, X, Y)
    cost, history = base.cost, base.history
    twin = base.copy()
    a = nn_train(base, {"batch_size": 20, "iteration": 2, "rng": 1}, X, Y)
    b = nn_train(twin, {"batch_size": 50, "iteration": 1, "rng": 2}, X, Y)  # appends from the same length
    c = nn_train(base, {"batch_size": 20, "iteration": 2, "rng": 1}, X, Y)
    np.testing.assert_array_equal(base.cost, cost)  # the arguments and views taken before are unchanged
    np.testing.assert_array_equal(twin.cost, cost)
    assert base.history.equals(history) and len(twin.history) == 3
    assert len(a.cost) == 25 and len(b.cost) == 17 and len(a.history) == 5 and len(b.history) == 4
    np.testing.assert_array_equal(a.cost, c.cost)
    np.testing.assert_array_equal(a.history.drop(columns="seconds"), c.history.drop(columns="seconds"))
    np.testing.assert_array_equal(b.cost[2:15], cost[2:15])
    assert not b.cost.flags.writeable and not a.cost.flags.writeable
    with pytest.raises(ValueError):
        a.cost[0] = 1.0


def test_course_cost_quirk_is_kept():
    """nn_forward.m's ``nn.cost(size(nn.cost)+1) = c``: entry 2 (index 1) always holds the newest cost."""
    nn = net()
    nn.cost = [5.0, 3.0, 7.0]
    np.testing.assert_array_equal(nn.cost, [5, 3, 7])  # a cost set by hand is read back as set
    out = nn_train(nn, {"batch_size": 20, "iteration": 2}, X, Y)
    plain = nn_train(net(cost_history="append"), {"batch_size": 20, "iteration": 2}, X, Y)
    np.testing.assert_array_equal(out.cost[3:], plain.cost)
    assert out.cost[0] == 5 and out.cost[2] == 7 and out.cost[1] == plain.cost[-1]
    switched = out.copy()
    switched.cost_history = "append"
    later = nn_train(switched, {"batch_size": 20}, X, Y)
    assert later.cost[1] == out.cost[1] and len(later.cost) == 18  # 'append' leaves entry 2 alone


def test_pickle_and_save_keep_the_record(tmp_path):
    import pickle
    from nntoolbox.io import nn_load, nn_save
    nn = nn_train(net(), {"batch_size": 20, "iteration": 4}, X, Y)
    again = pickle.loads(pickle.dumps(nn))
    np.testing.assert_array_equal(again.cost, nn.cost)
    assert again._fields["cost"].nbytes == nn.cost.nbytes  # without the spare room
    assert again.history.equals(nn.history)
    nn_save(nn, tmp_path / "nn.npz")
    np.testing.assert_array_equal(nn_load(tmp_path / "nn.npz").cost, nn.cost)


def test_memory_check_counts_the_record_of_the_epochs_asked(monkeypatch):
    from nntoolbox import memory
    monkeypatch.setenv(memory.ENV_VAR, "1G")
    with pytest.raises(MemoryError, match=r"for 1000000000 epochs \(of which .* GiB for the cost record and "
                       r"history"):
        nn_train(net(), {"batch_size": 20, "iteration": 10 ** 9, "validation": (X, Y), "patience": 5}, X, Y)
    # the same with the default early epochs trains
    assert len(nn_train(net(), {"batch_size": 20, "iteration": 10, "validation": (X, Y), "patience": 5}, X, Y)
               .history) <= 10
    # 10**9 * (5 batches + 5 columns) * 8 bytes * 3
    assert memory.record_bytes(net(), 5, 10 ** 9, 5) == 3 * 8 * 10 * 10 ** 9


def test_network_pickled_with_plain_arrays_still_trains():
    """Pickles made before the records (nn.cost and history columns as arrays) load and train on."""
    from nntoolbox.network import Network
    old = nn_train(net(), {"batch_size": 20, "iteration": 2}, X, Y)
    state = old.__getstate__()
    state["fields"] = {**state["fields"], "cost": np.array(old.cost)}
    state["hist"] = {k: np.array(v) for k, v in state["hist"].items()}
    loaded = Network.__new__(Network)
    loaded.__setstate__(state)
    more = nn_train(loaded, {"batch_size": 20}, X, Y)
    assert len(more.cost) == 15 and more.history["epoch"].tolist() == [1, 2, 3]


def test_threads_appending_to_copies_of_one_network_keep_their_own_records():
    from concurrent.futures import ThreadPoolExecutor
    from nntoolbox.record import Record
    base = Record(np.arange(10.0)).append([10.0])  # room to spare past the mark
    with ThreadPoolExecutor(8) as pool:
        grown = list(pool.map(lambda k: base.append(np.full(1000, float(k))), range(64)))
    for k, r in enumerate(grown):
        np.testing.assert_array_equal(r.array()[11:], k)
        np.testing.assert_array_equal(r.array()[:11], np.arange(11.0))


@pytest.mark.parametrize("stop_at", [2, 4, 5, 7, 10])
def test_records_flushed_during_a_run_roll_back_with_it(monkeypatch, stop_at):
    """Long runs move pending epochs into the records every FLUSH_EPOCHS epochs; a Ctrl-C (or NaN) just
    before or after a flush still keeps exactly the epochs that completed."""
    import nntoolbox.train as train
    monkeypatch.setattr(train, "FLUSH_EPOCHS", 3)
    real = train.Validation.score

    def score(self, nn):
        if score.calls == stop_at - 1:
            raise KeyboardInterrupt
        score.calls += 1
        return real(self, nn)
    score.calls = 0
    monkeypatch.setattr(train.Validation, "score", score)
    option = {"batch_size": 20, "iteration": 12, "validation": (X, Y), "restore_best": False, "rng": 0}
    with pytest.warns(RuntimeWarning, match="interrupted"):
        out = nn_train(net(cost_history="append"), option, X, Y)
    monkeypatch.undo()
    same = nn_train(net(cost_history="append"), {**option, "iteration": stop_at - 1}, X, Y)
    assert out.interrupted and out.history["epoch"].tolist() == list(range(1, stop_at))
    np.testing.assert_array_equal(out.cost, same.cost)
    np.testing.assert_array_equal(out._buf.params, same._buf.params)


def test_pending_epochs_are_bounded(monkeypatch):
    import nntoolbox.train as train
    monkeypatch.setattr(train, "FLUSH_EPOCHS", 3)
    sizes, real = [], train._flush
    monkeypatch.setattr(train, "_flush", lambda nn, costs, rows: sizes.append(len(rows)) or real(nn, costs, rows))
    out = nn_train(net(), {"batch_size": 20, "iteration": 10}, X, Y)
    assert sizes == [3, 3, 3, 1] and len(out.history) == 10 and len(out.cost) == 50

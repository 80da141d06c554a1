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

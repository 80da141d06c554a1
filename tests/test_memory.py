"""Memory estimates: a network or training run that cannot fit is refused up front (nntoolbox.memory)."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from nntoolbox import memory, nn_create, nn_train
from nntoolbox.train import HISTORY_COLUMNS


def test_huge_network_is_refused_before_allocating(monkeypatch):
    monkeypatch.delenv(memory.ENV_VAR, raising=False)
    tracemalloc.start()
    try:
        with pytest.raises(MemoryError, match=r"nn_create\(\[784, 2000000, 10\]\).*needs about 58\.7 GiB.*"
                           "NNTOOLBOX_MEMORY=off"):
            nn_create([784, 2000000, 10])
        assert tracemalloc.get_traced_memory()[1] < 2 ** 20  # nothing big was allocated
    finally:
        tracemalloc.stop()


def test_estimate_counts_buffers_and_optimizer_state():
    sizes = [784, 400, 10]
    params = 784 * 400 + 400 * 10 + 410
    assert memory.network_bytes(sizes, False, 0, 8) == 8 * 2 * params
    assert memory.network_bytes(sizes, True, 2, 4) == 4 * ((params + 2 * 410) * 4 + 2 * 410)
    nn = nn_create(sizes, 'batch normalization', 1, 'optimization method', 'Adam', dtype="float32")
    buf = nn._buf
    actual = sum(a.nbytes for a in (buf.params, buf.grads, buf.state, buf.stats))
    # standard BN keeps Gamma/Beta per unit (the estimate's bound); the course's one per layer
    assert actual <= memory.network_bytes(sizes, True, 2, 4)


@pytest.mark.parametrize("setting, refused", [("1K", True), ("1G", False), ("off", False)])
def test_environment_override(monkeypatch, setting, refused):
    monkeypatch.setattr(memory, "SMALL", 0)  # check even small networks
    monkeypatch.setenv(memory.ENV_VAR, setting)
    if refused:
        with pytest.raises(MemoryError, match=r"only 1\.0 KiB is available"):
            nn_create([40, 30, 2])
    else:
        nn_create([40, 30, 2])


@pytest.mark.parametrize("setting", ["lots", "0", "0G", "0.0001", "no", "false", "-1", "1.5.2G"])
def test_bad_override_names_the_variable(monkeypatch, setting):
    """Only the documented values: 'off' or a size; '0' used to switch the check off silently."""
    monkeypatch.setattr(memory, "SMALL", 0)
    monkeypatch.setenv(memory.ENV_VAR, setting)
    with pytest.raises(ValueError, match=f"NNTOOLBOX_MEMORY='{setting}'.*'off'"):
        nn_create([4, 3, 2])


def test_training_data_counts_in_nn_train(monkeypatch):
    nn = nn_create([50, 5, 2], dtype="float32", seed=0)
    x = np.random.default_rng(0).random((4000, 50))
    y = np.eye(2)[np.arange(4000) % 2]
    monkeypatch.setattr(memory, "SMALL", 0)
    net_only = 4 * memory.network_bytes([50, 5, 2], False, 0, 4) + 6 * 100 * 57 * 4 + \
        memory.record_bytes(nn, 40, 1, len(HISTORY_COLUMNS))
    monkeypatch.setenv(memory.ENV_VAR, str(net_only + 1000))  # room for the network, not the data's cast
    with pytest.raises(MemoryError, match=r"nn_train of a \[50, 5, 2\] network on 4000 samples"):
        nn_train(nn, {"batch_size": 100, "iteration": 1}, x, y)
    monkeypatch.setenv(memory.ENV_VAR, str(net_only + x.size * 5 + y.size * 5))
    nn_train(nn, {"batch_size": 100, "iteration": 1}, x, y)


def test_float32_network_makes_one_cast_copy_of_float64_data():
    rng = np.random.default_rng(0)
    x, y = rng.random((5000, 200)), np.eye(2)[rng.integers(0, 2, 5000)]
    nn = nn_create([200, 8, 2], dtype="float32", seed=0)
    nn_train(nn, {"batch_size": 100, "iteration": 1}, x[:200], y[:200])  # kernels loaded outside the measure
    tracemalloc.start()
    try:
        nn_train(nn, {"batch_size": 100, "iteration": 2}, x, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    cast = x.size * 4 + y.size * 4
    # one float32 copy of x and y, plus np.isfinite's bool mask (a quarter of it) and small change
    assert peak < cast * 1.25 + 2 ** 20, (peak, cast)

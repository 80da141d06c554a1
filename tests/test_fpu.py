"""Float32 kernels flush subnormals for the length of the call and restore the caller's FPU setting."""
import platform

import numpy as np
import pytest

from nntoolbox import nn_create, nn_predict, nn_train
from nntoolbox.kernels import njit
from nntoolbox.kernels.fpu import flush_denormals, restore_fpu

TINY = np.float32(1e-20)  # TINY * TINY = 1e-40: subnormal in float32


@njit
def _square_flushed(x, on):
    y = np.empty_like(x)  # through memory, as the kernels work: ordered against the FPU calls
    old = flush_denormals(on)
    for i in range(x.shape[0]):
        y[i] = x[i] * x[i]
    restore_fpu(old)
    return y[0]


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="MXCSR is x86 only")
def test_flush_sets_and_restores():
    x = np.array([TINY])
    assert _square_flushed(x, 1) == 0.0
    assert _square_flushed(x, 0) > 0.0
    assert TINY * TINY > 0.0  # restored: the caller still has subnormals


def test_float32_training_leaves_the_callers_fpu_alone():
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 4)).astype(np.float32), np.eye(3)[rng.integers(0, 3, 40)]
    nn = nn_create([4, 5, 3], seed=0)
    nn.dtype = "float32"
    nn = nn_train(nn, {"batch_size": 10, "iteration": 2}, x, y)
    assert np.all(np.isfinite(nn_predict(nn, x)))
    assert TINY * TINY > 0.0

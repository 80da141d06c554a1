"""The kernels' views into their work buffers (nntoolbox.kernels.blocks): they read and write the buffer
itself, and a view reaching outside it raises instead of touching memory the buffer does not own."""
from __future__ import annotations

import numba
import numpy as np
import pytest

from nntoolbox.kernels.blocks import block, flat
from nntoolbox.kernels.signatures import call_forward


@numba.njit
def _fill(buf, off, rows, cols):
    b = block(buf, off, rows, cols)
    for j in range(rows):
        for s in range(cols):
            b[j, s] = 100 * j + s
    return b.sum()


@numba.njit
def _flat_sum(buf, off, n):
    return flat(buf, off, n).sum()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_views_are_the_buffer(dtype):
    buf = np.zeros(20, dtype)
    total = _fill(buf, 3, 2, 4)
    assert np.array_equal(buf[3:11].reshape(2, 4), [[0, 1, 2, 3], [100, 101, 102, 103]])
    assert total == buf.sum() and buf[:3].sum() == 0 and buf[11:].sum() == 0
    assert _flat_sum(buf, 3, 8) == buf.sum()
    assert _flat_sum(buf, 20, 0) == 0  # an empty view at the end is inside


@pytest.mark.parametrize("off, rows, cols", [(13, 2, 4), (-1, 2, 4), (0, 3, 7), (0, -1, 4)])
def test_views_outside_the_buffer_raise(off, rows, cols):
    buf = np.zeros(20)
    with pytest.raises(IndexError, match="outside its work buffer"):
        _fill(buf, off, rows, cols)
    with pytest.raises(IndexError, match="outside its work buffer"):
        _flat_sum(buf, off, rows * cols if rows >= 0 else -1)


@numba.njit
def _forward_once(addr, acts, sizes, fns):
    """The forward pass of one sample of a [sizes[0], ..., 1] network through ``call_forward``, as the kernels
    call it (no batch norm, inference): its status."""
    L = sizes.shape[0] - 1
    p = np.zeros(1000)
    lay = np.zeros((L, 4), np.int64)
    aoff = np.zeros(L + 2, np.int64)
    for k in range(L):
        aoff[k + 2] = aoff[k + 1] + sizes[k + 1]
    G = np.zeros((1, sizes[0]))
    tmp = np.zeros(64)
    none = np.empty(0)
    return call_forward(addr, G, acts, np.int64(1), aoff, sizes, lay, p, np.bool_(False), np.int64(0),
                        np.zeros((2, 1)), np.zeros(L, np.int64), np.zeros(3), none, None, none, tmp, fns, None,
                        np.uint64(0), none)


def test_a_failing_forward_pass_returns_zero_and_is_reported(monkeypatch):
    """The forward pass is a cfunc (kernels.fused.forward_kernel): when its body raises, Numba reports the
    exception as unraisable and the cfunc returns 0, its zero-filled return slot, which the kernels turn
    into FAIL_FORWARD; a normal pass returns DONE.  This checks that behaviour of Numba's."""
    from nntoolbox.activations import ACTIVATIONS
    from nntoolbox.engines import _raise_failure
    from nntoolbox.kernels.fused import DONE, FAIL_FORWARD, forward_kernel
    from nntoolbox.kernels.signatures import FN_FORWARD, FN_OUT_F

    addr = forward_kernel("float64", False, False).address
    fns = np.zeros(FN_FORWARD + 1, np.int64)  # every slot of the kernels' fns (FN_FORWARD is the last)
    fns[FN_OUT_F] = ACTIVATIONS["linear"].kernel("float64", "f").address
    sizes = np.array([3, 1])
    assert _forward_once(addr, np.zeros(4), sizes, fns) == DONE
    reported = []
    monkeypatch.setattr("sys.unraisablehook", reported.append)
    assert _forward_once(addr, np.zeros(0), sizes, fns) == 0  # the output block lies outside acts
    assert len(reported) == 1 and "outside its work buffer" in str(reported[0].exc_value)
    with pytest.raises(RuntimeError, match="forward pass failed"):
        _raise_failure(None, FAIL_FORWARD, 0.0, np.dtype(np.float64))


@numba.njit(_nrt=False)
def _fill_unrefcounted(buf, off, rows, cols):
    return _fill(buf, off, rows, cols)


def test_views_work_in_a_kernel_compiled_without_reference_counting():
    """The views are built in place (intrinsics), so a kernel compiled with _nrt=False, as the epoch kernel
    and the forward pass are, makes them too, checked the same way."""
    buf = np.zeros(20)
    assert _fill_unrefcounted(buf, 3, 2, 4) == buf.sum() == 412
    with pytest.raises(IndexError, match="outside its work buffer"):
        _fill_unrefcounted(buf, 13, 2, 4)


def test_the_epoch_kernel_refuses_batches_larger_than_its_work_buffers(monkeypatch):
    """The epoch kernel's work buffers are sized for batches no larger than the first (as nn_train makes
    them); a larger later batch makes a view outside them, which fails (here in the forward pass, whose
    cfunc reports it) instead of writing past them."""
    from nntoolbox import nn_create
    from nntoolbox.engines import fused_epoch
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 3)), np.eye(2)[rng.integers(0, 2, 40)]
    nn = nn_create([3, 4, 2], seed=0)
    costs, finite = fused_epoch(nn, x, y, np.arange(40), np.array([0, 20, 40]))
    assert finite and costs.shape == (2,)
    reported = []
    monkeypatch.setattr("sys.unraisablehook", reported.append)
    with pytest.raises(RuntimeError, match="forward pass failed"):
        fused_epoch(nn, x, y, np.arange(40), np.array([0, 10, 40]))
    assert "outside its work buffer" in str(reported[0].exc_value)


def test_the_inference_kernel_refuses_targets_of_another_shape():
    from nntoolbox import nn_create
    from nntoolbox.engines import inference_score
    x = np.random.default_rng(1).random((10, 3))
    with pytest.raises(ValueError, match="another shape"):
        inference_score(nn_create([3, 2], seed=0), x, np.eye(2)[[0, 1] * 4], True)

"""The kernels' views into their work buffers (nntoolbox.kernels.blocks): they read and write the buffer
itself, and a view reaching outside it raises instead of touching memory the buffer does not own."""
from __future__ import annotations

import numba
import numpy as np
import pytest

from nntoolbox.kernels.blocks import block, flat


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

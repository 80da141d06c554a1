"""The hand-written small-layer kernels of the fused engine (nntoolbox.kernels.small.small_kernels) give
BLAS's numbers: the products W a and W' theta, and the weight gradient theta a', for the shapes their
loops split into (pairs of rows and an odd one, groups of four columns and the rest)."""
from __future__ import annotations

import numba
import numpy as np
import pytest

from nntoolbox.kernels.fused import _small_gradient
from nntoolbox.kernels.small import small_kernels

SHAPES = [(10, 10), (10, 6), (2, 10), (3, 10), (5, 3), (3, 5), (4, 4), (2, 64), (64, 2), (7, 1), (1, 9)]


@numba.njit
def _call_mm(mm, W, A, Z, trans):
    mm(W, A, Z, trans)


@numba.njit
def _call_mmt(mmt, T, A, Wg):
    mmt(T, A, Wg)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-4)])
@pytest.mark.parametrize("m", [100, 7])
def test_small_kernels_match_blas(dtype, rtol, m):
    mm, mmt = small_kernels(np.dtype(dtype))
    rng = np.random.default_rng(0)
    for h, w in SHAPES:
        W = rng.standard_normal((h, w)).astype(dtype)
        A = rng.standard_normal((w, m)).astype(dtype)
        T = rng.standard_normal((h, m)).astype(dtype)
        Z = np.full((h, m), np.nan, dtype)
        _call_mm(mm, W, A, Z, False)
        np.testing.assert_allclose(Z, W @ A, rtol=rtol, atol=rtol, err_msg=f"W a, {h} x {w}")
        Z2 = np.full((w, m), np.nan, dtype)
        _call_mm(mm, W, T, Z2, True)
        np.testing.assert_allclose(Z2, W.T @ T, rtol=rtol, atol=rtol, err_msg=f"W' theta, {h} x {w}")
        if _small_gradient(h, w):
            Wg = np.full((h, w), np.nan, dtype)
            _call_mmt(mmt, T, A, Wg)
            np.testing.assert_allclose(Wg, T @ A.T, rtol=rtol, atol=rtol * m, err_msg=f"theta a', {h} x {w}")


def test_single_rows_and_columns_leave_the_gradient_to_blas():
    assert _small_gradient(10, 10) and _small_gradient(2, 64) and _small_gradient(3, 5)
    assert not _small_gradient(1, 9) and not _small_gradient(64, 1) and not _small_gradient(12, 12)

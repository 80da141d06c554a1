"""The kernels' matrix products (nntoolbox.kernels.gemm): np.dot's results for every transpose the kernels
use, both dtypes, edge sizes; mismatched shapes raise instead of letting BLAS read or write past an array."""
from __future__ import annotations

import numba
import numpy as np
import pytest

from nntoolbox.kernels.gemm import gemm


@numba.njit
def _products(A, B, C, D):
    """C = A @ B, then A.T @ A and A @ A.T into two blocks of D."""
    gemm(A, False, B, False, C)
    n = A.shape[1]
    gemm(A, True, A, False, D[:n * n].reshape(n, n))
    m = A.shape[0]
    gemm(A, False, A, True, D[n * n:n * n + m * m].reshape(m, m))


@numba.njit
def _tt(A, B, C):
    gemm(A, True, B, True, C)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("m, k, n", [(10, 10, 100), (2, 10, 100), (10, 6, 100), (1, 1, 1), (3, 0, 4), (7, 5, 1)])
def test_products_are_np_dot(dtype, m, k, n):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    A, B = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    C = np.full((m, n), np.nan, dtype)
    D = np.full(k * k + m * m, np.nan, dtype)
    _products(A, B, C, D)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-13, "atol": 1e-13}
    np.testing.assert_allclose(C, A @ B, **tol)
    np.testing.assert_allclose(D[:k * k].reshape(k, k), A.T @ A, **tol)
    np.testing.assert_allclose(D[k * k:].reshape(m, m), A @ A.T, **tol)
    At, Bt = A.T.copy(), B.T.copy()  # C = At.T @ Bt.T
    C2 = np.full((m, n), np.nan, dtype)
    _tt(At, Bt, C2)
    np.testing.assert_allclose(C2, A @ B, **tol)


@pytest.mark.parametrize("shapes", [((3, 4), (5, 2), (3, 2)), ((3, 4), (4, 2), (3, 3)), ((3, 4), (4, 2), (2, 2))])
def test_mismatched_shapes_raise(shapes):
    A, B, C = (np.zeros(s) for s in shapes)
    with pytest.raises(ValueError, match="mismatched shapes"):
        _products(A, B, C, np.zeros(100))

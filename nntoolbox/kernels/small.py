"""The hand-written small-matrix products of the fused kernels (``small_kernels``): ``Z = W A``,
``Z = W' A`` and the weight gradient ``Wg = T A'`` for layers where a BLAS call costs more than the
arithmetic (the chess network's 10 x 10), compiled as ``cfunc``s per dtype and passed to the kernels as
first-class functions (see :mod:`.fused`, which decides when they are used)."""
from __future__ import annotations

import functools

import numba
import numpy as np
from numba import types

from . import CACHE, REASSOC, FirstClass, njit


@njit
def _w(W, j, i, trans):
    """Entry (j, i) of W, or of W' when ``trans``."""
    return W[i, j] if trans else W[j, i]


def _small_matmul(W, A, Z, trans):  # compiled as a cfunc per dtype: see small_kernels
    """Z = W A (``trans``: W' A) for a small W, where a BLAS call (packing its operands) costs more
    than the arithmetic.

    Two rows of Z at a time (each element of A loaded once for both), four columns of W per pass over
    them; every entry is summed over W's columns in ascending order with fused multiply-adds, as
    OpenBLAS's kernels do (on the chess layers float64 results matched it bit for bit).  The first
    pass writes Z (``zero +`` keeps that first product fused like the others, in Z's dtype).  W' is
    read through ``trans`` rather than passed as a transposed view: one compiled variant instead of
    one per layout (each costs ~1 s of compiling)."""
    h, m = Z.shape
    w = A.shape[0]
    if w < 4:
        for j in range(h):
            _small_matmul_row(W, A, Z, trans, j)
        return
    w4 = w - w % 4
    zero = Z.dtype.type(0.0)
    for j in range(0, h - 1, 2):
        c0, c1, c2, c3 = _w(W, j, 0, trans), _w(W, j, 1, trans), _w(W, j, 2, trans), _w(W, j, 3, trans)
        d0, d1, d2, d3 = _w(W, j + 1, 0, trans), _w(W, j + 1, 1, trans), _w(W, j + 1, 2, trans), _w(W, j + 1, 3, trans)
        for s in range(m):
            a0, a1, a2, a3 = A[0, s], A[1, s], A[2, s], A[3, s]
            Z[j, s] = zero + c0 * a0 + c1 * a1 + c2 * a2 + c3 * a3
            Z[j + 1, s] = zero + d0 * a0 + d1 * a1 + d2 * a2 + d3 * a3
        for i in range(4, w4, 4):
            c0, c1, c2, c3 = _w(W, j, i, trans), _w(W, j, i + 1, trans), _w(W, j, i + 2, trans), _w(W, j, i + 3, trans)
            d0, d1 = _w(W, j + 1, i, trans), _w(W, j + 1, i + 1, trans)
            d2, d3 = _w(W, j + 1, i + 2, trans), _w(W, j + 1, i + 3, trans)
            for s in range(m):
                a0, a1, a2, a3 = A[i, s], A[i + 1, s], A[i + 2, s], A[i + 3, s]
                Z[j, s] = Z[j, s] + c0 * a0 + c1 * a1 + c2 * a2 + c3 * a3
                Z[j + 1, s] = Z[j + 1, s] + d0 * a0 + d1 * a1 + d2 * a2 + d3 * a3
        for i in range(w4, w):
            c, d = _w(W, j, i, trans), _w(W, j + 1, i, trans)
            for s in range(m):
                Z[j, s] += c * A[i, s]
                Z[j + 1, s] += d * A[i, s]
    if h % 2:
        _small_matmul_row(W, A, Z, trans, h - 1)


@njit(fastmath={"contract"})
def _small_matmul_row(W, A, Z, trans, j):
    """Row j of Z = W A, summed as in :func:`_small_matmul` (its odd last row, and W of < 4 columns)."""
    m = Z.shape[1]
    w = A.shape[0]
    w4 = w - w % 4
    zero = Z.dtype.type(0.0)
    if w4:
        c0, c1, c2, c3 = _w(W, j, 0, trans), _w(W, j, 1, trans), _w(W, j, 2, trans), _w(W, j, 3, trans)
        for s in range(m):
            Z[j, s] = zero + c0 * A[0, s] + c1 * A[1, s] + c2 * A[2, s] + c3 * A[3, s]
    else:
        c = _w(W, j, 0, trans)
        for s in range(m):
            Z[j, s] = c * A[0, s]
    for i in range(4, w4, 4):
        c0, c1, c2, c3 = _w(W, j, i, trans), _w(W, j, i + 1, trans), _w(W, j, i + 2, trans), _w(W, j, i + 3, trans)
        for s in range(m):
            Z[j, s] = Z[j, s] + c0 * A[i, s] + c1 * A[i + 1, s] + c2 * A[i + 2, s] + c3 * A[i + 3, s]
    for i in range(w4 if w4 else 1, w):
        c = _w(W, j, i, trans)
        for s in range(m):
            Z[j, s] += c * A[i, s]


def _small_weight_grad(T, A, Wg):  # compiled as a cfunc per dtype: see small_kernels
    """Wg = T A' for small blocks (``T``: units x m, ``A``: units below x m), where a BLAS call costs
    2-7x the arithmetic (its packing and dispatch).

    Two rows of T by four rows of A per pass: eight sums over the samples at once, each in vector
    partial sums (reassociated, as every sum over a batch here): within a few ulps of BLAS's
    sequential sums (float64 4e-14 relative on the chess layers), not bit for bit."""
    h, m = T.shape
    w = A.shape[0]
    zero = Wg.dtype.type(0.0)
    for j in range(0, h - 1, 2):
        i = 0
        while i + 4 <= w:
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = zero
            for s in range(m):
                t0, t1 = T[j, s], T[j + 1, s]
                a0, a1, a2, a3 = A[i, s], A[i + 1, s], A[i + 2, s], A[i + 3, s]
                s00 += t0 * a0
                s01 += t0 * a1
                s02 += t0 * a2
                s03 += t0 * a3
                s10 += t1 * a0
                s11 += t1 * a1
                s12 += t1 * a2
                s13 += t1 * a3
            Wg[j, i], Wg[j, i + 1], Wg[j, i + 2], Wg[j, i + 3] = s00, s01, s02, s03
            Wg[j + 1, i], Wg[j + 1, i + 1], Wg[j + 1, i + 2], Wg[j + 1, i + 3] = s10, s11, s12, s13
            i += 4
        for i in range(i, w):
            s0 = s1 = zero
            for s in range(m):
                s0 += T[j, s] * A[i, s]
                s1 += T[j + 1, s] * A[i, s]
            Wg[j, i], Wg[j + 1, i] = s0, s1
    if h % 2:
        for i in range(w):
            Wg[h - 1, i] = _dot(T, A, h - 1, i)


@njit(fastmath=REASSOC)
def _dot(x, y, j, i):
    """sum(x[j, :] .* y[i, :]) (reassociated)."""
    t = x[j, 0] * y[i, 0]
    for s in range(1, x.shape[1]):
        t += x[j, s] * y[i, s]
    return t


@functools.cache
def small_kernels(dtype: np.dtype) -> tuple[FirstClass, FirstClass]:
    """:func:`_small_matmul` and :func:`_small_weight_grad` as first-class functions for the kernels (one
    pair per dtype, cached on disk).

    Called through pointers rather than compiled into the epoch kernel: their unrolled loops, inlined
    at each call site, more than doubled the epoch kernel's compile time (a cold start)."""
    a = numba.from_dtype(np.dtype(dtype))[:, ::1]
    return (FirstClass(numba.cfunc(types.void(a, a, a, types.boolean), cache=CACHE, error_model="numpy",
                                   fastmath={"contract"})(_small_matmul)),
            FirstClass(numba.cfunc(types.void(a, a, a), cache=CACHE, error_model="numpy",
                                   fastmath=REASSOC)(_small_weight_grad)))

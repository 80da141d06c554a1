"""Fused training and inference kernels: one Numba call per epoch.

Inside a call every batch is gathered by the batch order, run forward,
backward and through the optimizer without returning to Python.  Modes
(objective, batch norm ...) are integer flags; the optional features (dropout,
a sparse autoencoder's penalty, an optimizer's look-ahead, standard batch
norm) are arguments that are None when unused, so their code is compiled only
for networks that use them (see :func:`_epoch`); the activations and the
optimizer are the registries' ``cfunc`` kernels, passed in as first-class
functions (see :mod:`nntoolbox.optimizers`), so one compiled kernel per dtype
and set of optional features serves every activation, optimizer and objective,
including registered ones: compile once, then ``cache=True`` reloads it in
later processes.

Layout: inside the kernels a batch is ``units x m``, as in the course, so the
innermost loops run over the m samples of a batch (contiguous, vectorised);
the input is gathered as rows (contiguous copies of the data's rows) and read
transposed by BLAS.  Every matrix product is one call of BLAS's gemm
(:mod:`.gemm`, without ``np.dot``'s layout dispatch): on this project's
machines OpenBLAS beat hand-written loops even on the chess network's 10 x 10
layers (an epoch 1.10x -> 0.99x the independent floor's time
in float64, 1.37x -> 1.18x in float32, when they went).  The course's
batch-norm scale c_j = Gamma / (S_j + 1e-4) and the 1/m of the weight gradient
are applied to the h x w products (the gradient's rows, W's rows for the
product going down) rather than to theta (h x m), when those are smaller.
Blocks of the flat work buffers are views without reference counts
(:mod:`.blocks`).
The arithmetic mirrors the numpy step-by-step path (``forward.py``,
``backprop.py``, ``batchnorm.py``) operation by operation; the parity tests
run both paths against the course's reference runs.

This module imports only ``kernels/``: :mod:`nntoolbox.engines` turns a ``Network`` into the kernels'
arguments.  The constants compiled into the kernels (batch-norm epsilons, objective and batch-norm
codes, the log floor) are defined here, so Numba's cache key (this file's source) covers them; the
numpy engine imports them from here.
"""
from __future__ import annotations

import functools
from typing import Any

import numba
import numpy as np

from . import CACHE, INTERNAL, REASSOC, njit
from .blocks import block, flat
from .dropout import keep_unit
from .fpu import flush_denormals, restore_fpu
from .gemm import gemm
from .signatures import (FN_ACT_DF, FN_ACT_F, FN_FORWARD, FN_LOOKAHEAD, FN_OUT_DF, FN_OUT_F, FN_UPDATE,
                         call_df_block, call_f_block, call_forward, call_lookahead, call_update, forward_signature)

# Compiled into the kernels; the numpy engine (batchnorm.py, functions.py) imports them from here.
COURSE_EPS = 1e-4  # added to the std:   (z - E) ./ (S + 1e-4)
STANDARD_EPS = 1e-5  # added to the variance: (z - mu) / sqrt(var + eps)
STANDARD_MOMENTUM = 0.1  # running = (1 - momentum) * running + momentum * batch
LOG_FLOOR = 1e-300  # log() argument floor: log(0) would make the cost -inf/NaN
OBJ_CODES = {"MSE": 0, "Cross Entropy": 1}
BN_CODES = {"off": 0, "course": 1, "standard": 2}

MSE, CE = OBJ_CODES["MSE"], OBJ_CODES["Cross Entropy"]
BN_OFF, BN_COURSE, BN_STANDARD = BN_CODES["off"], BN_CODES["course"], BN_CODES["standard"]
PREDICT_CHUNK = 4096  # rows per inference block: bounds the workspace for large inputs

# integer settings passed to the epoch kernel, in this order
I_OUT_SOFTMAX, I_OBJ, I_BN, I_TIME_PER_UPDATE, I_FLUSH = range(5)
# float settings
F_WD, F_CE = range(2)
# mutable scalars carried across calls: vecNum, the optimizer's step counter (AdamTime), dropout step
S_VECNUM, S_TIME, S_DROPSTEP = range(3)
# which registered function raised (the kernels stop and return it with the input it raised at); then
# an exception inside the forward pass itself (a cfunc, which cannot raise: see forward_kernel); last, an
# epoch that would start from NaN/inf parameters (refused before it changes anything)
FAILED = (None, ("update", None), ("lookahead", None), ("active_function", "f"), ("active_function", "df"),
          ("output_function", "f"), ("output_function", "df"), None, None)
FAIL_UPDATE, FAIL_LOOKAHEAD, FAIL_ACT_F, FAIL_ACT_DF, FAIL_OUT_F, FAIL_OUT_DF, FAIL_FORWARD, FAIL_PARAMS = range(1, 9)
DONE = -1  # what the forward pass returns when it finished


# The reductions take a ``units x m`` block and a row index: a row view (``z[j]``) made inside compiled
# code costs an atomic NRT reference count up and down, more than the arithmetic on the chess network's
# 100-sample rows.
@njit(fastmath=REASSOC, **INTERNAL)
def _sum(x, j):
    """sum(x[j, :]) (reassociated)."""
    t = x[j, 0]
    for s in range(1, x.shape[1]):
        t += x[j, s]
    return t


@njit(fastmath=REASSOC, **INTERNAL)
def _dot_sum(x, y, j):
    """(sum(x[j, :] .* y[j, :]), sum(x[j, :])) in one pass (reassociated)."""
    t = x[j, 0] * y[j, 0]
    u = x[j, 0]
    for s in range(1, x.shape[1]):
        t += x[j, s] * y[j, s]
        u += x[j, s]
    return t, u


@njit(fastmath=REASSOC, **INTERNAL)
def _sum_plus(x, j, c):
    """sum(x[j, :] + c) (reassociated; each element rounded as x + c, nothing written)."""
    t = x[j, 0] + c
    for s in range(1, x.shape[1]):
        t += x[j, s] + c
    return t


@njit(fastmath=REASSOC, **INTERNAL)
def _sq_dev_plus(x, j, c, mu):
    """sum(((x[j, :] + c) - mu).^2) (reassociated)."""
    t = ((x[j, 0] + c) - mu) ** 2
    for s in range(1, x.shape[1]):
        t += ((x[j, s] + c) - mu) ** 2
    return t


@njit(inline='always', **INTERNAL)  # one caller: inlined, not a library of its own
def _divide_by_batch(T, W):
    """T /= m (the batch size), in place."""
    # m in the parameters' (W's) dtype: a float32 quotient is the same number as the float64 one rounded
    # (division is correctly rounded), and the loop stays in float32 (vectorised, no conversions)
    h, m_ = T.shape
    m = W.dtype.type(m_)
    for j in range(h):
        for s in range(m_):
            T[j, s] = T[j, s] / m


@njit(inline='always', **INTERNAL)  # one caller: inlined, not a library of its own
def _add_decay(Wg, W, wd):
    if wd != 0.0:  # the L2 term only matters with weight decay
        for j in range(Wg.shape[0]):
            for i in range(Wg.shape[1]):
                Wg[j, i] = Wg[j, i] + wd * W[j, i]


# inlined into its one caller (_forward) in Numba's IR: no library of its own to compile and link again
# (with _bn_backward's, ~0.45 s of a cold start)
@njit(inline='always', **INTERNAL)
def _layer_forward(z, p, lay, k, train, bn, st, so, vecnum, xhat, std, sd, sdo, tmp):
    """z = BN(z + b) for layer k, ``z`` holding the product W a_prev (``units x m`` blocks: the caller
    multiplies, so layer 0 can read its input as rows); returns the updated shared counter vecNum.

    b, Gamma, Beta are read from ``p`` at ``lay[k]``'s offsets, E/S from columns ``so..`` of ``st``;
    training writes xhat and, in standard mode (``std`` not None; None in the course's), the batch
    deviations ``sd[sdo..]``.  The bias is added
    inside the passes that read z (each element rounded as z + b, as a separate addition would), so
    z is written once.  Loops run unit-outer / sample-inner so the inner loop is contiguous; ``tmp``
    is scratch of 4 x units: mean | 1 / denominator | gamma | beta, one entry per unit."""
    h, m = z.shape
    bo, go, beo = lay[k, 1], lay[k, 2], lay[k, 3]
    if bn == BN_OFF:
        for j in range(h):
            bj = p[bo + j]
            for s in range(m):
                z[j, s] = z[j, s] + bj
        return vecnum
    per_unit = bn == BN_STANDARD
    for j in range(h):
        tmp[2 * h + j] = p[go + j] if per_unit else p[go]
        tmp[3 * h + j] = p[beo + j] if per_unit else p[beo]
    if not train:
        for j in range(h):
            tmp[j] = st[0, so + j]
            tmp[h + j] = 1.0 / (np.sqrt(st[1, so + j] ** 2 + STANDARD_EPS) if per_unit else st[1, so + j] + COURSE_EPS)
        for j in range(h):
            bj, mu, iv, g, be = p[bo + j], tmp[j], tmp[h + j], tmp[2 * h + j], tmp[3 * h + j]
            for s in range(m):
                z[j, s] = g * (((z[j, s] + bj) - mu) * iv) + be
        return vecnum
    for j in range(h):
        tmp[j] = _sum_plus(z, j, p[bo + j]) / m  # the batch mean of z + b
        tmp[h + j] = _sq_dev_plus(z, j, p[bo + j], tmp[j])  # first the sum of squared deviations from it
    for j in range(h):
        mu, ss = tmp[j], tmp[h + j]
        if std is None:  # the course's batch norm:
            # running statistics over every batch so far, shared counter (see batchnorm.py)
            var = ss / (m - 1) if m > 1 else 0.0
            st[0, so + j] = (st[0, so + j] * vecnum + mu * m) / (vecnum + m)
            st[1, so + j] = np.sqrt((st[1, so + j] ** 2 * (vecnum - 1) + (m - 1) * var) / (vecnum + m - 1))
            tmp[j], tmp[h + j] = st[0, so + j], 1.0 / (st[1, so + j] + COURSE_EPS)
        else:
            var = ss / m
            unbiased = var * m / (m - 1) if m > 1 else var
            st[0, so + j] = (1 - STANDARD_MOMENTUM) * st[0, so + j] + STANDARD_MOMENTUM * mu
            st[1, so + j] = np.sqrt((1 - STANDARD_MOMENTUM) * st[1, so + j] ** 2 + STANDARD_MOMENTUM * unbiased)
            sd[sdo + j] = np.sqrt(var + STANDARD_EPS)
            tmp[h + j] = 1.0 / sd[sdo + j]
    for j in range(h):
        bj, mu, iv, g, be = p[bo + j], tmp[j], tmp[h + j], tmp[2 * h + j], tmp[3 * h + j]
        for s in range(m):
            x = ((z[j, s] + bj) - mu) * iv
            xhat[j, s] = x
            z[j, s] = g * x + be
    return vecnum + m if std is None else vecnum


@njit(inline='always', **INTERNAL)  # inlined into _epoch, as _layer_forward into _forward
def _bn_backward(theta, xhat, p, g, lay, k, st, so, std, sd, sdo, tmp, q):
    """Gamma/Beta gradients of layer k (to ``g`` at ``lay[k]``'s offsets) and the bias gradient; the
    other arguments as in :func:`_layer_forward` (``std`` None: the course's mode); ``tmp``:
    sum(theta .* xhat) | sum(theta) | scale, one entry per unit.

    Standard mode forms theta below the normalisation in place.  The course's theta below it is
    c_j * theta_j with c_j = Gamma / (S_j + 1e-4) per unit: it is not formed; ``q[j] = c_j`` is
    returned for the caller (:func:`_epoch`) to fold into the products.  Returns whether it did."""
    h, m = theta.shape
    bo, go, beo = lay[k, 1], lay[k, 2], lay[k, 3]
    for j in range(h):
        tmp[j], tmp[h + j] = _dot_sum(theta, xhat, j)
    if std is None:
        gsum = 0.0
        bsum = 0.0
        for j in range(h):
            gsum += tmp[j] / m
            bsum += tmp[h + j] / m
            q[j] = p[go] / (st[1, so + j] + COURSE_EPS)
            g[bo + j] = q[j] * tmp[h + j] / m
        g[go] = gsum
        g[beo] = bsum
        return True
    for j in range(h):
        tmp[j] = tmp[j] / m
        tmp[h + j] = tmp[h + j] / m
        g[go + j] = tmp[j]
        g[beo + j] = tmp[h + j]
        tmp[2 * h + j] = p[go + j] / sd[sdo + j]
    for j in range(h):
        c, bj, gj = tmp[2 * h + j], tmp[h + j], tmp[j]
        for s in range(m):
            theta[j, s] = c * (theta[j, s] - bj - xhat[j, s] * gj)
        g[bo + j] = _sum(theta, j) / m
    return False


@njit(inline='always', **INTERNAL)  # one caller: inlined, not a library of its own
def _scale_rows(T, q):
    """T[j, :] *= q[j], in place."""
    for j in range(T.shape[0]):
        c = q[j]
        for s in range(T.shape[1]):
            T[j, s] = T[j, s] * c


@njit(inline='always', **INTERNAL)  # one caller: inlined, not a library of its own
def _finish_grad(Wg, W, q, scaled, m, wd):
    """Wg = Wg .* q_j / m + wd * W row by row (``scaled``; else Wg / m + wd * W): the weight gradient
    from the product T A' of the unscaled theta."""
    mm = W.dtype.type(m)
    for j in range(Wg.shape[0]):
        c = q[j] / mm if scaled else W.dtype.type(1.0) / mm
        if wd != 0.0:  # the L2 term only matters with weight decay
            for i in range(Wg.shape[1]):
                Wg[j, i] = Wg[j, i] * c + wd * W[j, i]
        else:
            for i in range(Wg.shape[1]):
                Wg[j, i] = Wg[j, i] * c


@njit(**INTERNAL)
def _widest(sizes):
    """The most units of any layer.  (The kernels compare rather than call ``max``/``min`` on integers:
    Numba compiles those once per pair of argument types, literals included, ~0.1 s each when cold.)"""
    w = sizes[0]
    for k in range(1, sizes.shape[0]):
        w = sizes[k] if sizes[k] > w else w
    return w


def _forward(G, acts, m, aoff, sizes, lay, p, train, bn, stats, ioff, scal, xhats, std, sds, tmp, fns, keep,
             seed, raws):
    """The forward pass of a block of m samples, the one both kernels run (compiled as a cfunc: see
    :func:`forward_kernel`): a_{k+1} = f(BN(W a_k + b)) into ``acts`` at ``m * aoff[k + 1]``
    (``units x m``), the input read from ``G`` (``m x units``, rows, read transposed by BLAS).
    Training (``train``) uses batch statistics (xhat into ``xhats``, vecNum in ``scal``; ``std``,
    ``sds`` as in :func:`_layer_forward`) and, with a keep probability ``keep`` (None without dropout:
    that code is then not compiled), dropout (pre-dropout activations into ``raws``); inference the
    stored statistics.  Returns DONE, or the FAIL_* code of an activation that raised (the input it
    raised at in ``tmp[0]``); 0 when the pass itself raised (see :func:`forward_kernel`)."""
    L = sizes.shape[0] - 1
    no, yes = np.bool_(False), np.bool_(True)  # gemm's flags as variables (see gemm)
    for k in range(L):
        h = sizes[k + 1]
        W = block(p, lay[k, 0], h, sizes[k])
        Z = block(acts, m * aoff[k + 1], h, m)
        if k == 0:
            gemm(W, no, G, yes, Z)
        else:
            gemm(W, no, block(acts, m * aoff[k], sizes[k], m), no, Z)
        xhat = block(xhats, m * aoff[k + 1], h, m) if train else Z  # (not written in inference)
        scal[S_VECNUM] = _layer_forward(Z, p, lay, k, train, bn, stats, ioff[k], scal[S_VECNUM], xhat, std,
                                        sds, aoff[k + 1], tmp)
        zflat = flat(acts, m * aoff[k + 1], m * h)
        at = call_f_block(fns[FN_OUT_F] if k == L - 1 else fns[FN_ACT_F], zflat, h)
        if at:
            tmp[0] = zflat[at - 1]
            return FAIL_OUT_F if k == L - 1 else FAIL_ACT_F
        if keep is not None and train and k < L - 1:
            R = block(raws, m * aoff[k + 1], h, m)
            for j in range(h):
                for s in range(m):
                    R[j, s] = Z[j, s]
                    Z[j, s] = Z[j, s] * (1.0 / keep if keep_unit(seed, np.int64(scal[S_DROPSTEP]), k, j * m + s,
                                                                 keep) else 0.0)
    return DONE


@functools.cache
def forward_kernel(dtype: str, dropout: bool, standard: bool) -> Any:
    """:func:`_forward` as a cfunc for ``dtype`` (a name) and the optional features (``keep``, ``std``
    not None), which the epoch and inference kernels call by address (``fns[FN_FORWARD]``).  Numba
    optimises and compiles to machine code again, in every library, each function that library links:
    linked, the forward pass was compiled three times in a cold start (~0.5 s more); by address, once.
    A cfunc cannot raise: when its body raises (a failed internal check, SciPy's BLAS not loaded),
    Numba prints the exception and the cfunc returns 0 (its zero-filled return slot; checked by
    tests/test_blocks.py), which the kernels turn into FAIL_FORWARD for Python to raise.  (A
    ``try`` around the pass instead took ~2.4 s to compile.)  Compiled without reference counting
    (``_nrt=False``; it allocates nothing): its views would each cost a call of NRT_incref/NRT_decref."""
    return numba.cfunc(forward_signature(dtype, dropout, standard), cache=CACHE, error_model="numpy",
                       _nrt=False)(_forward)


# _epoch's work buffers, in this order, in the one array its caller allocates (epoch_workspace)
W_ACTS, W_RAWS, W_XHATS, W_SDS, W_TH, W_TH2, W_RHOHAT, W_TMP, W_Q, W_WCS, W_FWD = range(11)


def epoch_workspace(sizes: Any, mmax: int, n_params: int, look: bool) -> np.ndarray:
    """Where :func:`_epoch`'s work buffers start in one array (``W_*`` order, then its length) for layer
    ``sizes``, batches of at most ``mmax`` rows and ``n_params`` parameters (a copy of them with a
    look-ahead): the activations, pre-dropout activations and xhat of every layer (``units x m``
    blocks), the standard batch norm's deviations, two theta blocks, the sparsity's mean activations,
    four scratch entries and the batch norm's scale per unit, and W with its rows scaled."""
    sizes = [int(s) for s in sizes]
    units, big = sum(sizes), max(sizes)
    wmax = max(a * b for a, b in zip(sizes[1:], sizes[:-1]))
    lengths = [mmax * units] * 3 + [units, mmax * big, mmax * big, sizes[1], 4 * big, big, wmax,
                                    n_params if look else 0]
    return np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)


@njit(inline='always', **INTERNAL)
def _part(work, woff, i):
    """Work buffer ``i`` (a ``W_*`` index) of :func:`_epoch`."""
    return flat(work, woff[i], woff[i + 1] - woff[i])


def inference_workspace(sizes: Any) -> tuple[np.ndarray, int, int]:
    """``(aoff, units, scratch)`` of :func:`_predict`: its work array for blocks of ``rows`` rows holds
    ``rows * units`` activations, then ``scratch`` entries.  Inference keeps no layer but the one it
    reads, so layer k's block (``aoff[k]``, in units of rows) is the first of two for odd k, the second
    for even k (layer 0 is read from X).  (Every layer of the chess network's 1,402 validation rows would
    take 0.6 MB, more than half this machine's L2: the two blocks stay in cache.)"""
    sizes = [int(s) for s in sizes]
    L = len(sizes) - 1
    wodd = max(sizes[1:L + 1:2])
    weven = max(sizes[2:L + 1:2], default=0)
    aoff = np.array([0 if k % 2 else wodd for k in range(L + 2)], np.int64)
    return aoff, wodd + weven, 4 * max(sizes)


@njit(**INTERNAL)
def _data_term(a, y, obj):
    """One output's term of the data cost: (a - y)^2 (MSE) or y log(a) (cross entropy; a zero target
    adds nothing, where y log(a) would add -0.0, unless a is NaN: then NaN).  The kernels pass float64
    whatever the network's dtype, as the numpy engine's ``functions.data_cost`` computes (and one
    compiled variant serves both dtypes)."""
    if obj == MSE:
        return (a - y) ** 2
    if y != 0 or a != a:
        return y * np.log(max(a, LOG_FLOOR))
    return 0.0


@njit(**INTERNAL)
def _data_cost(data, m, obj, ce):
    """The data term of the course's cost from the sum of :func:`_data_term` over ``m`` samples."""
    return 0.5 / m * data if obj == MSE else -ce * data / m


# Compiled without reference counting (``_nrt=False``): its many views (:func:`.blocks.block`) would each
# cost a call of NRT_incref or NRT_decref (7 % of a float32 chess epoch); it allocates nothing (the
# caller passes its work buffers) and keeps no array.
@njit(_nrt=False)
def _epoch(X, Y, perm, bounds, sizes, lay, params, grads, state, stats, ioff, aoff,
           iopt, fopt, scal, costs, seed, hyper, fns, work, woff, keep, sparse, look, std):
    """Train one epoch in place; ``lay[k] = (W, b, Gamma, Beta)`` offsets into the buffers, ``aoff[k]``
    where layer k's block starts in the activation buffers (in units of the batch size), ``work`` the
    work buffers at ``woff`` (:func:`epoch_workspace`; every batch but the last has the first's size).

    ``fns`` holds the addresses of the optimizer's kernels (``update``/``lookahead``) and the
    activations' (``*_f(z, n)``/``*_df(a, t)``): see :mod:`.signatures`.  With a look-ahead the
    forward and backward passes read ``fwd`` (the look-ahead parameters), the update writes ``params``.
    Blocks are ``units x m`` (the course's layout), flat in the work buffers.

    The optional features are arguments that are None when the network does not use them: ``keep``
    (dropout's keep probability), ``sparse`` (a sparse autoencoder's [sparsity, beta]), ``look`` (the
    optimizer has a look-ahead), ``std`` (standard batch norm; else the course's, or none).  Numba
    compiles a variant per combination of their types and drops the code of the absent ones before
    typing it (its branch pruning on ``arg is None``): a run compiles only what it uses.  (Only arguments
    are None, never a local variable: a local that may be None is typed as optional, which the helpers
    do not take.)

    Returns ``(failed, value)``: FAIL_PARAMS (nothing done) when a parameter is NaN/inf; the FAIL_* code
    of a function that raised (the epoch stops there) and, for an activation, the input it raised at; or
    0 and the sum of the squares of the batch costs and the parameters after the epoch, in float64 (not
    finite when one of them is not, or when a square overflows: the caller's divergence test)."""
    for i in range(params.shape[0]):
        if not np.isfinite(params[i]):
            return FAIL_PARAMS, 0.0
    L = sizes.shape[0] - 1
    obj, bn = iopt[I_OBJ], iopt[I_BN]
    wd = fopt[F_WD]
    z0 = np.int64(0)  # offset 0 as a variable: a literal 0 would compile block() and flat() again
    no, yes = np.bool_(False), np.bool_(True)  # gemm's flags, for the same reason
    nin, nout = sizes[0], sizes[L]
    acts, raws, xhats = _part(work, woff, W_ACTS), _part(work, woff, W_RAWS), _part(work, woff, W_XHATS)
    sds, th, th2 = _part(work, woff, W_SDS), _part(work, woff, W_TH), _part(work, woff, W_TH2)
    rhohat, tmp, q = _part(work, woff, W_RHOHAT), _part(work, woff, W_TMP), _part(work, woff, W_Q)
    wcs = _part(work, woff, W_WCS)  # W with its rows scaled by q
    fwd = params if look is None else _part(work, woff, W_FWD)
    fpu = flush_denormals(iopt[I_FLUSH])  # float32: subnormals flushed (see fpu.py)
    failed, value = 0, 0.0
    for bi in range(bounds.shape[0] - 1):
        m = bounds[bi + 1] - bounds[bi]
        if look is not None and call_lookahead(fns[FN_LOOKAHEAD], params, state, hyper, fwd):
            failed = FAIL_LOOKAHEAD
            break
        G = block(acts, z0, m, nin)  # the input block as rows (m x units), read transposed by BLAS
        for s in range(m):
            r = perm[bounds[bi] + s]
            for j in range(nin):
                G[s, j] = X[r, j]
        cost2 = 0.0
        if wd != 0.0:  # the L2 term only matters with weight decay
            for k in range(L):
                for i in range(sizes[k + 1] * sizes[k]):
                    cost2 += fwd[lay[k, 0] + i] ** 2
        status = call_forward(fns[FN_FORWARD], G, acts, m, aoff, sizes, lay, fwd, yes, bn, stats, ioff,
                              scal, xhats, std, sds, tmp, fns, keep, seed, raws)
        if status != DONE:
            failed, value = status if status else FAIL_FORWARD, tmp[0]
            break
        if keep is not None:
            scal[S_DROPSTEP] += 1
        AL = block(acts, m * aoff[L], nout, m)
        # cost
        data = 0.0
        for s in range(m):
            r = perm[bounds[bi] + s]
            for j in range(nout):
                data += _data_term(np.float64(AL[j, s]), np.float64(Y[r, j]), obj)
        cost = _data_cost(data, m, obj, fopt[F_CE]) + 0.5 * wd * cost2
        if sparse is not None:
            A1 = block(acts, m * aoff[1], sizes[1], m)
            sp = sparse[0]
            kl = 0.0
            for j in range(sizes[1]):
                rhohat[j] = _sum(A1, j) / m
                kl += sp * np.log(sp / rhohat[j]) + (1 - sp) * np.log((1 - sp) / (1 - rhohat[j]))
            cost += sparse[1] * kl
        costs[bi] = cost
        # output sensitivity theta_L
        T = block(th, z0, nout, m)
        softmax = iopt[I_OUT_SOFTMAX]
        for s in range(m):
            r = perm[bounds[bi] + s]
            if softmax and obj == MSE:  # softmax Jacobian applied to a - y
                dot = 0.0
                for j in range(nout):
                    dot += AL[j, s] * (AL[j, s] - Y[r, j])
                for j in range(nout):
                    T[j, s] = AL[j, s] * ((AL[j, s] - Y[r, j]) - dot)
            elif softmax:
                for j in range(nout):
                    T[j, s] = AL[j, s] - Y[r, j]
            else:
                for j in range(nout):
                    T[j, s] = -(Y[r, j] - AL[j, s])
        if not softmax:  # times f'(z) written in terms of a
            aflat = flat(acts, m * aoff[L], m * nout)
            at = call_df_block(fns[FN_OUT_DF], aflat, flat(th, z0, m * nout))
            if at:
                failed, value = FAIL_OUT_DF, aflat[at - 1]
                break
        # backward
        for k in range(L - 1, -1, -1):
            h, w = sizes[k + 1], sizes[k]
            course = False
            if bn != BN_OFF:
                course = _bn_backward(T, block(xhats, m * aoff[k + 1], h, m), fwd, grads, lay, k, stats, ioff[k],
                                      std, sds, aoff[k + 1], tmp, q)
            else:
                for j in range(h):
                    grads[lay[k, 1] + j] = _sum(T, j) / m
            W = block(fwd, lay[k, 0], h, w)
            Wg = block(grads, lay[k, 0], h, w)
            # the scales (the course's c_j, and 1/m) go into the h x w products when they are smaller
            # than T (w <= m: the chess layers), else into T (h x m: a big layer)
            fold = w <= m
            if course and not fold:
                _scale_rows(T, q)
                course = False
            if k > 0:  # theta of the layer below, from T before it is scaled
                T2 = block(th2, z0, w, m)
                if course:
                    Wc = block(wcs, z0, h, w)
                    for j in range(h):
                        for i in range(w):
                            Wc[j, i] = W[j, i] * q[j]
                    gemm(Wc, yes, T, no, T2)
                else:
                    gemm(W, yes, T, no, T2)
            if not fold:
                _divide_by_batch(T, W)
            if k == 0:
                gemm(T, no, G, no, Wg)
            else:
                gemm(T, no, block(acts, m * aoff[k], w, m), yes, Wg)
            if fold:
                _finish_grad(Wg, W, q, course, m, wd)
            else:
                _add_decay(Wg, W, wd)
            if k == 0:
                break
            if sparse is not None and k == 1:
                sp, be = sparse[0], sparse[1]
                for j in range(w):
                    extra = be * (-sp / rhohat[j] + (1 - sp) / (1 - rhohat[j]))
                    for s in range(m):
                        T2[j, s] = T2[j, s] + extra
            t2flat = flat(th2, z0, m * w)
            aflat = flat(acts if keep is None else raws, m * aoff[k], m * w)  # f'(raw activation) with dropout
            at = call_df_block(fns[FN_ACT_DF], aflat, t2flat)
            if at:
                failed, value = FAIL_ACT_DF, aflat[at - 1]
                break
            if keep is not None:  # then the mask (kept units scaled by 1/p)
                p = keep
                for j in range(w):
                    for s in range(m):
                        kept = keep_unit(seed, np.int64(scal[S_DROPSTEP] - 1), k - 1, j * m + s, p)
                        T2[j, s] = T2[j, s] * (1.0 / p if kept else 0.0)
            th, th2 = th2, th
            T = T2
        if failed:
            break
        # optimizer step over the whole flat buffer
        if iopt[I_TIME_PER_UPDATE]:
            scal[S_TIME] += 1
        if call_update(fns[FN_UPDATE], params, grads, state, hyper, scal[S_TIME] if scal[S_TIME] > 1.0 else 1.0):
            failed = FAIL_UPDATE
            break
    restore_fpu(fpu)
    if not failed:
        for i in range(costs.shape[0]):
            value += costs[i] ** 2
        for i in range(params.shape[0]):
            value += np.float64(params[i]) ** 2
    return failed, value


# Compiled without reference counting, as _epoch: the caller passes its buffers (inference_workspace).
@njit(_nrt=False)
def _predict(X, sizes, lay, params, stats, ioff, iopt, fopt, fns, aoff, work, scal, out, score):
    """Inference forward pass (:func:`_forward` with the stored statistics, no dropout) in blocks of
    rows, each read in place; the outputs written to ``out`` (one row per sample), or, for a validation
    pass, scored without being kept: ``score = (Y, wrong, with_cost)``, against the target rows ``Y``:
    with ``with_cost``, the objective's data cost (the terms in float64, as the numpy engine's
    ``functions.data_cost``), and ``wrong[s]`` = row ``s``'s arg-max output (the first largest, a NaN
    counting as largest, as np.argmax) is not the arg-max of its target row (whose largest entry the
    checks made single; none counted for 0 entries of ``wrong``).  Either argument is None when unused,
    so its code is not compiled: ``nn_predict`` compiles the one variant, ``nn_test`` and a validation
    pass the other.  ``aoff``, ``work``: where the layers' blocks are, and the work array, as
    :func:`inference_workspace` lays them out; ``scal``: 3 float64 of scratch.
    Returns ``(failed, value, data cost)``, the first two as :func:`_epoch`."""
    L = sizes.shape[0] - 1
    n = X.shape[0]
    if score is not None:  # (its rows are read unchecked below)
        Y, wrong, _ = score
        if Y.shape[0] != n or Y.shape[1] != sizes[L] or (wrong.shape[0] and wrong.shape[0] != n):
            raise ValueError("internal error: targets or flags of another shape than the rows scored")
    big = _widest(sizes)
    acts = flat(work, np.int64(0), work.shape[0] - 4 * big)
    tmp = flat(work, work.shape[0] - 4 * big, 4 * big)
    none = flat(work, np.int64(0), np.int64(0))  # the training buffers (not used in inference)
    scal[S_VECNUM], scal[S_TIME], scal[S_DROPSTEP] = 0.0, 0.0, 0.0
    data = 0.0
    fpu = flush_denormals(iopt[I_FLUSH])
    for start in range(0, n, PREDICT_CHUNK):
        m = n - start if n - start < PREDICT_CHUNK else PREDICT_CHUNK
        status = call_forward(fns[FN_FORWARD], X[start:start + m], acts, m, aoff, sizes, lay, params, np.bool_(False),
                              iopt[I_BN], stats, ioff, scal, none, None, none, tmp, fns, None, np.uint64(0), none)
        if status != DONE:
            restore_fpu(fpu)
            return status if status else FAIL_FORWARD, tmp[0], 0.0
        A = block(acts, m * aoff[L], sizes[L], m)
        if out is not None:
            for j in range(A.shape[0]):
                for s in range(m):
                    out[start + s, j] = A[j, s]
        if score is not None:  # (in line: a helper would be compiled again where it is linked)
            Y, wrong, with_cost = score
            for s in range(m):
                r = start + s
                best = 0
                label = 0
                for j in range(A.shape[0]):
                    v = A[j, s]
                    if with_cost:
                        data += _data_term(np.float64(v), np.float64(Y[r, j]), iopt[I_OBJ])
                    if v > A[best, s] or (v != v and A[best, s] == A[best, s]):
                        best = j
                    if Y[r, j] > Y[r, label]:
                        label = j
                if wrong.shape[0]:
                    wrong[r] = best != label
    restore_fpu(fpu)
    return 0, 0.0, _data_cost(data, n, iopt[I_OBJ], fopt[F_CE]) if score is not None else 0.0

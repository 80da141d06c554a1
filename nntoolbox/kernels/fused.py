"""Fused training and inference kernels: one Numba call per epoch.

Inside a call every batch is gathered by the batch order, run forward,
backward and through the optimizer without returning to Python.  Modes
(objective, batch norm ...) are integer flags; the activations and the
optimizer are the registries' ``cfunc`` kernels, passed in as first-class
functions (see :mod:`nntoolbox.optimizers`), so one compiled kernel per dtype
serves every configuration, including registered ones: compile once, then
``cache=True`` reloads it in later processes.

Layout: inside the kernels a batch is ``m x units`` (rows = samples), the
transpose of the course's ``units x m``; matrix products go through BLAS
(``np.dot``), which is what keeps the MNIST-sized network at BLAS speed.
The arithmetic mirrors the numpy step-by-step path (``forward.py``,
``backprop.py``, ``batchnorm.py``) operation by operation; the parity tests
run both paths against the course's reference runs.
"""
from __future__ import annotations

import numpy as np

from ..batchnorm import COURSE_EPS, STANDARD_EPS, STANDARD_MOMENTUM
from ..forward import ce_factor, uses_dropout
from ..activations import ACTIVATIONS, SOFTMAX
from ..functions import BN_CODES, LOG_FLOOR, OBJ_CODES
from ..network import Buffers, Network, n_layers
from ..optimizers import OPTIMIZERS
from . import interrupt_safe, njit
from .dropout import keep_unit

MSE, CE = OBJ_CODES["MSE"], OBJ_CODES["Cross Entropy"]
BN_OFF, BN_COURSE, BN_STANDARD = BN_CODES["off"], BN_CODES["course"], BN_CODES["standard"]
PREDICT_CHUNK = 4096  # rows per inference block: bounds the workspace for large inputs

# integer settings passed to the epoch kernel, in this order
I_OUT_SOFTMAX, I_OBJ, I_BN, I_ENCODER, I_DROPOUT, I_LOOKAHEAD, I_TIME_PER_UPDATE = range(7)
# float settings
F_WD, F_SPARSITY, F_BETA, F_CE, F_KEEP = range(5)
# mutable scalars carried across calls: vecNum, the optimizer's step counter (AdamTime), dropout step
S_VECNUM, S_TIME, S_DROPSTEP = range(3)


@njit
def _layer_forward(a_prev, W, b, z, train, bn, gam, bet, E, S, vecnum, xhat, sd, tmp):
    """z = BN(a_prev W' + b) for one layer; returns the updated shared counter vecNum.

    Loops run sample-outer / unit-inner so the inner loop is contiguous;
    ``tmp`` is scratch of at least 4 x units."""
    m, h = z.shape
    np.dot(a_prev, W.T, z)
    for s in range(m):
        for j in range(h):
            z[s, j] = z[s, j] + b[j]
    if bn == BN_OFF:
        return vecnum
    per_unit = bn == BN_STANDARD
    mean = tmp[:h]
    inv = tmp[h:2 * h]  # 1 / denominator
    gam_h = tmp[2 * h:3 * h]
    bet_h = tmp[3 * h:4 * h]
    for j in range(h):
        gam_h[j] = gam[j] if per_unit else gam[0]
        bet_h[j] = bet[j] if per_unit else bet[0]
    if not train:
        for j in range(h):
            mean[j] = E[j]
            inv[j] = 1.0 / (np.sqrt(S[j] ** 2 + STANDARD_EPS) if per_unit else S[j] + COURSE_EPS)
        for s in range(m):
            for j in range(h):
                z[s, j] = gam_h[j] * ((z[s, j] - mean[j]) * inv[j]) + bet_h[j]
        return vecnum
    mean[:] = 0.0
    for s in range(m):
        for j in range(h):
            mean[j] += z[s, j]
    for j in range(h):
        mean[j] = mean[j] / m
    inv[:] = 0.0  # first the sum of squared deviations from the batch mean
    for s in range(m):
        for j in range(h):
            inv[j] += (z[s, j] - mean[j]) ** 2
    for j in range(h):
        mu, ss = mean[j], inv[j]
        if bn == BN_COURSE:
            # running statistics over every batch so far, shared counter (see batchnorm.py)
            var = ss / (m - 1) if m > 1 else 0.0
            E[j] = (E[j] * vecnum + mu * m) / (vecnum + m)
            S[j] = np.sqrt((S[j] ** 2 * (vecnum - 1) + (m - 1) * var) / (vecnum + m - 1))
            mean[j], inv[j] = E[j], 1.0 / (S[j] + COURSE_EPS)
        else:
            var = ss / m
            unbiased = var * m / (m - 1) if m > 1 else var
            E[j] = (1 - STANDARD_MOMENTUM) * E[j] + STANDARD_MOMENTUM * mu
            S[j] = np.sqrt((1 - STANDARD_MOMENTUM) * S[j] ** 2 + STANDARD_MOMENTUM * unbiased)
            sd[j] = np.sqrt(var + STANDARD_EPS)
            inv[j] = 1.0 / sd[j]
    for s in range(m):
        for j in range(h):
            x = (z[s, j] - mean[j]) * inv[j]
            xhat[s, j] = x
            z[s, j] = gam_h[j] * x + bet_h[j]
    return vecnum + m if bn == BN_COURSE else vecnum


@njit
def _bn_backward(theta, xhat, bn, gam, ggrad, bgrad, S, sd, tmp):
    """Gamma/Beta gradients and theta below the normalisation (in place)."""
    m, h = theta.shape
    gt = tmp[:h]
    bt = tmp[h:2 * h]
    gt[:] = 0.0
    bt[:] = 0.0
    for s in range(m):
        for j in range(h):
            gt[j] += theta[s, j] * xhat[s, j]
            bt[j] += theta[s, j]
    if bn == BN_COURSE:
        gsum = 0.0
        bsum = 0.0
        for j in range(h):
            gsum += gt[j] / m
            bsum += bt[j] / m
            bt[j] = gam[0] / (S[j] + COURSE_EPS)
        ggrad[0] = gsum
        bgrad[0] = bsum
        for s in range(m):
            for j in range(h):
                theta[s, j] = theta[s, j] * bt[j]
    else:
        sc = tmp[2 * h:3 * h]
        for j in range(h):
            gt[j] = gt[j] / m
            bt[j] = bt[j] / m
            ggrad[j] = gt[j]
            bgrad[j] = bt[j]
            sc[j] = gam[j] / sd[j]
        for s in range(m):
            for j in range(h):
                theta[s, j] = sc[j] * (theta[s, j] - bt[j] - xhat[s, j] * gt[j])


@njit
def _block(buf, off, m, n):
    return buf[off:off + m * n].reshape(m, n)


@njit
def _epoch(X, Y, perm, bounds, sizes, lay, params, grads, state, stats, ioff,
           iopt, fopt, scal, costs, seed, hyper, update, lookahead, act_f, act_df, out_f, out_df):
    """Train one epoch in place; ``lay[k] = (W, b, Gamma, Beta)`` offsets into the buffers.

    ``update``/``lookahead`` are the optimizer's kernels, ``*_f(z, n)``/``*_df(a, t)`` the
    activations' (first-class functions).  With a look-ahead the forward and backward
    passes read ``fwd`` (the look-ahead parameters), the update writes ``params``."""
    L = sizes.shape[0] - 1
    obj, bn = iopt[I_OBJ], iopt[I_BN]
    wd = fopt[F_WD]
    fwd = np.empty_like(params) if iopt[I_LOOKAHEAD] else params
    mmax = 0
    for i in range(bounds.shape[0] - 1):
        mmax = max(mmax, bounds[i + 1] - bounds[i])
    tot_units = 0
    for k in range(L + 1):
        tot_units += sizes[k]
    dt = params.dtype
    acts = np.empty(mmax * tot_units, dt)  # a[0..L], rows = samples
    raws = np.empty(mmax * tot_units, dt)  # pre-dropout activations
    xhats = np.empty(mmax * tot_units, dt)
    sds = np.empty(tot_units, dt)
    th = np.empty(mmax * int(sizes.max()), dt)
    th2 = np.empty(mmax * int(sizes.max()), dt)
    rhohat = np.empty(sizes[1], dt)
    tmp = np.empty(4 * int(sizes.max()), dt)
    aoff = np.zeros(L + 2, np.int64)
    for k in range(L + 1):
        aoff[k + 1] = aoff[k] + sizes[k]
    nin, nout = sizes[0], sizes[L]
    for bi in range(bounds.shape[0] - 1):
        m = bounds[bi + 1] - bounds[bi]
        if iopt[I_LOOKAHEAD]:
            lookahead(params, state, hyper, fwd)
        # gather the batch
        A0 = _block(acts, 0, m, nin)
        for s in range(m):
            r = perm[bounds[bi] + s]
            for j in range(nin):
                A0[s, j] = X[r, j]
        # forward
        cost2 = 0.0
        for k in range(L):
            h = sizes[k + 1]
            W = _block(fwd, lay[k, 0], h, sizes[k])
            for i in range(h * sizes[k]):
                cost2 += fwd[lay[k, 0] + i] ** 2
            Z = _block(acts, m * aoff[k + 1], m, h)
            scal[S_VECNUM] = _layer_forward(
                _block(acts, m * aoff[k], m, sizes[k]), W, fwd[lay[k, 1]:lay[k, 1] + h], Z, True, bn,
                fwd[lay[k, 2]:], fwd[lay[k, 3]:], stats[0, ioff[k]:ioff[k] + h], stats[1, ioff[k]:ioff[k] + h],
                scal[S_VECNUM], _block(xhats, m * aoff[k + 1], m, h), sds[aoff[k + 1]:aoff[k + 2]], tmp)
            zflat = acts[m * aoff[k + 1]:m * aoff[k + 2]]
            if k == L - 1:
                out_f(zflat, h)
            else:
                act_f(zflat, h)
            if iopt[I_DROPOUT] and k < L - 1:
                R = _block(raws, m * aoff[k + 1], m, h)
                p = fopt[F_KEEP]
                for s in range(m):
                    for j in range(h):
                        R[s, j] = Z[s, j]
                        Z[s, j] = Z[s, j] * (1.0 / p if keep_unit(seed, np.int64(scal[S_DROPSTEP]), k, j * m + s, p)
                                             else 0.0)
        if iopt[I_DROPOUT]:
            scal[S_DROPSTEP] += 1
        AL = _block(acts, m * aoff[L], m, nout)
        # cost
        data = 0.0
        for s in range(m):
            r = perm[bounds[bi] + s]
            for j in range(nout):
                if obj == MSE:
                    data += (AL[s, j] - Y[r, j]) ** 2
                else:
                    data += Y[r, j] * np.log(max(AL[s, j], LOG_FLOOR))
        cost = 0.5 / m * data if obj == MSE else -fopt[F_CE] * data / m
        cost += 0.5 * wd * cost2
        if iopt[I_ENCODER]:
            A1 = _block(acts, m * aoff[1], m, sizes[1])
            sp = fopt[F_SPARSITY]
            kl = 0.0
            for j in range(sizes[1]):
                t = 0.0
                for s in range(m):
                    t += A1[s, j]
                rhohat[j] = t / m
                kl += sp * np.log(sp / rhohat[j]) + (1 - sp) * np.log((1 - sp) / (1 - rhohat[j]))
            cost += fopt[F_BETA] * kl
        costs[bi] = cost
        # output sensitivity theta_L
        T = _block(th, 0, m, nout)
        softmax = iopt[I_OUT_SOFTMAX]
        for s in range(m):
            r = perm[bounds[bi] + s]
            if softmax and obj == MSE:  # softmax Jacobian applied to a - y
                dot = 0.0
                for j in range(nout):
                    dot += AL[s, j] * (AL[s, j] - Y[r, j])
                for j in range(nout):
                    T[s, j] = AL[s, j] * ((AL[s, j] - Y[r, j]) - dot)
            elif softmax:
                for j in range(nout):
                    T[s, j] = AL[s, j] - Y[r, j]
            else:
                for j in range(nout):
                    T[s, j] = -(Y[r, j] - AL[s, j])
        if not softmax:  # times f'(z) written in terms of a
            out_df(acts[m * aoff[L]:m * aoff[L + 1]], th[:m * nout])
        # backward
        for k in range(L - 1, -1, -1):
            h, w = sizes[k + 1], sizes[k]
            if bn != BN_OFF:
                _bn_backward(T, _block(xhats, m * aoff[k + 1], m, h), bn, fwd[lay[k, 2]:],
                             grads[lay[k, 2]:], grads[lay[k, 3]:], stats[1, ioff[k]:ioff[k] + h],
                             sds[aoff[k + 1]:aoff[k + 2]], tmp)
            Aprev = _block(acts, m * aoff[k], m, w)
            W = _block(fwd, lay[k, 0], h, w)
            Wg = _block(grads, lay[k, 0], h, w)
            np.dot(T.T, Aprev, Wg)
            for i in range(h):
                for j in range(w):
                    Wg[i, j] = Wg[i, j] / m + wd * W[i, j]
            bg = grads[lay[k, 1]:lay[k, 1] + h]
            bg[:] = 0.0
            for s in range(m):
                for j in range(h):
                    bg[j] += T[s, j]
            for j in range(h):
                bg[j] = bg[j] / m
            if k == 0:
                break
            T2 = _block(th2, 0, m, w)
            np.dot(T, W, T2)
            if iopt[I_ENCODER] and k == 1:
                sp, be = fopt[F_SPARSITY], fopt[F_BETA]
                for j in range(w):
                    extra = be * (-sp / rhohat[j] + (1 - sp) / (1 - rhohat[j]))
                    for s in range(m):
                        T2[s, j] = T2[s, j] + extra
            t2flat = th2[:m * w]
            if iopt[I_DROPOUT]:  # f'(raw activation), then the mask (kept units scaled by 1/p)
                act_df(raws[m * aoff[k]:m * aoff[k + 1]], t2flat)
                p = fopt[F_KEEP]
                for s in range(m):
                    for j in range(w):
                        kept = keep_unit(seed, np.int64(scal[S_DROPSTEP] - 1), k - 1, j * m + s, p)
                        T2[s, j] = T2[s, j] * (1.0 / p if kept else 0.0)
            else:
                act_df(acts[m * aoff[k]:m * aoff[k + 1]], t2flat)
            th, th2 = th2, th
            T = T2
        # optimizer step over the whole flat buffer
        if iopt[I_TIME_PER_UPDATE]:
            scal[S_TIME] += 1
        update(params, grads, state, hyper, max(scal[S_TIME], 1.0))


@njit
def _predict(X, sizes, lay, params, stats, ioff, iopt, out, act_f, out_f):
    """Inference forward pass in blocks of rows (stored BN statistics, no dropout)."""
    L = sizes.shape[0] - 1
    n = X.shape[0]
    big = int(sizes.max())
    dt = params.dtype
    a = np.empty(PREDICT_CHUNK * big, dt)
    z = np.empty(PREDICT_CHUNK * big, dt)
    dummy = np.empty((1, 1), dt)
    tmp = np.empty(4 * big, dt)
    for start in range(0, n, PREDICT_CHUNK):
        m = min(PREDICT_CHUNK, n - start)
        A = _block(a, 0, m, sizes[0])
        A[:, :] = X[start:start + m]
        for k in range(L):
            h = sizes[k + 1]
            Z = _block(z, 0, m, h)
            _layer_forward(A, _block(params, lay[k, 0], h, sizes[k]), params[lay[k, 1]:lay[k, 1] + h], Z,
                           False, iopt[I_BN], params[lay[k, 2]:], params[lay[k, 3]:],
                           stats[0, ioff[k]:ioff[k] + h], stats[1, ioff[k]:ioff[k] + h], 0.0, dummy, dummy[0], tmp)
            if k == L - 1:
                out_f(z[:m * h], h)
            else:
                act_f(z[:m * h], h)
            a, z = z, a
            A = _block(a, 0, m, h)
        out[start:start + m] = A


def _settings(nn: Network) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flags and offsets the kernels take, derived from the network (memoised until a field changes)."""
    settings = nn._memo.get("fused")
    if settings is None:
        settings = nn._memo["fused"] = _derive_settings(nn)
    return settings


def _derive_settings(nn: Network) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    L = n_layers(nn)
    sizes = np.asarray(nn.sizes, dtype=np.int64)
    lay = np.full((L, 4), -1, dtype=np.int64)
    for k, g, off, _, _ in nn._buf.layout:
        lay[k, g] = off
    ioff = np.concatenate(([0], np.cumsum(sizes[1:])[:-1])).astype(np.int64)
    bn = BN_CODES[nn["bn_mode"]] if nn["batch_normalization"] else BN_OFF
    opt = OPTIMIZERS[nn["optimization_method"]]
    iopt = np.array([ACTIVATIONS[nn["output_function"]].kind == SOFTMAX, OBJ_CODES[nn["objective_function"]], bn,
                     int(bool(nn["encoder"])), int(uses_dropout(nn)), opt.lookahead is not None,
                     opt.counting(nn) == "update"], dtype=np.int64)
    fopt = np.array([nn["weight_decay"], nn["sparsity"], nn["beta"], ce_factor(nn), nn["keep_probability"]],
                    dtype=np.float64)
    return sizes, lay, ioff, iopt, fopt


def _activation_kernels(nn: Network, dt: np.dtype) -> tuple:
    """``(act_f, act_df, out_f, out_df)`` block kernels of the network's activations."""
    return (*ACTIVATIONS[nn["active_function"]].kernels(dt), *ACTIVATIONS[nn["output_function"]].kernels(dt))


def _stats(buf: Buffers) -> np.ndarray:
    return buf.stats if buf.stats is not None else np.zeros((2, 1), dtype=buf.params.dtype)


@interrupt_safe
def fused_epoch(nn: Network, x: np.ndarray, y: np.ndarray, perm: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Run one epoch through the fused kernel, in place on ``nn``; returns the per-batch costs.

    ``x``/``y`` are validated rows, ``perm`` a permutation of their indices and
    ``bounds`` batch offsets within it (checked by the caller, ``nn_train``).
    The optimizer must be an njit one (``optimizers.training_engine`` checks)."""
    buf = nn.checked_buffers()
    sizes, lay, ioff, iopt, fopt = _settings(nn)
    f, opt = nn._fields, OPTIMIZERS[nn["optimization_method"]]
    counter = opt.counter
    scal = np.array([float(f.get("vecNum", 0.0)), float(f.get(counter, 0)) if counter else 0.0,
                     float(nn._dropout_step)])
    costs = np.empty(len(bounds) - 1)
    dt = buf.params.dtype
    act_f, act_df, out_f, out_df = _activation_kernels(nn, dt)
    update, lookahead = opt.kernels(dt)
    _epoch(np.ascontiguousarray(x, dt), np.ascontiguousarray(y, dt), np.ascontiguousarray(perm, np.int64),
           bounds, sizes, lay, buf.params, buf.grads, buf.state if buf.state.shape[0] else
           np.zeros((1, 1), dt), _stats(buf), ioff, iopt, fopt, scal, costs, np.uint64(nn._dropout_seed),
           opt.hyper_values(nn), update, lookahead, act_f, act_df, out_f, out_df)
    if "vecNum" in f:
        f["vecNum"] = float(scal[S_VECNUM])
    if counter:
        f[counter] = int(scal[S_TIME])
    nn._dropout_step = int(scal[S_DROPSTEP])
    return costs


@interrupt_safe
def fused_predict(nn: Network, x: np.ndarray) -> np.ndarray:
    """Outputs for validated rows ``x``, one row per sample."""
    buf = nn.checked_buffers()
    sizes, lay, ioff, iopt, _ = _settings(nn)
    dt = buf.params.dtype
    out = np.empty((x.shape[0], int(sizes[-1])), dtype=dt)
    act_f, _, out_f, _ = _activation_kernels(nn, dt)
    _predict(np.ascontiguousarray(x, dt), sizes, lay, buf.params, _stats(buf), ioff, iopt, out, act_f, out_f)
    return out

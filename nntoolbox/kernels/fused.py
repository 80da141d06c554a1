"""Fused training and inference kernels: one Numba call per epoch.

Inside a call every batch is gathered by the batch order, run forward,
backward and through the optimizer without returning to Python.  Modes
(activation, output, objective, batch norm, optimizer ...) are integer flags,
so one compiled kernel per dtype serves every configuration: compile once,
then ``cache=True`` reloads it in later processes.

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
from ..functions import ACT_CODES, BN_CODES, LOG_FLOOR, OBJ_CODES
from ..network import Buffers, Network, n_layers
from ..optimizers import OPTIMIZERS
from . import interrupt_safe, njit
from .dropout import keep_unit
from .optim import ADAM, apply_update

SIGMOID, TANH, RELU, SOFTMAX = (ACT_CODES[k] for k in ("sigmoid", "tanh", "relu", "softmax"))
MSE, CE = OBJ_CODES["MSE"], OBJ_CODES["Cross Entropy"]
BN_OFF, BN_COURSE, BN_STANDARD = BN_CODES["off"], BN_CODES["course"], BN_CODES["standard"]
PREDICT_CHUNK = 4096  # rows per inference block: bounds the workspace for large inputs

# integer settings passed to the epoch kernel, in this order
I_ACT, I_OUT, I_OBJ, I_BN, I_METHOD, I_ENCODER, I_DROPOUT, I_ADAM_TEXTBOOK = range(8)
# float settings
F_LR, F_RHO, F_WD, F_SPARSITY, F_BETA, F_CE, F_KEEP = range(7)
# mutable scalars carried across calls: vecNum, AdamTime, dropout step
S_VECNUM, S_ADAMTIME, S_DROPSTEP = range(3)


@njit(inline="always")
def _activate(code: int, z: np.ndarray) -> None:
    """In place, on an ``m x units`` block."""
    m, n = z.shape
    if code == SIGMOID:
        for s in range(m):
            for j in range(n):
                z[s, j] = 1.0 / (1.0 + np.exp(-z[s, j]))
    elif code == TANH:
        for s in range(m):
            for j in range(n):
                z[s, j] = np.tanh(z[s, j])
    elif code == RELU:
        for s in range(m):
            for j in range(n):
                if not z[s, j] > 0:
                    z[s, j] = 0.0
    else:  # softmax over each row, max subtracted so exp cannot overflow
        for s in range(m):
            mx = z[s, 0]
            for j in range(1, n):
                mx = max(mx, z[s, j])
            tot = 0.0
            for j in range(n):
                z[s, j] = np.exp(z[s, j] - mx)
                tot += z[s, j]
            for j in range(n):
                z[s, j] = z[s, j] / tot


@njit(inline="always")
def _derivative(code: int, a: float) -> float:
    """f'(z) written in terms of a = f(z) (hidden activations)."""
    if code == SIGMOID:
        return a * (1 - a)
    if code == TANH:
        return 1 - a ** 2
    return 1.0 if a > 0 else 0.0


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
           iopt, fopt, scal, costs, seed):
    """Train one epoch in place; ``lay[k] = (W, b, Gamma, Beta)`` offsets into the buffers."""
    L = sizes.shape[0] - 1
    act, outc, obj, bn = iopt[I_ACT], iopt[I_OUT], iopt[I_OBJ], iopt[I_BN]
    lr, rho, wd = fopt[F_LR], fopt[F_RHO], fopt[F_WD]
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
            W = _block(params, lay[k, 0], h, sizes[k])
            for i in range(h * sizes[k]):
                cost2 += params[lay[k, 0] + i] ** 2
            Z = _block(acts, m * aoff[k + 1], m, h)
            scal[S_VECNUM] = _layer_forward(
                _block(acts, m * aoff[k], m, sizes[k]), W, params[lay[k, 1]:lay[k, 1] + h], Z, True, bn,
                params[lay[k, 2]:], params[lay[k, 3]:], stats[0, ioff[k]:ioff[k] + h], stats[1, ioff[k]:ioff[k] + h],
                scal[S_VECNUM], _block(xhats, m * aoff[k + 1], m, h), sds[aoff[k + 1]:aoff[k + 2]], tmp)
            _activate(outc if k == L - 1 else act, Z)
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
        for s in range(m):
            r = perm[bounds[bi] + s]
            if outc == SOFTMAX and obj == MSE:  # softmax Jacobian applied to a - y
                dot = 0.0
                for j in range(nout):
                    dot += AL[s, j] * (AL[s, j] - Y[r, j])
                for j in range(nout):
                    T[s, j] = AL[s, j] * ((AL[s, j] - Y[r, j]) - dot)
            elif outc == SOFTMAX:
                for j in range(nout):
                    T[s, j] = AL[s, j] - Y[r, j]
            else:
                for j in range(nout):
                    T[s, j] = -(Y[r, j] - AL[s, j]) * _derivative(outc, AL[s, j])
        # backward
        for k in range(L - 1, -1, -1):
            h, w = sizes[k + 1], sizes[k]
            if bn != BN_OFF:
                _bn_backward(T, _block(xhats, m * aoff[k + 1], m, h), bn, params[lay[k, 2]:],
                             grads[lay[k, 2]:], grads[lay[k, 3]:], stats[1, ioff[k]:ioff[k] + h],
                             sds[aoff[k + 1]:aoff[k + 2]], tmp)
            Aprev = _block(acts, m * aoff[k], m, w)
            W = _block(params, lay[k, 0], h, w)
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
            if iopt[I_DROPOUT]:
                R = _block(raws, m * aoff[k], m, w)
                p = fopt[F_KEEP]
                for s in range(m):
                    for j in range(w):
                        kept = keep_unit(seed, np.int64(scal[S_DROPSTEP] - 1), k - 1, j * m + s, p)
                        T2[s, j] = T2[s, j] * _derivative(act, R[s, j]) * (1.0 / p if kept else 0.0)
            else:
                for s in range(m):
                    for j in range(w):
                        T2[s, j] = T2[s, j] * _derivative(act, Aprev[s, j])
            th, th2 = th2, th
            T = T2
        # optimizer step over the whole flat buffer
        if iopt[I_METHOD] == ADAM and iopt[I_ADAM_TEXTBOOK]:
            scal[S_ADAMTIME] += 1
        t = max(scal[S_ADAMTIME], 1.0)
        apply_update(params, grads, state, iopt[I_METHOD], lr, rho, t, iopt[I_ADAM_TEXTBOOK] == 1)


@njit
def _predict(X, sizes, lay, params, stats, ioff, iopt, out):
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
            _activate(iopt[I_OUT] if k == L - 1 else iopt[I_ACT], Z)
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
    iopt = np.array([ACT_CODES[nn["active_function"]], ACT_CODES[nn["output_function"]],
                     OBJ_CODES[nn["objective_function"]], bn, OPTIMIZERS[nn["optimization_method"]].code,
                     int(bool(nn["encoder"])), int(uses_dropout(nn)), int(nn["adam"] == "textbook")],
                    dtype=np.int64)
    fopt = np.array([nn["learning_rate"], nn["momentum"], nn["weight_decay"], nn["sparsity"], nn["beta"],
                     ce_factor(nn), nn["keep_probability"]], dtype=np.float64)
    return sizes, lay, ioff, iopt, fopt


def _stats(buf: Buffers) -> np.ndarray:
    return buf.stats if buf.stats is not None else np.zeros((2, 1), dtype=buf.params.dtype)


@interrupt_safe
def fused_epoch(nn: Network, x: np.ndarray, y: np.ndarray, perm: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Run one epoch through the fused kernel, in place on ``nn``; returns the per-batch costs.

    ``x``/``y`` are validated rows, ``perm`` a permutation of their indices and
    ``bounds`` batch offsets within it (checked by the caller, ``nn_train``)."""
    buf = nn.checked_buffers()
    sizes, lay, ioff, iopt, fopt = _settings(nn)
    f = nn._fields
    scal = np.array([float(f.get("vecNum", 0.0)), float(f.get("AdamTime", 0)), float(nn._dropout_step)])
    costs = np.empty(len(bounds) - 1)
    dt = buf.params.dtype
    _epoch(np.ascontiguousarray(x, dt), np.ascontiguousarray(y, dt), np.ascontiguousarray(perm, np.int64),
           bounds, sizes, lay, buf.params, buf.grads, buf.state if buf.state.shape[0] else
           np.zeros((1, 1), dt), _stats(buf), ioff, iopt, fopt, scal, costs, np.uint64(nn._dropout_seed))
    if "vecNum" in f:
        f["vecNum"] = float(scal[S_VECNUM])
    if "AdamTime" in f:
        f["AdamTime"] = int(scal[S_ADAMTIME])
    nn._dropout_step = int(scal[S_DROPSTEP])
    return costs


@interrupt_safe
def fused_predict(nn: Network, x: np.ndarray) -> np.ndarray:
    """Outputs for validated rows ``x``, one row per sample."""
    buf = nn.checked_buffers()
    sizes, lay, ioff, iopt, _ = _settings(nn)
    dt = buf.params.dtype
    out = np.empty((x.shape[0], int(sizes[-1])), dtype=dt)
    _predict(np.ascontiguousarray(x, dt), sizes, lay, buf.params, _stats(buf), ioff, iopt, out)
    return out

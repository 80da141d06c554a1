"""The engines behind one contract, and the fused engine's adapter.

The contract, the same for both engines (``'fused'``: the Numba kernels of :mod:`nntoolbox.kernels.fused`;
``'stepwise'``: numpy through the course functions, :mod:`nntoolbox.stepwise`):

* ``run_epoch = epoch_runner(nn, engine)``, then ``costs, finite = run_epoch(nn, x, y, perm, bounds)``: one
  epoch in place on ``nn`` over validated rows, the batches ``perm[bounds[i]:bounds[i+1]]``; refuses to
  start from NaN/inf parameters (ValueError naming the field, before anything changes); returns the
  per-batch costs and whether they and the parameters stayed finite (:func:`finite_squares`);
* ``predict_rows(nn, x, engine)``: the inference outputs of validated rows, one row per sample.

``fused_epoch``/``fused_predict`` turn a :class:`~nntoolbox.network.Network` into the fused kernels'
arguments and their results back into the network; the kernels under ``kernels/`` import nothing above
them, so everything that reads the network, the registries or the options lives here.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .activations import ACTIVATIONS, SOFTMAX
from .checks import check_finite_parameters
from .forward import ce_factor, uses_dropout
from .kernels import interrupt_safe
from .kernels.fused import (BN_CODES, BN_OFF, FAILED, FAIL_FORWARD, FAIL_LOOKAHEAD, FAIL_PARAMS, FAIL_UPDATE, OBJ_CODES,
                            PREDICT_CHUNK, S_DROPSTEP, S_TIME, S_VECNUM, _epoch, _predict, epoch_workspace,
                            forward_kernel, inference_workspace)
from .network import Buffers, Network, n_layers
from .optimizers import optimizer_of
from .stepwise import stepwise_epoch, stepwise_predict
from .threads import limited_blas
from .userwarn import warn

# run_epoch(nn, x, y, perm, bounds) -> (per-batch costs, finite)
EpochFn = Callable[[Network, np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, bool]]
_WARNED: set[str] = set()


def training_engine(nn: Network, engine: str) -> str:
    """The engine ``nn_train`` uses: the fused one needs an njit optimizer; otherwise (once per
    optimizer) a warning that the stepwise engine runs it, slower."""
    entry = optimizer_of(nn)
    if engine != "fused" or entry.jit:
        return engine
    if entry.name not in _WARNED:
        _WARNED.add(entry.name)
        warn(f"optimizer {entry.name!r} is not a numba.njit function: nn_train runs it through the "
             "stepwise engine, which is slower (decorate update/lookahead with numba.njit to train it "
             "inside the fused kernel)", RuntimeWarning)
    return "stepwise"


def epoch_runner(nn: Network, engine: str) -> EpochFn:
    """The epoch function of ``engine`` (``'fused'`` or ``'stepwise'``) for ``nn``: see
    :func:`training_engine` (looked up when called, so a test can replace either)."""
    return fused_epoch if training_engine(nn, engine) == "fused" else _stepwise_runner


def _stepwise_runner(nn: Network, x: np.ndarray, y: np.ndarray, perm: np.ndarray,
                     bounds: np.ndarray) -> tuple[np.ndarray, bool]:
    check_finite_parameters(nn)
    costs = stepwise_epoch(nn, x, y, perm, bounds)
    return costs, finite_squares(costs, nn._buf.params)


def finite_squares(costs: np.ndarray, params: np.ndarray) -> bool:
    """Whether an epoch's costs and the parameters after it are finite, judged as the fused kernel judges
    them: by the sum of their squares in float64 (a NaN/inf makes it NaN/inf; a square that overflows,
    beyond ~1e154, counts as diverged too)."""
    with np.errstate(over="ignore", invalid="ignore"):  # numpy would warn of the overflow
        squares = float(np.dot(costs, costs)) + float(np.square(params, dtype=np.float64).sum())
    return math.isfinite(squares)


def predict_rows(nn: Network, x: np.ndarray, engine: str = "fused") -> np.ndarray:
    """Outputs (one row per sample) for validated, non-empty rows ``x``: ``engine='fused'`` (compiled)
    or ``'numpy'`` (the stepwise engine's pass; same numbers)."""
    with limited_blas():
        return fused_predict(nn, x) if engine == "fused" else stepwise_predict(nn, x)


def inference_score(nn: Network, x: np.ndarray, y: np.ndarray, classify: bool = False) -> tuple[float, int]:
    """``(cost, correct)`` of validated rows ``x`` against target rows ``y``: the objective's data term of
    the cost of the outputs ``nn_predict`` gives, and (``classify``: ``y``'s rows each have a single
    largest entry, :func:`~nntoolbox.checks.check_class_labels`) how many rows' arg-max output is their
    target's arg-max (else 0), scored inside the compiled inference pass (the outputs are not kept)."""
    with limited_blas():
        cost, wrong = fused_score(nn, x, y, classify, True)
    return cost, x.shape[0] - int(np.count_nonzero(wrong)) if classify else 0


def misclassified(nn: Network, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Zero-based indices of the validated rows ``x`` whose arg-max output is not their target row's
    (``nn_test``: rows checked to have a single largest entry; the arg-maxes taken inside the compiled
    inference pass, the outputs not kept)."""
    with limited_blas():
        return np.flatnonzero(fused_score(nn, x, y, True, False)[1])


def _plan(nn: Network, dt: np.dtype, training: bool) -> tuple:
    """What a kernel call takes from the network's fields, for buffers of dtype ``dt``: ``(dt, sizes, lay,
    ioff, iopt, fopt, fns, features)``, then for training (the epoch kernel) ``(optimizer, its counter
    field, its hyper-parameters, aoff)`` (``aoff[k]``: where layer k's block starts in the activation
    buffers, in units of the batch size), for inference :func:`.kernels.fused.inference_workspace`.  One
    memo entry per kernel (until a field changes): a course epoch looks it up once per kernel call."""
    key = "epoch" if training else "inference"
    plan = nn._memo.get(key)
    if plan is None or plan[0] != dt:
        sizes, lay, ioff, iopt, fopt, features = _settings(nn)
        plan = (dt, sizes, lay, ioff, iopt, fopt, _functions(nn, dt, training, features), features)
        if training:
            opt = optimizer_of(nn)
            plan += (opt, opt.counter, opt.hyper_values(nn), np.concatenate(([0], np.cumsum(sizes))))
        else:
            plan += inference_workspace(sizes)
        nn._memo[key] = plan
    return plan


def _workspace(nn: Network, sizes: np.ndarray, bounds: np.ndarray, look: bool) -> tuple[np.ndarray, np.ndarray]:
    """The epoch kernel's work buffers for batches ``bounds`` (every batch but the last as large as the
    first, as ``nn_train`` makes them): a new array, and where each buffer starts in it (memoised per
    batch size until a field changes)."""
    mmax = int(bounds[1] - bounds[0]) if bounds.shape[0] > 1 else 0
    key = ("workspace", mmax)
    woff = nn._memo.get(key)
    if woff is None:
        woff = nn._memo[key] = epoch_workspace(sizes, mmax, nn._buf.params.shape[0], look)
    return np.empty(woff[-1], nn._buf.params.dtype), woff


def _settings(nn: Network) -> tuple:
    """Flags and offsets the kernels take, and the epoch kernel's optional features (``keep``, ``sparse``,
    ``look``, ``std``: None when unused, see :func:`~nntoolbox.kernels.fused._epoch`)."""
    L = n_layers(nn)
    sizes = np.asarray(nn.sizes, dtype=np.int64)
    lay = np.full((L, 4), -1, dtype=np.int64)
    for k, g, off, _, _ in nn._buf.layout:
        lay[k, g] = off
    ioff = np.concatenate(([0], np.cumsum(sizes[1:])[:-1])).astype(np.int64)
    bn = BN_CODES[nn["bn_mode"]] if nn["batch_normalization"] else BN_OFF
    opt = optimizer_of(nn)
    iopt = np.array([ACTIVATIONS[nn["output_function"]].kind == SOFTMAX, OBJ_CODES[nn["objective_function"]], bn,
                     opt.counting(nn) == "update", nn["dtype"] == "float32"], dtype=np.int64)
    fopt = np.array([nn["weight_decay"], ce_factor(nn)], dtype=np.float64)
    features = (float(nn["keep_probability"]) if uses_dropout(nn) else None,
                np.array([nn["sparsity"], nn["beta"]], dtype=np.float64) if nn["encoder"] else None,
                True if opt.lookahead is not None else None, True if bn == BN_CODES["standard"] else None)
    return sizes, lay, ioff, iopt, fopt, features


def _functions(nn: Network, dt: np.dtype, training: bool, features: tuple) -> np.ndarray:
    """The addresses of the ``cfunc``s for dtype ``dt`` that the kernels call, in their ``FN_*`` order
    (:mod:`.kernels.signatures`): the registries' and, last, the forward pass for the network's optional
    features in training (none in inference: :func:`.kernels.fused.forward_kernel`); 0 in the slots they
    never call for this network, so that a run compiles only what it uses: the optimizer's update and
    look-ahead only in training (a stepwise-only optimizer has none), the latter only when it has one; the
    hidden activation only with a hidden layer, its df only in training; the output's df only in training
    below an elementwise output (below softmax the kernels apply its Jacobian rule).  The kernels call each
    address with ``dt``'s signature; a registered name is never registered again, so its kernels stay the
    same, alive in the registry."""
    act, out, opt = ACTIVATIONS[nn["active_function"]], ACTIVATIONS[nn["output_function"]], optimizer_of(nn)
    hidden = n_layers(nn) > 1
    slots = ((training, opt, "update"), (training and opt.lookahead is not None, opt, "lookahead"),
             (hidden, act, "f"), (training and hidden, act, "df"), (True, out, "f"),
             (training and out.kind != SOFTMAX, out, "df"))
    keep, _, _, std = features
    forward = forward_kernel(dt.name, training and keep is not None, training and std is not None)
    return np.array([entry.kernel(dt, form).address if used else 0 for used, entry, form in slots]
                    + [forward.address], dtype=np.int64)


@interrupt_safe
def fused_epoch(nn: Network, x: np.ndarray, y: np.ndarray, perm: np.ndarray,
                bounds: np.ndarray) -> tuple[np.ndarray, bool]:
    """Run one epoch through the fused kernel, in place on ``nn``; returns the per-batch costs and whether
    they and the parameters stayed finite (the kernel's sum of their squares).

    ``x``/``y`` are validated rows, ``perm`` a permutation of their indices and
    ``bounds`` batch offsets within it (checked by the caller, ``nn_train``).
    The optimizer must be an njit one (:func:`training_engine` checks)."""
    buf = nn.checked_buffers()
    dt = buf.params.dtype
    _, sizes, lay, ioff, iopt, fopt, fns, features, opt, counter, hyper, aoff = _plan(nn, dt, True)
    f = nn._fields
    scal = np.array([float(f.get("vecNum", 0.0)), float(f.get(counter, 0)) if counter else 0.0,
                     float(nn._dropout_step)])
    costs = np.empty(len(bounds) - 1)
    state = buf.state if buf.state.shape[0] else np.zeros((1, 1), dt)
    work, woff = _workspace(nn, sizes, bounds, features[2] is not None)
    failed, value = _epoch(np.ascontiguousarray(x, dt), np.ascontiguousarray(y, dt),
                           np.ascontiguousarray(perm, np.int64), bounds, sizes, lay, buf.params, buf.grads, state,
                           _stats(buf), ioff, aoff, iopt, fopt, scal, costs, np.uint64(nn._dropout_seed), hyper,
                           fns, work, woff, *features)
    if failed == FAIL_UPDATE:
        opt.raise_failure("update", buf.params, buf.grads, state, hyper, max(scal[S_TIME], 1.0))
    elif failed == FAIL_LOOKAHEAD:
        opt.raise_failure("lookahead", buf.params, state, hyper, np.empty_like(buf.params))
    elif failed == FAIL_PARAMS:  # (its message names the field)
        check_finite_parameters(nn)
    elif failed:
        _raise_failure(nn, failed, value, dt)
    if "vecNum" in f:
        f["vecNum"] = float(scal[S_VECNUM])
    if counter:
        f[counter] = int(scal[S_TIME])
    nn._dropout_step = int(scal[S_DROPSTEP])
    return costs, math.isfinite(value)


def _stats(buf: Buffers) -> np.ndarray:
    return buf.stats if buf.stats is not None else np.zeros((2, 1), dtype=buf.params.dtype)


@interrupt_safe
def fused_predict(nn: Network, x: np.ndarray) -> np.ndarray:
    """Outputs for validated rows ``x``, one row per sample."""
    out = np.empty((x.shape[0], nn.sizes[-1]), dtype=nn._buf.params.dtype)
    _inference(nn, x, out, None)
    return out


@interrupt_safe
def fused_score(nn: Network, x: np.ndarray, y: np.ndarray, classify: bool,
                cost: bool) -> tuple[float, np.ndarray]:
    """``(data cost against y (with ``cost``, else 0.0), wrong flags against y's arg-maxes (with
    ``classify``, else empty))`` of validated rows ``x``, scored inside the inference pass (see
    :func:`inference_score`)."""
    dt = nn._buf.params.dtype
    wrong = np.empty(x.shape[0] if classify else 0, np.bool_)
    return _inference(nn, x, None, (np.ascontiguousarray(y, dt), wrong, cost)), wrong


def _inference(nn: Network, x: np.ndarray, out: np.ndarray | None, score: tuple | None) -> float:
    buf = nn.checked_buffers()
    dt = buf.params.dtype
    _, sizes, lay, ioff, iopt, fopt, fns, _, aoff, units, scratch = _plan(nn, dt, False)
    work = np.empty(min(x.shape[0], PREDICT_CHUNK) * units + scratch, dt)
    failed, value, cost = _predict(np.ascontiguousarray(x, dt), sizes, lay, buf.params, _stats(buf), ioff, iopt, fopt,
                                   fns, aoff, work, np.empty(3), out, score)
    if failed:
        _raise_failure(nn, failed, value, dt)
    return float(cost)


def _raise_failure(nn: Network, failed: int, value: float, dt: np.dtype) -> None:
    """Re-raise in Python what a kernel stopped on (code ``failed``, the input ``value``): the forward pass's
    own failure, or what a registered activation raised."""
    if failed == FAIL_FORWARD:
        raise RuntimeError("the compiled forward pass failed (an internal check, or SciPy's BLAS could not be "
                           "loaded); run with option['engine'] = 'stepwise' to train without it")
    field, what = FAILED[failed]
    ACTIVATIONS[nn[field]].raise_failure(what, value, dt)

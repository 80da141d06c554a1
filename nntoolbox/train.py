"""``nn_train`` (MATLAB ``nn_train.m``): mini-batch training for a number of epochs."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .backprop import backward
from .checks import check_xy
from .create import make_rng
from .forward import forward_train, record_cost
from .kernels import optim
from .network import Network, sync_buffers
from .optimizers import step_args

ENGINES = ("fused", "stepwise")


@dataclass
class TrainOptions:
    """The course's ``option`` struct plus Python-side settings.

    ``batch_size``, ``iteration`` (epochs) as in the course.  ``order``: explicit
    batch orders, one zero-based permutation per epoch (shape ``iteration x m``),
    the seam for reproducing a MATLAB run; otherwise ``rng`` (seed or Generator,
    default: the network's own generator) shuffles each epoch like ``randperm``.
    ``remainder``: ``'drop'`` (course: ``m/batch_size`` batches, the rest unused)
    or ``'keep'`` (a smaller last batch).  ``engine``: ``'fused'`` (Numba, one call
    per epoch) or ``'stepwise'`` (nn_forward / nn_backpropagation / nn_applygradient).
    """
    batch_size: int
    iteration: int = 1
    order: Any = None
    rng: Any = None
    remainder: str = "drop"
    engine: str = "fused"
    progress: bool = False


def parse_train_options(option: Any) -> TrainOptions:
    """Accept a dict, a struct-like object or a TrainOptions."""
    if isinstance(option, TrainOptions):
        return option
    fields = TrainOptions.__dataclass_fields__
    if isinstance(option, dict):
        items = dict(option)
    elif hasattr(option, "__dict__"):  # MATLAB-style struct object (SimpleNamespace, class instance)
        items = {k: v for k, v in vars(option).items() if not k.startswith("_")}
    else:
        raise TypeError(f"option must be a dict or a struct-like object; got {type(option).__name__}")
    unknown = set(items) - set(fields)
    if unknown:
        import difflib
        name = sorted(unknown)[0]
        close = difflib.get_close_matches(name, list(fields), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown training option {name!r}{hint} (valid: {', '.join(fields)})")
    if "batch_size" not in items:
        raise ValueError("option.batch_size is required (MATLAB: option.batch_size = 100)")
    opt = TrainOptions(**items)
    for name in ("batch_size", "iteration"):
        v = getattr(opt, name)
        if isinstance(v, np.ndarray) and v.size == 1:
            v = v.item()
        if isinstance(v, bool) or not isinstance(v, (int, np.integer, float, np.floating)) \
                or not np.isfinite(v) or v != int(v) or v < 1:
            raise ValueError(f"option.{name} must be a positive integer; got {v!r}")
        setattr(opt, name, int(v))
    if opt.remainder not in ("drop", "keep"):
        raise ValueError(f"option.remainder must be 'drop' or 'keep'; got {opt.remainder!r}")
    if opt.engine not in ENGINES:
        raise ValueError(f"option.engine must be one of {ENGINES}; got {opt.engine!r}")
    return opt


def batch_orders(opt: TrainOptions, nn: Network, m: int) -> np.ndarray:
    """One zero-based permutation of the m samples per epoch."""
    if opt.order is not None:
        order = np.asarray(opt.order)
        if order.ndim == 1:
            order = order[None, :]
        if order.shape != (opt.iteration, m):
            raise ValueError(f"option.order must have shape (iteration, m) = {(opt.iteration, m)}; "
                             f"got {order.shape}")
        if order.dtype.kind not in "iuf" or (order.dtype.kind == "f" and np.any(order != np.round(order))):
            raise ValueError("option.order must hold integer (zero-based) sample indices")
        order = order.astype(np.int64)
        if np.any(np.sort(order, axis=1) != np.arange(m)):
            raise ValueError("each row of option.order must be a permutation of 0..m-1 (zero-based)")
        return order
    rng = make_rng(opt.rng) if opt.rng is not None else nn["_rng"]
    return np.stack([rng.permutation(m) for _ in range(opt.iteration)])


def batch_bounds(m: int, batch_size: int, remainder: str) -> np.ndarray:
    """Start offsets of the batches plus the end (``starts[i]:starts[i+1]``)."""
    n_full = m // batch_size
    ends = [(i + 1) * batch_size for i in range(n_full)]
    if remainder == "keep" and m % batch_size:
        ends.append(m)
    return np.array([0] + ends, dtype=np.int64)


def _stepwise_epoch(nn: Network, x: np.ndarray, y: np.ndarray, perm: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    costs = np.empty(len(bounds) - 1)
    for i in range(len(bounds) - 1):
        idx = perm[bounds[i]:bounds[i + 1]]
        by = y[idx]
        costs[i] = forward_train(nn, x[idx], by)
        backward(nn, by)
        optim.apply_update(nn["_params"], nn["_grads"], nn["_state"], *step_args(nn))
    return costs


_SNAPSHOT_KEYS = ("_params", "_state", "_bnstats")


def _snapshot(nn: Network) -> dict:
    snap = {k: nn[k].copy() for k in _SNAPSHOT_KEYS if k in nn}
    snap.update({k: nn[k] for k in ("AdamTime", "vecNum", "cost", "_dropout_step") if k in nn})
    return snap


def _restore(nn: Network, snap: dict) -> None:
    for k, v in snap.items():
        if k in _SNAPSHOT_KEYS:
            nn[k][...] = v  # in place: the per-layer views stay valid
        else:
            nn[k] = v


def nn_train(nn: Network, option: Any, train_x: Any, train_y: Any) -> Network:
    """Train for ``option.iteration`` epochs of mini-batches
    (MATLAB ``nn = nn_train(nn, option, train_x, train_y)``); rows are samples.

    The network is changed in place and returned.  Per-batch costs are
    appended to ``nn.cost``.  If the cost becomes NaN/inf, or the run is
    interrupted (Ctrl-C), the network is rolled back to the end of the last
    complete epoch, ``nn.diverged`` / ``nn.interrupted`` is set, and a
    warning says so.
    """
    opt = parse_train_options(option)
    x, y = check_xy(nn, train_x, train_y, "train_x", "train_y")
    m = x.shape[0]
    if opt.batch_size > m:
        raise ValueError(f"option.batch_size ({opt.batch_size}) is larger than the number of samples ({m})")
    orders = batch_orders(opt, nn, m)
    bounds = batch_bounds(m, opt.batch_size, opt.remainder)
    if nn["batch_normalization"] and np.min(np.diff(bounds)) < 2:
        # the course's std of one sample makes S = sqrt(0/0): NaN from the first batch
        raise ValueError("batch normalization needs at least 2 samples per batch "
                         f"(batch_size={opt.batch_size}, remainder={opt.remainder!r})")
    sync_buffers(nn)
    nn["diverged"] = nn["interrupted"] = False
    if opt.engine == "fused":
        from .kernels.fused import fused_epoch  # noqa: PLC0415 - imports numba kernels lazily
        run_epoch = fused_epoch
    else:
        run_epoch = _stepwise_epoch
    epochs = range(opt.iteration)
    if opt.progress:
        from tqdm.auto import tqdm  # noqa: PLC0415
        epochs = tqdm(epochs, desc="nn_train", unit="epoch")
    done = 0
    snap = _snapshot(nn)
    try:
        for e in epochs:
            if nn["optimization_method"] == "Adam" and nn["adam"] == "course":
                nn["AdamTime"] = int(nn["AdamTime"]) + 1  # the course's time step counts epochs
            costs = run_epoch(nn, x, y, orders[e], bounds)
            if not (np.all(np.isfinite(costs)) and np.all(np.isfinite(nn["_params"]))):
                _restore(nn, snap)
                nn["diverged"] = True
                warnings.warn(
                    f"nn_train: the cost became NaN/inf in epoch {e + 1}; the network is kept as it was "
                    f"after epoch {done} (try a lower learning rate than {nn['learning_rate']})",
                    RuntimeWarning, stacklevel=2)
                break
            record_cost(nn, costs)
            done += 1
            snap = _snapshot(nn) if done < opt.iteration else snap
    except KeyboardInterrupt:
        _restore(nn, snap)
        nn["interrupted"] = True
        warnings.warn(f"nn_train interrupted: the network is kept as it was after epoch {done}",
                      RuntimeWarning, stacklevel=2)
    return nn

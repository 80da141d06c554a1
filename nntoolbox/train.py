"""``nn_train`` (MATLAB ``nn_train.m``): mini-batch training for a number of epochs, optionally
keeping the best network on validation data (the course's ``storedNN`` loop) inside the call."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from .applygradient import advance_epoch, apply_step, at_lookahead
from .backprop import backward
from .checks import (check_class_labels, check_differentiable, check_finite_parameters, check_trainable,
                     check_training_data, check_xy)
from .create import make_rng
from .engines import fused_epoch, training_engine
from .forward import ce_factor, forward_train, record_cost
from .interrupts import SigintOnce, sigint_deferred
from .functions import data_cost
from .memory import check_train
from .network import Network
from .options import check_number
from .predict import predict_rows
from .record import Record
from .threads import limited_blas
from .userwarn import warn

ENGINES = ("fused", "stepwise")
HISTORY_COLUMNS = ("epoch", "cost", "train_cost", "val_cost", "val_accuracy", "seconds")
# epochs whose costs and history rows wait in lists (Python objects, ~0.5 KiB an epoch) before they are
# appended to nn.cost / nn.history: a long run's memory grows by the records only
FLUSH_EPOCHS = 256


class TrainingStopped(RuntimeWarning):
    """``nn_train`` stopped early and kept its last complete epoch: the cost became NaN/inf, or Ctrl-C."""


@dataclass
class TrainOptions:
    """The course's ``option`` struct plus Python-side settings.

    ``batch_size``, ``iteration`` (epochs) as in the course.  ``order``: explicit
    batch orders, one zero-based permutation per epoch (shape ``iteration x m``),
    the seam for reproducing a MATLAB run; otherwise ``rng`` (seed or Generator,
    default: the network's own generator) shuffles each epoch like ``randperm``.
    ``progress``: a tqdm bar over the epochs (a string labels it).
    ``remainder``: ``'drop'`` (course: ``m/batch_size`` batches, the rest unused)
    or ``'keep'`` (a smaller last batch).  ``engine``: ``'fused'`` (Numba, one call
    per epoch) or ``'stepwise'`` (nn_forward / nn_backpropagation / nn_applygradient).

    The course's best-on-validation loop: ``validation=(x_val, y_val)`` scores the
    network after every epoch (``val_cost``, and ``val_accuracy`` for one-hot
    targets); ``restore_best`` (default: True when ``validation`` is given) returns
    the network of the best epoch (highest accuracy, else lowest ``val_cost``);
    ``patience=N`` stops after N epochs without improvement.  ``callback(epoch, nn)``
    runs after every epoch with a copy of the network: return ``False`` to stop,
    or a network to continue training from (e.g. ``nn`` with a new learning rate).

    ``train_cost=True`` adds the column ``train_cost`` to ``nn.history``: after every
    epoch, the cost over the WHOLE training set as ``nn_predict`` computes the outputs
    (stored batch-norm statistics, no dropout), by the formula of ``val_cost`` (the
    objective's term, without weight decay or sparsity penalty).  The column ``cost`` is
    the mean of the epoch's batch costs, taken while the weights moved; ``train_cost``
    is the cost of the network the epoch ended with, the curve to compare full-batch
    gradient descent, SGD and mini-batches by.  One inference pass over the training
    rows per epoch (the compiled one; not counted in ``seconds``).
    """
    batch_size: int
    iteration: int = 1
    order: Any = None
    rng: Any = None
    remainder: str = "drop"
    engine: str = "fused"
    progress: bool = False
    validation: Any = None
    patience: Any = None
    restore_best: Any = None
    callback: Any = None
    train_cost: bool = False


def parse_train_options(option: Any) -> TrainOptions:
    """Accept a dict, a struct-like object or a TrainOptions."""
    fields = TrainOptions.__dataclass_fields__
    if isinstance(option, TrainOptions):  # checked like the others (the checks canonicalise a private copy)
        items = dict(vars(option))
    elif isinstance(option, dict):
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
        setattr(opt, name, check_number(getattr(opt, name), f"option.{name}", lo=1, integer=True))
    if opt.remainder not in ("drop", "keep"):
        raise ValueError(f"option.remainder must be 'drop' or 'keep'; got {opt.remainder!r}")
    if opt.engine not in ENGINES:
        raise ValueError(f"option.engine must be one of {ENGINES}; got {opt.engine!r}")
    if opt.rng is not None and not isinstance(opt.rng, np.random.Generator) and (
            isinstance(opt.rng, bool) or not isinstance(opt.rng, (int, np.integer)) or opt.rng < 0):
        raise TypeError(f"option.rng must be a non-negative int seed or a numpy Generator; got {opt.rng!r}")
    if opt.patience is not None:
        opt.patience = check_number(opt.patience, "option.patience", lo=1, integer=True)
        if opt.validation is None:
            raise ValueError("option.patience needs option.validation = (x_val, y_val)")
    if opt.restore_best is None:
        opt.restore_best = opt.validation is not None
    elif opt.restore_best not in (True, False, 0, 1):
        raise ValueError(f"option.restore_best must be True or False; got {opt.restore_best!r}")
    elif opt.restore_best and opt.validation is None:
        raise ValueError("option.restore_best needs option.validation = (x_val, y_val)")
    if opt.train_cost not in (True, False, 0, 1):
        raise ValueError(f"option.train_cost must be True or False; got {opt.train_cost!r}")
    if opt.callback is not None and not callable(opt.callback):
        raise TypeError(f"option.callback must be a function callback(epoch, nn); got {type(opt.callback).__name__}")
    return opt


def batch_orders(opt: TrainOptions, rng: np.random.Generator, m: int) -> Iterator[np.ndarray]:
    """One zero-based permutation of the m samples per epoch, drawn when the epoch starts
    (so memory does not grow with ``iteration``); explicit ``option.order`` rows are checked first."""
    if opt.order is None:
        return (rng.permutation(m) for _ in range(opt.iteration))
    order = np.asarray(opt.order)
    if order.ndim == 1:
        order = order[None, :]
    if order.shape != (opt.iteration, m):
        raise ValueError(f"option.order must have shape (iteration, m) = {(opt.iteration, m)}; got {order.shape}")
    if order.dtype.kind not in "iuf" or (order.dtype.kind == "f" and np.any(order != np.round(order))):
        raise ValueError("option.order must hold integer (zero-based) sample indices")
    order = order.astype(np.int64)
    if np.any(np.sort(order, axis=1) != np.arange(m)):
        raise ValueError("each row of option.order must be a permutation of 0..m-1 (zero-based)")
    return iter(order)


def batch_bounds(m: int, batch_size: int, remainder: str) -> np.ndarray:
    """Start offsets of the batches plus the end (``starts[i]:starts[i+1]``)."""
    ends = np.arange(1, m // batch_size + 1, dtype=np.int64) * batch_size
    if remainder == "keep" and m % batch_size:
        ends = np.append(ends, m)
    return np.concatenate(([0], ends)).astype(np.int64)


def _stepwise_epoch(nn: Network, x: np.ndarray, y: np.ndarray, perm: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    costs = np.empty(len(bounds) - 1)
    for i in range(len(bounds) - 1):
        idx = perm[bounds[i]:bounds[i + 1]]
        by = y[idx]
        with at_lookahead(nn):  # the gradient is taken at the optimizer's look-ahead point (Nesterov)
            costs[i] = forward_train(nn, x[idx], by)
            backward(nn, by)
        apply_step(nn)
    return costs


def inference_cost(nn: Network, x: np.ndarray, yt: np.ndarray) -> tuple[float, np.ndarray]:
    """``(cost, outputs)`` of validated rows ``x`` with targets ``yt`` (``units x m``): the outputs as
    ``nn_predict`` gives them (compiled inference pass), the objective's data term of the cost."""
    out = predict_rows(nn, x)
    return data_cost(out.T, yt, nn["objective_function"], ce_factor(nn)), out


class Validation:
    """Scores a network on validation rows (``option.validation``): val_cost, and val_accuracy for
    classification; ``nn_train`` after each epoch, the demos on the network they keep."""

    def __init__(self, nn: Network, data: Any) -> None:
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise TypeError("option.validation must be a pair (x_val, y_val)")
        self.x, self.y = check_xy(nn, data[0], data[1], "validation x", "validation y")
        self.yt = self.y.T
        one_hot = self.y.shape[1] > 1 and np.all((self.y == 0) | (self.y == 1)) and np.all(self.y.sum(axis=1) == 1)
        # classification (scored by accuracy) with cross entropy or one-hot targets; else by val_cost
        classify = nn["objective_function"] == "Cross Entropy" or one_hot
        self.labels = check_class_labels(self.y, "validation y") if classify else None

    def score(self, nn: Network) -> dict[str, float]:
        cost, out = inference_cost(nn, self.x, self.yt)
        row = {"val_cost": cost}
        if self.labels is not None:
            row["val_accuracy"] = float(np.mean(np.argmax(out, axis=1) == self.labels))
        return row

    def better(self, row: dict[str, float], best: dict[str, float] | None) -> bool:
        if best is None:
            return True
        if self.labels is not None:
            return row["val_accuracy"] > best["val_accuracy"]
        return row["val_cost"] < best["val_cost"]


def _flush(nn: Network, costs: list[np.ndarray], rows: list[dict[str, float]]) -> None:
    """Record the epochs' batch costs (``nn.cost``, the course's rule) and history rows on ``nn``
    (appended in amortised constant time: :class:`nntoolbox.record.Record`)."""
    if costs:
        record_cost(nn, np.concatenate(costs))
    if rows:
        hist = dict(nn._hist)
        n_old = len(next(iter(hist.values()))) if hist else 0
        for col in HISTORY_COLUMNS:
            if col in rows[0] or col in hist:
                new = np.array([r.get(col, math.nan) for r in rows])
                hist[col] = hist[col].append(new) if col in hist else \
                    Record(np.concatenate([np.full(n_old, np.nan), new]) if n_old else new)
        nn._hist = hist
    costs.clear()
    rows.clear()


def nn_train(nn: Network, option: Any, train_x: Any, train_y: Any) -> Network:
    """Train for ``option.iteration`` epochs of mini-batches
    (MATLAB ``nn = nn_train(nn, option, train_x, train_y)``); rows are samples.

    Returns the trained network; ``nn`` itself is unchanged (MATLAB value
    semantics: ``storedNN = nn`` keeps what it stored).  Per-batch costs are
    appended to ``nn.cost``; ``nn.history`` (a pandas DataFrame) gets one row per
    epoch: ``epoch``, ``cost`` (mean batch cost), ``train_cost`` (with
    ``option.train_cost``), ``val_cost``, ``val_accuracy``, ``seconds``.  With
    ``option.validation`` the network of the best epoch is returned
    (``nn.best_epoch``; see :class:`TrainOptions`).

    If the cost becomes NaN/inf, or the run is interrupted (Ctrl-C), the run
    stops at the end of the last complete epoch, ``nn.diverged`` /
    ``nn.interrupted`` is set, and a warning says so.  Further Ctrl-Cs while
    it stops (or one after the last epoch) only set ``nn.interrupted``.  A
    caller that takes the run as a result checks ``nn.interrupted``.
    """
    # BLAS threads inside training: see nntoolbox.threads
    with SigintOnce() as sigint, limited_blas():
        work = _nn_train(nn, option, train_x, train_y, sigint)
    if sigint.received and not work["interrupted"]:  # a Ctrl-C while the record was written: say so
        work._fields["interrupted"] = True
        warn(_INTERRUPTED, TrainingStopped)
    return work


_INTERRUPTED = "nn_train interrupted: the network is kept as it was after its last complete epoch"


def _nn_train(nn: Network, option: Any, train_x: Any, train_y: Any, sigint: SigintOnce) -> Network:
    opt = parse_train_options(option)
    check_differentiable(nn, "nn_train")
    check_finite_parameters(nn)
    # MemoryError before copying what cannot fit, or running to where its record cannot
    check_train(nn, train_x, train_y, opt.batch_size, opt.iteration, len(HISTORY_COLUMNS))
    x, y = check_training_data(nn, train_x, train_y, "train_x", "train_y")
    m = x.shape[0]
    if opt.batch_size > m:
        raise ValueError(f"option.batch_size ({opt.batch_size}) is larger than the number of samples ({m})")
    bounds = batch_bounds(m, opt.batch_size, opt.remainder)
    # every batch has batch_size rows but the last, which may be smaller
    check_trainable(nn, int(bounds[-1] - bounds[-2]), f"batch_size={opt.batch_size}, remainder={opt.remainder!r}")
    val = Validation(nn, opt.validation) if opt.validation is not None else None
    yt = y.T if opt.train_cost else None
    work = nn.copy()
    own_rng = opt.rng is None  # the network's own batch-order stream advances with it
    gen = work._generator() if own_rng else make_rng(opt.rng)
    orders = batch_orders(opt, gen, m)
    run_epoch: Callable = fused_epoch if training_engine(work, opt.engine) == "fused" else _stepwise_epoch
    work._fields["diverged"] = work._fields["interrupted"] = False
    first = len(work._hist.get("epoch", ())) + 1
    epochs = range(first, first + opt.iteration)
    bar = None
    if opt.progress:
        from tqdm.auto import tqdm  # noqa: PLC0415
        epochs = bar = tqdm(epochs, desc=opt.progress if isinstance(opt.progress, str) else "nn_train", unit="epoch")
    last = first + opt.iteration - 1
    costs: list[np.ndarray] = []
    rows: list[dict[str, float]] = []
    # the network after the last complete epoch (copied on use) and its count of pending epochs; the
    # argument itself is never changed, so it serves before the first epoch
    good = (nn, 0)
    best, best_row, since_best = None, None, 0
    try:
        for epoch in epochs:
            advance_epoch(work)  # the course's AdamTime counts epochs
            perm = next(orders)
            if own_rng:
                work._rng_state = gen.bit_generator.state
            t0 = time.perf_counter()
            c = run_epoch(work, x, y, perm, bounds)
            seconds = time.perf_counter() - t0
            # a square that overflows counts as diverged too (the fused kernel skips the L2 sum, which
            # used to catch it, when weight decay is 0)
            p = work._buf.params
            with np.errstate(over="ignore"):
                finite = np.all(np.isfinite(c)) and np.isfinite(np.dot(p, p))
            if not finite:
                work = good[0].copy()
                work._fields["diverged"], work._fields["interrupted"] = True, False
                warn(f"nn_train: the cost became NaN/inf in epoch {epoch}; the network is kept as it was "
                     f"after epoch {epoch - 1} (try a lower learning rate than {work['learning_rate']})",
                     TrainingStopped)
                break
            row = {"epoch": epoch, "cost": float(np.mean(c)) if c.size else math.nan, "seconds": seconds}
            if yt is not None:
                row["train_cost"] = inference_cost(work, x, yt)[0]
            if val is not None:
                row.update(val.score(work))
            costs.append(c)
            rows.append(row)
            stop, new_best = False, None
            if val is not None:
                if val.better(row, best_row):
                    best_row, since_best = row, 0
                    if opt.restore_best:
                        new_best = work.copy()
                        new_best._fields["best_epoch"] = epoch
                else:
                    since_best += 1
                    stop = opt.patience is not None and since_best >= opt.patience
            if bar is not None:
                bar.set_postfix({k: f"{v:.4g}" for k, v in row.items() if k not in ("epoch", "seconds")},
                                refresh=False)
            if opt.callback is not None:
                _flush(work, costs, rows)
                answer = opt.callback(epoch, work.copy())
                if isinstance(answer, Network):
                    if answer.sizes != work.sizes:
                        raise ValueError(f"option.callback returned a network of size {list(answer.sizes)}; "
                                         f"training needs {list(work.sizes)}")
                    work = answer.copy()
                stop = stop or answer is False
            if epoch != last:  # after the last epoch nothing can roll back
                if len(costs) >= FLUSH_EPOCHS:  # memory: the pending epochs go to the records' amortised storage
                    with sigint_deferred():  # flushed and snapshotted together; a Ctrl-C is raised after
                        _flush(work, costs, rows)
                        good = (work.copy(), 0)
                else:
                    good = (work.copy(), len(costs))
            if new_best is not None:
                best = new_best
            if stop:
                break
        sigint.armed = False  # from here on a Ctrl-C is counted (nn_train reports it), never raised
    except KeyboardInterrupt:
        sigint.armed = False
        work, pending = good[0].copy(), good[1]
        del costs[pending:], rows[pending:]
        work._fields["diverged"], work._fields["interrupted"] = False, True
        warn(_INTERRUPTED, TrainingStopped)
    finally:
        if bar is not None:
            bar.close()
    if best is not None:
        # the best epoch's network, with the record (cost, history, flags) of the whole run
        done = work
        for key in ("diverged", "interrupted"):
            best._fields[key] = done._fields[key]
        best._fields["cost"], best._hist = done._fields["cost"], done._hist
        work = best
    _flush(work, costs, rows)
    return work

"""``nn_train`` (MATLAB ``nn_train.m``): mini-batch training for a number of epochs, optionally
keeping the best network on validation data (the course's ``storedNN`` loop) inside the call."""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import numpy as np

from .applygradient import advance_epoch
from .checks import check_differentiable, check_trainable, check_training_data, check_validation_data
from .create import make_rng
from .engines import epoch_runner, inference_score
from .forward import record_cost
from .interrupts import SigintOnce, sigint_deferred
from .memory import check_train
from .network import Network
from .options import check_number
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


_OPTION_NAMES = frozenset(TrainOptions.__dataclass_fields__)
# Option dicts of plain values already parsed (the course's loop passes the same small dict every epoch),
# keyed by their items and each value's type (True is not 1 here); at most _PARSED_MAX, then started anew
_PLAIN = frozenset({int, float, str, bool, type(None)})
_PARSED: dict[tuple, TrainOptions] = {}
_PARSED_MAX = 64


def parse_train_options(option: Any) -> TrainOptions:
    """Accept a dict, a struct-like object or a TrainOptions; the result is shared (read it, don't
    change it: ``dataclasses.replace`` makes a changed copy)."""
    if type(option) is dict and all(type(v) in _PLAIN for v in option.values()):
        key = tuple((k, type(v), v) for k, v in option.items())
        opt = _PARSED.get(key)
        if opt is None:
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            opt = _PARSED[key] = _parse(option)
        return opt
    return _parse(option)


def _parse(option: Any) -> TrainOptions:
    if isinstance(option, TrainOptions):  # checked like the others (the checks canonicalise a private copy)
        items = dict(vars(option))
    elif isinstance(option, dict):
        items = dict(option)
    elif hasattr(option, "__dict__"):  # MATLAB-style struct object (SimpleNamespace, class instance)
        items = {k: v for k, v in vars(option).items() if not k.startswith("_")}
    else:
        raise TypeError(f"option must be a dict or a struct-like object; got {type(option).__name__}")
    unknown = items.keys() - _OPTION_NAMES
    if unknown:
        import difflib
        name, fields = sorted(unknown)[0], list(TrainOptions.__dataclass_fields__)
        close = difflib.get_close_matches(name, fields, n=1)
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
    bounds = np.arange(0, m // batch_size * batch_size + 1, batch_size, dtype=np.int64)
    return np.append(bounds, np.int64(m)) if remainder == "keep" and m % batch_size else bounds


class Validation:
    """Scores a network on validation rows (``option.validation``): val_cost, and val_accuracy for
    classification; ``nn_train`` after each epoch, the demos on the network they keep."""

    def __init__(self, nn: Network, data: Any) -> None:
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise TypeError("option.validation must be a pair (x_val, y_val)")
        self.x, self.y, self.classify = check_validation_data(nn, data[0], data[1])

    def score(self, nn: Network) -> dict[str, float]:
        cost, correct = inference_score(nn, self.x, self.y, self.classify)
        row = {"val_cost": cost}
        if self.classify:
            row["val_accuracy"] = correct / self.x.shape[0]
        return row

    def better(self, row: dict[str, float], best: dict[str, float] | None) -> bool:
        if best is None:
            return True
        if self.classify:
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
    run = _Run(nn, opt, *_checked_run(nn, opt, train_x, train_y))
    try:
        for epoch in run.epochs():
            if run.step(epoch):
                break
        sigint.armed = False  # from here on a Ctrl-C is counted (nn_train reports it), never raised
    except KeyboardInterrupt:
        sigint.armed = False
        run.roll_back(interrupted=True)
    finally:
        run.close()
    return run.result()


def _checked_run(nn: Network, opt: TrainOptions, train_x: Any,
                 train_y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, Validation | None]:
    """``(x, y, bounds, validation)`` of a run, after every check that can refuse it before it starts."""
    check_differentiable(nn, "nn_train")  # (NaN/inf parameters: each epoch refuses to start from them)
    # MemoryError before copying what cannot fit, or running to where its record cannot
    check_train(nn, train_x, train_y, opt.batch_size, opt.iteration, len(HISTORY_COLUMNS))
    x, y = check_training_data(nn, train_x, train_y, "train_x", "train_y")
    m = x.shape[0]
    if opt.batch_size > m:
        raise ValueError(f"option.batch_size ({opt.batch_size}) is larger than the number of samples ({m})")
    bounds = batch_bounds(m, opt.batch_size, opt.remainder)
    # every batch has batch_size rows but the last, which may be smaller
    check_trainable(nn, int(bounds[-1] - bounds[-2]), f"batch_size={opt.batch_size}, remainder={opt.remainder!r}")
    return x, y, bounds, Validation(nn, opt.validation) if opt.validation is not None else None


# The batch-order generator a run left behind, with the state it recorded on its network: a call that
# continues from that network (the course's nn = nn_train(nn, ...) loop) takes it over instead of
# rebuilding it from the state (~10 us).  A state is replaced, never changed in place, so its identity
# says the generator is exactly there.
_KEPT: list = [None, None]
_KEPT_LOCK = threading.Lock()


def _take_generator(nn: Network) -> np.random.Generator:
    with _KEPT_LOCK:
        (state, gen), _KEPT[:] = _KEPT, (None, None)
    return gen if state is nn._rng_state else nn._generator()


def _keep_generator(nn: Network, gen: np.random.Generator) -> None:
    with _KEPT_LOCK:
        _KEPT[:] = nn._rng_state, gen


class _Run:
    """One ``nn_train`` loop: the working network, the last complete epoch to roll back to, the best
    epoch on validation rows, and the epochs' records not yet moved onto the network."""

    def __init__(self, nn: Network, opt: TrainOptions, x: np.ndarray, y: np.ndarray, bounds: np.ndarray,
                 val: Validation | None) -> None:
        self.opt, self.x, self.y, self.bounds, self.val = opt, x, y, bounds, val
        self.work = nn.copy()
        self.own_rng = opt.rng is None  # the network's own batch-order stream advances with it
        self.gen = _take_generator(self.work) if self.own_rng else make_rng(opt.rng)
        self.drawn = None  # the state recorded after the last draw (None while the generator is past it)
        self.orders = batch_orders(opt, self.gen, x.shape[0])
        self.run_epoch = epoch_runner(self.work, opt.engine)
        self.work._fields["diverged"] = self.work._fields["interrupted"] = False
        self.first = len(self.work._hist.get("epoch", ())) + 1
        self.last = self.first + opt.iteration - 1
        self.bar = None
        self.costs: list[np.ndarray] = []
        self.rows: list[dict[str, float]] = []
        # the network after the last complete epoch (copied on use) and its count of pending epochs; the
        # argument itself is never changed, so it serves before the first epoch
        self.good = (nn, 0)
        self.best: Network | None = None
        self.best_row: dict[str, float] | None = None
        self.since_best = 0

    def epochs(self) -> Iterable[int]:
        epochs = range(self.first, self.last + 1)
        if self.opt.progress:
            from tqdm.auto import tqdm  # noqa: PLC0415
            label = self.opt.progress if isinstance(self.opt.progress, str) else "nn_train"
            epochs = self.bar = tqdm(epochs, desc=label, unit="epoch")
        return epochs

    def step(self, epoch: int) -> bool:
        """Train epoch ``epoch`` and keep its record; True when the run stops after it."""
        advance_epoch(self.work)  # the course's AdamTime counts epochs
        self.drawn = None
        perm = next(self.orders)
        if self.own_rng:
            self.work._rng_state = self.drawn = self.gen.bit_generator.state
        t0 = time.perf_counter()
        c, finite = self.run_epoch(self.work, self.x, self.y, perm, self.bounds)
        seconds = time.perf_counter() - t0
        if not finite:
            self.roll_back(interrupted=False)
            warn(f"nn_train: the cost became NaN/inf in epoch {epoch}; the network is kept as it was "
                 f"after epoch {epoch - 1} (try a lower learning rate than {self.work['learning_rate']})",
                 TrainingStopped)
            return True
        row = self._row(epoch, c, seconds)
        self.costs.append(c)
        self.rows.append(row)
        new_best, stop = self._track_best(epoch, row)
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in row.items() if k not in ("epoch", "seconds")},
                                 refresh=False)
        stop = self._call_back(epoch) or stop
        self._snapshot(epoch)
        if new_best is not None:  # only now: a Ctrl-C before the snapshot drops this epoch
            self.best = new_best
        return stop

    def _row(self, epoch: int, c: np.ndarray, seconds: float) -> dict[str, float]:
        row = {"epoch": epoch, "cost": float(np.add.reduce(c)) / c.size if c.size else math.nan, "seconds": seconds}
        if self.opt.train_cost:
            row["train_cost"] = inference_score(self.work, self.x, self.y)[0]
        if self.val is not None:
            row.update(self.val.score(self.work))
        return row

    def _track_best(self, epoch: int, row: dict[str, float]) -> tuple[Network | None, bool]:
        """``(a copy of the network if this epoch is the best so far and the run restores the best,
        whether option.patience ran out)``."""
        if self.val is None:
            return None, False
        if not self.val.better(row, self.best_row):
            self.since_best += 1
            return None, self.opt.patience is not None and self.since_best >= self.opt.patience
        self.best_row, self.since_best = row, 0
        if not self.opt.restore_best:
            return None, False
        best = self.work.copy()
        best._fields["best_epoch"] = epoch
        return best, False

    def _call_back(self, epoch: int) -> bool:
        """``option.callback(epoch, copy)``: True when it answers False; a network it returns is trained on."""
        if self.opt.callback is None:
            return False
        _flush(self.work, self.costs, self.rows)
        answer = self.opt.callback(epoch, self.work.copy())
        if isinstance(answer, Network):
            if answer.sizes != self.work.sizes:
                raise ValueError(f"option.callback returned a network of size {list(answer.sizes)}; "
                                 f"training needs {list(self.work.sizes)}")
            self.work = answer.copy()
        return answer is False

    def _snapshot(self, epoch: int) -> None:
        """Keep the network after this epoch to roll back to (after the last epoch nothing can roll back)."""
        if epoch == self.last:
            return
        if len(self.costs) >= FLUSH_EPOCHS:  # memory: the pending epochs go to the records' amortised storage
            with sigint_deferred():  # flushed and snapshotted together; a Ctrl-C is raised after
                _flush(self.work, self.costs, self.rows)
                self.good = (self.work.copy(), 0)
        else:
            self.good = (self.work.copy(), len(self.costs))

    def roll_back(self, interrupted: bool) -> None:
        """Back to the last complete epoch (NaN/inf cost, or Ctrl-C: then its warning)."""
        self.work, pending = self.good[0].copy(), self.good[1]
        del self.costs[pending:], self.rows[pending:]
        self.work._fields["diverged"], self.work._fields["interrupted"] = not interrupted, interrupted
        if interrupted:
            warn(_INTERRUPTED, TrainingStopped)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def result(self) -> Network:
        """The network the run returns, with the record of the whole run."""
        work = self.work
        if self.best is not None:  # the best epoch's network, with the run's cost, history and flags
            best = self.best
            for key in ("diverged", "interrupted"):
                best._fields[key] = work._fields[key]
            best._fields["cost"], best._hist = work._fields["cost"], work._hist
            work = best
        _flush(work, self.costs, self.rows)
        # the next call continuing from this network takes the generator over, moved back to the network's
        # stream when that is behind it (the best epoch's, a rolled-back one's): ~3 us, a new one ~10
        state, bits = work._rng_state, self.gen.bit_generator
        if self.own_rng and (state is self.drawn or state["bit_generator"] == type(bits).__name__):
            if state is not self.drawn:
                bits.state = state
            _keep_generator(work, self.gen)
        return work

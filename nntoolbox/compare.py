"""Sweeps: every configuration of a grid of ``nn_create``/training options x seeds.

:func:`sweep` trains each run (one configuration, one seed) in its own worker
process (joblib; BLAS limited to one thread per run with threadpoolctl so that
runs do not fight over cores), or on a Dask cluster given its scheduler
address.  It returns a tidy table (one row per run per epoch) and a summary
(mean ± std over seeds per configuration), writes both with plots into the
output folder, and resumes: each run's result is written atomically to
``<out>/runs/<key>.json``, keyed by configuration, seed, epochs and data, and
is not recomputed when the sweep is started again (a damaged record is rerun).
Ctrl-C stops the sweep: the runs finished so far are saved, the interrupted
one is not (a resume reruns it), and ``KeyboardInterrupt`` reaches the caller.
A run that fails (bad option, exception) or diverges is recorded with its
status; the others go on.
See docs/compare.md.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from . import plotting
from .create import nn_create
from .datasets.split import Split
from .interrupts import sigint_deferred
from .io import atomic_write, nn_save
from .metrics import evaluate
from .options import check_number
from .plugins import Origin, load_origins, origins_for
from .train import HISTORY_COLUMNS, nn_train

__all__ = ["SweepData", "SweepResult", "configurations", "config_label", "sweep", "summarize"]

# keys of a configuration that are not nn_create options
RUN_KEYS = ("hidden", "batch_size")
# stuck: Evaluation.stuck of the test set ("stuck at one class", "at chance" or "")
RESULT_COLUMNS = ("status", "best_epoch", "best_val_accuracy", "test_accuracy", "test_auc", "stuck", "seconds",
                  "error")
RESULT_VERSION = 2  # 2: runs record "stuck"


# train/val/test rows with one-hot targets: the demos' container
SweepData = Split


def as_sweep_data(data: Any) -> Split:
    """Anything with train_x, train_y, val_x, val_y, test_x, test_y as a :class:`SweepData`."""
    try:
        return Split(*(np.asarray(getattr(data, k)) for k in Split.__dataclass_fields__))
    except AttributeError as e:
        raise TypeError(f"data must have train_x, train_y, val_x, val_y, test_x, test_y ({e})") from None


def fingerprint(data: Split) -> str:
    """Hash of the arrays: a run's key changes when the data or split does."""
    h = hashlib.sha1()
    for k in Split.__dataclass_fields__:
        a = np.ascontiguousarray(getattr(data, k))
        h.update(f"{k}{a.shape}{a.dtype}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


@dataclass
class SweepResult:
    """``runs``: one row per run per epoch (config, its options, seed, epoch,
    cost, val_cost, val_accuracy, seconds, status); ``results``: one row per
    run (key: its file name in ``<out>/runs``, status, best_epoch, best_val_accuracy, test_accuracy, test_auc,
    seconds, error); ``summary``: one row per configuration; ``paths``: files written."""
    runs: pd.DataFrame
    results: pd.DataFrame
    summary: pd.DataFrame
    paths: list[Path]


# ------------------------------------------------------------ configurations
def configurations(grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A grid ``{name: [values]}`` -> every combination; a list of dicts -> those configurations."""
    if isinstance(grid, Mapping):
        for name, values in grid.items():
            if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
                raise TypeError(f"grid[{name!r}] must be a list of values; got {values!r}")
        names = list(grid)
        return [dict(zip(names, combo)) for combo in itertools.product(*(list(grid[n]) for n in names))]
    configs = [dict(c) for c in grid]
    if not all(isinstance(c, dict) for c in configs):
        raise TypeError("grid must be a dict of value lists or a list of dicts")
    return configs


def config_label(config: Mapping[str, Any]) -> str:
    """``'optimization_method=Adam, learning_rate=0.01'`` (``'base'`` for an empty configuration)."""
    return ", ".join(f"{k}={_text(v)}" for k, v in config.items()) or "base"


def _text(v: Any) -> str:
    return ",".join(map(str, v)) if isinstance(v, (list, tuple)) else f"{v:g}" if isinstance(v, float) else str(v)


def _plain(v: Any) -> Any:
    """JSON-friendly value (tuples -> lists, numpy scalars -> Python)."""
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v.item() if isinstance(v, np.generic) else v


def run_key(spec: Mapping[str, Any], data_hash: str) -> str:
    text = json.dumps({"spec": spec, "data": data_hash, "version": RESULT_VERSION}, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------- one run
def run_one(spec: Mapping[str, Any], data: SweepData, class_names: Sequence[str] | None = None,
            keep_network: bool = False, origins: Sequence[Origin] = ()) -> dict[str, Any]:
    """Train one run in this process with BLAS limited to one thread; never raises
    (an exception is returned as ``status='failed'`` with its message) but
    ``KeyboardInterrupt`` (Ctrl-C: the run is not finished, so it is no result).

    ``spec``: ``options`` (nn_create options incl. ``hidden``, ``batch_size``),
    ``seed``, ``epochs``, ``key``.  ``keep_network``: return the network of the
    best validation epoch as ``result['network']`` (it travels back to the caller).  ``origins``: what
    registers the optimizers/activations the run uses, imported first (in a worker process, see
    nntoolbox.plugins)."""
    start = time.perf_counter()
    result: dict[str, Any] = {"key": spec["key"], "spec": dict(spec), "status": "failed", "history": [],
                              "best_epoch": 0, "best_val_accuracy": math.nan, "test_accuracy": math.nan,
                              "test_auc": math.nan, "stuck": "", "error": ""}
    try:
        with threadpool_limits(limits=1), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # divergence is reported as the run's status
            load_origins(origins)
            options = dict(spec["options"])
            hidden = options.pop("hidden", ())
            batch_size = options.pop("batch_size", 100)
            # nn_create checks the sizes: 2.5 is refused, never truncated to 2
            sizes = [data.train_x.shape[1], *np.atleast_1d(hidden).tolist(), data.train_y.shape[1]]
            nn = nn_create(sizes, **options, seed=spec["seed"])
            nn = nn_train(nn, {"batch_size": batch_size, "iteration": spec["epochs"],
                               "validation": (data.val_x, data.val_y)}, data.train_x, data.train_y)
            if nn["interrupted"]:  # nn_train kept the finished epochs; a truncated run is no result
                raise KeyboardInterrupt
            history = nn.history if "history" in nn else pd.DataFrame(columns=HISTORY_COLUMNS)
            result["history"] = history.reindex(columns=list(HISTORY_COLUMNS)).to_dict("list")
            if len(history):
                ev = evaluate(nn, data.test_x, data.test_y, class_names)
                result.update(best_epoch=int(nn.get("best_epoch", len(history))),
                              best_val_accuracy=float(history["val_accuracy"].max()),
                              test_accuracy=ev.accuracy, test_auc=ev.auc, stuck=ev.stuck)
                if keep_network:
                    result["network"] = nn
            result["status"] = "diverged" if nn.get("diverged") else "ok"
    except Exception as e:  # noqa: BLE001 - a failing run is a result, the sweep goes on
        result["error"] = "".join(traceback.format_exception_only(type(e), e)).strip()
    result["seconds"] = time.perf_counter() - start
    return result


# ------------------------------------------------------------ executors
def _local(todo: list[dict], data: SweepData, n_jobs: int, *args: Any) -> Iterator[dict]:
    if n_jobs == 1:  # in this process: no pickling, easy debugging
        for spec in todo:
            yield run_one(spec, data, *args)
        return
    from joblib import Parallel, delayed  # noqa: PLC0415
    parallel = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered")
    yield from parallel(delayed(run_one)(spec, data, *args) for spec in todo)


def _dask(todo: list[dict], data: SweepData, scheduler: Any, timeout: float | None, *args: Any) -> Iterator[dict]:
    try:
        from distributed import Client, as_completed  # noqa: PLC0415
    except ImportError:
        raise ImportError("scheduler= needs dask.distributed: pip install 'nntoolbox[cluster]'") from None
    own = not isinstance(scheduler, Client)
    client = Client(getattr(scheduler, "scheduler_address", scheduler)) if own else scheduler
    try:
        shared = client.scatter(data, broadcast=True)  # the data travels to each worker once
        futures = [client.submit(run_one, spec, shared, *args, key=f"nntoolbox-run-{spec['key']}", pure=False)
                   for spec in todo]
        for future in as_completed(futures, timeout=timeout):
            yield future.result()
    finally:
        if own:
            client.close()


# ---------------------------------------------------------------- the sweep
def sweep(base: Mapping[str, Any], grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]], data: Any, *,
          seeds: Sequence[int] = (0,), epochs: int = 100, n_jobs: int = 1, out: str | Path | None = None,
          scheduler: Any = None, class_names: Sequence[str] | None = None, save_networks: bool = False,
          plots: bool = True, progress: bool = True, timeout: float | None = None) -> SweepResult:
    """Train every configuration (``base`` updated by each of ``grid``) with every seed.

    ``base`` / ``grid`` values: ``nn_create`` options (Python spelling), plus
    ``hidden`` (hidden layer sizes; input and output sizes come from the data)
    and ``batch_size`` (default 100).  ``grid``: ``{name: [values]}`` for the
    full product, or a list of dicts.  ``data``: train/val/test rows, anything
    with ``train_x, train_y, val_x, val_y, test_x, test_y`` (one-hot targets:
    sweeps compare classifiers).  Each run trains ``epochs`` epochs with
    ``nn_train(..., validation=(val_x, val_y))`` and is tested with the network
    of its best validation epoch.  ``n_jobs`` worker processes (joblib, -1: one
    per core); ``scheduler``: a Dask scheduler address (``'tcp://host:8786'``),
    ``LocalCluster`` or ``Client`` instead.  ``out``: folder for the results
    (``runs/<key>.json`` per run, ``runs.csv``, ``results.csv``, ``summary.csv``
    and PNGs); runs found there are loaded, not recomputed.  ``save_networks``
    also saves each run's best network as ``runs/<key>.npz`` (written here, so
    remote workers need no shared folder).  ``timeout``: seconds to wait for
    the runs on a Dask cluster (``TimeoutError`` after that; finished runs are kept).
    Worker processes re-register the optimizers and activations the configurations name from where
    they were registered (a module, or a file run by ``nntoolbox.plugins.import_file``); one registered
    in ``__main__`` (a notebook cell) cannot travel: ``ValueError`` unless ``n_jobs=1``.
    """
    data = as_sweep_data(data)
    epochs = check_number(epochs, "epochs", lo=1, integer=True)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must list at least one seed")
    grid_items = configurations(grid)
    configs = [{**base, **c} for c in grid_items]
    labels = [config_label(c) for c in grid_items]
    if len(set(labels)) != len(labels):
        raise ValueError(f"two configurations are the same: {labels}")
    data_hash = fingerprint(data)
    specs = []
    for label, config in zip(labels, configs):
        # a student's file that changed makes new runs (built-ins and modules leave the key as it was)
        files = "".join(o.sha256 for o in origins_for([config], travel=False) if o.file)
        for seed in seeds:
            spec = {"config": label, "options": {k: _plain(v) for k, v in config.items()}, "seed": seed,
                    "epochs": int(epochs)}
            spec["key"] = run_key({k: spec[k] for k in ("options", "seed", "epochs")}, data_hash + files)
            specs.append(spec)
    run_dir = Path(out) / "runs" if out is not None else None
    done: dict[str, dict] = {}
    if run_dir is not None and run_dir.is_dir():
        for spec in specs:
            path = run_dir / f"{spec['key']}.json"
            result = load_record(path, spec) if path.is_file() else None
            if result is not None and not (save_networks and result["status"] == "ok"
                                           and not path.with_suffix(".npz").is_file()):
                done[spec["key"]] = result  # else: rerun to get the network asked for now
    todo = [s for s in specs if s["key"] not in done]
    keep = save_networks and run_dir is not None
    # workers re-register the user's optimizers/activations from these (refused when defined in __main__)
    origins = origins_for(configs, travel=scheduler is not None or n_jobs != 1)
    runs = (_dask(todo, data, scheduler, timeout, class_names, keep, origins) if scheduler is not None
            else _local(todo, data, n_jobs, class_names, keep, origins))
    from tqdm.auto import tqdm  # noqa: PLC0415
    with tqdm(total=len(specs), initial=len(done), desc="sweep", unit="run", disable=not progress) as bar:
        for result in runs:  # Ctrl-C: the runs saved so far stay, the KeyboardInterrupt goes on to the caller
            with sigint_deferred():  # a finished run is saved whole (its network, then its record)
                network = result.pop("network", None)
                done[result["key"]] = result
                if network is not None:  # before the .json: a run counts as done once its .json exists
                    nn_save(network, run_dir / f"{result['key']}.npz")
                if run_dir is not None:
                    with atomic_write(run_dir / f"{result['key']}.json") as f:
                        json.dump(result, f)
                bar.update()
    ordered = [done[s["key"]] for s in specs]
    return _tables([{**r, "spec": s} for r, s in zip(ordered, specs)], labels, out, plots)


def load_record(path: Path, spec: Mapping[str, Any]) -> dict[str, Any] | None:
    """The saved result of run ``spec``, or None (with a warning naming the file) when ``path`` is not one:
    empty, truncated, not a result of this run, or a run recorded ``ok`` with fewer epochs than asked (an
    interrupt swallowed by an older version); the sweep then reruns it."""
    try:
        result = json.loads(path.read_bytes())
        if not isinstance(result, dict):
            raise ValueError("not a JSON object")
        missing = [k for k in ("key", "history", *RESULT_COLUMNS) if k not in result]
        if missing:
            raise ValueError(f"no {', '.join(missing)}")
        history = result["history"]  # a dict of columns, or [] from a run that failed before training
        if result["key"] != spec["key"] or result["status"] not in ("ok", "failed", "diverged") \
                or not isinstance(history, (dict, list)):
            raise ValueError("not the result of this run")
        epochs = len(history.get("epoch", ())) if isinstance(history, dict) else 0
        if result["status"] == "ok" and epochs != spec["epochs"]:
            raise ValueError(f"status ok after {epochs} of {spec['epochs']} epochs")
    except (ValueError, TypeError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        warnings.warn(f"sweep: {path} is not a complete run record ({str(e)[:200]}); running it again",
                      UserWarning, stacklevel=3)
        return None
    return result


# ---------------------------------------------------------------- tables
def _tables(results: list[dict], labels: list[str], out: str | Path | None, plots: bool) -> SweepResult:
    option_names = list(dict.fromkeys(k for r in results for k in r["spec"]["options"]))
    rows, per_run = [], []
    for r in results:
        spec = r["spec"]
        ident = {"config": spec["config"],
                 **{k: _text(v) if isinstance(v, (list, tuple)) else v
                    for k, v in ((n, spec["options"].get(n)) for n in option_names)},
                 "seed": spec["seed"]}
        per_run.append({**ident, "key": r["key"], **{k: r[k] for k in RESULT_COLUMNS}})
        hist = pd.DataFrame(r["history"]).reindex(columns=list(HISTORY_COLUMNS))
        rows.append(hist.assign(**ident, status=r["status"]))
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    table = table[["config", *option_names, "seed", *HISTORY_COLUMNS, "status"]]
    table["epoch"] = table["epoch"].astype("Int64")
    results_df = pd.DataFrame(per_run)
    summary = summarize(results_df, labels)
    paths: list[Path] = []
    if out is not None:
        out = Path(out)
        for name, frame, index in (("runs", table, False), ("results", results_df, False),
                                   ("summary", summary, True)):
            with atomic_write(out / f"{name}.csv") as f:
                frame.to_csv(f, index=index)
            paths.append(out / f"{name}.csv")
        if plots and len(table.dropna(subset=["val_accuracy"])):
            paths.append(plotting.plot_sweep_curves(table, out / "val_accuracy.png", "val_accuracy"))
            paths.append(plotting.plot_sweep_curves(table, out / "cost.png", "cost", title="training cost "
                                                    "(mean batch cost): mean ± std over seeds"))
            paths.append(plotting.plot_summary_bars(summary.dropna(subset=["test_accuracy_mean"]),
                                                    out / "summary.png"))
    return SweepResult(table, results_df, summary, paths)


def summarize(results: pd.DataFrame, labels: Sequence[str] | None = None) -> pd.DataFrame:
    """Per configuration: runs, runs that failed or diverged, mean and std over the
    completed runs of best_val_accuracy, test_accuracy, test_auc, mean seconds, and ``stuck``: the
    seeds that learned nothing (``'seed 1: stuck at one class'``, ``; ``-separated; ``''`` if none)."""
    ok = results[results["status"] != "failed"]
    metrics = ["best_val_accuracy", "test_accuracy", "test_auc"]
    stats = ok.groupby("config", sort=False)[metrics].agg(["mean", "std"])
    stats.columns = [f"{m}_{s}" for m, s in stats.columns]
    counts = results.groupby("config", sort=False).agg(
        runs=("status", "size"), failed=("status", lambda s: int((s == "failed").sum())),
        diverged=("status", lambda s: int((s == "diverged").sum())), seconds_mean=("seconds", "mean"))
    flagged = ok[ok["stuck"].fillna("") != ""]
    stuck = (flagged.assign(text="seed " + flagged["seed"].astype(str) + ": " + flagged["stuck"])
             .groupby("config", sort=False)["text"].agg("; ".join).rename("stuck"))
    summary = counts.join(stats).join(stuck)
    summary["stuck"] = summary["stuck"].fillna("")
    return summary.reindex(list(labels)) if labels is not None else summary

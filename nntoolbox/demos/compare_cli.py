"""``scripts/compare.py``: a sweep of configurations x seeds on the chess or MNIST task.

Each ``--config 'NAME=VALUE,...'`` is one configuration (``nn_create`` options
in MATLAB or Python spelling, plus ``hidden`` and ``batch_size``) on top of the
task's course network; every configuration trains once per ``--seeds`` on the
same split.  Runs go to ``--jobs`` processes or a Dask ``--scheduler``; the
results (per-run files, runs/results/summary CSV, curves and bar chart) go to
``--out`` and a repeated command resumes where the last one stopped.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..compare import RUN_KEYS, SweepResult, sweep
from ..datasets.krk import ensure_krk_file, load_krk
from ..io import atomic_write
from ..options import canonical_name
from ..plugins import imported_files
from .chess import PRESETS, split_course
from ..datasets.split import Split
from .common import (DEFAULT_MNIST_DIR, exit_error, fraction, load_demo_mnist, parse_number, parse_with_imports,
                     positive_int, seed_int)
from .mnist import COURSE_SIZES, course_options

NAME = "compare"
TASKS = ("chess", "mnist")
IMPORTS = "imports.json"  # path and SHA-256 of each --import file
CONNECT_SECONDS = 5  # to reach a --scheduler (distributed's default is 30 s)
DEFAULT_CONFIGS = ("optimization_method=Adam", "optimization_method=RMSProp", "optimization_method=Momentum")


@dataclass
class Task:
    """A task's data split, class names and base configuration (the course's network)."""
    data: Split
    class_names: Sequence[str]
    base: dict[str, Any]
    description: str


def chess_task(path: str | None, split: Sequence[float], seed: int) -> Task:
    """The course's nn_testChess.m: draw vs. win, 15% / 5% / 80% split, [6, 10 x 10, 2] relu/BN/Adam/CE."""
    course = PRESETS["course"]
    data = load_krk(path or ensure_krk_file(), task="binary")
    s = split_course(data, *split, np.random.default_rng(seed))
    base = {"hidden": list(course["sizes"]), "active_function": course["activation"],
            "learning_rate": course["lr"], "batch_normalization": int(course["bn"]),
            "optimization_method": course["optimizer"], "objective_function": "Cross Entropy",
            "batch_size": course["batch_size"]}
    return Task(s, data.class_names, base, f"KRK draw vs. win: {len(s.train_x)} train / {len(s.val_x)} validation "
                f"/ {len(s.test_x)} test (split seed {seed})")


def mnist_task(path: str, subset: int | None, train_size: int, seed: int) -> Task:
    """The course's test_for_NN.m network [784, 400, 169, 49, 10] on MNIST files."""
    data = load_demo_mnist(path, subset=subset, train_size=train_size, seed=seed)
    base = {"hidden": list(COURSE_SIZES[1:-1]), **course_options(), "batch_size": 100}
    return Task(data, [str(d) for d in range(10)], base, f"MNIST {data.description}")


def parse_config(text: str) -> dict[str, Any]:
    """``'learning rate=0.01,optimization_method=RMSProp,hidden=64 64'`` -> options (names canonical;
    numbers parsed; ``hidden`` takes sizes separated by spaces or ``x``).  Values are checked when the
    run starts, so a bad value fails that run only; an unknown name is an error here."""
    config: dict[str, Any] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"expected NAME=VALUE in {text!r}, got {item!r}")
        key = "_".join(name.strip().lower().split())
        value = value.strip()
        if key == "hidden":
            config[key] = [parse_number(v, key, lo=1, integer=True) for v in re.split(r"[\sx]+", value)]
        elif key == "batch_size":
            config[key] = parse_number(value, key, lo=1, integer=True)
        else:
            try:
                key = canonical_name(name)
            except (TypeError, ValueError) as e:
                raise argparse.ArgumentTypeError(str(e)) from None
            try:
                config[key] = float(value) if "." in value or "e" in value.lower() else int(value)
            except ValueError:
                config[key] = value
    if not config:
        raise argparse.ArgumentTypeError(f"empty configuration {text!r}")
    return config


def job_count(text: str) -> int:
    """argparse type of ``--jobs``: processes >= 1, or negative as joblib counts (-1: one per core)."""
    value = int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be a number of processes >= 1, or -1 for one per core; got 0")
    return value


def add_task_args(parser: argparse.ArgumentParser, epochs: int, data_help: str | None = None
                  ) -> argparse.ArgumentParser:
    """Flags shared with the homework script: data, split, seeds, epochs, jobs, scheduler."""
    parser.add_argument("--data", metavar="PATH", help=data_help or "chess: krkopt.data (default: generated); "
                        f"mnist: MNIST files (default {DEFAULT_MNIST_DIR})")
    parser.add_argument("--base", type=parse_config, metavar="'NAME=VALUE,...'",
                        help="change the task's base network (the course's) for every configuration")
    parser.add_argument("--seeds", type=seed_int, nargs="+", default=[0, 1, 2, 3, 4], metavar="S",
                        help="seeds of the runs (initialisation and batch order; default 0 1 2 3 4)")
    parser.add_argument("--split-seed", type=seed_int, default=0,
                        help="seed of the data split, the same for all runs")
    parser.add_argument("--split", type=fraction, nargs=2, default=[0.15, 0.05], metavar=("TRAIN", "VAL"),
                        help="chess: training and validation fractions (default the course's 0.15 0.05)")
    parser.add_argument("--subset", type=positive_int, metavar="N", help="mnist: use N training images")
    parser.add_argument("--train-size", type=positive_int, default=8000, metavar="N",
                        help="mnist with only one split (t10k files): N images train, the rest test (default 8000)")
    parser.add_argument("--epochs", type=positive_int, default=epochs, help=f"epochs per run (default {epochs})")
    parser.add_argument("--jobs", type=job_count, default=1, help="worker processes (default 1; -1: one per core)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run on this Dask scheduler (e.g. tcp://10.0.0.5:8786) instead of local processes")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def load_task(task: str, args: argparse.Namespace, data: str | None) -> Task:
    """The task's data and base network, changed by ``--base``; exits when the data cannot be read."""
    try:
        if task == "chess":
            loaded = chess_task(data, args.split, args.split_seed)
        else:
            loaded = mnist_task(data or DEFAULT_MNIST_DIR, args.subset, args.train_size, args.split_seed)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f"cannot load the {task} data: {e}") from None
    loaded.base.update(args.base or {})
    return loaded


def connect(address: str, prog: str) -> Any:
    """A Dask client of the scheduler at ``address``, or one line and exit code 2 within
    :data:`CONNECT_SECONDS` when it cannot be reached."""
    try:
        from distributed import Client  # noqa: PLC0415
    except ImportError:
        exit_error(prog, "--scheduler needs dask.distributed: pip install 'nntoolbox[cluster]'")
    try:
        return Client(address, timeout=CONNECT_SECONDS)
    except Exception as e:  # noqa: BLE001 - refused, timed out, bad scheme, a non-Dask server's reply ...
        reason = " ".join(str(e).split())[:200]
        exit_error(prog, f"--scheduler {address}: cannot connect ({reason}); check the address and that the "
                   "scheduler is running")


def make_out(out: Path, prog: str) -> None:
    """Create the output folder now: one line and exit code 2 when it cannot be (e.g. under a file)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        exit_error(prog, f"--out {out}: cannot create the folder ({e.strerror}: {e.filename}); choose a "
                   "writable folder with --out DIR")


def run_sweep(task: Task, grid: list[dict[str, Any]], args: argparse.Namespace, out: Path, *,
              prog: str = f"{NAME}.py", **kwargs: Any) -> SweepResult:
    """The sweep with the flags' seeds, epochs, jobs and scheduler; prints what it did.
    ``prog`` names the script in a one-line error (exit code 2) for ``--out`` or ``--scheduler``."""
    print(task.description)
    make_out(out, prog)
    scheduler = connect(args.scheduler, prog) if args.scheduler else None
    start = time.perf_counter()
    try:
        result = sweep(task.base, grid, task.data, seeds=args.seeds, epochs=args.epochs, n_jobs=args.jobs,
                       scheduler=scheduler, out=out, class_names=task.class_names,
                       progress=not args.no_progress, **kwargs)
    except KeyboardInterrupt:  # the shell's convention for Ctrl-C: exit status 130, one line
        print(f"{prog}: interrupted; finished runs are in {out}/runs; run the same command again to resume",
              file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        if scheduler is not None:
            scheduler.close()
    imports = [f.record() for f in imported_files()]
    if imports:  # the --import files whose registrations the runs used
        with atomic_write(out / IMPORTS) as f:
            json.dump({"imports": imports}, f, indent=2)
        result.paths.append(out / IMPORTS)
    shown = result.summary[["runs", "failed", "diverged", "best_val_accuracy_mean", "best_val_accuracy_std",
                            "test_accuracy_mean", "test_accuracy_std", "test_auc_mean", "stuck"]]
    print(shown.to_string(float_format=lambda v: f"{v:.4f}"))
    for error in result.results.loc[result.results["status"] == "failed", "error"].unique():
        print(f"failed: {error}")
    print(f"{len(result.results)} runs in {time.perf_counter() - start:.1f} s "
          f"({'scheduler ' + args.scheduler if args.scheduler else f'{args.jobs} job(s)'}); "
          f"wrote {', '.join(p.name for p in result.paths)} to {out}")
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"{NAME}.py", description=__doc__.split("\n\n")[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="example: compare.py --task chess --config 'optimization_method=Adam' "
                                     "--config 'optimization_method=RMSProp,learning_rate=0.001' --seeds 0 1 2 "
                                     "--epochs 200 --jobs 2")
    parser.add_argument("--task", choices=TASKS, default="chess", help="chess (default) or mnist")
    parser.add_argument("--config", type=parse_config, action="append", metavar="'NAME=VALUE,...'",
                        help="one configuration, repeatable (default: " + " / ".join(DEFAULT_CONFIGS) + "); "
                        f"names: nn_create options or {', '.join(RUN_KEYS)}")
    add_task_args(parser, epochs=200)
    parser.add_argument("--out", metavar="DIR", help=f"output folder (default results/{NAME}-<task>)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_with_imports(build_parser, argv)
    task = load_task(args.task, args, args.data)
    grid = args.config or [parse_config(c) for c in DEFAULT_CONFIGS]
    result = run_sweep(task, grid, args, Path(args.out or f"results/{NAME}-{args.task}"))
    return 0 if (result.results["status"] == "ok").any() else 1

"""Plumbing shared by the demo scripts: common flags, MNIST loading and
splitting, the run's output folder and error handling (:func:`demo_main`), the
keep-the-best-on-validation training loop (with clean Ctrl-C and NaN
handling), and the history / result files.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, NamedTuple, NoReturn, Sequence

import numpy as np
import pandas as pd

from .. import plotting
from ..datasets.mnist import load_mnist
from ..datasets.split import Split
from ..io import nn_save
from ..network import Network
from ..options import canonical_name, check_number, parse_options
from ..plugins import import_file
from ..predict import nn_predict, nn_test
from ..train import TrainingStopped, Validation, nn_train, parse_train_options
from .runfolder import DemoError, RunFolder

DEFAULT_MNIST_DIR = "data/mnist"

__all__ = [
    "ACCURACY", "DEFAULT_MNIST_DIR", "DemoData", "Metric", "TrainResult", "VAL_COST",
    "DemoError", "RunFolder", "add_common_args", "add_debug_arg", "add_import_arg", "add_mnist_args",
    "add_option_arg", "classification_outputs", "demo_main", "exit_error", "load_demo_mnist", "load_mnist_or_exit",
    "mnist_parser", "open_mnist_demo", "option_flags", "option_pair", "parse_with_imports", "save_network", "stop_message",
    "train_best_on_validation", "write_history",
]


# ------------------------------------------------------------------ flags
def parse_number(text: str, name: str = "value", **rule: Any) -> Any:
    """A number typed on the command line, checked by ``options.check_number`` (``rule``: ``lo``, ``hi``,
    ``integer`` ...); ``argparse.ArgumentTypeError`` naming ``name`` and the rule."""
    try:
        value: Any = int(text)  # exact, for seeds beyond 2**53
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            value = text  # not a number: check_number says so
    try:
        return check_number(value, name, **rule)
    except (TypeError, ValueError) as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return parse_number(text, lo=1, integer=True)


def seed_int(text: str) -> int:
    """argparse type: a random seed, an integer >= 0 (numpy's generators refuse negative seeds)."""
    return parse_number(text, lo=0, integer=True)


def fraction(text: str) -> float:
    """argparse type: a number strictly between 0 and 1."""
    return parse_number(text, lo=0, hi=1, lo_open=True, hi_open=True)


def option_pair(text: str) -> tuple[str, Any]:
    """argparse type: ``NAME=VALUE`` (an ``nn_create`` option; VALUE a number when it parses as one)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE such as 'learning rate=0.01', got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        return name.strip(), value.strip()


def add_option_arg(parser: argparse.ArgumentParser, flag: str = "--option",
                   target: str = "nn_create") -> argparse.ArgumentParser:
    """Add a repeatable ``NAME=VALUE`` flag for any ``target`` option; read it with :func:`option_flags`."""
    parser.add_argument(flag, type=option_pair, action="append", default=[], metavar="NAME=VALUE",
                        help=f"any {target} option, repeatable, overriding the other flags, e.g. {flag} "
                        f"'optimization method=Adam' or {flag} state_init=zeros (names as in MATLAB or Python)")
    return parser


def option_flags(pairs: Sequence[tuple[str, Any]], flag: str = "--option") -> dict[str, Any]:
    """``NAME=VALUE`` flag pairs as validated keyword options with canonical names; exits on a bad one."""
    try:
        options = {canonical_name(name): value for name, value in pairs}
        parse_options((), options)
    except (TypeError, ValueError) as e:
        raise SystemExit(f"{flag}: {e}") from None
    return options


def add_common_args(parser: argparse.ArgumentParser, *, name: str | None = None, epochs: int = 5,
                    data_default: str = DEFAULT_MNIST_DIR, data_help: str | None = None) -> argparse.ArgumentParser:
    """Add ``--data --epochs --subset --seed --out --batch-size --val-fraction --no-progress``.

    ``--out`` defaults to ``results/<name>`` (``name``: the parser's ``prog``
    without extension when not given).
    """
    name = name or Path(parser.prog).stem
    parser.add_argument("--data", default=data_default, metavar="PATH",
                        help=data_help or "MNIST in any layout nntoolbox.datasets.mnist.load_mnist reads: "
                        "a directory with the IDX files, mnist_uint8.mat, mnist.npz or train/<digit>/*.png "
                        f"folders (default: {data_default})")
    parser.add_argument("--epochs", type=positive_int, default=epochs, help=f"training epochs (default {epochs})")
    parser.add_argument("--subset", type=positive_int, metavar="N",
                        help="use only N training images (incl. validation), chosen at random")
    parser.add_argument("--seed", type=seed_int, default=0, help="seed for splits, initialisation and batch order")
    parser.add_argument("--out", default=f"results/{name}", metavar="DIR",
                        help=f"output directory (default results/{name})")
    parser.add_argument("--batch-size", type=positive_int, default=100, help="mini-batch size (default 100)")
    parser.add_argument("--val-fraction", type=fraction, default=0.05,
                        help="share of the training images held out for validation (default 0.05)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return add_debug_arg(parser)


def add_debug_arg(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--debug``: a traceback instead of the one-line message for environment and file problems."""
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an environment or file problem instead of a one-line message")
    return parser


def add_import_arg(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--import FILE.py`` (repeatable): files run before the other flags are checked (see
    :func:`parse_with_imports`), so the optimizers and activations they register are accepted."""
    parser.add_argument("--import", dest="imports", action="append", default=[], metavar="FILE.py",
                        help="run this Python file first (repeatable), e.g. one that calls "
                        "nntoolbox.register_optimizer: its names are then accepted by the other flags; the run's "
                        "summary records its path and SHA-256")
    return parser


def exit_error(prog: str, message: str) -> NoReturn:
    """A flag or setting that cannot work: one line on stderr, exit code 2."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def parse_with_imports(build_parser: Callable[[], argparse.ArgumentParser],
                       argv: Sequence[str] | None = None) -> argparse.Namespace:
    """``build_parser().parse_args(argv)`` with ``--import`` added, the files it names run first
    (:func:`nntoolbox.plugins.import_file`): the registries the flags' converters read then hold their names.
    A file that fails, and a bad flag: one line on stderr (no usage text) and exit code 2."""
    pre = add_import_arg(argparse.ArgumentParser(add_help=False, exit_on_error=False))
    try:
        paths = pre.parse_known_args(argv)[0].imports
    except argparse.ArgumentError:  # e.g. --import without a file: the full parser says so
        paths = []
    for path in paths:
        try:
            import_file(path)
        except (ImportError, ValueError) as e:
            exit_error(build_parser().prog, f"--import {e}")
    parser = add_import_arg(build_parser())  # built now: its choices include the new names
    parser.error = lambda message: exit_error(parser.prog, f"{message} (--help lists the flags)")
    return parser.parse_args(argv)


def add_mnist_args(parser: argparse.ArgumentParser, train_size: int = 8000) -> argparse.ArgumentParser:
    """Add ``--train-size``: how to split MNIST data that has only one split (e.g. the t10k files)."""
    parser.add_argument("--train-size", type=positive_int, default=train_size, metavar="N",
                        help="when the data has only one split (e.g. only the t10k files): use N of its "
                        f"images for training (incl. validation) and the rest as the test set (default {train_size})")
    return parser


def mnist_parser(name: str, description: str, epochs: int) -> argparse.ArgumentParser:
    """Argument parser of the MNIST demo script ``<name>.py``, with the common and MNIST flags."""
    parser = argparse.ArgumentParser(prog=f"{name}.py", description=description)
    add_common_args(parser, name=name, epochs=epochs)
    return add_mnist_args(parser)


def _one_line(e: BaseException) -> str:
    """An environment or file problem as one line that names the path and what to do."""
    if isinstance(e, OSError) and e.filename:
        what = f"{e.strerror or e}: {e.filename}"
        return f"{what}{f' -> {e.filename2}' if e.filename2 else ''}; check the path and its permissions"
    return " ".join(str(e).split())


def demo_main(name: str, args: argparse.Namespace, run: Callable[[argparse.Namespace, RunFolder], int]) -> int:
    """Run ``run(args, folder)``, which writes the demo's outputs into ``folder.path`` and calls
    ``folder.commit(summary)`` (see :class:`RunFolder`: ``args.out`` is replaced only by a complete run).

    Environment and file problems (:class:`DemoError`, ``OSError``) end with a one-line message on stderr and
    exit code 2 (``args.debug``: the traceback instead); Ctrl-C outside training (training handles it itself)
    ends with one line and exit code 130, leaving the previous results in ``args.out`` as they were."""
    folder = RunFolder(args.out, name)
    try:
        with folder:
            return run(args, folder)
    except KeyboardInterrupt:
        kept = (f"the results are complete in {folder.final}" if folder.committed else
                f"nothing written; {folder.final} is as it was")
        print(f"\n{name}: interrupted; {kept}", file=sys.stderr)
        return 130
    except (DemoError, OSError) as e:
        if getattr(args, "debug", False):
            raise
        print(f"{name}: {_one_line(e)} (--debug shows the traceback)", file=sys.stderr)
        return 2


# ------------------------------------------------------------------- data
@dataclass
class DemoData(Split):
    """MNIST rows (x in [0, 1]) split for a demo, and where they came from."""
    description: str = ""

    @property
    def test_labels(self) -> np.ndarray:
        return self.test_y.argmax(axis=1)


def _split(n: int, first: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    perm = rng.permutation(n)
    return perm[:first], perm[first:]


def load_demo_mnist(path: str | Path, *, subset: int | None = None, train_size: int = 8000,
                    val_fraction: float = 0.05, seed: int = 0) -> DemoData:
    """MNIST split into training, validation and test rows.

    The test split is the data's own; if the data has only one split (the
    t10k files alone), ``train_size`` random images of it train and the rest
    test.  ``subset`` keeps that many random training images; ``val_fraction``
    of them (at least one) are held out for validation.
    """
    data = load_mnist(path)
    rng = np.random.default_rng(seed)
    if data.train_x is not None and data.test_x is not None:
        pool_x, pool_y, test_x, test_y = data.train_x, data.train_y, data.test_x, data.test_y
        source = f"{len(pool_x)} training and {len(test_x)} test images"
    else:
        split = "train" if data.train_x is not None else "test"
        x, y = getattr(data, f"{split}_x"), getattr(data, f"{split}_y")
        if train_size >= len(x):
            raise ValueError(f"the data has only a {split} split of {len(x)} images; --train-size "
                             f"({train_size}) must be smaller to leave a test set")
        tr, te = _split(len(x), train_size, rng)
        pool_x, pool_y, test_x, test_y = x[tr], y[tr], x[te], y[te]
        source = (f"only the {split} split ({len(x)} images): {train_size} for training, "
                  f"{len(x) - train_size} for testing")
    if subset is not None and subset < len(pool_x):
        keep = rng.choice(len(pool_x), subset, replace=False)
        pool_x, pool_y = pool_x[keep], pool_y[keep]
    n_val = max(1, round(val_fraction * len(pool_x)))
    if n_val >= len(pool_x):
        raise ValueError(f"{len(pool_x)} training images are too few to hold out {n_val} for validation")
    val, tr = _split(len(pool_x), n_val, rng)
    return DemoData(pool_x[tr], pool_y[tr], pool_x[val], pool_y[val], test_x, test_y,
                    f"{source}; using {len(tr)} train / {n_val} validation / {len(test_x)} test")


def open_mnist_demo(args: argparse.Namespace, name: str) -> DemoData:
    """Load the data named by the flags (or exit with instructions) and say what is used."""
    data = load_mnist_or_exit(args)
    print(f"{name}: MNIST {data.description}")
    if args.batch_size > len(data.train_x):
        raise DemoError(f"--batch-size {args.batch_size} is larger than the {len(data.train_x)} training images "
                        "left after --subset and --val-fraction; choose a smaller --batch-size or more images")
    return data


def load_mnist_or_exit(args: argparse.Namespace) -> DemoData:
    """:func:`load_demo_mnist` from parsed flags; a :class:`DemoError` saying what to do when the data is missing."""
    try:
        return load_demo_mnist(args.data, subset=args.subset, train_size=getattr(args, "train_size", 8000),
                               val_fraction=args.val_fraction, seed=args.seed)
    except FileNotFoundError as e:
        raise DemoError(f"no MNIST data found: {e}; put the files in ./{DEFAULT_MNIST_DIR}/ (the default "
                        "location) or pass --data PATH") from e
    except ValueError as e:
        raise DemoError(f"cannot use the MNIST data at {args.data} (--data): {e}") from e


# -------------------------------------------------------- training loop
class Metric(NamedTuple):
    """The validation score that picks the best epoch: a column of ``nn.history`` and its direction."""
    name: str
    higher_is_better: bool = True


ACCURACY = Metric("val_accuracy")  # classification (one-hot targets)
VAL_COST = Metric("val_cost", higher_is_better=False)  # reconstruction / regression


@dataclass
class TrainResult:
    """Outcome of :func:`train_best_on_validation`.

    ``nn``: the network at its best validation epoch (``best_epoch``, 1-based;
    0 = the starting network, when no epoch completed).  ``history``: this run's
    rows of ``nn.history`` (``epoch``, ``cost``, ``val_cost``, ``val_accuracy``
    for classification, ``seconds``).
    """
    nn: Network
    best_epoch: int
    best_score: float
    history: pd.DataFrame
    metric: str = ACCURACY.name
    interrupted: bool = False
    diverged: bool = False
    seconds: float = 0.0

    @property
    def epochs_done(self) -> int:
        return len(self.history)

    @property
    def seconds_per_epoch(self) -> float:
        return float(self.history["seconds"].mean()) if len(self.history) else math.nan


def train_best_on_validation(
    nn: Network, option: Any, train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray,
    epochs: int, progress: bool = True, desc: str = "training", *,
    metric: Metric = ACCURACY, train_fn: Callable[[Network, Any, Any, Any], Network] | None = None,
) -> TrainResult:
    """The course's ``storedNN`` loop, as one ``nn_train`` call with ``validation=(val_x, val_y)``:
    ``epochs`` epochs, the network of the best validation epoch returned.

    ``option``: ``nn_train`` options (``iteration`` is replaced by ``epochs``).
    ``train_fn(nn, option, x, y)`` replaces ``nn_train`` (e.g. ``sae_train`` for
    autoencoders).  ``metric`` names the history column the result reports as
    ``best_score`` (``nn_train`` picks the best epoch by ``val_accuracy`` for
    one-hot targets, else by ``val_cost``).  Never raises on NaN/inf costs or
    Ctrl-C: the result says ``diverged`` / ``interrupted``.
    """
    opt = replace(parse_train_options(option), iteration=epochs, validation=(val_x, val_y), restore_best=True,
                  progress=desc if progress else False)
    train = train_fn or nn_train
    start = time.perf_counter()
    first = len(nn.history) if "history" in nn else 0
    with warnings.catch_warnings():
        # nn_train warns on NaN / Ctrl-C; the flags are reported by the caller instead
        warnings.simplefilter("ignore", TrainingStopped)
        try:
            best = train(nn, opt, train_x, train_y)
        except KeyboardInterrupt:  # before nn_train's first epoch began (e.g. loading kernels)
            best = nn.copy()
            best["interrupted"] = True
    history = best.history.iloc[first:].reset_index(drop=True) if "history" in best else \
        pd.DataFrame(columns=["epoch", "cost", metric.name, "seconds"])
    best_epoch = int(best.get("best_epoch", 0)) if len(history) else 0
    if best_epoch:
        best_score = float(history.loc[history.epoch == best_epoch, metric.name].iloc[0])
    else:  # no epoch completed: score the starting (rolled-back) network
        best_score = Validation(best, (val_x, val_y)).score(best)[metric.name]
    return TrainResult(best, best_epoch, best_score, history, metric.name, bool(best.get("interrupted")),
                       bool(best.get("diverged")), time.perf_counter() - start)


def stop_message(result: TrainResult, learning_rate: float | None = None) -> str | None:
    """Why training stopped early and what was kept (None when it ran to the end)."""
    kept = (f"keeping the best network (epoch {result.best_epoch}, {result.metric} {result.best_score:.4f})"
            if result.best_epoch else "keeping the untrained starting network")
    if result.diverged:
        hint = f" (e.g. --learning-rate {learning_rate / 10:g})" if learning_rate else ""
        return (f"Stopped: the cost became NaN/inf in epoch {result.epochs_done + 1}; "
                f"try a lower learning rate{hint}. {kept[0].upper() + kept[1:]}.")
    if result.interrupted:
        return f"Interrupted after {result.epochs_done} complete epoch(s); {kept}."
    return None


# ---------------------------------------------------------------- outputs
def write_history(result: TrainResult, out_dir: Path, prefix: str = "") -> list[Path]:
    """``<prefix>history.csv`` and, when an epoch completed, ``<prefix>cost.png`` and
    ``<prefix><metric>.png`` (e.g. ``val_accuracy.png``)."""
    out_dir = Path(out_dir)
    paths = [out_dir / f"{prefix}history.csv"]
    result.history.to_csv(paths[0], index=False)
    h = result.history
    if len(h):
        paths.append(plotting.plot_cost(h["cost"], out_dir / f"{prefix}cost.png", ylabel="mean batch cost"))
        column = h[result.metric]
        label = result.metric.replace("_", " ")
        if result.metric == ACCURACY.name:
            paths.append(plotting.plot_accuracy(column, out_dir / f"{prefix}{result.metric}.png"))
        else:
            paths.append(plotting.plot_cost(column, out_dir / f"{prefix}{result.metric}.png",
                                            ylabel=label, title=label))
    return paths


def save_network(nn: Network, out_dir: Path, stem: str) -> list[Path]:
    """``<stem>.npz`` and the MATLAB-readable ``<stem>.mat``."""
    return [nn_save(nn, Path(out_dir) / f"{stem}.{ext}") for ext in ("npz", "mat")]


def classification_outputs(nn: Network, x: np.ndarray, y: np.ndarray, out_dir: Path, *, prefix: str = "",
                           class_names: Sequence[str] | None = None, max_images: int = 36,
                           ) -> tuple[float, list[Path]]:
    """Test accuracy, plus ``confusion.png``/``.csv`` and, unless ``max_images`` is 0,
    ``misclassified.png`` (the first ``max_images`` wrongly classified rows drawn as square images)."""
    out_dir = Path(out_dir)
    _, accuracy, _ = nn_test(nn, x, y)
    pred, true = nn_predict(nn, x).argmax(axis=1), y.argmax(axis=1)
    n = len(class_names) if class_names is not None else y.shape[1]
    table = plotting.confusion_table(true, pred, labels=class_names, n_classes=n)
    paths = [out_dir / f"{prefix}confusion.csv"]
    table.to_csv(paths[0])
    paths.append(plotting.plot_confusion(true, pred, out_dir / f"{prefix}confusion.png",
                                         labels=class_names if class_names is not None else [str(i) for i in range(n)]))
    if max_images:
        paths.append(plotting.plot_misclassified(x, true, pred, out_dir / f"{prefix}misclassified.png",
                                                 max_images=max_images))
    return float(accuracy), paths

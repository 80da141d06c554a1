"""``nn_testChess`` (MATLAB ``nn_testChess.m``): the course's chess-endgame demo.

King-Rook vs. King positions (``krkopt.data``, generated on first use) are
labelled draw ``[1 0]`` / win ``[0 1]``, shuffled and split 15% training / 5%
validation / 80% test; the network is trained on rows z-scored with the training
mean and std and carries them (``nn.input_mean``/``nn.input_std``), so it is tested,
and its saved ``best_network.mat/.npz`` predicts, on raw positions.
The network ``nn_create([6,10,10,10,10,10,10,10,10,10,10,2], 'active function','relu',
'learning rate',0.005, 'batch normalization',1, 'optimization method','Adam',
'objective function','Cross Entropy')`` trains one epoch per ``nn_train`` call;
the network with the best validation accuracy (``storedNN``) is tested.

``--task depth`` predicts the 18 depth-to-mate classes instead (draw, zero ...
sixteen); ``--preset depth-best`` is the tuned configuration for it.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..create import nn_create
from ..datasets.krk import KRKData, ensure_krk_file, load_krk
from ..datasets.split import Split
from ..metrics import evaluate
from ..network import Network
from ..optimizers import OPTIMIZERS
from ..options import NAMES
from ..plotting import plot_roc
from ..preprocessing import fit_input_normalization
from ..train import ENGINES
from .common import (DemoError, RunFolder, TrainResult, add_debug_arg, add_option_arg,
                     classification_outputs, demo_main, exit_error, fraction, option_flags, parse_with_imports,
                     positive_int, save_network, seed_int, stop_message, train_best_on_validation, write_history)

NAME = "nn_testChess"
DEFAULT_EPOCHS = 10000  # as the course; about 50 s here (4.6 ms per epoch)

# Flag defaults per preset; explicit flags override them.  'course' is nn_testChess.m.
PRESETS: dict[str, dict[str, Any]] = {
    "course": dict(task="binary", sizes=[10] * 10, lr=0.005, optimizer="Adam", activation="relu", bn=True,
                   batch_size=100, split=[0.15, 0.05], epochs=DEFAULT_EPOCHS, textbook=False),
    # chosen on the validation split (seed 0) among 3-4 layers of 64-256 units, with/without dropout:
    # validation 0.7192 (epoch 1273), test 0.7051; scikit-learn's MLPClassifier on the same split: 0.6235
    "depth-best": dict(task="depth", sizes=[128] * 4, lr=0.005, textbook=True, epochs=2000,
                       option=[("keep_probability", 0.9), ("dropout", "inverted")]),
}


def _canonical(choices: Sequence[str]):
    """argparse type accepting any capitalisation of ``choices`` (as nn_create does)."""
    lookup = {c.lower(): c for c in choices}

    def convert(text: str) -> str:
        try:
            return lookup[text.lower()]
        except KeyError:
            raise argparse.ArgumentTypeError(f"{text!r}: choose from {', '.join(choices)}") from None
    return convert


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=NAME, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The course's nn_testChess.m: learn draw vs. win (or the depth to mate) of King-Rook vs. "
        "King chess endgames, keep the network with the best validation accuracy, test it, save plots, "
        "history and network.",
        epilog="presets (explicit flags override them):\n" + "\n".join(
            f"  {name}: " + " ".join(f"{k}={v}" for k, v in values.items()) for name, values in PRESETS.items()))
    parser.add_argument("--preset", choices=list(PRESETS), default="course",
                        help="starting configuration (default course)")
    parser.add_argument("--task", choices=("binary", "depth"),
                        help="binary: draw vs. win (2 outputs); depth: draw or depth to mate 0-16 (18 outputs)")
    parser.add_argument("--epochs", type=positive_int, help=f"training epochs (default {DEFAULT_EPOCHS})")
    parser.add_argument("--seed", type=seed_int, default=0, help="seed for the shuffle, initialisation and batch order")
    parser.add_argument("--split", type=fraction, nargs=2, metavar=("TRAIN", "VAL"),
                        help="training and validation fractions after shuffling; the rest is the test set "
                        "(default 0.15 0.05)")
    parser.add_argument("--sizes", type=positive_int, nargs="+", metavar="N",
                        help="hidden layer sizes (default ten layers of 10)")
    parser.add_argument("--lr", "--learning-rate", dest="lr", type=float, help="learning rate (default 0.005)")
    parser.add_argument("--optimizer", type=_canonical(tuple(OPTIMIZERS)), metavar="NAME",
                        help=f"optimization method: {', '.join(OPTIMIZERS)} (default Adam)")
    hidden = NAMES["active_function"]  # the registries: built-ins and anything registered before this call
    parser.add_argument("--activation", type=_canonical(hidden), metavar="NAME",
                        help=f"hidden activation: {', '.join(hidden)} (default relu)")
    parser.add_argument("--bn", action=argparse.BooleanOptionalAction,
                        help="batch normalisation (default on; --no-bn turns it off)")
    parser.add_argument("--textbook", action=argparse.BooleanOptionalAction,
                        help="textbook batch normalisation, Adam, cost ... instead of the course code's quirks "
                        "(nn_create option textbook=True)")
    add_option_arg(parser)
    parser.add_argument("--batch-size", type=positive_int, help="mini-batch size (default 100)")
    parser.add_argument("--engine", choices=ENGINES, default="fused",
                        help="fused: Numba, one call per epoch; stepwise: the numpy nn_forward/backprop path")
    parser.add_argument("--data", metavar="PATH",
                        help="krkopt.data in UCI or course format (default: generated on first use, "
                        "see nntoolbox.datasets.krk.ensure_krk_file)")
    parser.add_argument("--out", default=f"results/{NAME}", metavar="DIR",
                        help=f"output directory (default results/{NAME})")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return add_debug_arg(parser)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse flags; unset ones take the preset's value, then the course's."""
    args = parse_with_imports(build_parser, argv)
    for key, value in {**PRESETS["course"], **PRESETS[args.preset]}.items():
        if key == "option":  # the preset's options first, so that --option flags override them
            args.option = [*value, *args.option]
        elif getattr(args, key) is None:
            setattr(args, key, value)
    if sum(args.split) >= 1:
        exit_error(NAME, f"--split {args.split[0]} {args.split[1]} leaves no test set (the fractions must sum below 1)")
    if not np.isfinite(args.lr) or args.lr <= 0:
        exit_error(NAME, f"--lr must be a positive number, got {args.lr}")
    return args


# -------------------------------------------------------------------- data
def split_course(data: KRKData, train: float, val: float, rng: np.random.Generator) -> Split:
    """Shuffle; the first ``train`` share trains, the next ``val`` validates, the rest tests.

    The rows stay raw: the network carries the training rows' z-score (see ``run``).
    """
    n = len(data.X)
    perm = rng.permutation(n)
    a, b = int(n * train), int(n * (train + val))
    x, y = data.X[perm].astype(float), data.Y[perm]
    return Split(x[:a], y[:a], x[a:b], y[a:b], x[b:], y[b:])


def check_split(s: Split, batch_size: int) -> str | None:
    """Why the split cannot be trained on (None if it can)."""
    if min(len(s.train_x), len(s.val_x), len(s.test_x)) == 0:
        return (f"the split gives {len(s.train_x)} training / {len(s.val_x)} validation / {len(s.test_x)} "
                "test positions; each needs at least one")
    if batch_size > len(s.train_x):
        return f"--batch-size {batch_size} is larger than the {len(s.train_x)} training positions"
    return None


# ----------------------------------------------------------------- network
def chess_network(args: argparse.Namespace, n_out: int) -> Network:
    """``nn_create([6, sizes..., n_out], ...)`` with the demo's options; ``--option`` pairs override them."""
    options = {"active_function": args.activation, "learning_rate": args.lr,
               "batch_normalization": int(args.bn), "optimization_method": args.optimizer,
               "objective_function": "Cross Entropy", "textbook": args.textbook, "seed": args.seed}
    options.update(option_flags(args.option))
    return nn_create([6, *args.sizes, n_out], **options)


def describe(args: argparse.Namespace, n_out: int) -> str:
    bn = "BN" if args.bn else "no BN"
    quirks = "textbook" if args.textbook else "course quirks"
    return (f"network [6,{','.join(map(str, args.sizes))},{n_out}] {args.activation}, {bn}, {args.optimizer} "
            f"lr {args.lr:g}, Cross Entropy ({quirks}), batch {args.batch_size}, engine {args.engine}"
            + "".join(f", {name}={value}" for name, value in args.option))


def add_total_cost(result: TrainResult) -> None:
    """The course's ``totalCost(iteration) = mean(nn.cost)``: the mean of every batch cost so far.

    Every epoch has the same number of batches, so it is the running mean of
    the epoch means (ignoring the course's overwritten 2nd history entry).
    """
    h = result.history
    h.insert(h.columns.get_loc("cost") + 1, "total_cost", h["cost"].expanding().mean())


# -------------------------------------------------------------------- main
def run(args: argparse.Namespace, folder: RunFolder) -> int:
    path = Path(args.data) if args.data else ensure_krk_file()
    try:
        data = load_krk(path, task=args.task)
    except (FileNotFoundError, ValueError) as e:
        raise DemoError(f"cannot load the KRK data (--data): {e}") from None
    split = split_course(data, *args.split, np.random.default_rng(args.seed))
    problem = check_split(split, args.batch_size)
    if problem:
        raise SystemExit(f"{NAME}: {problem}")
    out = folder.path
    n_out = data.Y.shape[1]
    print(f"{NAME}: KRK {args.task} task ({n_out} classes) from {path}: {len(data.X)} positions, "
          f"{len(split.train_x)} train / {len(split.val_x)} validation / {len(split.test_x)} test (seed {args.seed})")
    print(describe(args, n_out))
    try:
        # the course's avgX/sigma of the training rows, kept in the network: nn_test/nn_predict and the
        # saved best_network.mat/.npz take raw positions, as nn_train does
        nn = fit_input_normalization(chess_network(args, n_out), split.train_x)
    except (TypeError, ValueError) as e:
        raise SystemExit(f"{NAME}: {e}") from None
    option = {"batch_size": args.batch_size, "iteration": 1, "engine": args.engine}
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected and reported below
        result = train_best_on_validation(nn, option, split.train_x, split.train_y, split.val_x, split.val_y,
                                          args.epochs, progress=not args.no_progress, desc=NAME)
    message = stop_message(result, args.lr)
    if message:
        print(message)
    add_total_cost(result)
    accuracy, paths = classification_outputs(result.nn, split.test_x, split.test_y, out,
                                             class_names=data.class_names, max_images=0)
    paths += write_history(result, out) + save_network(result.nn, out, "best_network")
    # ROC from the network's output for 'win' (two classes) or one-vs-rest per class (depth); auc in the summary
    evaluation = evaluate(result.nn, split.test_x, split.test_y, data.class_names)
    what = "the 'win' output" if args.task == "binary" else "one-vs-rest per depth class"
    paths.append(plot_roc(evaluation, out / "roc.png", title=f"Test ROC of {what}"))
    summary = {
        "task": args.task, "positions": len(data.X), "train": len(split.train_x), "validation": len(split.val_x),
        "test": len(split.test_x), "epochs_done": result.epochs_done, "epochs": args.epochs,
        "best_epoch": result.best_epoch, "best_val_accuracy": result.best_score, "test_accuracy": accuracy, "auc": evaluation.auc,
        "seconds": result.seconds, "interrupted": result.interrupted, "diverged": result.diverged,
        "config": {k: getattr(args, k) for k in ("preset", "sizes", "lr", "optimizer", "activation", "bn",
                                                 "textbook", "batch_size", "engine", "seed", "split")}
        | {"options": dict(args.option)},
    }
    paths.append(folder.commit(summary))
    per_epoch = f", {1000 * result.seconds / result.epochs_done:.1f} ms/epoch" if result.epochs_done else ""
    print(f"best validation accuracy {result.best_score:.4f} at epoch {result.best_epoch} "
          f"of {result.epochs_done} ({len(split.val_x)} positions)")
    print(f"test accuracy {accuracy:.4f} on {len(split.test_x)} positions "
          f"({round((1 - accuracy) * len(split.test_x))} wrong), AUC {evaluation.auc:.4f}")
    print(f"time {result.seconds:.1f} s{per_epoch}")
    print(f"wrote {', '.join(p.name for p in paths)} to {folder.final}")
    return 1 if result.diverged else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point ``nn-testchess``; returns the exit status (0; 1 when training
    diverged; 2 for a problem with a file or setting; 130 when interrupted outside training)."""
    return demo_main(NAME, parse_args(argv), run)


if __name__ == "__main__":
    raise SystemExit(main())

"""``test_for_NN`` (MATLAB ``test_for_NN.m``): the course's MNIST network.

``nn_create([784,400,169,49,10], 'active function','sigmoid', 'learning rate',0.01,
'batch normalization',1, 'optimization method','Adam', 'objective function','Cross Entropy')``
trained one epoch per ``nn_train`` call with batches of 100, keeping the
network with the best validation accuracy, then tested on the test split.
"""
from __future__ import annotations

import argparse
from typing import Any, Sequence

from ..create import nn_create
from ..network import Network
from .common import (add_common_args, add_mnist_args, classification_outputs, load_mnist_or_exit,
                     prepare_out_dir, save_network, stop_message, train_best_on_validation, write_history)

NAME = "test_for_NN"
COURSE_SIZES = (784, 400, 169, 49, 10)
COURSE_LEARNING_RATE = 0.01


def course_options(learning_rate: float = COURSE_LEARNING_RATE, batch_normalization: int = 1) -> tuple[Any, ...]:
    """The course's MNIST options as MATLAB-style name/value pairs."""
    return ("active function", "sigmoid", "learning rate", learning_rate,
            "batch normalization", batch_normalization, "optimization method", "Adam",
            "objective function", "Cross Entropy")


def course_network(learning_rate: float = COURSE_LEARNING_RATE, seed: int | None = None,
                   sizes: Sequence[int] = COURSE_SIZES, batch_normalization: int = 1,
                   textbook: bool = False) -> Network:
    """The network of test_for_NN.m (``nn_create([784,400,169,49,10], ...)``);
    ``textbook=True`` switches off the course's quirks (see nntoolbox.options)."""
    return nn_create(list(sizes), *course_options(learning_rate, batch_normalization), seed=seed,
                     textbook=textbook)


def add_network_args(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--learning-rate`` and ``--textbook``, shared with the autoencoder comparison."""
    parser.add_argument("--learning-rate", type=float, default=COURSE_LEARNING_RATE,
                        help=f"Adam step size (default {COURSE_LEARNING_RATE})")
    parser.add_argument("--textbook", action="store_true",
                        help="textbook batch normalisation and Adam instead of the course code's "
                        "(nn_create option textbook=True)")
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{NAME}.py", description="The course's test_for_NN.m: train the [784,400,169,49,10] sigmoid/BN/"
        "Adam/cross-entropy MNIST network, keep the best epoch on validation, test it, save plots and network.")
    add_common_args(parser, name=NAME, epochs=10)
    add_mnist_args(parser)
    add_network_args(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    data = load_mnist_or_exit(args)
    out = prepare_out_dir(args.out)
    print(f"{NAME}: MNIST {data.description}")
    nn = course_network(args.learning_rate, seed=args.seed, textbook=args.textbook)
    result = train_best_on_validation(nn, {"batch_size": args.batch_size}, data.train_x, data.train_y,
                                      data.val_x, data.val_y, args.epochs, progress=not args.no_progress,
                                      desc=NAME)
    message = stop_message(result, args.learning_rate)
    if message:
        print(message)
    best = result.nn
    accuracy, paths = classification_outputs(best, data.test_x, data.test_y, out)
    paths += write_history(result, out) + save_network(best, out, "best_network")
    print(f"best validation accuracy {result.best_score:.2%} at epoch {result.best_epoch} "
          f"of {result.epochs_done}; {result.seconds_per_epoch:.2f} s/epoch")
    print(f"test accuracy {accuracy:.2%} on {len(data.test_x)} images")
    print(f"wrote {', '.join(p.name for p in paths)} to {out}")
    return 0

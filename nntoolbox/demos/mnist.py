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
from ..metrics import evaluate
from ..network import Network
from .common import (RunFolder, add_option_arg, classification_outputs, demo_main, mnist_parser, open_mnist_demo,
                     option_flags, parse_with_imports, save_network, stop_message, train_best_on_validation,
                     write_history)

NAME = "test_for_NN"
COURSE_SIZES = (784, 400, 169, 49, 10)
COURSE_LEARNING_RATE = 0.01


def course_options(learning_rate: float = COURSE_LEARNING_RATE, batch_normalization: int = 1) -> dict[str, Any]:
    """The course's MNIST options (MATLAB ``'active function','sigmoid', 'learning rate',0.01, ...``)."""
    return {"active_function": "sigmoid", "learning_rate": learning_rate, "batch_normalization": batch_normalization,
            "optimization_method": "Adam", "objective_function": "Cross Entropy"}


def network_options(args: argparse.Namespace, batch_normalization: int = 1) -> dict[str, Any]:
    """The network's ``nn_create`` options from the flags: the course's, ``--textbook``, then ``--option`` pairs."""
    return {**course_options(args.learning_rate, batch_normalization), "textbook": args.textbook,
            **option_flags(args.option)}


def course_network(sizes: Sequence[int] = COURSE_SIZES, seed: int | None = None, **options: Any) -> Network:
    """The network of test_for_NN.m (``nn_create([784,400,169,49,10], ...)``); ``options``
    override the course's (e.g. ``textbook=True`` switches off its quirks, see nntoolbox.options)."""
    return nn_create(list(sizes), **{**course_options(), **options}, seed=seed)


def add_network_args(parser: argparse.ArgumentParser, learning_rate: float | None = COURSE_LEARNING_RATE,
                     learning_rate_help: str = f"Adam step size (default {COURSE_LEARNING_RATE})",
                     ) -> argparse.ArgumentParser:
    """``--learning-rate``, ``--textbook`` and ``--option``, shared with the autoencoder comparison."""
    parser.add_argument("--learning-rate", type=float, default=learning_rate, help=learning_rate_help)
    parser.add_argument("--textbook", action="store_true",
                        help="textbook batch normalisation and Adam instead of the course code's "
                        "(nn_create option textbook=True); the course's quirks make this network learn slowly "
                        "on a few thousand images (see the README)")
    return add_option_arg(parser)


def near_chance_hint(accuracy: float, n_classes: int, textbook: bool) -> str | None:
    """What to say when the course settings leave test accuracy near chance (below 3x chance)."""
    if textbook or accuracy >= 3.0 / n_classes:
        return None
    return (f"test accuracy {accuracy:.1%} is near chance ({1 / n_classes:.0%}): with the course's quirks (batch "
            "norm with running statistics, Adam's epoch-counting time step) this network learns slowly on a "
            "few thousand images (seeds 0-5, 10 epochs on 7,600 images: 9%-35%; the course's own code in GNU Octave learns as slowly). "
            "Run with --textbook (about 95% after 10 epochs) or more --epochs.")


def build_parser() -> argparse.ArgumentParser:
    parser = mnist_parser(NAME, "The course's test_for_NN.m: train the [784,400,169,49,10] sigmoid/BN/Adam/"
                          "cross-entropy MNIST network, keep the best epoch on validation, test it, save plots and "
                          "network.", epochs=10)
    add_network_args(parser)
    parser.add_argument("--max-misclassified", type=int, default=36, metavar="N",
                        help="misclassified test digits to draw (default 36; 0: no figure)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return demo_main(NAME, parse_with_imports(build_parser, argv), run)


def run(args: argparse.Namespace, folder: RunFolder) -> int:
    data, out = open_mnist_demo(args, NAME), folder.path
    options = network_options(args)
    nn = course_network(seed=args.seed, **options)
    result = train_best_on_validation(nn, {"batch_size": args.batch_size}, data.train_x, data.train_y,
                                      data.val_x, data.val_y, args.epochs, progress=not args.no_progress,
                                      desc=NAME)
    message = stop_message(result, options["learning_rate"])
    if message:
        print(message)
    best = result.nn
    accuracy, paths = classification_outputs(best, data.test_x, data.test_y, out,
                                            max_images=args.max_misclassified)
    paths += write_history(result, out) + save_network(best, out, "best_network")
    paths.append(out / "per_class.csv")  # precision, recall, F1, support, one-vs-rest AUC per digit
    evaluate(best, data.test_x, data.test_y).per_class.to_csv(paths[-1])
    print(f"best validation accuracy {result.best_score:.2%} at epoch {result.best_epoch} "
          f"of {result.epochs_done}; {result.seconds_per_epoch:.2f} s/epoch")
    print(f"test accuracy {accuracy:.2%} on {len(data.test_x)} images")
    hint = near_chance_hint(accuracy, data.test_y.shape[1], bool(options["textbook"]))
    if hint:
        print(hint)
    paths.append(folder.commit({"best_epoch": result.best_epoch, "best_val_accuracy": result.best_score,
                                "epochs_done": result.epochs_done, "test_accuracy": accuracy,
                                "interrupted": result.interrupted, "diverged": result.diverged}))
    print(f"wrote {', '.join(p.name for p in paths)} to {folder.final}")
    return 0

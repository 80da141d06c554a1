"""``test_for_autoencoder`` (MATLAB ``test_for_autoencoder.m``): stacked
sparse-autoencoder pretraining versus random initialisation on MNIST.

Two configurations (``--config``):

* ``course`` (the default, as ``test_for_autoencoder.m`` does it): every part
  uses ``nn_create``'s defaults -- sigmoid units, plain SGD, MSE, no batch
  normalisation; the autoencoders and the output layer train at learning rate
  1.5 (``autoencoder_train.m``), fine-tuning runs at 1.0 (``autoencoder_adjust.m``
  sets ``autoencoder.learning_rate = 1.0``; it hard-codes 2,000 epochs, here
  ``--epochs``).  The default because the project reproduces the course code.
* ``test_for_NN``: the network of ``test_for_NN.m`` (batch normalisation, Adam,
  cross entropy, learning rate 0.01; see :mod:`nntoolbox.demos.mnist`).

Both runs (pretrained and random initialisation) use the same options and the
same number of fine-tuning epochs, keeping each run's best epoch on validation;
the table compares test accuracy.
"""
from __future__ import annotations

import argparse
import time
from typing import Sequence

import pandas as pd

from .. import plotting
from ..stack import sae_stack_pretrain
from ..create import nn_create
from .common import (RunFolder, TrainResult, add_option_arg, classification_outputs, demo_main, mnist_parser,
                     open_mnist_demo, option_flags, parse_with_imports, positive_int, save_network, stop_message,
                     train_best_on_validation, write_history)
from .mnist import COURSE_LEARNING_RATE, COURSE_SIZES, add_network_args, network_options

NAME = "test_for_autoencoder"
CONFIGS = ("course", "test_for_NN")
COURSE_FINE_TUNE_RATE = 1.0  # autoencoder_adjust.m: autoencoder.learning_rate = 1.0


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.replace(" ", "").split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be comma-separated integers, got {text!r}") from None
    if len(sizes) < 3 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"need input, at least one hidden and an output layer, got {text!r}")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    parser = mnist_parser(NAME, "The course's test_for_autoencoder.m: pretrain the MNIST network layer by layer "
                          "with sparse autoencoders, fine-tune it, and compare its test accuracy with the same "
                          "network trained from random initialisation for the same number of epochs.", epochs=5)
    add_network_args(parser, None, "fine-tuning learning rate (default: 1.0 with --config course, as "
                     "autoencoder_adjust.m; 0.01 with --config test_for_NN)")
    parser.add_argument("--config", choices=CONFIGS, default="course",
                        help="course (default, test_for_autoencoder.m: sigmoid, plain SGD, MSE, no batch "
                        "normalisation; pretraining at learning rate 1.5, fine-tuning at 1.0) or test_for_NN "
                        "(batch normalisation, Adam, cross entropy, learning rate 0.01)")
    parser.add_argument("--sizes", type=_sizes, default=list(COURSE_SIZES), metavar="N,N,...",
                        help="layer sizes, input first (default 784,400,169,49,10)")
    parser.add_argument("--pretrain-epochs", type=positive_int, default=1,
                        help="epochs for each autoencoder and for the output layer (default 1)")
    add_option_arg(parser, "--sae-option", "sae_create (for the autoencoders; default: the course's sae_create "
                   "defaults)")
    parser.add_argument("--no-batch-normalization", action="store_true",
                        help="switch off batch normalisation in the network (the course's network uses it)")
    return parser


def _row(model: str, result: TrainResult, test_accuracy: float, epochs: int) -> dict:
    return {"model": model, "epochs": epochs, "epochs_done": result.epochs_done, "best_epoch": result.best_epoch,
            "best_val_accuracy": result.best_score, "test_accuracy": test_accuracy,
            "seconds_per_epoch": result.seconds_per_epoch}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_with_imports(build_parser, argv)
    if args.sizes[0] != 784 or args.sizes[-1] != 10:
        raise SystemExit(f"--sizes must start with 784 (pixels) and end with 10 (digits); got {args.sizes}")
    return demo_main(NAME, args, run)


def run(args: argparse.Namespace, folder: RunFolder) -> int:
    sae_option = option_flags(args.sae_option, "--sae-option")
    if args.config == "course":  # nn_create's defaults (lr 1.5 while pretraining); fine-tuning at lr 1.0
        options = {"textbook": args.textbook, **option_flags(args.option)}
        fine_tune_rate = COURSE_FINE_TUNE_RATE if args.learning_rate is None else args.learning_rate
    else:
        if args.learning_rate is None:
            args.learning_rate = COURSE_LEARNING_RATE
        options = network_options(args, 0 if args.no_batch_normalization else 1)
        fine_tune_rate = options["learning_rate"]
    data, out = open_mnist_demo(args, NAME), folder.path
    option = {"batch_size": args.batch_size}
    progress = not args.no_progress

    start = time.perf_counter()
    try:
        pretrained = sae_stack_pretrain(args.sizes, {**option, "iteration": args.pretrain_epochs},
                                        data.train_x, data.train_y, sae_option=sae_option, fine_tune=False,
                                        progress=progress, seed=args.seed, **options)
    except KeyboardInterrupt:
        print("Interrupted during pretraining: nothing to compare.")
        return 130  # nothing committed: the previous results stay
    pretrain_seconds = time.perf_counter() - start
    # the course's autoencoder_adjust: the pretrained network's learning rate is set for fine-tuning
    runs = {"pretrained": pretrained,
            "random init": nn_create(args.sizes, **options, seed=args.seed)}
    for nn in runs.values():
        nn.learning_rate = fine_tune_rate
    rows, curves, paths = [], {}, []
    for model, nn in runs.items():
        prefix = model.split()[0] + "_"
        result = train_best_on_validation(nn, option, data.train_x, data.train_y, data.val_x, data.val_y,
                                          args.epochs, progress=progress, desc=model)
        message = stop_message(result, fine_tune_rate)
        if message:
            print(f"{model}: {message}")
        accuracy, files = classification_outputs(result.nn, data.test_x, data.test_y, out, prefix=prefix,
                                                 max_images=0)
        paths += files + write_history(result, out, prefix) + save_network(result.nn, out, f"{prefix}network")
        rows.append(_row(model, result, accuracy, args.epochs))
        curves[model] = result.history["val_accuracy"]
        if result.interrupted:
            break  # Ctrl-C: report what is done, skip the remaining run
    table = pd.DataFrame(rows)
    paths.append(out / "comparison.csv")
    table.to_csv(paths[-1], index=False)
    if any(len(c) for c in curves.values()):
        paths.append(plotting.plot_accuracy({k: list(v) for k, v in curves.items()}, out / "comparison.png",
                                            title="Validation accuracy"))
    print(f"pretraining: {args.pretrain_epochs} epoch(s) per layer, {pretrain_seconds:.1f} s; "
          f"fine-tuning / training: {args.epochs} epochs")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.config == "course" and table.test_accuracy.max() < 3.0 / args.sizes[-1]:
        print("test accuracy is near chance: the course's configuration (plain SGD, MSE, sigmoid) learns slowly "
              "on a few thousand images (autoencoder_adjust.m fine-tunes for 2,000 epochs on 60,000); "
              "try more --epochs/--pretrain-epochs or --config test_for_NN --textbook.")
    paths.append(folder.commit({"pretrain_seconds": pretrain_seconds, "runs": rows}))
    print(f"wrote {', '.join(p.name for p in paths)} to {folder.final}")
    return 0

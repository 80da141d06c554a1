"""``test_for_SAE`` (MATLAB ``test_for_SAE.m``): a sparse autoencoder on MNIST.

``sae = sae_create([784,196]); sae = sae_train(sae, option, train_x); visualize(sae.W{1}')``,
one epoch per ``sae_train`` call, keeping the epoch with the lowest
reconstruction error on the validation images.
"""
from __future__ import annotations

import argparse
from typing import Any, Sequence

import numpy as np

from .. import plotting
from ..network import Network
from ..predict import nn_predict
from ..sae import sae_create, sae_train
from .common import (VAL_COST, RunFolder, add_option_arg, demo_main, mnist_parser, open_mnist_demo, option_flags,
                     parse_with_imports, save_network, stop_message, train_best_on_validation, write_history)

NAME = "test_for_SAE"


def _sae_epoch(sae: Network, option: Any, x: np.ndarray, _y: Any) -> Network:
    return sae_train(sae, option, x)


def build_parser() -> argparse.ArgumentParser:
    parser = mnist_parser(NAME, "The course's test_for_SAE.m: train a sparse autoencoder sae_create([784,HIDDEN]) "
                          "on MNIST; save its weight image, reconstructions, cost curve and the network.", epochs=5)
    parser.add_argument("--hidden", type=int, default=196, help="hidden units (default 196, a 14x14 grid)")
    parser.add_argument("--learning-rate", type=float, default=None,
                        help="step size (default: sae_create's, as the course)")
    return add_option_arg(parser, target="sae_create")


def main(argv: Sequence[str] | None = None) -> int:
    return demo_main(NAME, parse_with_imports(build_parser, argv), run)


def run(args: argparse.Namespace, folder: RunFolder) -> int:
    data, out = open_mnist_demo(args, NAME), folder.path
    options = {"active_function": "sigmoid"} | ({} if args.learning_rate is None else
                                               {"learning_rate": args.learning_rate}) | option_flags(args.option)
    sae = sae_create([data.train_x.shape[1], args.hidden], seed=args.seed, **options)
    result = train_best_on_validation(sae, {"batch_size": args.batch_size}, data.train_x, data.train_x,
                                      data.val_x, data.val_x, args.epochs, progress=not args.no_progress,
                                      desc=NAME, metric=VAL_COST, train_fn=_sae_epoch)
    message = stop_message(result, float(sae["learning_rate"]))
    if message:
        print(message)
    best = result.nn
    shown = data.test_x[:10]
    plotting.visualize(best.W[0], out / "weights.png", title=f"sae.W{{1}} ({args.hidden} units)")
    paths = [out / "weights.png",
             plotting.plot_reconstructions(shown, nn_predict(best, shown), out / "reconstructions.png")]
    paths += write_history(result, out) + save_network(best, out, "sae")
    test_mse = float(np.mean((nn_predict(best, data.test_x) - data.test_x) ** 2))
    print(f"best validation cost {result.best_score:.5f} at epoch {result.best_epoch} "
          f"of {result.epochs_done}; {result.seconds_per_epoch:.2f} s/epoch")
    print(f"test reconstruction MSE {test_mse:.5f} on {len(data.test_x)} images")
    paths.append(folder.commit({"best_epoch": result.best_epoch, "best_val_cost": result.best_score,
                                "epochs_done": result.epochs_done, "test_mse": test_mse,
                                "interrupted": result.interrupted, "diverged": result.diverged}))
    print(f"wrote {', '.join(p.name for p in paths)} to {folder.final}")
    return 0

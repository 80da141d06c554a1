"""Greedy layer-wise pretraining with sparse autoencoders, then fine-tuning
(the course's ``autoencoder_train.m`` / ``autoencoder_adjust.m`` scheme).

For hidden layer ``i`` a sparse autoencoder ``[sizes[i], sizes[i+1]]`` learns
to reconstruct the codes of the layers below it; its encoder (``sae.W{1}``,
``sae.b{1}``) becomes layer ``i`` of the network.  The output layer is then
trained supervised on the top codes, and the whole network is fine-tuned.

Batch normalisation is off while pretraining (a course SAE has none).  When the
final network uses it, only ``W`` and ``b`` are copied: ``Gamma``/``Beta`` keep
their initial 1 and 0 and ``E``/``S`` are accumulated afresh by fine-tuning, so
each pretrained layer feeds normalised pre-activations ``(W a + b - E)/S`` to
its activation, not the encoder's ``W a + b`` (the bias is absorbed by ``E``).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from tqdm.auto import tqdm

from .activations import ACTIVATIONS
from .checks import as_matrix
from .create import make_rng, nn_create
from .network import Network
from .options import parse_options
from .sae import sae_create, sae_train
from .train import nn_train, parse_train_options
from .userwarn import warn

_SEED_RANGE = 2 ** 63


def sae_encode(sae: Network, x: Any) -> np.ndarray:
    """Hidden codes of an autoencoder, one row per sample: ``f(W{1} x + b{1})``
    with ``f`` its hidden activation (MATLAB ``sigmoid(sae.W{1}*x' + sae.b{1})'``)."""
    x = as_matrix(x, "x", np.dtype(sae["dtype"]))
    f = ACTIVATIONS[sae["active_function"]].f
    return f(sae.W[0] @ x.T + sae.b[0]).T


def _given_options(pairs: tuple, kwargs: dict) -> dict[str, Any]:
    """The options the caller set (validated, canonical names)."""
    opts = parse_options(pairs, kwargs)
    return {k: opts[k] for k in opts["_given"]}


def _check_stage(net: Network, what: str) -> None:
    # nn_train catches Ctrl-C and rolls back; re-raise so the whole scheme stops
    if net.get("interrupted"):
        raise KeyboardInterrupt(f"interrupted while training {what}")


def pretrain_layers(
    sizes: Sequence[int], option: Any, x: Any, y: Any, *pairs: Any,
    sae_option: Mapping[str, Any] | None = None, progress: bool = False, **kwargs: Any,
) -> tuple[list[Network], Network]:
    """The greedy stage (MATLAB ``autoencoder_train``): one trained sparse
    autoencoder per hidden layer, and the output layer ``[sizes[-2], sizes[-1]]``
    trained with ``nn_train`` on the top codes.

    ``sae_option``: ``sae_create`` options (course defaults otherwise; batch
    normalisation must stay off).  ``pairs``/``kwargs``: the final network's
    ``nn_create`` options, used for the output layer (without batch
    normalisation); its ``dtype`` is also the autoencoders' default and its
    ``seed`` seeds every part.  ``option`` (``batch_size``, ``iteration``) is
    used for every stage.
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 3:
        raise ValueError(f"stacked pretraining needs at least one hidden layer; got sizes {sizes}")
    given = _given_options(pairs, kwargs)
    rng = make_rng(given.pop("seed", None))
    sae_opts = _given_options((), dict(sae_option or {}))
    if sae_opts.get("batch_normalization"):
        raise ValueError("sae_option: batch normalization must be off while pretraining (course SAEs have none)")
    sae_rng = make_rng(sae_opts.pop("seed")) if "seed" in sae_opts else rng
    sae_opts.setdefault("dtype", given.get("dtype", "float64"))
    sae_f, hidden_f = sae_opts.get("active_function", "sigmoid"), given.get("active_function", "sigmoid")
    if sae_f != hidden_f:
        warn(f"the autoencoders use {sae_f!r} units but the network uses {hidden_f!r}: "
             "pretrained features will not carry over exactly")
    parse_train_options(option)  # fail before any training
    codes = as_matrix(x, "x", np.dtype(sae_opts["dtype"]))

    encoders: list[Network] = []
    with tqdm(total=len(sizes) - 1, desc="pretraining", unit="layer", disable=not progress) as bar:
        for i in range(len(sizes) - 2):
            sae = sae_create([sizes[i], sizes[i + 1]], **sae_opts, seed=int(sae_rng.integers(_SEED_RANGE)))
            sae = sae_train(sae, option, codes)
            _check_stage(sae, f"autoencoder {i + 1}")
            encoders.append(sae)
            codes = sae_encode(sae, codes)
            bar.set_postfix(layer=f"{sizes[i]}->{sizes[i + 1]}", cost=f"{sae.cost[-1]:.4g}")
            bar.update()
        # the output layer has no hidden layer, so dropout options do not apply to it
        top_opts = {k: v for k, v in given.items() if k not in ("keep_probability", "dropout")}
        top = nn_create(sizes[-2:], **{**top_opts, "batch_normalization": 0,
                                       "seed": int(rng.integers(_SEED_RANGE))})
        top = nn_train(top, option, codes, y)
        _check_stage(top, "the output layer")
        bar.set_postfix(layer=f"{sizes[-2]}->{sizes[-1]} (supervised)", cost=f"{top.cost[-1]:.4g}")
        bar.update()
    return encoders, top


def stack_network(sizes: Sequence[int], encoders: Sequence[Network], top: Network,
                  *pairs: Any, **kwargs: Any) -> Network:
    """``nn_create(sizes, ...)`` with layer ``i`` set to encoder ``i``'s ``W{1}``, ``b{1}``
    and the last layer to ``top``'s (MATLAB ``nn.W{i} = sae.W{1}; nn.b{i} = sae.b{1}``)."""
    nn = nn_create(sizes, *pairs, **kwargs)
    parts = [(s.W[0], s.b[0]) for s in encoders] + [(top.W[0], top.b[0])]
    if len(parts) != len(nn.W):
        raise ValueError(f"{len(parts)} pretrained layers for a network with {len(nn.W)} layers")
    for k, (W, b) in enumerate(parts):
        if W.shape != nn.W[k].shape:
            raise ValueError(f"pretrained layer {k + 1} has W of shape {W.shape}, the network {nn.W[k].shape}")
        nn.W[k] = W  # copied into the parameter buffer (shape-checked)
        nn.b[k] = b
    return nn


def sae_stack_pretrain(
    sizes: Sequence[int], option: Any, x: Any, y: Any, *pairs: Any,
    sae_option: Mapping[str, Any] | None = None, fine_tune: bool = True, progress: bool = False,
    **kwargs: Any,
) -> Network:
    """Stacked sparse-autoencoder pretraining, then fine-tuning
    (MATLAB ``autoencoder_train`` + ``autoencoder_adjust``).

    ``nn = sae_stack_pretrain([784,400,169,49,10], {'batch_size':100,'iteration':1},
    train_x, train_y, 'active function','sigmoid', 'learning rate',0.01, ...)``
    returns ``nn_create(sizes, ...)`` initialised from the pretrained layers
    (see :func:`pretrain_layers`) and, if ``fine_tune``, trained with
    ``nn_train(nn, option, x, y)``.  ``progress`` shows a tqdm bar.  A Ctrl-C
    during any stage raises KeyboardInterrupt (the fine-tuning stage instead
    returns the network with ``nn.interrupted`` set, as ``nn_train`` does).
    """
    given = _given_options(pairs, kwargs)
    rng = make_rng(given.pop("seed", None))
    encoders, top = pretrain_layers(sizes, option, x, y, sae_option=sae_option, progress=progress,
                                    seed=rng, **given)
    nn = stack_network(sizes, encoders, top, seed=rng, **given)
    if fine_tune:
        nn = nn_train(nn, option, x, y)
    return nn

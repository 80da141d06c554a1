"""Sparse autoencoders (MATLAB ``sae_create.m``, ``sae_train.m``)."""
from __future__ import annotations

from typing import Any, Sequence

from .checks import as_matrix
from .create import nn_create
from .network import Network
from .train import nn_train


def sae_create(sizes: Sequence[int], *pairs: Any, **kwargs: Any) -> Network:
    """Sparse autoencoder ``[n_visible, n_hidden]`` -> network ``[n_visible, n_hidden, n_visible]``
    (MATLAB ``sae = sae_create([784,196])``); options as for ``nn_create``
    (``'sparsity'`` is the target activation, ``'beta'`` the penalty weight)."""
    sizes = list(sizes)
    if len(sizes) != 2:
        raise ValueError(f"sae_create takes [n_visible, n_hidden]; got {sizes!r}")
    return nn_create([sizes[0], sizes[1], sizes[0]], *pairs, **kwargs)


def sae_train(sae: Network, option: Any, train_x: Any) -> Network:
    """Train the autoencoder to reproduce its input with the KL sparsity penalty
    on the hidden layer (MATLAB ``sae = sae_train(sae, option, train_x)``).
    Returns the trained autoencoder (``encoder`` = 1); ``sae`` is unchanged."""
    sizes = sae.sizes
    if len(sizes) != 3 or sizes[0] != sizes[-1]:
        raise ValueError("sae_train needs a network from sae_create ([n, h, n])")
    sae = sae.copy()
    sae["encoder"] = 1
    x = as_matrix(train_x, "train_x", sae["dtype"])
    return nn_train(sae, option, x, x)

"""``nn_backpropagation`` (MATLAB ``nn_backpropagation.m``): gradients of the last batch.

``theta[k]`` is the course's sensitivity: m times the derivative of the cost
with respect to layer k's pre-activation (after batch-norm scaling when BN is
on), so ``W_grad[k-1] = theta[k] a[k-1]' / m + weight_decay W[k-1]``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .batchnorm import BN_MODES
from .checks import as_matrix, check_differentiable, check_targets
from .forward import sparsity_rho
from .activations import ACTIVATIONS
from .functions import output_theta
from .network import Network, n_layers


def backward(nn: Network, y: np.ndarray) -> None:
    """Fill theta and the gradient buffers from the state left by the forward pass."""
    L = n_layers(nn)
    a = nn["a"]
    m = a[0].shape[1]
    bn = BN_MODES[nn["bn_mode"]] if nn["batch_normalization"] else None
    dact = ACTIVATIONS[nn["active_function"]].df
    masks, raw = nn._scratch.get("mask") or [None] * L, nn._scratch.get("a_raw") or [None] * L
    theta: list[Any] = [np.zeros((1, 1))] + [None] * L  # MATLAB's theta{1} = 0
    t = output_theta(nn["output_function"], nn["objective_function"])(a[L], y.T)
    for k in range(L, 0, -1):  # k indexes a[k]; weight layer k-1 maps a[k-1] -> a[k]
        if bn is not None:
            t = bn.backward(nn, k - 1, t)
        theta[k] = t
        nn.W_grad[k - 1][...] = t @ a[k - 1].T / m + nn["weight_decay"] * nn.W[k - 1]
        nn.b_grad[k - 1][...] = np.sum(t, axis=1, keepdims=True) / m
        if k == 1:
            break
        back = nn.W[k - 1].T @ t
        if nn["encoder"] and k == 2:
            rho, rho_hat = nn["sparsity"], sparsity_rho(nn)
            back = back + nn["beta"] * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))
        if masks[k - 2] is not None:  # dropout on a[k-1] (made by weight layer k-2): kept units, scaled
            t = back * dact(raw[k - 2]) * masks[k - 2]
        else:
            t = back * dact(a[k - 1])
    nn._fields["theta"] = tuple(theta)


def nn_backpropagation(nn: Network, batch_y: Any) -> Network:
    """Backward pass (MATLAB ``nn = nn_backpropagation(nn, batch_y)``) after ``nn_forward``.

    Returns a new network with ``nn.theta`` and ``nn.W_grad``, ``nn.b_grad`` (and
    ``Gamma_grad``, ``Beta_grad`` with batch normalisation); the argument is unchanged.
    """
    if "a" not in nn or not nn._scratch:
        raise ValueError("nn_backpropagation needs the state of nn_forward: call nn = nn_forward(nn, x, y) "
                         "on the batch first")
    check_activations(nn)
    check_differentiable(nn, "nn_backpropagation")
    y = as_matrix(batch_y, "batch_y", np.dtype(nn["dtype"]))
    expected = (nn["a"][0].shape[1], nn.sizes[-1])
    if y.shape != expected:
        raise ValueError(f"batch_y has shape {y.shape}; the last nn_forward batch needs {expected}")
    check_targets(nn, y, "batch_y")
    nn = nn.copy()
    backward(nn, y)
    return nn


def check_activations(nn: Network) -> None:
    """``nn.a`` must be what nn_forward left: one ``units x m`` array per layer (users may have edited it)."""
    a = nn["a"]
    m = np.shape(a[0])[1] if len(a) and np.ndim(a[0]) == 2 else -1
    ok = isinstance(a, (list, tuple)) and len(a) == len(nn.sizes) and m > 0 and all(
        isinstance(ak, np.ndarray) and ak.shape == (n, m) for ak, n in zip(a, nn.sizes))
    if not ok or len(nn._scratch.get("xhat", ())) != len(nn.sizes) - 1:
        raise ValueError("nn.a is not what nn_forward left (one units x m array per layer); call "
                         "nn = nn_forward(nn, x, y) on the batch again")

"""Batch normalisation, two modes (registry ``BN_MODES``):

``course`` reproduces ``nn_forward.m``: every batch is normalised with the
*running* mean ``E`` and std ``S`` accumulated over all batches so far, one
counter ``vecNum`` is shared by all layers (it grows by ``m`` per layer per
batch), the pooled variance ignores the shift between batch means, ``S+1e-4``
is the denominator, ``Gamma``/``Beta`` are one scalar per layer, and the
backward pass treats ``E`` and ``S`` as constants.

``standard`` is Ioffe & Szegedy: per-batch statistics with the full backward
pass, per-unit gamma/beta, and exponential running averages (momentum 0.1)
of the mean and unbiased variance for inference.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, NamedTuple

import numpy as np

# defined beside the fused kernels that compile them in, so their cache key covers them
from .kernels.fused import COURSE_EPS, STANDARD_EPS, STANDARD_MOMENTUM

if TYPE_CHECKING:  # annotations only: network (via edits) imports this module
    from .network import Network


def init_batchnorm(nn: Network) -> None:
    """Initial batch-norm parameters and statistics, as ``nn_create.m``: Gamma 1, Beta 0, E/S and
    the counter vecNum from zero (course) or running mean 0 / std 1 (standard)."""
    for g, b in zip(nn.Gamma, nn.Beta):
        g[...], b[...] = 1.0, 0.0
    stats = nn._buf.stats
    stats[0] = 0.0
    stats[1] = 1.0 if nn["bn_mode"] == "standard" else 0.0
    nn._fields["vecNum"] = 0.0


def _course_train(nn: Network, k: int, z: np.ndarray) -> np.ndarray:
    m = z.shape[1]
    n = nn["vecNum"]
    var = np.std(z, axis=1, ddof=1, keepdims=True) ** 2 if m > 1 else np.zeros_like(z[:, :1])
    E = (nn.E[k] * n + z.sum(axis=1, keepdims=True)) / (n + m)
    S = np.sqrt((nn.S[k] ** 2 * (n - 1) + (m - 1) * var) / (n + m - 1))
    nn.E[k][...], nn.S[k][...], nn._fields["vecNum"] = E, S, n + m
    xhat = (z - E) / (S + COURSE_EPS)
    nn._scratch["xhat"][k] = xhat
    return nn.Gamma[k] * xhat + nn.Beta[k]


def _course_backward(nn: Network, k: int, theta: np.ndarray) -> np.ndarray:
    nn.Gamma_grad[k][...] = np.sum(np.mean(theta * nn._scratch["xhat"][k], axis=1))
    nn.Beta_grad[k][...] = np.sum(np.mean(theta, axis=1))
    return nn.Gamma[k] * theta / (nn.S[k] + COURSE_EPS)


def _course_infer(nn: Network, k: int, z: np.ndarray) -> np.ndarray:
    return nn.Gamma[k] * ((z - nn.E[k]) / (nn.S[k] + COURSE_EPS)) + nn.Beta[k]


def _standard_train(nn: Network, k: int, z: np.ndarray) -> np.ndarray:
    m = z.shape[1]
    mu = z.mean(axis=1, keepdims=True)
    var = ((z - mu) ** 2).mean(axis=1, keepdims=True)
    sd = np.sqrt(var + STANDARD_EPS)
    unbiased = var * m / (m - 1) if m > 1 else var
    nn.E[k][...] = (1 - STANDARD_MOMENTUM) * nn.E[k] + STANDARD_MOMENTUM * mu
    nn.S[k][...] = np.sqrt((1 - STANDARD_MOMENTUM) * nn.S[k] ** 2 + STANDARD_MOMENTUM * unbiased)
    xhat = (z - mu) / sd
    nn._scratch["xhat"][k], nn._scratch["bn_sd"][k] = xhat, sd
    return nn.Gamma[k] * xhat + nn.Beta[k]


def _standard_backward(nn: Network, k: int, theta: np.ndarray) -> np.ndarray:
    xhat = nn._scratch["xhat"][k]
    g_mean = np.mean(theta * xhat, axis=1, keepdims=True)
    b_mean = np.mean(theta, axis=1, keepdims=True)
    nn.Gamma_grad[k][...] = g_mean
    nn.Beta_grad[k][...] = b_mean
    return nn.Gamma[k] / nn._scratch["bn_sd"][k] * (theta - b_mean - xhat * g_mean)


def _standard_infer(nn: Network, k: int, z: np.ndarray) -> np.ndarray:
    return nn.Gamma[k] * ((z - nn.E[k]) / np.sqrt(nn.S[k] ** 2 + STANDARD_EPS)) + nn.Beta[k]


class BNMode(NamedTuple):
    train: Callable[[Network, int, np.ndarray], np.ndarray]  # normalise a batch, update statistics
    backward: Callable[[Network, int, np.ndarray], np.ndarray]  # set Gamma/Beta grads, return theta below BN
    infer: Callable[[Network, int, np.ndarray], np.ndarray]  # normalise with stored statistics


BN_MODES: dict[str, BNMode] = {
    "course": BNMode(_course_train, _course_backward, _course_infer),
    "standard": BNMode(_standard_train, _standard_backward, _standard_infer),
}

"""The stepwise engine: an epoch and inference in numpy, through the course functions' own steps
(``nn_forward`` / ``nn_backpropagation`` / ``nn_applygradient``); the slower twin of the fused engine,
for optimizers that are not njit functions and as the reference the fused kernels are checked against.
:mod:`nntoolbox.engines` chooses between the two."""
from __future__ import annotations

import numpy as np

from .activations import ACTIVATIONS
from .applygradient import apply_step, at_lookahead
from .backprop import backward
from .batchnorm import BN_MODES
from .forward import forward_train, layer_function
from .network import Network, n_layers


def stepwise_epoch(nn: Network, x: np.ndarray, y: np.ndarray, perm: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """One epoch in place on ``nn`` (the batches ``perm[bounds[i]:bounds[i+1]]`` of validated rows);
    returns the per-batch costs."""
    costs = np.empty(len(bounds) - 1)
    for i in range(len(bounds) - 1):
        idx = perm[bounds[i]:bounds[i + 1]]
        by = y[idx]
        with at_lookahead(nn):  # the gradient is taken at the optimizer's look-ahead point (Nesterov)
            costs[i] = forward_train(nn, x[idx], by)
            backward(nn, by)
        apply_step(nn)
    return costs


def stepwise_predict(nn: Network, x: np.ndarray) -> np.ndarray:
    """Outputs for validated rows ``x``, one row per sample (the inference pass in numpy: stored
    batch-norm statistics, no dropout)."""
    bn = BN_MODES[nn["bn_mode"]] if nn["batch_normalization"] else None
    a = x.T
    for k in range(n_layers(nn)):
        z = nn.W[k] @ a + nn.b[k]
        if bn is not None:
            z = bn.infer(nn, k, z)
        a = ACTIVATIONS[layer_function(nn, k)].f(z)
    return a.T

"""``nn_forward`` (MATLAB ``nn_forward.m``): one training forward pass and its cost."""
from __future__ import annotations

from typing import Any

import numpy as np

from .batchnorm import BN_MODES
from .checks import check_trainable, check_training_data
from .activations import ACTIVATIONS
from .functions import data_cost, kl_sparsity
from .kernels.dropout import dropout_mask
from .network import Network, _readonly, n_layers
from .record import Record


def layer_function(nn: Network, k: int) -> str:
    """Activation name of weight layer ``k`` (the last one uses the output function)."""
    return nn["output_function"] if k == n_layers(nn) - 1 else nn["active_function"]


def ce_factor(nn: Network) -> float:
    """The course reports half the cross entropy (``-0.5*sum(sum(y.*log(a)))/m``)."""
    return 0.5 if nn["ce_cost"] == "course" else 1.0


def uses_dropout(nn: Network) -> bool:
    return nn["dropout"] == "inverted" and nn["keep_probability"] < 1


def record_cost(nn: Network, costs: np.ndarray) -> None:
    """Append batch costs to ``nn.cost`` the way the course does.

    ``nn_forward.m`` writes ``nn.cost(size(nn.cost)+1) = c``: with a 1xL history
    that indexes elements 2 and L+1, so entry 2 always holds the newest cost.
    ``cost_history='append'`` keeps a plain history.  Amortised constant time
    per cost (:class:`nntoolbox.record.Record`).
    """
    record: Record = nn._fields["cost"]
    costs = np.asarray(costs, dtype=float).ravel()
    newest = costs[-1] if nn["cost_history"] == "course" and costs.size and len(record) + costs.size >= 2 else None
    nn._fields["cost"] = record.append(costs, second=newest)


def sparsity_rho(nn: Network) -> np.ndarray:
    """Mean activation of the first hidden layer over the batch (MATLAB ``roj``)."""
    return np.sum(nn.a[1], axis=1, keepdims=True) / nn.a[1].shape[1]


def forward_train(nn: Network, x: np.ndarray, y: np.ndarray, frozen_bn: bool = False) -> float:
    """Forward pass on a validated batch (rows = samples); returns the batch cost.

    ``frozen_bn``: normalise with the stored batch-norm statistics instead of updating them from the
    batch (the function the course's backward pass differentiates: see nntoolbox.checkgradient)."""
    L = n_layers(nn)
    bn = BN_MODES[nn["bn_mode"]] if nn["batch_normalization"] else None
    drop = uses_dropout(nn)
    a = [x.T]
    scratch = nn._scratch = {"xhat": [None] * L, "bn_sd": [None] * L, "mask": [None] * L, "a_raw": [None] * L}
    cost2 = 0.0
    for k in range(L):
        z = nn.W[k] @ a[k] + nn.b[k]
        if bn is not None:
            z = bn.infer(nn, k, z) if frozen_bn else bn.train(nn, k, z)
        name = layer_function(nn, k)
        h = ACTIVATIONS[name].f(z)
        if drop and k < L - 1:
            mask = dropout_mask(nn._dropout_seed, nn._dropout_step, k, h.shape, nn["keep_probability"])
            scratch["mask"][k], scratch["a_raw"][k] = mask, h
            h = h * mask
        a.append(h)
        cost2 += float(np.sum(nn.W[k] ** 2))
    if drop:
        nn._dropout_step += 1
    nn._fields["a"] = tuple(_readonly(ak) for ak in a)
    yt = y.T
    cost = data_cost(a[-1], yt, nn["objective_function"], ce_factor(nn)) + 0.5 * nn["weight_decay"] * cost2
    if nn["encoder"]:
        cost += nn["beta"] * kl_sparsity(nn["sparsity"], sparsity_rho(nn))
    return cost


def nn_forward(nn: Network, batch_x: Any, batch_y: Any) -> Network:
    """Training forward pass (MATLAB ``nn = nn_forward(nn, batch_x, batch_y)``).

    Returns a new network with ``nn.a`` (``units x m`` activations, ``a[0]`` the
    input), updated batch-norm statistics and the batch cost appended to
    ``nn.cost``; the argument is unchanged, as in MATLAB.
    """
    x, y = check_training_data(nn, batch_x, batch_y, "batch_x", "batch_y")
    check_trainable(nn, x.shape[0], f"batch_x has {x.shape[0]} row")
    nn = nn.copy()
    record_cost(nn, np.array([forward_train(nn, x, y)]))
    return nn

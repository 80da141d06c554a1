"""``nn_applygradient`` (MATLAB ``nn_applygradient.m``) and the optimizer registry."""
from __future__ import annotations

from typing import NamedTuple

from .kernels import optim
from .network import Network, sync_buffers


class Optimizer(NamedTuple):
    code: int  # dispatch code of kernels.optim.apply_update
    slots: tuple[str, ...]  # state buffers, MATLAB prefixes (vW, rW, sW ...)
    doc: str


OPTIMIZERS: dict[str, Optimizer] = {
    "normal": Optimizer(optim.SGD, (), "W -= lr*g"),
    "Momentum": Optimizer(optim.MOMENTUM, ("v",), "v = rho*v - lr*g; W += v (course rho = 0.1)"),
    "AdaGrad": Optimizer(optim.ADAGRAD, ("r",), "r += g^2; W -= lr*g/(sqrt(r)+0.001)"),
    "RMSProp": Optimizer(optim.RMSPROP, ("r",), "r = 0.9r + 0.1g^2; W -= lr*g/(sqrt(r)+0.001)"),
    "Adam": Optimizer(optim.ADAM, ("s", "r"), "rho1 0.9, rho2 0.999; course: sqrt(r_hat+1e-5)"),
}


def adam_time(nn: Network) -> float:
    """Bias-correction time for this update.

    Course: ``AdamTime`` counts epochs (``nn_train`` adds 1 per epoch).  Before
    any epoch it is 0 and the course divides by ``1 - rho^0 = 0``; we use 1.
    Textbook: the count of updates, advanced here.
    """
    if nn["adam"] == "textbook":
        nn["AdamTime"] = int(nn["AdamTime"]) + 1
    return float(max(nn["AdamTime"], 1))


def step_args(nn: Network) -> tuple:
    """Arguments after (params, grads, state) for :func:`kernels.optim.apply_update`."""
    method = nn["optimization_method"]
    t = adam_time(nn) if method == "Adam" else 1.0
    return (OPTIMIZERS[method].code, float(nn["learning_rate"]), float(nn["momentum"]), t,
            nn.get("adam") == "textbook")


def nn_applygradient(nn: Network) -> Network:
    """Apply the gradients in ``nn.W_grad`` ... with the network's optimizer
    (MATLAB ``nn = nn_applygradient(nn)``).  Returns ``nn``."""
    sync_buffers(nn)
    optim.apply_update(nn["_params"], nn["_grads"], nn["_state"], *step_args(nn))
    return nn

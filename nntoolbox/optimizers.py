"""``nn_applygradient`` (MATLAB ``nn_applygradient.m``) and the optimizer registry."""
from __future__ import annotations

from typing import NamedTuple

from .interrupts import sigint_deferred
from .kernels import optim
from .network import PARAM_GROUPS, Network


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


# The course initialises these state entries of Gamma to 1 instead of 0
# (nn.vGamma{k} = 1 for Momentum, nn.sGamma{k} = 1 for Adam): quirk 7, option state_init.
COURSE_GAMMA_STATE_ONE = {"Momentum": "v", "Adam": "s"}


def init_optimizer_state(nn: Network) -> None:
    """Optimizer state as ``nn_create.m`` leaves it: zeros (course: Gamma's v or s at 1), AdamTime 0."""
    buf, method = nn._buf, nn["optimization_method"]
    buf.state[...] = 0.0
    slot = COURSE_GAMMA_STATE_ONE.get(method)
    if slot in buf.slots and nn["state_init"] == "course" and "Gamma" in buf.groups():
        for view in buf.views(buf.state[buf.slots.index(slot)], PARAM_GROUPS.index("Gamma")):
            view[...] = 1.0
    if method == "Adam":
        nn._fields["AdamTime"] = 0
    else:
        nn._fields.pop("AdamTime", None)


def adam_time(nn: Network) -> float:
    """Bias-correction time for this update.

    Course: ``AdamTime`` counts epochs (``nn_train`` adds 1 per epoch).  Before
    any epoch it is 0 and the course divides by ``1 - rho^0 = 0``; we use 1.
    Textbook: the count of updates, advanced here.
    """
    if nn["adam"] == "textbook":
        nn._fields["AdamTime"] = int(nn["AdamTime"]) + 1
    return float(max(nn["AdamTime"], 1))


def step_args(nn: Network) -> tuple:
    """Arguments after (params, grads, state) for :func:`kernels.optim.apply_update`."""
    method = nn["optimization_method"]
    t = adam_time(nn) if method == "Adam" else 1.0
    return (OPTIMIZERS[method].code, float(nn["learning_rate"]), float(nn["momentum"]), t,
            nn.get("adam") == "textbook")


def apply_step(nn: Network) -> None:
    """One optimizer step in place from the gradients in the buffers (both engines' update)."""
    buf = nn.checked_buffers()
    with sigint_deferred():  # the first call loads the kernel: see kernels.sigint_deferred
        optim.apply_update(buf.params, buf.grads, buf.state, *step_args(nn))


def nn_applygradient(nn: Network) -> Network:
    """Apply the gradients in ``nn.W_grad`` ... with the network's optimizer
    (MATLAB ``nn = nn_applygradient(nn)``).  Returns the updated network; ``nn`` is unchanged."""
    nn = nn.copy()
    apply_step(nn)
    return nn

"""``nn_applygradient`` (MATLAB ``nn_applygradient.m``) and the optimizer steps of the stepwise engine.

The optimizer itself is the network's entry in the registry (:mod:`nntoolbox.optimizers`); here its
update is applied to the network's buffers, with the step counter (``AdamTime``) and the look-ahead
point (Nesterov) that ``nn_train`` needs around it.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from .interrupts import sigint_deferred
from .network import Network
from .optimizers import optimizer_of


def advance_epoch(nn: Network) -> None:
    """Called by ``nn_train`` before each epoch: the course's ``AdamTime`` counts epochs."""
    entry = optimizer_of(nn)
    if entry.counting(nn) == "epoch":
        nn._fields[entry.counter] = int(nn._fields[entry.counter]) + 1


def step_time(nn: Network) -> float:
    """``t`` for this update, advancing a per-update counter.  A per-epoch counter is 0 before
    any epoch (the course then divides by ``1 - rho^0 = 0``); we use 1."""
    entry = optimizer_of(nn)
    if entry.counter is None:
        return 1.0
    if entry.counting(nn) == "update":
        nn._fields[entry.counter] = int(nn[entry.counter]) + 1
    return float(max(nn[entry.counter], 1))


def apply_step(nn: Network) -> None:
    """One optimizer step in place from the gradients in the buffers (the stepwise engine's update)."""
    buf, entry = nn.checked_buffers(), optimizer_of(nn)
    with sigint_deferred():  # the first call loads or compiles the kernel: see interrupts.sigint_deferred
        entry.update(buf.params, buf.grads, buf.state, entry.hyper_values(nn), step_time(nn))


@contextmanager
def at_lookahead(nn: Network) -> Iterator[None]:
    """Within the block the parameters are the optimizer's look-ahead point (Nesterov), so the
    forward/backward pass takes the gradient there; afterwards they are restored for the update."""
    entry = optimizer_of(nn)
    if entry.lookahead is None:
        yield
        return
    buf = nn.checked_buffers()
    theta = buf.params.copy()
    with sigint_deferred():
        entry.lookahead(theta, buf.state, entry.hyper_values(nn), buf.params)
    try:
        yield
    finally:
        buf.params[...] = theta


def nn_applygradient(nn: Network) -> Network:
    """Apply the gradients in ``nn.W_grad`` ... with the network's optimizer
    (MATLAB ``nn = nn_applygradient(nn)``).  Returns the updated network; ``nn`` is unchanged.
    (For a look-ahead optimizer such as Nesterov, the gradients should have been taken at
    the look-ahead point, as ``nn_train`` does.)"""
    nn = nn.copy()
    apply_step(nn)
    return nn

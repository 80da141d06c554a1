"""``nn_create`` (MATLAB ``nn_create.m``): build and initialise a network."""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from .network import Network, attach_buffers, attach_stats, build_layout
from .optimizers import OPTIMIZERS
from .options import parse_options

# The course initialises these state entries of Gamma to 1 instead of 0
# (nn.vGamma{k} = 1 for Momentum, nn.sGamma{k} = 1 for Adam).
COURSE_GAMMA_STATE_ONE = {"Momentum": "v", "Adam": "s"}


def _check_sizes(sizes: Any) -> list[int]:
    if isinstance(sizes, (str, bytes)):
        raise TypeError(f"sizes must be a list of layer sizes such as [784, 100, 10]; got {sizes!r}")
    arr = np.asarray(sizes).ravel()
    if arr.size < 2:
        raise ValueError(f"sizes must list at least an input and an output layer; got {sizes!r}")
    if arr.dtype.kind not in "iuf" or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)) or np.any(arr < 1):
        raise ValueError(f"sizes must be positive integers; got {sizes!r}")
    return [int(s) for s in arr]


def make_rng(seed: Any) -> np.random.Generator:
    """A numpy Generator from an int seed, a Generator, or fresh entropy (None)."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def nn_create(sizes: Sequence[int], *pairs: Any, **kwargs: Any) -> Network:
    """Create a network (MATLAB ``nn = nn_create([6,10,2], 'active function','relu', ...)``).

    ``sizes`` lists the units per layer, input first.  Options come as the
    course's name/value pairs and/or Python keywords (``learning_rate=0.1``);
    see :data:`nntoolbox.options.OPTIONS` for every name, its default and the
    quirk switches.  ``seed`` (int or ``numpy.random.Generator``) makes the
    initialisation and the default batch order reproducible.

    Initialisation follows the course: ``W`` uniform in ``±1/sqrt(fan_in)``;
    ``b`` likewise, except ``rand + 0.01`` for relu networks.
    """
    sizes = _check_sizes(sizes)
    opts = parse_options(pairs, kwargs)
    given = opts.pop("_given")

    if opts["objective_function"] == "Cross Entropy":
        # nn_create.m forces softmax for cross entropy; a different explicit
        # choice has no backward rule in the course, so refuse it rather than
        # silently replace it.
        if "output_function" in given and opts["output_function"] != "softmax":
            raise ValueError(
                f"objective 'Cross Entropy' needs output function 'softmax' (got "
                f"{opts['output_function']!r}; the course code silently replaced it with softmax): "
                "drop the 'output function' option or use the 'MSE' objective")
        opts["output_function"] = "softmax"
    if opts["keep_probability"] < 1 and opts["dropout"] == "course":
        warnings.warn(
            "keep probability < 1 is ignored, as in the course code; pass dropout='inverted' "
            "(or textbook=True) to apply dropout", stacklevel=2)

    rng = make_rng(opts.pop("seed"))
    dtype = np.dtype(opts.pop("dtype"))
    nn = Network(
        size=np.array(sizes, dtype=float), depth=len(sizes), **opts,
        cost=np.zeros(0), encoder=0, grad_squared=0.0, r=0.0,
    )
    nn["dtype"] = dtype.name
    nn["_rng"] = rng
    nn["_state_slots"] = OPTIMIZERS[opts["optimization_method"]].slots
    layout = build_layout(nn)
    nn["_layout"] = layout
    total = int(layout[-1, 2] + layout[-1, 3] * layout[-1, 4])
    params = np.zeros(total, dtype=dtype)
    state = np.zeros((len(nn["_state_slots"]), total), dtype=dtype)
    attach_buffers(nn, params, np.zeros(total, dtype=dtype), state)

    relu = opts["active_function"] == "relu"
    for k in range(len(sizes) - 1):
        w = sizes[k]
        nn.W[k][...] = 2 * rng.random(nn.W[k].shape) / np.sqrt(w) - 1 / np.sqrt(w)
        nn.b[k][...] = (rng.random(nn.b[k].shape) + 0.01) if relu \
            else 2 * rng.random(nn.b[k].shape) / np.sqrt(w) - 1 / np.sqrt(w)
    if opts["batch_normalization"]:
        standard = opts["bn_mode"] == "standard"
        for k in range(len(sizes) - 1):
            nn.Gamma[k][...] = 1.0
        # E/S are views into one (2, units) buffer so the fused kernel can update them.
        # course: they accumulate from zero; standard: running mean 0, running std 1
        stats = np.zeros((2, sum(sizes[1:])), dtype=dtype)
        stats[1] = 1.0 if standard else 0.0
        attach_stats(nn, stats)
        nn["vecNum"] = 0.0
        slot = COURSE_GAMMA_STATE_ONE.get(opts["optimization_method"])
        if slot and opts["state_init"] == "course":
            for g in nn[slot + "Gamma"]:
                g[...] = 1.0
    if opts["optimization_method"] == "Adam":
        nn["AdamTime"] = 0
    # dropout masks are a hash of (seed, step, layer, index): see kernels/dropout.py
    nn["_dropout_seed"], nn["_dropout_step"] = int(rng.integers(2 ** 63)), 0
    return nn

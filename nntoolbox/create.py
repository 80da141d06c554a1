"""``nn_create`` (MATLAB ``nn_create.m``): build and initialise a network."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .batchnorm import init_batchnorm
from .edits import check_cross_entropy_outputs, init_optimizer_state, warn_ignored_dropout
from .memory import check_create
from .network import Buffers, Network, _readonly
from .optimizers import OPTIMIZERS
from .options import parse_options
from .record import Record


def _check_sizes(sizes: Any) -> list[int]:
    if isinstance(sizes, (str, bytes)) or sizes is None:
        raise TypeError(f"sizes must be a list of layer sizes such as [784, 100, 10]; got {sizes!r}")
    try:
        arr = np.asarray(sizes)
    except (TypeError, ValueError):
        arr = np.asarray(None)
    if arr.dtype == object or arr.ndim != 1 and not (arr.ndim == 2 and 1 in arr.shape):
        raise TypeError(f"sizes must be a flat list of layer sizes such as [784, 100, 10]; got {sizes!r}")
    arr = arr.ravel()
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
        check_cross_entropy_outputs(sizes[-1], "objective 'Cross Entropy'")
    warn_ignored_dropout(opts["keep_probability"], opts["dropout"])

    rng = make_rng(opts.pop("seed"))
    dtype = np.dtype(opts.pop("dtype"))
    fields = dict(size=_readonly(np.array(sizes, dtype=float)), depth=len(sizes), **opts,
                  cost=Record((), float), encoder=0, grad_squared=0.0, r=0.0, dtype=dtype.name)
    check_create(sizes, opts, dtype)  # MemoryError before allocating what cannot fit
    method = opts["optimization_method"]
    buf = Buffers.allocate(sizes, bool(opts["batch_normalization"]), opts["bn_mode"] == "standard", method,
                           OPTIMIZERS[method].slots, dtype)
    nn = Network._from_parts(fields, buf, rng, 0, given)

    relu = opts["active_function"] == "relu"
    for k in range(len(sizes) - 1):
        w = sizes[k]
        nn.W[k][...] = 2 * rng.random(nn.W[k].shape) / np.sqrt(w) - 1 / np.sqrt(w)
        nn.b[k][...] = (rng.random(nn.b[k].shape) + 0.01) if relu \
            else 2 * rng.random(nn.b[k].shape) / np.sqrt(w) - 1 / np.sqrt(w)
    if opts["batch_normalization"]:
        init_batchnorm(nn)
    init_optimizer_state(nn)
    # dropout masks are a hash of (seed, step, layer, index): see kernels/dropout.py
    nn._dropout_seed = int(rng.integers(2 ** 63))
    nn._rng_state = rng.bit_generator.state  # the batch-order stream continues from here
    return nn

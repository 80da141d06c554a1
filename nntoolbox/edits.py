"""Field edits of a network (MATLAB ``nn.field = value``): each one works or is refused clearly.

What an edit of an ``nn_create`` option does after creation (as ``nn_create``
would have done with that option; nothing else changes):

=========================  ===================================================================
``optimization_method``    the optimizer state starts fresh (``vW``, ``rW``, ``sW`` ... as
                           ``nn_create`` initialises them, ``AdamTime`` = 0 for Adam); weights kept;
                           the new method's hyper-parameters (``momentum``, ``rho`` ...) take its
                           defaults unless set explicitly (at ``nn_create`` or by an edit)
``batch_normalization``,   ``W`` and ``b`` kept; ``Gamma`` = 1, ``Beta`` = 0, ``E``/``S`` and
``bn_mode``                ``vecNum`` start fresh, and so does the optimizer state (its layout changes)
``dtype``                  every buffer is cast (float64 <-> float32)
``objective_function``     ``'Cross Entropy'`` also sets ``output_function`` to softmax, as
                           ``nn_create`` does (with a warning when it was something else)
``textbook``               sets every quirk option to its textbook (True) or course (False) value
``size``, ``depth``        refused: create a new network with ``nn_create``
``seed``                   refused: it applies at ``nn_create``; use ``option['rng']`` for batch order
other options              validated and stored (used from the next training step on)
=========================  ===================================================================
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .batchnorm import init_batchnorm
from .fields import _BOOLS, _COUNTERS, _FIXED, _FLAGS, _NUMBERS, _TRANSIENT, PARAM_GROUPS
from .network import Buffers, LayerList, Network, near_miss, option_field
from .optimizers import OPTIMIZERS, method_options, optimizer_of
from .options import OPTIONS, QUIRK_OPTIONS, check_number, check_option
from .record import Record
from .userwarn import warn


def set_field(nn: Network, key: Any, value: Any) -> None:
    """``nn[key] = value`` with MATLAB struct semantics (see the module docstring)."""
    if not isinstance(key, str):
        raise TypeError(f"field names must be strings; got {key!r}")
    if key.startswith("_"):
        raise ValueError(f"nn[{key!r}]: fields starting with '_' are internal")
    nn._memo = {}  # settings derived from the fields (kernel flags) are recomputed
    layers = nn._layers(key)
    if layers is not None:
        _assign_layers(nn, key, layers, value)
        return
    option = option_field(key)
    if option is not None:
        set_option(nn, option, value)
    elif key in _FIXED:
        _refuse_fixed(nn, key, value)
    elif key in _COUNTERS or key in _step_counters():
        nn._fields[key] = check_number(value, f"nn.{key}", lo=0, integer=_COUNTERS.get(key, int) is int)
    elif key in _FLAGS:
        nn._fields[key] = OPTIONS["batch_normalization"].check(key, value)  # same 0/1 rule
    elif key in _BOOLS:
        nn._fields[key] = bool(OPTIONS["textbook"].check(key, value))
    elif key in _NUMBERS:
        nn._fields[key] = check_number(value, f"nn.{key}")
    elif key == "cost":
        nn._fields[key] = _cost_history(value)
    elif key == "history":
        nn._hist = _history_columns(value)
    elif key in _TRANSIENT or key in nn._fields:
        nn._fields[key] = value
    else:
        known = [*OPTIONS, *nn, *_FIXED, *_COUNTERS, *_FLAGS, "cost", "history"]
        close = near_miss(key, known)
        if close is not None:
            raise ValueError(f"nn.{key}: the network has no such field; did you mean nn.{close}? "
                             "(a new field would be ignored by training)")
        nn._fields[key] = value  # MATLAB structs take new fields; the toolbox ignores them


def _step_counters() -> set[str]:
    """The step counter fields of the registered optimizers (``<Name>Time``)."""
    return {o.counter for o in OPTIMIZERS.values() if o.counter is not None}


def _assign_layers(nn: Network, key: str, layers: LayerList, value: Any) -> None:
    if value is layers:
        return
    if value is None or isinstance(value, (str, bytes, dict, np.ndarray)) or not hasattr(value, "__len__"):
        raise TypeError(f"nn.{key} must be a list with one array per layer ({len(layers)}); "
                        f"got {type(value).__name__} (to change one layer: nn.{key}[k] = array)")
    if len(value) != len(layers):
        raise ValueError(f"nn.{key} must have one array per layer ({len(layers)}); got {len(value)}")
    checked = [np.array(v, copy=True) if isinstance(v, np.ndarray) else v for v in value]  # value may alias
    for k, v in enumerate(checked):
        layers[k] = v


def _refuse_fixed(nn: Network, key: str, value: Any) -> None:
    current = nn._fields[key]
    try:
        same = np.array_equal(np.asarray(value, dtype=float).ravel(), np.asarray(current, dtype=float).ravel())
    except (TypeError, ValueError):
        same = False
    if not same:
        raise ValueError(f"nn.{key} cannot be changed after nn_create (the layers' arrays depend on it); "
                         "create a new network: nn = nn_create([...], ...)")


def _cost_history(value: Any) -> Record:
    try:
        return Record(value, float)
    except (TypeError, ValueError):
        raise TypeError(f"nn.cost must be a vector of numbers; got {type(value).__name__}") from None


def _history_columns(value: Any) -> dict[str, Record]:
    if value is None:
        return {}
    pd = sys.modules.get("pandas")  # not imported: value cannot be a DataFrame (importing it takes ~0.4 s)
    if pd is None or not isinstance(value, pd.DataFrame):
        raise TypeError(f"nn.history must be a pandas DataFrame (as nn_train makes it); got {type(value).__name__}")
    return {str(c): Record(value[c].to_numpy()) for c in value.columns}


# ---------------------------------------------------------------------------- options
def set_option(nn: Network, key: str, value: Any) -> None:
    """Validate an ``nn_create`` option and apply it to an existing network."""
    if key == "seed":
        raise ValueError("nn.seed: the seed applies at nn_create (initial weights); to seed the batch order "
                         "of training pass option['rng'] = seed to nn_train")
    f = nn._fields
    own = method_options(f["optimization_method"])
    value = check_option(key, value, f["optimization_method"])
    nn._given = nn._given | {key}
    if key == "textbook":
        for q in QUIRK_OPTIONS:
            set_option(nn, q, OPTIONS[q].textbook if value else OPTIONS[q].default)
        for q, opt in own.items():
            if opt.textbook is not None:
                f[q] = opt.textbook if value else opt.default
        f[key] = value
        return
    if f.get(key) == value:
        return
    if key == "output_function" and f["objective_function"] == "Cross Entropy" and value != "softmax":
        raise ValueError(f"nn.output_function = {value!r}: objective 'Cross Entropy' needs the 'softmax' output; "
                         "set nn.objective_function = 'MSE' first")
    if key == "objective_function" and value == "Cross Entropy":
        check_cross_entropy_outputs(nn.sizes[-1], "nn.objective_function = 'Cross Entropy'")
        if f["output_function"] != "softmax":
            warn(f"nn.objective_function = 'Cross Entropy' also sets nn.output_function = 'softmax' "
                 f"(was {f['output_function']!r}), as nn_create does")
            f["output_function"] = "softmax"
    f[key] = value
    if key == "dtype":
        nn._set_buffers(nn._buf.astype(np.dtype(value)))
    elif key in ("batch_normalization", "bn_mode") and (key == "batch_normalization" or f["batch_normalization"]):
        rebuild(nn, keep_bn=False)
    elif key == "optimization_method":
        # the new method's hyper-parameters take its defaults unless the user chose them (as nn_create)
        for q, opt in method_options(value).items():
            if q not in nn._given:
                f[q] = opt.textbook if f.get("textbook") and opt.textbook is not None else opt.default
        rebuild(nn, keep_bn=True)
    elif key in ("keep_probability", "dropout"):
        warn_ignored_dropout(f["keep_probability"], f["dropout"])


def check_cross_entropy_outputs(n_out: int, what: str) -> None:
    """Softmax cross entropy needs one output per class, at least two."""
    if n_out < 2:
        raise ValueError(f"{what}: cross entropy with a softmax output needs at least 2 output units "
                         "(one per class; a single softmax unit is always 1 and learns nothing); use two "
                         "outputs with one-hot targets, or the 'MSE' objective with a sigmoid output")


def warn_ignored_dropout(keep: float, mode: str) -> None:
    if keep < 1 and mode == "course":
        warn("keep probability < 1 is ignored, as in the course code; pass dropout='inverted' "
             "(or textbook=True) to apply dropout")


def rebuild(nn: Network, keep_bn: bool) -> None:
    """New buffers for the network's current settings: ``W``/``b`` kept; batch-norm parameters and
    statistics kept when ``keep_bn`` (else initialised afresh), optimizer state initialised afresh."""
    f, old = nn._fields, nn._buf
    bn = bool(f["batch_normalization"])
    method = f["optimization_method"]
    new = Buffers.allocate(nn.sizes, bn, f["bn_mode"] == "standard", method, OPTIMIZERS[method].slots,
                           np.dtype(f["dtype"]))
    groups = ("W", "b", "Gamma", "Beta") if keep_bn else ("W", "b")
    for g in groups:
        if g in old.groups():
            gid = ("W", "b", "Gamma", "Beta").index(g)
            for dst, src in zip(new.views(new.params, gid), old.views(old.params, gid)):
                dst[...] = src
    if keep_bn and old.stats is not None:
        new.stats[...] = old.stats
    nn._set_buffers(new)
    if bn and not keep_bn:
        init_batchnorm(nn)
    elif not bn:
        f.pop("vecNum", None)
    init_optimizer_state(nn)


def init_optimizer_state(nn: Network) -> None:
    """Optimizer state as ``nn_create.m`` leaves it: zeros (course: Momentum's vGamma / Adam's sGamma
    at 1, ``state_init='course'``), the step counter (``AdamTime``) at 0."""
    buf, entry = nn._buf, optimizer_of(nn)
    buf.state[...] = 0.0
    slot = entry.gamma_one
    if slot in buf.slots and nn["state_init"] == "course" and "Gamma" in buf.groups():
        for view in buf.views(buf.state[buf.slots.index(slot)], PARAM_GROUPS.index("Gamma")):
            view[...] = 1.0
    for other in OPTIMIZERS.values():
        if other.counter is not None and other is not entry:
            nn._fields.pop(other.counter, None)
    if entry.counter is not None:
        nn._fields[entry.counter] = 0

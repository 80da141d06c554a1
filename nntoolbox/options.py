"""Option names for ``nn_create``: the course's MATLAB-style pairs and Python kwargs.

``nn_create(sizes, 'active function', 'relu', learning_rate=0.005)`` -- both
spellings name the same option; ``'active function'``, ``'active_function'``
and ``'Active Function'`` are one key.  Unknown names raise ``ValueError``
with the closest valid name.  Each *quirk* of the course code has an option
whose default reproduces it; ``textbook=True`` switches all of them at once
(see docs/quirks.md).
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np


@dataclass(frozen=True)
class Option:
    default: Any
    check: Callable[[str, Any], Any]  # validates and canonicalises a value
    textbook: Any = None  # value used by textbook=True (None: not a quirk option)
    doc: str = ""


def _choice(*values: str) -> Callable[[str, Any], str]:
    lookup = {v.lower(): v for v in values}

    def check(name: str, v: Any) -> str:
        if not isinstance(v, str):
            raise TypeError(f"option {name!r} must be a string, one of {list(values)}; got {v!r}")
        key = v.strip().lower()
        if key not in lookup:
            close = difflib.get_close_matches(key, list(lookup), n=1)
            hint = f"; did you mean {lookup[close[0]]!r}?" if close else ""
            raise ValueError(f"option {name!r}: unknown value {v!r}, expected one of {list(values)}{hint}")
        return lookup[key]

    return check


def _registered(option: str) -> Callable[[str, Any], str]:
    """A choice among the names registered for ``option`` (read at each check: registries grow)."""
    def check(name: str, v: Any) -> str:
        return _choice(*NAMES[option])(name, v)
    return check


INF = float("inf")


def _requirement(lo: float, hi: float, lo_open: bool, hi_open: bool, integer: bool) -> str:
    """What ``check_number`` asks of a value, in words: 'a positive integer', 'in (0, 1]', 'finite'."""
    if integer and not lo_open and lo in (0, 1) and hi == INF:
        return "a non-negative integer" if lo == 0 else "a positive integer"
    if lo == -INF and hi == INF:
        return "an integer" if integer else "finite"
    interval = f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
    return f"an integer in {interval}" if integer else f"in {interval}"


def check_number(value: Any, name: str, *, lo: float = -INF, hi: float = INF, lo_open: bool = False,
                 hi_open: bool = False, integer: bool = False) -> float | int:
    """``value`` as a finite float (an int when ``integer``) in ``[lo, hi]`` (an end excluded when
    ``*_open``; an infinite end always is); the one number check of the package.

    ``name`` is how the message names the argument (``"option 'learning rate'"``, ``"nn.AdamTime"``,
    ``"epochs"``).  Python and numpy numbers and 1-element arrays pass; ``TypeError`` for anything else
    (bools too) and, when ``integer``, for a fractional number (as ``range(2.5)``; 3.0 passes: MATLAB's
    numbers are doubles); ``ValueError`` for NaN, infinities and values out of range.
    """
    hi_open = hi_open or hi == INF
    lo_open = lo_open or lo == -INF
    def need() -> str:  # (words only for a message: the checks run on every call)
        return _requirement(lo, hi, lo_open, hi_open, integer)
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):  # (reprs cut at 80)
        raise TypeError(f"{name} must be {'a number' if not integer else need()}; got {value!r:.80}")
    x = shown = value.item() if isinstance(value, np.generic) else value  # 1.5 in messages, not np.float64(1.5)
    if isinstance(x, int) and not integer:
        try:
            x = float(x)
        except OverflowError:  # no such float
            x = INF if x > 0 else -INF
    # ints (for integer settings) compared exactly: a uint64 seed above 2**53 stays itself
    finite = isinstance(x, int) or math.isfinite(x)
    if not finite or x < lo or x > hi or (lo_open and x == lo) or (hi_open and x == hi):
        raise ValueError(f"{name} must be {need()}; got {shown!r:.80}")
    if not integer:
        return float(x)
    if x != int(x):
        raise TypeError(f"{name} must be {need()}; got {x!r}")
    return int(x)


def _number(lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> Callable[[str, Any], float]:
    def check(name: str, v: Any) -> float:
        return check_number(v, f"option {name!r}", lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open)
    return check


def _flag(name: str, v: Any) -> int:
    if isinstance(v, np.ndarray):
        if v.size != 1:
            raise ValueError(f"option {name!r} must be 0 or 1 (or a bool); got an array of shape {v.shape}")
        v = v.item()
    if isinstance(v, (bool, int, float, np.number)) and v in (0, 1):
        return int(v)
    raise ValueError(f"option {name!r} must be 0 or 1 (or a bool); got {v!r}")


def _bool(name: str, v: Any) -> bool:
    return bool(_flag(name, v))


def _dtype(name: str, v: Any) -> str:
    try:
        dt = np.dtype(v)
    except TypeError:
        raise TypeError(f"option {name!r}: not a dtype: {v!r}") from None
    if dt not in (np.float64, np.float32):
        raise ValueError(f"option {name!r} must be float64 or float32; got {dt}")
    return dt.name


def _seed(name: str, v: Any) -> Any:
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        if v < 0:
            raise ValueError(f"option {name!r} must be a non-negative integer; got {v}")
        return v
    if v is None or isinstance(v, np.random.Generator):
        return v
    raise TypeError(f"option {name!r} must be a non-negative int seed or a numpy Generator; got {type(v).__name__}")



# Names accepted by the registry-backed options, filled by nntoolbox.activations / nntoolbox.optimizers.
NAMES: dict[str, list[str]] = {"active_function": [], "output_function": [], "optimization_method": []}

# Canonical (Python) option names -> definition.  Course options first, in the
# order of nn_create.m; then the quirk switches; then Python-only settings.
OPTIONS: dict[str, Option] = {
    "active_function": Option("sigmoid", _registered("active_function"), doc="hidden-layer activation"),
    "output_function": Option("sigmoid", _registered("output_function"), doc="output activation"),
    "learning_rate": Option(1.5, _number(0, INF, lo_open=True), doc="step size"),
    "weight_decay": Option(0.0, _number(0, INF), doc="L2 weight decay on W"),
    "sparsity": Option(0.03, _number(0, 1, True, True), doc="target mean activation (autoencoder)"),
    "beta": Option(3.0, _number(0, INF), doc="weight of the KL sparsity penalty (autoencoder)"),
    "batch_normalization": Option(0, _flag, doc="1 to batch-normalise every layer"),
    "optimization_method": Option("normal", _registered("optimization_method"), doc="update rule"),
    "objective_function": Option("MSE", _choice("MSE", "Cross Entropy"), doc="loss"),
    "keep_probability": Option(1.0, _number(0, 1, lo_open=True), doc="dropout keep probability"),
    # --- quirk switches: default = the course's behaviour -------------------------------
    "bn_mode": Option("course", _choice("course", "standard"), "standard",
                      "course: running E/S over all batches (shared counter), scalar Gamma/Beta; "
                      "standard: per-batch statistics, per-unit gamma/beta, running averages for inference"),
    "adam": Option("course", _choice("course", "textbook"), "textbook",
                   "course: bias-correction time counts epochs, sqrt(r+1e-5); textbook: per step, sqrt(r)+1e-8"),
    "momentum": Option(0.1, _number(0, 1, hi_open=True), 0.9,
                       "Momentum's rho (course 0.1); Nesterov's alpha (default 0.9)"),
    "state_init": Option("course", _choice("course", "zeros"), "zeros",
                         "course: Momentum's vGamma and Adam's sGamma start at 1; zeros: all state starts at 0"),
    "ce_cost": Option("course", _choice("course", "textbook"), "textbook",
                      "course: reported cross-entropy cost carries a 0.5 factor"),
    "cost_history": Option("course", _choice("course", "append"), "append",
                           "course: nn.cost(size(nn.cost)+1) overwrites entry 2 with the newest cost"),
    "dropout": Option("course", _choice("course", "inverted"), "inverted",
                      "course: keep probability is stored but never applied; inverted: real dropout"),
    "textbook": Option(False, _bool, doc="switch every quirk option to its textbook value"),
    # --- Python-only settings ------------------------------------------------------------
    "dtype": Option("float64", _dtype, doc="float64 (parity) or float32 (speed)"),
    "seed": Option(None, _seed, doc="int seed or numpy Generator for initialisation and batch order"),
}

QUIRK_OPTIONS = tuple(k for k, o in OPTIONS.items() if o.textbook is not None)

# optimization method -> its hyper-parameter options with that method's defaults and checks
# (filled by nntoolbox.optimizers.register_optimizer; 'momentum' defaults to 0.1 for the course's
# Momentum but 0.9 for Nesterov)
METHOD_OPTIONS: dict[str, dict[str, Option]] = {}
# optimization method -> its state slots (filled by register_optimizer): a network's buffers were laid
# out for its method's slots, which an unpickled network checks against this process's registration
METHOD_SLOTS: dict[str, tuple[str, ...]] = {}


def number_option(default: float, lo: float = -INF, hi: float = INF, lo_open: bool = False, hi_open: bool = False,
                  textbook: float | None = None, doc: str = "") -> Option:
    """A numeric option in ``[lo, hi]`` (ends excluded when ``*_open``); ``ValueError`` for a bad default."""
    check = _number(lo, hi, lo_open, hi_open)
    for what, v in (("default", default), ("textbook value", textbook)):
        if v is not None:
            try:
                check(what, v)
            except (TypeError, ValueError) as e:
                raise ValueError(f"bad {what} {v!r}: {e}") from None
    return Option(float(default), check, None if textbook is None else float(textbook), doc)


def _spelled(name: str) -> str:
    """The one spelling rule of option names (nn_create, field edits, field reads):
    'Active Function' / 'active function' / 'active_function' -> 'active_function'."""
    return "_".join(name.strip().lower().replace("_", " ").split())


def option_key(name: str) -> str | None:
    """The option ``name`` spells ('learning rate' -> 'learning_rate'), None if it spells none."""
    key = _spelled(name)
    return key if key in OPTIONS else None


def check_option(key: str, value: Any, method: str) -> Any:
    """``value`` validated for option ``key``; a hyper-parameter of optimization ``method`` with that
    method's range (``rho`` may be in [0, 1) for RMSProp and in [0, 10] for another optimizer)."""
    opt = METHOD_OPTIONS.get(method, {}).get(key) or OPTIONS[key]
    return opt.check(key.replace("_", " "), value)


def canonical_name(name: Any) -> str:
    """'Active Function' / 'active_function' -> 'active_function'; unknown -> ValueError."""
    if not isinstance(name, str):
        raise TypeError(f"option names must be strings; got {name!r}")
    key = _spelled(name)
    if key in OPTIONS:
        return key
    spaced = {k.replace("_", " "): k for k in OPTIONS}
    close = difflib.get_close_matches(key.replace("_", " "), list(spaced), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown option {name!r}{hint} (valid: {', '.join(spaced)})")


def parse_options(pairs: tuple, kwargs: dict) -> dict[str, Any]:
    """Merge MATLAB-style name/value pairs and kwargs into validated options."""
    if len(pairs) % 2:
        raise ValueError(
            f"options must come in name/value pairs; got an odd number ({len(pairs)}): {pairs!r}")
    raw: dict[str, Any] = {}
    for name, value in [*zip(pairs[::2], pairs[1::2]), *kwargs.items()]:
        key = canonical_name(name)
        if key in raw:
            raise ValueError(f"option {key!r} given twice")
        raw[key] = value
    out = {k: o.default for k, o in OPTIONS.items()}
    name = check_option("optimization_method", raw.get("optimization_method", out["optimization_method"]), "")
    given = {k: check_option(k, v, name) for k, v in raw.items()}
    method = METHOD_OPTIONS.get(name, {})
    out.update({k: o.default for k, o in method.items()})
    if given.get("textbook"):
        out.update({k: OPTIONS[k].textbook for k in QUIRK_OPTIONS})
        out.update({k: o.textbook for k, o in method.items() if o.textbook is not None})
    out.update(given)
    out["_given"] = frozenset(given)
    return out

"""``nn_applygradient`` (MATLAB ``nn_applygradient.m``) and the optimizer registry both engines read.

An optimizer is a pure update over ONE flat buffer (optax's
``GradientTransformation``, scikit-learn's ``_stochastic_optimizers``)::

    update(p, g, state, hyper, t)      # in place on p and the rows of state
    lookahead(p, state, hyper, out)    # optional: out = parameters where g is taken

``p``/``g`` hold every W, b, Gamma, Beta of the network; ``state`` has one row
per declared slot (slot ``'v'`` is what ``nn.vW``, ``nn.vb`` ... show);
``hyper`` is float64: the learning rate, then the declared hyper-parameters in
order (they become ``nn_create`` options); ``t`` is the step count (see
``time`` in :func:`register_optimizer`).  The built-ins (normal, Momentum,
AdaGrad, RMSProp, Adam) and the Nesterov methods are registered through
:func:`register_optimizer` like any user optimizer.

How the fused engine calls them (what Numba supports, found by experiment with
Numba 0.68 and its docs/issues): a ``numba.njit`` function passed as an
argument to another njit function is typed by its *identity* (a ``Dispatcher``
type), so the epoch kernel would be recompiled per optimizer and, as the cache
index stores that identity, never loaded from the on-disk cache; closures over
njit functions are not cached either.  A ``numba.cfunc`` is typed as a
first-class ``FunctionType`` of its *signature*: the epoch kernel is compiled
once per dtype, cached with ``cache=True``, and calls whichever optimizer it
is given through a function pointer (once per batch, so the indirection costs
nothing measurable).  So an njit update (and look-ahead) is recompiled here as a
``cfunc`` per dtype on first use, with ``cache=True`` when its source lives in
a file.  A plain (numpy) update cannot be called from compiled code: the
stepwise engine runs it, and ``nn_train`` with the default ``engine='fused'``
switches to the stepwise engine with a one-time warning.
"""
from __future__ import annotations

import inspect
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence

import numba
import numpy as np
from numba import types

from . import activations as _activations  # noqa: F401 - registers the activations nn_create checks against
from .interrupts import sigint_deferred
from .kernels import FirstClass, optim
from .network import PARAM_GROUPS, Network
from .options import METHOD_OPTIONS, NAMES, OPTIONS, Option, number_option
from .plugins import Origin, registering_origin
from .userwarn import warn

UPDATE_ARGS, LOOKAHEAD_ARGS = ("p", "g", "state", "hyper", "t"), ("p", "state", "hyper", "out")
TIMES = ("update", "epoch")
# nn_create options that optimizers may share as hyper-parameters (others would change a non-optimizer setting)
_SHARED = {"momentum"}


def update_signature(dtype: Any) -> types.Signature:
    a = numba.from_dtype(np.dtype(dtype))
    return types.void(a[::1], a[::1], a[:, ::1], types.float64[::1], types.float64)


def lookahead_signature(dtype: Any) -> types.Signature:
    a = numba.from_dtype(np.dtype(dtype))
    return types.void(a[::1], a[:, ::1], types.float64[::1], a[::1])


def _is_jit(fn: Any) -> bool:
    return isinstance(fn, numba.core.dispatcher.Dispatcher)


def _cfunc(fn: Any, sig: types.Signature) -> Any:
    """A ``cfunc`` (first-class function value) of an njit or plain function, cached when Numba can."""
    py = getattr(fn, "py_func", fn)
    try:
        return numba.cfunc(sig, cache=True, error_model="numpy")(py)
    except RuntimeError:  # no cache locator (defined in a notebook cell or exec'd source)
        return numba.cfunc(sig, error_model="numpy")(py)


@dataclass(eq=False)
class Optimizer:
    """A registry entry (see :func:`register_optimizer`)."""
    name: str
    update: Callable
    slots: tuple[str, ...]
    hyper: dict[str, Option]
    lookahead: Callable | None = None
    time: Any = None  # None, 'update', 'epoch' or nn -> 'update'/'epoch'
    doc: str = ""
    jit: bool = True
    gamma_one: str | None = None  # course quirk 7: this slot's Gamma entries start at 1
    extra: Callable[[Network], Sequence[float]] | None = None  # built-in Adam's course/textbook switch
    _kernels: dict = field(default_factory=dict)
    origin: Origin | None = None  # what a worker process imports to re-register it (nntoolbox.plugins)

    @property
    def counter(self) -> str | None:
        """The network field counting steps (``AdamTime`` for Adam), None without ``time``."""
        return None if self.time is None else self.name + "Time"

    def counting(self, nn: Network) -> str | None:
        return self.time(nn) if callable(self.time) else self.time

    def hyper_values(self, nn: Network) -> np.ndarray:
        values = [nn["learning_rate"], *(nn[k] for k in self.hyper)]
        if self.extra is not None:
            values += list(self.extra(nn))
        return np.array(values, dtype=np.float64)

    def kernels(self, dtype: Any) -> tuple[Any, Any]:
        """``(update, lookahead)`` cfuncs for the fused engine, compiled on first use per dtype."""
        key = np.dtype(dtype).name
        if key not in self._kernels:
            look = self.lookahead or optim.no_lookahead
            self._kernels[key] = (FirstClass(_cfunc(self.update, update_signature(dtype))),
                                  FirstClass(_cfunc(look, lookahead_signature(dtype))))
        return self._kernels[key]


OPTIMIZERS: dict[str, Optimizer] = {}


def _check_function(name: str, what: str, fn: Any, args: tuple[str, ...]) -> None:
    if not callable(fn):
        raise TypeError(f"register_optimizer({name!r}): {what} must be a function {what}({', '.join(args)}); "
                        f"got {type(fn).__name__}")
    try:
        params = inspect.signature(getattr(fn, "py_func", fn)).parameters.values()
    except (TypeError, ValueError):
        return
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) != len(args) or any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        raise TypeError(f"register_optimizer({name!r}): {what} must take {len(args)} arguments "
                        f"{what}({', '.join(args)}); it takes ({', '.join(p.name for p in params)})")


def _hyper_options(name: str, hyper: Mapping[str, Any] | None) -> dict[str, Option]:
    out: dict[str, Option] = {}
    for key, spec in (hyper or {}).items():
        if not isinstance(key, str) or not key.isidentifier() or key != key.lower():
            raise ValueError(f"register_optimizer({name!r}): hyper-parameter names must be lower-case "
                             f"identifiers such as 'rho'; got {key!r}")
        if key in OPTIONS and key not in _SHARED:
            raise ValueError(f"register_optimizer({name!r}): hyper-parameter {key!r} would replace the nn_create "
                             f"option of that name; choose another name (shared ones: {sorted(_SHARED)})")
        if isinstance(spec, Option):
            opt = spec
        elif isinstance(spec, (int, float, np.number)) and not isinstance(spec, bool):
            opt = number_option(float(spec), doc=f"{name} hyper-parameter")
        else:
            raise TypeError(f"register_optimizer({name!r}): hyper-parameter {key!r} needs a default number or "
                            f"number_option(default, lo, hi, ...); got {spec!r}")
        out[key] = opt
    return out


def _check_slots(name: str, slots: Any) -> tuple[str, ...]:
    slots = (slots,) if isinstance(slots, str) else tuple(slots)
    for s in slots:
        if not isinstance(s, str) or not s.isalpha() or not s.islower():
            raise ValueError(f"register_optimizer({name!r}): slots are lower-case letter prefixes such as 'v' "
                             f"(for nn.vW, nn.vb ...); got {s!r}")
    if len(set(slots)) != len(slots):
        raise ValueError(f"register_optimizer({name!r}): slot names repeat: {slots}")
    return slots


def _smoke_test(entry: Optimizer) -> None:
    """Run the functions once on tiny buffers so that errors show at registration, naming the optimizer."""
    n = 3
    p, g = np.linspace(-1, 1, n), np.full(n, 0.5)
    state = np.zeros((len(entry.slots), n))
    hyper = np.array([0.01, *(o.default for o in entry.hyper.values())] + ([0.0] if entry.extra else []))
    try:
        if entry.jit:
            entry.kernels(np.float64)
        if entry.lookahead is not None:
            entry.lookahead(p, state, hyper, np.empty(n))
        entry.update(p, g, state, hyper, 1.0)
    except Exception as e:  # noqa: BLE001 - Numba typing errors and user errors come in many classes
        raise TypeError(f"register_optimizer({entry.name!r}): calling the update on float64 buffers failed "
                        f"({type(e).__name__}: {str(e).strip().splitlines()[0]}); it must be "
                        f"update({', '.join(UPDATE_ARGS)}) working in place") from None


def register_optimizer(name: str, update: Callable, *, slots: Sequence[str] = (),
                       hyper: Mapping[str, Any] | None = None, lookahead: Callable | None = None,
                       time: Any = None, doc: str = "", _gamma_one: str | None = None,
                       _extra: Callable[[Network], Sequence[float]] | None = None, _check: bool = True) -> Optimizer:
    """Add optimizer ``name`` for ``nn_create(..., 'optimization method', name)``, in both engines.

    ``update(p, g, state, hyper, t)``: in place on the flat parameters ``p`` and
    the ``state`` rows, from the gradient ``g``.  ``slots``: one letter prefix
    per state row (``('v', 'r')`` gives ``nn.vW``, ``nn.rW`` ...); all start at 0.
    ``hyper``: ``{name: default}`` or ``{name: number_option(default, lo, hi, ...)}``,
    in the order of ``hyper[1:]`` (``hyper[0]`` is the learning rate); each
    becomes an ``nn_create`` option (``'momentum'`` may be shared with the
    course's Momentum, with this optimizer's default).  ``lookahead(p, state,
    hyper, out)``: writes the parameters at which the gradient is taken
    (Nesterov).  ``time``: None (``t`` = 1), ``'update'`` (``t`` counts updates)
    or ``'epoch'`` (counts ``nn_train`` epochs), kept in ``nn[name + 'Time']``.

    ``numba.njit`` functions run inside the fused epoch kernel; plain numpy
    functions run in the stepwise engine only (see the module docstring).
    """
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"register_optimizer: name must be a non-empty string; got {name!r}")
    if name in OPTIMIZERS:
        raise ValueError(f"register_optimizer: optimizer {name!r} is already registered")
    _check_function(name, "update", update, UPDATE_ARGS)
    if lookahead is not None:
        _check_function(name, "lookahead", lookahead, LOOKAHEAD_ARGS)
    if time is not None and not callable(time) and time not in TIMES:
        raise ValueError(f"register_optimizer({name!r}): time must be None, 'update' or 'epoch'; got {time!r}")
    jit = _is_jit(update) and (lookahead is None or _is_jit(lookahead))
    entry = Optimizer(name, update, _check_slots(name, slots), _hyper_options(name, hyper), lookahead, time, doc,
                      jit, _gamma_one, _extra, origin=registering_origin())
    if _check:  # the built-ins are compiled on first use, not at import
        _smoke_test(entry)
    for key, opt in entry.hyper.items():
        OPTIONS.setdefault(key, opt)
        _SHARED.add(key)
    OPTIMIZERS[name] = entry
    METHOD_OPTIONS[name] = dict(entry.hyper)
    NAMES["optimization_method"].append(name)
    return entry


def method_options(method: str) -> dict[str, Option]:
    """The hyper-parameter options of ``method`` with its defaults and range checks
    (for validating an edit such as ``nn.rho = 2``)."""
    return dict(METHOD_OPTIONS[method])


# --------------------------------------------------------------------------- state and steps
def init_optimizer_state(nn: Network) -> None:
    """Optimizer state as ``nn_create.m`` leaves it: zeros (course: Momentum's vGamma / Adam's sGamma
    at 1, ``state_init='course'``), the step counter (``AdamTime``) at 0."""
    buf, entry = nn._buf, OPTIMIZERS[nn["optimization_method"]]
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


def advance_epoch(nn: Network) -> None:
    """Called by ``nn_train`` before each epoch: the course's ``AdamTime`` counts epochs."""
    entry = OPTIMIZERS[nn["optimization_method"]]
    if entry.counting(nn) == "epoch":
        nn._fields[entry.counter] = int(nn._fields[entry.counter]) + 1


def step_time(nn: Network) -> float:
    """``t`` for this update, advancing a per-update counter.  A per-epoch counter is 0 before
    any epoch (the course then divides by ``1 - rho^0 = 0``); we use 1."""
    entry = OPTIMIZERS[nn["optimization_method"]]
    if entry.counter is None:
        return 1.0
    if entry.counting(nn) == "update":
        nn._fields[entry.counter] = int(nn[entry.counter]) + 1
    return float(max(nn[entry.counter], 1))


def apply_step(nn: Network) -> None:
    """One optimizer step in place from the gradients in the buffers (the stepwise engine's update)."""
    buf, entry = nn.checked_buffers(), OPTIMIZERS[nn["optimization_method"]]
    with sigint_deferred():  # the first call loads or compiles the kernel: see interrupts.sigint_deferred
        entry.update(buf.params, buf.grads, buf.state, entry.hyper_values(nn), step_time(nn))


@contextmanager
def at_lookahead(nn: Network) -> Iterator[None]:
    """Within the block the parameters are the optimizer's look-ahead point (Nesterov), so the
    forward/backward pass takes the gradient there; afterwards they are restored for the update."""
    entry = OPTIMIZERS[nn["optimization_method"]]
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


_WARNED: set[str] = set()


def training_engine(nn: Network, engine: str) -> str:
    """The engine ``nn_train`` uses: the fused one needs an njit optimizer; otherwise (once per
    optimizer) a warning that the stepwise engine runs it, slower."""
    entry = OPTIMIZERS[nn["optimization_method"]]
    if engine != "fused" or entry.jit:
        return engine
    if entry.name not in _WARNED:
        _WARNED.add(entry.name)
        warn(f"optimizer {entry.name!r} is not a numba.njit function: nn_train runs it through the "
             "stepwise engine, which is slower (decorate update/lookahead with numba.njit to train it "
             "inside the fused kernel)", RuntimeWarning)
    return "stepwise"


def nn_applygradient(nn: Network) -> Network:
    """Apply the gradients in ``nn.W_grad`` ... with the network's optimizer
    (MATLAB ``nn = nn_applygradient(nn)``).  Returns the updated network; ``nn`` is unchanged.
    (For a look-ahead optimizer such as Nesterov, the gradients should have been taken at
    the look-ahead point, as ``nn_train`` does.)"""
    nn = nn.copy()
    apply_step(nn)
    return nn


# ------------------------------------------------------------------------------- built-ins
register_optimizer("normal", optim.sgd, doc="W -= lr*g", _check=False)
register_optimizer("Momentum", optim.momentum, slots=("v",), hyper={"momentum": OPTIONS["momentum"]},
                   doc="v = momentum*v - lr*g; W += v (course momentum 0.1)", _gamma_one="v", _check=False)
register_optimizer("AdaGrad", optim.adagrad, slots=("r",), doc="r += g^2; W -= lr*g/(sqrt(r)+0.001)", _check=False)
register_optimizer("RMSProp", optim.rmsprop, slots=("r",),
                   hyper={"rho": number_option(0.9, 0, 1, hi_open=True, doc="RMSProp's decay rate rho (course 0.9)")},
                   doc="r = rho*r + (1-rho)*g^2; W -= lr*g/(sqrt(r)+0.001)", _check=False)
register_optimizer("Adam", optim.adam, slots=("s", "r"), doc="rho1 0.9, rho2 0.999; course: sqrt(r_hat+1e-5)",
                   time=lambda nn: "epoch" if nn["adam"] == "course" else "update", _gamma_one="s",
                   _extra=lambda nn: (float(nn["adam"] == "textbook"),), _check=False)

from . import nesterov  # noqa: E402,F401 - registered with the public mechanism, after the built-ins

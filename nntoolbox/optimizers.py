"""The optimizer registry both engines read (``nn_applygradient``, MATLAB ``nn_applygradient.m``, applies
an entry: :mod:`nntoolbox.applygradient`).

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
njit functions are not cached either.  A ``numba.cfunc`` has a fixed
*signature* (:mod:`nntoolbox.kernels.signatures`): the epoch kernel is compiled
once per dtype, cached with ``cache=True``, receives the cfuncs' addresses (an
int64 array) and calls whichever optimizer it is given through a function pointer (once per batch, so the indirection costs
nothing measurable).  So an njit update (and look-ahead) is called through a
small ``cfunc`` guard per dtype, compiled on first use (cached on disk when its
source lives in a file), that catches its exceptions and returns a status: a
``cfunc`` cannot raise, so the epoch kernel stops on the status and
``engines.fused_epoch`` re-raises the real exception (see :func:`_guarded_update`; the
built-ins, which cannot raise, are called through an unguarded ``cfunc``).  A
plain (numpy) update cannot be called from compiled code: the stepwise engine
runs it, and ``nn_train`` with the default ``engine='fused'`` switches to the
stepwise engine with a one-time warning.

A registered function is untrusted: :func:`register_optimizer` checks its name
and hyper-parameter names (:mod:`nntoolbox.names`) and runs it once compiled
with bounds checking on buffers of exactly the declared sizes (:func:`_trial`).
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numba
import numpy as np
from numba import types

from .activations import _bound, add_note  # importing activations also registers what nn_create checks
from .kernels import CACHE, optim
from .kernels.signatures import lookahead_signature, update_signature
from .names import SLOTS, check_hyper_name, check_registered_name
from .options import METHOD_OPTIONS, METHOD_SLOTS, NAMES, OPTIONS, Option, number_option
from .plugins import REGISTRIES, Origin, registering_origin
from .userwarn import first_line

if TYPE_CHECKING:  # annotations only: the network module sits above the registries
    from .network import Network

UPDATE_ARGS, LOOKAHEAD_ARGS = ("p", "g", "state", "hyper", "t"), ("p", "state", "hyper", "out")
TIMES = ("update", "epoch")
# Hyper-parameter names a new optimizer may reuse: nn_create's momentum and every registered optimizer's
# hyper-parameters (register_optimizer adds them; two optimizers may both take 'rho'); any other nn_create
# option, network field or state slot prefix is refused (names.check_hyper_name)
_SHARED = {"momentum"}


def _is_jit(fn: Any) -> bool:
    return isinstance(fn, numba.core.dispatcher.Dispatcher)


@functools.cache  # one compilation per function and process, whatever the names it is registered under
def _numpy_model(fn: Any) -> Any:
    """``fn`` as an njit function with ``error_model='numpy'`` (a division by zero gives inf, as in the
    kernels): the built-ins already are; a user's function is compiled again in each process."""
    if _is_jit(fn) and fn.targetoptions.get("error_model") == "numpy":
        return fn
    return numba.njit(error_model="numpy")(getattr(fn, "py_func", fn))


def _source_stamp(fn: Any) -> str | None:
    """A digest of what Numba's cache checks for ``fn`` (its file's path, mtime and size, and its
    qualname), None for a function without a source file (a notebook cell, exec'd source)."""
    py = getattr(fn, "py_func", fn)
    try:
        st = os.stat(inspect.getfile(py))
    except (TypeError, OSError):
        return None
    key = f"{inspect.getfile(py)}:{st.st_mtime_ns}:{st.st_size}:{py.__qualname__}"
    return hashlib.sha1(key.encode()).hexdigest()[:12]


# A cfunc cannot raise: an exception inside one is printed ("Exception ignored in ...") and lost.  So the
# kernels call a registered optimizer through these guards, which return 1 when it raised; the epoch kernel
# then stops and engines.fused_epoch re-runs the call in Python to raise the real exception.  The built-ins
# cannot raise (error_model='numpy', no bounds checks) and skip the guard: compiling its try/except took
# ~0.1 s per kernel of a cold start.  ``fn`` is bound per function by activations._bound.
def _guarded_update(p, g, state, hyper, t):
    try:
        fn(p, g, state, hyper, t)  # noqa: F821 - bound by _bound
    except Exception:  # noqa: BLE001 - any exception: reported by engines.fused_epoch
        return 1
    return 0


def _guarded_lookahead(p, state, hyper, out):
    try:
        fn(p, state, hyper, out)  # noqa: F821 - bound by _bound
    except Exception:  # noqa: BLE001
        return 1
    return 0


def _plain_update(p, g, state, hyper, t):
    fn(p, g, state, hyper, t)  # noqa: F821 - bound by _bound
    return 0


def _plain_lookahead(p, state, hyper, out):
    fn(p, state, hyper, out)  # noqa: F821 - bound by _bound
    return 0


# (form, guarded) -> the template and the signature of its cfunc
_TEMPLATES = {("update", True): (_guarded_update, update_signature),
              ("update", False): (_plain_update, update_signature),
              ("lookahead", True): (_guarded_lookahead, lookahead_signature),
              ("lookahead", False): (_plain_lookahead, lookahead_signature)}


@functools.cache
def _cfunc(form: str, guarded: bool, fn: Any, dtype: str) -> Any:
    """The ``cfunc`` calling ``fn`` as the optimizer's ``form`` ('update' or 'lookahead') for ``dtype``,
    through a guard if ``guarded``; cached on disk (keyed by ``fn``'s source stamp, so an edited function
    is compiled again) when ``fn`` has a source file."""
    template, signature = _TEMPLATES[form, guarded]
    stamp = _source_stamp(fn)
    kernel = _bound(template, str(stamp), fn=_numpy_model(fn))
    sig = signature(dtype)
    if CACHE and stamp is not None:
        try:
            return numba.cfunc(sig, cache=True, error_model="numpy")(kernel)
        except Exception:  # noqa: BLE001 - e.g. a cached kernel of a module loaded outside sys.modules
            pass  # (Numba cannot unpickle it: "No module named ..."): compile it here instead
    return numba.cfunc(sig, error_model="numpy")(kernel)


@functools.cache
def _bounds_checked(fn: Any) -> Any:
    """``fn`` compiled with bounds checking, for the registration trial."""
    return numba.njit(boundscheck=True, error_model="numpy")(fn.py_func)


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
    guarded: bool = True  # its kernels catch exceptions (a registered optimizer; the built-ins cannot raise)
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

    def kernel(self, dtype: Any, form: str) -> Any:
        """The fused engine's ``update`` (``form`` 'update') or ``lookahead`` ('lookahead', only for an
        optimizer that has one) cfunc for ``dtype``, compiled on first use."""
        key = (np.dtype(dtype).name, form)
        if key not in self._kernels:
            fn = self.update if form == "update" else self.lookahead
            if fn is None:
                raise ValueError(f"optimizer {self.name!r} has no {form!r}")
            self._kernels[key] = _cfunc(form, self.guarded, fn, key[0])
        return self._kernels[key]

    def raise_failure(self, what: str, *args: Any) -> None:
        """Raise what the optimizer's ``what`` ('update' or 'lookahead') raised inside the fused kernel:
        re-run on copies of its arguments there, ``args``; RuntimeError naming it if the re-run passes."""
        fn = _numpy_model(self.update if what == "update" else self.lookahead)
        try:
            fn(*(a.copy() if isinstance(a, np.ndarray) else a for a in args))
        except Exception as e:  # noqa: BLE001 - the user's exception, re-raised with where it came from
            add_note(e, f"(raised by the {what} of optimizer {self.name!r} in the fused engine; training stopped)")
            raise
        raise RuntimeError(f"the {what} of optimizer {self.name!r} raised an exception in the fused engine "
                           "(training stopped); run it with option['engine'] = 'stepwise' to see it")


OPTIMIZERS: dict[str, Optimizer] = {}
REGISTRIES["optimizer"] = OPTIMIZERS


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


def _hyper_options(name: str, hyper: Mapping[str, Any] | None, slots: tuple[str, ...]) -> dict[str, Option]:
    out: dict[str, Option] = {}
    for key, spec in (hyper or {}).items():
        check_hyper_name(f"register_optimizer({name!r})", key, slots, _SHARED)
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


TRIAL_SIZES = (1, 7)  # p/g lengths of the registration trial


def _trial(entry: Optimizer) -> None:
    """Run the functions once on buffers of exactly the declared sizes, compiled with bounds checking,
    so that an out-of-bounds index or an error shows at registration, naming the optimizer (unchecked,
    the fused kernel would write past its buffers or train on garbage)."""
    update, look = entry.update, entry.lookahead
    if entry.jit:  # a plain function indexes numpy arrays, which check bounds themselves
        update, look = (None if f is None else _bounds_checked(f) for f in (update, look))
    hyper = np.array([0.01, *(o.default for o in entry.hyper.values())] + ([0.0] if entry.extra else []))
    where = f"register_optimizer({entry.name!r})"
    for n in TRIAL_SIZES:
        p, g = np.linspace(-1, 1, n), np.full(n, 0.5)
        state = np.zeros((len(entry.slots), n))
        try:
            if look is not None:
                look(p, state, hyper.copy(), np.empty(n))
            update(p, g, state, hyper.copy(), 1.0)
        except IndexError as e:
            raise ValueError(f"{where}: the update or lookahead indexes out of bounds on buffers of exactly the "
                             f"declared sizes (p, g, out: {n} entries; state: {len(entry.slots)} rows, one per "
                             f"slot {list(entry.slots)}; hyper: {len(hyper)} = learning rate + "
                             f"{list(entry.hyper)}{' + 1 extra' if entry.extra else ''}): {first_line(e)}") from None
        except Exception as e:  # noqa: BLE001 - Numba typing errors and user errors come in many classes
            raise TypeError(f"{where}: calling the update on float64 buffers failed ({type(e).__name__}: "
                            f"{first_line(e)}); it must be update({', '.join(UPDATE_ARGS)}) working in place") from None
    if entry.jit:
        try:
            for form in ("update",) if entry.lookahead is None else ("update", "lookahead"):
                entry.kernel(np.float64, form)
        except Exception as e:  # noqa: BLE001
            raise TypeError(f"{where}: compiling the update for the fused engine failed ({type(e).__name__}: "
                            f"{first_line(e)})") from None


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

    Refused with ``ValueError``/``TypeError`` naming the optimizer: a name that is
    not a MATLAB field name (at most 31 characters with its ``Time`` suffix) or
    that equals a registered name or a network field ignoring case; a
    hyper-parameter named like a network field, option or state slot; an update
    that indexes out of bounds (tried once, bounds-checked, on buffers of exactly
    the declared sizes), cannot be compiled or raises there.
    """
    check_registered_name(f"register_optimizer({name!r})", name, "" if time is None else "Time", not _check)
    _check_function(name, "update", update, UPDATE_ARGS)
    if lookahead is not None:
        _check_function(name, "lookahead", lookahead, LOOKAHEAD_ARGS)
    if time is not None and not callable(time) and time not in TIMES:
        raise ValueError(f"register_optimizer({name!r}): time must be None, 'update' or 'epoch'; got {time!r}")
    jit = _is_jit(update) and (lookahead is None or _is_jit(lookahead))
    slots = _check_slots(name, slots)
    entry = Optimizer(name, update, slots, _hyper_options(name, hyper, slots), lookahead, time, doc,
                      jit, _gamma_one, _extra, guarded=_check, origin=registering_origin())
    if _check:  # the built-ins are trusted, and compiled on first use, not at import
        _trial(entry)
    for key, opt in entry.hyper.items():
        OPTIONS.setdefault(key, opt)
        _SHARED.add(key)
    OPTIMIZERS[name] = entry
    SLOTS.update(entry.slots)
    METHOD_OPTIONS[name] = dict(entry.hyper)
    METHOD_SLOTS[name] = entry.slots
    NAMES["optimization_method"].append(name)
    return entry


def optimizer_of(nn: Network) -> Optimizer:
    """The registry entry of the network's ``optimization_method``."""
    return OPTIMIZERS[nn["optimization_method"]]


def method_options(method: str) -> dict[str, Option]:
    """The hyper-parameter options of ``method`` with its defaults and range checks
    (for validating an edit such as ``nn.rho = 2``)."""
    return dict(METHOD_OPTIONS[method])


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

"""Activation and output functions: one registry read by both engines.

``register_activation(name, f, df)`` adds a function usable as ``'active
function'`` and/or ``'output function'``.  ``f(z)`` and ``df(a)`` are *scalar*
functions -- ``df`` written in terms of the output ``a = f(z)``, as the course
writes ``a.*(1-a)`` -- that Numba can compile (``math``/``numpy`` scalar
operations, ``if``/``else``; plain Python or ``numba.njit``).  From them:

* the fused engine gets two ``numba.cfunc`` block kernels per dtype,
  ``f_block(z, n)`` (in place over a flat ``n x m`` block: n units by m samples) and
  ``df_block(a, t)`` (``t *= df(a)``), called once per layer and batch through
  first-class function pointers, so one compiled epoch kernel (cached on disk)
  serves every activation; the built-ins' block kernels are cached on disk too,
  a registered function's compile in each process that uses it (~0.2 s per
  block kernel and dtype);
* the stepwise engine uses ``numpy_f`` / ``numpy_df`` (array functions) when
  given, else ``numba.vectorize`` ufuncs built from ``f`` / ``df``.

Built-ins (sigmoid, tanh, relu, leaky_relu, linear; softmax as an output only;
step, the M-P neuron's threshold unit, for forward passes only) are registered the same way; their numpy versions are the ones the parity
tests were written against (e.g. ``scipy.special.expit``).  ``range`` is the
output interval, e.g. ``(0, 1)`` for sigmoid (a sparse autoencoder needs hidden
units in (0, 1)).  ``differentiable=False`` marks a function backpropagation cannot
learn through (step: its derivative is 0 wherever it exists); training refuses it
(:func:`nntoolbox.checks.check_differentiable`).
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from types import FunctionType
from typing import Any, Callable

import numba
import numpy as np
from numba import types

from .kernels import CACHE
from .kernels.signatures import df_block_signature, f_block_signature
from .kernels.vexp import vexp
from .names import check_registered_name
from .options import NAMES
from .plugins import REGISTRIES, Origin, registering_origin
from .userwarn import first_line

Array = np.ndarray
INF = math.inf
ELEMENTWISE, SOFTMAX = "elementwise", "softmax"


def _nbtype(dtype: Any) -> types.Type:
    return numba.from_dtype(np.dtype(dtype))


def block_signatures(dtype: Any) -> tuple[types.Signature, types.Signature]:
    """Signatures of the kernel forms ``f_block(z, n)`` and ``df_block(a, t)`` (:mod:`.kernels.signatures`)."""
    return f_block_signature(dtype), df_block_signature(dtype)


@dataclass(eq=False)
class Activation:
    """A registry entry: the array forms for the numpy engine, the kernel forms for the fused one."""
    name: str
    f: Callable[[Array], Array]  # numpy engine, units x m
    df: Callable[[Array], Array] | None  # f'(z) in terms of a = f(z); None for softmax (its own output rule)
    range: tuple[float, float]
    hidden: bool  # usable as 'active function'
    output: bool  # usable as 'output function'
    kind: str  # ELEMENTWISE or SOFTMAX (per sample; its output rule is the softmax Jacobian)
    make_kernel: Callable[[Any, str], Any]  # (dtype, 'f' or 'df') -> that block's cfunc
    scalars: tuple[Any, Any] | None = None  # the njit scalar f, df (None for softmax, which cannot raise)
    _kernels: dict = field(default_factory=dict)
    differentiable: bool = True  # False: forward passes only; nn_train / nn_backpropagation refuse it
    origin: Origin | None = None  # what a worker process imports to re-register it (nntoolbox.plugins)

    def raise_failure(self, what: str, value: float, dtype: Any) -> None:
        """Raise what ``what`` ('f' or 'df') raised inside the fused kernel at input ``value``: re-run
        there in Python; RuntimeError naming the activation if the re-run passes."""
        fn = self.scalars[what == "df"] if self.scalars else None
        try:
            if fn is not None:
                fn(np.dtype(dtype).type(value))
        except Exception as e:  # noqa: BLE001 - the user's exception, re-raised with where it came from
            add_note(e, f"(raised by {what}({value!r}) of activation {self.name!r} in the fused engine; "
                     "training stopped)")
            raise
        raise RuntimeError(f"{what} of activation {self.name!r} raised an exception at {value!r} in the fused "
                           "engine (training stopped); run with option['engine'] = 'stepwise' to see it")

    def kernel(self, dtype: Any, form: str) -> Any:
        """The fused engine's ``f_block`` (``form`` 'f') or ``df_block`` ('df') for ``dtype``, compiled on
        first use: a run compiles only the forms it calls (~0.2 s each with an empty cache)."""
        key = (np.dtype(dtype).name, form)
        if key not in self._kernels:
            self._kernels[key] = self.make_kernel(dtype, form)
        return self._kernels[key]


ACTIVATIONS: dict[str, Activation] = {}
REGISTRIES["activation"] = ACTIVATIONS


def add_note(e: BaseException, note: str) -> None:
    """``e.add_note(note)`` where Python has it (3.11+; on 3.10 the exception keeps its own message)."""
    if hasattr(e, "add_note"):
        e.add_note(note)


def _njit_scalar(fn: Callable, what: str) -> Any:
    if not callable(fn):
        raise TypeError(f"{what} must be a function of one number; got {type(fn).__name__}")
    if isinstance(fn, numba.core.dispatcher.Dispatcher):
        return fn
    try:
        n_args = len(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        n_args = 1
    if n_args != 1:
        raise TypeError(f"{what} must take exactly one argument (a number); it takes {n_args}")
    return numba.njit(fn)


# The block loops of every elementwise activation: one body, whose globals ``f``/``df`` are bound per
# activation by _bound (Numba compiles a function's globals as constants).  A registered function's
# kernels run it inside a try (a cfunc cannot raise: the kernel returns where it raised, and Python
# re-raises); the built-ins cannot raise, and skip it (compiling the try took ~0.1 s per kernel, cold).
def _f_block(z, n):
    # z * one, a runtime 1 (n is the units, >= 1; x / x is not folded without fast-math), is z exactly
    # for every float, NaN and inf included.  Without it, an f that returns its argument on one branch
    # (relu: z if z > 0 else 0) stores only on the other, and LLVM vectorises that conditional store as
    # masked stores (vmaskmov), microcoded on AMD: relu's block took 6x as long (6% of a chess epoch).
    one = z.dtype.type(n) / z.dtype.type(n)
    for i in range(z.shape[0]):
        z[i] = f(z[i] * one)  # noqa: F821 - bound by _bound
    return 0


def _f_block_guarded(z, n):
    one = z.dtype.type(n) / z.dtype.type(n)  # as in _f_block
    i = 0
    try:
        for i in range(z.shape[0]):
            z[i] = f(z[i] * one)  # noqa: F821 - bound by _bound
    except Exception:  # noqa: BLE001 - z[i] is still the input: the kernel reports it
        return i + 1
    return 0


def _df_block(a, t):
    # f'(a) rounded to t's dtype before the product, as the numpy engine's arrays are (in float32 a
    # float64 product and its conversions took 1.4x the float64 block's time)
    for i in range(a.shape[0]):
        t[i] = t[i] * t.dtype.type(df(a[i]))  # noqa: F821 - bound by _bound
    return 0


def _df_block_guarded(a, t):
    i = 0
    try:
        for i in range(a.shape[0]):
            t[i] = t[i] * t.dtype.type(df(a[i]))  # noqa: F821 - bound by _bound (as in _df_block)
    except Exception:  # noqa: BLE001
        return i + 1
    return 0


def _bound(template: Callable, name: str, **names: Any) -> Callable:
    """A copy of ``template`` reading ``names`` as globals, with a qualname of its own: Numba's cache
    index is keyed by source file and qualname (and the bytecode, the same for every copy), so each
    activation's kernels get their own index instead of loading another activation's."""
    fn = FunctionType(template.__code__, {**template.__globals__, **names}, template.__name__)
    fn.__qualname__ = f"{template.__name__}_{name}"
    return fn


def _elementwise_kernels(name: str, f: Any, df: Any, builtin: bool) -> Callable[[Any, str], Any]:
    """Block kernels of njit scalar functions: a built-in's unguarded and cached on disk (its scalar
    functions live in this file: Numba rebuilds a cached kernel when this file changes, not when
    kernels/vexp.py does); a registered function's guarded, and compiled in each process that uses it
    (it may change while its name stays: ~0.2 s per kernel and dtype)."""
    cache = builtin and CACHE

    def make(dtype: Any, form: str) -> Any:
        sig_f, sig_df = block_signatures(dtype)
        if form == "f":
            template, sig, names = (_f_block if builtin else _f_block_guarded), sig_f, {"f": f}
        else:
            template, sig, names = (_df_block if builtin else _df_block_guarded), sig_df, {"df": df}
        return numba.cfunc(sig, cache=cache, error_model="numpy")(_bound(template, name, **names))
    return make


def _vectorized(scalar: Any) -> Callable[[Array], Array]:
    """An array form of a scalar njit function for the numpy engine (keeps the input's dtype)."""
    ufunc = numba.vectorize(scalar.py_func if hasattr(scalar, "py_func") else scalar)
    return lambda x: np.asarray(ufunc(x), dtype=x.dtype)


def _check_range(name: str, rng: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in rng)
    except (TypeError, ValueError):
        raise TypeError(f"register_activation({name!r}): range must be a pair (low, high); got {rng!r}") from None
    if not lo < hi:
        raise ValueError(f"register_activation({name!r}): range must have low < high; got {rng!r}")
    return lo, hi


def _add(entry: Activation) -> Activation:
    ACTIVATIONS[entry.name] = entry
    if entry.hidden:
        NAMES["active_function"].append(entry.name)
    if entry.output:
        NAMES["output_function"].append(entry.name)
    return entry


def register_activation(name: str, f: Callable[[float], float], df: Callable[[float], float], *,
                        range: tuple[float, float] = (-INF, INF), hidden: bool = True, output: bool = True,
                        numpy_f: Callable[[Array], Array] | None = None,
                        numpy_df: Callable[[Array], Array] | None = None, differentiable: bool = True,
                        _builtin: bool = False) -> Activation:
    """Register an activation ``name`` for ``nn_create(..., 'active function', name)`` / ``'output function'``.

    ``f(z)`` and ``df(a)`` are scalar functions Numba can compile, ``df`` being
    the derivative written in terms of the output ``a = f(z)``
    (sigmoid: ``lambda a: a * (1 - a)``).  ``range``: the output interval.
    ``hidden``/``output``: where it may be used.  ``numpy_f``/``numpy_df``:
    optional array versions for the stepwise engine (default: ``numba.vectorize``
    of ``f``/``df``).  ``differentiable=False``: usable in ``nn_forward`` / ``nn_predict``
    only (a threshold unit); training a network that uses it raises ``ValueError``.
    The name follows :func:`nntoolbox.names.check_registered_name`.
    The functions are compiled here for float64 and tried at :data:`TRIAL_POINTS`
    (``df`` at ``f(z)``), so a function Numba cannot compile, or that raises, returns
    a non-number or NaN there, is refused now, naming the activation.  An exception
    during training stops it in both engines (the fused kernels stop on the block
    kernels' status and Python re-raises it: :meth:`Activation.raise_failure`).
    """
    where = f"register_activation({name!r})"
    check_registered_name(where, name, builtin=_builtin)
    if not (hidden or output):
        raise ValueError(f"{where}: hidden and output cannot both be False")
    lo_hi = _check_range(name, range)
    sf, sdf = _njit_scalar(f, f"{where}: f"), _njit_scalar(df, f"{where}: df")
    if not _builtin:  # the built-ins are trusted, and compiled on first use, not at import
        _trial(where, sf, sdf)
    return _add(Activation(name, numpy_f or _vectorized(sf), numpy_df or _vectorized(sdf), lo_hi, bool(hidden),
                           bool(output), ELEMENTWISE, _elementwise_kernels(name, sf, sdf, _builtin),
                           (sf, sdf), differentiable=bool(differentiable), origin=registering_origin()))


TRIAL_POINTS = (-10.0, -1.0, -0.5, 0.0, 0.5, 1.0, 10.0)  # z where a registered f (and df at f(z)) is tried


def _trial(where: str, sf: Any, sdf: Any) -> None:
    """Compile ``f``/``df`` for float64 and run them at sample points (``df`` at the outputs ``f(z)``):
    an error, a non-number or NaN there is refused now, naming the activation."""
    for z in TRIAL_POINTS:
        _try(where, "df", sdf, _try(where, "f", sf, z))


def _try(where: str, what: str, fn: Any, x: float) -> float:
    try:
        value = fn(x)
    except Exception as e:  # noqa: BLE001 - Numba typing errors and user errors come in many classes
        raise TypeError(f"{where}: {what}({x!r}) failed; {what} must compile with Numba as a function of one "
                        f"float and work for every number: {type(e).__name__}: "
                        f"{first_line(e)}") from None
    if not isinstance(value, (float, int, np.floating, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{where}: {what}({x!r}) must return a number; got {value!r}"[:300])
    if math.isnan(value):
        raise ValueError(f"{where}: {what}({x!r}) is NaN; an activation must give a number for every input")
    return float(value)


# ------------------------------------------------------------------ softmax (output only)
def softmax(z: Array) -> Array:
    """Column-wise softmax; subtracting the max keeps exp from overflowing
    (the course's ``softmax.m`` computes exp(z) directly and returns NaN for z > 709)."""
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _softmax_columns(z, n):
    """Kernel form: softmax over each column of a flat ``n x m`` block (units x samples), max subtracted.
    Unit-outer loops with per-sample running max and sum, so the inner loops (over samples) vectorise."""
    m = z.shape[0] // n
    mx = z[:m].copy()
    for j in range(1, n):
        for s in range(m):
            mx[s] = max(mx[s], z[j * m + s])
    tot = np.zeros(m)  # the sums in float64 for both dtypes
    for j in range(n):
        for s in range(m):
            e = vexp(z[j * m + s] - mx[s])
            z[j * m + s] = e
            tot[s] += e
    for j in range(n):
        for s in range(m):
            z[j * m + s] = z[j * m + s] / tot[s]
    return 0


def _softmax_kernel(dtype: Any, form: str) -> Any:
    """Only an ``f_block``: below a softmax output the kernels apply its Jacobian rule, never a df block."""
    if form != "f":
        raise ValueError(f"softmax has no {form!r} block kernel (its theta is the Jacobian rule)")
    return numba.cfunc(block_signatures(dtype)[0], cache=CACHE, error_model="numpy")(_softmax_columns)


# ------------------------------------------------------------------------------ built-ins
def _expit(z: Array) -> Array:
    """``scipy.special.expit``, imported on first use (scipy.special takes ~0.3 s to import)."""
    from scipy.special import expit  # noqa: PLC0415

    return expit(z)


register_activation("sigmoid", lambda z: 1.0 / (1.0 + vexp(-z)), lambda a: a * (1 - a), range=(0, 1),
                    numpy_f=_expit, numpy_df=lambda a: a * (1 - a), _builtin=True)
register_activation("tanh", lambda z: np.tanh(z), lambda a: 1 - a ** 2, range=(-1, 1), numpy_f=np.tanh,
                    numpy_df=lambda a: 1 - a ** 2, _builtin=True)
register_activation("relu", lambda z: z if z > 0 else 0.0, lambda a: 1.0 if a > 0 else 0.0, range=(0, INF),
                    numpy_f=lambda z: np.maximum(z, 0), numpy_df=lambda a: (a > 0).astype(a.dtype), _builtin=True)
# slope 0.01 below 0; a < 0 exactly when z < 0, so the derivative can be read from the output
register_activation("leaky_relu", lambda z: z if z > 0 else 0.01 * z, lambda a: 1.0 if a > 0 else 0.01,
                    numpy_f=lambda z: np.where(z > 0, z, 0.01 * z),
                    numpy_df=lambda a: np.where(a > 0, 1.0, 0.01).astype(a.dtype), _builtin=True)
# MATLAB purelin: regression outputs and linear-decoder autoencoders
register_activation("linear", lambda z: z, lambda a: 1.0, hidden=False, numpy_f=lambda z: z,
                    numpy_df=np.ones_like, _builtin=True)
_add(Activation("softmax", softmax, None, (0, 1), False, True, SOFTMAX, _softmax_kernel))
# the M-P neuron's threshold unit (the course's sgn: 1 where z >= 0, else 0); its derivative is 0 wherever it
# exists, so backpropagation cannot learn through it: forward passes only (train it with nntoolbox.perceptron)
register_activation("step", lambda z: 1.0 if z >= 0 else 0.0, lambda a: 0.0, range=(0, 1),
                    numpy_f=lambda z: (z >= 0).astype(z.dtype), numpy_df=np.zeros_like, differentiable=False,
                    _builtin=True)

"""Numba kernels, all compiled through :data:`njit`."""
from __future__ import annotations

import functools

import numba
from numba.core.types import FunctionType, WrapperAddressProtocol
from numba.core.typing.typeof import typeof_impl

# cache=True: a second Python process loads machine code from __pycache__ instead of compiling again.
# error_model="numpy": a division by zero gives inf/NaN (caught by nn_train's divergence check) instead
# of a per-division ZeroDivisionError branch that also blocks vectorisation.
njit = functools.partial(numba.njit, cache=True, error_model="numpy")


class FirstClass(WrapperAddressProtocol):
    """A ``numba.cfunc`` as the kernels take it: a first-class function whose Numba type is built
    once.  (Passed as a bare cfunc, Numba rebuilds the type from the signature on every call,
    ~10 us per argument: a tenth of a chess epoch for the six functions of a training call.)"""

    def __init__(self, cfunc: numba.core.ccallback.CFunc) -> None:
        self.cfunc, self.numba_type, self._address = cfunc, FunctionType(cfunc._sig), cfunc.address

    def __wrapper_address__(self) -> int:
        return self._address

    def signature(self) -> numba.core.typing.Signature:
        return self.cfunc._sig


@typeof_impl.register(FirstClass)
def _typeof_first_class(val: FirstClass, c: object) -> FunctionType:
    return val.numba_type

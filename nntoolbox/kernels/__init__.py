"""Numba kernels, all compiled through :data:`njit`."""
import functools

import numba

# cache=True: a second Python process loads machine code from __pycache__ instead of compiling again.
# error_model="numpy": a division by zero gives inf/NaN (caught by nn_train's divergence check) instead
# of a per-division ZeroDivisionError branch that also blocks vectorisation.
njit = functools.partial(numba.njit, cache=True, error_model="numpy")

"""Numba kernels, all compiled through :data:`njit`; their Python wrappers are :func:`interrupt_safe`.

Where compiled kernels are cached (so that a second process loads machine code
instead of compiling again), first that works of:

1. ``NUMBA_CACHE_DIR`` when set (Numba's own setting);
2. ``__pycache__`` next to the kernels' source (a normal or editable install);
3. ``$XDG_CACHE_HOME/nntoolbox/numba`` (default ``~/.cache/nntoolbox/numba``);
4. ``<temp dir>/nntoolbox-numba-<uid>`` (created private to the user; see :mod:`nntoolbox.cachedir`);
5. none: kernels compile on every start, with a one-line note on stderr.

A read-only install run by a user without a writable home (a service account,
a container) therefore imports and trains; importing never depends on a cache.
"""
from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import numba

from ..cachedir import user_cache_dir, writable_dir
from ..interrupts import interrupt_safe, sigint_deferred

__all__ = ["CACHE", "INTERNAL", "choose_cache_dir", "interrupt_safe", "njit", "sigint_deferred"]


def choose_cache_dir() -> tuple[bool, str | None]:
    """``(cache, directory)`` for the kernels: ``directory`` None means Numba's in-tree ``__pycache__``."""
    env = os.environ.get("NUMBA_CACHE_DIR")
    if env and writable_dir(Path(env)):
        return True, env
    if writable_dir(Path(__file__).parent / "__pycache__"):
        return True, None
    user = user_cache_dir("numba")
    return (True, str(user)) if user is not None else (False, None)


def _configure_cache() -> bool:
    cache, directory = choose_cache_dir()
    if directory is not None:
        numba.config.CACHE_DIR = directory  # read by Numba when each kernel is decorated
    elif cache:
        numba.config.CACHE_DIR = ""  # an unusable NUMBA_CACHE_DIR: fall back to __pycache__
    else:
        print("nntoolbox: no writable directory to cache compiled kernels (set NUMBA_CACHE_DIR to one); "
              "compiling them in every process", file=sys.stderr)
    return cache


CACHE = _configure_cache()

# error_model="numpy": a division by zero gives inf/NaN (caught by nn_train's divergence check) instead
# of a per-division ZeroDivisionError branch that also blocks vectorisation.
njit = functools.partial(numba.njit, cache=CACHE, error_model="numpy")

# For kernels called only from other kernels: no Python or C entry point is built for them (code that
# every library linking them compiles again; ~0.6 s of a cold start, see docs/performance.md).
INTERNAL = {"no_cpython_wrapper": True, "no_cfunc_wrapper": True}

# Sums over the batch may be reassociated (several partial sums, as BLAS does): that is what lets
# them vectorise.  No other fast-math flag: NaN/inf must survive for nn_train's divergence check.
REASSOC = {"reassoc", "contract"}

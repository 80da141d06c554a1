"""How many threads BLAS may use inside nntoolbox's training and prediction (threadpoolctl, as
scikit-learn does).

Default: 1.  The layers of the course's networks are small (10 to 800 units, batches of 100), so a
second BLAS thread gains little on an idle machine and costs a lot on a busy one: on a 2-core machine
with the other core busy, two threads made an MNIST-size epoch several times slower.  Users with big
layers and idle cores can allow more: ``nntoolbox.set_blas_threads(2)``, or the environment variable
``NNTOOLBOX_BLAS_THREADS=2``; ``None`` (or ``NNTOOLBOX_BLAS_THREADS=default``) leaves BLAS as it is
configured (``OPENBLAS_NUM_THREADS`` ...).  The limit applies only inside nntoolbox's calls.
"""
from __future__ import annotations

import os
from contextlib import contextmanager, nullcontext
from typing import Any, ContextManager, Iterator

_ENV = "NNTOOLBOX_BLAS_THREADS"
_controller: Any = None


def _parse(value: Any, what: str) -> int | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "default", "none")):
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = 0
    if isinstance(value, bool) or n < 1 or (not isinstance(value, str) and n != value):
        raise ValueError(f"{what} must be a positive integer or None; got {value!r}")
    return n


_threads: int | None = _parse(os.environ.get(_ENV, "1"), _ENV)


def set_blas_threads(n: int | None) -> None:
    """Threads BLAS may use inside nntoolbox calls (default 1); None: leave BLAS as configured."""
    global _threads
    _threads = _parse(n, "set_blas_threads(n)")


def blas_threads() -> int | None:
    """The current setting (see :func:`set_blas_threads`)."""
    return _threads


def limited_blas() -> ContextManager:
    """Context in which BLAS uses at most the configured number of threads."""
    return nullcontext() if _threads is None else _limit(_threads)


@contextmanager
def _limit(n: int) -> Iterator[None]:
    global _controller
    if _controller is None:
        import scipy.linalg  # noqa: F401, PLC0415 - loads the BLAS that the Numba kernels call
        from threadpoolctl import ThreadpoolController  # noqa: PLC0415 - inspects the loaded libraries
        _controller = ThreadpoolController()
    with _controller.limit(limits=n, user_api="blas"):
        yield

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
import threading
from contextlib import nullcontext
from typing import Any, ContextManager

from .options import check_number

_ENV = "NNTOOLBOX_BLAS_THREADS"
_controller: Any = None


def _parse(value: Any, what: str) -> int | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "default", "none")):
        return None
    try:
        return check_number(int(value) if isinstance(value, str) else value, what, lo=1, integer=True)
    except (TypeError, ValueError):  # one message for a setting and an environment variable
        raise ValueError(f"{what} must be a positive integer or None; got {value!r}") from None


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
    return _NO_LIMIT if _threads is None else _Limit(_threads)


_NO_LIMIT = nullcontext()
# the libraries' counts to restore when the outermost limit ends, and how many limits are open (nested:
# nn_train scores its validation rows inside its own limit; threads: the last one out restores)
_open: list = [0, []]
_LOCK = threading.Lock()


class _Limit:
    """BLAS at ``n`` threads while the outermost of the nested limits is open.  (A class, not a
    generator: entered once or twice per epoch.)"""
    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n

    def __enter__(self) -> None:
        global _controller
        if _controller is None:
            import scipy.linalg  # noqa: F401, PLC0415 - loads the BLAS that the Numba kernels call
            from threadpoolctl import ThreadpoolController  # noqa: PLC0415 - inspects the loaded libraries
            _controller = ThreadpoolController().select(user_api="blas").lib_controllers
        with _LOCK:
            if not _open[0]:
                # threadpoolctl's limit() costs ~10 us (a tenth of a chess nn_test); the libraries' own
                # getters and setters ~1 us, and nothing is set when the count is already n
                changed = [(lib, old) for lib in _controller if (old := lib.get_num_threads()) != self.n]
                for lib, _ in changed:
                    lib.set_num_threads(self.n)
                _open[1] = changed
            _open[0] += 1

    def __exit__(self, *exc: Any) -> None:
        with _LOCK:
            _open[0] -= 1
            if not _open[0]:
                for lib, old in _open[1]:
                    lib.set_num_threads(old)
                _open[1] = []

"""Holding Ctrl-C (SIGINT) over short critical sections: loading Numba kernels, moving results into place."""
from __future__ import annotations

import _signal  # signal's C module: see sigint_deferred
import functools
import signal
import threading
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class sigint_deferred:  # noqa: N801 - used as a function: ``with sigint_deferred():``
    """Hold Ctrl-C (SIGINT) until the block ends, then deliver it (KeyboardInterrupt).

    A KeyboardInterrupt raised inside Numba while it loads or compiles a kernel
    leaves its type registry half-updated (the next call fails with "duplicate
    registration ... UnicodeType") or is swallowed by a ctypes callback ("Exception
    ignored on calling ctypes callback"); kernel calls therefore run under this
    (compiled code never looks at signals, so this delays nothing once loaded),
    and so do the few file renames that must happen together.
    Outside the main thread (where handlers cannot be set) it does nothing.
    (A class, not a generator: entered several times per epoch.)"""
    __slots__ = ("_installed", "_previous", "_received")

    def __enter__(self) -> None:
        self._installed = threading.current_thread() is threading.main_thread()
        if self._installed:
            received: list[Any] = []
            self._received = received
            # _signal.signal is what signal.signal calls after converting to and from enums (a ValueError
            # raised and caught per callable handler): 1 us instead of 16
            self._previous = _signal.signal(_signal.SIGINT, lambda signum, frame: received.append(frame))

    def __exit__(self, *exc: Any) -> None:
        if not self._installed:
            return
        previous = self._previous
        _signal.signal(_signal.SIGINT, previous)
        if self._received:
            if callable(previous):
                previous(signal.SIGINT, self._received[0])  # the default handler raises KeyboardInterrupt
            elif previous == signal.SIG_DFL:
                signal.raise_signal(signal.SIGINT)


def interrupt_safe(func: F) -> F:
    """Decorator: run ``func`` (a Python wrapper calling Numba kernels) under :func:`sigint_deferred`."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with sigint_deferred():
            return func(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


class SigintOnce:
    """Ctrl-C over a run that must end cleanly however often it is pressed (``nn_train``).

    The block starts :attr:`armed`: the first Ctrl-C raises ``KeyboardInterrupt`` and disarms; every
    later one, and any after the caller disarms (the bookkeeping after the training loop), is only
    counted in :attr:`received`, so a second Ctrl-C cannot escape the rollback of the first; the
    caller reports what was counted.  Outside the main thread (where handlers cannot be set)
    nothing is installed."""

    def __init__(self) -> None:
        self.armed = True
        self.received = 0
        self._previous: Any = None

    def _handle(self, signum: int, frame: Any) -> None:
        self.received += 1
        if self.armed:
            self.armed = False
            raise KeyboardInterrupt

    def __enter__(self) -> "SigintOnce":
        if threading.current_thread() is threading.main_thread():
            self._previous = _signal.signal(_signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.armed = False
        if self._previous is not None:
            _signal.signal(_signal.SIGINT, self._previous)

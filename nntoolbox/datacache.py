"""Data checked once per array content: a call repeated with unchanged arrays skips the checks (the
course's loop calls ``nn_train`` and ``nn_test`` on the same rows every epoch).

An entry's key is what the checks depend on: which check, the network's dtype, input and output sizes
and objective, and per array its dtype, shape and a fingerprint of its bytes
(:func:`nntoolbox.kernels.fingerprint.fingerprint`, a few microseconds per 100 KB).  An array edited in
place, or a view of other rows, has another fingerprint: it is checked again.  Only 2-D, C-contiguous,
8-byte aligned numpy arrays of numbers take this path, and only for networks without input
normalisation (its statistics are fields that can be edited in place); anything else is checked on
every call, as before.

A result that is an argument itself comes back as this call's argument (same content), a bool or None
as it was.  Arrays the check made (a cast copy) are kept with their own fingerprint, verified on every
use, so an edit of one (say through a network's ``a[0]``) cannot slip through either; at most
:data:`ENTRIES` entries and :data:`BUDGET` bytes of them are kept, the least recently used dropped.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .interrupts import sigint_deferred
from .kernels.fingerprint import fingerprint

if TYPE_CHECKING:
    from .network import Network

ENTRIES = 8
BUDGET = 64 * 2 ** 20  # bytes of kept results
# key -> (items, bytes): an item is an argument's index, (array, its content key), a bool or None
_CACHE: OrderedDict[tuple, tuple[tuple, int]] = OrderedDict()
_LOCK = threading.Lock()
_loaded = False  # the fingerprint kernel has run in this process


def content_key(a: Any) -> tuple | None:
    """``(dtype, shape, fingerprint, tail bytes)`` of a C-contiguous numeric array; None for anything
    else (checked every time)."""
    global _loaded
    if type(a) is not np.ndarray or a.dtype.kind not in "biuf" or not a.flags.c_contiguous:
        return None
    n8 = a.nbytes & ~7
    words = np.frombuffer(a, np.uint64, n8 >> 3)
    # one compiled specialisation: read-only (as a read-only argument's words are), aligned
    words.flags.writeable = False
    if not words.flags.aligned:
        return None
    if _loaded:  # a call is plain machine code
        h = fingerprint(words)
    else:
        with sigint_deferred():  # the first call loads or compiles it: see interrupts.sigint_deferred
            h = fingerprint(words)
        _loaded = True
    tail = memoryview(a).cast("B")[n8:].tobytes() if a.nbytes - n8 else b""
    return a.dtype.str, a.shape, int(h), tail


def remembered(nn: "Network", check: str, arrays: tuple, run: Callable[[], tuple]) -> tuple:
    """``run()`` (the check named ``check`` of ``arrays`` for ``nn``), or its result from an earlier call
    with arrays of the same content and a network of the same settings."""
    key = _key(nn, check, arrays)
    if key is None:
        return run()
    with _LOCK:
        entry = _CACHE.get(key)
        if entry is not None:
            _CACHE.move_to_end(key)
    if entry is not None:
        out = _unpack(entry[0], arrays)
        if out is not None:
            return out
        with _LOCK:
            _CACHE.pop(key, None)
    result = run()
    _store(key, result, arrays)
    return result


def forget() -> None:
    """Drop every entry (tests; nothing needs it for correctness)."""
    with _LOCK:
        _CACHE.clear()


def _key(nn: "Network", check: str, arrays: tuple) -> tuple | None:
    if "input_mean" in nn._fields or any(getattr(a, "ndim", 0) != 2 for a in arrays):
        return None
    keys = [content_key(a) for a in arrays]
    if None in keys:
        return None
    return (check, nn["dtype"], nn.sizes[0], nn.sizes[-1], nn["objective_function"], *keys)


def _unpack(items: tuple, arrays: tuple) -> tuple | None:
    out = []
    for item in items:
        if item is None or type(item) is bool:
            out.append(item)
        elif isinstance(item, int):
            out.append(arrays[item])
        else:
            kept, key = item
            if content_key(kept) != key:  # edited since: check again
                return None
            out.append(kept)
    return tuple(out)


def _store(key: tuple, result: tuple, arrays: tuple) -> None:
    items: list = []
    size = 0
    for r in result:
        if r is None or type(r) is bool:
            items.append(r)
            continue
        index = next((i for i, a in enumerate(arrays) if r is a), None)
        if index is not None:
            items.append(index)
            continue
        own = content_key(r)
        if own is None or any(isinstance(a, np.ndarray) and np.may_share_memory(r, a) for a in arrays):
            return  # a view of an argument, or an array of another kind: not kept
        items.append((r, own))
        size += r.nbytes
    if size > BUDGET:
        return
    with _LOCK:
        _CACHE[key] = (tuple(items), size)
        total = sum(s for _, s in _CACHE.values())
        while len(_CACHE) > ENTRIES or total > BUDGET:
            total -= _CACHE.popitem(last=False)[1][1]

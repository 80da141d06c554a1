"""Per-epoch records of a network (``nn.cost``, the columns of ``nn.history``) in amortised storage.

A :class:`Record` is an immutable value: appending returns a new record.  Its numbers live in a
buffer with spare room (capacity doubling), so ``nn_train`` called once per epoch 10,000 times
(the course's loop) appends in constant time instead of copying the whole history each call.
Copies of a network share records; the buffer is written only past its high-water mark, and only
by the record that reached that mark, so no copy ever sees another's appends (a second record
appending from the same length gets a buffer of its own).
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

_MIN_CAPACITY = 16
# held while a record claims room in a buffer: of two threads appending to copies of one network,
# one extends the buffer, the other gets its own
_CLAIM = threading.Lock()


class _Store:
    """A buffer and how much of it some record uses (the high-water mark)."""
    __slots__ = ("data", "used")

    def __init__(self, data: np.ndarray, used: int) -> None:
        self.data, self.used = data, used


class Record:
    """A read-only vector that grows by :meth:`append` in amortised constant time; its dtype is its
    first values' (``dtype`` to choose), promoted when an append needs it (integers, then a NaN).

    ``second`` (or None) replaces element 1 when read: the course's ``nn.cost`` keeps its newest
    cost there (see :func:`nntoolbox.forward.record_cost`) without rewriting a shared buffer."""
    __slots__ = ("_store", "_n", "_second")

    def __init__(self, values: Any = (), dtype: Any = None) -> None:
        a = np.array(values, dtype=dtype).ravel()
        self._store, self._n, self._second = _Store(a, a.size), a.size, None

    def __len__(self) -> int:
        return self._n

    @property
    def nbytes(self) -> int:
        """Bytes of the buffer this record uses (with its spare room)."""
        return self._store.data.nbytes

    def append(self, values: Any, second: float | None = None) -> "Record":
        """A record of these numbers followed by ``values``; ``second`` replaces element 1 when given
        (else the current replacement is kept)."""
        new = np.asarray(values)
        if new.ndim != 1:
            new = new.ravel()
        n, k, store = self._n, new.size, self._store
        dtype = store.data.dtype
        if new.dtype != dtype:  # (result_type only when it can differ: an append per record per epoch)
            dtype = np.result_type(store.data, new)
        with _CLAIM:
            in_place = store.used == n and n + k <= store.data.size and dtype == store.data.dtype
            if in_place:
                store.used = n + k
        if not in_place:  # another record reached the mark, the buffer is full, or another dtype: a new one
            # doubling what is kept (amortised appends), not what is appended (one big append: no spare room)
            data = np.empty(max(n + k, 2 * n, _MIN_CAPACITY), dtype)
            data[:n] = store.data[:n]
            store = _Store(data, n + k)
        store.data[n:n + k] = new
        out = Record.__new__(Record)
        out._store, out._n = store, n + k
        out._second = self._second if second is None else float(second)
        return out

    def array(self) -> np.ndarray:
        """The numbers, read-only: a view of the buffer, or a copy when element 1 is replaced."""
        a = self._store.data[:self._n]
        if self._second is not None and self._n >= 2:
            a = a.copy()
            a[1] = self._second
        a.flags.writeable = False
        return a

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.array()
        return a.astype(dtype or a.dtype, copy=bool(copy))

    def __reduce__(self) -> tuple:
        return (Record, (np.array(self.array()),))  # pickled without the spare room

    def __repr__(self) -> str:
        return f"Record({self.array()!r})"

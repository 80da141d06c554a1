"""Memory estimates: refuse a network or a training run that cannot fit, before allocating it.

``nn_create`` and ``nn_train`` call :func:`check_create` / :func:`check_train`:
when the estimated bytes exceed the memory available (``psutil``'s available
RAM, or a container's cgroup limit when lower) they raise ``MemoryError``
naming what is needed, instead of allocating until the machine swaps for
minutes and the process is killed.

Override with the environment variable ``NNTOOLBOX_MEMORY``: ``off`` skips the
check; a size (``64G``, ``512M``, ``2000000000``) is taken as the memory
available; anything else (``0`` included) is refused with a ``ValueError``.  Estimates under :data:`SMALL` bytes are not checked (no system call
in the course's one-epoch-per-``nn_train`` loops).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .network import Network
from .optimizers import OPTIMIZERS

ENV_VAR = "NNTOOLBOX_MEMORY"
SMALL = 256 * 2 ** 20
_UNITS = {"": 1, "K": 2 ** 10, "M": 2 ** 20, "G": 2 ** 30, "T": 2 ** 40}


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def _override() -> int | None | bool:
    """``False`` for ``off``, the stated bytes, or None (not set)."""
    text = os.environ.get(ENV_VAR, "").strip()
    if not text:
        return None
    if text.lower() == "off":
        return False
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?", text, re.IGNORECASE)
    size = int(float(match[1]) * _UNITS[match[2].upper()]) if match else 0
    if size < 1:  # '0' once switched the check off silently: only 'off' does
        raise ValueError(f"{ENV_VAR}={text[:60]!r}: use 'off' to skip the memory check, or a size of at "
                         "least one byte such as 16G, 512M or a number of bytes")
    return size


def _cgroup_free() -> int | None:
    """Bytes left under a cgroup v2 memory limit (containers), or None without one."""
    base = Path("/sys/fs/cgroup")
    try:
        limit = (base / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return int(limit) - int((base / "memory.current").read_text())
    except (OSError, ValueError):
        return None


def available_bytes() -> int:
    """Memory this process can still use: available RAM, capped by a cgroup limit."""
    import psutil  # noqa: PLC0415 - only asked when an estimate is large

    free = int(psutil.virtual_memory().available)
    cgroup = _cgroup_free()
    return min(free, cgroup) if cgroup is not None else free


def require(needed: int, what: str) -> None:
    """Raise ``MemoryError`` when ``needed`` bytes exceed what is available (see the module's override)."""
    if needed < SMALL:
        return
    override = _override()
    if override is False:
        return
    available = available_bytes() if override is None else override
    if needed > available:
        raise MemoryError(f"{what} needs about {format_bytes(needed)} but only {format_bytes(available)} is "
                          f"available; use smaller layers, batches or data, dtype='float32', or set {ENV_VAR}=off "
                          "to try anyway")


def network_bytes(sizes: Sequence[int], bn: bool, slots: int, itemsize: int) -> int:
    """Bytes of a network's buffers: parameters, gradients, ``slots`` optimizer states, batch-norm statistics."""
    units = sum(sizes[1:])
    params = sum(h * w for w, h in zip(sizes[:-1], sizes[1:])) + units * (3 if bn else 1)  # W, b, Gamma/Beta
    return itemsize * (params * (2 + slots) + (2 * units if bn else 0))


def check_create(sizes: Sequence[int], opts: dict[str, Any], dtype: np.dtype) -> None:
    """``nn_create``: the buffers plus the float64 temporaries of initialising the largest ``W``."""
    slots = len(OPTIMIZERS[opts["optimization_method"]].slots)
    largest = max(h * w for w, h in zip(sizes[:-1], sizes[1:]))
    needed = network_bytes(sizes, bool(opts["batch_normalization"]), slots, dtype.itemsize) + 3 * 8 * largest
    require(needed, f"nn_create({list(sizes)}) ({opts['optimization_method']} optimizer, {dtype.name})")


def record_bytes(nn: Network, batches: int, iteration: int, history_columns: int) -> int:
    """Bytes of the cost record (one float per batch) and history (``history_columns`` floats per epoch)
    after ``iteration`` more epochs, times 3: a full buffer and its doubled successor while it grows
    (:mod:`nntoolbox.record`)."""
    epochs = len(nn._hist.get("epoch", ()))
    return 3 * 8 * (len(nn._fields["cost"]) + iteration * batches + history_columns * (epochs + iteration))


def check_train(nn: Any, x: Any, y: Any, batch_size: int, iteration: int = 1, history_columns: int = 0) -> None:
    """``nn_train``: four copies of the network (working, last complete epoch, best epoch, result), the data
    cast to the network's dtype (when it differs) with its finiteness mask, a batch's activations, and
    what the run keeps: its cost record and history for ``iteration`` epochs (:func:`record_bytes`)."""
    if not isinstance(nn, Network):
        return  # nn_train's own checks say what is wrong
    known = nn._memo.get("memory")  # what depends on the network only: memoised until a field changes
    if known is None:
        dtype = np.dtype(nn["dtype"])
        sizes = [int(s) for s in nn.sizes]
        known = nn._memo["memory"] = (dtype, sizes, network_bytes(sizes, bool(nn["batch_normalization"]),
                                                                  len(nn._buf.slots), dtype.itemsize))
    dtype, sizes, net = known
    data = 0
    for a in (x, y):
        if isinstance(a, np.ndarray):
            cast = a.dtype != dtype or not a.flags.c_contiguous
            data += a.size * ((dtype.itemsize if cast else 0) + 1)  # + np.isfinite's bool mask
    batch = 6 * batch_size * sum(sizes) * dtype.itemsize  # a, z, deltas, batch-norm temporaries
    samples = len(x) if isinstance(x, (np.ndarray, list, tuple)) else "the"  # sparse: len() raises
    record = record_bytes(nn, -(-samples // batch_size) if isinstance(samples, int) else 1, iteration,
                          history_columns)
    needed = 4 * net + data + batch + record
    if needed < SMALL:  # require's own test, before the message is built (every course epoch)
        return
    # the record is named where it is what does not fit (iteration=1e9 "until patience stops it")
    kept = (f" for {iteration} epochs (of which {format_bytes(record)} for the cost record and history it "
            "keeps: train fewer epochs per call)") if 2 * record > needed else ""
    require(needed, f"nn_train of a {list(sizes)} network on {samples} samples{kept}")

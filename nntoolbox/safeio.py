"""Reading untrusted files (a downloaded ``.npz``, an IDX ``.gz``): a file is data, not instructions.

Every size a file declares is checked against what the file can hold and against the memory check
(:mod:`nntoolbox.memory`) before anything is allocated; only the members asked for are decompressed;
errors are ``ValueError`` naming the file and the member, and quote at most :data:`QUOTE` characters
of the bad input.
"""
from __future__ import annotations

import math
import struct
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from .memory import format_bytes, require

QUOTE = 200
# deflate cannot expand data more than ~1032:1; gzip and zip members both use it
MAX_RATIO = 1100
# what a corrupt archive or member can raise from zipfile, zlib and numpy's header parser
READ_ERRORS = (OSError, EOFError, ValueError, KeyError, NotImplementedError, OverflowError, SyntaxError,
               UnicodeDecodeError, zipfile.BadZipFile, zlib.error, struct.error, RuntimeError, RecursionError,
               tokenize.TokenError)


def quote(value: Any, limit: int = QUOTE) -> str:
    """``value`` (a string, else its repr) cut to ``limit`` characters for an error message."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def check_declared(nbytes: int, most: int, source: Any, what: str) -> None:
    """Refuse ``nbytes`` declared by ``source`` when the file cannot hold them (``most`` bytes at most) or they
    do not fit in memory: ValueError naming the file, before allocating."""
    if nbytes > most:
        raise ValueError(f"{source}: {what} declares {format_bytes(nbytes)} but the file can hold at most "
                         f"{format_bytes(most)} (a corrupt or hostile file)")
    try:
        require(nbytes, f"{what} of {source}")
    except MemoryError as e:
        raise ValueError(f"{source}: {e}") from None


class NpzArchive:
    """The ``.npy`` members of an ``.npz`` file, read one by one after checking their headers
    (MATLAB has no such format; ``np.load`` decompresses whatever member is asked, of any declared size).

    ``with NpzArchive(path) as z: z.read("W__0")``; ``z.names`` lists the members (without ``.npy``).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._size = self.path.stat().st_size
        try:
            self._zip = zipfile.ZipFile(self.path)
            self._infos = {i.filename[:-4]: i for i in self._zip.infolist() if i.filename.endswith(".npy")}
        except READ_ERRORS as e:
            raise ValueError(f"{self.path}: corrupt or unreadable .npz file ({quote(str(e))})") from None

    @property
    def names(self) -> list[str]:
        return list(self._infos)

    def __enter__(self) -> "NpzArchive":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._zip.close()

    def header(self, name: str) -> tuple[tuple[int, ...], np.dtype]:
        """Declared shape and dtype of member ``name`` (reads only its header)."""
        try:
            with self._zip.open(self._infos[name]) as f:
                version = np.lib.format.read_magic(f)
                if version not in ((1, 0), (2, 0)):
                    raise ValueError(f"unknown .npy format version {version}")
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                    np.lib.format.read_array_header_2_0
                shape, _, dtype = read(f, max_header_size=10_000)
        except READ_ERRORS as e:
            raise ValueError(f"{self.path}: member {quote(name, 60)} is corrupt ({quote(str(e))})") from None
        return tuple(int(d) for d in shape), np.dtype(dtype)

    def read(self, name: str, kinds: str = "biuf", max_size: int | None = None) -> np.ndarray:
        """Member ``name`` as an array, refused (ValueError) unless its dtype kind is in ``kinds``, it has at
        most ``max_size`` elements, and its declared bytes fit in the file and in memory."""
        shape, dtype = self.header(name)
        what = f"member {quote(name, 60)}"
        if dtype.kind == "c" and "c" not in kinds:
            raise ValueError(f"{self.path}: {what} holds complex numbers ({dtype}); expected real numbers")
        if dtype.kind not in kinds or dtype.hasobject:
            raise ValueError(f"{self.path}: {what} has dtype {quote(str(dtype), 60)}; expected "
                             + ("text" if kinds == "U" else "numbers"))
        size = math.prod(shape)
        if max_size is not None and size > max_size:
            raise ValueError(f"{self.path}: {what} declares shape {quote(shape, 80)}, more than the "
                             f"{max_size} elements it can have")
        info = self._infos[name]
        most = min(info.file_size, MAX_RATIO * min(info.compress_size, self._size) + 4096)
        check_declared(size * dtype.itemsize, most, self.path, what)
        try:
            with self._zip.open(info) as f:
                return np.lib.format.read_array(f, allow_pickle=False, max_header_size=10_000)
        except READ_ERRORS as e:
            raise ValueError(f"{self.path}: {what} is corrupt ({quote(str(e))})") from None

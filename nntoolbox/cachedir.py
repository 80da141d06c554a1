"""Writable per-user directories for caches (compiled kernels, Matplotlib's font cache) when the usual
place is not writable: a read-only install, a service account or container without a writable home."""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def writable_dir(path: Path, private: bool = False) -> bool:
    """True when ``path`` is (or can be made) a directory this process can create files in.

    ``private``: it must also belong to this user and be writable by no one else (a shared temp
    dir where another user could plant files, e.g. machine code this process would then load)."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if private:
            st = path.lstat()
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
                return False
        tempfile.TemporaryFile(dir=path).close()  # as Numba checks (os.access ignores read-only mounts)
        return True
    except OSError:
        return False


def user_cache_dir(name: str) -> Path | None:
    """``$XDG_CACHE_HOME/nntoolbox/<name>`` (default ``~/.cache/...``), else a private
    ``<temp dir>/nntoolbox-<name>-<uid>``; None when neither is writable."""
    user = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nntoolbox" / name
    if writable_dir(user):
        return user
    uid = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    temp = Path(tempfile.gettempdir()) / f"nntoolbox-{name}-{uid}"
    return temp if writable_dir(temp, private=hasattr(os, "getuid")) else None

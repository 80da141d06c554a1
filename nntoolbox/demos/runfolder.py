"""A demo run's output folder, replaced as a whole when the run completes.

Only a folder that is new, empty, or holds nothing but the unchanged files of
a previous run (as its ``summary.json`` lists them) is replaced; anything else
in it is the user's, and the run refuses before it starts, naming the file.

The run writes into a staging folder next to the output folder
(``.<name>.run-<pid>``); :meth:`RunFolder.commit` writes ``summary.json`` (the
demo's results, the command, versions and times that produced the files, and
each file's size and SHA-256) and then swaps the staging folder in for the
previous one.  A run that is interrupted or fails before that leaves the
previous results untouched and its staging folder removed; leftovers of a
killed run (``kill -9``) are cleared, or a half-done swap is undone, by the next
run into the same folder.  A lock file (``.<name>.lock``, holding the pid)
tells a second run writing to the same folder that the first is still going.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import shutil
import sys
from pathlib import Path
from typing import Any

from ..interrupts import sigint_deferred
from ..plugins import imported_files

try:
    import fcntl
except ImportError:  # Windows: no lock (concurrent runs are not detected)
    fcntl = None

SUMMARY = "summary.json"


class DemoError(Exception):
    """A problem with the environment or a file (a setting or flag to fix): one line, exit code 2."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _record(path: Path) -> dict[str, Any]:
    """A written file as summary.json lists it: size and SHA-256."""
    return {"bytes": path.stat().st_size, "sha256": _sha256(path)}


def _versions() -> dict[str, str]:
    import numba  # noqa: PLC0415 - loaded by the demos anyway
    import numpy  # noqa: PLC0415

    from .. import __version__  # noqa: PLC0415
    return {"nntoolbox": __version__, "python": platform.python_version(), "numpy": numpy.__version__,
            "numba": numba.__version__}


class RunFolder:
    """Output folder ``out`` of one demo run; use as a context manager, write into :attr:`path`, then :meth:`commit`.

    ``flag`` names the setting that chose ``out`` in error messages (``--out``)."""

    def __init__(self, out: str | Path, demo: str, flag: str = "--out") -> None:
        self.final = Path(out)
        self.demo, self.flag = demo, flag
        self.parent = self.final.absolute().parent
        self.path = self.parent / f".{self.final.name}.run-{os.getpid()}"
        self.lock_path = self.parent / f".{self.final.name}.lock"
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.committed = False
        self._lock: Any = None

    # ------------------------------------------------------------ set-up
    def __enter__(self) -> RunFolder:
        if self.final.name in ("", ".", ".."):
            raise DemoError(f"{self.flag} {self.final}: name a folder of its own, e.g. {self.flag} results/run1")
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise DemoError(f"cannot create {self.parent} for {self.flag} {self.final} ({e.strerror}); choose a "
                            f"writable folder with {self.flag} DIR") from e
        if self.final.exists() and not self.final.is_dir():
            raise DemoError(f"{self.flag} {self.final} is a file; name a folder (new or from an earlier run)")
        try:
            self._acquire_lock()
            self._recover()
            self._check_replaceable()
            self.path.mkdir()
        except OSError as e:
            self._release_lock()
            raise DemoError(f"cannot write to {self.parent} for {self.flag} {self.final} ({e.strerror}); choose a "
                            f"writable folder with {self.flag} DIR") from e
        except BaseException:
            self._release_lock()
            raise
        return self

    def _acquire_lock(self) -> None:
        if fcntl is None:
            return
        while True:
            f = open(self.lock_path, "a+")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.seek(0)
                pid = f.read().strip() or "unknown"
                f.close()
                raise DemoError(f"another run (pid {pid}) is writing to {self.final}; wait for it to finish or "
                                f"choose another folder with {self.flag} DIR") from None
            # the previous holder may have removed the file between our open and lock: lock the current one
            if os.path.exists(self.lock_path) and os.path.samestat(os.fstat(f.fileno()), os.stat(self.lock_path)):
                break
            f.close()
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._lock = f

    def _release_lock(self) -> None:
        if self._lock is not None:
            os.unlink(self.lock_path)  # while still holding it (see _acquire_lock)
            self._lock.close()
            self._lock = None

    def _recover(self) -> None:
        """Clear what killed runs left (we hold the lock: no live run owns it); undo a half-done swap."""
        old = sorted(self.parent.glob(f".{self.final.name}.old-*"))
        if old and not self.final.exists():  # killed between the two renames of commit(): put it back
            old[-1].rename(self.final)
            old = old[:-1]
        for stale in [*old, *self.parent.glob(f".{self.final.name}.run-*")]:
            shutil.rmtree(stale, ignore_errors=True)

    def _check_replaceable(self) -> None:
        """A user's folder is the user's: replace only a folder that is empty or holds nothing but the files a
        previous run wrote, unchanged (by the list in its summary.json); otherwise say which file is in the way."""
        if not self.final.is_dir():
            return
        written, run = self._manifest()
        where = f"{self.flag} {self.final}"
        for path in sorted(self.final.iterdir()):
            if path.name == SUMMARY and written is not None:
                continue
            if written is None:
                readable = "no" if not (self.final / SUMMARY).exists() else "no readable"
                problem = f"{where} holds {path.name}, which no earlier run wrote ({readable} {SUMMARY})"
            elif path.name not in written:
                problem = f"{where} holds {path.name}, which the run of {run} did not write"
            elif path.is_symlink() or not path.is_file() or written[path.name] != _record(path):
                problem = f"{where}: {path.name} was changed since the run of {run} wrote it"
            else:
                continue
            raise DemoError(f"{problem}; its contents would be replaced: move it, or choose another folder with "
                            f"{self.flag} DIR")

    def _manifest(self) -> tuple[dict[str, Any] | None, str]:
        """The files the previous run in :attr:`final` wrote (name -> bytes and sha256; None without a readable
        summary.json) and which run that was."""
        try:
            summary = json.loads((self.final / SUMMARY).read_text())
        except (OSError, ValueError):
            return None, ""
        files = summary.get("files", {}) if isinstance(summary, dict) else None
        run = summary.get("run", {}) if isinstance(summary, dict) else None
        if not isinstance(files, dict) or not isinstance(run, dict):
            return None, ""
        return files, f"{run.get('demo', 'a demo')} ({run.get('started', 'time unknown')})"

    # ------------------------------------------------------------ finish
    def commit(self, summary: dict[str, Any] | None = None) -> Path:
        """Write ``summary.json`` (``summary`` plus ``run`` and ``files``), then put the run's folder in place of
        the previous one; returns the summary's final path."""
        files = {p.name: _record(p) for p in sorted(self.path.iterdir()) if p.name != SUMMARY}
        run = {"demo": self.demo, "command": [Path(sys.argv[0]).name, *sys.argv[1:]], "pid": os.getpid(),
               "started": self.started.isoformat(timespec="seconds"),
               "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "versions": _versions(), "imports": [f.record() for f in imported_files()]}
        text = json.dumps({**(summary or {}), "run": run, "files": files}, indent=2, default=str) + "\n"
        (self.path / SUMMARY).write_text(text)
        with sigint_deferred():  # the two renames together: a Ctrl-C waits for them
            old = self.parent / f".{self.final.name}.old-{os.getpid()}"
            if self.final.exists():
                self.final.rename(old)
            self.path.rename(self.final)
            self.committed = True
        shutil.rmtree(old, ignore_errors=True)
        return self.final / SUMMARY

    def __exit__(self, *exc: Any) -> None:
        with sigint_deferred():
            if not self.committed:
                shutil.rmtree(self.path, ignore_errors=True)
            self._release_lock()

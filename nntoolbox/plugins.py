"""Students' Python files (``--import FILE.py`` in every script) and where registrations come from.

:func:`import_file` runs a file as a module, so that the optimizers and
activations it registers (``register_optimizer``, ``register_activation``)
exist in this process; :func:`imported_files` lists what was run, with each
file's SHA-256, for the run summaries.

Each registry entry records its :class:`Origin` (:func:`registering_origin`):
the module that registered it, or the imported file.  A worker process (a
sweep's run, a ``GridSearchCV`` fit) calls :func:`load_origins` with the
origins of the names it uses (:func:`origins_for`) before it creates a
network, so the registration reaches it.  A function defined in ``__main__``
(a notebook cell, the script being run) has no such origin: it cannot travel.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from .userwarn import first_line

__all__ = ["ImportedFile", "Origin", "import_file", "imported_files", "load_origins", "origins_for",
           "registering_origin"]

MAIN = "__main__"
# the options whose values are registered names, and the registry each reads
REGISTERED_OPTIONS = {"optimization_method": "optimizer", "active_function": "activation",
                      "output_function": "activation"}


@dataclass(frozen=True)
class ImportedFile:
    """A file run by :func:`import_file`: its resolved ``path``, ``sha256`` and module name in ``sys.modules``."""
    path: Path
    sha256: str
    module: str

    def record(self) -> dict[str, str]:
        """What a run summary keeps: path and SHA-256."""
        return {"path": str(self.path), "sha256": self.sha256}


@dataclass(frozen=True)
class Origin:
    """Where a registration comes from: an importable ``module``, or an imported ``file`` (with its ``sha256``).
    ``module == '__main__'``: a notebook or the running script, which a worker process cannot re-run."""
    module: str
    file: str | None = None
    sha256: str | None = None

    @property
    def travels(self) -> bool:
        return self.module != MAIN

    def __str__(self) -> str:
        return self.file or self.module


# kind -> its registry (name -> entry with .name and .origin), added by the registry modules themselves
# (they import this module, so it cannot import them)
REGISTRIES: dict[str, Mapping[str, Any]] = {}
_IMPORTED: dict[Path, ImportedFile] = {}  # by resolved path, in import order
_BY_MODULE: dict[str, ImportedFile] = {}


def _module_name(path: Path) -> str:
    """Stable per path, so that every process (and Numba's cache) gives the same file the same module."""
    tag = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    stem = "".join(c if c.isalnum() else "_" for c in path.stem)
    return f"nntoolbox_import_{stem}_{tag}"


def _cause(e: BaseException, path: Path) -> str:
    """The first line of an exception, with the line of ``path`` it came from."""
    if isinstance(e, SyntaxError):
        return f"SyntaxError: {e.msg} (line {e.lineno})"
    lines = [f.lineno for f in traceback.extract_tb(e.__traceback__) if Path(f.filename) == path]
    return f"{type(e).__name__}: {first_line(e)}" + (f" (line {lines[-1]})" if lines else "")


def import_file(path: str | Path) -> ImportedFile:
    """Run the Python file ``path`` as a module (its registrations take effect) and record it.

    Importing the same file again is a no-op; a file whose content changed since
    it was imported is refused (its names are registered already).  ``ValueError``
    for a missing or non-``.py`` file or changed content; ``ImportError`` naming
    the file and the first line of the cause when running it fails.
    """
    given = Path(path)
    if given.suffix != ".py":
        raise ValueError(f"{given}: not a Python file (.py)")
    try:
        resolved = given.resolve(strict=True)
        source = resolved.read_bytes()
    except OSError as e:
        raise ValueError(f"{given}: cannot read it ({e.strerror or e})") from None
    sha = hashlib.sha256(source).hexdigest()
    known = _IMPORTED.get(resolved)
    if known is not None:
        if known.sha256 != sha:
            raise ValueError(f"{resolved}: changed since it was imported in this process (its names are "
                             "registered already); start a new Python process to use the new version")
        return known
    record = ImportedFile(resolved, sha, _module_name(resolved))
    spec = importlib.util.spec_from_file_location(record.module, resolved)
    module = importlib.util.module_from_spec(spec)
    sys.modules[record.module] = module  # before running it: pickling and registering_origin find it
    _BY_MODULE[record.module] = record
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as e:  # noqa: BLE001 - any error of a student's file, in one line
        del sys.modules[record.module], _BY_MODULE[record.module]
        raise ImportError(f"{resolved}: {_cause(e, resolved)}", path=str(resolved)) from e
    _IMPORTED[resolved] = record
    return record


def imported_files() -> list[ImportedFile]:
    """The files :func:`import_file` ran in this process, in order."""
    return list(_IMPORTED.values())


def registering_origin() -> Origin:
    """Called by ``register_optimizer``/``register_activation``: the module that called them (importing it
    again registers the name again, wherever the functions themselves live)."""
    module = sys._getframe(2).f_globals.get("__name__") or MAIN
    record = _BY_MODULE.get(module)
    if record is not None:
        return Origin(module, str(record.path), record.sha256)
    return Origin(module)


def _entry(kind: str, name: str) -> Any:
    return next((e for key, e in REGISTRIES[kind].items() if key.lower() == name.lower()), None)


def origins_for(options: Iterable[dict[str, Any]], *, travel: bool = True) -> tuple[Origin, ...]:
    """The origins of the registered names that ``options`` (``nn_create`` options, Python spelling) use.

    ``travel``: refuse (``ValueError``) a name registered in ``__main__``, which
    no worker process can re-register."""
    found: dict[Origin, None] = {}
    for config in options:
        for option, kind in REGISTERED_OPTIONS.items():
            value = config.get(option)
            entry = _entry(kind, value) if isinstance(value, str) else None
            origin = getattr(entry, "origin", None)
            if origin is None:
                continue
            if travel and not origin.travels:
                raise ValueError(f"{kind} {entry.name!r} was registered in __main__ (a notebook cell or the "
                                 "script being run): worker processes cannot re-register it.  Put it in a .py "
                                 "file and load it with nntoolbox.plugins.import_file(path) (or import it as a "
                                 "module), or use one process (n_jobs=1)")
            found[origin] = None
    return tuple(found)


def load_origins(origins: Iterable[Origin]) -> None:
    """Import each origin in this process (a worker): an imported file by its path, a module by name.
    A file whose SHA-256 differs from the one the parent ran is refused (``ImportError``)."""
    for origin in origins:
        if not origin.travels:
            continue
        if origin.file is None:
            importlib.import_module(origin.module)
            continue
        record = import_file(origin.file)
        if record.sha256 != origin.sha256:
            raise ImportError(f"{origin.file}: differs here from the file the parent process imported "
                              f"(SHA-256 {record.sha256[:12]} vs {origin.sha256[:12]})", path=origin.file)

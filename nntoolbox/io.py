"""Saving and loading networks: ``.npz`` and MATLAB-readable ``.mat``.

A ``.mat`` file holds one struct (variable ``nn``) with the course's field
names and 1xL cell arrays for ``W``, ``b`` ..., so the course's MATLAB code can
``load`` it and call ``nn_predict``; a network saved by the course code
(MATLAB ``save net.mat nn``) loads here and predicts identically.

Saved: the weights, batch-norm statistics, optimizer state (``vW``, ``rW``,
``sW`` ...), ``AdamTime``, ``vecNum``, the cost history, every ``nn_create``
option, the dropout mask counter and the input z-score ``input_mean``/``input_std``
(1 x inputs rows, when the network carries them), so a loaded network trains on exactly as
the original would given the same batch order (``option['order']``).  Not
saved: the batch-shuffling random generator (a loaded network gets a fresh
one) and transient fields (``a``, ``theta``, gradients).

Loading treats a file as data (:mod:`nntoolbox.safeio`): only the network's fields are read, each array's
declared shape is checked against the network's ``size``, the file and the memory check before it is
allocated; complex arrays and unknown ``nntoolbox_format`` versions are refused; every error is a
``ValueError`` naming the file.
"""
from __future__ import annotations

import glob
import json
import os
import tempfile
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np
import scipy.io

from .create import nn_create
from .network import PARAM_GROUPS, Network
from .optimizers import OPTIMIZERS
from .options import OPTIONS, check_number
from .preprocessing import INPUT_FIELDS, set_input_normalization
from .safeio import NpzArchive, quote

def _option_fields() -> tuple[str, ...]:
    """``nn_create`` options stored as struct fields: course ones, quirk switches, dtype, and every
    registered optimizer's hyper-parameters (read at each call: registries grow)."""
    return tuple(k for k in OPTIONS if k not in ("textbook", "seed"))


def _cell_fields() -> tuple[str, ...]:
    """Per-layer fields: parameters, batch-norm statistics, every registered optimizer's state slots."""
    prefixes = dict.fromkeys(p for o in OPTIMIZERS.values() for p in o.slots)
    return ("W", "b", "Gamma", "Beta", "E", "S", *(p + g for p in prefixes for g in PARAM_GROUPS))


def _scalar_fields() -> tuple[str, ...]:
    """Course scalars (grad_squared and r are unused, kept so the struct matches the course's) and every
    registered optimizer's step counter (AdamTime ...)."""
    counters = dict.fromkeys(o.counter for o in OPTIMIZERS.values() if o.counter is not None)
    return ("vecNum", *counters, "encoder", "grad_squared", "r")


# Python-only integer state: struct field -> network key (MATLAB fields cannot start with '_')
_INT_FIELDS = {"dropout_seed": "_dropout_seed", "dropout_step": "_dropout_step"}  # network attributes
_NPZ_FORMAT = 1
_MAX_DEPTH = 10_000  # layers in a size vector read from a file


# ------------------------------------------------------------ struct <-> Network
def _struct_fields(s: Any) -> dict[str, Any]:
    """Field dict of a loadmat struct (1x1 record array, its element, or a
    ``struct_as_record=False`` object) or of a plain mapping."""
    if isinstance(s, np.ndarray) and s.dtype.names:
        if s.size != 1:
            raise ValueError(f"expected one network struct, got a struct array of shape {s.shape}")
        s = s.reshape(-1)[0]
    if isinstance(s, np.void) and s.dtype.names:
        return {k: s[k] for k in s.dtype.names}
    if hasattr(s, "_fieldnames"):  # scipy.io.matlab.mat_struct
        return {k: getattr(s, k) for k in s._fieldnames}
    if isinstance(s, Mapping):
        return dict(s)
    raise ValueError(f"not a network struct: got {type(s).__name__}")


def _scalar(v: Any) -> Any:
    """Unwrap loadmat's 1x1 arrays, object wrappers and 1-element string arrays."""
    while isinstance(v, np.ndarray) and v.dtype == object and v.size == 1:
        v = v.item()
    if isinstance(v, np.ndarray):
        if v.dtype.kind == "U":
            return str(v.item()) if v.size == 1 else ""
        if v.size == 1:
            return v.item()
    return v.item() if isinstance(v, np.generic) else v


def _cells(v: Any, field: str) -> list[np.ndarray]:
    """A MATLAB cell array (1xL object array) as a list of 2-D float arrays."""
    while isinstance(v, np.ndarray) and v.dtype == object and v.ndim == 0:
        v = v.item()
    if isinstance(v, np.ndarray) and v.dtype == object:
        items = list(v.ravel())
    elif isinstance(v, (list, tuple)):
        items = list(v)
    else:  # loadmat(squeeze_me=True) turns a 1x1 cell into its content
        items = [v]
    return [np.atleast_2d(_real(c, f"{field}{{{k + 1}}}")) for k, c in enumerate(items)]


def _real(v: Any, what: str) -> np.ndarray:
    """``v`` as a float array; complex values are refused, not cut to their real part."""
    a = np.asarray(v)
    if np.iscomplexobj(a):
        raise ValueError(f"{what} holds complex numbers; a network's arrays are real")
    return np.asarray(a, dtype=float)


def _fit(src: np.ndarray, shape: tuple[int, ...], what: str) -> np.ndarray:
    """``src`` in ``shape``; only vectors may change orientation (squeezed or row biases)."""
    if src.shape == shape:
        return src
    if src.size == int(np.prod(shape)) and 1 in src.shape and 1 in shape:
        return src.reshape(shape)
    raise ValueError(f"{what} has shape {src.shape}, expected {shape}")


def from_matlab_struct(s: Any) -> Network:
    """Network from a MATLAB ``nn`` struct as returned by ``scipy.io.loadmat``
    (``loadmat(f)['nn']``) or from a plain ``dict`` of its fields.

    Needs at least ``size``, ``W`` and ``b``; missing options take their
    ``nn_create`` defaults.  Raises ValueError when the fields do not describe
    a network (wrong cell counts or shapes, invalid option values).
    """
    s = _struct_fields(s)
    missing = [f for f in ("size", "W", "b") if f not in s]
    if missing:
        raise ValueError(f"not a network: the struct lacks the field(s) {', '.join(missing)} "
                         f"(fields: {quote(', '.join(map(str, sorted(s)))) or 'none'})")
    opts = {k: _scalar(s[k]) for k in _option_fields() if k in s}
    for k, v in list(opts.items()):
        if isinstance(v, str) and v == "" and isinstance(OPTIONS[k].default, str):
            del opts[k]  # MATLAB '' -> default
    try:
        with warnings.catch_warnings():  # creation already warned about e.g. ignored dropout
            warnings.simplefilter("ignore")
            nn = nn_create(_real(_scalar(s["size"]), "size").ravel(), **opts)
    except TypeError as e:
        raise ValueError(f"invalid network field: {e}") from None
    if nn["batch_normalization"] and not {"E", "S"} <= set(s):
        raise ValueError("the network uses batch normalization but the struct lacks its statistics E and S "
                         "(a network saved by the course's nn_create/nn_train has them)")
    for field in _cell_fields():
        if field in s and field in nn:
            vals = _cells(s[field], field)
            if len(vals) != len(nn[field]):
                raise ValueError(f"field {field} has {len(vals)} cells; the network has {len(nn[field])} layers")
            for k, (dst, src) in enumerate(zip(nn[field], vals)):
                what = f"{field}{{{k + 1}}}"
                if not np.all(np.isfinite(src)):
                    raise ValueError(f"{what} contains NaN or inf")
                dst[...] = _fit(src, dst.shape, what)
    for field in (*_scalar_fields(), "cost"):
        if field in s and (field in nn or field == "encoder"):
            _set_loaded(nn, field, _scalar(s[field]))
    for field, attr in _INT_FIELDS.items():
        if field in s:
            setattr(nn, attr, check_number(_scalar(s[field]), f"field {field}", lo=0, hi=2 ** 64, hi_open=True,
                                           integer=True))
    if any(f in s for f in INPUT_FIELDS):  # input z-score (nntoolbox.preprocessing): both or neither
        nn = set_input_normalization(nn, *(s.get(f) for f in INPUT_FIELDS))
    return nn


def _set_loaded(nn: Network, field: str, value: Any) -> None:
    """``nn.field = value`` with the network's own checks; errors name the field."""
    if isinstance(value, np.ndarray) and value.size == 0 and field != "cost":
        raise ValueError(f"field {field} is empty (MATLAB []); expected a number")
    try:
        nn[field] = value
    except (TypeError, ValueError) as e:
        raise ValueError(f"field {field}: {e}") from None


def to_matlab_struct(nn: Network) -> dict[str, Any]:
    """The fields of a MATLAB ``nn`` struct (cell arrays as 1xL object arrays
    of 2-D doubles), ready for ``scipy.io.savemat({'nn': ...})``."""
    out: dict[str, Any] = {"size": np.asarray(nn["size"], dtype=float)[None, :], "depth": float(nn["depth"])}
    for k in _option_fields():
        if k in nn:
            v = nn[k]
            out[k] = float(v) if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else v
    for field in _cell_fields():
        if field in nn:
            cell = np.empty((1, len(nn[field])), dtype=object)
            for i, a in enumerate(nn[field]):
                cell[0, i] = np.asarray(a, dtype=float)
            out[field] = cell
    for field in _scalar_fields():
        if field in nn:
            out[field] = float(nn[field])
    for field, attr in _INT_FIELDS.items():
        out[field] = np.int64(getattr(nn, attr))  # int64: a float would round the 63-bit seed
    out["cost"] = np.asarray(nn["cost"], dtype=float).ravel()[None, :]
    out.update({f: np.asarray(nn[f], dtype=float).reshape(1, -1) for f in INPUT_FIELDS if f in nn})
    return out


# ---------------------------------------------------------------- file formats
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(path: str | Path, mode: str = "w", **open_kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside ``path`` and rename it over ``path`` when the
    block ends without error, so readers (and a resumed run) never see a
    half-written file; on error the temporary file is removed, and temporary files that killed
    writers (``kill -9``) left beside ``path`` are removed by the next write to it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(path)
    # the temporary file is in the same directory, so os.replace is an atomic rename; its name holds
    # the pid, so that a later write can tell a killed writer's leftover from a running one's file
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a saved file gets the usual permissions
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_npz(f: Any, fields: dict[str, Any]) -> None:
    meta = {k: (v.item() if isinstance(v, np.generic) else v)
            for k, v in fields.items() if not isinstance(v, np.ndarray)}
    meta["nntoolbox_format"] = _NPZ_FORMAT
    cells = {f"{k}__{i}": a for k in _cell_fields() if k in fields for i, a in enumerate(fields[k][0])}
    inputs = {k: fields[k] for k in INPUT_FIELDS if k in fields}
    np.savez_compressed(f, __meta__=json.dumps(meta), size=fields["size"], cost=fields["cost"], **cells, **inputs)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # another user's process, or no such call (Windows): assume alive
        return True
    return True


def _remove_stale_temps(path: Path) -> None:
    """Delete ``.<name>.<pid>.<random>.tmp`` files that writers killed mid-write left next to ``path``."""
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:-len(".tmp")].split(".")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            tmp.unlink(missing_ok=True)


def nn_save(nn: Network, path: str | Path) -> Path:
    """Save to ``.npz`` or ``.mat`` (chosen by the extension); returns the path.

    The ``.mat`` holds the struct ``nn`` that MATLAB's ``load`` gives back.
    The file is written to a temporary name and renamed, so an interrupted
    save never leaves a half-written file in place of a previous one; temporary
    files of saves that were killed are removed by the next save to that path.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".mat", ".npz"):
        raise ValueError(f"nn_save: unknown extension {path.suffix!r}; use .npz or .mat")
    fields = to_matlab_struct(nn)
    with atomic_write(path, "wb") as f:  # a file object: numpy would append '.npz' to 'x.NPZ'
        if suffix == ".mat":
            scipy.io.savemat(f, {"nn": fields}, do_compression=True)
        else:
            _write_npz(f, fields)
    return path


def _read_npz(path: Path) -> dict[str, Any]:
    """The struct fields of a saved network; only the members that are network fields are read, each
    after its declared shape is checked against the network's ``size``, the file and the memory check."""
    with NpzArchive(path) as z:
        names = z.names
        if "__meta__" not in names:
            raise ValueError(f"{path} is an .npz file but not a saved network (no __meta__ entry; "
                             f"arrays: {quote(', '.join(sorted(names))) or 'none'})")
        s = _npz_meta(path, z.read("__meta__", kinds="U", max_size=1))
        if "size" not in names:
            raise ValueError(f"{path}: not a network: no size array")
        s["size"] = size = z.read("size", max_size=_MAX_DEPTH)
        largest = _largest_layer(path, size)
        groups: dict[str, dict[int, np.ndarray]] = {}
        cell_fields = _cell_fields()
        for key in names:
            field, sep, i = key.rpartition("__")
            if sep and field in cell_fields and i.isdigit() and len(i) < 6:
                groups.setdefault(field, {})[int(i)] = z.read(key, max_size=largest)
            elif key in INPUT_FIELDS:
                s[key] = z.read(key, max_size=largest)
            elif key == "cost":
                s[key] = z.read(key)
    for field, cells in groups.items():
        if sorted(cells) != list(range(len(cells))):
            raise ValueError(f"{path}: corrupt network: cells of {field} are {quote(sorted(cells))}")
        s[field] = [cells[i] for i in range(len(cells))]
    return s


def _npz_meta(path: Path, text: np.ndarray) -> dict[str, Any]:
    """The JSON object of scalar fields, of a format version this code knows."""
    try:
        s = json.loads(str(text))
    except (ValueError, RecursionError) as e:
        raise ValueError(f"{path}: corrupt network metadata ({quote(str(e))})") from None
    if not isinstance(s, dict):
        raise ValueError(f"{path}: corrupt network metadata (expected a JSON object, got {type(s).__name__})")
    version = s.pop("nntoolbox_format", _NPZ_FORMAT)
    if version != _NPZ_FORMAT:
        raise ValueError(f"{path}: saved in network file format {quote(version, 40)}; this nntoolbox reads "
                         f"format {_NPZ_FORMAT} (a newer nntoolbox wrote it? upgrade)")
    return s


def _largest_layer(path: Path, size: np.ndarray) -> int:
    """Most elements any per-layer array of a network of ``size`` can have."""
    sizes = np.asarray(size, dtype=float).ravel()
    if sizes.size < 2:
        raise ValueError(f"{path}: size must list at least two positive layer sizes; got {quote(sizes.tolist())}")
    # floats here: a fractional size is refused by nn_create, with the network's other checks
    sizes = [int(check_number(s, f"{path}: a layer size", lo=1, hi=2 ** 31, hi_open=True)) for s in sizes]
    return max(max(a * b for a, b in zip(sizes[:-1], sizes[1:])), sum(sizes))


def _read_mat(path: Path, variable: str | None) -> Any:
    try:
        data = scipy.io.loadmat(path)
    except NotImplementedError as e:  # scipy's message for v7.3 (HDF5) files
        raise ValueError(f"{path}: MATLAB v7.3 (HDF5) .mat files are not supported; "
                         "re-save in MATLAB with save(..., '-v7')") from e
    except Exception as e:  # scipy raises assorted types for foreign or truncated files
        raise ValueError(f"{path} is not a readable MATLAB .mat file ({type(e).__name__}: {quote(str(e))})") from None
    names = [k for k in data if not k.startswith("__")]
    if variable is not None:
        if variable not in data:
            raise ValueError(f"{path} has no variable {quote(repr(variable), 60)} (variables: "
                             f"{quote(', '.join(names)) or 'none'})")
        return data[variable]
    structs = [k for k in names if isinstance(data[k], np.ndarray) and data[k].dtype.names]
    if "nn" in structs:
        return data["nn"]
    nets = [k for k in structs if {"size", "W"} <= set(data[k].dtype.names)]
    if len(nets) == 1:
        return data[nets[0]]
    if not nets:
        raise ValueError(f"{path} holds no network struct (variables: {quote(', '.join(names)) or 'none'})")
    raise ValueError(f"{path} holds several network structs ({quote(', '.join(nets))}); "
                     "choose one with nn_load(path, variable=...)")


def nn_load(path: str | Path, variable: str | None = None) -> Network:
    """Load a network saved by :func:`nn_save` or by the course's MATLAB code
    (``save net.mat nn``).

    The format is detected from the file's contents.  In a ``.mat`` file the
    struct ``nn`` is used, else the only struct with ``size`` and ``W``
    fields, else the one named by ``variable``.  Raises FileNotFoundError for
    a missing file and ValueError for one that is corrupt or holds no network.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such network file: {path}")
    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    with open(path, "rb") as f:
        head = f.read(128)
    suffix = path.suffix.lower()
    # contents first (names lie); the suffix decides only for headerless data
    is_npz = head.startswith(b"PK") or (suffix == ".npz" and not head.startswith(b"MATLAB"))
    if is_npz:
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{path}: corrupt or truncated .npz file (not a readable zip archive)")
        if variable is not None:
            raise ValueError("nn_load: variable= applies to .mat files only")
        struct: Any = _read_npz(path)
    elif head.startswith(b"MATLAB") or suffix == ".mat":  # MATLAB v4 files have no text header
        struct = _read_mat(path, variable)
    else:
        raise ValueError(f"{path} is neither an .npz nor a MATLAB .mat file")
    try:
        return from_matlab_struct(struct)
    except ValueError as e:
        raise ValueError(f"{path}: {quote(str(e), 300)}") from None
    except MemoryError as e:  # the memory check refused the network the file declares
        raise ValueError(f"{path}: the network it declares does not fit: {quote(str(e), 300)}") from None
    except (TypeError, KeyError, AttributeError, IndexError, OverflowError) as e:  # fields of an unexpected form
        raise ValueError(f"{path}: not a readable network ({type(e).__name__}: {quote(str(e))})") from None

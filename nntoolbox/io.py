"""Saving and loading networks: ``.npz`` and MATLAB-readable ``.mat``.

A ``.mat`` file holds one struct (variable ``nn``) with the course's field
names and 1xL cell arrays for ``W``, ``b`` ..., so the course's MATLAB code can
``load`` it and call ``nn_predict``; a network saved by the course code (a
struct with those fields) loads here and predicts identically.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io

from .create import nn_create
from .network import Network, sync_buffers
from .options import OPTIONS

# nn_create options stored as struct fields (course ones, then quirk switches)
_OPTION_FIELDS = tuple(k for k in OPTIONS if k not in ("textbook", "seed"))
_CELL_FIELDS = ("W", "b", "Gamma", "Beta", "E", "S", "vW", "vb", "vGamma", "vBeta",
                "rW", "rb", "rGamma", "rBeta", "sW", "sb", "sGamma", "sBeta")
_SCALAR_FIELDS = ("vecNum", "AdamTime", "encoder")


def _scalar(v: Any) -> Any:
    """Unwrap loadmat's 1x1 arrays and 1-element string arrays."""
    while isinstance(v, np.ndarray) and v.dtype == object and v.size == 1:
        v = v.item()
    if isinstance(v, np.ndarray):
        if v.dtype.kind == "U":
            return str(v.item()) if v.size == 1 else ""
        if v.size == 1:
            return v.item()
    return v


def _cells(v: Any) -> list[np.ndarray]:
    arr = np.asarray(v, dtype=object).ravel()
    return [np.atleast_2d(np.asarray(c, dtype=float)) for c in arr]


def from_matlab_struct(s: Any) -> Network:
    """Network from a MATLAB ``nn`` struct as returned by ``scipy.io.loadmat``
    (a 1x1 structured array) or from a plain ``dict`` of its fields."""
    if isinstance(s, np.ndarray) and s.dtype.names:
        s = {k: s[k][0, 0] if s[k].shape == (1, 1) else s[k] for k in s.dtype.names} \
            if s.shape == () else {k: s[0, 0][k] for k in s.dtype.names}
    if not isinstance(s, dict) or "size" not in s or "W" not in s:
        raise ValueError("not a network: the struct needs at least the fields 'size' and 'W'")
    sizes = np.asarray(s["size"], dtype=float).ravel()
    opts = {k: _scalar(s[k]) for k in _OPTION_FIELDS if k in s}
    for k, v in list(opts.items()):
        if isinstance(v, str) and v == "" and isinstance(OPTIONS[k].default, str):
            del opts[k]
        elif isinstance(v, float) and v.is_integer() and k == "batch_normalization":
            opts[k] = int(v)
    nn = nn_create(sizes, **opts)
    for field in _CELL_FIELDS:
        if field in s and field in nn:
            vals = _cells(s[field])
            if len(vals) != len(nn[field]):
                raise ValueError(f"field {field} has {len(vals)} cells; the network has {len(nn[field])} layers")
            for k, (dst, src) in enumerate(zip(nn[field], vals)):
                if src.size != dst.size:
                    raise ValueError(f"{field}{{{k + 1}}} has shape {src.shape}, expected {dst.shape}")
                dst[...] = src.reshape(dst.shape)
    for field in _SCALAR_FIELDS:
        if field in s and field in nn or field == "encoder" and field in s:
            nn[field] = type(nn.get(field, 0.0))(_scalar(s[field]))
    if "cost" in s:
        nn["cost"] = np.asarray(s["cost"], dtype=float).ravel()
    return nn


def to_matlab_struct(nn: Network) -> dict[str, Any]:
    """The fields of a MATLAB ``nn`` struct (cell arrays as 1xL object arrays)."""
    sync_buffers(nn)
    out: dict[str, Any] = {"size": np.asarray(nn["size"], dtype=float)[None, :], "depth": float(nn["depth"])}
    for k in _OPTION_FIELDS:
        if k in nn:
            v = nn[k]
            out[k] = float(v) if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else v
    for field in _CELL_FIELDS:
        if field in nn:
            cell = np.empty((1, len(nn[field])), dtype=object)
            for i, a in enumerate(nn[field]):
                cell[0, i] = np.asarray(a, dtype=float)
            out[field] = cell
    for field in _SCALAR_FIELDS:
        if field in nn:
            out[field] = float(nn[field])
    out["cost"] = np.asarray(nn["cost"], dtype=float)[None, :]
    return out


def nn_save(nn: Network, path: str | Path) -> Path:
    """Save to ``.npz`` or ``.mat`` (chosen by the extension)."""
    path = Path(path)
    fields = to_matlab_struct(nn)
    if path.suffix.lower() == ".mat":
        scipy.io.savemat(path, {"nn": fields}, do_compression=True)
    elif path.suffix.lower() == ".npz":
        meta = {k: v for k, v in fields.items() if isinstance(v, (str, float, int))}
        arrays = {f"{k}__{i}": a for k in _CELL_FIELDS if k in fields for i, a in enumerate(fields[k][0])}
        np.savez_compressed(path, __meta__=json.dumps(meta), size=fields["size"], cost=fields["cost"], **arrays)
    else:
        raise ValueError(f"nn_save: unknown extension {path.suffix!r}; use .npz or .mat")
    return path


def _load_npz(path: Path) -> Network:
    with np.load(path, allow_pickle=False) as z:
        if "__meta__" not in z.files:
            raise ValueError(f"{path} is an .npz file but not a saved network (no __meta__ entry)")
        s: dict[str, Any] = json.loads(str(z["__meta__"]))
        s["size"], s["cost"] = z["size"], z["cost"]
        for key in z.files:
            if "__" in key and not key.startswith("__"):
                field, i = key.rsplit("__", 1)
                s.setdefault(field, {})[int(i)] = z[key]
    for field in _CELL_FIELDS:
        if field in s:
            cells = s[field]
            arr = np.empty(len(cells), dtype=object)
            for i in range(len(cells)):
                arr[i] = cells[i]
            s[field] = arr
    return from_matlab_struct(s)


def _load_mat(path: Path) -> Network:
    try:
        data = scipy.io.loadmat(path)
    except Exception as e:  # scipy raises several types for foreign files
        raise ValueError(f"{path} is not a readable MATLAB .mat file: {e}") from None
    structs = {k: v for k, v in data.items()
               if not k.startswith("__") and isinstance(v, np.ndarray) and v.dtype.names}
    name = "nn" if "nn" in structs else next((k for k, v in structs.items() if "W" in v.dtype.names), None)
    if name is None:
        raise ValueError(f"{path} holds no network struct (variables: {', '.join(k for k in data if not k.startswith('__'))})")
    return from_matlab_struct(structs[name])


def nn_load(path: str | Path) -> Network:
    """Load a network saved by :func:`nn_save` or by the course's MATLAB code (``save net.mat nn``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such network file: {path}")
    head = path.read_bytes()[:128]
    if head.startswith(b"PK") and zipfile.is_zipfile(path):
        try:
            return _load_npz(path)
        except (KeyError, zipfile.BadZipFile, OSError) as e:
            raise ValueError(f"{path} is a corrupt .npz network: {e}") from None
    if head.startswith(b"MATLAB") or path.suffix.lower() == ".mat":
        return _load_mat(path)
    raise ValueError(f"{path} is neither an .npz nor a MATLAB .mat file")

"""Builds hostile files from fuzz cases (tests/test_fuzz.py) and loads them in its own process, whose memory
is capped (RLIMIT_DATA): a loader that allocates what a header declares dies here, not in pytest.

Reads a JSON list of cases on stdin; prints one JSON line per case: ``{"i": index, "ok": true}`` or
``{"i": index, "ok": false, "error": ...}``.  A case passes when the loader either loads the file correctly
(a network with buffers matching its layout and finite parameters; MNIST arrays of the documented shapes
in [0, 1]) or raises ValueError/TypeError naming the file, in a message of bounded length.

Case kinds: ``network`` (an ``nn_save``'d ``.npz`` for ``nn_load``), ``mnist`` (a Keras-style ``mnist.npz``
for ``load_mnist_npz``), both rewritten by ``ops``; ``idx`` (an IDX file for ``read_idx``, built from its
header fields).  Ops on archive members: ``shape``/``dtype`` (rewrite a member's .npy header), ``header``
(replace its header text), ``extra`` (add a member declaring any shape), ``drop``, ``meta`` (edit the
network's JSON metadata); on the file's bytes: ``truncate``, ``flip`` (bit flips).
"""
from __future__ import annotations

import ast
import gzip
import io
import json
import math
import resource
import sys
import tempfile
import traceback
import warnings
import zipfile
from pathlib import Path

import numpy as np

from nntoolbox import nn_create
from nntoolbox.datasets.mnist import load_mnist_npz, read_idx
from nntoolbox.io import nn_load, nn_save

ALLOWED = (ValueError, TypeError)
MEMORY_CAP = 1536 * 2 ** 20  # far below what the hostile headers declare
MESSAGE_CAP = 1500  # characters; bad input is quoted to ~200 of them


class Broken(AssertionError):
    """The loader accepted a file and gave a wrong result."""


# ------------------------------------------------------------------------- .npy members
def _split_npy(data: bytes) -> tuple[bytes, bytes]:
    """(header text, body) of a .npy member (version 1 or 2 as numpy writes them)."""
    major = data[6] if len(data) > 7 else 1
    width = 2 if major == 1 else 4
    n = int.from_bytes(data[8:8 + width], "little")
    return data[8 + width:8 + width + n], data[8 + width + n:]


def _npy(header: dict | str, body: bytes) -> bytes:
    """A .npy member: ``header`` is a dict (written as numpy writes it, whatever its values) or raw text."""
    if isinstance(header, dict):
        h = {"descr": "<f8", "fortran_order": False, "shape": (1,), **header}
        text = "{'descr': %r, 'fortran_order': %r, 'shape': %r, }" % (h["descr"], h["fortran_order"], h["shape"])
        text += " " * (-(len(text) + 11) % 64) + "\n"
    else:
        text = header
    raw = text.encode("latin-1", errors="replace")[:60000]
    return b"\x93NUMPY\x01\x00" + len(raw).to_bytes(2, "little") + raw + body


def _header_dict(data: bytes) -> dict:
    try:
        text, _ = _split_npy(data)
        h = ast.literal_eval(text.decode("latin-1").strip())
        return dict(h) if isinstance(h, dict) else {}
    except Exception:  # noqa: BLE001 - an earlier op garbled it
        return {}


def _meta_member(meta: dict) -> bytes:
    f = io.BytesIO()
    np.save(f, np.array(json.dumps(meta)))
    return f.getvalue()


def apply_member_ops(members: dict[str, bytes], ops: list) -> dict[str, bytes]:
    for op in ops:
        names = sorted(members)
        kind = op[0]
        if kind in ("shape", "dtype", "header", "drop") and not names:
            continue
        if kind == "shape":
            name = names[op[1] % len(names)]
            h = _header_dict(members[name])
            h["shape"] = tuple(op[2])
            members[name] = _npy(h, _split_npy(members[name])[1])
        elif kind == "dtype":
            name = names[op[1] % len(names)]
            h = _header_dict(members[name])
            h["descr"] = op[2]
            members[name] = _npy(h, _split_npy(members[name])[1])
        elif kind == "header":
            name = names[op[1] % len(names)]
            members[name] = _npy(op[2], _split_npy(members[name])[1])
        elif kind == "drop":
            del members[names[op[1] % len(names)]]
        elif kind == "extra":
            _, name, shape, descr, nbytes = op
            members[f"{name}.npy"] = _npy({"descr": descr, "fortran_order": False, "shape": tuple(shape)},
                                          bytes(min(nbytes, 2 ** 20)))
        elif kind == "meta" and "__meta__.npy" in members:
            try:
                meta = json.loads(str(np.load(io.BytesIO(members["__meta__.npy"]))))
            except Exception:  # noqa: BLE001 - garbled by an earlier op
                continue
            if isinstance(meta, dict):
                meta[op[1]] = op[2]
                members["__meta__.npy"] = _meta_member(meta)
    return members


def apply_byte_ops(data: bytes, ops: list) -> bytes:
    out = bytearray(data)
    for op in ops:
        if op[0] == "truncate" and out:
            del out[int(op[1] * len(out)):]
        elif op[0] == "flip" and out:
            for pos, bit in op[1]:
                out[int(pos * (len(out) - 1))] ^= 1 << bit
    return bytes(out)


def zip_members(members: dict[str, bytes], compress: bool) -> bytes:
    f = io.BytesIO()
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return f.getvalue()


def read_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


# ------------------------------------------------------------------------------- cases
def network_file(case: dict, tmp: Path) -> Path:
    nn = nn_create(case["sizes"], optimization_method=case["opt"], batch_normalization=case["bn"], seed=0)
    members = apply_member_ops(read_members(nn_save(nn, tmp / "src.npz")), case["ops"])
    path = tmp / "hostile_net.npz"
    path.write_bytes(apply_byte_ops(zip_members(members, case["compress"]), case["ops"]))
    return path


def check_network(path: Path) -> None:
    nn = nn_load(path)
    nn.checked_buffers()
    if not np.all(np.isfinite(nn._buf.params)):
        raise Broken("nn_load returned non-finite parameters")


def mnist_file(case: dict, tmp: Path) -> Path:
    rng = np.random.default_rng(0)
    n = case["n"]
    arrays = {"x_train": rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), "y_train": rng.integers(0, 10, n)}
    if case["test"]:
        arrays.update(x_test=arrays["x_train"][:2], y_test=arrays["y_train"][:2])
    np.savez(tmp / "src.npz", **arrays)
    members = apply_member_ops(read_members(tmp / "src.npz"), case["ops"])
    path = tmp / "hostile_mnist.npz"
    path.write_bytes(apply_byte_ops(zip_members(members, case["compress"]), case["ops"]))
    return path


def check_mnist(path: Path) -> None:
    data = load_mnist_npz(path)
    for split in ("train", "test"):
        x, labels = getattr(data, f"{split}_x"), getattr(data, f"{split}_labels")
        if x is None:
            continue
        if x.ndim != 2 or x.shape[1] != 784 or len(labels) != len(x) or not np.all(np.isfinite(x)):
            raise Broken(f"load_mnist_npz returned {split} x of shape {x.shape} with {len(labels)} labels")


def idx_file(case: dict, tmp: Path) -> Path:
    dims = case["dims"]
    head = bytes([case["zero"] >> 8 & 255, case["zero"] & 255, case["type"], len(dims) & 255])
    head += b"".join(d.to_bytes(4, "big") for d in dims)
    itemsize = {8: 1, 9: 1, 11: 2, 12: 4, 13: 4, 14: 8}.get(case["type"], 1)
    exact = math.prod(dims) * itemsize
    n = exact + case["extra"] if exact <= 2 ** 21 and case["extra"] is not None else case["bytes"]
    data = head + bytes(max(0, min(n, 2 ** 21)))
    if case["gz"]:
        data = gzip.compress(data, compresslevel=1)
    path = tmp / ("t10k-images-idx3-ubyte.gz" if case["gz"] else "t10k-images-idx3-ubyte")
    path.write_bytes(apply_byte_ops(data, case["ops"]))
    return path


def check_idx(path: Path) -> None:
    a = read_idx(path)
    if a.ndim < 1:
        raise Broken(f"read_idx returned an array of shape {a.shape}")


KINDS = {"network": (network_file, check_network), "mnist": (mnist_file, check_mnist), "idx": (idx_file, check_idx)}


def run_case(case: dict, tmp: Path) -> None:
    build, check = KINDS[case["kind"]]
    path = build(case, tmp)
    try:
        check(path)
    except ALLOWED as e:
        text = str(e)
        if path.name not in text:
            raise Broken(f"{type(e).__name__} does not name the file: {text[:500]}") from e
        if len(text) > MESSAGE_CAP:
            raise Broken(f"{type(e).__name__} of {len(text)} characters: {text[:300]}") from e


def main() -> None:
    resource.setrlimit(resource.RLIMIT_DATA, (MEMORY_CAP, MEMORY_CAP))
    warnings.simplefilter("ignore")  # loaders warn about odd pixel ranges: not the question here
    cases = json.loads(sys.stdin.read())
    with tempfile.TemporaryDirectory() as d:
        for i, case in enumerate(cases):
            tmp = Path(d) / str(i)
            tmp.mkdir()
            try:
                run_case(case, tmp)
                out = {"i": i, "ok": True}
            except BaseException:  # noqa: BLE001 - MemoryError, Broken, any other exception: reported
                out = {"i": i, "ok": False, "error": traceback.format_exc()[-3000:]}
            print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()

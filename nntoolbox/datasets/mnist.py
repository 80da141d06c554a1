"""MNIST loaders for every format students turn up with.

Everything is returned in the course's convention (the MATLAB demos do
``train_x = double(train_x)/255``):

* x: float64, one row per image, 784 columns in the IDX files' row-major
  28x28 pixel order.  Scaling rule: integer images (uint8 ...) are divided by
  255; float images are used as given (already scaled), with a warning when
  they fall outside [0, 1] (a float set saved in 0..255 must be divided by the
  caller: the loader does not guess from the largest value);
* y: one-hot float64, N x 10;
* labels: int64 vector of digits 0..9.

Supported layouts (``load_mnist`` detects which one ``path`` is):

1. the course's ``mnist_uint8.mat`` (train_x, train_y, test_x, test_y as uint8);
2. a directory with the IDX files ``train-images-idx3-ubyte[.gz]`` etc.;
3. the folder tree read by the course's ``processData.m``:
   ``<root>/train/<digit>/*.png`` and ``<root>/test/<digit>/*.png`` (or .jpg,
   .bmp, .gif, .tif, .webp, .pgm: any format Pillow reads; other files are
   skipped with a warning naming them);
4. Keras' ``mnist.npz`` (x_train, y_train, x_test, y_test).
"""
from __future__ import annotations

import gzip
import math
import re
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from ..labels import one_hot
from ..safeio import MAX_RATIO, NpzArchive, check_declared
from ..userwarn import warn

__all__ = [
    "MnistData",
    "one_hot",
    "load_mnist",
    "read_idx",
    "load_mnist_mat",
    "load_mnist_idx_dir",
    "load_mnist_folder",
    "load_mnist_npz",
    "IMAGE_MAGIC",
    "LABEL_MAGIC",
]

SIDE = 28
N_PIXELS = SIDE * SIDE
N_CLASSES = 10
IMAGE_MAGIC = 2051  # 0x00000803: uint8, 3 dimensions
LABEL_MAGIC = 2049  # 0x00000801: uint8, 1 dimension

# IDX type byte -> big-endian numpy dtype (per the format's published spec).
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_IDX_STEMS = {
    ("train", "images"): ("train-images", "idx3-ubyte"),
    ("train", "labels"): ("train-labels", "idx1-ubyte"),
    ("test", "images"): ("t10k-images", "idx3-ubyte"),
    ("test", "labels"): ("t10k-labels", "idx1-ubyte"),
}

_LAYOUT_HELP = """\
Put MNIST in one of these layouts and pass its path:
  1. the course's MATLAB file:  <dir>/mnist_uint8.mat
     (variables train_x, train_y, test_x, test_y as uint8; y one-hot)
  2. the IDX files (gzipped or not) in one directory:
       <dir>/train-images-idx3-ubyte.gz   <dir>/train-labels-idx1-ubyte.gz
       <dir>/t10k-images-idx3-ubyte.gz    <dir>/t10k-labels-idx1-ubyte.gz
     (only the two t10k files gives the test split alone)
  3. image folders as processData.m reads them (PNG, JPEG, BMP, ...):
       <dir>/train/0/*.png ... <dir>/train/9/*.png
       <dir>/test/0/*.png  ... <dir>/test/9/*.png
  4. Keras' <dir>/mnist.npz (arrays x_train, y_train, x_test, y_test)"""


@dataclass
class MnistData:
    """MNIST splits in the course's convention; a split absent from the source is None."""

    train_x: np.ndarray | None = None  # (N, 784) float64 in [0, 1]
    train_y: np.ndarray | None = None  # (N, 10) one-hot float64
    test_x: np.ndarray | None = None
    test_y: np.ndarray | None = None
    train_labels: np.ndarray | None = None  # (N,) int64 0..9
    test_labels: np.ndarray | None = None

    @classmethod
    def from_splits(cls, train: tuple | None, test: tuple | None) -> "MnistData":
        """Build from ``(x, labels)`` pairs (either may be None)."""
        out = cls()
        for name, split in (("train", train), ("test", test)):
            if split is not None:
                x, labels = split
                setattr(out, f"{name}_x", x)
                setattr(out, f"{name}_y", one_hot(labels, N_CLASSES))
                setattr(out, f"{name}_labels", labels)
        return out


# ----------------------------------------------------------------- helpers
def _to_x(images: np.ndarray, source: Path | str) -> np.ndarray:
    """Images (N x 784 or N x 28 x 28) -> N x 784 float64: integer dtypes / 255, floats as given
    (a warning when outside [0, 1]), the course's ``double(train_x)/255`` for its uint8 data."""
    a = np.asarray(images)
    if a.ndim == 3:
        if a.shape[1:] != (SIDE, SIDE):
            raise ValueError(f"{source}: images are {a.shape[1]}x{a.shape[2]}, expected {SIDE}x{SIDE}")
        a = a.reshape(a.shape[0], N_PIXELS)
    if a.ndim != 2 or a.shape[1] != N_PIXELS:
        raise ValueError(f"{source}: images have shape {a.shape}, expected (N, {N_PIXELS}) or (N, 28, 28)")
    if a.dtype.kind not in "uif":
        raise ValueError(f"{source}: images have non-numeric dtype {a.dtype}")
    # the dtype decides, not the values: one pixel at 1.0000001 must not rescale a whole [0, 1] set
    x = a / 255.0 if a.dtype.kind in "ui" else a.astype(np.float64)
    if a.dtype.kind == "f" and not np.isfinite(x).all():  # refused here, naming the file, not in nn_train
        row, col = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(f"{source}: image {row} has a NaN or infinite pixel (pixel {col}); pixels must be "
                         "finite numbers")
    if x.size and (x.min() < 0 or x.max() > 1):
        rule = "integer pixels are divided by 255" if a.dtype.kind in "ui" else \
            "float pixels are used as given; divide 0..255 data by 255 yourself"
        warn(f"{source}: pixel values span {x.min():g}..{x.max():g}, outside [0, 1] ({a.dtype} images: "
             f"{rule})", RuntimeWarning)
    return x


def _check_labels(labels: np.ndarray, source: Path | str) -> np.ndarray:
    """Validate a label vector (ints 0..9) and return it as int64."""
    a = np.asarray(labels).ravel()
    if a.dtype.kind not in "uif":
        raise ValueError(f"{source}: labels have non-numeric dtype {a.dtype}")
    if a.size and (np.any(a != np.round(a)) or a.min() < 0 or a.max() >= N_CLASSES):
        raise ValueError(f"{source}: labels must be integers 0..9, got range {a.min()}..{a.max()}")
    return a.astype(np.int64)


def _labels_from_y(y: np.ndarray, n: int, source: str) -> np.ndarray:
    """Accept one-hot N x 10 (the course's train_y) or a label vector."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == N_CLASSES and y.shape[0] == n:
        if not (np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1)):
            raise ValueError(f"{source}: one-hot labels must have exactly one 1 per row")
        return y.argmax(axis=1).astype(np.int64)
    if y.ndim == 2 and y.shape == (N_CLASSES, n) and n != N_CLASSES:
        return _labels_from_y(y.T, n, source)  # column-per-sample MATLAB layout
    if y.size == n and (y.ndim == 1 or 1 in y.shape):
        return _check_labels(y, source)
    raise ValueError(f"{source}: labels of shape {y.shape} do not match {n} images")


def _split_pair(x, y, source: str) -> tuple[np.ndarray, np.ndarray]:
    """(raw images, raw labels) -> (x in [0, 1], int labels), checking counts agree."""
    x = np.asarray(x)
    # MATLAB users sometimes keep one image per column (784 x N).
    if x.ndim == 2 and x.shape[0] == N_PIXELS and x.shape[1] != N_PIXELS:
        x = x.T
    xs = _to_x(x, source)
    return xs, _labels_from_y(y, xs.shape[0], source)


def _open_idx(path: Path) -> tuple[IO[bytes], int]:
    """The file as a stream (gunzipped when it starts with the gzip magic, whatever its name) and the
    most bytes that stream can hold (deflate expands at most ~1032:1)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return (gzip.open(path, "rb"), MAX_RATIO * size + 4096) if gz else (open(path, "rb"), size)


# --------------------------------------------------------------------- IDX
def read_idx(path: str | Path, expect_magic: int | None = None) -> np.ndarray:
    """Read one IDX file (``.gz`` or plain) into an array of its stored shape.

    Parameters
    ----------
    path : the IDX file.
    expect_magic : if given (``IMAGE_MAGIC`` = 2051 or ``LABEL_MAGIC`` = 2049), the
        file's magic number must equal it.

    Raises ValueError, naming the file, on a bad magic number, an unknown type
    code, a declared size the file cannot hold or memory cannot fit (checked before
    reading the data), or a data size that disagrees with the header (truncated / padded file).
    """
    path = Path(path)
    stream, most = _open_idx(path)
    try:
        with stream:
            head = stream.read(4)
            if len(head) < 4:
                raise ValueError(f"{path}: too short to be an IDX file ({len(head)} bytes)")
            magic = int.from_bytes(head, "big")
            if expect_magic is not None and magic != expect_magic:
                raise ValueError(f"{path}: bad magic number {magic} (0x{magic:08x}), expected {expect_magic}")
            zero, type_code, ndim = int.from_bytes(head[:2], "big"), head[2], head[3]
            if zero != 0 or type_code not in _IDX_DTYPES or ndim == 0:
                raise ValueError(f"{path}: not an IDX file (magic number {magic}, 0x{magic:08x})")
            dims = stream.read(4 * ndim)
            if len(dims) < 4 * ndim:
                raise ValueError(f"{path}: truncated IDX header")
            shape = tuple(int.from_bytes(dims[4 * i: 4 + 4 * i], "big") for i in range(ndim))
            dtype = _IDX_DTYPES[type_code]
            expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
            if math.prod(max(d, 1) for d in shape) * dtype.itemsize >= 2 ** 63:  # numpy cannot even shape it
                raise ValueError(f"{path}: the IDX header declares dimensions {shape} whose product overflows")
            check_declared(expected, most, path, f"the IDX header (shape {shape})")
            data = stream.read(expected + 1)  # one byte more tells trailing bytes
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"{path}: corrupt or truncated gzip data ({e})") from e
    if len(data) != expected:
        found = f"found {len(data)}" if len(data) < expected else "found more"
        what = "truncated" if len(data) < expected else "has trailing bytes"
        raise ValueError(f"{path}: {what}: header says shape {shape} ({expected} data bytes), {found}")
    arr = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize)
    return arr.reshape(shape).astype(dtype.newbyteorder("="))


def _find_idx(directory: Path, split: str, kind: str) -> Path | None:
    """Locate one IDX file, accepting the usual '-'/'.' spelling variants and .gz."""
    stem, suffix = _IDX_STEMS[(split, kind)]
    for sep in ("-", "."):
        for gz in (".gz", ""):
            p = directory / f"{stem}{sep}{suffix}{gz}"
            if p.is_file():
                return p
    return None


def load_mnist_idx_dir(directory: str | Path) -> MnistData:
    """Load the standard IDX files from ``directory`` (LeCun's distribution).

    A split is loaded when both its images and labels files are present; a
    directory with only ``t10k-*`` gives test data only.
    """
    directory = Path(directory)
    splits: dict[str, tuple | None] = {}
    for split in ("train", "test"):
        img, lab = _find_idx(directory, split, "images"), _find_idx(directory, split, "labels")
        if img is None and lab is None:
            splits[split] = None
            continue
        if img is None or lab is None:
            have, missing = (img, "images") if img is not None else (lab, "labels")
            raise ValueError(f"{have}: found without the matching {split} {missing} file in {directory}")
        images = read_idx(img, IMAGE_MAGIC)
        labels = read_idx(lab, LABEL_MAGIC)
        if images.shape[1:] != (SIDE, SIDE):
            raise ValueError(f"{img}: images are {images.shape[1]}x{images.shape[2]}, expected 28x28")
        if images.shape[0] != labels.shape[0]:
            raise ValueError(f"{img} has {images.shape[0]} images but {lab} has {labels.shape[0]} labels")
        splits[split] = (_to_x(images, img), _check_labels(labels, lab))
    if splits["train"] is None and splits["test"] is None:
        raise FileNotFoundError(f"no MNIST IDX files in {directory}\n{_LAYOUT_HELP}")
    return MnistData.from_splits(splits["train"], splits["test"])


# ---------------------------------------------------------------- .mat file
def load_mnist_mat(path: str | Path) -> MnistData:
    """Load the course's ``mnist_uint8.mat`` (``load mnist_uint8``).

    Rows of train_x / test_x are taken as-is (already N x 784); a split whose
    x/y pair is absent is None.
    """
    import scipy.io

    path = Path(path)
    try:
        mat = scipy.io.loadmat(path)
    except NotImplementedError as e:  # scipy's message for v7.3 (HDF5) files
        raise ValueError(f"{path}: MATLAB v7.3 (HDF5) .mat files are not supported; "
                         "re-save in MATLAB with save(..., '-v7')") from e
    except FileNotFoundError:
        raise
    except Exception as e:  # scipy raises assorted errors on foreign data
        raise ValueError(f"{path}: not a readable MATLAB .mat file ({e})") from e
    splits: dict[str, tuple | None] = {}
    for split in ("train", "test"):
        x, y = mat.get(f"{split}_x"), mat.get(f"{split}_y")
        if x is None and y is None:
            splits[split] = None
        elif x is None or y is None:
            raise ValueError(f"{path}: has {split}_{'x' if x is not None else 'y'} "
                             f"but not {split}_{'y' if x is not None else 'x'}")
        else:
            splits[split] = _split_pair(x, y, f"{path} ({split}_x/{split}_y)")
    if splits["train"] is None and splits["test"] is None:
        names = sorted(k for k in mat if not k.startswith("__"))
        raise ValueError(f"{path}: no train_x/train_y or test_x/test_y variables (found {names})")
    return MnistData.from_splits(splits["train"], splits["test"])


# ------------------------------------------------------------------- .npz
def load_mnist_npz(path: str | Path) -> MnistData:
    """Load Keras' ``mnist.npz`` (x_train (N,28,28) uint8, y_train (N,) ints, x_test, y_test); only those
    arrays are read, each after checking its declared size (:class:`nntoolbox.safeio.NpzArchive`)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    with NpzArchive(path) as npz:
        splits: dict[str, tuple | None] = {}
        for split in ("train", "test"):
            kx, ky = f"x_{split}", f"y_{split}"
            if kx not in npz.names and ky not in npz.names:
                splits[split] = None
            elif kx not in npz.names or ky not in npz.names:
                raise ValueError(f"{path}: has only one of {kx}/{ky}")
            else:
                splits[split] = _split_pair(npz.read(kx), npz.read(ky), f"{path} ({kx}/{ky})")
        if splits["train"] is None and splits["test"] is None:
            raise ValueError(f"{path}: no x_train/y_train or x_test/y_test arrays (found {sorted(npz.names)[:20]})")
    return MnistData.from_splits(splits["train"], splits["test"])


# ---------------------------------------------------------- image folders
#: Image files read in the folder layout (formats Pillow reads); other files are skipped with a warning.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"})

def _natural_key(p: Path) -> list:
    """Sort '2.png' before '10.png' (MATLAB's dir() would not, but it is what people expect)."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", p.name)]


def _read_image_gray(path: Path) -> np.ndarray:
    """One image as 28x28 uint8 gray; RGB(A)/palette images go through PIL's luma conversion, 16-bit
    gray is scaled to 8 bits (MATLAB's ``im2uint8``: / 257; PIL's conversion would clip at 255).
    The size is checked from the header, before decoding."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                if im.size != (SIDE, SIDE):
                    raise ValueError(f"{path}: image is {im.size[0]}x{im.size[1]}, expected 28x28")
                if im.mode.startswith("I"):  # 16-bit gray ('I;16', or 'I' as older Pillow reads it)
                    return _gray16_to_8(np.asarray(im), path)
                if im.mode == "F":
                    raise ValueError(f"{path}: floating-point images are not supported; save 8-bit gray images")
                return np.asarray(im.convert("L"))
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as e:
        raise ValueError(f"{path}: not a readable image ({e})") from e


def _gray16_to_8(a: np.ndarray, path: Path) -> np.ndarray:
    if a.size and (a.min() < 0 or a.max() > 65535):
        raise ValueError(f"{path}: pixel values span {a.min()}..{a.max()}; expected 16-bit gray (0..65535)")
    return np.round(a.astype(np.float64) / 257).astype(np.uint8)


def _digit_dirs(split_dir: Path) -> list[tuple[int, Path]]:
    return sorted((int(d.name), d) for d in split_dir.iterdir()
                  if d.is_dir() and d.name.isdigit() and int(d.name) < N_CLASSES)


def load_mnist_folder(root: str | Path) -> MnistData:
    """Load the image tree the course's ``processData.m`` reads.

    ``<root>/train/<digit>/*.png`` and ``<root>/test/<digit>/*.png``, digit
    folders ``0`` .. ``9``; JPEG, BMP ... (:data:`IMAGE_SUFFIXES`) are read
    too.  Other files, and digit folders without images, are reported in a
    warning by name.  Images are ordered by digit, then by file name
    (natural order); shuffle before training as the course does.
    """
    root = Path(root)
    splits: dict[str, tuple | None] = {}
    for split in ("train", "test"):
        split_dir = root / split
        if not split_dir.is_dir():
            splits[split] = None
            continue
        images, labels = [], []
        for digit, d in _digit_dirs(split_dir):
            entries = [p for p in d.iterdir() if not p.name.startswith(".")]
            files = sorted((p for p in entries if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                           key=_natural_key)
            skipped = sorted(p.name for p in entries if p not in files)
            if skipped or not files:
                names = ", ".join(skipped[:5]) + (", ..." if len(skipped) > 5 else "")
                warn(f"{d}: {len(files)} images read" + (f"; skipped {len(skipped)} entries that are not "
                     f"{'/'.join(sorted(IMAGE_SUFFIXES))} images: {names}" if skipped else ""), RuntimeWarning)
            images += [_read_image_gray(p) for p in files]
            labels += [digit] * len(files)
        if not images:
            raise ValueError(f"{split_dir}: no images in digit folders 0..9")
        splits[split] = (_to_x(np.stack(images), split_dir), np.asarray(labels, dtype=np.int64))
    if splits["train"] is None and splits["test"] is None:
        raise FileNotFoundError(f"no train/ or test/ folder in {root}\n{_LAYOUT_HELP}")
    return MnistData.from_splits(splits["train"], splits["test"])


# ----------------------------------------------------------- auto-detect
def _is_folder_layout(d: Path) -> bool:
    return any((d / s).is_dir() and _digit_dirs(d / s) for s in ("train", "test"))


def _sniff_file(path: Path) -> MnistData:
    """Pick a reader for a single file by its leading bytes (names lie; contents don't)."""
    with open(path, "rb") as f:
        head = f.read(128)
    if head.startswith(b"MATLAB"):
        return load_mnist_mat(path)
    if head.startswith(b"PK"):  # zip archive: .npz
        return load_mnist_npz(path)
    if re.match(r"(train|t10k)[-.](images|labels)[-.]idx[13]-ubyte", path.name):
        return load_mnist_idx_dir(path.parent)  # user pointed at one IDX file: load its directory
    if path.suffix.lower() == ".mat":  # pre-v5 MAT files have no text header
        return load_mnist_mat(path)
    raise ValueError(f"{path}: unrecognised MNIST file (not a .mat, .npz or IDX file)\n{_LAYOUT_HELP}")


def load_mnist(path: str | Path) -> MnistData:
    """Load MNIST from ``path``, detecting its layout (MATLAB: ``load mnist_uint8``).

    ``path`` may be ``mnist_uint8.mat``, ``mnist.npz``, one of the IDX files, or a
    directory holding any of: ``mnist_uint8.mat``, the IDX files, ``mnist.npz``,
    or ``train/<digit>/*.png`` + ``test/<digit>/*.png`` (checked in that order).

    Raises FileNotFoundError (with the expected layouts) when nothing is found,
    ValueError naming the file when a file is corrupt or not MNIST.
    """
    path = Path(path).expanduser()
    if path.is_file():
        return _sniff_file(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} does not exist\n{_LAYOUT_HELP}")
    if (path / "mnist_uint8.mat").is_file():
        return load_mnist_mat(path / "mnist_uint8.mat")
    if any(_find_idx(path, s, k) for s, k in _IDX_STEMS):
        return load_mnist_idx_dir(path)
    if (path / "mnist.npz").is_file():
        return load_mnist_npz(path / "mnist.npz")
    if _is_folder_layout(path):
        return load_mnist_folder(path)
    raise FileNotFoundError(f"no MNIST data found in {path}\n{_LAYOUT_HELP}")

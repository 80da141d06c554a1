"""MNIST loaders: tiny synthetic files in every supported layout, plus the real t10k set if present."""
import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from nntoolbox.datasets.mnist import (
    IMAGE_MAGIC, LABEL_MAGIC, MnistData, load_mnist, load_mnist_folder, load_mnist_idx_dir,
    load_mnist_mat, load_mnist_npz, read_idx,
)

REAL_MNIST = Path(__file__).resolve().parents[2] / "shared/data/mnist"


@pytest.fixture
def digits():
    """A few random 28x28 uint8 images per split with labels covering several digits."""
    rng = np.random.default_rng(0)
    return {
        "train": (rng.integers(0, 256, (7, 28, 28), dtype=np.uint8), np.array([0, 1, 2, 3, 9, 9, 5])),
        "test": (rng.integers(0, 256, (4, 28, 28), dtype=np.uint8), np.array([4, 8, 0, 7])),
    }


def idx_bytes(arr: np.ndarray, magic: int) -> bytes:
    return struct.pack(">I", magic) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.astype(np.uint8).tobytes()


def write_idx_dir(d: Path, digits, gz: bool, splits=("train", "test")) -> None:
    names = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
    for split in splits:
        images, labels = digits[split]
        for name, data in zip(names[split], (idx_bytes(images, IMAGE_MAGIC), idx_bytes(labels, LABEL_MAGIC))):
            if gz:
                (d / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (d / name).write_bytes(data)


def check(data: MnistData, digits, splits=("train", "test")) -> None:
    for split in ("train", "test"):
        x, y, labels = (getattr(data, f"{split}_{k}") for k in ("x", "y", "labels"))
        if split not in splits:
            assert x is None and y is None and labels is None
            continue
        images, want = digits[split]
        assert x.shape == (len(want), 784) and x.dtype == np.float64
        # Row-major 28x28 flattening, scaled exactly as double(x)/255.
        np.testing.assert_array_equal(x, images.reshape(len(want), 784) / 255.0)
        assert 0.0 <= x.min() and x.max() <= 1.0
        np.testing.assert_array_equal(labels, want)
        assert labels.dtype.kind == "i"
        assert y.shape == (len(want), 10) and y.dtype == np.float64
        np.testing.assert_array_equal(y.sum(axis=1), 1.0)
        np.testing.assert_array_equal(y.argmax(axis=1), want)


# ------------------------------------------------------------------ IDX
@pytest.mark.parametrize("gz", [True, False])
def test_idx_dir(tmp_path, digits, gz):
    write_idx_dir(tmp_path, digits, gz)
    check(load_mnist_idx_dir(tmp_path), digits)
    check(load_mnist(tmp_path), digits)
    # Pointing at one of the files loads its directory.
    check(load_mnist(next(tmp_path.iterdir())), digits)


def test_idx_test_only(tmp_path, digits):
    write_idx_dir(tmp_path, digits, gz=True, splits=("test",))
    check(load_mnist(tmp_path), digits, splits=("test",))


def test_read_idx_roundtrip(tmp_path, digits):
    images, labels = digits["train"]
    (tmp_path / "a").write_bytes(idx_bytes(images, IMAGE_MAGIC))
    out = read_idx(tmp_path / "a", IMAGE_MAGIC)
    assert out.shape == (7, 28, 28) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, images)


def test_bad_magic(tmp_path, digits):
    write_idx_dir(tmp_path, digits, gz=False)
    labels = tmp_path / "train-labels-idx1-ubyte"
    labels.write_bytes(idx_bytes(digits["train"][1], IMAGE_MAGIC))  # label file with the image magic
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte.*magic.*2049"):
        load_mnist(tmp_path)
    labels.write_bytes(b"\x12\x34\x56\x78" + b"\0" * 20)
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte"):
        read_idx(labels)


@pytest.mark.parametrize("gz", [True, False])
def test_truncated(tmp_path, digits, gz):
    write_idx_dir(tmp_path, digits, gz)
    name = "t10k-images-idx3-ubyte" + (".gz" if gz else "")
    f = tmp_path / name
    f.write_bytes(f.read_bytes()[:-50])  # chops image data (plain) or the gzip stream
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        load_mnist(tmp_path)


def test_count_mismatch(tmp_path, digits):
    write_idx_dir(tmp_path, digits, gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.array([1, 2]), LABEL_MAGIC))
    with pytest.raises(ValueError, match="4 images.*2 labels"):
        load_mnist(tmp_path)


def test_images_without_labels(tmp_path, digits):
    write_idx_dir(tmp_path, digits, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*labels"):
        load_mnist(tmp_path)


# ------------------------------------------------------------------ .mat
def test_mat(tmp_path, digits):
    eye = np.eye(10, dtype=np.uint8)
    mat = {}
    for split, (images, labels) in digits.items():
        mat[f"{split}_x"] = images.reshape(len(labels), 784)  # N x 784 uint8, as in mnist_uint8.mat
        mat[f"{split}_y"] = eye[labels]
    scipy.io.savemat(tmp_path / "mnist_uint8.mat", mat)
    check(load_mnist_mat(tmp_path / "mnist_uint8.mat"), digits)
    check(load_mnist(tmp_path / "mnist_uint8.mat"), digits)
    check(load_mnist(tmp_path), digits)


def test_mat_bad_onehot(tmp_path, digits):
    images, labels = digits["test"]
    y = np.eye(10, dtype=np.uint8)[labels]
    y[0, 5] = 1
    scipy.io.savemat(tmp_path / "m.mat", {"test_x": images.reshape(4, 784), "test_y": y})
    with pytest.raises(ValueError, match="m.mat.*one-hot"):
        load_mnist(tmp_path / "m.mat")


def test_mat_foreign(tmp_path):
    scipy.io.savemat(tmp_path / "other.mat", {"W": np.ones((3, 3))})
    with pytest.raises(ValueError, match=r"other\.mat.*train_x"):
        load_mnist(tmp_path / "other.mat")
    (tmp_path / "junk.mat").write_bytes(b"MATLAB 5.0 MAT-file" + b"\xff" * 20)
    with pytest.raises(ValueError, match=r"junk\.mat"):
        load_mnist(tmp_path / "junk.mat")


# ------------------------------------------------------------------ .npz
def test_npz(tmp_path, digits):
    np.savez(tmp_path / "mnist.npz", x_train=digits["train"][0], y_train=digits["train"][1].astype(np.uint8),
             x_test=digits["test"][0], y_test=digits["test"][1].astype(np.uint8))
    check(load_mnist_npz(tmp_path / "mnist.npz"), digits)
    check(load_mnist(tmp_path), digits)


def test_npz_bad_labels(tmp_path, digits):
    np.savez(tmp_path / "mnist.npz", x_test=digits["test"][0], y_test=np.array([1, 2, 3, 12]))
    with pytest.raises(ValueError, match=r"mnist\.npz.*0\.\.9"):
        load_mnist(tmp_path / "mnist.npz")


# ---------------------------------------------------------- image folders
def test_folder(tmp_path, digits):
    from PIL import Image

    for split, (images, labels) in digits.items():
        # Write in label order so the loader's digit-then-name ordering matches the expected arrays.
        order = np.argsort(labels, kind="stable")
        digits[split] = (images[order], labels[order])
        for i, (im, lab) in enumerate(zip(images[order], labels[order])):
            d = tmp_path / split / str(lab)
            d.mkdir(parents=True, exist_ok=True)
            img = Image.fromarray(im)  # 2-D uint8 -> mode "L"
            # One RGB file per split to exercise the gray conversion (gray->RGB->gray is lossless).
            (img.convert("RGB") if i == 0 else img).save(d / f"{i}.png")
    check(load_mnist_folder(tmp_path), digits)
    check(load_mnist(tmp_path), digits)


def test_folder_bad_image(tmp_path):
    d = tmp_path / "test" / "3"
    d.mkdir(parents=True)
    (d / "x.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"x\.png"):
        load_mnist(tmp_path)


def test_folder_of_jpegs_is_read(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(1)
    flat = rng.choice([0, 255], size=(2, 1, 1)).astype(np.uint8).repeat(28, 1).repeat(28, 2)  # survives JPEG
    for i, (im, digit) in enumerate(zip(flat, (3, 7))):
        d = tmp_path / "train" / str(digit)
        d.mkdir(parents=True)
        Image.fromarray(im).save(d / f"{i}.jpg", quality=95)
    data = load_mnist(tmp_path)
    np.testing.assert_array_equal(data.train_labels, [3, 7])
    np.testing.assert_allclose(data.train_x, flat.reshape(2, 784) / 255.0, atol=2 / 255)


def test_folder_reports_files_it_does_not_read(tmp_path, digits):
    from PIL import Image

    good, bad = tmp_path / "train" / "1", tmp_path / "train" / "2"
    good.mkdir(parents=True)
    bad.mkdir(parents=True)
    Image.fromarray(digits["train"][0][0]).save(good / "a.png")
    (bad / "scan.heic").write_bytes(b"\0" * 10)
    with pytest.warns(RuntimeWarning, match=r"train/2: 0 images read; skipped 1 entries .*: scan\.heic"):
        data = load_mnist(tmp_path)
    np.testing.assert_array_equal(data.train_labels, [1])


# ------------------------------------------------------------------ scaling rule
def test_float_images_in_unit_range_are_used_as_given(tmp_path, digits):
    x = digits["test"][0].astype(np.float64) / 255
    x[0, 0, 0] = 1.0000001  # a rounding slip must not rescale the whole set
    np.savez(tmp_path / "mnist.npz", x_test=x, y_test=digits["test"][1])
    with pytest.warns(RuntimeWarning, match=r"pixel values span 0\.\.1, outside \[0, 1\].*used as given"):
        data = load_mnist(tmp_path)
    np.testing.assert_array_equal(data.test_x, x.reshape(len(x), 784))


def test_float_images_in_0_255_are_not_guessed(tmp_path, digits):
    x = digits["test"][0].astype(np.float32)
    np.savez(tmp_path / "mnist.npz", x_test=x, y_test=digits["test"][1])
    with pytest.warns(RuntimeWarning, match=r"span 0\.\.255.*divide 0\.\.255 data by 255 yourself"):
        data = load_mnist(tmp_path)
    assert data.test_x.max() == 255


def test_integer_images_are_divided_by_255(tmp_path, digits):
    np.savez(tmp_path / "mnist.npz", x_test=digits["test"][0].astype(np.int64), y_test=digits["test"][1])
    check(load_mnist(tmp_path), digits, splits=("test",))


# --------------------------------------------------------------- missing
def test_missing(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        load_mnist(tmp_path)
    msg = str(e.value)
    for needle in ("mnist_uint8.mat", "train-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                   "train/0/*.png", "mnist.npz"):
        assert needle in msg
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_mnist(tmp_path / "nope")


def test_foreign_file(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"notes\.txt"):
        load_mnist(tmp_path / "notes.txt")


# ------------------------------------------------------------ real data
@pytest.mark.skipif(not (REAL_MNIST / "t10k-images-idx3-ubyte.gz").is_file(), reason="real MNIST not available")
def test_real_t10k():
    data = load_mnist(REAL_MNIST)
    assert data.test_x.shape == (10000, 784)
    assert data.test_y.shape == (10000, 10)
    assert set(np.unique(data.test_labels)) == set(range(10))
    assert 0.0 == data.test_x.min() and data.test_x.max() == 1.0


# ------------------------------------------------------------ issue 21 item 12: a file is data, not instructions
def test_gz_declaring_gigabytes_is_refused_before_allocating(tmp_path):
    header = struct.pack(">I", IMAGE_MAGIC) + struct.pack(">3I", 3_000_000, 28, 28)  # 2.4 GB of pixels
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(header + bytes(2 * 2 ** 20)))  # 2 MiB of zeros: a tiny .gz
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz.*declares"):
        read_idx(path, IMAGE_MAGIC)


def test_idx_dimensions_whose_product_overflows_name_the_file(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(struct.pack(">I", IMAGE_MAGIC) + struct.pack(">3I", 2 ** 31, 2 ** 31, 2 ** 31) + bytes(100))
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.*declares"):
        read_idx(path, IMAGE_MAGIC)
    path.write_bytes(struct.pack(">I", IMAGE_MAGIC) + struct.pack(">3I", 0, 2 ** 32 - 1, 2 ** 32 - 1))  # 0 bytes
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.*overflows"):
        read_idx(path, IMAGE_MAGIC)


def test_huge_png_is_a_value_error(tmp_path):
    from PIL import Image
    d = tmp_path / "train" / "3"
    d.mkdir(parents=True)
    Image.new("1", (20000, 20000)).save(d / "big.png")  # 1-bit: a small file declaring 400 M pixels
    with pytest.raises(ValueError, match=r"big\.png"):
        load_mnist_folder(tmp_path)


@pytest.mark.parametrize("mode, suffix", [("I;16", "png"), ("I", "tif")])
def test_16_bit_pngs_are_scaled_not_clipped(tmp_path, mode, suffix):
    from PIL import Image
    d = tmp_path / "train" / "3"
    d.mkdir(parents=True)
    img = (np.arange(28 * 28).reshape(28, 28) * 83 % 65536).astype(np.uint16)
    Image.fromarray(img.astype(np.int32) if mode == "I" else img).save(d / f"a.{suffix}")
    x = load_mnist_folder(tmp_path).train_x
    np.testing.assert_allclose(x.ravel(), np.round(img.ravel() / 257) / 255)


def test_nan_pixel_in_npz_is_refused_naming_the_file(tmp_path, digits):
    x = digits["train"][0].astype(np.float64) / 255
    x[0, 3, 3] = np.nan
    np.savez(tmp_path / "mnist.npz", x_train=x, y_train=digits["train"][1])
    with pytest.raises(ValueError, match=r"mnist\.npz.*NaN"):
        load_mnist_npz(tmp_path / "mnist.npz")


def test_npz_reads_only_the_mnist_arrays(tmp_path, digits):
    import zipfile
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=digits["train"][0], y_train=digits["train"][1])
    with zipfile.ZipFile(path, "a") as z:  # an unread member declaring 4 GiB (its data is not even there)
        z.writestr("junk.npy", b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (536870912,), }"
                   .ljust(128, b" ")[:127] + b"\n")
    check(load_mnist_npz(path), digits, splits=("train",))

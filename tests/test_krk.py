"""Tests for nntoolbox.datasets.krk: KRK generator, file cache and loader."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nntoolbox.datasets import krk

# Real UCI file, for verification only: ../shared beside the repository clone.
UCI_FILE = Path(__file__).resolve().parents[2] / "shared/data/krkopt/krkopt.data"

# Per-label counts of the UCI krkopt.data (28,056 rows), in LABELS order.
UCI_COUNTS = {
    "draw": 2796, "zero": 27, "one": 78, "two": 246, "three": 81, "four": 198,
    "five": 471, "six": 592, "seven": 683, "eight": 1433, "nine": 1712,
    "ten": 1985, "eleven": 2854, "twelve": 3597, "thirteen": 4194,
    "fourteen": 4553, "fifteen": 2166, "sixteen": 390,
}

# Four real rows (their true labels), in file order.
UCI_SAMPLE = "a,1,b,3,c,2,draw\nc,2,a,8,a,1,zero\nb,1,g,7,g,5,sixteen\nc,2,h,8,a,1,one\n"


@pytest.fixture(scope="module")
def generated() -> pd.DataFrame:
    return krk.generate_krk()


@pytest.fixture(scope="module")
def generated_file(generated: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return krk.write_krk(generated, tmp_path_factory.mktemp("krk") / "krkopt.data")


def _rows(df: pd.DataFrame) -> set[tuple]:
    return set(df.itertuples(index=False, name=None))


# --------------------------------------------------------------------------- generator


def test_generated_counts(generated: pd.DataFrame) -> None:
    assert list(generated.columns) == list(krk.COLUMNS)
    assert len(generated) == 28056
    assert generated["label"].value_counts().to_dict() == UCI_COUNTS
    # Rows are unique positions, grouped by label in LABELS order.
    assert not generated.iloc[:, :6].duplicated().any()
    ids = generated["label"].map(krk.LABELS.index).to_numpy()
    assert np.all(np.diff(ids) >= 0)


def test_generated_symmetry_normalised(generated: pd.DataFrame) -> None:
    f = {c: i for i, c in enumerate(krk.FILES)}
    wkf, wkr = generated.wk_file.map(f), generated.wk_rank - 1
    wrf, wrr = generated.wr_file.map(f), generated.wr_rank - 1
    bkf, bkr = generated.bk_file.map(f), generated.bk_rank - 1
    assert ((wkf <= 3) & (wkr <= wkf)).all()  # a1-d1-d4 triangle
    on_diag = wkf == wkr
    assert (bkr[on_diag] <= bkf[on_diag]).all()
    both = on_diag & (bkf == bkr)
    assert (wrr[both] <= wrf[both]).all()


def test_generated_known_positions(generated: pd.DataFrame) -> None:
    lab = {row[:6]: row[6] for row in generated.itertuples(index=False, name=None)}
    assert lab[("c", 2, "a", 8, "a", 1)] == "zero"   # mate in the corner
    assert lab[("c", 2, "h", 8, "a", 1)] == "one"    # Kb1 forced, Rh1#
    assert lab[("a", 1, "b", 3, "c", 2)] == "draw"   # black captures the undefended rook
    assert lab[("c", 2, "b", 2, "a", 1)] == "draw"   # stalemate
    assert ("a", 1, "a", 1, "c", 3) not in lab      # pieces on one square: illegal
    assert ("a", 1, "h", 8, "b", 2) not in lab      # adjacent kings: illegal


def test_generated_equals_uci_file(generated: pd.DataFrame, generated_file: Path) -> None:
    if not UCI_FILE.is_file():
        pytest.skip(f"real UCI krkopt.data not available at {UCI_FILE}")
    uci = pd.read_csv(UCI_FILE, header=None, names=list(krk.COLUMNS))
    assert len(uci) == 28056
    assert uci["label"].value_counts().to_dict() == UCI_COUNTS
    assert _rows(generated) == _rows(uci)
    # Stronger: same row order and byte-identical text file.
    assert generated_file.read_bytes() == UCI_FILE.read_bytes()


# --------------------------------------------------------------------------- file cache


def test_ensure_krk_file_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "sub" / "krkopt.data"
    assert krk.ensure_krk_file(path) == path
    first = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    assert first.count(b"\n") == 28056
    assert not [p for p in path.parent.iterdir() if p != path]  # no temp file left

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("regenerated although the file exists")

    monkeypatch.setattr(krk, "generate_krk", boom)
    assert krk.ensure_krk_file(str(path)) == path
    assert path.stat().st_mtime_ns == mtime
    assert path.read_bytes() == first


def test_ensure_krk_file_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated_file: Path) -> None:
    monkeypatch.setenv("NNTOOLBOX_DATA", str(tmp_path))
    assert krk.default_krk_path() == tmp_path / "krkopt.data"
    shutil.copy(generated_file, tmp_path / "krkopt.data")
    assert krk.ensure_krk_file() == tmp_path / "krkopt.data"
    assert krk.load_krk().X.shape == (28056, 6)


@pytest.mark.parametrize("damage", ["truncated", "edited"])
def test_differing_file_is_refused_and_left_alone(tmp_path: Path, generated_file: Path, damage: str) -> None:
    path = tmp_path / "krkopt.data"
    lines = generated_file.read_bytes().splitlines(keepends=True)
    if damage == "truncated":  # cut at a line boundary: every line still parses
        path.write_bytes(b"".join(lines[:10000]))
        problem = "10000 rows instead of 28056"
    else:  # same row count, one label changed
        lines[5] = lines[5].replace(b"draw", b"zero")
        path.write_bytes(b"".join(lines))
        problem = "checksum"
    before = path.read_bytes()
    with pytest.raises(ValueError, match=f"krkopt.data is not the KRK data set.*{problem}.*left it alone"):
        krk.ensure_krk_file(path)
    assert path.read_bytes() == before
    assert problem in krk.krk_file_problem(path)


def test_readonly_data_dir_names_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def readonly(df: pd.DataFrame, path: Path) -> None:  # as mkstemp in a read-only folder (root may write there)
        raise PermissionError(13, "Permission denied", str(tmp_path / "krkopt.data.x1y2.tmp"))

    monkeypatch.setattr(krk, "write_krk", readonly)
    monkeypatch.setenv("NNTOOLBOX_DATA", str(tmp_path))
    with pytest.raises(PermissionError, match=f"Permission denied.*NNTOOLBOX_DATA={tmp_path}; set NNTOOLBOX_DATA "
                       "to a writable directory"):
        krk.ensure_krk_file()


def test_data_setting_naming_a_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv("NNTOOLBOX_DATA", str(tmp_path / "afile"))
    with pytest.raises(OSError, match="NNTOOLBOX_DATA=.*afile; set NNTOOLBOX_DATA to a writable directory"):
        krk.ensure_krk_file()


# --------------------------------------------------------------------------- loader


def test_load_uci_format_binary(tmp_path: Path) -> None:
    p = tmp_path / "krkopt.data"
    p.write_text(UCI_SAMPLE)
    X, Y, labels = krk.load_krk(p)  # task='binary' by default
    assert X.dtype == np.float64 and X.shape == (4, 6)
    np.testing.assert_array_equal(X[0], [1, 1, 2, 3, 3, 2])
    np.testing.assert_array_equal(X[2], [2, 1, 7, 7, 7, 5])
    assert list(labels) == ["draw", "zero", "sixteen", "one"]
    # Course convention: draw -> [1 0], anything else -> [0 1].
    np.testing.assert_array_equal(Y, [[1, 0], [0, 1], [0, 1], [0, 1]])
    data = krk.load_krk(p, task="binary")
    assert data.class_names == krk.BINARY_CLASSES
    np.testing.assert_array_equal(data.class_ids, [0, 1, 1, 1])


def test_load_depth_task(tmp_path: Path) -> None:
    p = tmp_path / "krkopt.data"
    p.write_text(UCI_SAMPLE)
    data = krk.load_krk(p, task="depth")
    assert data.Y.shape == (4, 18) and data.Y.dtype == np.float64
    np.testing.assert_array_equal(data.class_ids, [0, 1, 17, 2])
    np.testing.assert_array_equal(data.Y.sum(axis=1), 1)
    np.testing.assert_array_equal(data.Y.argmax(axis=1), data.class_ids)
    assert data.class_names == krk.LABELS and len(krk.LABELS) == 18


def test_load_course_variant(tmp_path: Path) -> None:
    body = UCI_SAMPLE.replace("\n", "\r\n")
    raw = b"\xef\xbb\xbf" + body.encode() + b"\r\n\r\n??\r\n  \r\n??\r\n"
    p = tmp_path / "krkopt.data"
    p.write_bytes(raw)
    ref = tmp_path / "ref.data"
    ref.write_text(UCI_SAMPLE)
    a, b = krk.load_krk(p, task="depth"), krk.load_krk(ref, task="depth")
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.Y, b.Y)
    assert list(a.labels) == list(b.labels)


def test_load_full_generated_file(generated_file: Path) -> None:
    data = krk.load_krk(generated_file, task="depth")
    assert data.X.shape == (28056, 6) and data.Y.shape == (28056, 18)
    assert data.X.min() == 1 and data.X.max() == 8
    counts = dict(zip(krk.LABELS, data.Y.sum(axis=0).astype(int)))
    assert counts == UCI_COUNTS
    binary = krk.load_krk(generated_file)
    np.testing.assert_array_equal(binary.Y.sum(axis=0), [2796, 28056 - 2796])


@pytest.mark.parametrize(
    ("bad_line", "problem"),
    [
        ("a,1,b,3,c,2", "7 comma-separated fields"),
        ("a,1,b,3,c,2,draw,x", "7 comma-separated fields"),
        ("a,1,b,3,c,2,seventeen", "unknown label"),
        ("a,1,i,3,c,2,draw", "wr_file"),
        ("a,9,b,3,c,2,draw", "wk_rank"),
        ("a,1,b,3,c,0,draw", "bk_rank"),
        ("1,1,b,3,c,2,draw", "wk_file"),
    ],
)
def test_load_malformed_line(tmp_path: Path, bad_line: str, problem: str) -> None:
    p = tmp_path / "bad.data"
    p.write_bytes(b"\xef\xbb\xbf\r\n" + UCI_SAMPLE.encode() + bad_line.encode() + b"\n??\n")
    with pytest.raises(ValueError, match="line 6") as exc:
        krk.load_krk(p)
    assert problem in str(exc.value) and str(p) in str(exc.value)


def test_load_missing_and_empty(tmp_path: Path) -> None:
    missing = tmp_path / "nope.data"
    with pytest.raises(FileNotFoundError, match="nope.data"):
        krk.load_krk(missing)
    empty = tmp_path / "empty.data"
    empty.write_text("\n??\n\n")
    with pytest.raises(ValueError, match="no data lines"):
        krk.load_krk(empty)
    with pytest.raises(ValueError, match="cannot read"):
        krk.load_krk(tmp_path)  # a directory
    with pytest.raises(ValueError, match="task"):
        krk.load_krk(empty, task="regression")


# --------------------------------------------------------------------------- issue 21 item 12


def test_malformed_huge_line_is_quoted_briefly(tmp_path: Path) -> None:
    p = tmp_path / "huge.data"
    p.write_bytes(UCI_SAMPLE.encode() + b"a,1,b,3,c,2," + b"x" * 20_000_000 + b"\n")
    with pytest.raises(ValueError, match="line 5") as exc:
        krk.load_krk(p)
    assert len(str(exc.value)) < 500


def test_course_crlf_copy_is_used_not_overwritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  generated_file: Path) -> None:
    monkeypatch.setenv("NNTOOLBOX_DATA", str(tmp_path))
    course = b"\xef\xbb\xbf" + generated_file.read_bytes().replace(b"\n", b"\r\n").upper() + b"\r\n??\r\n"
    (tmp_path / "krkopt.data").write_bytes(course)
    assert krk.ensure_krk_file() == tmp_path / "krkopt.data"
    assert (tmp_path / "krkopt.data").read_bytes() == course
    assert krk.load_krk().X.shape == (28056, 6)

"""issue 21 item 10: settings and files that cannot work end a script with one line on stderr and exit
code 2, never a traceback (scripts run in-process through their main(argv))."""
from __future__ import annotations

import numpy as np
import pytest

from nntoolbox.datasets.krk import ensure_krk_file
from nntoolbox.demos import chess, compare_cli, mnist
from test_demos_mnist import npz_data  # noqa: F401 - the tiny generated MNIST fixture

COMPARE = ["--seeds", "0", "--epochs", "1", "--split", "0.03", "0.02", "--no-progress"]


def exit_code(main, argv) -> int:
    try:
        return main(argv)
    except SystemExit as e:
        return e.code


def one_line(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    return err[0]


def test_negative_seed(capsys):
    assert exit_code(chess.main, ["--seed", "-1"]) == 2
    assert "--seed: value must be a non-negative integer; got -1" in one_line(capsys)


@pytest.mark.parametrize("flags, expect", [
    (["--batch-size", "5000"], "--batch-size 5000 is larger than the 285 training images"),
    (["--subset", "3"], "--batch-size 100 is larger than the 2 training images"),
])
def test_batch_larger_than_the_mnist_training_rows(npz_data, tmp_path, capsys, flags, expect):  # noqa: F811
    argv = ["--data", str(npz_data), "--out", str(tmp_path / "out"), "--epochs", "1", "--no-progress", *flags]
    assert exit_code(mnist.main, argv) == 2
    assert expect in one_line(capsys)
    assert not (tmp_path / "out").exists()


def test_a_nan_pixel_is_refused_at_load_naming_the_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.random((60, 28, 28))
    x[7, 3, 4] = np.nan
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x, y_train=np.arange(60) % 10, x_test=x[:20] * 0, y_test=np.arange(20) % 10)
    assert exit_code(mnist.main, ["--data", str(path), "--out", str(tmp_path / "out"), "--batch-size", "10"]) == 2
    line = one_line(capsys)
    assert f"{path}" in line and "image 7 has a NaN or infinite pixel (pixel 88)" in line


def test_compare_jobs_zero(capsys):
    assert exit_code(compare_cli.main, ["--jobs", "0"]) == 2
    assert "--jobs: must be a number of processes >= 1, or -1 for one per core; got 0" in one_line(capsys)


def test_compare_out_under_a_file(tmp_path, capsys):
    (tmp_path / "afile").write_text("")
    argv = ["--data", str(ensure_krk_file()), *COMPARE, "--out", str(tmp_path / "afile" / "out")]
    assert exit_code(compare_cli.main, argv) == 2
    assert "--out " in (line := one_line(capsys)) and "afile/out: cannot create the folder" in line


def test_compare_unreachable_scheduler_fails_fast(tmp_path, capsys):
    argv = ["--data", str(ensure_krk_file()), *COMPARE, "--out", str(tmp_path / "out"),
            "--scheduler", "tcp://127.0.0.1:1"]
    assert exit_code(compare_cli.main, argv) == 2
    line = one_line(capsys)
    assert f"after {compare_cli.CONNECT_SECONDS} s" in line and "--scheduler tcp://127.0.0.1:1: cannot connect" in line

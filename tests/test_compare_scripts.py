"""scripts/compare.py and scripts/homework_optimizers.py, run in-process on small splits."""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest

from nntoolbox.datasets.krk import ensure_krk_file
from nntoolbox.demos import compare_cli, homework
from test_demos_mnist import npz_data  # noqa: F401 - the tiny generated MNIST fixture

SMALL = ["--split", "0.03", "0.02", "--seeds", "0", "1", "--epochs", "3", "--no-progress"]



def test_parse_config():
    assert compare_cli.parse_config("learning rate=0.01, Optimization Method=RMSProp,hidden=8 8") == {
        "learning_rate": 0.01, "optimization_method": "RMSProp", "hidden": [8, 8]}
    assert compare_cli.parse_config("batch_size=50,hidden=4x3,batch_normalization=0") == {
        "batch_size": 50, "hidden": [4, 3], "batch_normalization": 0}
    with pytest.raises(argparse.ArgumentTypeError, match="learning rate"):
        compare_cli.parse_config("lerning rate=0.1")
    with pytest.raises(argparse.ArgumentTypeError, match="NAME=VALUE"):
        compare_cli.parse_config("adam")
    for bad in ("hidden=2.5", "hidden=8 x", "hidden=0", "hidden=", "batch_size=2.5"):
        with pytest.raises(argparse.ArgumentTypeError, match="positive integer"):
            compare_cli.parse_config(bad)


def test_compare_chess_writes_tables_and_resumes(tmp_path, capsys):
    args = ["--task", "chess", "--data", str(ensure_krk_file()), *SMALL, "--out", str(tmp_path),
            "--base", "hidden=8 8", "--config", "optimization_method=Adam", "--config", "learning_rate=-1"]
    assert compare_cli.main(args) == 0
    text = capsys.readouterr().out
    assert "4 runs" in text and "failed: ValueError: option 'learning rate'" in text
    summary = pd.read_csv(tmp_path / "summary.csv", index_col=0)
    assert list(summary.index) == ["optimization_method=Adam", "learning_rate=-1"]
    assert summary.loc["learning_rate=-1", "failed"] == 2 and 0.5 < summary.loc["optimization_method=Adam",
                                                                                 "test_accuracy_mean"] <= 1
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert set(runs["hidden"]) == {"8,8"} and len(runs.dropna(subset=["epoch"])) == 6
    assert compare_cli.main(args) == 0  # everything is loaded from tmp_path/runs
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "runs.csv"), runs)


def test_compare_mnist(npz_data, tmp_path):  # noqa: F811
    args = ["--task", "mnist", "--data", str(npz_data), "--seeds", "0", "--epochs", "2", "--no-progress",
            "--base", "hidden=16,batch_size=50", "--config", "textbook=1", "--out", str(tmp_path)]
    assert compare_cli.main(args) == 0
    results = pd.read_csv(tmp_path / "results.csv")
    assert results["status"].tolist() == ["ok"] and results["hidden"].tolist() == [16]


def test_homework_flow_with_available_methods(npz_data, tmp_path, monkeypatch, capsys):  # noqa: F811
    """The whole flow (extra method, ROC, MNIST), with cheaper methods than the homework's."""
    monkeypatch.setattr(homework, "HOMEWORK_METHODS", ("Momentum", "RMSProp"))
    args = ["--krk", str(ensure_krk_file()), *SMALL, "--out", str(tmp_path), "--method", "adam",
            "--data", str(npz_data), "--mnist-epochs", "1"]
    assert homework.main(args) == 0
    text = capsys.readouterr().out
    assert "Momentum, RMSProp, Adam" in text and "Adam (seed 0) AUC" in text
    for name in ("roc.png", "curves_roc.png", "val_accuracy.png", "cost.png", "results.csv", "summary.csv"):
        assert (tmp_path / "chess" / name).stat().st_size > 0, name
    assert (tmp_path / "mnist" / "results.csv").is_file() and not (tmp_path / "mnist" / "roc.png").exists()
    chess = pd.read_csv(tmp_path / "chess" / "results.csv")
    assert chess["optimization_method"].tolist() == ["Momentum"] * 2 + ["RMSProp"] * 2 + ["Adam"] * 2
    assert np.all(chess["seed"].to_numpy() == [0, 1] * 3)


def test_homework_unknown_method_is_named(monkeypatch):
    monkeypatch.setattr(homework, "HOMEWORK_METHODS", ("Momentum",))
    with pytest.raises(SystemExit, match="Adamax"):
        homework.main(["--method", "Adamax", "--epochs", "1"])


def test_homework_momentum_vs_rmsprop_nesterov(tmp_path):
    assert homework.main(["--krk", str(ensure_krk_file()), *SMALL, "--out", str(tmp_path)]) == 0
    chess = pd.read_csv(tmp_path / "chess" / "results.csv")
    assert chess["optimization_method"].tolist() == ["Momentum"] * 2 + ["RMSProp_Nesterov"] * 2
    assert (chess["status"] == "ok").all()


def test_homework_flags_a_stuck_seed_and_draws_every_seed(tmp_path, monkeypatch, capsys, saved_figures):
    """RMSProp_Nesterov seed 1 stays on one class on this small split (the course's batch norm; seed 3
    learns): the flag is in the printed table, summary.csv and the figure, which has a ROC per seed."""
    figures = saved_figures
    monkeypatch.setattr(homework, "HOMEWORK_METHODS", ("RMSProp_Nesterov",))
    args = ["--krk", str(ensure_krk_file()), "--split", "0.03", "0.02", "--seeds", "1", "3", "--epochs", "30",
            "--no-progress", "--out", str(tmp_path)]
    assert homework.main(args) == 0
    text = capsys.readouterr().out
    assert "flag: RMSProp_Nesterov seed 1: stuck at one class" in text and "seed 3:" not in text
    assert "likely cause: the course's batch normalisation" in text and "--textbook" in text
    summary = pd.read_csv(tmp_path / "chess" / "summary.csv", index_col=0)
    assert summary["stuck"].tolist() == ["seed 1: stuck at one class"]
    title = figures[-1].get_suptitle()
    roc = figures[-1].axes[1]
    assert "RMSProp_Nesterov seed 1: stuck at one class" in title
    seed_lines = [line for line in roc.lines if line.get_linewidth() < 1]
    assert len(seed_lines) == 2 and any(line.get_label().startswith("RMSProp_Nesterov: mean of 2 seeds")
                                        for line in roc.lines)


def test_homework_textbook(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(homework, "HOMEWORK_METHODS", ("RMSProp_Nesterov",))
    args = ["--krk", str(ensure_krk_file()), "--split", "0.03", "0.02", "--seeds", "1", "--epochs", "30",
            "--no-progress", "--out", str(tmp_path), "--textbook"]
    assert homework.main(args) == 0
    assert "flag:" not in capsys.readouterr().out
    assert pd.read_csv(tmp_path / "chess" / "results.csv")["textbook"].tolist() == [True]

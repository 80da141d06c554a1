"""The nn_testChess demo run in-process on the generated KRK data (short runs, small outputs)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import nntoolbox.engines
from nntoolbox.datasets.krk import ensure_krk_file
from nntoolbox.demos import chess
from nntoolbox.io import nn_load

# a small, fast split: 5% training (1402 positions), 2% validation, the rest test
FAST = ["--split", "0.05", "0.02", "--no-progress", "--engine", "stepwise"]


@pytest.fixture(scope="module")
def krk_path():
    return str(ensure_krk_file())


def run_demo(tmp_path, krk_path, *flags: str) -> tuple[int, dict]:
    out = tmp_path / "out"
    code = chess.main(["--data", krk_path, "--out", str(out), *FAST, *flags])
    return code, json.loads((out / "summary.json").read_text())


def test_binary_run_writes_outputs_and_summary(tmp_path, krk_path, capsys):
    code, summary = run_demo(tmp_path, krk_path, "--epochs", "3", "--sizes", "10", "10")
    assert code == 0
    out = tmp_path / "out"
    for name in ("cost.png", "val_accuracy.png", "confusion.png", "history.csv", "best_network.npz",
                 "best_network.mat", "roc.png"):
        assert (out / name).stat().st_size > 0, name
    assert 0.5 < summary["auc"] <= 1  # ROC AUC of the 'win' output on the test set
    history = pd.read_csv(out / "history.csv")
    assert list(history.columns) == ["epoch", "cost", "total_cost", "val_cost", "val_accuracy", "seconds"]
    assert history["epoch"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(history["total_cost"], history["cost"].expanding().mean())
    assert summary["train"] == 1402 and summary["validation"] == 561 and summary["test"] == 28056 - 1963
    assert summary["best_val_accuracy"] == history["val_accuracy"].max()
    assert 1 <= summary["best_epoch"] <= 3 and 0.5 < summary["test_accuracy"] <= 1
    text = capsys.readouterr().out
    assert "best validation accuracy" in text and f"test accuracy {summary['test_accuracy']:.4f}" in text
    assert "1402 train / 561 validation / 26093 test" in text
    confusion = pd.read_csv(out / "confusion.csv", index_col=0)
    assert list(confusion.columns) == ["draw", "win"] and confusion.to_numpy().sum() == summary["test"]
    nn = nn_load(out / "best_network.npz")
    assert [int(s) for s in nn.size] == [6, 10, 10, 2]


def test_depth_task_has_18_outputs(tmp_path, krk_path):
    code, summary = run_demo(tmp_path, krk_path, "--task", "depth", "--epochs", "2", "--sizes", "16", "--textbook")
    assert code == 0 and summary["task"] == "depth"
    nn = nn_load(tmp_path / "out" / "best_network.mat")
    assert int(nn.size[-1]) == 18
    confusion = pd.read_csv(tmp_path / "out" / "confusion.csv", index_col=0)
    assert confusion.shape == (18, 18) and confusion.columns[0] == "draw" and confusion.columns[-1] == "sixteen"


def fail_third_epoch(monkeypatch, fail) -> None:
    """Make the 3rd training epoch call ``fail(costs)`` (costs of the real epoch)."""
    real_epoch, calls = nntoolbox.engines.stepwise_epoch, []

    def epoch(*args):
        calls.append(1)
        costs = real_epoch(*args)
        return fail(costs) if len(calls) == 3 else costs

    monkeypatch.setattr(nntoolbox.engines, "stepwise_epoch", epoch)


def interrupt(costs):
    raise KeyboardInterrupt


def test_ctrl_c_keeps_and_saves_the_best_network(tmp_path, krk_path, monkeypatch, capsys):
    fail_third_epoch(monkeypatch, interrupt)
    code, summary = run_demo(tmp_path, krk_path, "--epochs", "10", "--sizes", "10")
    assert code == 0 and summary["interrupted"] and summary["epochs_done"] == 2
    assert summary["best_epoch"] in (1, 2)
    assert (tmp_path / "out" / "best_network.npz").is_file()
    assert len(pd.read_csv(tmp_path / "out" / "history.csv")) == 2
    assert "Interrupted after 2 complete epoch(s)" in capsys.readouterr().out


def test_nan_cost_stops_with_a_learning_rate_hint(tmp_path, krk_path, capsys):
    code, summary = run_demo(tmp_path, krk_path, "--epochs", "5", "--sizes", "10", "--lr", "1e200")
    assert code == 1 and summary["diverged"] and summary["epochs_done"] == 0
    assert "lower learning rate" in capsys.readouterr().out
    assert (tmp_path / "out" / "best_network.npz").is_file()


def test_nan_cost_later_keeps_the_best_network(tmp_path, krk_path, monkeypatch, capsys):
    fail_third_epoch(monkeypatch, lambda costs: costs * np.nan)
    code, summary = run_demo(tmp_path, krk_path, "--epochs", "10", "--sizes", "10")
    assert code == 1 and summary["diverged"] and summary["epochs_done"] == 2 and summary["best_epoch"] in (1, 2)
    text = capsys.readouterr().out
    assert "NaN/inf in epoch 3" in text and "Keeping the best network" in text
    assert nn_load(tmp_path / "out" / "best_network.npz").cost.size > 0


def test_preset_sets_defaults_and_flags_override():
    args = chess.parse_args(["--preset", "depth-best", "--epochs", "7"])
    assert args.task == "depth" and args.epochs == 7
    assert args.sizes == chess.PRESETS["depth-best"]["sizes"]
    args = chess.parse_args(["--preset", "depth-best", "--option", "keep probability=0.5"])
    options = chess.option_flags(args.option)
    assert options["keep_probability"] == 0.5 and options["dropout"] == "inverted"  # the flag wins
    args = chess.parse_args(["--optimizer", "adam", "--activation", "TANH", "--no-bn"])
    assert (args.optimizer, args.activation, args.bn, args.sizes) == ("Adam", "tanh", False, [10] * 10)


@pytest.mark.parametrize("flags", [
    ["--task", "rook"], ["--split", "0.9", "0.2"], ["--split", "0.15"], ["--epochs", "0"], ["--lr", "-1"],
    ["--optimizer", "sgdx"], ["--sizes", "10", "0"], ["--engine", "gpu"], ["--bogus"],
])
def test_bad_flags_exit_with_usage_error(flags, capsys):
    with pytest.raises(SystemExit) as exc:
        chess.main(flags)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err


def test_missing_data_file_is_reported(tmp_path, capsys):
    assert chess.main(["--data", str(tmp_path / "nope.data"), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot load the KRK data (--data)" in err and "nope.data" in err and len(err.splitlines()) == 1


def test_batch_larger_than_training_set_is_reported(tmp_path, krk_path):
    with pytest.raises(SystemExit, match="larger than the 280 training"):
        chess.main(["--data", krk_path, "--out", str(tmp_path / "out"), "--split", "0.01", "0.01",
                    "--batch-size", "500", "--no-progress"])


def test_option_flag_reaches_nn_create(tmp_path, krk_path):
    code, summary = run_demo(tmp_path, krk_path, "--epochs", "1", "--sizes", "10", "--option", "state_init=zeros",
                             "--option", "Weight Decay=0.001")
    assert code == 0 and summary["config"]["options"] == {"state_init": "zeros", "Weight Decay": 0.001}
    nn = nn_load(tmp_path / "out" / "best_network.npz")
    assert nn.state_init == "zeros" and nn.weight_decay == 0.001


def test_unknown_option_suggests_the_nearest(tmp_path, krk_path):
    with pytest.raises(SystemExit, match="did you mean 'learning rate'"):
        chess.main(["--data", krk_path, "--out", str(tmp_path), *FAST, "--option", "lerning rate=1"])

"""The MNIST demos (scripts/test_for_*.py) run in-process on a tiny generated data set,
and the shared training loop's bookkeeping (nntoolbox.demos.common)."""
from __future__ import annotations

import re

import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nntoolbox.demos.common as common
import nntoolbox.train as train_module
from nntoolbox import nn_create, nn_train
from nntoolbox.demos import autoencoder_demo, mnist, sae_demo
from nntoolbox.io import nn_load

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
FAST = ["--epochs", "2", "--no-progress", "--batch-size", "50"]
FEW_PLOTS = ["--max-misclassified", "4"]  # a 36-image grid takes seconds to draw


def _images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random 28x28 uint8 'digits': class c has a bright bar on rows 2c..2c+3."""
    labels = np.arange(n) % 10
    x = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    for i, c in enumerate(labels):
        x[i, 2 * c + 4: 2 * c + 8, 4:24] = 255
    return x, labels.astype(np.uint8)


@pytest.fixture(scope="module")
def npz_data(tmp_path_factory) -> Path:
    """Keras-style mnist.npz: 300 training and 100 test images."""
    rng = np.random.default_rng(0)
    (xt, yt), (xs, ys) = _images(300, rng), _images(100, rng)
    path = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    np.savez(path, x_train=xt, y_train=yt, x_test=xs, y_test=ys)
    return path


@pytest.fixture(scope="module")
def t10k_dir(tmp_path_factory) -> Path:
    """Only the two t10k IDX files (300 images), as in /work/shared/data/mnist."""
    x, labels = _images(300, np.random.default_rng(1))
    d = tmp_path_factory.mktemp("t10k")
    header = lambda magic, *dims: b"".join(int(v).to_bytes(4, "big") for v in (magic, *dims))  # noqa: E731
    (d / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(header(2051, 300, 28, 28) + x.tobytes()))
    (d / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(header(2049, 300) + labels.tobytes()))
    return d


# ---------------------------------------------------------------- test_for_NN
def test_nn_demo_writes_everything(npz_data, tmp_path, capsys):
    out = tmp_path / "nn"
    assert mnist.main(["--data", str(npz_data), "--out", str(out), "--subset", "200", *FAST, *FEW_PLOTS]) == 0
    text = capsys.readouterr().out
    assert "using 190 train / 10 validation / 100 test" in text
    assert "test accuracy" in text and "s/epoch" in text
    for name in ("history.csv", "cost.png", "val_accuracy.png", "confusion.png", "confusion.csv",
                 "misclassified.png", "best_network.npz", "best_network.mat"):
        assert (out / name).is_file(), name
    history = pd.read_csv(out / "history.csv")
    assert list(history.columns) == ["epoch", "cost", "val_cost", "val_accuracy", "seconds"]
    assert history.epoch.tolist() == [1, 2]
    net = nn_load(out / "best_network.mat")
    assert net.size.tolist() == [784, 400, 169, 49, 10] and net.optimization_method == "Adam"
    assert pd.read_csv(out / "confusion.csv", index_col=0).to_numpy().sum() == 100
    per_class = pd.read_csv(out / "per_class.csv", index_col=0)
    assert list(per_class.columns[:4]) == ["precision", "recall", "f1", "support"] and per_class["support"].sum() == 100


def test_nn_demo_splits_a_test_only_data_set(t10k_dir, tmp_path, capsys):
    args = ["--data", str(t10k_dir), "--out", str(tmp_path), "--train-size", "200", "--epochs", "1", "--no-progress",
            *FEW_PLOTS]
    assert mnist.main(args) == 0
    assert "only the test split (300 images): 200 for training, 100 for testing" in capsys.readouterr().out


def test_missing_data_explains_where_to_put_it(tmp_path, capsys):
    assert mnist.main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and re.search(r"does not exist.*IDX files.*--data PATH", err)
    assert not (tmp_path / "o").exists()


def test_ctrl_c_before_training_keeps_the_starting_network(npz_data, tmp_path, monkeypatch, capsys):
    def interrupt(nn, option, x, y):
        raise KeyboardInterrupt

    monkeypatch.setattr(common, "nn_train", interrupt)
    out = tmp_path / "nn"
    assert mnist.main(["--data", str(npz_data), "--out", str(out), *FAST, *FEW_PLOTS, "--epochs", "5"]) == 0
    text = capsys.readouterr().out
    assert "Interrupted after 0 complete epoch(s); keeping the untrained starting network" in text
    assert "test accuracy" in text
    assert (out / "best_network.npz").is_file() and (out / "best_network.mat").is_file()


def test_ctrl_c_inside_nn_train_is_rolled_back(npz_data, tmp_path, monkeypatch, capsys):
    # nn_train catches Ctrl-C itself, keeps the last full epoch and sets nn.interrupted
    calls = []
    real = train_module.Validation.score

    def interrupt_second(self, nn):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, nn)

    monkeypatch.setattr(train_module.Validation, "score", interrupt_second)
    out = tmp_path / "nn"
    assert mnist.main(["--data", str(npz_data), "--out", str(out), *FAST, *FEW_PLOTS, "--epochs", "4"]) == 0
    assert "Interrupted after 1 complete epoch(s)" in capsys.readouterr().out
    assert len(pd.read_csv(out / "history.csv")) == 1
    assert nn_load(out / "best_network.npz").AdamTime == 1  # the network after epoch 1


def test_nan_cost_stops_with_a_hint(npz_data, tmp_path, capsys):
    out = tmp_path / "nn"
    args = ["--data", str(npz_data), "--out", str(out), *FAST, *FEW_PLOTS, "--learning-rate", "1e300"]
    assert mnist.main(args) == 0
    text = capsys.readouterr().out
    assert "Stopped: the cost became NaN/inf in epoch 1; try a lower learning rate (e.g. --learning-rate 1e+299)" \
        in text
    assert "untrained starting network" in text
    assert (out / "best_network.npz").is_file()


# --------------------------------------------------------- SAE and autoencoder
def test_sae_demo(npz_data, tmp_path, capsys):
    out = tmp_path / "sae"
    assert sae_demo.main(["--data", str(npz_data), "--out", str(out), "--hidden", "16", *FAST]) == 0
    assert "test reconstruction MSE" in capsys.readouterr().out
    for name in ("weights.png", "reconstructions.png", "cost.png", "val_cost.png", "history.csv",
                 "sae.npz", "sae.mat"):
        assert (out / name).is_file(), name
    assert nn_load(out / "sae.npz").size.tolist() == [784, 16, 784]


def test_autoencoder_demo_compares_both_runs(npz_data, tmp_path, capsys):
    out = tmp_path / "ae"
    args = ["--data", str(npz_data), "--out", str(out), "--sizes", "784,32,16,10", *FAST,
            "--sae-option", "optimization method=Adam", "--sae-option", "learning rate=0.01"]
    assert autoencoder_demo.main(args) == 0
    text = capsys.readouterr().out
    table = pd.read_csv(out / "comparison.csv")
    assert table.model.tolist() == ["pretrained", "random init"]
    assert table.epochs_done.tolist() == [2, 2]
    assert "pretrained" in text and "random init" in text and "test_accuracy" in text
    for name in ("comparison.png", "pretrained_history.csv", "random_history.csv", "pretrained_network.mat"):
        assert (out / name).is_file(), name


def test_autoencoder_demo_course_configuration(npz_data, tmp_path):
    out = tmp_path / "ae_course"
    args = ["--data", str(npz_data), "--out", str(out), "--sizes", "784,16,10", *FAST]
    assert autoencoder_demo.main(args) == 0  # default --config course (test_for_autoencoder.m)
    for prefix in ("pretrained", "random"):
        nn = nn_load(out / f"{prefix}_network.npz")
        assert (nn.optimization_method, nn.objective_function, nn.active_function, nn.batch_normalization,
                nn.learning_rate) == ("normal", "MSE", "sigmoid", 0, 1.0)  # autoencoder_adjust.m's lr 1.0
    assert autoencoder_demo.main([*args, "--config", "test_for_NN", "--out", str(tmp_path / "ae_nn")]) == 0
    nn = nn_load(tmp_path / "ae_nn" / "pretrained_network.npz")
    assert (nn.optimization_method, nn.objective_function, nn.learning_rate) == ("Adam", "Cross Entropy", 0.01)


def test_near_chance_hint_points_to_textbook():
    assert "--textbook" in mnist.near_chance_hint(0.11, 10, textbook=False)
    assert mnist.near_chance_hint(0.11, 10, textbook=True) is None
    assert mnist.near_chance_hint(0.9, 10, textbook=False) is None


def test_scripts_show_help(capsys):
    done = subprocess.run([sys.executable, str(SCRIPTS / "test_for_NN.py"), "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "usage: test_for_NN.py" in done.stdout
    for script, demo in (("test_for_SAE.py", sae_demo), ("test_for_autoencoder.py", autoencoder_demo)):
        assert f'run("{demo.__name__}")' in (SCRIPTS / script).read_text()
        with pytest.raises(SystemExit) as done:
            demo.main(["--help"])
        text = capsys.readouterr().out
        assert done.value.code == 0 and f"usage: {script}" in text and "--subset" in text, script


# ------------------------------------------------------------- training loop
def test_epoch_costs_follow_the_course_cost_history_quirk():
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 4)), np.eye(2)[rng.integers(0, 2, 40)]
    orders = np.stack([rng.permutation(40) for _ in range(3)])
    course = nn_create([4, 5, 2], seed=1)  # cost_history='course': entry 2 holds the newest cost
    result = common.train_best_on_validation(course, {"batch_size": 10, "order": orders}, x, y, x, y, 3,
                                             progress=False)
    reference = nn_train(nn_create([4, 5, 2], seed=1), {"batch_size": 10, "iteration": 3, "order": orders}, x, y)
    np.testing.assert_array_equal(result.nn.cost, reference.cost)  # same record as a plain nn_train run
    appended = nn_create([4, 5, 2], seed=1, cost_history="append")
    appended = nn_train(appended, {"batch_size": 10, "iteration": 3, "order": orders}, x, y)
    np.testing.assert_allclose(result.history.cost, appended.cost.reshape(3, 4).mean(axis=1), rtol=1e-12)


def test_best_epoch_is_kept(monkeypatch):
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 4)), np.eye(2)[rng.integers(0, 2, 40)]
    orders = np.stack([rng.permutation(40) for _ in range(3)])
    scores = iter([0.5, 0.9, 0.7])
    monkeypatch.setattr(train_module.Validation, "score",
                        lambda self, nn: {"val_cost": 0.0, "val_accuracy": next(scores)})
    nn = nn_create([4, 5, 2], seed=1)
    result = common.train_best_on_validation(nn, {"batch_size": 10, "order": orders}, x, y, x, y, 3, progress=False)
    assert result.best_epoch == 2 and result.best_score == 0.9 and result.epochs_done == 3
    two = nn_train(nn, {"batch_size": 10, "iteration": 2, "order": orders[:2]}, x, y)
    np.testing.assert_array_equal(result.nn._buf.params, two._buf.params)
    assert not (result.interrupted or result.diverged) and common.stop_message(result) is None

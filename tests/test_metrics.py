"""nntoolbox.metrics.evaluate and the ROC / precision-recall / sweep plots."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from nntoolbox import nn_create, nn_predict, nn_test, nn_train
from nntoolbox.metrics import evaluate, evaluate_scores
from nntoolbox.plotting import (plot_precision_recall, plot_roc, plot_summary_bars, plot_sweep_and_roc,
                                plot_sweep_curves)


def _blobs(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % k
    x = rng.normal(size=(n, 4)) + 1.5 * np.eye(4)[labels % 4] * (1 + labels // 4)[:, None]
    return x, np.eye(k)[labels]


def _trained(k: int) -> tuple:
    x, y = _blobs(300, k)
    nn = nn_create([4, 8, k], active_function="tanh", objective_function="Cross Entropy",
                   optimization_method="Adam", learning_rate=0.01, seed=0)
    nn = nn_train(nn, {"batch_size": 30, "iteration": 20}, x, y)
    return nn, x, y


def test_binary_matches_sklearn_and_nn_test():
    nn, x, y = _trained(2)
    ev = evaluate(nn, x, y, class_names=["draw", "win"])
    _, accuracy, _ = nn_test(nn, x, y)
    assert ev.accuracy == pytest.approx(accuracy)
    scores = nn_predict(nn, x)
    assert ev.auc == pytest.approx(skm.roc_auc_score(y[:, 1], scores[:, 1]))
    assert 0.5 < ev.auc <= 1
    assert list(ev.per_class.index) == ["draw", "win"]
    assert list(ev.per_class.columns) == ["precision", "recall", "f1", "support", "auc", "average_precision"]
    assert ev.per_class["support"].tolist() == [150, 150]
    assert ev.confusion.to_numpy().sum() == 300
    assert set(ev.roc["class"]) == {"win"} and ev.roc["fpr"].iloc[-1] == 1
    assert "accuracy" in ev.report()
    # integer labels give the same report
    assert evaluate(nn, x, y.argmax(1)).auc == ev.auc


def test_multiclass_macro_auc_is_sklearn_ovr():
    nn, x, y = _trained(5)
    ev = evaluate(nn, x, y)
    scores = nn_predict(nn, x)
    expected = skm.roc_auc_score(y.argmax(1), scores, multi_class="ovr", average="macro")
    assert ev.auc == pytest.approx(expected)
    assert ev.roc["class"].nunique() == 5


def test_absent_class_gives_nan_for_it_only():
    scores = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1]])
    ev = evaluate_scores([0, 1, 0, 1], scores)
    assert np.isnan(ev.per_class.loc["2", "auc"]) and ev.auc == 1.0
    one_output = evaluate_scores([0, 1, 1, 0], np.array([[0.2], [0.9], [0.6], [0.4]]))
    assert one_output.auc == 1.0 and one_output.accuracy == 1.0


def test_bad_targets_are_named():
    with pytest.raises(ValueError, match="y_true"):
        evaluate_scores(np.zeros((3, 4)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="class_names"):
        evaluate_scores([0, 1], np.eye(2), class_names=["a"])


def test_plots(tmp_path):
    nn, x, y = _trained(2)
    ev = evaluate(nn, x, y)
    for path in (plot_roc({"net a": ev, "net b": ev}, tmp_path / "roc.png"),
                 plot_roc(evaluate(*_trained(3)), tmp_path / "roc3.png"),
                 plot_precision_recall(ev, tmp_path / "pr.png")):
        assert path.read_bytes()[:4] == b"\x89PNG"
    runs = pd.DataFrame({"config": np.repeat(["a", "b"], 6), "seed": np.tile(np.repeat([0, 1], 3), 2),
                         "epoch": np.tile([1, 2, 3], 4), "val_accuracy": np.linspace(0.5, 0.9, 12)})
    assert plot_sweep_curves(runs, tmp_path / "curves.png").stat().st_size > 0
    assert plot_sweep_and_roc(runs, {"a": ev}, tmp_path / "both.png").stat().st_size > 0
    summary = pd.DataFrame({"best_val_accuracy_mean": [0.8, 0.9], "best_val_accuracy_std": [0.01, np.nan],
                            "test_accuracy_mean": [0.7, 0.85], "test_accuracy_std": [0.02, 0.03]},
                           index=["a", "b"])
    assert plot_summary_bars(summary, tmp_path / "bars.png").stat().st_size > 0
    with pytest.raises(ValueError, match="lacks"):
        plot_sweep_curves(runs.drop(columns="epoch"), tmp_path / "x.png")


def test_stuck_names_a_network_that_learned_nothing():
    y = [0, 1, 1, 1]
    assert evaluate_scores(y, np.array([[0.4, 0.6]] * 4)).stuck == "stuck at one class"
    # two classes predicted, but no better than always answering the commonest class (3 of 4)
    assert evaluate_scores(y, np.array([[0.6, 0.4], [0.6, 0.4], [0.4, 0.6], [0.4, 0.6]])).stuck == "at chance"
    assert evaluate_scores(y, np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.1, 0.9]])).stuck == ""


def test_seed_groups_and_clipped_bands(tmp_path, saved_figures):
    figures = saved_figures
    ev = evaluate(*_trained(2))
    stuck = evaluate_scores(ev.y_true, np.tile([0.3, 0.7], (len(ev.y_true), 1)))
    runs = pd.DataFrame({"config": "a", "seed": np.repeat([0, 1], 3), "epoch": np.tile([1, 2, 3], 2),
                         "val_accuracy": [0.9, 0.99, 1.0, 0.5, 0.6, 0.95]})
    plot_sweep_and_roc(runs, {"a": {0: ev, 1: ev, 2: stuck}, "b": ev}, tmp_path / "both.png")
    curves, roc = figures[-1].axes[:2]
    band = curves.collections[0].get_paths()[0].vertices
    assert band[:, 1].max() <= 1.0 and band[:, 1].min() >= 0.0  # mean ± std would pass 1 at epoch 3
    labels = [line.get_label() for line in roc.lines]
    assert len(roc.lines) == 3 + 1 + 1 + 1  # three seeds, their mean, "b", the diagonal
    assert "a seed 2: stuck at one class" in labels and any(s.startswith("a: mean of 3 seeds") for s in labels)
    with pytest.raises(ValueError, match="two-class"):
        plot_roc({"c": {0: evaluate(*_trained(3))}}, tmp_path / "roc3.png")

"""nntoolbox.compare.sweep: tables, failures, resume, joblib processes and a real Dask LocalCluster."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import nntoolbox.compare as compare
from nntoolbox.compare import SweepData, configurations, sweep

BASE = {"hidden": [6], "active_function": "tanh", "objective_function": "Cross Entropy",
        "optimization_method": "Adam", "learning_rate": 0.01, "batch_size": 20}
GRID = {"optimization_method": ["Adam", "RMSProp"], "batch_normalization": [0, 1]}


@pytest.fixture(scope="module")
def data() -> SweepData:
    rng = np.random.default_rng(0)
    labels = np.arange(400) % 2
    x = rng.normal(size=(400, 3)) + labels[:, None] * [1.0, 0.5, 0.0]
    y = np.eye(2)[labels]
    return SweepData(x[:200], y[:200], x[200:300], y[200:300], x[300:], y[300:])


def _without_time(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[c for c in frame.columns if "seconds" in c]).reset_index(drop=True)


def test_configurations():
    assert configurations({"a": [1, 2], "b": ["x"]}) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]
    assert configurations([{"a": 1}, {}]) == [{"a": 1}, {}]
    with pytest.raises(TypeError, match="grid\\['a'\\]"):
        configurations({"a": "Adam"})


def test_tables_failures_and_outputs(data, tmp_path):
    diverging = {"active_function": "relu", "optimization_method": "normal", "learning_rate": 1e9}
    grid = [{"optimization_method": "Adam"}, {"learning_rate": -1.0}, diverging]
    res = sweep(BASE, grid, data, seeds=[0, 1], epochs=4, out=tmp_path, progress=False)
    runs, results, summary = res.runs, res.results, res.summary
    assert list(runs.columns) == ["config", *BASE, "seed", "epoch", "cost", "train_cost", "val_cost", "val_accuracy",
                                  "seconds", "status"]
    adam = runs[runs["config"] == "optimization_method=Adam"]
    assert len(adam) == 8 and adam["epoch"].tolist() == [1, 2, 3, 4] * 2
    assert results["status"].tolist() == ["ok", "ok", "failed", "failed", "diverged", "diverged"]
    assert "learning rate" in results["error"].iloc[2]
    assert summary.loc["learning_rate=-1", "failed"] == 2 and summary.loc["optimization_method=Adam", "runs"] == 2
    ok = results.iloc[:2]
    assert summary.loc["optimization_method=Adam", "test_accuracy_mean"] == pytest.approx(ok["test_accuracy"].mean())
    assert summary.loc["optimization_method=Adam", "best_val_accuracy_std"] == pytest.approx(
        ok["best_val_accuracy"].std())
    for name in ("runs.csv", "results.csv", "summary.csv", "val_accuracy.png", "cost.png", "summary.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert len(list((tmp_path / "runs").glob("*.json"))) == 6


def test_resume_computes_only_missing_runs(data, tmp_path, monkeypatch):
    first = sweep(BASE, GRID, data, seeds=[0, 1], epochs=3, out=tmp_path, plots=False, progress=False)
    files = sorted((tmp_path / "runs").glob("*.json"))
    assert len(files) == 8
    files[3].unlink()  # as if the sweep had been stopped before this run finished
    calls = []
    real = compare.run_one
    monkeypatch.setattr(compare, "run_one", lambda spec, *a: calls.append(spec) or real(spec, *a))
    again = sweep(BASE, GRID, data, seeds=[0, 1], epochs=3, out=tmp_path, plots=False, progress=False)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(_without_time(again.runs), _without_time(first.runs))
    # a different number of epochs is a different run
    sweep(BASE, GRID, data, seeds=[0], epochs=2, out=tmp_path, plots=False, progress=False)
    assert len(calls) == 5
    assert json.loads(files[0].read_text())["status"] == "ok"


def test_processes_and_dask_localcluster_give_the_same_table(data):
    distributed = pytest.importorskip("distributed")
    serial = sweep(BASE, GRID, data, seeds=[0, 1], epochs=3, progress=False)
    processes = sweep(BASE, GRID, data, seeds=[0, 1], epochs=3, n_jobs=2, progress=False)
    pd.testing.assert_frame_equal(_without_time(processes.runs), _without_time(serial.runs))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster:
        on_dask = sweep(BASE, GRID, data, seeds=[0, 1], epochs=3, scheduler=cluster.scheduler_address,
                        progress=False, timeout=300)
    pd.testing.assert_frame_equal(_without_time(on_dask.runs), _without_time(serial.runs))
    pd.testing.assert_frame_equal(_without_time(on_dask.summary), _without_time(serial.summary))


def test_bad_arguments_are_named(data):
    with pytest.raises(ValueError, match="epochs"):
        sweep(BASE, GRID, data, epochs=0)
    with pytest.raises(TypeError, match="train_x"):
        sweep(BASE, GRID, (data.train_x, data.train_y), epochs=1)
    with pytest.raises(ValueError, match="same"):
        sweep(BASE, [{"a": 1}, {"a": 1}], data, epochs=1)


def test_fractional_hidden_size_fails_its_run_instead_of_being_truncated(data):
    res = sweep(BASE, [{"hidden": [2.5]}, {"hidden": [2.0]}], data, seeds=[0], epochs=1, plots=False, progress=False)
    assert res.results["status"].tolist() == ["failed", "ok"]
    assert "2.5" in res.results["error"].iloc[0]

"""An interrupt is never a result (issue 21 items 2 and 11): Ctrl-C in a sweep, a ``fit`` or a grid search
propagates after saving what finished; damaged run records are rerun, not trusted."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

import nntoolbox.compare as compare
import nntoolbox.sae as nnsae
import nntoolbox.sklearn as nnsk
from nntoolbox.compare import SweepData, sweep
from nntoolbox.demos import compare_cli
from nntoolbox.datasets.krk import ensure_krk_file
from nntoolbox.sklearn import NNClassifier, NNRegressor, SAETransformer
from nntoolbox.train import nn_train

BASE = {"hidden": [4], "active_function": "tanh", "objective_function": "Cross Entropy", "batch_size": 20}
GRID = {"learning_rate": [0.01, 0.02, 0.03]}


@pytest.fixture(scope="module")
def data() -> SweepData:
    rng = np.random.default_rng(0)
    labels = np.arange(200) % 2
    x = rng.normal(size=(200, 3)) + labels[:, None]
    y = np.eye(2)[labels]
    return SweepData(x[:100], y[:100], x[100:150], y[100:150], x[150:], y[150:])


def ctrl_c_in_call(module, monkeypatch, call: int, epoch: int = 2) -> list[int]:
    """Make the ``call``-th ``nn_train`` of ``module`` (and of ``sae_train``) see a Ctrl-C in its epoch ``epoch``
    (nn_train rolls back and returns ``interrupted=True``, as on a real SIGINT)."""
    calls = []

    def train(nn, option, x, y):
        calls.append(1)
        if len(calls) != call:
            return nn_train(nn, option, x, y)

        def stop(e, _):
            if e == epoch:
                raise KeyboardInterrupt
        return nn_train(nn, {**option, "callback": stop}, x, y)
    monkeypatch.setattr(module, "nn_train", train)
    monkeypatch.setattr(nnsae, "nn_train", train)
    return calls


def test_sweep_reraises_keeps_finished_runs_and_resumes(data, tmp_path, monkeypatch):
    ctrl_c_in_call(compare, monkeypatch, call=2)
    with pytest.raises(KeyboardInterrupt):  # (run_one silences nn_train's warning)
        sweep(BASE, GRID, data, epochs=5, out=tmp_path, progress=False)
    records = [json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*.json")]
    assert [r["status"] for r in records] == ["ok"] and len(records[0]["history"]["epoch"]) == 5
    monkeypatch.undo()
    calls = []
    real = compare.run_one
    monkeypatch.setattr(compare, "run_one", lambda spec, *a: calls.append(spec) or real(spec, *a))
    again = sweep(BASE, GRID, data, epochs=5, out=tmp_path, progress=False, plots=False)
    assert len(calls) == 2  # the interrupted run and the one never started
    assert again.results["status"].tolist() == ["ok"] * 3 and len(again.runs) == 15


def test_compare_script_exits_130_with_one_line(tmp_path, monkeypatch, capsys):
    ctrl_c_in_call(compare, monkeypatch, call=1)
    args = ["--task", "chess", "--data", str(ensure_krk_file()), "--split", "0.03", "0.02", "--seeds", "0",
            "--epochs", "3", "--no-progress", "--out", str(tmp_path), "--config", "optimization_method=Adam"]
    with pytest.raises(SystemExit) as stop:
        compare_cli.main(args)
    assert stop.value.code == 130
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "interrupted" in err[0] and not list((tmp_path / "runs").glob("*.json"))


@pytest.mark.parametrize("content", ["", "{}", '{"key": "abc", "status": "ok", "hist', "[1, 2]", "\x00\xff",
                                     '{"status": "ok"}'])
def test_damaged_run_record_is_rerun_with_a_warning(data, tmp_path, content):
    sweep(BASE, GRID, data, epochs=3, out=tmp_path, progress=False, plots=False)
    path = sorted((tmp_path / "runs").glob("*.json"))[1]
    path.write_bytes(content.encode("latin-1"))
    with pytest.warns(UserWarning, match=path.name):
        again = sweep(BASE, GRID, data, epochs=3, out=tmp_path, progress=False, plots=False)
    assert again.results["status"].tolist() == ["ok"] * 3
    assert json.loads(path.read_text())["status"] == "ok"


def test_complete_records_are_loaded_without_a_warning(data, tmp_path, monkeypatch):
    grid = [{"learning_rate": -1.0}, {}]
    first = sweep(BASE, grid, data, epochs=3, out=tmp_path, progress=False, plots=False)
    assert first.results["status"].tolist() == ["failed", "ok"]
    monkeypatch.setattr(compare, "run_one", lambda *a: pytest.fail("a complete record was rerun"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sweep(BASE, grid, data, epochs=3, out=tmp_path, progress=False, plots=False)


def test_truncated_run_recorded_ok_by_an_older_version_is_rerun(data, tmp_path):
    sweep(BASE, GRID, data, epochs=4, out=tmp_path, progress=False, plots=False)
    path = sorted((tmp_path / "runs").glob("*.json"))[0]
    record = json.loads(path.read_text())
    record["history"] = {k: v[:2] for k, v in record["history"].items()}  # as a swallowed Ctrl-C left it
    path.write_text(json.dumps(record))
    with pytest.warns(UserWarning, match="2 of 4 epochs"):
        again = sweep(BASE, GRID, data, epochs=4, out=tmp_path, progress=False, plots=False)
    assert len(again.runs) == 12


def _blobs(n=60):
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 2
    return rng.normal(size=(n, 3)) + labels[:, None], labels


@pytest.mark.parametrize("make", [lambda: NNClassifier(epochs=5, batch_size=10, random_state=0),
                                  lambda: NNRegressor(epochs=5, batch_size=10, random_state=0),
                                  lambda: SAETransformer(n_hidden=2, epochs=5, batch_size=10, random_state=0)],
                         ids=["classifier", "regressor", "sae"])
def test_fit_reraises_and_keeps_the_previous_state(make, monkeypatch):
    x, y = _blobs()
    est = make()
    with pytest.warns(RuntimeWarning), pytest.raises(KeyboardInterrupt):
        ctrl_c_in_call(nnsk, monkeypatch, call=1)
        est.fit(x, y)
    assert not hasattr(est, "net_") and not hasattr(est, "n_features_in_")
    monkeypatch.undo()
    est.fit(x, y)
    before = dict(vars(est))
    ctrl_c_in_call(nnsk, monkeypatch, call=1)
    with pytest.warns(RuntimeWarning), pytest.raises(KeyboardInterrupt):
        est.fit(x[:, :2], y)  # a different shape: n_features_in_ would change
    assert vars(est) == before


def test_grid_search_stops_on_ctrl_c(monkeypatch):
    x, y = _blobs()
    calls = ctrl_c_in_call(nnsk, monkeypatch, call=3)
    search = GridSearchCV(NNClassifier(epochs=5, batch_size=10, random_state=0), {"learning_rate": [0.01, 0.1]},
                          cv=2)
    with pytest.warns(RuntimeWarning), pytest.raises(KeyboardInterrupt):
        search.fit(x, y)
    assert len(calls) == 3 and not hasattr(search, "best_params_")

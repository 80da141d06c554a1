"""Students' files (nntoolbox.plugins, ``--import FILE.py`` in the scripts) and registrations reaching
worker processes (compare.sweep and GridSearchCV with n_jobs=2)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

import nntoolbox as nt
from nntoolbox import plugins
from nntoolbox.compare import SweepData, sweep
from nntoolbox.datasets.krk import ensure_krk_file
from nntoolbox.demos import chess, homework
from nntoolbox.demos.compare_cli import IMPORTS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "my_optimizer.py"
CHESS = ["--split", "0.05", "0.02", "--no-progress", "--sizes", "10", "--epochs", "2"]

PLUGIN = '''import numba
import nntoolbox as nt


@numba.njit
def update(p, g, state, hyper, t):
    for i in range(p.shape[0]):
        p[i] -= hyper[0] * g[i]


nt.register_optimizer("{opt}", update)
nt.register_activation("{act}", lambda z: z if z > 0 else 0.0, lambda a: 1.0 if a > 0 else 0.0, range=(0, 1e300))
'''


def plugin_file(folder: Path) -> tuple[Path, str, str]:
    """A student's file registering a fresh optimizer and activation (names are per process)."""
    tag = uuid.uuid4().hex[:8]
    opt, act = f"Opt{tag}", f"act{tag}"
    path = folder / f"student_{tag}.py"
    path.write_text(PLUGIN.format(opt=opt, act=act))
    return path, opt, act


def one_line_error(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    return err[0]


# ---------------------------------------------------------------- import_file
def test_import_file_registers_records_and_is_idempotent(tmp_path):
    path, opt, act = plugin_file(tmp_path)
    record = plugins.import_file(path)
    assert record.path == path.resolve() and record.sha256 == plugins.hashlib.sha256(path.read_bytes()).hexdigest()
    assert record in plugins.imported_files() and record.module in plugins.sys.modules
    nt.nn_create([3, 4, 2], "optimization method", opt, "active function", act)
    assert plugins.import_file(str(path)) is record  # the same content: nothing runs again
    path.write_text(path.read_text() + "\n# edited\n")
    with pytest.raises(ValueError, match="changed since it was imported"):
        plugins.import_file(path)
    origins = plugins.origins_for([{"optimization_method": opt.lower(), "active_function": act}])
    assert [o.file for o in origins] == [str(path.resolve())]


@pytest.mark.parametrize("content, expect", [
    ("x = 1\n\nraise RuntimeError('boom\\nmore')\n", r"student\.py: RuntimeError: boom \(line 3\)$"),
    ("def f(:\n", r"student\.py: SyntaxError: .* \(line 1\)$"),
    ("import sys\nsys.exit(3)\n", r"student\.py: SystemExit: 3 \(line 2\)$"),
])
def test_a_failing_file_is_one_import_error_naming_it(tmp_path, content, expect):
    path = tmp_path / "student.py"
    path.write_text(content)
    with pytest.raises(ImportError) as info:
        plugins.import_file(path)
    assert re.search(expect, str(info.value)) and "\n" not in str(info.value)
    assert all(f.path != path.resolve() for f in plugins.imported_files())  # not recorded: it did not run


def test_missing_or_not_python(tmp_path):
    with pytest.raises(ValueError, match="nothere.py: cannot read it"):
        plugins.import_file(tmp_path / "nothere.py")
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(ValueError, match=r"notes.txt: not a Python file"):
        plugins.import_file(tmp_path / "notes.txt")


def test_docs_example_is_the_file():
    """docs/optimizers.md shows docs/examples/my_optimizer.py as it is."""
    doc = (ROOT / "docs" / "optimizers.md").read_text()
    assert EXAMPLE.read_text() in doc


# ---------------------------------------------------------------- the scripts
def test_chess_script_with_the_docs_example(tmp_path):
    out = tmp_path / "out"
    argv = ["--import", str(EXAMPLE), "--optimizer", "MyRMSProp_Nesterov", "--data", str(ensure_krk_file()),
            "--out", str(out), *CHESS]
    assert chess.main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["optimizer"] == "MyRMSProp_Nesterov"
    assert plugins.import_file(EXAMPLE).record() in summary["run"]["imports"]  # every file this process ran


def test_homework_script_with_the_docs_example(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(homework, "HOMEWORK_METHODS", ("normal",))  # the smallest run besides the student's
    argv = ["--import", str(EXAMPLE), "--method", "MyRMSProp_Nesterov", "--krk", str(ensure_krk_file()),
            "--split", "0.03", "0.02", "--seeds", "0", "--epochs", "2", "--no-progress", "--out", str(tmp_path)]
    assert homework.main(argv) == 0
    assert "MyRMSProp_Nesterov (seed 0) AUC" in capsys.readouterr().out
    recorded = json.loads((tmp_path / "chess" / IMPORTS).read_text())["imports"]
    assert {"path": str(EXAMPLE.resolve()), "sha256": plugins.import_file(EXAMPLE).sha256} in recorded


@pytest.mark.parametrize("content", ["raise ValueError('no')\n", None])
def test_a_file_that_fails_is_one_line_and_exit_2(tmp_path, capsys, content):
    path = tmp_path / "bad.py"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SystemExit) as info:
        chess.main(["--import", str(path), "--optimizer", "Adam"])
    assert info.value.code == 2
    assert re.match(r"nn_testChess: error: --import .*bad\.py: ", one_line_error(capsys))


def test_the_script_itself_reports_a_failing_file_in_one_line(tmp_path):
    (tmp_path / "bad.py").write_text("import nntoolbox\nnntoolbox.nothing_here()\n")
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "nn_testChess.py"), "--import",
                           str(tmp_path / "bad.py"), "--optimizer", "MyName"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().endswith("bad.py: AttributeError: module 'nntoolbox' has no attribute "
                                        "'nothing_here' (line 2)") and len(done.stderr.splitlines()) == 1


# ---------------------------------------------------------------- worker processes
def small_data(seed: int = 0) -> SweepData:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(120, 4))
    y = np.eye(2)[(x[:, 0] + x[:, 1] > 0).astype(int)]
    return SweepData(x[:80], y[:80], x[80:100], y[80:100], x[100:], y[100:])


def test_sweep_workers_reregister_from_the_file(tmp_path):
    path, opt, act = plugin_file(tmp_path)
    plugins.import_file(path)
    result = sweep({"hidden": [4], "batch_size": 20, "active_function": act}, {"optimization_method": [opt, "Adam"]}, small_data(),
                   seeds=(0, 1), epochs=2, n_jobs=2, progress=False, plots=False)
    assert result.results["status"].tolist() == ["ok"] * 4, result.results["error"].tolist()


def test_sweep_refuses_a_registration_from_main_with_workers():
    tag = uuid.uuid4().hex[:8]
    exec(f"nt.register_activation('main{tag}', lambda z: z, lambda a: 1.0)", {"__name__": "__main__", "nt": nt})
    config = {"hidden": [4], "batch_size": 20, "active_function": f"main{tag}"}
    with pytest.raises(ValueError, match=f"activation 'main{tag}' was registered in __main__"):
        sweep(config, [{}], small_data(), epochs=1, n_jobs=2, progress=False, plots=False)
    assert sweep(config, [{}], small_data(), epochs=1, progress=False, plots=False).results["status"][0] == "ok"


def test_grid_search_workers_reregister_from_the_file(tmp_path):
    from sklearn.model_selection import GridSearchCV  # noqa: PLC0415

    from nntoolbox.sklearn import NNClassifier  # noqa: PLC0415
    path, opt, act = plugin_file(tmp_path)
    plugins.import_file(path)
    data = small_data()
    search = GridSearchCV(NNClassifier((4,), optimization_method=opt, active_function=act, epochs=2),
                          {"learning_rate": [0.01, 0.1]}, cv=2, n_jobs=2, error_score="raise")
    search.fit(data.train_x, data.train_y.argmax(axis=1))
    assert search.best_estimator_.net_["optimization_method"] == opt


def test_a_changed_file_makes_new_runs(tmp_path, monkeypatch):
    """Resume keys carry the SHA-256 of the file that registered a name the configuration uses."""
    from nntoolbox.optimizers import OPTIMIZERS  # noqa: PLC0415
    path, opt, _ = plugin_file(tmp_path)
    plugins.import_file(path)
    config = {"hidden": [4], "batch_size": 20, "optimization_method": opt}
    first = sweep(config, [{}], small_data(), epochs=1, out=tmp_path / "out", progress=False, plots=False)
    again = sweep(config, [{}], small_data(), epochs=1, out=tmp_path / "out", progress=False, plots=False)
    assert again.results["key"].tolist() == first.results["key"].tolist()
    origin = OPTIMIZERS[opt].origin
    monkeypatch.setattr(OPTIMIZERS[opt], "origin", plugins.Origin(origin.module, origin.file, "0" * 64))
    edited = sweep(config, [{}], small_data(), epochs=1, out=tmp_path / "out", progress=False, plots=False)
    assert edited.results["key"].tolist() != first.results["key"].tolist()
    assert len(list((tmp_path / "out" / "runs").glob("*.json"))) == 2

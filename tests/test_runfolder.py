"""Demo outputs are replaced per run as a whole (nntoolbox.demos.runfolder) and environment or file
problems end with one line and exit code 2 (nntoolbox.demos.common.demo_main)."""
from __future__ import annotations

import hashlib
import json
import os
import re

import pytest

from nntoolbox.datasets.krk import ensure_krk_file
from nntoolbox.demos import chess, common
from nntoolbox.demos.runfolder import DemoError, RunFolder

FAST = ["--split", "0.05", "0.02", "--no-progress", "--engine", "stepwise", "--sizes", "10", "--epochs", "2"]


@pytest.fixture(scope="module")
def krk_path():
    return str(ensure_krk_file())


def files(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def run_chess(krk_path, out, *flags):
    return chess.main(["--data", krk_path, "--out", str(out), *FAST, *flags])


def one_line_error(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    return err[0]


def test_summary_records_every_file_and_what_produced_it(tmp_path, krk_path):
    out = tmp_path / "out"
    assert run_chess(krk_path, out) == 0
    summary = json.loads((out / "summary.json").read_text())
    written = {k: v for k, v in files(out).items() if k != "summary.json"}
    assert {k: v["sha256"] for k, v in summary["files"].items()} == written
    assert summary["run"]["demo"] == "nn_testChess" and summary["run"]["versions"]["nntoolbox"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no lock, staging or temp files


def test_interrupt_while_writing_keeps_the_previous_results(tmp_path, krk_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert run_chess(krk_path, out) == 0
    before = files(out)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(chess, "save_network", interrupted)  # after the plots and CSV files are written
    assert run_chess(krk_path, out, "--seed", "1") == 130
    assert "interrupted; nothing written" in one_line_error(capsys)
    assert files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_new_run_replaces_every_file_of_the_previous_one(tmp_path, krk_path):
    out = tmp_path / "out"
    assert run_chess(krk_path, out) == 0
    (out / "roc.png").unlink()  # a file of the run removed: nothing of the user's is in the way
    assert run_chess(krk_path, out, "--seed", "1") == 0
    assert json.loads((out / "summary.json").read_text())["config"]["seed"] == 1
    assert "roc.png" in files(out)


@pytest.mark.parametrize("case", ["notes beside a run", "changed output", "no manifest"])
def test_a_users_file_is_never_deleted(tmp_path, krk_path, capsys, case):
    """issue 21 item 6: --out DIR holding anything but a previous run's files (by its summary.json) is refused."""
    out = tmp_path / "out"
    if case == "no manifest":
        out.mkdir()
        (out / "history.csv").write_text("my own table\n")
        expect = "--out .*out holds history.csv, which no earlier run wrote \\(no summary.json\\)"
    else:
        assert run_chess(krk_path, out) == 0
        if case == "changed output":
            (out / "history.csv").write_text("edited by hand\n")
            expect = "--out .*out: history.csv was changed since the run of .* wrote it"
        else:
            (out / "notes.txt").write_text("my notes\n")
            expect = "--out .*out holds notes.txt, which the run of .* did not write"
    before = files(out)
    assert run_chess(krk_path, out, "--seed", "1") == 2
    line = one_line_error(capsys)
    assert re.search(expect, line), line
    assert files(out) == before


@pytest.mark.parametrize("case", ["file", "under a file", "foreign folder"])
def test_bad_out_is_one_line_and_exit_2(tmp_path, krk_path, capsys, case):
    target = tmp_path / "target"
    if case == "file":
        target.write_text("not a folder")
        expect = "--out .*target is a file"
    elif case == "under a file":
        (tmp_path / "afile").write_text("")
        target = tmp_path / "afile" / "out"
        expect = "cannot create .*afile for --out"
    else:
        target.mkdir()
        (target / "thesis.tex").write_text("")
        expect = "--out .*target holds thesis.tex, which no earlier run wrote"
    assert run_chess(krk_path, target) == 2
    line = one_line_error(capsys)
    assert re.search(expect, line), line
    assert "--debug shows the traceback" in line


def test_debug_shows_the_traceback(tmp_path, krk_path):
    (tmp_path / "afile").write_text("")
    with pytest.raises(DemoError, match="is a file"):
        run_chess(krk_path, tmp_path / "afile", "--debug")


def test_a_second_run_into_the_same_folder_is_told_of_the_first(tmp_path, krk_path, capsys):
    out = tmp_path / "out"
    with RunFolder(out, "other demo"):
        assert run_chess(krk_path, out) == 2
    line = one_line_error(capsys)
    assert f"another run (pid {os.getpid()}) is writing to {out}" in line
    assert run_chess(krk_path, out) == 0  # the lock went with the first run


def test_leftovers_of_killed_runs_are_cleared(tmp_path):
    out = tmp_path / "out"
    (tmp_path / ".out.run-999999").mkdir()  # killed while writing
    (tmp_path / ".out.run-999999" / "cost.png").write_bytes(b"")
    old = tmp_path / ".out.old-999998"  # killed between the two renames: its result is put back
    old.mkdir()
    (old / "summary.json").write_text("{}")
    (tmp_path / ".out.lock").write_text("999998\n")  # its lock file (not held)
    with RunFolder(out, "demo") as folder:
        assert (out / "summary.json").read_text() == "{}"
        (folder.path / "history.csv").write_text("epoch\n")
        folder.commit({"answer": 42})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(files(out)) == ["history.csv", "summary.json"]
    assert json.loads((out / "summary.json").read_text())["answer"] == 42


def test_one_line_for_os_errors_names_the_path():
    e = PermissionError(13, "Permission denied", "/data/x.png")
    assert common._one_line(e) == "Permission denied: /data/x.png; check the path and its permissions"

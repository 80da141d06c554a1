"""notebooks/: every notebook runs top to bottom on small settings (NNTOOLBOX_NOTEBOOK_FAST=1, no MNIST
needed) without a warning or stderr text in its outputs, and is stored without outputs or execution counts,
so diffs stay readable.  Only the notebooks git tracks count: executed copies saved next to them are not
the project's."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
# a warning as Python prints it ("...: UserWarning: text", "TqdmWarning: ...") or a bare "Warning:" line
WARNING_TEXT = re.compile(r"\b\w*Warning\b:|^\s*warning:", re.IGNORECASE | re.MULTILINE)


def tracked_notebooks(root: Path = ROOT) -> list[Path]:
    """notebooks/*.ipynb that git tracks; every one when this is not a git checkout (an unpacked sdist)."""
    every = sorted((root / "notebooks").glob("*.ipynb"))
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--", "notebooks"], cwd=root, capture_output=True,
                                check=True, timeout=60).stdout.decode().split("\0")
    except (OSError, subprocess.SubprocessError):
        return every
    tracked = {(root / name).resolve() for name in listed if name}
    return [p for p in every if p.resolve() in tracked]


def output_problems(nb: nbformat.NotebookNode) -> list[str]:
    """Cells whose outputs hold an error, stderr text or a warning's text, as 'cell N: ...'."""
    problems = []
    for i, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if o.output_type == "error":
                problems.append(f"cell {i}: {o.ename}: {o.evalue}")
            elif o.output_type == "stream" and o.name == "stderr":
                problems.append(f"cell {i}: stderr: {o.text.strip()[:300]}")
            else:
                texts = [o.text] if o.output_type == "stream" else [
                    v for k, v in o.get("data", {}).items() if k.startswith("text/")]
                problems += [f"cell {i}: warning text: {t.strip()[:300]}" for t in texts if WARNING_TEXT.search(t)]
    return problems


NOTEBOOKS = tracked_notebooks()


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5


def test_untracked_copies_are_ignored(tmp_path):
    (tmp_path / "notebooks").mkdir()
    for name in ("a.ipynb", "a_run.ipynb"):
        (tmp_path / "notebooks" / name).write_text("{}")
    assert [p.name for p in tracked_notebooks(tmp_path)] == ["a.ipynb", "a_run.ipynb"]  # not a checkout: all
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "notebooks/a.ipynb"], check=True)
    assert [p.name for p in tracked_notebooks(tmp_path)] == ["a.ipynb"]


def test_output_problems_finds_warnings_and_stderr():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")] * 1)
    clean = [nbformat.v4.new_output("stream", name="stdout", text="validation MSE 0.01\n"),
             nbformat.v4.new_output("display_data", data={"text/plain": "<Figure size 640x480>"})]
    nb.cells[0].outputs = clean
    assert output_problems(nb) == []
    for bad in (nbformat.v4.new_output("stream", name="stderr", text="nn_train: 100%|####| 3/3\n"),
                nbformat.v4.new_output("stream", name="stdout",
                                       text="x.py:3: TqdmWarning: IProgress not found. Please update jupyter\n"),
                nbformat.v4.new_output("display_data", data={"text/plain": "RuntimeWarning: overflow"})):
        nb.cells[0].outputs = [*clean, bad]
        assert len(output_problems(nb)) == 1, bad


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name} cell {i}: clear its output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_without_warnings(path, tmp_path, monkeypatch):
    monkeypatch.setenv("NNTOOLBOX_NOTEBOOK_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    problems = output_problems(nb)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)

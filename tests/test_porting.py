"""docs/porting.md: its worked port of nn_testChess.m runs (a few epochs) and leaves a network that
predicts on raw positions."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from nntoolbox import nn_predict
from nntoolbox.io import nn_load

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "porting.md"


def worked_port(text: str) -> str:
    section = text.split("## Worked port: nn_testChess.m", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the worked port is one python block"
    return blocks[0]


def test_worked_port_of_nn_testchess_runs(tmp_path, monkeypatch, capsys):
    code = worked_port(GUIDE.read_text(encoding="utf-8"))
    assert "max_iteration = 10000" in code
    monkeypatch.chdir(tmp_path)  # it saves storedNN.mat in the working directory
    namespace: dict = {}
    exec(compile(code.replace("max_iteration = 10000", "max_iteration = 3"), str(GUIDE), "exec"), namespace)
    assert "test accuracy" in capsys.readouterr().out
    assert namespace["iteration"] == 4 and len(namespace["total_accuracy"]) == 4  # MATLAB's while runs N+1 times
    stored = nn_load(tmp_path / "storedNN.mat")
    x, y = namespace["x_testing"], namespace["y_testing"]  # raw positions
    accuracy = np.mean(nn_predict(stored, x).argmax(axis=1) == y.argmax(axis=1))
    assert abs(accuracy - namespace["accuracy"]) < 1e-12

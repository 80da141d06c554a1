"""scripts/bench_cold.py's plumbing (no timings): a child times one first epoch and prints it as JSON;
a missing floor or a bad --pairs is refused with exit code 2."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_cold.py"
FLOOR = Path(__file__).resolve().parents[2] / "shared" / "bench" / "floor.py"


def _run(tmp_path, *args):
    # the floor's kernels cache under XDG_CACHE_HOME (bench.load_floor); nntoolbox's where they always do
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(not FLOOR.is_file(), reason="../shared/bench/floor.py is not there")
@pytest.mark.parametrize("kind", ["floor", "course"])
def test_a_child_times_its_first_epoch(tmp_path, kind):
    done = _run(tmp_path, "--child", kind, "--floor", str(FLOOR))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["kind"] == kind and result["seconds"] > 0 and result["wall"] > 0


@pytest.mark.parametrize("args, message", [(["--floor", "/nonexistent/floor.py"], "no floor at"),
                                           (["--pairs", "0", "--floor", str(FLOOR)], "--pairs must be at least 1")])
def test_bad_settings_are_refused(tmp_path, args, message):
    if "--pairs" in args and not FLOOR.is_file():
        pytest.skip("../shared/bench/floor.py is not there")
    done = _run(tmp_path, *args)
    assert done.returncode == 2 and message in done.stderr

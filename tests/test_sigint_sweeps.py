"""Ctrl-C at random moments of a sweep and of a grid search, in a loop (issue 21, "an interrupt is never a
result").

``scripts/compare.py`` (a small chess sweep, resumed by every try in the same folder) and a small
``GridSearchCV`` over ``NNClassifier`` run in subprocesses that get a SIGINT at a random moment.
Allowed outcomes: exit 130 with one line (the script), ``KeyboardInterrupt`` with the search left
unfitted (the grid search), or death while the interpreter starts (before any of this code runs).  Never a traceback from
the script, never a finished search or sweep (the interrupt swallowed), never a run record that is
truncated or marked ok with fewer epochs than asked, never fewer records than before (finished runs
are kept), never stray temporary files.  ``NNTOOLBOX_SIGINT_TRIES`` sets the tries per loop (default
3), ``NNTOOLBOX_SIGINT_SEED`` the random moments.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nntoolbox.datasets.krk import ensure_krk_file
from test_sigint import finish, wait_for_line

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "compare.py"
TRIES = int(os.environ.get("NNTOOLBOX_SIGINT_TRIES", "3"))
SEED = int(os.environ.get("NNTOOLBOX_SIGINT_SEED", "0"))
SWALLOWED_AFTER = 60.0  # seconds without exit after the SIGINT: the interrupt was lost
EPOCHS = 30

SEARCH = """
import sys, warnings
import numpy as np
from sklearn.model_selection import GridSearchCV
from nntoolbox.sklearn import NNClassifier
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
y = np.arange(300) % 2
x = rng.normal(size=(300, 4)) + y[:, None]
search = GridSearchCV(NNClassifier(hidden_layer_sizes=(8,), epochs=4000, batch_size=20, random_state=0),
                      {"learning_rate": [0.001, 0.01, 0.1], "optimization_method": ["Adam", "RMSProp"]},
                      cv=3, n_jobs=int(sys.argv[1]))
print("fitting", flush=True)
try:
    search.fit(x, y)
except KeyboardInterrupt:
    print("KeyboardInterrupt", "fitted" if hasattr(search, "best_params_") else "unfitted", flush=True)
    raise SystemExit(130)
print("finished", flush=True)
"""


def records(out: Path) -> dict[str, dict]:
    runs = out / "runs"
    return {p.name: json.loads(p.read_text()) for p in sorted(runs.glob("*.json"))} if runs.is_dir() else {}


def wait_for(proc: subprocess.Popen, prefix: str) -> bool:
    return wait_for_line(proc, prefix, [])


def before_our_code(code: int, err: str) -> bool:
    """Killed while the interpreter starts, before ``scripts/_launch.py`` holds Ctrl-C: by the signal, or by a
    KeyboardInterrupt in site's imports (exit 1, or "Fatal Python error" and SIGABRT)."""
    ours = ("_launch.py", "compare.py", "/nntoolbox/")
    return code in (-signal.SIGINT, 1, -signal.SIGABRT) and not any(name in err for name in ours)


def interrupt(proc: subprocess.Popen, delay: float) -> tuple[int | None, str, str, float]:
    """SIGINT after ``delay`` seconds; the exit status (None: still running, killed), output, and when
    the signal was sent (``time.time()``)."""
    time.sleep(delay)
    sent = time.time()
    proc.send_signal(signal.SIGINT)
    finished = finish(proc, SWALLOWED_AFTER)
    return (None, "", "", sent) if finished is None else (proc.returncode, *finished, sent)


@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_in_compare_script_sweeps(tmp_path, jobs):
    out = tmp_path / "out"
    cmd = [sys.executable, "-u", str(SCRIPT), "--task", "chess", "--data", str(ensure_krk_file()), "--split", "0.05",
           "0.02", "--seeds", "0", "1", "2", "--epochs", str(EPOCHS), "--base", "hidden=8 8", "--config",
           "optimization_method=Adam", "--config", "optimization_method=RMSProp", "--jobs", str(jobs),
           "--no-progress", "--out", str(out)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    rng = np.random.default_rng(SEED + jobs)
    # a whole sweep first: the SIGINTs come within the time its runs took (the machine's load decides it)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_for(proc, "KRK")
    start = time.time()
    assert finish(proc, 900) is not None and proc.returncode == 0
    sweep_seconds = time.time() - start
    bad, outcomes = [], []
    for i in range(TRIES):
        if len(records(out)) >= 4:  # leave work for this try: a resume of a finished sweep ends at once
            for name in rng.choice(sorted(records(out)), 3, replace=False):
                (out / "runs" / name).unlink()
        before = records(out)
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        starting = i % 4 == 3  # every 4th try: while the libraries load
        if not starting and not wait_for(proc, "KRK"):
            proc.wait()
            bad.append(("ended before the sweep", proc.stderr.read()))
            continue
        code, _, err, sent = interrupt(proc, rng.uniform(0.1, 1.0) if starting else
                                       rng.uniform(0, 0.6 * sweep_seconds))
        after = records(out)
        outcomes.append(code)
        lines = [line for line in err.splitlines() if line.strip()]
        if code is None:
            bad.append(("interrupt swallowed (still running)", ""))
        elif code == 0:
            if not (out / "summary.csv").stat().st_mtime < sent:  # else: it had ended before the signal
                bad.append(("ran to the end (interrupt swallowed)", err))
        elif code == 130 and (len(lines) != 1 or "Traceback" in err):
            bad.append(("not a one-line message", err))
        elif code != 130 and not (starting and before_our_code(code, err)):
            bad.append((f"exit {code}", err[-3000:]))
        if set(before) - set(after):
            bad.append(("finished runs lost", str(set(before) - set(after))))
        for name, r in after.items():
            if r["status"] != "ok" or len(r["history"]["epoch"]) != EPOCHS:
                bad.append(("run recorded truncated or not ok", name))
        stray = [p.name for p in out.rglob("*") if p.name.endswith(".tmp")]
        if stray:
            bad.append(("stray temporary files", str(stray)))
    print(f"\ncompare.py --jobs {jobs}: {len(outcomes)} tries, exit codes {sorted(outcomes, key=str)}, "
          f"{len(records(out))} of 6 runs finished")
    assert not bad, bad[:5]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)  # the resume completes it
    assert done.returncode == 0, done.stderr
    assert len(records(out)) == 6 and all(r["status"] == "ok" for r in records(out).values())


@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_in_grid_search(tmp_path, jobs):
    rng = np.random.default_rng(SEED + 10 + jobs)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    bad, outcomes = [], []
    for _ in range(TRIES):
        proc = subprocess.Popen([sys.executable, "-u", "-c", SEARCH, str(jobs)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        if not wait_for(proc, "fitting"):
            proc.wait()
            bad.append(("ended before fitting", proc.stderr.read()))
            continue
        code, out, err, _ = interrupt(proc, rng.uniform(0, 3.0))
        outcomes.append(code)
        if code is None:
            bad.append(("interrupt swallowed (still running)", ""))
        elif "finished" in out:
            bad.append(("the search finished (interrupt swallowed)", out))
        elif code != 130 or "KeyboardInterrupt unfitted" not in out:
            bad.append((f"exit {code}", out + err[-2000:]))
    print(f"\nGridSearchCV n_jobs={jobs}: {len(outcomes)} tries, exit codes {sorted(outcomes, key=str)}")
    assert not bad, bad[:5]

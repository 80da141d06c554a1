"""A read-only install used by a user whose home is not writable (issue 14).

The package is installed non-editable (copied, as pip would) into a
root-owned directory and imported by ``nobody`` with ``HOME=/nonexistent``:
import and a short training run must work, caching the compiled kernels in
a private temp directory (the choice itself: tests/test_kernel_cache.py).  Needs root (to switch users); skipped with a message elsewhere.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOBODY = 65534

pytestmark = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                                reason="switching to an unprivileged user needs root (CI runs as root)")

TRAIN = """
import numpy as np, nntoolbox
from nntoolbox import nn_create, nn_train, nn_test
assert nntoolbox.__file__.startswith({site!r}), nntoolbox.__file__
rng = np.random.default_rng(0)
x = rng.random((60, 4)); y = np.eye(2)[(x[:, 0] > 0.5).astype(int)]
nn = nn_create([4, 5, 2], 'dropout', 'inverted', 'keep probability', 0.9, seed=0)
nn = nn_train(nn, {{'batch_size': 10, 'iteration': {epochs}, 'engine': {engine!r}}}, x, y)
print('accuracy', nn_test(nn, x, y)[1])
"""


@pytest.fixture(scope="module")
def install():
    """A root-owned, world-readable non-editable install of this checkout; yields its site directory."""
    base = Path(tempfile.mkdtemp(prefix="nntoolbox-ro-", dir="/tmp"))
    try:
        base.chmod(0o755)
        site = base / "site"
        # what a non-editable install puts in site-packages (pure Python): a copy of the package, root-owned,
        # without compiled kernels (building a wheel here would need the network for setuptools/wheel)
        shutil.copytree(ROOT / "nntoolbox", site / "nntoolbox", ignore=shutil.ignore_patterns("__pycache__"))
        assert not (site / "nntoolbox" / "kernels" / "__pycache__").exists()
        yield base, site
    finally:
        shutil.rmtree(base)


def _runs_as_nobody(exe: str, code: str = "pass", **env: str) -> bool:
    try:
        return subprocess.run([exe, "-c", code], user=NOBODY, group=NOBODY, cwd="/", env=env,
                              capture_output=True, timeout=120).returncode == 0
    except OSError:
        return False


def _dependency_dirs() -> list[str]:
    """Where this interpreter's dependencies are installed; they are passed on to ``nobody``'s runs."""
    return [p for p in sys.path if p.endswith("site-packages")]


@pytest.fixture(scope="module")
def python() -> str:
    """This Python, or the system's of the same version (this one may live in root's home, e.g. pyenv)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    exe = next((exe for exe in (sys.executable, f"/usr/bin/{version}", f"/usr/local/bin/{version}")
                if os.path.exists(exe) and _runs_as_nobody(exe)), None)
    if exe is None:
        pytest.skip(f"no {version} interpreter that an unprivileged user may run")
    # probe first: a virtual environment in a directory only root can read (a clone under /root) hides them
    deps = _dependency_dirs()
    if not _runs_as_nobody(exe, "import numpy, scipy, numba, threadpoolctl, psutil",
                           PYTHONPATH=os.pathsep.join(deps), HOME="/nonexistent"):
        pytest.skip(f"user nobody cannot import the dependencies from where they are installed "
                    f"({', '.join(deps)}; is a directory on the way, e.g. /root, closed to other users?); "
                    "the read-only install needs them readable, as in CI")
    return exe


def run_as_nobody(python: str, site: Path, code: str, tmpdir: Path, **extra: str) -> subprocess.CompletedProcess:
    # the dependencies come from this interpreter's site-packages, after the install under test
    env = {"HOME": "/nonexistent", "PATH": "/usr/bin:/bin", "TMPDIR": str(tmpdir),
           "PYTHONPATH": os.pathsep.join([str(site), *_dependency_dirs()]), "PYTHONDONTWRITEBYTECODE": "1",
           **extra}
    return subprocess.run([python, "-c", code], env=env, user=NOBODY, group=NOBODY, cwd="/",
                          capture_output=True, text=True, timeout=300)


def test_trains_from_readonly_install_caching_in_private_temp_dir(install, python):
    base, site = install
    tmpdir = base / "tmp"
    tmpdir.mkdir(mode=0o777)
    tmpdir.chmod(0o1777)
    # both engines: the fused kernels and the stepwise path's optimizer and dropout kernels
    code = TRAIN.format(site=str(site), epochs=2, engine="fused") + \
        TRAIN.format(site=str(site), epochs=1, engine="stepwise")
    result = run_as_nobody(python, site, code, tmpdir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("accuracy") == 2
    cache = tmpdir / f"nntoolbox-numba-{NOBODY}"
    assert cache.stat().st_uid == NOBODY and cache.stat().st_mode & 0o777 == 0o700
    assert list(cache.rglob("*.nbi")), "no kernel was cached"
    assert not (site / "nntoolbox" / "kernels" / "__pycache__").exists()


DEMO = ["--epochs", "1", "--sizes", "10", "--split", "0.05", "0.02", "--no-progress"]


@pytest.mark.parametrize("case", ["unwritable cwd", "unwritable home", "NNTOOLBOX_DATA read-only",
                                  "NNTOOLBOX_DATA a file"])
def test_demo_environment_problems_are_one_line_exit_2(install, python, case):
    base, site = install
    tmpdir = base / "tmp"
    tmpdir.mkdir(mode=0o777, exist_ok=True)
    tmpdir.chmod(0o1777)
    out = ["--out", str(tmpdir / f"out-{case.split()[-1]}")]
    env = {}
    if case == "unwritable cwd":  # the default --out, results/nn_testChess, under / (root's)
        out, expect = [], "cannot create /results for --out results/nn_testChess"
    elif case == "unwritable home":  # NNTOOLBOX_DATA unset: the generated data would go to ~/.cache
        expect = "cannot write the generated KRK data to /nonexistent/.cache/nntoolbox/krkopt.data"
    elif case == "NNTOOLBOX_DATA read-only":
        env["NNTOOLBOX_DATA"] = str(site)
        expect = f"NNTOOLBOX_DATA={site}; set NNTOOLBOX_DATA to a writable directory"
    else:
        env["NNTOOLBOX_DATA"] = str(site / "nntoolbox" / "__init__.py")
        expect = "__init__.py; set NNTOOLBOX_DATA to a writable directory"
    code = f"import runpy, sys; sys.argv = {['nn_testChess', *DEMO, *out]!r}; " \
           "runpy.run_module('nntoolbox.demos.chess', run_name='__main__')"
    result = run_as_nobody(python, site, code, tmpdir, **env)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert expect in lines[0] and "Traceback" not in result.stderr, lines[0]

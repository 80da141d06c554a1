"""scripts/bench.py's measurement plumbing (no timings): its floors compute what they claim.

Run in a subprocess: importing bench.py registers its "UserAdam" optimizer, which must not leak into
the other tests' registry."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"

CHECKS = textwrap.dedent('''
    import numba, numpy as np
    from pathlib import Path
    import bench
    from nntoolbox.kernels import optim

    # the floor's Adam pass is the course's Adam (the built-in in 'course' mode), in either dtype
    for dt, tol in ((np.float64, 1e-15), (np.float32, 1e-6)):
        rng = np.random.default_rng(0)
        p = rng.standard_normal(1000).astype(dt)
        q, s1, s2 = p.copy(), np.zeros((2, 1000), dt), np.zeros((2, 1000), dt)
        for t in (1.0, 2.0, 3.0):
            g = rng.standard_normal(1000).astype(dt)
            bench.user_adam(p, g, s1, np.array([0.01, 0.9, 0.999]), t)
            optim.adam(q, g, s2, np.array([0.01, 0.0]), t)
        assert p.dtype == dt and np.max(np.abs(p - q)) <= tol * np.max(np.abs(q)), (dt, np.max(np.abs(p - q)))

    # as many parameters as the engine's flat buffer (what its optimizer loops over)
    nn = bench._mnist_net("float32")
    assert bench._n_params(nn) == nn.checked_buffers().params.size == 390607

    assert bench.median_quartiles([4.0, 1.0, 3.0, 2.0, 5.0]) == (3.0, 2.0, 4.0)
    assert bench.median_quartiles([2.5]) == (2.5, 2.5, 2.5)
    times = {"fused": [[2.0, 2.0], [3.0, 3.0], [1.0, 1.0]], "floor": [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]}
    row = bench._floor_row("MNIST-size float64 x", "GEMM + Adam floor", times)
    assert row["fused / floor"] == 2.0 and row["quartiles"] == "[1.50, 2.50]" and row["target"] == "<= 1.1: NOT met"

    # floor.py by path: None when absent; its kernels cached in the user's folder, not beside it
    folder = Path(TMP) / "bench"
    folder.mkdir()
    (folder / "floor.py").write_text("from numba import njit\\n@njit(cache=True)\\ndef one():\\n    return 1\\n")
    assert bench.load_floor(folder / "missing.py") is None
    before = numba.config.CACHE_DIR
    floor = bench.load_floor(folder / "floor.py")
    assert floor.one() == 1 and numba.config.CACHE_DIR == before
    assert not (folder / "__pycache__").exists()
    assert any((Path(TMP) / "cache" / "nntoolbox" / "bench-floor").rglob("floor.one*.nbi"))

    # the demo run against the real floor, when ../shared is there: whole runs, a ratio per epoch
    real = bench.load_floor(bench.FLOOR)
    if real is not None:
        row = bench._demo_run_row(real, 4, 1)
        assert row["fused / floor"] > 0 and row["target"].startswith("<= 1.15"), row
    print("ok")
''')


def test_bench_floors_and_ratios(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("NUMBA_CACHE_DIR", None)
    code = f"TMP = {str(tmp_path)!r}\n" + CHECKS
    out = subprocess.run([sys.executable, "-c", code], cwd=SCRIPTS, env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-3000:]

"""The built-in activations' block kernels are cached on disk, each under its own name: a fresh process
loads them instead of compiling, and loads the right one (one loop body serves every activation)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

_PROBE = """
import json, numba, numpy as np
from nntoolbox.activations import ACTIVATIONS
run_f = numba.njit(lambda k, z, n: k(z, n))
run_df = numba.njit(lambda k, a, t: k(a, t))
out = {}
for name, dt in (("sigmoid", np.float64), ("tanh", np.float64), ("relu", np.float64), ("sigmoid", np.float32)):
    f, df = ACTIVATIONS[name].kernel(dt, "f"), ACTIVATIONS[name].kernel(dt, "df")
    z = np.linspace(-2, 2, 8).astype(dt)
    run_f(f, z, 2)
    t = np.full(8, 3, dt)
    run_df(df, z, t)
    out[name + np.dtype(dt).name] = [z.tolist(), t.tolist(), f.cache_hits + df.cache_hits]
print(json.dumps(out))
"""


def _probe(cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_builtin_block_kernels_load_from_the_cache_each_its_own(tmp_path):
    first, second = _probe(tmp_path), _probe(tmp_path)
    z = np.linspace(-2, 2, 8)
    expected = {"sigmoid": 1 / (1 + np.exp(-z)), "tanh": np.tanh(z), "relu": np.maximum(z, 0)}
    for key, (values, grads, hits) in second.items():
        name, dtype = key[:-7], key[-7:]
        assert hits == 2, f"{key}: compiled again instead of loaded"
        assert first[key][2] == 0
        assert first[key][:2] == [values, grads], key
        rtol = 1e-6 if dtype == "float32" else 1e-15
        np.testing.assert_allclose(values, expected[name], rtol=rtol, atol=rtol, err_msg=key)



def test_block_kernels_keep_special_values_bit_for_bit():
    """The block loop multiplies by a runtime 1 (so relu's store stays unconditional and fast): every
    value must come out as the scalar function gives it, signed zeros, infinities and NaN included."""
    import numba  # noqa: PLC0415

    from nntoolbox.activations import ACTIVATIONS  # noqa: PLC0415

    run_f = numba.njit(lambda k, z, n: k(z, n))
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300, -1e-300, 3.5, -3.5, 1e30, -1e30, 5e-324]
    scalar = {"relu": lambda v: v if v > 0 else 0.0, "leaky_relu": lambda v: v if v > 0 else 0.01 * v,
              "linear": lambda v: v}
    for name, f_py in scalar.items():
        for dt in (np.float32, np.float64):
            z = np.array(special, dtype=dt)
            want = np.array([f_py(float(v)) for v in z], dtype=dt)  # in float64, as Numba evaluates 0.01 * v
            got = z.copy()
            run_f(ACTIVATIONS[name].kernel(dt, "f"), got, 3)
            assert np.array_equal(got, want, equal_nan=True), (name, dt, got, want)
            assert np.array_equal(np.signbit(got), np.signbit(want)), (name, dt, got, want)

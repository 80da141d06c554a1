"""vexp (nntoolbox.kernels.vexp): exp to within 1 ulp over the whole range of each dtype, the special values,
and a loop over it that LLVM vectorises."""
from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from llvmlite import binding as llvm

from nntoolbox.kernels.vexp import vexp

INT = {np.float64: np.int64, np.float32: np.int32}
# the whole range of inputs with a finite nonzero result, and a little beyond it
RANGE = {np.float64: (-746.0, 710.0), np.float32: (-104.0, 89.0)}


@numba.njit(error_model="numpy")
def _vexp_loop(x, out):
    for i in range(x.shape[0]):
        out[i] = vexp(x[i])


def _vexp(x):
    out = np.empty_like(x)
    _vexp_loop(x, out)
    return out


def _true_exp(x):
    """exp rounded to x's dtype: float64 from long double, float32 from float64 (within 1 ulp of exact)."""
    wide = np.longdouble if x.dtype == np.float64 else np.float64
    with np.errstate(over="ignore", under="ignore"):
        return np.exp(x.astype(wide)).astype(x.dtype)


def _ulps(a, b):
    """Distance in units in the last place (steps between adjacent floats, subnormals included)."""
    it = INT[a.dtype.type]
    return np.abs(a.view(it).astype(np.int64) - b.view(it).astype(np.int64))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_within_one_ulp_over_the_whole_range(dtype):
    lo, hi = RANGE[dtype]
    x = np.concatenate([np.linspace(lo, hi, 2_000_001), np.linspace(-1, 1, 200_001)]).astype(dtype)
    got, true = _vexp(x), _true_exp(x)
    assert _ulps(got, true).max() <= 1
    if dtype == np.float64:  # and np.exp, the numpy engine's exp
        with np.errstate(over="ignore"):
            assert _ulps(got, np.exp(x)).max() <= 1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_special_values_and_the_edges(dtype):
    info = np.finfo(dtype)
    lo, hi = RANGE[dtype]
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, hi, 1e30, lo, -1e30, info.tiny, -info.tiny,
                  np.log(info.max), np.log(info.tiny), np.log(info.smallest_subnormal)], dtype=dtype)
    got = _vexp(x)
    assert got[0] == np.inf and got[1] == 0.0 and np.isnan(got[2]) and got[3] == got[4] == 1.0
    assert got[5] == got[6] == np.inf and got[7] == got[8] == 0.0 and got[9] == got[10] == 1.0
    assert _ulps(got[11:], _true_exp(x[11:])).max() <= 1
    assert 0 < got[13] < info.tiny  # a subnormal result


@settings(max_examples=300, deadline=None)
@given(st.floats(-800, 800, allow_nan=False), st.floats(-120, 100, allow_nan=False, width=32))
def test_random_inputs(x64, x32):
    for x in (np.array([x64]), np.array([x32], dtype=np.float32)):
        assert _ulps(_vexp(x), _true_exp(x)).max() <= 1


def test_the_loop_is_vectorised():
    """256-bit (or wider) vector registers in the loop's machine code, where the machine has them."""
    if not llvm.get_host_cpu_features().get("avx2", False):
        pytest.skip("no AVX2 on this machine")
    asm = _vexp_loop.inspect_asm(_vexp_loop.signatures[0])
    assert "ymm" in asm or "zmm" in asm

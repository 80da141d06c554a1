"""options.check_number: the package's one number check (option values, field edits, training
options, sweep and estimator settings, data-set sizes, thread counts)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from nntoolbox.options import check_number


@pytest.mark.parametrize("value, kwargs, expected", [
    (1.5, {}, 1.5),
    (3, {}, 3.0),
    (np.float32(0.5), {"lo": 0, "hi": 1}, 0.5),
    (np.array([2.0]), {}, 2.0),
    (np.array([[4]]), {"integer": True}, 4),
    (np.int64(7), {"lo": 1, "integer": True}, 7),
    (3.0, {"lo": 1, "integer": True}, 3),  # MATLAB's numbers are doubles
    (1, {"lo": 0, "hi": 1}, 1.0),  # closed ends include the bound
])
def test_numbers_that_pass(value, kwargs, expected):
    got = check_number(value, "x", **kwargs)
    assert got == expected and type(got) is (int if kwargs.get("integer") else float)


@pytest.mark.parametrize("value, kwargs, error, match", [
    (True, {}, TypeError, r"x must be a number; got True"),
    (np.bool_(False), {}, TypeError, r"x must be a number"),
    ("1", {}, TypeError, r"x must be a number; got '1'"),
    (None, {"lo": 1, "integer": True}, TypeError, r"x must be a positive integer; got None"),
    (np.zeros(2), {}, TypeError, r"x must be a number"),
    (float("nan"), {}, ValueError, r"x must be finite; got nan"),
    (float("inf"), {}, ValueError, r"x must be finite; got inf"),
    (10 ** 400, {"hi": 5}, ValueError, r"x must be in \(-inf, 5\]"),
    (float("inf"), {"lo": 0, "lo_open": True}, ValueError, r"x must be in \(0, inf\); got inf"),
    (0, {"lo": 0, "lo_open": True}, ValueError, r"x must be in \(0, inf\); got 0"),
    (1, {"lo": 0, "hi": 1, "hi_open": True}, ValueError, r"x must be in \[0, 1\); got 1"),
    (np.float64(1.5), {"lo": 0, "hi": 1}, ValueError, r"x must be in \[0, 1\]; got 1.5"),
    (2.5, {"lo": 1, "integer": True}, TypeError, r"x must be a positive integer; got 2.5"),
    (2.5, {"integer": True}, TypeError, r"x must be an integer; got 2.5"),
    (-1, {"lo": 0, "integer": True}, ValueError, r"x must be a non-negative integer; got -1"),
    (0, {"lo": 1, "integer": True}, ValueError, r"x must be a positive integer; got 0"),
    (1, {"lo": 2, "hi": 9, "integer": True}, ValueError, r"x must be an integer in \[2, 9\]; got 1"),
])
def test_bad_numbers_name_the_argument_and_the_rule(value, kwargs, error, match):
    with pytest.raises(error, match=match):
        check_number(value, "x", **kwargs)


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(-10, 10), st.floats(0, 10),
       st.booleans(), st.booleans())
def test_accepts_exactly_the_finite_numbers_in_range(v, lo, width, lo_open, hi_open):
    hi = lo + width
    inside = np.isfinite(v) and (lo < v if lo_open else lo <= v) and (v < hi if hi_open else v <= hi)
    try:
        assert check_number(v, "x", lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open) == v and inside
    except ValueError:
        assert not inside


def test_large_integers_stay_exact():
    seed = 2 ** 64 - 1  # a uint64 dropout seed: a float would round it to 2 ** 64
    assert check_number(seed, "x", lo=0, hi=2 ** 64, hi_open=True, integer=True) == seed
    assert check_number(np.uint64(seed), "x", lo=0, integer=True) == seed
    with pytest.raises(ValueError, match=r"x must be an integer in \[0, 18446744073709551616\)"):
        check_number(2 ** 64, "x", lo=0, hi=2 ** 64, hi_open=True, integer=True)


def test_messages_stay_short():
    for value in ("x" * 10_000, 10 ** 1000, list(range(1000))):
        with pytest.raises((TypeError, ValueError)) as e:
            check_number(value, "x", hi=5)
        assert len(str(e.value)) < 200

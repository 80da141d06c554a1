"""nntoolbox limits BLAS threads inside its calls (threadpoolctl), configurable."""
from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import nntoolbox as nt

X = np.random.default_rng(0).random((40, 5))
Y = np.eye(2)[np.random.default_rng(1).integers(2, size=40)]


def _blas_threads_inside_training() -> list[int]:
    seen = []
    nt.nn_train(nt.nn_create([5, 8, 2], seed=0), {"batch_size": 10, "iteration": 1,
                                                 "callback": lambda e, nn: seen.extend(
                                                     i["num_threads"] for i in threadpool_info()
                                                     if i["user_api"] == "blas")}, X, Y)
    return seen


def test_training_uses_one_blas_thread_by_default_and_the_knob_changes_it():
    assert nt.blas_threads() == 1
    assert _blas_threads_inside_training() and set(_blas_threads_inside_training()) == {1}
    try:
        nt.set_blas_threads(2)
        assert set(_blas_threads_inside_training()) == {2}
    finally:
        nt.set_blas_threads(1)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "two", True])
def test_bad_thread_counts_are_refused(bad):
    with pytest.raises(ValueError, match="positive integer or None"):
        nt.set_blas_threads(bad)

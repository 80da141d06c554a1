"""Parity with the course's MATLAB code (reference runs made with GNU Octave).

For every fixture: start from the recorded initial network, replay the
recorded batch orders, and match the one-step state, the trained network and
the predictions to 1e-9 relative -- through both the step-by-step functions
and the fused Numba engine.
"""
from __future__ import annotations

import numpy as np
import pytest

from conftest import assert_close, struct_field
from nntoolbox import (nn_applygradient, nn_backpropagation, nn_forward, nn_predict, nn_test, nn_train,
                       sae_train)
from nntoolbox.io import from_matlab_struct

ENGINES = ("stepwise", "fused")
PARAM_FIELDS = ("W", "b", "Gamma", "Beta", "E", "S")
STATE_FIELDS = ("vW", "vb", "vGamma", "vBeta", "rW", "rb", "rGamma", "rBeta", "sW", "sb", "sGamma", "sBeta")


def _initial(case):
    nn = from_matlab_struct(case["nn_initial"])
    if case["kind"] == "sae":
        nn["encoder"] = 1  # sae_train sets it before nn_train
    return nn


def _compare_fields(nn, ref, fields, what):
    names = ref.dtype.names
    for f in fields:
        if f in names:
            expected = struct_field(ref, f)
            assert len(nn[f]) == len(expected), f"{what}.{f}: layer count"
            for k, (a, e) in enumerate(zip(nn[f], expected)):
                assert_close(a, e, f"{what}.{f}[{k}]")


def test_one_step(parity_case):
    name, case = parity_case
    nn = _initial(case)
    if nn["optimization_method"] == "Adam":
        nn["AdamTime"] = 1  # as nn_train does before the first batch
    idx = case["perms0"][0, :case["batch_size"]]
    x, y = case["X"][idx], case["Y"][idx]
    nn = nn_forward(nn, x, y)
    nn = nn_backpropagation(nn, y)
    ref = case["step_after_forward_backward"]
    assert_close(nn.cost, ref[0, 0]["cost"], f"{name} cost")
    for k, (a, e) in enumerate(zip(nn.a, struct_field(ref, "a"))):
        assert_close(a, e, f"{name} a[{k}]")
    for k, (t, e) in enumerate(zip(nn.theta, struct_field(ref, "theta"))):
        assert_close(t, e, f"{name} theta[{k}]")
    _compare_fields(nn, ref, ("W_grad", "b_grad", "Gamma_grad", "Beta_grad", "E", "S"), name)
    nn = nn_applygradient(nn)
    _compare_fields(nn, case["step_after_apply"], PARAM_FIELDS + STATE_FIELDS, f"{name} after apply")


@pytest.mark.parametrize("engine", ENGINES)
def test_training(parity_case, engine):
    name, case = parity_case
    nn = _initial(case)
    option = {"batch_size": case["batch_size"], "iteration": case["epochs"], "order": case["perms0"],
              "engine": engine}
    if case["kind"] == "sae":
        nn = sae_train(nn, option, case["X"])
    else:
        nn = nn_train(nn, option, case["X"], case["Y"])
    ref = case["nn_trained"]
    _compare_fields(nn, ref, PARAM_FIELDS + STATE_FIELDS + ("W_grad", "b_grad"), f"{name}/{engine}")
    assert_close(nn.cost, ref[0, 0]["cost"], f"{name}/{engine} cost history")
    for f in ("vecNum", "AdamTime"):
        if f in ref.dtype.names:
            assert nn[f] == ref[0, 0][f].item(), f
    assert_close(nn_predict(nn, case["X"]), case["prediction"], f"{name}/{engine} prediction")
    assert_close(nn_predict(nn, case["X"], engine="numpy"), case["prediction"], f"{name} numpy prediction")
    if case["kind"] == "nn":
        wrongs, accuracy, _ = nn_test(nn, case["X"], case["Y"])
        np.testing.assert_array_equal(wrongs + 1, case["wrongs"].ravel())
        assert accuracy == pytest.approx(case["accuracy"].item(), abs=1e-12)

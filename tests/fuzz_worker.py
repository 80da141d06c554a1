"""Runs fuzz programs (random sequences of field edits, assignments, copies, pickles and calls on a network)
in its own process, for tests/test_fuzz.py: a crash (signal) takes down only this process.

Reads a JSON list of programs on stdin; prints one JSON line per program: ``{"i": index, "ok": true}`` or
``{"i": index, "ok": false, "error": traceback}``.  A program passes when every operation either works
correctly (the argument of a call is unchanged, results are finite or flagged as diverged, the buffers
match their layout, saved networks reload identically, both engines agree) or raises ValueError/TypeError.
"""
from __future__ import annotations

import copy
import json
import pickle
import sys
import tempfile
import traceback
import warnings
from pathlib import Path

import numpy as np

from nntoolbox import (nn_applygradient, nn_backpropagation, nn_create, nn_forward, nn_predict, nn_test,
                       nn_train)
from nntoolbox.io import nn_load, nn_save

ALLOWED = (ValueError, TypeError)
RNG = np.random.default_rng(0)


class Broken(AssertionError):
    """An operation worked but gave a wrong result."""


def data(nn, m: int = 30):
    x = RNG.random((m, nn.sizes[0]))
    y = np.eye(nn.sizes[-1])[RNG.integers(nn.sizes[-1], size=m)]
    return x, y


def snapshot(nn):
    b = nn._buf
    return [b.params.copy(), b.grads.copy(), b.state.copy(), None if b.stats is None else b.stats.copy(),
            np.array(nn.cost), dict(nn._fields.items()).get("AdamTime")]


def unchanged(nn, before) -> None:
    after = snapshot(nn)
    for a, b in zip(before, after):
        if isinstance(a, np.ndarray) and not np.array_equal(a, b, equal_nan=True):
            raise Broken("a call changed its argument")
        if not isinstance(a, np.ndarray) and a is not None and a != b:
            raise Broken("a call changed its argument's AdamTime")


def healthy(nn, trained: bool = False) -> None:
    """Buffers consistent; after nn_train, parameters finite (a diverging run is rolled back)."""
    nn.checked_buffers()
    if trained and not np.all(np.isfinite(nn._buf.params)):
        raise Broken("nn_train returned non-finite parameters")


def layer_value(nn, field: str, k: int, kind: str):
    target = nn[field][k]
    return {"ok": lambda: RNG.random(target.shape), "transposed": lambda: RNG.random(target.shape[::-1]),
            "flat": lambda: RNG.random(target.size), "nan": lambda: np.full(target.shape, np.nan),
            "none": lambda: None, "scalar": lambda: 0.5, "big": lambda: RNG.random((target.shape[0] + 1, 3)),
            "string": lambda: "W", "int": lambda: np.ones(target.shape, dtype=np.int64)}[kind]()


def run_op(state: dict, op: list) -> None:
    nn = state["nn"]
    kind = op[0]
    if kind == "create":
        state["nn"] = nn_create(op[1], **op[2])
    elif kind == "set":
        value = float("nan") if op[2] == "nan" else op[2]
        setattr(nn, op[1], value)
        healthy(nn)
    elif kind == "layer":
        field, k, how = op[1], op[2], op[3]
        if field not in nn:
            return
        k %= len(nn[field])
        nn[field][k] = layer_value(nn, field, k, how)
        healthy(nn)
    elif kind == "list":
        field, how = op[1], op[2]
        if field not in nn:
            return
        values = [layer_value(nn, field, k, how) for k in range(len(nn[field]))]
        setattr(nn, field, values[:-1] if how == "big" else values)
        healthy(nn)
    elif kind == "inplace":
        if op[1] in nn:
            nn[op[1]][op[2] % len(nn[op[1]])] *= 0.5
    elif kind == "copy":
        state["nn"] = {"method": nn.copy, "copy": lambda: copy.copy(nn), "deepcopy": lambda: copy.deepcopy(nn),
                       "pickle": lambda: pickle.loads(pickle.dumps(nn))}[op[1]]()
        healthy(state["nn"])
    elif kind == "alias":
        state["stored"] = nn  # MATLAB storedNN = nn
    elif kind == "restore":
        if state["stored"] is not None:
            state["nn"] = state["stored"]
    elif kind == "call":
        call(state, op[1], op[2])
    elif kind == "agree":
        agree(nn)
    elif kind == "io":
        with tempfile.TemporaryDirectory() as d:
            path = nn_save(nn, Path(d) / f"net.{op[1]}")
            back = nn_load(path)
        x, _ = data(nn, 5)
        if not np.allclose(nn_predict(back, x), nn_predict(nn, x), rtol=1e-6, atol=1e-6, equal_nan=True):
            raise Broken("a saved network predicts differently after loading")


def call(state: dict, fn: str, engine: str) -> None:
    nn = state["nn"]
    x, y = data(nn)
    before = snapshot(nn)
    option = {"batch_size": 10, "iteration": 2, "engine": engine}
    if fn == "train":
        out = nn_train(nn, option, x, y)
    elif fn == "train_val":
        out = nn_train(nn, {**option, "validation": (x[:10], y[:10]), "patience": 1}, x, y)
    elif fn == "steps":
        out = nn_applygradient(nn_backpropagation(nn_forward(nn, x[:10], y[:10]), y[:10]))
    elif fn == "test":
        out = nn_test(nn, x, y)[2]
    else:
        out = nn
        nn_predict(nn, x, engine="numpy" if engine == "stepwise" else "fused")
    unchanged(nn, before)
    # the step functions do the course's arithmetic, overflow included (as MATLAB would)
    healthy(out, trained=fn.startswith("train"))
    state["nn"] = out


def agree(nn) -> None:
    """Both engines give the same network from the same start and batch order (float64)."""
    if nn["dtype"] != "float64":
        return
    x, y = data(nn)
    order = np.stack([RNG.permutation(len(x))])
    a = nn_train(nn, {"batch_size": 10, "order": order}, x, y)
    b = nn_train(nn, {"batch_size": 10, "order": order, "engine": "stepwise"}, x, y)
    if a.diverged or b.diverged or np.abs(a._buf.params).max() > 1e6:
        return
    keep = np.ones(a._buf.params.size, bool)
    if nn["batch_normalization"]:
        # batch norm cancels b: its gradient is rounding noise, which adaptive steps (textbook Adam's
        # g/sqrt(r)) blow up differently in the two engines; b does not change the training outputs
        for _, group, off, h, w in a._buf.layout:
            keep[off:off + h * w] &= group != 1
    if not np.allclose(a._buf.params[keep], b._buf.params[keep], rtol=1e-6, atol=1e-6):
        raise Broken(f"engines disagree by {np.abs(a._buf.params - b._buf.params)[keep].max():.3g}")


def main() -> None:
    programs = json.load(sys.stdin)
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    for i, program in enumerate(programs):
        state = {"nn": None, "stored": None}
        result = {"i": i, "ok": True}
        for op in program:
            try:
                run_op(state, op)
            except ALLOWED:
                continue
            except Exception:  # noqa: BLE001 - anything else is a finding
                result = {"i": i, "ok": False, "op": op, "error": traceback.format_exc()}
                break
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

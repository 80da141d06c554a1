"""Runs fuzz registrations (random optimizers and activations: names, slots, hyper-parameters, updates that
raise or index out of bounds) in its own process, for tests/test_fuzz.py: a crash (signal) takes down only
this process.

Reads batches from stdin, one JSON list of specs per line (the process serves many batches, so each
template is compiled once); prints one JSON line per spec, ``{"i": index, "ok": true, "outcome": ...}`` or
``{"i": index, "ok": false, "error": ...}``, then ``{"done": true}`` after each batch.  A spec passes when its registration is refused with
ValueError/TypeError (and nothing is half-registered), or it is accepted and then trains the same way in both
engines: both finish with the same parameters (or both flag divergence), or both raise the function's own
exception, exactly when the spec says it must raise.
"""
from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import math
import os
import sys
import tempfile
import traceback
import warnings
from functools import cache
from pathlib import Path

import numba
import numpy as np

from nntoolbox import nn_create, nn_train, register_activation, register_optimizer
from nntoolbox.activations import ACTIVATIONS
from nntoolbox.names import MATLAB_FIELD, NAMELENGTHMAX, SLOTS
from nntoolbox.optimizers import OPTIMIZERS
from nntoolbox.options import NAMES, OPTIONS

ALLOWED = (ValueError, TypeError)
BOOM = "fuzz boom"
SERIAL = itertools.count()  # names starting "Fz" are meant to be new: made unique within the process
BATCHES, EPOCHS = 4, 2  # per training call: 4 batches of 5 samples, 2 epochs
UPDATES = {  # body of update(p, g, state, hyper, t); {k} is the spec's integer
    "sgd": "for i in range(p.shape[0]):\n        p[i] = p[i] - hyper[0] * g[i]",
    "hyper_k": "for i in range(p.shape[0]):\n        p[i] = p[i] - hyper[0] * hyper[{k}] * g[i]",
    "state_k": "s = state[{k}]\n    for i in range(p.shape[0]):\n        s[i] = 0.5 * s[i] + g[i]\n"
               "        p[i] = p[i] - hyper[0] * s[i]",
    "past_p": "for i in range(p.shape[0]):\n        p[i + {k}] = p[i] - hyper[0] * g[i]",
    "raise_at": "if t >= {k}:\n        raise {exc}('" + BOOM + "')\n    for i in range(p.shape[0]):\n"
                "        p[i] = p[i] - hyper[0] * g[i]",
}
SCALARS = {  # body of f(z) / df(a)
    "tanh": "return np.tanh(x)", "one": "return 1.0", "square": "return x * x",
    "sqrt": "return np.sqrt(x)", "inverse": "return 1.0 / x",
    "raise_above": "if x > {k}:\n        raise {exc}('" + BOOM + "')\n    return np.tanh(x)",
}


KS, EXCS = range(6), ("ValueError", "ZeroDivisionError")  # the values of k and exc the specs may take
SCALAR_KS = (0, 20, 1000)


@cache
def templates():
    """Every template instance as a function in a module file, written once where its contents name it:
    functions with a source file are cached by Numba (and their guard kernels by nntoolbox) across the
    worker processes, as a student's functions in a file are."""
    defs = [f"def update_{b}_{k}_{e}(p, g, state, hyper, t):\n    {src.format(k=k, exc=e)}\n"
            for b, src in UPDATES.items() for k in KS for e in EXCS]
    defs += [f"def scalar_{b}_{k}_{e}(x):\n    {src.format(k=k, exc=e)}\n"
             for b, src in SCALARS.items() for k in SCALAR_KS for e in EXCS]
    text = "import numpy as np\n\n\n" + "\n\n".join(defs)
    path = Path(tempfile.gettempdir()) / f"nntoolbox_fuzz_{hashlib.sha1(text.encode()).hexdigest()[:12]}.py"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)  # atomic: another worker may be reading it
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = sys.modules[path.stem] = importlib.util.module_from_spec(spec)  # as an import would
    spec.loader.exec_module(module)
    return module


@cache
def make(kind: str, body: str, k: int, exc: str, jit: bool):
    """A template instance, njit (cached on disk) or plain (memoised: one object per process)."""
    fn = getattr(templates(), f"{kind}_{body}_{k}_{exc}")
    return numba.njit(cache=True)(fn) if jit else fn


def fresh(name: str) -> str:
    return f"{name[:14]}_{next(SERIAL)}" if name.startswith("Fz") else name


def registries() -> tuple:
    """What a registration changes: the registries, the options and the slot prefixes."""
    return ({k: list(v) for k, v in NAMES.items()}, list(OPTIMIZERS), list(ACTIVATIONS), list(OPTIONS),
            sorted(SLOTS))


def registered_ok(name: str) -> None:
    """The registry's invariants after an accepted registration."""
    lower = [n.lower() for n in dict.fromkeys(n for names in NAMES.values() for n in names)]
    assert len(lower) == len(set(lower)), f"two registered names differ only in case: {name!r}"
    assert MATLAB_FIELD.match(name) and len(name) <= NAMELENGTHMAX, f"accepted a bad name {name!r}"


def train_both(create: dict) -> list:
    """Train in both engines; each outcome is ('ok', params, diverged) or ('raised', type, message)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (20, 3))
    y = np.eye(2)[(x[:, 0] > 0).astype(int)]
    out = []
    for engine in ("stepwise", "fused"):
        nn = nn_create([3, 4, 2], seed=0, learning_rate=0.1, **create)
        try:
            trained = nn_train(nn, {"batch_size": 5, "iteration": EPOCHS, "order": np.tile(np.arange(20),
                                                                                              (EPOCHS, 1)),
                                    "engine": engine}, x, y)
            out.append(("ok", trained._buf.params.copy(), bool(trained.diverged)))
        except ALLOWED as e:
            if BOOM not in str(e) and "raised" not in str(e):
                raise
            out.append(("raised", type(e).__name__, str(e).split("\n")[0]))
        except (RuntimeError, ZeroDivisionError, OverflowError) as e:
            out.append(("raised", type(e).__name__, str(e).split("\n")[0]))
    return out


def agree(outcomes: list, must_raise: bool | None) -> str:
    (a, *ra), (b, *rb) = outcomes
    if a != b:
        raise AssertionError(f"the engines disagree: stepwise {a} {ra[1:] if a == 'raised' else ''}, "
                             f"fused {b} {rb[1:] if b == 'raised' else ''}")
    if a == "raised":
        if ra[:2] != rb[:2] or BOOM not in ra[1]:
            raise AssertionError(f"the engines raise differently: {ra} vs {rb}")
    elif not (ra[1] or rb[1]) and not np.allclose(ra[0], rb[0], rtol=1e-6, atol=1e-8):
        raise AssertionError("the engines train to different parameters")
    if must_raise is not None and must_raise != (a == "raised"):
        raise AssertionError(f"must_raise={must_raise} but the outcome is {a} (a silent no-op or a false raise)")
    return a


def run_optimizer(spec: dict) -> str:
    update = make("update", spec["body"], spec["k"], spec["exc"], spec["jit"])
    name, slots, hyper, time = fresh(spec["name"]), spec["slots"], spec["hyper"], spec["time"]
    hyper = {key: (float("nan") if v == "nan" else v) for key, v in hyper.items()}
    before = registries()
    try:
        register_optimizer(name, update, slots=slots, hyper=hyper, time=time)
    except ALLOWED:
        assert registries() == before, "half-registered after a refusal"
        return "refused"
    registered_ok(name)
    n_hyper, n_slots, k = 1 + len(hyper), len(slots), spec["k"]
    body = spec["body"]
    # what the trial on exactly-sized buffers must have refused
    assert not (body == "hyper_k" and k >= n_hyper), "accepted an update reading past hyper"
    assert not (body == "state_k" and k >= n_slots), "accepted an update reading past state"
    assert not (body == "past_p" and k >= 1), "accepted an update writing past p"
    must_raise = None
    if body == "raise_at":
        last_t = {None: 1, "epoch": EPOCHS, "update": EPOCHS * BATCHES}[time]
        must_raise = k <= last_t
    warnings.simplefilter("ignore")  # a plain update's "runs stepwise" warning
    return agree(train_both({"optimization_method": name}), must_raise)


def run_activation(spec: dict) -> str:
    f = make("scalar", spec["f"], spec["k"], spec["exc"], spec["jit"])
    df = make("scalar", spec["df"], spec["k"], spec["exc"], spec["jit"])
    name = fresh(spec["name"])
    before = registries()
    try:
        register_activation(name, f, df, hidden=spec["hidden"], output=spec["output"])
    except ALLOWED:
        assert registries() == before, "half-registered after a refusal"
        return "refused"
    registered_ok(name)
    for z in (-10.0, 0.0, 0.5, 10.0):  # accepted: f and df give numbers at the trial points
        assert not math.isnan(f(z)), "accepted an f that is NaN at a trial point"
    where = "active_function" if spec["hidden"] else "output_function"
    return agree(train_both({where: name}), None)


def main() -> None:
    np.seterr(all="ignore")
    for line in sys.stdin:
        for i, spec in enumerate(json.loads(line)):
            try:
                outcome = (run_optimizer if spec["kind"] == "optimizer" else run_activation)(spec)
                result = {"i": i, "ok": True, "outcome": outcome}
            except Exception:  # noqa: BLE001 - anything else is a finding
                result = {"i": i, "ok": False, "error": traceback.format_exc()[-3000:]}
            print(json.dumps(result), flush=True)
        print(json.dumps({"done": True}), flush=True)


if __name__ == "__main__":
    main()

"""Side-by-side training speed: fused Numba engine vs the step-by-step numpy
path vs PyTorch CPU (when installed: ``pip install torch==2.13.0``), on the same
data and the same network, in one run.  A benchmark, not a test.

BLAS (and PyTorch) threads are pinned (``--threads``, default 1); the engines
run alternately, epoch by epoch, so machine load hits them alike; times are
medians of thread CPU time (``time.thread_time``: other processes on a loaded
machine do not count) unless ``--wall``.  Each "fused / floor" ratio is against
an achievable floor, timed in the same rounds as the engine (the order reversed
every other round), as the median of the per-round ratios with quartiles:

- chess: ``../shared/bench/floor.py`` (``--floor PATH``) when present, an
  independent specialised Numba epoch of the same maths, same data, starting
  weights and batch; "per call" (``nn_train`` iteration=1 + ``nn_test``, as the
  course loops) against its plain epoch, "demo style" (one ``nn_train`` call of
  several epochs with validation rows) against its epoch plus validation cost and
  a copy of its state whenever the errors fall (the best epoch kept);
- MNIST-size: the GEMM + Adam floor, the same matrix products alone, in the
  kernels' layouts, through the BLAS the kernels call, plus the course's Adam
  over as many parameters, per batch.

    python scripts/bench.py            # all workloads, float64 and float32
    python scripts/bench.py --quick    # fewer epochs and rounds
"""
from __future__ import annotations

import argparse
import importlib.util
import resource
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Callable

import numba
import numpy as np
import pandas as pd

import nntoolbox as nt
from nntoolbox.cachedir import user_cache_dir
from nntoolbox.kernels.gemm import gemm
from threadpoolctl import threadpool_info, threadpool_limits

try:  # optional: only for the comparison
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None


CLOCK = time.thread_time  # --wall: time.perf_counter
FLOOR = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "floor.py"  # beside the repo


def _onehot(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return np.eye(k)[rng.integers(0, k, n)]


# ------------------------------------------------------- a user-registered optimizer
# error_model="numpy" as the registry compiles it: the floor calls it directly, and a Python-model
# division carries a zero check that stops vectorisation (2x float64, 8x float32 slower)
@numba.njit(cache=True, error_model="numpy")
def user_adam(p, g, state, hyper, t):
    """Adam as a user would register it (the course's denominator sqrt(r_hat + 1e-5)); also the Adam pass
    of the MNIST-size floor.  Scalars in the parameters' dtype: float32 updates stay float32."""
    f = p.dtype.type
    lr, b1, b2 = f(hyper[0]), f(hyper[1]), f(hyper[2])
    s, r = state[0], state[1]
    c1, c2 = f(1 / (1 - hyper[1] ** t)), f(1 / (1 - hyper[2] ** t))  # reciprocals: a multiply, not a division
    ob1, ob2, eps = f(1) - b1, f(1) - b2, f(0.00001)
    for i in range(p.shape[0]):
        s[i] = b1 * s[i] + ob1 * g[i]
        r[i] = b2 * r[i] + ob2 * (g[i] * g[i])
        p[i] = p[i] - lr * (s[i] * c1) / np.sqrt(r[i] * c2 + eps)


nt.register_optimizer("UserAdam", user_adam, slots=("s", "r"), hyper={"beta1": 0.9, "beta2": 0.999},
                      time="epoch")


def _rounds(fns: dict[str, Callable[[], None]], repeats: int, block: int = 1) -> dict[str, list[list[float]]]:
    """Seconds of each call of each function, per round, run alternately so that machine load hits them
    alike: ``repeats`` rounds, each running every function ``block`` times in a row (the epochs of a
    training run follow each other, so a block shows their speed with warm caches; block=1 shows every
    epoch cold, right after another engine's), in reverse order every other round (none always first)."""
    times: dict[str, list[list[float]]] = {k: [] for k in fns}
    for fn in fns.values():
        fn()  # warm-up (and compilation)
    for r in range(repeats):
        for k, fn in (reversed(fns.items()) if r % 2 else fns.items()):
            calls = []
            for _ in range(block):
                t = CLOCK()
                fn()
                calls.append(CLOCK() - t)
            times[k].append(calls)
    return times


def _median_ms(rounds: list[list[float]], per: int = 1) -> float:
    """Median ms of the calls of one function's rounds (from :func:`_rounds`), per epoch when a call
    runs ``per`` epochs."""
    return 1e3 * statistics.median(t for calls in rounds for t in calls) / per


def _interleaved_ms(fns: dict[str, Callable[[], None]], repeats: int, block: int = 1) -> dict[str, float]:
    """Median ms of each function's calls, timed by :func:`_rounds`."""
    return {k: _median_ms(v) for k, v in _rounds(fns, repeats, block).items()}


def median_quartiles(values: list[float]) -> tuple[float, float, float]:
    """(median, first quartile, third quartile) of ``values``."""
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return med, q1, q3


def _floor_row(name: str, floor: str, times: dict[str, list[list[float]]], per: int = 1) -> dict:
    """A row comparing ``times["fused"]`` with ``times["floor"]`` (from :func:`_rounds`): median ms per
    epoch (a call covers ``per`` epochs) and the median of the per-round ratios, quartiles in brackets;
    the target, when the workload has one."""
    ratio, q1, q3 = median_quartiles([sum(a) / sum(b) for a, b in zip(times["fused"], times["floor"])])
    res = {"workload": name, "fused ms": _median_ms(times["fused"], per), "floor": floor,
           "floor ms": _median_ms(times["floor"], per),
           "fused / floor": ratio, "quartiles": f"[{q1:.2f}, {q3:.2f}]"}
    key = next((k for k in TARGETS if name.startswith(k)), None)
    if key:
        res["target"] = f"<= {TARGETS[key]}: {'met' if ratio <= TARGETS[key] else 'NOT met'}"
    return res


# ---------------------------------------------------------------------- torch
def _torch_mlp(sizes: list[int], act: str, bn: bool):
    layers = []
    acts = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid}
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if bn:
            layers.append(torch.nn.BatchNorm1d(sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(acts[act]())
    return torch.nn.Sequential(*layers)


def _torch_classifier_epoch(sizes, act, lr, x, y, vx, vy, batch):
    model = _torch_mlp(sizes, act, bn=True).to(torch.float64 if x.dtype == np.float64 else torch.float32)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    X, Y = torch.from_numpy(x), torch.from_numpy(y.argmax(1))
    VX = torch.from_numpy(vx) if vx is not None else None
    VY = torch.from_numpy(vy.argmax(1)) if vy is not None else None
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch():
        model.train()
        perm = torch.randperm(X.shape[0])
        for i in range(X.shape[0] // batch):
            idx = perm[i * batch:(i + 1) * batch]
            opt.zero_grad()
            loss = loss_fn(model(X[idx]), Y[idx])
            loss.backward()
            opt.step()
        if VX is not None:
            model.eval()
            with torch.no_grad():
                (model(VX).argmax(1) == VY).double().mean()
    return epoch


def _torch_sae_epoch(n_vis, n_hid, lr, x, batch, rho=0.03, beta=3.0):
    enc, dec = torch.nn.Linear(n_vis, n_hid).double(), torch.nn.Linear(n_hid, n_vis).double()
    opt = torch.optim.SGD(list(enc.parameters()) + list(dec.parameters()), lr=lr)
    X = torch.from_numpy(x)

    def epoch():
        perm = torch.randperm(X.shape[0])
        for i in range(X.shape[0] // batch):
            xb = X[perm[i * batch:(i + 1) * batch]]
            opt.zero_grad()
            h = torch.sigmoid(enc(xb))
            out = torch.sigmoid(dec(h))
            r = h.mean(0)
            kl = (rho * torch.log(rho / r) + (1 - rho) * torch.log((1 - rho) / (1 - r))).sum()
            loss = 0.5 * ((out - xb) ** 2).sum() / xb.shape[0] + beta * kl
            loss.backward()
            opt.step()
    return epoch


# ---------------------------------------------------------------- GEMM + Adam floor
@numba.njit(cache=True, error_model="numpy")
def _gemms_adam(sizes, ws, rows, acts, ths, grads, p, g, state, hyper, n_batches):
    """The matrix products of n_batches training batches alone (forward, weight gradient, theta below),
    in the kernels' layouts, through the kernels' own gemm call (:mod:`nntoolbox.kernels.gemm`): layer 0
    reads the batch as rows (``m x units``, transposed), the others ``units x m`` blocks; then, as every
    engine must, the course's Adam over the flat parameters ``p``."""
    for _ in range(n_batches):
        gemm(ws[0], False, rows, True, acts[1])
        for k in range(1, len(sizes) - 1):
            gemm(ws[k], False, acts[k], False, acts[k + 1])
        for k in range(len(sizes) - 2, 0, -1):
            gemm(ths[k + 1], False, acts[k], True, grads[k])
            gemm(ws[k], True, ths[k + 1], False, ths[k])
        gemm(ths[1], False, rows, False, grads[0])
        user_adam(p, g, state, hyper, 1.0)


def _gemm_adam_floor(sizes: list[int], n_params: int, batch: int, n_batches: int, dtype: type) -> Callable[[], None]:
    """The GEMM + Adam floor of an epoch of ``n_batches`` batches; ``n_params``: the network's W, b,
    Gamma and Beta elements (the flat buffer the engines' optimizer loops over)."""
    rng = np.random.default_rng(0)
    ws = numba.typed.List([rng.random((sizes[k + 1], sizes[k])).astype(dtype) for k in range(len(sizes) - 1)])
    rows = rng.random((batch, sizes[0])).astype(dtype)
    acts = numba.typed.List([rng.random((n, batch)).astype(dtype) for n in sizes])
    ths = numba.typed.List([rng.random((n, batch)).astype(dtype) for n in sizes])
    grads = numba.typed.List([np.empty_like(w) for w in ws])
    p, g = (rng.random(n_params).astype(dtype) for _ in range(2))
    state = np.zeros((2, n_params), dtype)
    hyper = np.array([0.01, 0.9, 0.999])
    sz = np.array(sizes)
    return lambda: _gemms_adam(sz, ws, rows, acts, ths, grads, p, g, state, hyper, n_batches)


def _n_params(nn) -> int:
    return sum(np.size(a) for field in ("W", "b", "Gamma", "Beta") if field in nn for a in nn[field])


# ---------------------------------------------------------------- the chess floor (../shared/bench/floor.py)
def load_floor(path: Path) -> ModuleType | None:
    """``floor.py`` loaded by path (it is a yardstick, not part of the project), None when absent.
    Its kernels cache in ``NUMBA_CACHE_DIR`` when set, else in this user's ``~/.cache/nntoolbox/bench-floor``
    (its own folder is meant read-only, even to root: no bytecode is written there either); Numba reads
    ``config.CACHE_DIR`` when a function is decorated, so only the floor's kernels move."""
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location("nntoolbox_bench_floor", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    saved, no_pyc = numba.config.CACHE_DIR, sys.dont_write_bytecode
    if not saved:
        numba.config.CACHE_DIR = str(user_cache_dir("bench-floor") or "")
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    finally:
        numba.config.CACHE_DIR, sys.dont_write_bytecode = saved, no_pyc
    return module


def _floor_epochs(floor: ModuleType, st, data: tuple[np.ndarray, ...], epochs: int = 1,
                  keep_best: bool = False) -> Callable[[], None]:
    """``epochs`` epochs of the floor.  ``keep_best``: as ``nn_train`` with validation rows runs them, the
    validation cost and errors after each epoch and a copy of the state whenever the errors fall below
    the call's best (nntoolbox keeps the network of the highest accuracy)."""
    x, y, vx, vl = data
    kept = {}

    def run():
        best = None
        for _ in range(epochs):
            wrong, _ = floor.floor_epoch(st, x, y, vx, vl, val_cost=keep_best)
            if keep_best and (best is None or wrong < best):
                best = wrong
                kept["state"] = [a.copy() for a in (st.P, st.G, st.Sm, st.Rm, st.E, st.S, st.vec)]
    return run


def _chess_floor_rows(floor: ModuleType, rounds: int) -> list[dict]:
    """nntoolbox's chess epoch against the floor's, float64 and float32: per call and demo style."""
    rows = []
    for dtype in ("float64", "float32"):
        x, y, vx, vl, vy = floor.make_data(dtype)
        nn = _chess_net(dtype=dtype)
        per_call = _rounds({"fused": _nn_epoch(nn, "fused", x, y, vx, vy, 100),
                            "floor": _floor_epochs(floor, floor.state_from_nntoolbox(nn, dtype), (x, y, vx, vl))},
                           rounds, block=5)
        rows.append(_floor_row(f"chess {dtype} per call (nn_train iteration=1 + nn_test)", "floor.py epoch",
                               per_call))
        demo = _rounds({"fused": _demo_epochs(nn, x, y, vx, vy, 100, DEMO_EPOCHS),
                        "floor": _floor_epochs(floor, floor.state_from_nntoolbox(nn, dtype), (x, y, vx, vl),
                                               DEMO_EPOCHS, keep_best=True)}, rounds)
        rows.append(_floor_row(f"chess {dtype} demo style (one nn_train of {DEMO_EPOCHS} epochs, validation)",
                               "floor.py epoch, best kept", demo, per=DEMO_EPOCHS))
    return rows


def _demo_run_row(floor: ModuleType, epochs: int, pairs: int) -> dict:
    """The chess demo's training (``scripts/nn_testChess.py``: one ``nn_train`` call of ``epochs`` epochs
    with validation rows, the best epoch's network kept; float64, no progress bar) against the floor's
    ``epochs`` epochs keeping its best, as whole runs in ``pairs`` alternating pairs (the order reversed
    every other pair)."""
    x, y, vx, vl, vy = floor.make_data("float64")
    nn = _chess_net()

    def runs(n):
        return {"fused": lambda: nt.nn_train(nn, {"batch_size": 100, "iteration": n, "validation": (vx, vy)}, x, y),
                "floor": _floor_epochs(floor, floor.state_from_nntoolbox(nn, "float64"), (x, y, vx, vl), n,
                                       keep_best=True)}
    for fn in runs(3).values():
        fn()  # compile and load before the timed runs
    times = _rounds(runs(epochs), pairs) if pairs else {}
    return _floor_row(f"chess float64 demo run ({epochs} epochs in one nn_train, validation, best kept)",
                      "floor.py epochs, best kept", times, per=epochs)


# ---------------------------------------------------------------- workloads
def _nn_epoch(nn, engine, x, y, vx, vy, batch, lib=nt):
    """One epoch as a course script runs it: ``nn = nn_train(...)``, then ``nn_test`` on the validation
    rows.  ``lib``: the nntoolbox package to call (bench_revisions.py passes other revisions' copies)."""
    state = {"nn": nn}

    def epoch():
        state["nn"] = lib.nn_train(state["nn"], {"batch_size": batch, "iteration": 1, "engine": engine}, x, y)
        if vx is not None:
            lib.nn_test(state["nn"], vx, vy)
    return epoch


def _demo_epochs(nn, x, y, vx, vy, batch, epochs):
    """``epochs`` epochs as the chess demo trains: one ``nn_train`` call with ``validation`` rows (scored
    after every epoch, the best epoch's network kept), instead of a call per epoch."""
    state = {"nn": nn}

    def run():
        state["nn"] = nt.nn_train(state["nn"], {"batch_size": batch, "iteration": epochs, "validation": (vx, vy)},
                                  x, y)
    return run


def _chess_net(method: str = "Adam", dtype: str = "float64", lib=nt):
    nn = lib.nn_create(CHESS, "active function", "relu", "learning rate", 0.005, "batch normalization", 1,
                      "optimization method", method, "objective function", "Cross Entropy", seed=1)
    nn.dtype = dtype
    return nn


def _mnist_net(dtype: str = "float64"):
    nn = nt.nn_create(MNIST, "active function", "sigmoid", "learning rate", 0.01, "batch normalization", 1,
                      "optimization method", "Adam", "objective function", "Cross Entropy", seed=1)
    nn.dtype = dtype
    return nn


CHESS = [6] + [10] * 10 + [2]
DEMO_EPOCHS = 10  # epochs per nn_train call in the demo-style rows
GEMM_ADAM = "GEMM + Adam floor"
MNIST = [784, 400, 169, 49, 10]
# issue 23's targets: fused / its floor at most this, for the rows whose name starts with the key
TARGETS = {"chess float64 per call": 1.2, "chess float32 per call": 1.2,
           "chess float64 demo style": 1.1, "chess float32 demo style": 1.1,
           "MNIST-size float64": 1.1, "MNIST-size float32": 1.1, "chess float64 demo run": 1.15}


def run(args: argparse.Namespace) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []

    def report(res):
        rows.append(res)
        print({k: round(v, 3) if isinstance(v, float) else v for k, v in res.items()}, flush=True)

    def bench(name, fns, repeats, floor=None, block=1):
        # the floor runs in the same rounds as the engines: the ratio is of times taken side by side
        times = _rounds({**fns, "floor": floor} if floor else fns, repeats, block)
        res = {"workload": name, **{f"{k} ms": _median_ms(v) for k, v in times.items() if k != "floor"}}
        if floor:
            res.update(_floor_row(name, GEMM_ADAM, times))
        if "torch" in times:
            res["torch / fused"] = res["torch ms"] / res["fused ms"]
        report(res)

    r_chess = 10 if not args.quick else 3  # rounds of 5 epochs per engine
    r_mnist = 5 if not args.quick else 1
    # (a) the chess course network: 4,208 training + 1,402 validation rows per epoch
    for dtype in ("float64", "float32"):
        cx, cy = rng.standard_normal((4208, 6)).astype(dtype), _onehot(rng, 4208, 2).astype(dtype)
        cvx, cvy = rng.standard_normal((1402, 6)).astype(dtype), _onehot(rng, 1402, 2).astype(dtype)
        fns = {"fused": _nn_epoch(_chess_net(dtype=dtype), "fused", cx, cy, cvx, cvy, 100),
               "stepwise": _nn_epoch(_chess_net(dtype=dtype), "stepwise", cx, cy, cvx, cvy, 100)}
        if torch is not None:
            fns["torch"] = _torch_classifier_epoch(CHESS, "relu", 0.005, cx, cy, cvx, cvy, 100)
        name = f"chess {dtype} 6-10x10-2 relu BN Adam CE (train 4208 + test 1402)"
        bench(name, fns, r_chess, block=5)
        bench(name + ", each epoch right after another engine's", fns, 3 * r_chess)
        # the targets' epoch: as the demo trains (validation inside nn_train, no per-call checks and copies),
        # against the same epochs as a course script runs them (nn_train + nn_test per epoch), side by side
        per_call = fns["fused"]
        ms = _interleaved_ms({"demo": _demo_epochs(_chess_net(dtype=dtype), cx, cy, cvx, cvy, 100, DEMO_EPOCHS),
                              "per call": lambda: [per_call() for _ in range(DEMO_EPOCHS)]}, r_chess)
        demo_ms, call_ms = ms["demo"] / DEMO_EPOCHS, ms["per call"] / DEMO_EPOCHS
        report({"workload": f"chess {dtype} as the demo trains (one nn_train call, validation each epoch)",
                "fused ms": demo_ms, "fused, nn_train + nn_test per epoch ms": call_ms,
                "one call / per epoch": demo_ms / call_ms})

    # (a') the same network with a user-registered njit Adam vs the built-in, in the fused engine
    ms = _interleaved_ms({m: _nn_epoch(_chess_net(m), "fused", cx.astype(float), cy.astype(float),
                                       cvx.astype(float), cvy.astype(float), 100) for m in ("Adam", "UserAdam")},
                         r_chess, 5)
    report({"workload": "chess, user-registered njit Adam (fused)", "fused ms": ms["UserAdam"],
            "built-in Adam ms": ms["Adam"], "user / built-in": ms["UserAdam"] / ms["Adam"]})

    # (a'') the chess epoch against an independent specialised kernel of the same maths (issue 23)
    floor = load_floor(args.floor)
    if floor is None:
        print(f"chess vs floor.py: skipped (no {args.floor}; give its path with --floor)", flush=True)
    elif args.threads != 1:
        print(f"chess vs floor.py: skipped (measured with BLAS at 1 thread only; --threads {args.threads})",
              flush=True)
    else:
        for res in _chess_floor_rows(floor, args.rounds):
            report(res)
        if args.demo_run:
            report(_demo_run_row(floor, args.demo_run, args.pairs))

    # (b) MNIST-sized network on synthetic data of MNIST's shape
    n = args.mnist_rows
    mx64, my = rng.random((n, 784)), _onehot(rng, n, 10)
    for dtype in ("float64", "float32"):
        mx, myd = mx64.astype(dtype), my.astype(dtype)
        fns = {"fused": _nn_epoch(_mnist_net(dtype), "fused", mx, myd, None, None, 100),
               "stepwise": _nn_epoch(_mnist_net(dtype), "stepwise", mx, myd, None, None, 100)}
        if torch is not None:
            fns["torch"] = _torch_classifier_epoch(MNIST, "sigmoid", 0.01, mx, myd, None, None, 100)
        floor = _gemm_adam_floor(MNIST, _n_params(_mnist_net(dtype)), 100, n // 100,
                                 np.dtype(dtype).type)
        bench(f"MNIST-size {dtype} 784-400-169-49-10 sigmoid BN Adam CE ({n} rows)", fns, r_mnist, floor)

    # (c) sparse autoencoder 784-196-784
    def sae_epoch(engine):
        sae = nt.sae_create([784, 196], "learning rate", 0.5, seed=1)
        return lambda: nt.sae_train(sae, {"batch_size": 100, "iteration": 1, "engine": engine}, mx64)
    fns = {"fused": sae_epoch("fused"), "stepwise": sae_epoch("stepwise")}
    if torch is not None:
        fns["torch"] = _torch_sae_epoch(784, 196, 0.5, mx64, 100)
    bench(f"sparse AE 784-196-784 sigmoid ({n} rows)", fns, r_mnist)

    # (d) MNIST's full training set size: 60,000 rows, fused only (time and the process's peak memory)
    if args.rows60k:
        bx, by = rng.random((60000, 784)), _onehot(rng, 60000, 10)
        epoch = _nn_epoch(_mnist_net(), "fused", bx, by, None, None, 100)
        times = _rounds({"fused": epoch, "floor": _gemm_adam_floor(MNIST, _n_params(_mnist_net()), 100, 600, np.float64)},
                        1)
        report({**_floor_row("MNIST-size float64, 60000 rows (fused)", GEMM_ADAM, times),
                "data MB": (bx.nbytes + by.nbytes) / 2 ** 20,
                "peak RSS MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})

    df = pd.DataFrame(rows).set_index("workload")
    df["stepwise / fused"] = df["stepwise ms"] / df["fused ms"]
    return df


def _blas_summary() -> str:
    return "; ".join(f"{i['internal_api']} {i['version']} {i.get('architecture', '?')} kernel, "
                     f"{i['num_threads']} thread(s) ({i['filepath'].rsplit('/', 1)[-1]})"
                     for i in threadpool_info() if i["user_api"] == "blas")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer repeats (and 10 rounds against floor.py)")
    p.add_argument("--floor", type=Path, default=FLOOR, help=f"the chess floor (default {FLOOR})")
    p.add_argument("--rounds", type=int, default=None,
                   help="rounds of the chess rows against floor.py (default 60, 10 with --quick)")
    p.add_argument("--mnist-rows", type=int, default=10000, help="rows of synthetic MNIST-shaped data")
    p.add_argument("--threads", type=int, default=1, help="BLAS (and PyTorch) threads, pinned for the whole run")
    p.add_argument("--wall", action="store_true", help="wall-clock times instead of thread CPU time")
    p.add_argument("--no-60k", dest="rows60k", action="store_false", help="skip the 60,000-row MNIST-size row")
    p.add_argument("--demo-run", type=int, default=0, metavar="EPOCHS",
                   help="also time the chess demo's whole training run of EPOCHS epochs (nn_testChess.py: 10000) "
                        "against the floor's, in alternating pairs (about 40 s a pair at 10000)")
    p.add_argument("--pairs", type=int, default=4, help="pairs of runs for --demo-run (default 4)")
    args = p.parse_args(argv)
    if args.rounds is None:
        args.rounds = 10 if args.quick else 60
    elif args.rounds < 1:
        p.error("--rounds must be at least 1")
    if args.demo_run < 0 or args.pairs < 1:
        p.error("--demo-run must be at least 0 and --pairs at least 1")
    global CLOCK
    if args.wall or args.threads > 1:  # thread CPU time would miss the other BLAS threads
        CLOCK = time.perf_counter
    import scipy.linalg  # noqa: F401 - loads the BLAS the Numba kernels call, so that it is pinned too
    nt.set_blas_threads(args.threads)
    with threadpool_limits(limits=args.threads, user_api="blas"):
        if torch is not None:
            torch.set_num_threads(args.threads)
        print(f"numpy {np.__version__}, numba {numba.__version__}; "
              f"torch {torch.__version__ if torch else 'not installed (skipped)'}"
              + (f", {torch.get_num_threads()} thread(s)" if torch else ""))
        print(f"BLAS: {_blas_summary()}")
        print(f"times: median {'wall-clock' if args.wall else 'thread CPU'} ms per epoch, engines alternating "
              "(order reversed every other round)")
        df = run(args)
    floor_cols = ["floor", "fused ms", "floor ms", "fused / floor", "quartiles", "target"]
    floors = df[df["fused / floor"].notna()].reindex(columns=floor_cols) if "fused / floor" in df else None
    engines = df.drop(columns=[c for c in floor_cols if c in df and c != "fused ms"])
    engines = engines[engines.drop(columns="fused ms").notna().any(axis=1)]  # not the floor-only rows
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_colwidth", 70,
                           "display.float_format", "{:.2f}".format):
        print(engines.dropna(axis=1, how="all"))
        if floors is not None:
            print("\nfused / floor: median of the per-round ratios, quartiles in brackets; the floor of each row named")
            print(floors.fillna(""))


if __name__ == "__main__":
    main()

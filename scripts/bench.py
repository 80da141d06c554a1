"""Side-by-side training speed: fused Numba engine vs the step-by-step numpy
path vs PyTorch CPU (when installed: ``pip install torch==2.13.0``), on the same
data and the same network, in one run.  A benchmark, not a test.

BLAS (and PyTorch) threads are pinned (``--threads``, default 1); the engines
run alternately, epoch by epoch, so machine load hits them alike; times are
medians of thread CPU time (``time.thread_time``: other processes on a loaded
machine do not count) unless ``--wall``.  The MNIST-size rows are compared to
the GEMM floor: the same matrix products alone, in the kernels' layouts, through
the BLAS the kernels call, timed in the same rounds as the engines.

    python scripts/bench.py            # all workloads, float64 and float32
    python scripts/bench.py --quick    # fewer epochs
"""
from __future__ import annotations

import argparse
import resource
import statistics
import time
from typing import Callable

import numba
import numpy as np
import pandas as pd

import nntoolbox as nt
from threadpoolctl import threadpool_info, threadpool_limits

try:  # optional: only for the comparison
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None


CLOCK = time.thread_time  # --wall: time.perf_counter


def _onehot(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return np.eye(k)[rng.integers(0, k, n)]


# ------------------------------------------------------- a user-registered optimizer
@numba.njit(cache=True)
def user_adam(p, g, state, hyper, t):
    """Adam as a user would register it (the course's denominator sqrt(r_hat + 1e-5))."""
    lr, b1, b2 = hyper[0], hyper[1], hyper[2]
    s, r = state[0], state[1]
    c1, c2 = 1 / (1 - b1 ** t), 1 / (1 - b2 ** t)  # reciprocals: a multiply per element, not a division
    for i in range(p.shape[0]):
        s[i] = b1 * s[i] + (1 - b1) * g[i]
        r[i] = b2 * r[i] + (1 - b2) * (g[i] * g[i])
        p[i] = p[i] - lr * (s[i] * c1) / np.sqrt(r[i] * c2 + 0.00001)


nt.register_optimizer("UserAdam", user_adam, slots=("s", "r"), hyper={"beta1": 0.9, "beta2": 0.999},
                      time="epoch")


def _interleaved_ms(fns: dict[str, Callable[[], None]], repeats: int, block: int = 1) -> dict[str, float]:
    """Median ms of each function, run alternately so that machine load hits them alike: ``repeats``
    rounds, each running every function ``block`` times in a row (the epochs of a training run follow
    each other, so a block shows their speed with warm caches; block=1 shows every epoch cold, right
    after another engine's)."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for fn in fns.values():
        fn()  # warm-up
    for _ in range(repeats):
        for k, fn in fns.items():
            for _ in range(block):
                t = CLOCK()
                fn()
                times[k].append(CLOCK() - t)
    return {k: 1e3 * statistics.median(v) for k, v in times.items()}


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


# ---------------------------------------------------------------- GEMM floor
@numba.njit(cache=True)
def _gemms(sizes, ws, rows, acts, ths, grads, n_batches):
    """The matrix products of n_batches training batches alone (forward, weight gradient, theta below),
    in the kernels' layouts: layer 0 reads the batch as rows (``m x units``, transposed), the others
    ``units x m`` blocks."""
    for _ in range(n_batches):
        np.dot(ws[0], rows.T, acts[1])
        for k in range(1, len(sizes) - 1):
            np.dot(ws[k], acts[k], acts[k + 1])
        for k in range(len(sizes) - 2, 0, -1):
            np.dot(ths[k + 1], acts[k].T, grads[k])
            np.dot(ws[k].T, ths[k + 1], ths[k])
        np.dot(ths[1], rows, grads[0])


def _gemm_floor(sizes: list[int], batch: int, n_batches: int, dtype: type) -> Callable[[], None]:
    rng = np.random.default_rng(0)
    ws = numba.typed.List([rng.random((sizes[k + 1], sizes[k])).astype(dtype) for k in range(len(sizes) - 1)])
    rows = rng.random((batch, sizes[0])).astype(dtype)
    acts = numba.typed.List([rng.random((n, batch)).astype(dtype) for n in sizes])
    ths = numba.typed.List([rng.random((n, batch)).astype(dtype) for n in sizes])
    grads = numba.typed.List([np.empty_like(w) for w in ws])
    sz = np.array(sizes)
    return lambda: _gemms(sz, ws, rows, acts, ths, grads, n_batches)


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
DEMO_EPOCHS = 10  # epochs per nn_train call in the demo-style row
MNIST = [784, 400, 169, 49, 10]
TARGETS = {"chess float64 as the demo": ("ms", 2.0), "chess float32 as the demo": ("ms", 1.3),
           "MNIST-size float64": ("floor", 1.3), "MNIST-size float32": ("floor", 1.5)}


def run(args: argparse.Namespace) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []

    def report(res):
        rows.append(res)
        print({k: round(v, 3) if isinstance(v, float) else v for k, v in res.items()}, flush=True)

    def bench(name, fns, repeats, floor=None, block=1):
        # the floor runs in the same rounds as the engines: the ratio is of times taken side by side
        ms = _interleaved_ms({**fns, "GEMM floor": floor} if floor else fns, repeats, block)
        floor_ms = ms.pop("GEMM floor", None)
        res = {"workload": name, **{f"{k} ms": v for k, v in ms.items()}}
        if floor_ms is not None:
            res["GEMM floor ms"] = floor_ms
            res["fused / floor"] = ms["fused"] / floor_ms
        if "torch" in ms:
            res["torch / fused"] = ms["torch"] / ms["fused"]
        key = next((k for k in TARGETS if name.startswith(k) and "another" not in name), None)
        if key:
            what, target = TARGETS[key]
            value = ms["fused"] if what == "ms" else res["fused / floor"]
            res["target"] = f"{'<=' if what == 'ms' else 'floor x <='} {target}: {'met' if value <= target else 'NOT met'}"
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
        what, target = TARGETS[f"chess {dtype} as the demo"]
        report({"workload": f"chess {dtype} as the demo trains (one nn_train call, validation each epoch)",
                "fused ms": demo_ms, "fused, nn_train + nn_test per epoch ms": call_ms,
                "one call / per epoch": demo_ms / call_ms,
                "target": f"<= {target}: {'met' if demo_ms <= target else 'NOT met'}"})

    # (a') the same network with a user-registered njit Adam vs the built-in, in the fused engine
    ms = _interleaved_ms({m: _nn_epoch(_chess_net(m), "fused", cx.astype(float), cy.astype(float),
                                       cvx.astype(float), cvy.astype(float), 100) for m in ("Adam", "UserAdam")},
                         r_chess, 5)
    report({"workload": "chess, user-registered njit Adam (fused)", "fused ms": ms["UserAdam"],
            "built-in Adam ms": ms["Adam"], "user / built-in": ms["UserAdam"] / ms["Adam"]})

    # (b) MNIST-sized network on synthetic data of MNIST's shape
    n = args.mnist_rows
    mx64, my = rng.random((n, 784)), _onehot(rng, n, 10)
    for dtype in ("float64", "float32"):
        mx, myd = mx64.astype(dtype), my.astype(dtype)
        fns = {"fused": _nn_epoch(_mnist_net(dtype), "fused", mx, myd, None, None, 100),
               "stepwise": _nn_epoch(_mnist_net(dtype), "stepwise", mx, myd, None, None, 100)}
        if torch is not None:
            fns["torch"] = _torch_classifier_epoch(MNIST, "sigmoid", 0.01, mx, myd, None, None, 100)
        floor = _gemm_floor(MNIST, 100, n // 100, np.dtype(dtype).type)
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
        ms = _interleaved_ms({"fused": epoch, "floor": _gemm_floor(MNIST, 100, 600, np.float64)}, 1)
        report({"workload": "MNIST-size float64, 60000 rows (fused)", "fused ms": ms["fused"],
                "GEMM floor ms": ms["floor"], "fused / floor": ms["fused"] / ms["floor"], "data MB": (bx.nbytes + by.nbytes) / 2 ** 20,
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
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    p.add_argument("--mnist-rows", type=int, default=10000, help="rows of synthetic MNIST-shaped data")
    p.add_argument("--threads", type=int, default=1, help="BLAS (and PyTorch) threads, pinned for the whole run")
    p.add_argument("--wall", action="store_true", help="wall-clock times instead of thread CPU time")
    p.add_argument("--no-60k", dest="rows60k", action="store_false", help="skip the 60,000-row MNIST-size row")
    args = p.parse_args(argv)
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
        print(f"times: median {'wall-clock' if args.wall else 'thread CPU'} ms per epoch, engines alternating")
        df = run(args)
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_colwidth", 40,
                           "display.float_format", "{:.2f}".format):
        print(df)


if __name__ == "__main__":
    main()

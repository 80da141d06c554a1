"""Side-by-side training speed: fused Numba engine vs the step-by-step numpy
path vs PyTorch CPU (when installed: ``pip install torch==2.13.0``), on the same
data and the same network, in one run.  A benchmark, not a test.

    python scripts/bench.py            # all three workloads
    python scripts/bench.py --quick    # fewer epochs
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import numba
import numpy as np
import pandas as pd

import nntoolbox as nt

try:  # optional: only for the comparison
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None


def _median_ms(fn: Callable[[], None], repeats: int) -> float:
    fn()  # warm-up (compiles / loads the cached kernels)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def _onehot(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return np.eye(k)[rng.integers(0, k, n)]


# ------------------------------------------------------- a user-registered optimizer
@numba.njit(cache=True)
def user_adam(p, g, state, hyper, t):
    """Adam as a user would register it (the course's denominator sqrt(r_hat + 1e-5))."""
    lr, b1, b2 = hyper[0], hyper[1], hyper[2]
    s, r = state[0], state[1]
    c1, c2 = 1 - b1 ** t, 1 - b2 ** t
    for i in range(p.shape[0]):
        s[i] = b1 * s[i] + (1 - b1) * g[i]
        r[i] = b2 * r[i] + (1 - b2) * (g[i] * g[i])
        p[i] = p[i] - lr * (s[i] / c1) / np.sqrt(r[i] / c2 + 0.00001)


nt.register_optimizer("UserAdam", user_adam, slots=("s", "r"), hyper={"beta1": 0.9, "beta2": 0.999},
                      time="epoch")


def _interleaved_ms(fns: dict[str, Callable[[], None]], repeats: int) -> dict[str, float]:
    """Median ms of each function, run alternately so that machine load hits them alike."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for fn in fns.values():
        fn()  # warm-up
    for _ in range(repeats):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
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
    return torch.nn.Sequential(*layers).double()


def _torch_classifier_epoch(sizes, act, lr, x, y, vx, vy, batch):
    model = _torch_mlp(sizes, act, bn=True)
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


# ---------------------------------------------------------------- workloads
def _nn_epoch(nn, engine, x, y, vx, vy, batch):
    def epoch():
        nt.nn_train(nn, {"batch_size": batch, "iteration": 1, "engine": engine}, x, y)
        if vx is not None:
            nt.nn_test(nn, vx, vy)
    return epoch


def run(args: argparse.Namespace) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []

    def bench(name, make_nn, engines, x, y, vx, vy, torch_epoch, repeats):
        res = {"workload": name}
        for engine in engines:
            res[f"{engine} ms"] = _median_ms(_nn_epoch(make_nn(), engine, x, y, vx, vy, 100), repeats[engine])
        if torch is not None:
            res["torch ms"] = _median_ms(torch_epoch, repeats["fused"])
        rows.append(res)
        print(res, flush=True)

    # (a) the chess course network: 4,208 training + 1,402 validation rows per epoch
    cx, cy = rng.standard_normal((4208, 6)), _onehot(rng, 4208, 2)
    cvx, cvy = rng.standard_normal((1402, 6)), _onehot(rng, 1402, 2)
    chess = [6] + [10] * 10 + [2]
    bench("chess 6-10x10-2 relu BN Adam CE", lambda: nt.nn_create(
        chess, "active function", "relu", "learning rate", 0.005, "batch normalization", 1,
        "optimization method", "Adam", "objective function", "Cross Entropy", seed=1),
        ("fused", "stepwise"), cx, cy, cvx, cvy,
        _torch_classifier_epoch(chess, "relu", 0.005, cx, cy, cvx, cvy, 100) if torch else None,
        {"fused": 30 if not args.quick else 10, "stepwise": 5 if not args.quick else 2})

    # (a') the same network with a user-registered njit Adam vs the built-in, in the fused engine
    def chess_net(method):
        return nt.nn_create(chess, "active function", "relu", "learning rate", 0.005, "batch normalization", 1,
                            "optimization method", method, "objective function", "Cross Entropy", seed=1)
    ms = _interleaved_ms({m: _nn_epoch(chess_net(m), "fused", cx, cy, cvx, cvy, 100) for m in ("Adam", "UserAdam")},
                         30 if not args.quick else 10)
    res = {"workload": "chess, user-registered njit Adam (fused)", "fused ms": ms["UserAdam"],
           "built-in Adam ms": ms["Adam"], "user / built-in": ms["UserAdam"] / ms["Adam"]}
    rows.append(res)
    print(res, flush=True)

    # (b) MNIST-sized network on synthetic data of MNIST's shape
    n = args.mnist_rows
    mx, my = rng.random((n, 784)), _onehot(rng, n, 10)
    mnist = [784, 400, 169, 49, 10]
    bench(f"MNIST-size 784-400-169-49-10 sigmoid BN Adam CE ({n} rows)", lambda: nt.nn_create(
        mnist, "active function", "sigmoid", "learning rate", 0.01, "batch normalization", 1,
        "optimization method", "Adam", "objective function", "Cross Entropy", seed=1),
        ("fused", "stepwise"), mx, my, None, None,
        _torch_classifier_epoch(mnist, "sigmoid", 0.01, mx, my, None, None, 100) if torch else None,
        {"fused": 3 if not args.quick else 1, "stepwise": 2 if not args.quick else 1})

    # (c) sparse autoencoder 784-196-784
    def sae_epoch(engine):
        sae = nt.sae_create([784, 196], "learning rate", 0.5, seed=1)
        return lambda: nt.sae_train(sae, {"batch_size": 100, "iteration": 1, "engine": engine}, mx)
    res = {"workload": f"sparse AE 784-196-784 sigmoid ({n} rows)"}
    for engine in ("fused", "stepwise"):
        res[f"{engine} ms"] = _median_ms(sae_epoch(engine), 3 if not args.quick else 1)
    if torch is not None:
        res["torch ms"] = _median_ms(_torch_sae_epoch(784, 196, 0.5, mx, 100), 3 if not args.quick else 1)
    rows.append(res)
    print(res, flush=True)

    df = pd.DataFrame(rows).set_index("workload")
    df["stepwise / fused"] = df["stepwise ms"] / df["fused ms"]
    if torch is not None:
        df["torch / fused"] = df["torch ms"] / df["fused ms"]
    return df


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    p.add_argument("--mnist-rows", type=int, default=10000, help="rows of synthetic MNIST-shaped data")
    args = p.parse_args(argv)
    print(f"numpy {np.__version__}; torch {torch.__version__ if torch else 'not installed (skipped)'}"
          + (f", {torch.get_num_threads()} threads" if torch else ""))
    df = run(args)
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.float_format", "{:.2f}".format):
        print(df)


if __name__ == "__main__":
    main()

"""The chess epoch of several revisions of nntoolbox, side by side in one process.  A benchmark, not a test.

On a shared or virtual machine the speed drifts by 10-30 % between processes, more than most kernel
changes gain.  Here each revision's package is copied under its own name (``nnt_<commit>``; the package
imports itself only relatively), all are imported into one process, and their epochs alternate, so
drift hits them alike; the ratios are medians of per-round ratios to the first revision.

    python scripts/bench_revisions.py HEAD~3 HEAD        # two commits
    python scripts/bench_revisions.py main .             # main against the working tree

An epoch is what ``scripts/bench.py``'s chess row times (its network and epoch, imported from it):
``nn_train`` for one epoch (4,208 rows, batch 100) then ``nn_test`` on 1,402 validation rows, thread CPU
time, BLAS pinned to one thread.  The copies live in ``--work`` (default
``<tmp>/nntoolbox-bench-revisions``) with their Numba caches, so a second run of the same commits does
not compile again (the working tree's copy is made anew each run).
"""
from __future__ import annotations

import argparse
import importlib
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

import bench  # beside this script: the chess network and epoch

REPO = Path(__file__).resolve().parent.parent


def _package(rev: str, work: Path) -> str:
    """Copy ``nntoolbox/`` of ``rev`` ('.' = the working tree) to ``work/nnt_<commit>``; returns that name."""
    if rev == ".":
        name, dest = "nnt_worktree", work / "nnt_worktree"
        if dest.exists():
            shutil.rmtree(dest)
        # a fresh copy each run (its kernels compile again): the working tree may have changed
        shutil.copytree(REPO / "nntoolbox", dest, ignore=shutil.ignore_patterns("__pycache__"))
        return name
    try:
        sha = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", f"{rev}^{{commit}}"],
                             capture_output=True, text=True, check=True).stdout.strip()
    except subprocess.CalledProcessError:
        raise SystemExit(f"bench_revisions: {rev!r} is not a commit of {REPO}") from None
    name = f"nnt_{sha[:12]}"
    dest = work / name
    if not dest.exists():
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", sha, "nntoolbox"],
                                 capture_output=True, check=True).stdout
        tmp = Path(tempfile.mkdtemp(dir=work))
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        (tmp / "nntoolbox").rename(dest)
        tmp.rmdir()
    return name


def _epoch(package: str, dtype: str, data: tuple[np.ndarray, ...]) -> Callable[[], None]:
    lib = importlib.import_module(package)
    x, y, vx, vy = (a.astype(dtype) for a in data)
    return bench._nn_epoch(bench._chess_net(dtype=dtype, lib=lib), "fused", x, y, vx, vy, 100, lib=lib)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("revisions", nargs="+", help="git revisions ('.' = the working tree); the first is the base")
    ap.add_argument("--dtype", nargs="+", default=["float64", "float32"], choices=["float64", "float32"])
    ap.add_argument("--epochs", type=int, default=1500, help="timed epochs per revision (default 1500)")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "nntoolbox-bench-revisions")
    args = ap.parse_args(argv)
    if len(args.revisions) < 2:
        ap.error("give at least two revisions")
    args.work.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(args.work))
    packages = [_package(rev, args.work) for rev in args.revisions]
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((4208, 6)), np.eye(2)[rng.integers(0, 2, 4208)],
            rng.standard_normal((1402, 6)), np.eye(2)[rng.integers(0, 2, 1402)])
    print(f"chess epoch (train 4208 + test 1402 rows), thread CPU time, {args.epochs} epochs each, interleaved")
    with threadpool_limits(1):
        for dtype in args.dtype:
            epochs = [_epoch(p, dtype, data) for p in packages]
            for f in epochs:  # compile or load the kernels, then settle
                for _ in range(30):
                    f()
            times: list[list[float]] = [[] for _ in epochs]
            for r in range(args.epochs):
                for i in range(len(epochs)):  # rotate the order: no revision always runs first
                    k = (i + r) % len(epochs)
                    t = time.thread_time()
                    epochs[k]()
                    times[k].append(time.thread_time() - t)
            for rev, pkg, ts in zip(args.revisions, packages, times):
                ratio, q1, q3 = bench.median_quartiles([a / b for a, b in zip(ts, times[0])])
                print(f"{dtype}  {rev:>12} ({pkg}): median {statistics.median(ts) * 1e3:7.3f} ms, "
                      f"ratio to {args.revisions[0]} {ratio:.3f} (quartiles {q1:.3f}-{q3:.3f})")


if __name__ == "__main__":
    main()

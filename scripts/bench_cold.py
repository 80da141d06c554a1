"""Cold start against the floor: the first chess epoch with an empty kernel cache, nntoolbox and
``../shared/bench/floor.py`` alternating in fresh processes (the order reversed every other pair).

Every run is a new Python process with a new, empty ``NUMBA_CACHE_DIR``: it imports, builds the chess
network and data, then times its first epoch alone (thread CPU time; Numba compiles in the calling
thread), compiling included:

- floor: ``floor_epoch`` (a training epoch and the validation pass);
- demo style: ``nn_train`` of one epoch with validation rows (the same work);
- course style: ``nn_train`` iteration=1, then ``nn_test`` on the validation rows.

Prints each run, then the median of the per-pair ratios to the floor with quartiles.  ``--profile``
instead runs nntoolbox's course-style first epoch once and lists what Numba compiled, exclusive seconds
per function (a kernel's time without the kernels it compiles on the way), and the registries' cfuncs.

    python scripts/bench_cold.py --pairs 5
    python scripts/bench_cold.py --profile
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
KINDS = ("floor", "demo", "course")


def _child(kind: str, dtype: str, floor_path: Path) -> dict:
    """One cold first epoch in this (fresh) process: ``{"kind", "seconds", "wall"}``."""
    import numpy as np  # noqa: PLC0415 - a child imports what it times after

    from bench import _chess_net, load_floor  # noqa: PLC0415

    floor = load_floor(floor_path)
    x, y, vx, vl, vy = floor.make_data(dtype)
    nn = _chess_net(dtype=dtype)
    import nntoolbox as nt  # noqa: PLC0415

    t0, w0 = time.thread_time(), time.perf_counter()
    if kind == "floor":
        floor.floor_epoch(floor.state_from_nntoolbox(nn, np.dtype(dtype).type), x, y, vx, vl)
    elif kind == "demo":
        nt.nn_train(nn, {"batch_size": 100, "iteration": 1, "validation": (vx, vy)}, x, y)
    else:
        nt.nn_test(nt.nn_train(nn, {"batch_size": 100, "iteration": 1}, x, y), vx, vy)
    return {"kind": kind, "seconds": time.thread_time() - t0, "wall": time.perf_counter() - w0}


def _run(kind: str, dtype: str, floor_path: Path) -> str:
    """The output of ``--child kind`` in a fresh process with an empty kernel cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, OPENBLAS_NUM_THREADS="1", NNTOOLBOX_BLAS_THREADS="1")
        done = subprocess.run([sys.executable, __file__, "--child", kind, "--dtype", dtype, "--floor", str(floor_path)],
                              env=env, capture_output=True, text=True, check=True)
    return done.stdout


def _profile(dtype: str, floor_path: Path) -> None:
    """Numba's compile events of a cold course-style first epoch, exclusive seconds per function."""
    from numba.core import event  # noqa: PLC0415

    stack: list[list[float]] = []
    records: list[tuple[float, str]] = []

    class Listener(event.Listener):
        def on_start(self, e):
            stack.append([time.perf_counter(), 0.0])

        def on_end(self, e):
            start, children = stack.pop()
            spent = time.perf_counter() - start
            if stack:
                stack[-1][1] += spent
            fn = getattr(e.data.get("dispatcher"), "py_func", None)
            records.append((spent - children, getattr(fn, "__qualname__", "?")))

    event.register("numba:compile", Listener())
    t0 = time.perf_counter()
    result = _child("course", dtype, floor_path)
    total = time.perf_counter() - t0
    print(f"course-style first epoch, {dtype}: {result['seconds']:.2f} s thread CPU; Numba compile events "
          f"(exclusive s; the cfuncs' own compiles are not dispatcher events: they are the remainder)")
    for spent, name in sorted(records, reverse=True)[:20]:
        print(f"  {spent:6.2f}  {name}")
    print(f"  {sum(s for s, _ in records):6.2f}  all {len(records)} compile events; {total:.2f} s in all")


def main(argv: list[str] | None = None) -> None:
    from bench import FLOOR, median_quartiles  # noqa: PLC0415

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pairs", type=int, default=5, help="alternating rounds of the three runs (default 5)")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--floor", type=Path, default=FLOOR, help=f"the chess floor (default {FLOOR})")
    p.add_argument("--profile", action="store_true", help="list what a cold nntoolbox first epoch compiles")
    p.add_argument("--child", choices=(*KINDS, "profile"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child == "profile":
        _profile(args.dtype, args.floor)
        return
    if args.child:
        print(json.dumps(_child(args.child, args.dtype, args.floor)))
        return
    if not args.floor.is_file():
        p.error(f"no floor at {args.floor}; give its path with --floor")
    if args.profile:
        print(_run("profile", args.dtype, args.floor), end="")
        return
    if args.pairs < 1:
        p.error("--pairs must be at least 1")
    times: dict[str, list[float]] = {k: [] for k in KINDS}
    for i in range(args.pairs):
        for kind in KINDS if i % 2 == 0 else KINDS[::-1]:
            r = json.loads(_run(kind, args.dtype, args.floor).splitlines()[-1])
            times[kind].append(r["seconds"])
            print(f"pair {i + 1} {kind:6s} {r['seconds']:6.2f} s thread CPU ({r['wall']:.2f} s wall)", flush=True)
    for kind in ("demo", "course"):
        ratio, q1, q3 = median_quartiles([a / b for a, b in zip(times[kind], times["floor"])])
        print(f"cold first epoch, {args.dtype}, {kind} style / floor: {ratio:.2f} [{q1:.2f}, {q3:.2f}] "
              f"(median {median_quartiles(times[kind])[0]:.2f} s against "
              f"{median_quartiles(times['floor'])[0]:.2f} s; target <= 1.5)")


if __name__ == "__main__":
    main()

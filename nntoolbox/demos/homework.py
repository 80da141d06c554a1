"""``scripts/homework_optimizers.py``: the course homework -- Momentum vs. RMSProp_Nesterov
(and any ``--method``) on the chess task and, with ``--data``, on MNIST.

Every method trains the task's course network with the same seeds on the same
split (a sweep over ``optimization_method``, see nntoolbox.compare).  Chess:
validation-accuracy and cost curves (mean ± std over seeds) and the test ROC of
each method on one figure (``curves_roc.png``; also ``roc.png`` alone); MNIST:
the curves.  Tables: ``results.csv`` (one row per run) and ``summary.csv``
(mean ± std per method) in each task's folder.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from ..compare import SweepResult
from ..io import nn_load
from ..metrics import evaluate
from ..options import OPTIONS
from ..plotting import plot_roc, plot_sweep_and_roc
from .common import parse_with_imports, positive_int
from .compare_cli import Task, add_task_args, load_task, run_sweep

NAME = "homework_optimizers"
HOMEWORK_METHODS = ("Momentum", "RMSProp_Nesterov")


def methods_of(extra: Sequence[str]) -> list[str]:
    """The homework's methods plus ``extra``, canonical names, each once; exits on an unknown one."""
    methods = []
    for name in (*HOMEWORK_METHODS, *extra):
        try:
            methods.append(OPTIONS["optimization_method"].check("optimization method", name))
        except (TypeError, ValueError) as e:
            raise SystemExit(f"{NAME}: {e}") from None
    return list(dict.fromkeys(methods))


def roc_figures(task: Task, result: SweepResult, out: Path, seed: int) -> tuple[list[Path], dict[str, float]]:
    """Test-set ROC of each method's ``seed`` run (its best validation epoch) on one figure
    (``roc.png``), and beside the validation curves (``curves_roc.png``); returns paths and AUCs."""
    results = result.results
    evaluations = {}
    for _, row in results[(results["seed"] == seed) & (results["status"] == "ok")].iterrows():
        nn = nn_load(out / "runs" / f"{row['key']}.npz")
        evaluations[f"{row['optimization_method']} (seed {seed})"] = evaluate(
            nn, task.data.test_x, task.data.test_y, task.class_names)
    title = f"KRK draw vs. win: test ROC ({len(task.data.test_x)} positions)"
    paths = [plot_roc(evaluations, out / "roc.png", title=title),
             plot_sweep_and_roc(result.runs, evaluations, out / "curves_roc.png",
                                title=f"{NAME}: {len(set(results['seed']))} seeds, same split")]
    return paths, {k: ev.auc for k, ev in evaluations.items()}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"{NAME}.py", description=__doc__.split("\n\n")[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", action="append", default=[], metavar="NAME",
                        help="another optimization method to compare (repeatable); always: "
                        + ", ".join(HOMEWORK_METHODS))
    add_task_args(parser, epochs=200, data_help="MNIST files: also run the homework on MNIST (curves)")
    parser.add_argument("--krk", metavar="PATH", help="krkopt.data (default: generated on first use)")
    parser.add_argument("--mnist-epochs", type=positive_int, default=10, help="epochs on MNIST (default 10)")
    parser.add_argument("--out", default=f"results/{NAME}", metavar="DIR",
                        help=f"output folder (default results/{NAME})")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_with_imports(build_parser, argv)
    methods = methods_of(args.method)
    grid = [{"optimization_method": m} for m in methods]
    out = Path(args.out)
    print(f"{NAME}: {', '.join(methods)}; seeds {' '.join(map(str, args.seeds))}")
    task = load_task("chess", args, args.krk)
    chess = run_sweep(task, grid, args, out / "chess", prog=f"{NAME}.py", save_networks=True)
    paths, aucs = roc_figures(task, chess, out / "chess", args.seeds[0])
    print(f"wrote {', '.join(p.name for p in paths)}: " + ", ".join(f"{k} AUC {v:.4f}" for k, v in aucs.items()))
    if args.data:
        mnist = load_task("mnist", args, args.data)
        args.epochs = args.mnist_epochs
        run_sweep(mnist, grid, args, out / "mnist", prog=f"{NAME}.py")
    return 0

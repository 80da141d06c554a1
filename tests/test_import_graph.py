"""The import rules of docs/architecture.md, read by ast from nntoolbox/ (scripts/import_graph.py).

Module-level and function-level imports both count (a function-level import is a dependency too, only a
later one); imports under ``if TYPE_CHECKING:`` are annotations only and do not count."""
from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "import_graph.py"
_spec = importlib.util.spec_from_file_location("import_graph", SCRIPT)
graph = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(graph)
MODULES, EDGES = graph.import_graph()

# The one essential loop: a field edit (edits) rebuilds the network's buffers, and nn.field = value
# (network) hands the edit to edits.  network imports edits inside a function, edits imports network.
ALLOWED_LOOPS = [["nntoolbox.edits", "nntoolbox.network"]]
# What kernels/ may import besides itself: the SIGINT guard, the cache directory, the thread settings.
KERNEL_FLOOR = {"nntoolbox.interrupts", "nntoolbox.cachedir", "nntoolbox.threads"}


def _is_demo(name: str) -> bool:
    return name == "nntoolbox.demos" or name.startswith("nntoolbox.demos.")


def test_the_scan_sees_both_kinds_of_import():
    # network imports edits only inside a function, edits imports network at module level
    assert EDGES["nntoolbox.network"]["nntoolbox.edits"] == {"function"}
    assert "module" in EDGES["nntoolbox.edits"]["nntoolbox.network"]
    assert "nntoolbox.network" not in EDGES["nntoolbox.batchnorm"]  # under TYPE_CHECKING only


def test_no_library_module_imports_the_demos():
    """Module-level and function-level imports: the library never depends on nntoolbox.demos."""
    bad = sorted((a, b) for a, out in EDGES.items() if not _is_demo(a) for b in out if _is_demo(b))
    assert bad == [], f"library modules importing the demos: {bad}"


def test_no_import_loop_but_network_and_edits():
    """Module-level and function-level imports together: any other loop fails."""
    assert graph.loops(EDGES) == ALLOWED_LOOPS


def test_kernels_import_nothing_above_them():
    """Module-level and function-level imports out of nntoolbox/kernels/: pure Numba (the adapter from a
    Network to the kernels' arguments is nntoolbox/engines.py)."""
    upward = {(a, b) for a, out in EDGES.items() if a.startswith("nntoolbox.kernels")
              for b in out if not b.startswith("nntoolbox.kernels") and b not in KERNEL_FLOOR}
    assert upward == set(), f"upward imports from kernels/: {sorted(upward)}"

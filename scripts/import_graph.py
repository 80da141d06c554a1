"""The import graph of nntoolbox/, read by ast (nothing is imported): which package modules each module
imports at module level and inside functions (imports under ``if TYPE_CHECKING:`` are annotations only
and left out), and the import loops.  ``python scripts/import_graph.py`` prints per module its lines and
import counts, then the loops; tests/test_import_graph.py checks the rules of docs/architecture.md."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "nntoolbox"
Edges = dict[str, dict[str, set[str]]]  # module -> imported module -> {'module', 'function'}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and getattr(test, "id", getattr(test, "attr", None)) == "TYPE_CHECKING"


def _imports(tree: ast.Module) -> list[tuple[ast.Import | ast.ImportFrom, str]]:
    """Every import with its kind: 'module' (runs at import) or 'function' (runs when the function does)."""
    found: list = []

    def visit(node: ast.AST, kind: str) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append((child, kind))
            inner = "function" if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) else kind
            visit(child, inner)
    visit(tree, "module")
    return found


def import_graph(package: Path = PACKAGE) -> tuple[dict[str, Path], Edges]:
    """The package's modules (name -> file) and their imports of each other."""
    modules = {module_name(p, package): p for p in sorted(package.rglob("*.py"))}
    edges: Edges = {m: {} for m in modules}
    for name, path in modules.items():
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node, kind in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    base = ".".join(here[:len(here) - node.level + 1] + ([node.module] if node.module else []))
                targets = [f"{base}.{a.name}" for a in node.names]
            for target in targets:
                while target and target not in modules:  # an attribute of a module: the module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges[name].setdefault(target, set()).add(kind)
    return modules, edges


def loops(edges: Edges) -> list[list[str]]:
    """The import loops: strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return sorted(found)


def main() -> None:
    modules, edges = import_graph(Path(sys.argv[1]) / "nntoolbox" if len(sys.argv) > 1 else PACKAGE)
    print(f"{'module':34s} {'lines':>5s} {'module-level':>12s} {'function-level':>14s}")
    for name, path in modules.items():
        kinds = edges[name].values()
        print(f"{name:34s} {len(path.read_text(encoding='utf-8').splitlines()):5d} "
              f"{sum('module' in k for k in kinds):12d} {sum('function' in k for k in kinds):14d}")
    for component in loops(edges):
        print("loop:", " ".join(component))
        for a in component:
            for b, kinds in sorted(edges[a].items()):
                if b in component:
                    print(f"  {a} -> {b} ({', '.join(sorted(kinds))})")


if __name__ == "__main__":
    main()

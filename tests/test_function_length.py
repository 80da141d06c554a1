"""Issue 22: no Python function in nntoolbox/ longer than 80 lines, compiled kernels (``@njit``,
``@numba.njit``, ``@cfunc``...) aside; read by ast, nothing is imported."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "nntoolbox"
LIMIT = 80
COMPILED = {"njit", "jit", "cfunc", "vectorize", "guvectorize", "generated_jit"}


def _compiled(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for dec in fn.decorator_list:
        node = dec.func if isinstance(dec, ast.Call) else dec
        name = getattr(node, "attr", getattr(node, "id", None))
        if name in COMPILED:
            return True
    return False


def long_functions(package: Path = PACKAGE, limit: int = LIMIT) -> list[str]:
    """``path:line name (n lines)`` of every function (methods and nested ones too) over ``limit`` lines."""
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not _compiled(node):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    found.append(f"{path.relative_to(package.parent)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_python_function_over_80_lines():
    assert long_functions() == []


def test_the_scan_counts_lines_and_skips_kernels(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT))
    (tmp_path / "m.py").write_text(f"import numba\n\ndef long():\n{body}\n\n@numba.njit(cache=True)\n"
                                   f"def kernel():\n{body}\n\ndef short():\n    return 1\n", encoding="utf-8")
    assert long_functions(tmp_path) == [f"{tmp_path.name}/m.py:3 long ({LIMIT + 1} lines)"]

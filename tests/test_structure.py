"""House rules of builder/ (issue 14), checked on the code itself: modules of at most 500 lines,
functions of at most 80 lines except the numerical kernels named in docs/architecture.md, no
``_private`` name imported across modules."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILDER = ROOT / "builder"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def _modules() -> list[Path]:
    return sorted(BUILDER.rglob("*.py"))


def _documented_kernels() -> set[str]:
    """``path:function`` pairs of the kernels table in docs/architecture.md."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("### Documented numerical kernels", 1)[1].split("\n#", 1)[0]
    return set(re.findall(r"^\| `(builder/[\w/]+\.py:\w+)`", section, flags=re.M))


def long_functions(path: Path, root: Path = ROOT) -> dict[str, int]:
    """``path:function`` -> lines, for the functions of ``path`` over MAX_FUNCTION_LINES."""
    rel = path.relative_to(root).as_posix()
    out = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = node.end_lineno - node.lineno + 1
            if n > MAX_FUNCTION_LINES:
                out[f"{rel}:{node.name}"] = n
    return out


def private_imports(path: Path) -> list[str]:
    """``from builder.x import _y`` and ``module._y`` (module imported from builder) in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found, modules = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("builder"):
            for a in node.names:
                if a.name.startswith("_") and not a.name.startswith("__"):
                    found.append(f"{node.module}.{a.name}")
                elif node.module == "builder" or node.module.startswith("builder."):
                    modules.add(a.asname or a.name)
        elif isinstance(node, ast.Import):
            modules.update(a.asname or a.name for a in node.names if a.name.startswith("builder"))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_no_module_over_500_lines():
    sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text(encoding="utf-8").splitlines()) for p in _modules()}
    assert {p: n for p, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def test_long_functions_are_exactly_the_documented_kernels():
    long = {k: n for p in _modules() for k, n in long_functions(p).items()}
    kernels = _documented_kernels()
    assert set(long) - kernels == set(), "functions over 80 lines that are not documented kernels"
    assert kernels - set(long) == set(), "docs/architecture.md lists kernels that are no longer long"


def test_no_private_name_crosses_modules():
    assert {p.relative_to(ROOT).as_posix(): f for p in _modules() if (f := private_imports(p))} == {}


def test_the_checks_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from builder.pipeline import _x\nfrom builder import detect\n"
                   "def f():\n" + "    y = 1\n" * 90 + "    return detect._merge\n", encoding="utf-8")
    assert private_imports(bad) == ["builder.pipeline._x", "detect._merge"]
    assert long_functions(bad, tmp_path) == {"bad.py:f": 92}

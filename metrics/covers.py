"""Which tests cover which metric: a static scan of tests/ for `@pytest.mark.covers("<metric>", ...)` marks.

A mark counts on a test function, on a class (each of its test methods) or in a module's `pytestmark` (each test of
the module); `covers = pytest.mark.covers` (or `mark.covers` after `from pytest import mark`) aliases are followed.
The scan reads the files' syntax only (nothing is imported or run), so docs/metrics.md and the coverage test can
list the tests without collecting them. A mark elsewhere, or one whose names are not string literals, is an error:
a scan that silently skipped it would report a covered metric as uncovered, or the other way round.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS_DIR = ROOT / "tests"


class CoversError(ValueError):
    """A covers mark the scan cannot read: not on a test, a class or pytestmark, or names that are not literals."""


def _is_covers(func: ast.expr, aliases: set[str]) -> bool:
    """Whether a call's function is pytest.mark.covers, mark.covers or an alias of it."""
    if isinstance(func, ast.Name):
        return func.id in aliases
    if not (isinstance(func, ast.Attribute) and func.attr == "covers"):
        return False
    owner = func.value
    return (isinstance(owner, ast.Name) and owner.id == "mark") or (
        isinstance(owner, ast.Attribute) and owner.attr == "mark" and isinstance(owner.value, ast.Name)
        and owner.value.id == "pytest")


def _aliases(tree: ast.Module) -> set[str]:
    """Module-level names bound to the covers mark itself (`covers = pytest.mark.covers`)."""
    return {target.id for node in tree.body if isinstance(node, ast.Assign) and _is_covers(node.value, set())
            for target in node.targets if isinstance(target, ast.Name)}


def _names(call: ast.Call, where: str) -> list[str]:
    """The metric names of one covers(...) call."""
    if call.keywords or not call.args or not all(isinstance(a, ast.Constant) and isinstance(a.value, str)
                                                 for a in call.args):
        raise CoversError(f"{where}:{call.lineno}: covers(...) takes metric names as string literals only")
    return [a.value for a in call.args]  # type: ignore[attr-defined]


def _marks(nodes: list[ast.expr], aliases: set[str]) -> list[ast.Call]:
    """The covers calls among decorators or pytestmark's value (one mark or a list / tuple of marks)."""
    flat: list[ast.expr] = []
    for node in nodes:
        flat += node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]
    return [n for n in flat if isinstance(n, ast.Call) and _is_covers(n.func, aliases)]


def _tests_of(node: ast.ClassDef) -> list[str]:
    return [f.name for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
            and f.name.startswith("test")]


def scan_file(path: Path, label: str) -> dict[str, list[str]]:
    """Metric name -> ids (`label::test` or `label::Class::test`) of the tests one file's covers marks name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    aliases = _aliases(tree)
    tests: list[tuple[str, list[ast.Call]]] = []  # (test id, its own and its class's marks)
    module_marks: list[ast.Call] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark"
                                                for t in node.targets):
            module_marks += _marks([node.value], aliases)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            tests.append((f"{label}::{node.name}", _marks(node.decorator_list, aliases)))
        elif isinstance(node, ast.ClassDef):
            own = _marks(node.decorator_list, aliases)
            methods = {f.name: f for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
            tests += [(f"{label}::{node.name}::{name}", own + _marks(methods[name].decorator_list, aliases))
                      for name in _tests_of(node)]
    found: dict[str, list[str]] = {}
    placed = {id(c) for c in module_marks} | {id(c) for _, calls in tests for c in calls}
    for test_id, calls in tests:
        for name in dict.fromkeys(n for c in [*module_marks, *calls] for n in _names(c, label)):
            found.setdefault(name, []).append(test_id)
    stray = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _is_covers(n.func, aliases)
             and id(n) not in placed]
    if stray:
        raise CoversError(f"{label}:{stray[0].lineno}: a covers mark must decorate a test or a class, or be pytestmark")
    return found


def scan(root: Path = TESTS_DIR) -> dict[str, list[str]]:
    """Metric name -> sorted ids of the tests that cover it, over every .py file under root (subfolders too)."""
    found: dict[str, list[str]] = {}
    if not root.is_dir():
        return found
    for path in sorted(root.rglob("*.py")):
        label = path.relative_to(root.parent).as_posix()
        for name, ids in scan_file(path, label).items():
            found.setdefault(name, []).extend(ids)
    return {name: sorted(ids) for name, ids in sorted(found.items())}

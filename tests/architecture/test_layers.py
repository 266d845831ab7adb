"""The product's imports, walked: layers point one way, no module imports itself back, none changes another module's
data when imported, none uses another module's private (`_name`) names (tests may)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Lower layers never import higher ones; siblings of one rank never import each other.
RANK = {"data_layer": 0, "metrics": 1, "programme": 2, "presentation": 3, "reports": 4, "ui": 4, "pages": 5,
        "app": 6}
PACKAGES = [name for name in RANK if name != "app"]
# Import circles allowed: none (issue 21 split the last one, reports.exports ↔ view_pdf). The test compares the
# circles found with this list, so any circle, function-level imports included, fails it.
KNOWN_CIRCLES: list[list[str]] = []


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {"app": ROOT / "app.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[_module_name(path)] = path
    return found


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Product modules this file imports, at any depth of the file (function-level imports count too)."""
    out: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, name, set(modules)) for name, path in modules.items()}


def _layer(module: str) -> str:
    return module.split(".")[0]


def test_no_module_imports_a_higher_layer() -> None:
    bad = sorted(f"{m} imports {t}" for m, targets in _graph().items() for t in targets
                 if RANK[_layer(t)] > RANK[_layer(m)]
                 or (RANK[_layer(t)] == RANK[_layer(m)] and _layer(t) != _layer(m)))
    assert bad == [], "imports against the layer order data_layer → metrics → programme → presentation → " \
                      "ui | reports → pages → app:\n" + "\n".join(bad)


def test_there_is_no_import_circle() -> None:
    graph = _graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                circles.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert circles == KNOWN_CIRCLES, "import circles:\n" + "\n".join(" → ".join(c) for c in circles)


# Methods that change the object they are called on.
MUTATORS = {"update", "append", "extend", "insert", "setdefault", "pop", "popitem", "clear", "add", "remove",
            "discard"}


def _root(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _imported_names(tree: ast.Module) -> set[str]:
    """Names a module's top level binds to a product module or to something imported from one."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names if _layer(a.name) in RANK}
        elif isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] in RANK):
            names |= {a.asname or a.name for a in node.names}
    return names


def test_no_module_changes_another_module_s_data_at_import() -> None:
    bad = []
    for name, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = _imported_names(tree)
        for node in tree.body:  # the top level only: what runs at import
            targets: list[ast.expr] = []
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) \
                    and isinstance(node.value.func, ast.Attribute) and node.value.func.attr in MUTATORS:
                targets = [node.value.func.value]
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = [t for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                           if isinstance(t, (ast.Attribute, ast.Subscript))]
            bad += [f"{name}:{node.lineno} changes {_root(t)}" for t in targets if _root(t) in imported]
    assert bad == [], "modules that change another module's data when imported:\n" + "\n".join(bad)


def _private_uses(path: Path, name: str, known: set[str]) -> list[str]:
    """`from m import _x` and `m._x` where m is another product module (tests may use private names; code not)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    modules: dict[str, str] = {}  # local name -> product module it stands for
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in known:
                    modules[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for a in node.names:
                if f"{base}.{a.name}" in known:
                    modules[a.asname or a.name] = f"{base}.{a.name}"
                elif base in known and base != name and a.name.startswith("_"):
                    out.append(f"{name}:{node.lineno} imports {base}.{a.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            dotted, value = [node.attr], node.value
            while isinstance(value, ast.Attribute):
                dotted.insert(0, value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in modules:
                target = ".".join([modules[value.id], *dotted[:-1]])
                if target in known and target != name:
                    out.append(f"{name}:{node.lineno} uses {target}.{node.attr}")
    return out


def test_no_module_uses_another_module_s_private_names() -> None:
    modules = _modules()
    bad = sorted(line for name, path in modules.items() for line in _private_uses(path, name, set(modules)))
    assert bad == [], "private names used across modules (make them public or move the code):\n" + "\n".join(bad)

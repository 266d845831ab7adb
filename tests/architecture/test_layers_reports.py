"""The reports (the weekly cron job among them) never load Streamlit: reports/ imports nothing from ui, pages or
streamlit, and presentation/ — what the dashboard and the reports both show — nothing from those nor from reports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"reports": ("ui", "pages", "streamlit"), "presentation": ("ui", "pages", "reports", "streamlit")}


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in a module, those inside functions included."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def forbidden_imports(path: Path, packages: tuple[str, ...]) -> list[str]:
    """"file:line: import module" for each import of one of packages (or a module of theirs) in path."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [f"{path.relative_to(ROOT)}:{line}: imports {module}" for line, module in imported_modules(tree)
            if module.split(".")[0] in packages]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_the_package_imports_no_dashboard_module(package: str) -> None:
    files = sorted((ROOT / package).glob("*.py"))
    assert files, f"no module found in {package}/"
    bad = [hit for path in files for hit in forbidden_imports(path, FORBIDDEN[package])]
    assert not bad, f"{package}/ must not import {', '.join(FORBIDDEN[package])}:\n" + "\n".join(bad)


def test_the_checker_sees_every_kind_of_import() -> None:
    tree = ast.parse("import ui.fmt\nfrom ui import charts\ndef f():\n    import streamlit as st\n"
                     "from pages import x\nfrom . import text\nimport uikit\n")
    assert sorted(m for _, m in imported_modules(tree)) == ["pages", "streamlit", "ui", "ui.fmt", "uikit"]


def test_importing_the_reports_loads_neither_streamlit_nor_ui() -> None:
    modules = ["reports", "reports.__main__"] + [f"reports.{p.stem}" for p in sorted((ROOT / "reports").glob("*.py"))
                                                 if p.stem not in ("__init__", "__main__")]
    modules += [f"presentation.{p.stem}" for p in sorted((ROOT / "presentation").glob("*.py")) if p.stem != "__init__"]
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n"
            "    importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'ui', 'pages')))\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]", f"importing the reports loaded: {run.stdout.strip()}"

"""One hop from a metric to its SQL and its test: every registry metric names the block that computes it, and some
test carrying `@pytest.mark.covers("<metric>")` checks its value; every covers mark names a registry metric."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from metrics import covers
from metrics.registry import FINAL_SELECT, METRICS, Where

TESTS_ROOT = next(p for p in Path(__file__).resolve().parents if p.name == "tests")  # wherever this file moves
REPO = TESTS_ROOT.parent


def _sql_text(path: Path) -> str:
    """A SQL file's text without its comments (SQL `--` and `/* */`, Jinja `{# #}`), lower-cased."""
    text = re.sub(r"/\*.*?\*/|\{#.*?#\}", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"--[^\n]*", " ", text).lower()


def block_problem(where: Where, repo: Path = REPO) -> str | None:
    """Why a registry `where` names no such block (None when the file has it)."""
    path = repo / where.path
    if not path.is_file():
        return f"{where.path} does not exist"
    if where.kind == "sql":
        text = _sql_text(path)
        if where.block == FINAL_SELECT:
            return None if re.search(r"\)\s*select\b", text) else f"{where.path} has no closing select after a CTE"
        return None if re.search(rf"\b{re.escape(where.block.lower())}\s+as\s+(materialized\s+)?\(", text) \
            else f"{where.path} has no CTE `{where.block} as (`"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return None if where.block in defined else f"{where.path} defines no function {where.block}"


def coverage_problems(found: dict[str, list[str]], names: set[str]) -> list[str]:
    """Registry metrics no test covers and covers marks that name no registry metric."""
    return ([f"metric {n!r} has no test marked @pytest.mark.covers({n!r})" for n in sorted(names - set(found))]
            + [f"covers({n!r}) names no registry metric (in {', '.join(found[n])})" for n in sorted(set(found) - names)])


def test_every_metric_names_an_existing_block() -> None:
    problems = [f"{m.name}: {p}" for m in METRICS.values() if (p := block_problem(m.where))]
    assert problems == []


def test_every_metric_has_a_covering_test_and_every_mark_names_a_metric() -> None:
    assert coverage_problems(covers.scan(TESTS_ROOT), set(METRICS)) == []


# ---------- the checks themselves can fail ----------

def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_scan_finds_marks_in_subfolders_classes_modules_and_aliases_and_names_an_uncovered_metric(
        tmp_path: Path) -> None:
    root = tmp_path / "tests"
    _write(root, "test_a.py", "import pytest\n\n@pytest.mark.covers('roi', 'roi_low')\ndef test_one():\n    pass\n")
    _write(root, "metrics/test_b.py", "import pytest\nfrom pytest import mark\ncovers = pytest.mark.covers\n"
           "pytestmark = [pytest.mark.slow, covers('leads')]\n\ndef test_two():\n    pass\n\n"
           "@mark.covers('revenue')\nclass TestC:\n    def test_three(self):\n        pass\n\n"
           "    def helper(self):\n        pass\n")
    found = covers.scan(root)
    assert found == {"leads": ["tests/metrics/test_b.py::TestC::test_three", "tests/metrics/test_b.py::test_two"],
                     "revenue": ["tests/metrics/test_b.py::TestC::test_three"],
                     "roi": ["tests/test_a.py::test_one"], "roi_low": ["tests/test_a.py::test_one"]}
    assert coverage_problems(found, {"roi", "roi_low", "leads", "revenue", "profit"}) == [
        "metric 'profit' has no test marked @pytest.mark.covers('profit')"]
    assert coverage_problems(found, {"roi", "leads", "revenue"}) == [
        "covers('roi_low') names no registry metric (in tests/test_a.py::test_one)"]


@pytest.mark.parametrize("text", [
    "import pytest\nNAME = 'roi'\n\n@pytest.mark.covers(NAME)\ndef test_x():\n    pass\n",  # not a literal
    "import pytest\n\n@pytest.mark.parametrize('v', [pytest.param(1, marks=pytest.mark.covers('roi'))])\n"
    "def test_x(v):\n    pass\n",  # a mark the scan cannot place
])
def test_a_mark_the_scan_cannot_read_is_an_error(tmp_path: Path, text: str) -> None:
    _write(tmp_path / "tests", "test_x.py", text)
    with pytest.raises(covers.CoversError, match="test_x.py:"):
        covers.scan(tmp_path / "tests")


def test_a_missing_block_is_named(tmp_path: Path) -> None:
    _write(tmp_path, "metrics/sql/k.sql", "-- rated as ( in a comment only\nwith measured as (select 1)\nselect 2\n")
    _write(tmp_path, "metrics/m.py", "def rows():\n    return 1\n")
    assert block_problem(Where("metrics/sql/k.sql", "MEASURED"), tmp_path) is None
    assert block_problem(Where("metrics/sql/k.sql", FINAL_SELECT), tmp_path) is None
    assert block_problem(Where("metrics/sql/k.sql", "rated"), tmp_path) == "metrics/sql/k.sql has no CTE `rated as (`"
    assert block_problem(Where("metrics/sql/gone.sql", "rated"), tmp_path) == "metrics/sql/gone.sql does not exist"
    assert block_problem(Where("metrics/m.py", "rows"), tmp_path) is None
    assert block_problem(Where("metrics/m.py", "payback_rows"), tmp_path) == "metrics/m.py defines no function payback_rows"

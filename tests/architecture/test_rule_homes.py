"""Each shared rule has one home: the band and the interval are the macros of data_layer/macros.sql."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from data_layer import store
from metrics import macros, stats

ROOT = Path(__file__).resolve().parents[2]
SQL_FILES = [p for p in (*ROOT.glob("metrics/sql/*.sql"), *ROOT.glob("data_layer/*.sql")) if p != store.MACROS_SQL]
PY_FILES = [p for d in ("metrics", "data_layer", "presentation", "ui", "pages", "reports")
            for p in (ROOT / d).rglob("*.py")]


@pytest.mark.parametrize(("roi", "band"), [(None, "n/a"), (float("nan"), "n/a"), (-0.01, "loss"), (0.0, "marginal"),
                                           (0.4999, "marginal"), (0.5, "profitable"), (1.99, "profitable"),
                                           (2.0, "excellent"), (7.5, "excellent")])
def test_roi_band_follows_the_spec_at_every_edge(roi: float | None, band: str) -> None:
    assert macros.roi_band(roi) == band


def test_python_and_sql_give_the_same_interval(tmp_db: Path) -> None:
    with store.connect(tmp_db, read_only=True) as con:
        for k, n in [(0, 5), (3, 5), (5, 5), (1, 400), (57, 285)]:
            sql = con.execute("select wilson_low(?, ?, ?), wilson_high(?, ?, ?)",
                              [k, n, macros.Z95 ** 2] * 2).fetchone()
            assert stats.wilson(k, n) == pytest.approx(sql, rel=1e-15)
    assert stats.wilson(0, 0) == (None, None)


def test_no_sql_file_spells_a_band_threshold_again() -> None:
    copies = [p.name for p in SQL_FILES if re.search(r"'(excellent|profitable)'", p.read_text(encoding="utf-8"))]
    assert copies == [], f"ROI band written outside data_layer/macros.sql: {copies}; call roi_band(roi) instead"


def test_no_sql_file_spells_the_wilson_formula_again() -> None:
    copies = [p.name for p in SQL_FILES if re.search(r"z2\s*/\s*\(4", p.read_text(encoding="utf-8"))]
    assert copies == [], f"Wilson interval written outside data_layer/macros.sql: {copies}; call wilson_low/high"


def test_no_python_module_computes_a_band_or_an_interval_itself() -> None:
    own = {ROOT / "metrics" / "macros.py"}
    found = [str(p.relative_to(ROOT)) for p in PY_FILES if p not in own
             and re.search(r"roi\s*>=\s*2\b|z\s*\*\s*z\s*/\s*\(4", p.read_text(encoding="utf-8"))]
    assert found == [], f"a band or interval computed outside its home: {found}; use metrics.macros"


def test_the_macros_exist_in_a_fresh_database(tmp_db: Path) -> None:
    with duckdb.connect(str(tmp_db), read_only=True) as con:
        names = {r[0] for r in con.execute("select function_name from duckdb_functions() "
                                           "where function_type = 'macro'").fetchall()}
    assert {"roi_band", "wilson_low", "wilson_high", "norm_name"} <= names


def test_anomaly_rule_words_follow_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sentence every page and report shows is built from metrics.changes' constants: change one, it follows."""
    from metrics import changes
    from presentation.rules import anomaly_rule

    assert "± 3 " in anomaly_rule("ru") and "6 предыдущих недель" in anomaly_rule("ru", "week")
    monkeypatch.setattr(changes, "K", 4.0)
    monkeypatch.setattr(changes, "WINDOW", 8)
    assert "± 4 " in anomaly_rule("ru") and "8 months" in anomaly_rule("en", "month")


def test_anomaly_rule_words_have_one_home() -> None:
    """No page, panel or report writes the anomaly rule's band (its MAD) in its own words."""
    homes = {ROOT / "presentation" / "rules.py", ROOT / "metrics" / "changes.py"}
    offenders = [str(p.relative_to(ROOT)) for folder in ("pages", "ui", "reports", "presentation")
                 for p in (ROOT / folder).rglob("*.py") if p not in homes and "MAD" in p.read_text(encoding="utf-8")]
    assert offenders == []

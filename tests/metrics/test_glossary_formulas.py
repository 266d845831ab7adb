"""The glossary says what the SQL computes (issue 19): every registry formula written as an expression of other
columns is evaluated on the engine's own rows and must give the column the engine returns; the ROI band and the
"too few leads" rules are read from their formula text and checked the same way."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_layer import store
from metrics import engine
from metrics.filters import Filters
from metrics.registry import METRICS

# The formulas that must be checkable as expressions (a formula rewritten into prose would silently drop out).
MUST_CHECK = {"lead_to_qualified", "avg_check", "profit", "roi", "cpa"}


def _expression(formula: str) -> str | None:
    """The formula's arithmetic (before a ';' remark), in Python operators, or None when it is prose."""
    text = formula.split(";")[0].replace("−", "-").replace("×", "*").strip()
    return text if re.fullmatch(r"[(a-z_][\w\s()+\-*/.]*", text) else None


def _frames(con) -> list[pd.DataFrame]:
    """KPI rows the pages show: by partner and by month, cohort and close view, last 12 months of the demo."""
    end = con.execute("select max(created_date) from lead_facts").fetchone()[0]
    out = []
    for view in ("cohort", "close"):
        f = Filters(end - timedelta(days=364), end, view=view)
        out += [engine.kpis(con, f, by="partner"), engine.kpis(con, f, by="month")]
    return out


@pytest.fixture(scope="module")
def frames(app_db: Path) -> list[pd.DataFrame]:
    with store.connect(app_db, read_only=True) as con:
        return _frames(con)


def _checkable(columns: set[str]) -> dict[str, str]:
    out = {}
    for m in METRICS.values():
        expr = _expression(m.formula)
        if expr and m.name in columns and set(re.findall(r"[a-z_]+", expr)) <= columns:
            out[m.name] = expr
    return out


@pytest.mark.covers("lead_to_qualified", "avg_check", "profit", "roi", "cpa")
def test_every_expression_formula_gives_the_engine_s_column(frames: list[pd.DataFrame]) -> None:
    checked = _checkable(set(frames[0].columns))
    assert MUST_CHECK <= set(checked), f"formulas no longer checkable: {MUST_CHECK - set(checked)}"
    for frame in frames:
        data = frame.astype({c: "float64" for c in frame.columns if frame[c].dtype.kind in "iufb"})
        for name, expr in checked.items():
            with np.errstate(divide="ignore", invalid="ignore"):
                want = pd.eval(expr, local_dict={c: data[c].to_numpy(dtype="float64", na_value=np.nan)
                                                 for c in re.findall(r"[a-z_]+", expr)})
            want = np.where(np.isinf(want), np.nan, want)  # the engine leaves a ratio over 0 empty
            got = data[name].to_numpy(dtype="float64", na_value=np.nan)
            assert np.allclose(got, want, rtol=1e-9, atol=1e-6, equal_nan=True), (name, expr)


@pytest.mark.covers("roi_band")
def test_the_band_rule_in_the_glossary_is_the_engine_s(frames: list[pd.DataFrame]) -> None:
    rules = re.findall(r"(\w+) ([≥<]) (-?[\d.]+)", METRICS["roi_band"].formula)
    assert [r[0] for r in rules] == ["excellent", "profitable", "marginal", "loss"]

    def band(roi: float) -> str:
        if pd.isna(roi):
            return "n/a"
        for name, op, edge in rules:
            if (roi >= float(edge)) if op == "≥" else (roi < float(edge)):
                return name
        raise AssertionError(roi)

    for frame in frames:
        assert [band(r) for r in frame["roi"]] == list(frame["roi_band"])


@pytest.mark.covers("too_few")
def test_the_too_few_rule_in_the_glossary_is_the_engine_s(frames: list[pd.DataFrame]) -> None:
    limit = int(re.search(r"default (\d+)", METRICS["too_few"].formula).group(1))
    partners = frames[0][frames[0]["partner_id"].notna()]
    assert list(partners["too_few"].astype(bool)) == list(partners["leads"] < limit)
    assert partners["too_few"].any() and not partners["too_few"].all()  # both sides of the rule occur in the demo


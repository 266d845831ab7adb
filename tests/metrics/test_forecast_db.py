"""Forecast wrappers on the demo database: history matches the engine, complete periods only, filters narrow
the series, groups, ROI from income and costs, empty data, plan basis."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from data_layer import store
from metrics import engine, lookups
from metrics import forecast as fc
from metrics.filters import Filters
from programme import planning as pl


@pytest.fixture
def con(app_db: Path):
    with store.connect(app_db, read_only=True) as c:
        yield c


def _period(con) -> Filters:
    lo, hi = con.execute("select min(created_date), max(created_date) from lead_facts").fetchone()
    return Filters(lo, hi)


def test_history_matches_the_engine_on_complete_months(con) -> None:
    f = _period(con)
    hist = fc.history(con, f, "leads", "total", "month")
    first, last = fc.history_window(con, f, "month")
    assert hist["period"].min() == pd.Timestamp(first) and hist["period"].max() == pd.Timestamp(last)
    assert last < f.date_to.replace(day=1) or f.date_to == fc.next_period(last, "month") - timedelta(days=1)
    scope = replace(f, date_from=first, date_to=fc.next_period(last, "month") - timedelta(days=1), view="close")
    expected = engine.kpis(con, scope, by="month")
    assert list(hist["value"]) == [float(v) for v in expected["leads"]]
    revenue = fc.history(con, f, "revenue", "total", "month")
    assert revenue["value"].sum() == pytest.approx(float(expected["revenue"].sum()))


def test_models_add_up_to_the_total_and_partner_filter_narrows(con) -> None:
    f = _period(con)
    total = fc.panel(con, f, "total", "month")
    models = fc.panel(con, f, "model", "month")
    assert models.groupby("period")["leads"].sum().tolist() == total["leads"].tolist()
    partners = fc.panel(con, f, "partner", "month")
    pid = int(partners.groupby("group")["leads"].sum().idxmax())
    one = fc.panel(con, replace(f, partners=(pid,)), "total", "month")
    mine = partners[partners["group"] == str(pid)]
    assert one["leads"].tolist() == mine["leads"].tolist()


def test_a_period_ending_mid_month_drops_that_month(con) -> None:
    f = _period(con)
    cut = replace(f, date_to=date(f.date_to.year, f.date_to.month, 1) + timedelta(days=9))
    if cut.date_to > f.date_to:
        cut = replace(cut, date_to=f.date_to)
    hist = fc.history(con, cut, "leads", "total", "month")
    assert hist["period"].max() < pd.Timestamp(cut.date_to.replace(day=1))


def test_weekly_history_is_in_monday_weeks(con) -> None:
    hist = fc.history(con, _period(con), "won_deals", "total", "week")
    assert (hist["period"].dt.dayofweek == 0).all()
    assert (hist["period"].diff().dropna() == pd.Timedelta(days=7)).all()


def test_forecast_by_partner_keeps_the_largest_and_counts_the_rest(con) -> None:
    fs = fc.forecast(con, _period(con), "leads", "partner", "month", 3, top=4)
    assert len(fs.groups) == 4 and fs.hidden > 0
    volumes = [g.result.history.sum() for g in fs.groups]
    assert all(g.label and g.group.isdigit() for g in fs.groups)
    assert volumes[0] >= volumes[-1]
    for g in fs.groups:
        assert len(g.result.frame) == 3 and (g.result.frame >= 0).all().all()


def test_roi_forecast_by_model_has_income_and_costs_and_direct_has_no_costs(con) -> None:
    fs = fc.forecast(con, _period(con), "roi", "model", "month", 3)
    by = {g.group: g.result for g in fs.groups}
    assert "direct" in by and by["direct"].reason == "no_costs"
    referral = by["referral"]
    assert referral.method == "ratio" and set(referral.components) == {"income", "costs"}
    assert referral.frame["mean"].notna().all()


def test_empty_history_gives_no_groups(con) -> None:
    old = Filters(date(2001, 1, 1), date(2001, 12, 31))
    fs = fc.forecast(con, old, "revenue", "total", "month", 3)
    assert fs.groups == () and fs.first is None
    assert fc.history(con, old, "revenue").empty


def test_bad_arguments_are_refused(con) -> None:
    f = _period(con)
    with pytest.raises(fc.ForecastError, match="metric"):
        fc.forecast(con, f, "profit", "total", "month", 3)
    with pytest.raises(fc.ForecastError, match="1–26"):
        fc.forecast(con, f, "leads", "total", "week", 40)


def test_plan_basis_is_the_last_twelve_complete_months(con) -> None:
    f = _period(con)
    b = pl.basis(con, f, "model")
    assert b.last == fc.history_window(con, f, "month")[1]
    assert (b.last.year * 12 + b.last.month) - (b.first.year * 12 + b.first.month) == 11
    assert set(b.monthly["group"]) <= {"referral", "sales", "service", "unassigned"}
    assert b.quarter_start > f.date_to and b.quarter_label.endswith(("Q1", "Q2", "Q3", "Q4"))
    result = pl.plan(con, f, "model")
    assert set(result.budgets) == set(result.rates.loc[result.rates["plannable"], "group"])
    assert result.projection.table["group"].iloc[-1] == "total"


@pytest.mark.parametrize(("by", "freq"), [("total", "month"), ("model", "week"), ("partner", "month")])
def test_lean_counts_match_the_engine(con, by: str, freq: str) -> None:
    f = _period(con)
    source = str(lookups.sources(con)["source"].iloc[0])
    for scope in (f, replace(f, models=("referral", "sales")), replace(f, sources=(source,))):
        lean = fc.panel(con, scope, by, freq, costs=False)
        assert len(lean) > 0
        full = fc.panel(con, scope, by, freq)
        cols = ["period", "group", "label", "leads", "won_deals", "revenue"]
        pd.testing.assert_frame_equal(lean[cols].reset_index(drop=True), full[cols].reset_index(drop=True),
                                      check_dtype=False)

"""Drill-through (metrics.drill): the list behind a number has the number's count and sum, for any filters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics import drill, engine
from metrics.filters import ALL_MODELS, FilterError, Filters

pytestmark = pytest.mark.covers("leads", "won_deals", "revenue")

START, END = date(2025, 1, 1), date(2026, 12, 7)


@pytest.fixture(scope="module")
def con(app_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(str(app_db), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def choices(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    """The demo's partner ids, pipeline ids and sources to draw filters from."""
    def col(sql: str) -> list:
        return [r[0] for r in con.execute(sql).fetchall()]
    return {"partners": col("select partner_id from partners order by 1"),
            "pipelines": col("select distinct pipeline_id from lead_facts order by 1"),
            "sources": col("select distinct utm_source from lead_facts where utm_source is not null order by 1")}


@st.composite
def filter_sets(draw: st.DrawFn, choices: dict[str, list]) -> Filters:
    first = draw(st.dates(START, END))
    last = min(END, first + timedelta(days=draw(st.integers(0, 400))))
    pick = lambda xs: tuple(draw(st.lists(st.sampled_from(xs), max_size=3, unique=True)))  # noqa: E731
    return Filters(first, last, partners=pick(choices["partners"]), models=pick(list(ALL_MODELS)),
                   pipelines=pick(choices["pipelines"]) if draw(st.booleans()) else (),
                   sources=pick(choices["sources"]) if draw(st.booleans()) else (),
                   view=draw(st.sampled_from(["cohort", "close"])))


def _check(con: duckdb.DuckDBPyConnection, f: Filters, **what: object) -> None:
    """The drill lists of f narrowed by `what` add up to the KPI row of the same narrowed filters."""
    d = drill.narrow(f, **what)
    k = engine.kpis(con, d.filters, "none").iloc[0]
    leads = drill.deal_list(con, drill.narrow(f, **what, status="leads"))
    won = drill.deal_list(con, d)
    assert len(leads) == int(k["leads"])
    assert len(won) == int(k["won_deals"])
    assert won["amount"].sum() == pytest.approx(float(k["revenue"] or 0), abs=0.01)
    qualified = drill.deal_list(con, drill.narrow(f, **what, status="qualified"))
    assert len(qualified) == int(k["qualified_leads"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_list_adds_up_to_the_kpis_for_any_filters(con: duckdb.DuckDBPyConnection, choices: dict[str, list],
                                                       data: st.DataObject) -> None:
    _check(con, data.draw(filter_sets(choices)))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_leaderboard_row_s_list_is_its_partner_s(con: duckdb.DuckDBPyConnection, choices: dict[str, list],
                                                   data: st.DataObject) -> None:
    f = data.draw(filter_sets(choices))
    f = Filters(f.date_from, f.date_to, pipelines=f.pipelines, view=f.view)
    rows = engine.kpis(con, f, "partner")
    row = rows.iloc[data.draw(st.integers(0, len(rows) - 1))]
    partner = drill.DIRECT if pd.isna(row["partner_id"]) else int(row["partner_id"])
    won = drill.deal_list(con, drill.narrow(f, partner=partner))
    assert len(won) == int(row["won_deals"])
    assert won["amount"].sum() == pytest.approx(float(row["revenue"] or 0), abs=0.01)
    leads = drill.deal_list(con, drill.narrow(f, partner=partner, status="leads"))
    assert len(leads) == int(row["leads"])


def test_a_month_bar_s_list_is_that_month_cut_to_the_period(con: duckdb.DuckDBPyConnection) -> None:
    f = Filters(date(2026, 1, 10), date(2026, 6, 30))
    by_month = engine.kpis(con, f, "month").set_index("period")
    jan = by_month.loc[by_month.index[0]]
    d = drill.narrow(f, period=(date(2026, 1, 1), date(2026, 1, 31)))
    assert d.filters.date_from == date(2026, 1, 10) and d.filters.date_to == date(2026, 1, 31)
    assert len(drill.deal_list(con, d)) == int(jan["won_deals"])
    _check(con, f, model="referral", period=(date(2026, 3, 1), date(2026, 3, 31)))


def test_lost_open_and_stage_narrow_the_rows(con: duckdb.DuckDBPyConnection) -> None:
    f = Filters(date(2026, 6, 1), date(2026, 12, 7))  # recent: some leads are still open
    lists = {s: drill.deal_list(con, drill.narrow(f, status=s)) for s in ("leads", "won", "lost", "open")}
    assert len(lists["won"]) + len(lists["lost"]) + len(lists["open"]) == len(lists["leads"])
    assert lists["lost"]["is_lost"].all() and not lists["open"]["is_won"].any()
    stage = int(lists["open"]["status_id"].iloc[0])
    at_stage = drill.deal_list(con, drill.narrow(f, status="open", stage=stage))
    assert len(at_stage) == int((lists["open"]["status_id"] == stage).sum()) and len(at_stage) > 0
    assert list(drill.COLUMNS) == list(at_stage.columns)


def test_the_leads_list_carries_every_computed_commission(con: duckdb.DuckDBPyConnection) -> None:
    f = Filters(date(2026, 1, 1), date(2026, 12, 7))
    k = engine.kpis(con, f, "none").iloc[0]
    leads = drill.deal_list(con, drill.narrow(f, status="leads"))
    assert leads["commission"].sum() == pytest.approx(float(k["costs_commission"]), rel=1e-9)


@pytest.mark.parametrize(("what", "says"), [({"colour": "red"}, "Unknown narrowing colour"),
                                            ({"status": "maybe"}, "Unknown status"),
                                            ({"model": "agency"}, "Unknown model"),
                                            ({"period": ("2020-01-01", "2020-01-31")}, "outside")])
def test_a_bad_narrowing_is_one_sentence(what: dict, says: str) -> None:
    with pytest.raises(FilterError, match=says):
        drill.narrow(Filters(START, END), **what)


def test_all_partners_is_every_model_but_direct(con: duckdb.DuckDBPyConnection) -> None:
    f = Filters(date(2026, 1, 1), date(2026, 12, 7))
    _check(con, f, model=drill.PARTNER_MODELS)
    _check(con, f, partner=drill.DIRECT)

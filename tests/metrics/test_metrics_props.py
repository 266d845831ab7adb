"""Property tests: invariants of the KPI engine on random small accounts (built through the data layer)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.accounts import LOST, WON, Account, pipeline_record
from support.template import copy_template

from data_layer import store
from metrics import engine
from metrics.filters import Filters

ADDITIVE = ("leads", "qualified_leads", "won_deals", "revenue", "costs", "costs_ledger", "costs_commission",
            "income", "profit")
PARTNERS = (("A", "referral"), ("B", "sales"), ("C", "service"), ("D", None))
F = Filters(date(2024, 3, 1), date(2024, 4, 30))

lead_st = st.fixed_dictionaries({
    "day": st.dates(date(2024, 2, 20), date(2024, 5, 10)),
    "partner": st.sampled_from(["A", "B", "C", "D", None]),
    "status": st.sampled_from(["new", "qualified", "offer", WON, LOST]),
    "price": st.integers(0, 100_000),
    "close_after": st.integers(0, 40),
    "pipeline": st.sampled_from([1, 2]),
    "contact": st.one_of(st.none(), st.integers(1, 6)),
    "utm": st.sampled_from([None, "ya", "vk"]),
})
cost_st = st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.sampled_from(["2024-02", "2024-03", "2024-04"]),
                    st.sampled_from(["bonus", "marketing", "commission"]), st.integers(0, 50_000))
rule_st = st.one_of(
    st.fixed_dictionaries({"kind": st.just("percent_revenue"), "rate": st.sampled_from([0.05, 0.1]),
                           "model": st.sampled_from(["referral", "sales"])}),
    st.fixed_dictionaries({"kind": st.just("fixed_per_deal"), "rate": st.sampled_from([100, 1000]),
                           "partner": st.sampled_from(["A", "C"]), "valid_from": st.just("2024-03-15")}),
    st.fixed_dictionaries({"kind": st.just("fixed_per_qualified_lead"), "rate": st.just(50),
                           "model": st.just("referral")}),
    st.fixed_dictionaries({"kind": st.just("percent_revenue"), "rate": st.just(0.1), "model": st.just("service"),
                           "tiers": st.just([{"up_to": 50_000, "rate": 0.1}, {"up_to": None, "rate": 0.2}])}),
)


def build(leads: list[dict], costs: list[tuple], rules: list[dict], margin: float | None,
          template: Path) -> Path:
    """A fresh database (a copy of the template) with these records."""
    acc = Account(pipelines=[pipeline_record(1), pipeline_record(2, offset=100)],
                  settings={"margin": {"account": margin}} if margin is not None else {})
    for name, model in PARTNERS:
        acc.partner(name, model)
    for lead in leads:
        closed = pd.Timestamp(lead["day"]) + pd.Timedelta(days=lead["close_after"])
        acc.lead(lead["day"].isoformat(), partner=lead["partner"], status=lead["status"], price=lead["price"],
                 closed=closed.date().isoformat() if lead["status"] in (WON, LOST) else None,
                 pipeline=lead["pipeline"], contact=lead["contact"], utm=lead["utm"])
    for partner, month, category, amount in costs:
        acc.cost(partner, month, category, amount)
    for rule in rules:
        acc.rule(**rule)
    path = Path(tempfile.mkdtemp(prefix="metrics-props-")) / "p.duckdb"
    return acc.build(copy_template(template, path))


def check_additive(total: pd.Series, parts: pd.DataFrame) -> None:
    for col in ADDITIVE:
        assert parts[col].sum() == pytest.approx(total[col], rel=1e-9, abs=1e-6), col


def check_ratios(df: pd.DataFrame) -> None:
    for r in df.to_dict("records"):
        if r["leads"] > 0:
            assert 0 <= r["conversion_low"] <= r["conversion"] <= r["conversion_high"] <= 1
        else:
            assert pd.isna(r["conversion"])
        assert r["profit"] == pytest.approx(r["income"] - r["costs"], abs=1e-6)
        if abs(r["costs"]) > 1e-9:
            assert r["roi"] == pytest.approx(r["profit"] / r["costs"], rel=1e-9)
        else:
            assert pd.isna(r["roi"]) and r["roi_band"] == "n/a"


@pytest.mark.covers("profit", "roi")
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(lead_st, max_size=25), st.lists(cost_st, max_size=6, unique_by=lambda c: c[:3]), st.lists(rule_st, max_size=3),
       st.sampled_from([None, 0.4]), st.sampled_from(["cohort", "close"]))
def test_groups_add_up_to_the_total(template_db: Path, leads, costs, rules, margin, view) -> None:
    path = build(leads, costs, rules, margin, template_db)
    f = Filters(F.date_from, F.date_to, view=view)
    with store.connect(path, read_only=True) as con:
        total = engine.kpis(con, f).iloc[0]
        for by in ("partner", "model", "month", "pipeline", "source"):
            parts = engine.kpis(con, f, by)
            check_additive(total, parts)
            check_ratios(parts)
        check_ratios(engine.kpis(con, f))
        cats = engine.costs_by_category(con, f)
        assert cats["amount"].sum() == pytest.approx(total["costs"], abs=1e-6)
        months = engine.monthly(con, f)
        assert months["revenue"].sum() == pytest.approx(total["revenue"])
        assert months["costs"].sum() == pytest.approx(total["costs"], abs=1e-6)
        split = sum(engine.kpis(con, Filters(f.date_from, f.date_to, view=view, partners=(pid,))).iloc[0]["costs"]
                    for pid in range(1, 5))
        direct = engine.kpis(con, Filters(f.date_from, f.date_to, view=view, models=("direct",))).iloc[0]
        assert split + direct["costs"] == pytest.approx(total["costs"], abs=1e-6)

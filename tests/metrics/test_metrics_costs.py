"""Costs: ledger spread over days, commission rules of every kind, overrides, scenarios, break-even."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from support.accounts import WON, Account, partner_ids, pipeline_record
from support.engine import MARCH, call, kpis, row

from data_layer import store
from metrics import costs, engine
from metrics.costs import Scenario, bound_ledger, bound_rules, check_tiers
from metrics.filters import FilterError, Filters

# ---------- ledger ----------

@pytest.fixture
def ledger_db(tmp_db: Path) -> Path:
    """Partner A: 3 100 in February 2024 (29 days), 3 100 in March (31 days), no leads."""
    acc = Account()
    acc.partner("A", "referral")
    acc.cost("A", "2024-02", "marketing", 2900)
    acc.cost("A", "2024-03", "marketing", 3100)
    acc.cost("A", "2024-03", "support", 310)
    return acc.build(tmp_db)


@pytest.mark.covers("costs", "costs_ledger")
@pytest.mark.parametrize(("start", "end", "expected"), [
    ("2024-03-01", "2024-03-31", 3410),                    # a whole month takes the whole amount
    ("2024-03-10", "2024-03-20", 3410 * 11 / 31),          # eleven of 31 days
    ("2024-02-15", "2024-03-15", 2900 * 15 / 29 + 3410 * 15 / 31),
    ("2024-04-01", "2024-04-30", 0),
])
def test_ledger_spreads_a_month_evenly_over_its_days(ledger_db: Path, start: str, end: str, expected: float) -> None:
    f = Filters(date.fromisoformat(start), date.fromisoformat(end))
    r = kpis(ledger_db, f).iloc[0]
    assert r["costs"] == pytest.approx(expected) and r["costs_ledger"] == pytest.approx(expected)


@pytest.mark.covers("costs_ledger")
def test_costs_by_category_long_format(ledger_db: Path) -> None:
    long = call(ledger_db, engine.costs_by_category, MARCH, by="partner")
    assert list(long.columns) == ["partner_id", "partner", "model", "category", "amount"]
    amounts = dict(zip(long["category"], long["amount"], strict=True))
    assert amounts == {"commission": 0, "bonus": 0, "marketing": 3100, "training": 0, "support": 310, "other": 0,
                       "computed_commission": 0}


@pytest.mark.covers("costs")
def test_weekly_buckets_split_the_ledger_by_days(ledger_db: Path) -> None:
    weeks = kpis(ledger_db, MARCH, by="week")
    assert weeks["costs"].sum() == pytest.approx(3410)
    first = row(weeks, period=date(2024, 2, 26))  # Fri 1 .. Sun 3 March: 3 days
    assert first["costs"] == pytest.approx(3410 * 3 / 31)


@pytest.mark.covers("costs")
def test_ledger_follows_leads_across_pipelines(tmp_db: Path) -> None:
    acc = Account(pipelines=[pipeline_record(1), pipeline_record(2, offset=100)])
    acc.partner("A", "referral")
    acc.partner("Idle", "sales")
    acc.lead("2024-03-05", partner="A", pipeline=1, n=3)
    acc.lead("2024-03-05", partner="A", pipeline=2, n=1)
    acc.cost("A", "2024-03", "bonus", 1000)
    acc.cost("Idle", "2024-03", "bonus", 500)
    acc.build(tmp_db)
    by_pipe = kpis(tmp_db, by="pipeline")
    assert row(by_pipe, pipeline_id=1)["costs"] == pytest.approx(750)
    assert row(by_pipe, pipeline_id=2)["costs"] == pytest.approx(250)
    assert row(by_pipe, pipeline_id=None)["costs"] == pytest.approx(500)  # no leads: cannot be split
    only2 = kpis(tmp_db, Filters(MARCH.date_from, MARCH.date_to, pipelines=(2,)), by="partner")
    assert list(only2["partner"]) == ["A"] and only2["costs"].iloc[0] == pytest.approx(250)


# ---------- commission rules ----------

def _rules_db(path: Path, *rules: dict, deals: list[tuple] | None = None) -> Path:
    acc = Account(pipelines=[pipeline_record(1), pipeline_record(2, offset=100)])
    acc.partner("A", "sales")
    acc.partner("B", "sales")
    for partner, created, closed, price, pipeline in deals or []:
        acc.lead(created, partner=partner, status=WON, price=price, closed=closed, pipeline=pipeline)
    for r in rules:
        acc.rule(**r)
    return acc.build(path)


@pytest.mark.covers("costs_commission", "roi")
def test_percent_of_revenue_rule(tmp_db: Path) -> None:
    _rules_db(tmp_db, {"kind": "percent_revenue", "rate": 0.1, "model": "sales"},
              deals=[("A", "2024-03-05", None, 1000, 1), ("B", "2024-03-06", None, 500, 1)])
    df = kpis(tmp_db, by="partner")
    assert (row(df, partner="A")["costs_commission"], row(df, partner="B")["costs_commission"]) == (100, 50)
    assert row(df, partner="A")["roi"] == pytest.approx(9.0)


@pytest.mark.covers("costs_commission")
def test_tiers_apply_progressively_per_calendar_month(tmp_db: Path) -> None:
    tiers = [{"up_to": 1_000_000, "rate": 0.10}, {"up_to": None, "rate": 0.15}]
    _rules_db(tmp_db, {"kind": "percent_revenue", "rate": 0.1, "model": "sales", "tiers": tiers},
              deals=[("A", "2024-03-05", None, 1_000_000, 1), ("A", "2024-03-20", None, 500_000, 2),
                     ("A", "2024-04-02", None, 400_000, 1)])
    f = Filters(date(2024, 3, 1), date(2024, 4, 30))
    a = row(kpis(tmp_db, f, by="partner"), partner="A")
    assert a["costs_commission"] == pytest.approx(100_000 + 75_000 + 40_000)  # March 1.5M, April 0.4M
    # A pipeline filter keeps the month's base: the 0.5M deal pays the month's effective rate 175k / 1.5M.
    only2 = kpis(tmp_db, Filters(f.date_from, f.date_to, pipelines=(2,)), by="partner")
    assert row(only2, partner="A")["costs_commission"] == pytest.approx(500_000 * 175_000 / 1_500_000)
    det = call(tmp_db, engine.commission_details, f)
    d = row(det, partner="A")
    assert (d["kind"], d["base"], d["amount"], d["rule_scope"]) == ("percent_revenue", 1_900_000, 215_000, "model")
    assert d["effective_rate"] == pytest.approx(215_000 / 1_900_000)


@pytest.mark.covers("costs_commission")
def test_tier_rates_follow_rebuilt_facts_on_an_open_connection(tmp_db: Path) -> None:
    # The tiers' monthly rates are bound with the rule structure: facts rebuilt under the same writing
    # connection (as a sync does) must give the new month's base, not the rate bound before.
    tiers = [{"up_to": 1_000_000, "rate": 0.10}, {"up_to": None, "rate": 0.15}]
    _rules_db(tmp_db, {"kind": "percent_revenue", "rate": 0.1, "model": "sales", "tiers": tiers},
              deals=[("A", "2024-03-05", None, 1_000_000, 1)])
    with store.connect(tmp_db) as con:
        before = row(engine.kpis(con, MARCH, "partner"), partner="A")["costs_commission"]
        con.execute("update lead_facts set amount = 1500000 where partner_name = 'A'")
        store.rebuild_derived_tables(con)
        after = row(engine.kpis(con, MARCH, "partner"), partner="A")
        details = row(engine.commission_details(con, MARCH), partner="A")
    assert before == pytest.approx(100_000)
    assert after["costs_commission"] == pytest.approx(100_000 + 75_000)
    assert details["base"] == 1_500_000 and details["effective_rate"] == pytest.approx(175_000 / 1_500_000)


@pytest.mark.covers("costs_commission")
def test_fixed_per_deal_is_dated_by_close_and_respects_validity(tmp_db: Path) -> None:
    _rules_db(tmp_db, {"kind": "fixed_per_deal", "rate": 1000, "model": "sales", "valid_from": "2024-03-15"},
              deals=[("A", "2024-03-01", "2024-03-10", 10, 1), ("A", "2024-03-02", "2024-03-16", 10, 1),
                     ("A", "2024-03-03", "2024-04-16", 10, 1)])
    assert row(kpis(tmp_db, by="partner"), partner="A")["costs_commission"] == 2000
    close = kpis(tmp_db, Filters(MARCH.date_from, MARCH.date_to, view="close"), by="partner")
    assert row(close, partner="A")["costs_commission"] == 1000


@pytest.mark.covers("costs_commission", "costs")
def test_fixed_per_qualified_lead_is_dated_by_creation(tmp_db: Path) -> None:
    acc = Account()
    acc.partner("A", "referral")
    acc.lead("2024-03-05", partner="A", status="qualified", n=3)
    acc.lead("2024-03-05", partner="A", status="new", n=2)
    acc.lead("2024-03-25", partner="A", status=WON, price=100)
    acc.rule("fixed_per_qualified_lead", 200, model="referral", valid_to="2024-03-20")
    acc.build(tmp_db)
    a = row(kpis(tmp_db, by="partner"), partner="A")
    assert a["costs_commission"] == 600 and a["costs"] == 600


@pytest.mark.covers("costs_commission")
def test_partner_rules_replace_model_rules(tmp_db: Path) -> None:
    _rules_db(tmp_db, {"kind": "percent_revenue", "rate": 0.1, "model": "sales"},
              {"kind": "fixed_per_deal", "rate": 7, "partner": "A"},
              deals=[("A", "2024-03-05", None, 1000, 1), ("B", "2024-03-05", None, 1000, 1)])
    df = kpis(tmp_db, by="partner")
    assert row(df, partner="A")["costs_commission"] == 7       # own rule only, the model's 10 % is replaced
    assert row(df, partner="B")["costs_commission"] == 100
    det = call(tmp_db, engine.commission_details, MARCH)
    assert list(det["rule_scope"]) == ["partner", "model"]


@pytest.mark.covers("costs_commission")
def test_a_dated_override_replaces_model_rules_only_while_in_force(tmp_db: Path) -> None:
    _rules_db(tmp_db, {"kind": "percent_revenue", "rate": 0.1, "model": "sales"},
              {"kind": "percent_revenue", "rate": 0.2, "partner": "A", "valid_from": "2024-03-15"},
              deals=[("A", "2024-03-05", None, 1000, 1), ("A", "2024-03-20", None, 1000, 1)])
    assert row(kpis(tmp_db, by="partner"), partner="A")["costs_commission"] == pytest.approx(100 + 200)


@pytest.mark.covers("costs_commission", "roi")
def test_no_rule_no_commission(tmp_db: Path) -> None:
    _rules_db(tmp_db, deals=[("A", "2024-03-05", None, 1000, 1)])
    a = row(kpis(tmp_db, by="partner"), partner="A")
    assert a["costs_commission"] == 0 and pd.isna(a["roi"])


@pytest.mark.covers("costs")
def test_commissions_follow_the_month_of_their_events(tmp_db: Path) -> None:
    _rules_db(tmp_db, {"kind": "fixed_per_deal", "rate": 10, "model": "sales"},
              deals=[("A", "2024-03-05", None, 1, 1), ("A", "2024-04-05", None, 1, 1)])
    months = call(tmp_db, engine.monthly, Filters(date(2024, 3, 1), date(2024, 4, 30)))
    assert list(months["costs"]) == [10, 10] and list(months["period"]) == [date(2024, 3, 1), date(2024, 4, 1)]


# ---------- scenarios ----------

@pytest.mark.covers("costs", "income")
def test_scenario_recomputes_like_actuals(tmp_db: Path) -> None:
    _rules_db(tmp_db, {"kind": "percent_revenue", "rate": 0.1, "model": "sales"},
              deals=[("A", "2024-03-05", None, 1000, 1)])
    ids = partner_ids(tmp_db)
    with store.connect(tmp_db, read_only=True) as con:
        actual_rules = bound_rules(con)
        same = Scenario(ledger=bound_ledger(con), rules=actual_rules)
        pd.testing.assert_frame_equal(engine.kpis(con, MARCH, "partner"), engine.kpis(con, MARCH, "partner", same))
        cheaper = actual_rules.assign(rate=0.05)
        ledger = pd.DataFrame({"partner_id": [ids["A"]], "month": [date(2024, 3, 1)], "category": ["bonus"],
                               "amount": [150.0]})
        what_if = Scenario(ledger=ledger, rules=cheaper, margin={"account": 0.5})
        a = row(engine.kpis(con, MARCH, "partner", what_if), partner="A")
        assert (a["costs"], a["income"], a["income_basis"]) == (200, 500, "margin")
        assert row(engine.kpis(con, MARCH, "partner"), partner="A")["costs"] == 100  # actuals untouched
        assert hash(what_if) == hash(Scenario(ledger=ledger.copy(), rules=cheaper, margin={"account": 0.5}))


def test_scenario_inputs_are_checked(tmp_db: Path) -> None:
    Account().build(tmp_db)
    bad = pd.DataFrame({"partner_id": [1], "month": ["2024-03-01"], "category": ["lunch"], "amount": [1]})
    with store.connect(tmp_db, read_only=True) as con, pytest.raises(FilterError, match="lunch"):
        engine.kpis(con, MARCH, scenario=Scenario(ledger=bad))
    with pytest.raises(FilterError):
        check_tiers(json.dumps([{"up_to": 5}]))


@pytest.mark.covers("breakeven_commission_rate")
def test_breakeven_rate_and_sensitivity(tmp_db: Path) -> None:
    acc = Account()
    acc.partner("A", "sales")
    acc.lead("2024-03-05", partner="A", status=WON, price=100_000)
    acc.cost("A", "2024-03", "marketing", 20_000)
    acc.rule("percent_revenue", 0.1, model="sales")
    acc.rule("fixed_per_deal", 5_000, model="sales")
    acc.build(tmp_db)
    pid = partner_ids(tmp_db)["A"]
    rate = call(tmp_db, engine.breakeven_commission_rate, MARCH, pid)
    assert rate == pytest.approx((100_000 - 20_000 - 5_000) / 100_000)
    sens = call(tmp_db, engine.roi_sensitivity, MARCH, [pid], [0.1, rate])
    assert list(sens["roi"]) == pytest.approx([(100_000 - 35_000) / 35_000, 0.0], abs=1e-9)
    assert list(sens["roi_band"]) == ["profitable", "marginal"]


def test_a_read_only_connection_reads_settings_and_checks_its_bound_inputs_once(tmp_db: Path) -> None:
    """Nothing can write under a read-only connection: it keeps what it read; a read-write one reads anew."""
    _rules_db(tmp_db, {"kind": "percent_revenue", "rate": 0.1, "model": "sales"},
              deals=[("A", "2024-03-05", None, 1000, 1)])
    commission = lambda con: row(engine.kpis(con, MARCH, "partner"), partner="A")["costs_commission"]  # noqa: E731
    with store.connect(tmp_db, read_only=True) as con:
        assert commission(con) == 100 and costs.is_read_only(con)
        assert con in costs._SETTINGS and con in costs._BOUND_ACTUAL
        held = costs._SETTINGS[con]
        assert commission(con) == 100 and costs._SETTINGS[con] is held
    with store.connect(tmp_db) as con:
        assert not costs.is_read_only(con)
        assert costs.load_settings(con).min_leads == costs.DEFAULT_MIN_LEADS
        con.execute("insert or replace into settings (key, value) values ('min_leads', '7')")
        assert costs.load_settings(con).min_leads == 7 and con not in costs._SETTINGS
    with store.connect(tmp_db, read_only=True) as con:  # a new connection sees the new value
        assert costs.load_settings(con).min_leads == 7


def test_a_connection_reuses_its_bound_inputs_but_follows_rule_edits_and_rollbacks(tmp_db: Path) -> None:
    """Later queries on one connection skip re-binding the cost inputs, yet see rules edited or rolled back."""
    _rules_db(tmp_db, {"kind": "percent_revenue", "rate": 0.1, "model": "sales"},
              deals=[("A", "2024-03-05", None, 1000, 1)])
    commission = lambda con: row(engine.kpis(con, MARCH, "partner"), partner="A")["costs_commission"]  # noqa: E731
    with store.connect(tmp_db) as con:
        assert commission(con) == 100
        con.execute("update commission_rules set rate = 0.2")
        assert commission(con) == 200
        con.execute("begin")
        con.execute("update commission_rules set rate = 0.3")
        assert commission(con) == 300
        con.execute("rollback")
        assert commission(con) == 200
        con.execute("begin")
        what_if = Scenario(rules=bound_rules(con).assign(rate=0.05))
        assert row(engine.kpis(con, MARCH, "partner", what_if), partner="A")["costs_commission"] == 50
        con.execute("rollback")  # the views bound inside the transaction are gone with it
        assert commission(con) == 200

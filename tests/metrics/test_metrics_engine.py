"""Metric engine: given rows (API-shaped records through the data layer) -> expected KPI rows."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from support.accounts import LOST, STAGES, WON, Account, partner_ids, ts
from support.engine import MARCH, call, kpis, row

from data_layer import store
from metrics import batch, engine, query, sql
from metrics.filters import FilterError, Filters

# ---------- the spec's worked examples ----------

@pytest.fixture
def worked(tmp_db: Path) -> Path:
    """Partners A/B/C of metrics-spec: each won deal a different client, ledger costs only, no rules."""
    acc = Account()
    for name, model, n, won, price, cost in [("A", "referral", 500, 100, 500, 20_000),
                                              ("B", "service", 40, 20, 5_000, 20_000),
                                              ("C", "sales", 200, 10, 700, 10_000)]:
        acc.partner(name, model)
        acc.lead("2024-03-10", partner=name, status=WON, price=price, n=won)
        acc.lead("2024-03-12", partner=name, status="new", n=n - won)
        acc.cost(name, "2024-03", "marketing", cost)
    return acc.build(tmp_db)


EXPECTED = [  # partner, model, leads, won, conversion, avg_check, revenue, roi, band, cpa, ltv
    ("A", "referral", 500, 100, 0.20, 500, 50_000, 1.5, "profitable", 200, 300),
    ("B", "service", 40, 20, 0.50, 5_000, 100_000, 4.0, "excellent", 1_000, 4_000),
    ("C", "sales", 200, 10, 0.05, 700, 7_000, -0.3, "loss", 1_000, -300),
]


@pytest.mark.covers("leads", "won_deals", "conversion", "avg_check", "revenue", "roi", "roi_band", "cpa",
                    "ltv")
def test_worked_examples_hold_exactly(worked: Path) -> None:
    df = kpis(worked, by="partner")
    got = [(r["partner"], r["model"], r["leads"], r["won_deals"], r["conversion"], r["avg_check"], r["revenue"],
            r["roi"], r["roi_band"], r["cpa"], r["ltv"]) for r in df.to_dict("records")]
    for g, e in zip(got, EXPECTED, strict=True):
        assert g[:4] == e[:4] and g[8] == e[8]
        assert g[4:8] + g[9:] == pytest.approx(e[4:8] + e[9:], abs=1e-9)


@pytest.mark.covers("leads", "won_deals", "revenue", "costs", "roi", "purchases_per_client", "new_clients",
                    "too_few")
def test_worked_examples_by_model_and_total(worked: Path) -> None:
    by_model = kpis(worked, by="model")
    assert list(by_model["model"]) == ["referral", "sales", "service"]
    assert row(by_model, model="sales")["roi"] == pytest.approx(-0.3)
    total = kpis(worked).iloc[0].to_dict()
    assert (total["leads"], total["won_deals"], total["revenue"], total["costs"]) == (740, 130, 157_000, 50_000)
    assert total["roi"] == pytest.approx((157_000 - 50_000) / 50_000)
    assert total["purchases_per_client"] == 1 and total["new_clients"] == 130
    assert not total["too_few"]


@pytest.mark.covers("conversion_low", "conversion_high", "too_few")
def test_wilson_interval_and_too_few(worked: Path) -> None:
    df = kpis(worked, by="partner")
    b = row(df, partner="B")
    assert b["conversion_low"] == pytest.approx(0.35199, abs=1e-4)
    assert b["conversion_high"] == pytest.approx(0.64801, abs=1e-4)
    assert bool(b["too_few"]) is False
    with store.connect(worked) as con:
        con.execute("insert into settings (key, value) values ('min_leads', '41')")
    assert bool(row(kpis(worked, by="partner"), partner="B")["too_few"]) is True


def test_ranking_skips_too_few_and_direct(worked: Path) -> None:
    with store.connect(worked) as con:
        con.execute("insert into settings (key, value) values ('min_leads', '100')")
    df = kpis(worked, by="partner")
    ranked = engine.rank(df, "conversion")
    assert row(ranked, partner="B")["highlight"] is None and pd.isna(row(ranked, partner="B")["rank"])
    assert row(ranked, partner="A")["highlight"] == "best"
    assert row(ranked, partner="C")["highlight"] == "worst"
    cautious = engine.rank(df, "conversion", by_lower_bound=True)
    assert row(cautious, partner="A")["rank"] == 1
    cpa = engine.rank(df, "cpa")  # lower is better
    assert row(cpa, partner="A")["highlight"] == "best"


# ---------- empty and one-sided data ----------

@pytest.mark.covers("leads", "won_deals", "revenue", "costs", "conversion", "conversion_low", "roi",
                    "roi_band", "too_few")
def test_no_leads_gives_one_empty_row(tmp_db: Path) -> None:
    Account().build(tmp_db)
    df = kpis(tmp_db)
    assert len(df) == 1
    r = df.iloc[0]
    assert (r["leads"], r["won_deals"], r["revenue"], r["costs"]) == (0, 0, 0.0, 0.0)
    assert pd.isna(r["conversion"]) and pd.isna(r["conversion_low"]) and pd.isna(r["roi"])
    assert r["roi_band"] == "n/a" and bool(r["too_few"]) is True
    assert kpis(tmp_db, by="partner").empty


@pytest.mark.covers("roi", "roi_band", "cpa", "ltv", "profit")
def test_no_costs_roi_null_band_na(tmp_db: Path) -> None:
    acc = Account()
    acc.partner("A", "referral")
    acc.lead("2024-03-05", partner="A", status=WON, price=1000)
    acc.build(tmp_db)
    r = row(kpis(tmp_db, by="partner"), partner="A")
    assert pd.isna(r["roi"]) and r["roi_band"] == "n/a" and r["cpa"] == 0 and r["ltv"] == 1000
    assert r["profit"] == 1000


@pytest.mark.covers("leads", "won_deals", "costs", "roi", "roi_band")
def test_costs_without_leads_appear(tmp_db: Path) -> None:
    acc = Account()
    acc.partner("A", "referral")
    acc.partner("Idle", "sales")
    acc.lead("2024-03-05", partner="A", status=WON, price=1000)
    acc.cost("Idle", "2024-03", "training", 3100)
    acc.build(tmp_db)
    r = row(kpis(tmp_db, by="partner"), partner="Idle")
    assert (r["leads"], r["won_deals"], r["costs"], r["roi"], r["roi_band"]) == (0, 0, 3100, -1.0, "loss")
    assert row(kpis(tmp_db, by="model"), model="sales")["costs"] == 3100
    assert row(kpis(tmp_db, by="month"), period=date(2024, 3, 1))["costs"] == 3100


# ---------- scope: deletions, time zone, pipelines, views ----------

@pytest.mark.covers("leads", "won_deals", "revenue")
def test_deleted_leads_never_count(tmp_db: Path) -> None:
    acc = Account()
    acc.lead("2024-03-05", status=WON, price=100)
    acc.lead("2024-03-05", status=WON, price=900, deleted=True)
    gone = acc.lead("2024-03-06", status=WON, price=500)[0]
    acc.events.append({"id": "del1", "type": "lead_deleted", "entity_id": gone, "entity_type": "lead",
                       "created_at": ts("2024-03-07")})
    acc.build(tmp_db)
    r = kpis(tmp_db).iloc[0]
    assert (r["leads"], r["won_deals"], r["revenue"]) == (1, 1, 100)


@pytest.mark.covers("leads")
def test_period_edges_use_the_account_time_zone(tmp_db: Path) -> None:
    acc = Account(tz="Europe/Moscow")
    acc.lead(ts("2024-03-31", 23, 30), status="new")   # 20:30 UTC on 31 March: March
    acc.lead(ts("2024-04-01", 0, 30), status="new")    # 21:30 UTC on 31 March, but 1 April in Moscow: April
    acc.lead(ts("2024-03-01", 1, 0), status="new")     # 22:00 UTC on 29 February, 1 March in Moscow: March
    acc.build(tmp_db)
    assert kpis(tmp_db).iloc[0]["leads"] == 2
    april = kpis(tmp_db, Filters(date(2024, 4, 1), date(2024, 4, 30))).iloc[0]
    assert april["leads"] == 1


@pytest.mark.covers("leads", "won_deals", "revenue", "qualified_leads", "revenue_share")
def test_two_pipelines_share_won_and_lost(tmp_db: Path) -> None:
    from support.accounts import pipeline_record
    acc = Account(pipelines=[pipeline_record(1), pipeline_record(2, offset=100)])
    acc.lead("2024-03-05", status=WON, price=100, pipeline=1)
    acc.lead("2024-03-05", status=WON, price=300, pipeline=2)
    acc.lead("2024-03-05", status=LOST, pipeline=2)
    acc.lead("2024-03-05", status="qualified", pipeline=2)
    acc.build(tmp_db)
    df = kpis(tmp_db, by="pipeline")
    p1, p2 = row(df, pipeline_id=1), row(df, pipeline_id=2)
    assert (p1["leads"], p1["won_deals"], p1["revenue"], p1["pipeline"]) == (1, 1, 100, "Воронка 1")
    assert (p2["leads"], p2["won_deals"], p2["revenue"], p2["qualified_leads"]) == (3, 1, 300, 2)
    only2 = kpis(tmp_db, Filters(MARCH.date_from, MARCH.date_to, pipelines=(2,))).iloc[0]
    assert (only2["leads"], only2["revenue"]) == (3, 300)
    assert only2["revenue_share"] == 1.0  # same pipelines in the denominator


@pytest.mark.covers("leads", "won_deals", "revenue", "avg_check", "costs", "conversion", "win_rate_closed",
                    "win_rate_closed_low", "win_rate_closed_high", "time_to_close_days")
def test_close_date_view(tmp_db: Path) -> None:
    acc = Account()
    acc.partner("A", "referral")
    acc.lead("2024-02-10", partner="A", status=WON, price=700, closed="2024-03-05")  # old lead, closed in March
    acc.lead("2024-03-10", partner="A", status=WON, price=100, closed="2024-04-02")  # March lead, closed later
    acc.lead("2024-03-11", partner="A", status="new")
    acc.rule("fixed_per_deal", 10, model="referral")
    acc.build(tmp_db)
    cohort = row(kpis(tmp_db, by="partner"), partner="A")
    assert (cohort["leads"], cohort["won_deals"], cohort["revenue"], cohort["costs"]) == (2, 1, 100, 10)
    close = row(kpis(tmp_db, Filters(MARCH.date_from, MARCH.date_to, view="close"), by="partner"), partner="A")
    assert (close["leads"], close["won_deals"], close["revenue"], close["avg_check"]) == (2, 1, 700, 700)
    assert close["costs"] == 10 and close["conversion"] == 0.5  # conversion stays on the period's leads
    # the close view's own ratio: won / (won + lost) among the leads closed in March (1 won, none lost)
    assert (close["won_closed"], close["lost_closed"], close["win_rate_closed"]) == (1, 0, 1.0)
    assert 0 < close["win_rate_closed_low"] < 1 == close["win_rate_closed_high"]
    assert close["time_to_close_days"] == pytest.approx(24.0, abs=0.05)


@pytest.mark.covers("revenue", "revenue_share")
def test_revenue_share_uses_all_leads_of_the_period(tmp_db: Path) -> None:
    acc = Account()
    acc.partner("A", "referral")
    acc.partner("B", "sales")
    acc.lead("2024-03-05", partner="A", status=WON, price=300, utm="ya")
    acc.lead("2024-03-05", partner="B", status=WON, price=200)
    acc.lead("2024-03-05", status=WON, price=500)
    acc.build(tmp_db)
    ids = partner_ids(tmp_db)
    by_partner = kpis(tmp_db, by="partner")
    assert row(by_partner, partner="A")["revenue_share"] == pytest.approx(0.3)
    assert row(by_partner, model="direct")["revenue_share"] == pytest.approx(0.5)
    only_a = kpis(tmp_db, Filters(MARCH.date_from, MARCH.date_to, partners=(ids["A"],))).iloc[0]
    assert only_a["revenue_share"] == pytest.approx(0.3)
    by_source = kpis(tmp_db, Filters(MARCH.date_from, MARCH.date_to, sources=("ya",))).iloc[0]
    assert (by_source["revenue"], by_source["revenue_share"]) == (300, pytest.approx(0.3))
    assert call(tmp_db, engine.revenue_total, MARCH) == 1000


@pytest.mark.covers("leads", "qualified_leads", "won_deals", "lead_to_qualified", "qualified_to_won")
def test_qualified_via_stage_history_or_current_stage(tmp_db: Path) -> None:
    acc = Account()
    back = acc.lead("2024-03-05", status="new")[0]            # reached qualified, moved back to new
    acc.moved(back, STAGES["new"], STAGES["qualified"], "2024-03-06")
    acc.moved(back, STAGES["qualified"], STAGES["new"], "2024-03-07")
    lost_late = acc.lead("2024-03-05", status=LOST)[0]       # lost after the offer stage
    acc.moved(lost_late, STAGES["offer"], LOST, "2024-03-08")
    lost_early = acc.lead("2024-03-05", status=LOST)[0]      # lost straight from new
    acc.moved(lost_early, STAGES["new"], LOST, "2024-03-08")
    acc.lead("2024-03-05", status="qualified")               # current stage
    acc.lead("2024-03-05", status=WON, price=10)             # won counts as qualified
    acc.lead("2024-03-05", status="incoming")
    acc.build(tmp_db)
    r = kpis(tmp_db).iloc[0]
    assert (r["leads"], r["qualified_leads"], r["won_deals"]) == (6, 4, 1)
    assert r["lead_to_qualified"] == pytest.approx(4 / 6) and r["qualified_to_won"] == pytest.approx(1 / 4)


@pytest.mark.covers("won_deals", "new_clients", "purchases_per_client", "cpa", "ltv")
def test_repeat_purchases_count_every_deal_of_the_client(tmp_db: Path) -> None:
    acc = Account()
    acc.partner("A", "referral")
    acc.lead("2023-11-10", status=WON, price=400, contact=1)                 # same client earlier, direct
    acc.lead("2024-03-10", partner="A", status=WON, price=600, contact=1)
    acc.lead("2024-03-11", partner="A", status=WON, price=200, company=7)    # client = company
    acc.lead("2024-03-12", partner="A", status=WON, price=300, contact=1)    # second deal of client 1 in scope
    acc.lead("2024-05-01", status=WON, price=999, contact=1)                 # after the period end: counted (to date)
    acc.cost("A", "2024-03", "bonus", 100)
    acc.build(tmp_db)
    r = row(kpis(tmp_db, by="partner"), partner="A")
    assert (r["won_deals"], r["new_clients"]) == (3, 2)
    assert r["purchases_per_client"] == pytest.approx(5 / 2)            # client 1: 4 deals, company 7: 1
    assert r["cpa"] == 50 and r["ltv"] == pytest.approx((400 + 600 + 300 + 999 + 200) / 2 - 50)


@pytest.mark.covers("time_to_close_days")
def test_time_to_close_is_the_median(tmp_db: Path) -> None:
    acc = Account()
    for days in (1, 2, 10):
        acc.lead(ts("2024-03-01"), status=WON, price=1, closed=ts("2024-03-01") + days * 86400)
    acc.build(tmp_db)
    assert kpis(tmp_db).iloc[0]["time_to_close_days"] == pytest.approx(2.0)


@pytest.mark.covers("income", "roi")
def test_margin_setting_changes_income_and_basis(tmp_db: Path) -> None:
    acc = Account(settings={"margin": {"account": 0.5, "models": {"referral": 0.4}}})
    acc.partner("A", "referral")
    acc.lead("2024-03-05", partner="A", status=WON, price=1000)
    acc.lead("2024-03-05", status=WON, price=1000)
    acc.cost("A", "2024-03", "bonus", 100)
    acc.build(tmp_db)
    df = kpis(tmp_db, by="partner")
    a, d = row(df, partner="A"), row(df, model="direct")
    assert (a["income"], a["income_basis"], a["roi"]) == (400, "margin", pytest.approx(3.0))
    assert (d["income"], d["income_basis"]) == (500, "margin")


@pytest.mark.covers("leads", "revenue")
def test_groupings_by_time_source_and_filters(tmp_db: Path) -> None:
    acc = Account()
    acc.partner("A", "referral")
    acc.lead("2024-03-04", partner="A", status=WON, price=100, utm="ya")   # Monday
    acc.lead("2024-03-11", status="new", source="Сайт")
    acc.build(tmp_db)
    weeks = kpis(tmp_db, by="week")
    assert list(weeks["period"]) == [date(2024, 3, 4), date(2024, 3, 11)]
    src = kpis(tmp_db, by="source")
    assert set(src["source"]) == {"ya", "Сайт"}
    direct = kpis(tmp_db, Filters(MARCH.date_from, MARCH.date_to, models=("direct",))).iloc[0]
    assert (direct["leads"], direct["revenue"]) == (1, 0)
    assert kpis(tmp_db, by="quarter").iloc[0]["period"] == date(2024, 1, 1)
    with pytest.raises(FilterError):
        kpis(tmp_db, by="day")


# ---------- quality, funnel, partner vs direct, deltas, deals ----------

@pytest.mark.covers("quality_score", "phone_share", "email_share", "junk_share")
def test_quality_score_components_and_junk(tmp_db: Path) -> None:
    acc = Account()
    acc.partner("A", "referral")
    acc.lead("2024-03-05", partner="A", status="qualified", contact=acc.contact(1, phone=True, email=True))
    acc.lead("2024-03-05", partner="A", status="new", contact=acc.contact(2, phone=True))
    acc.lead("2024-03-05", partner="A", status=LOST, loss_reason="Спам")
    acc.lead("2024-03-05", partner="A", status=LOST, loss_reason="Дорого")
    acc.build(tmp_db)
    q = row(call(tmp_db, engine.quality, MARCH), partner="A")
    assert q["leads"] == 4
    assert (q["phone_share"], q["email_share"], q["qualified_share"], q["junk_share"]) == (0.5, 0.25, 0.25, 0.25)
    assert q["quality_score"] == pytest.approx(25 * 0.5 + 25 * 0.25 + 50 * 0.25)
    with store.connect(tmp_db) as con:
        con.execute("""insert into settings values ('quality_weights', '{"phone": 0, "email": 0, "qualified": 100}',
                       current_timestamp), ('junk_reasons', '["дорого"]', current_timestamp)""")
    q = row(call(tmp_db, engine.quality, MARCH, by="model"), model="referral")
    assert (q["quality_score"], q["junk_share"]) == (25.0, 0.25)
    # the day counts (no pipeline filter) give what the leads one by one give (a pipeline filter reads them)
    with store.connect(tmp_db, read_only=True) as con:
        pipelines = tuple(r[0] for r in con.execute("select distinct pipeline_id from lead_facts").fetchall())
    every_pipeline = replace(MARCH, pipelines=pipelines)
    for by in ("partner", "model", "none", "week"):
        by_day, by_lead = (call(tmp_db, engine.quality, f, by=by) for f in (MARCH, every_pipeline))
        pd.testing.assert_frame_equal(by_day, by_lead)


@pytest.mark.covers("funnel_share", "step_share")
def test_funnel_counts_leads_that_reached_each_stage(tmp_db: Path) -> None:
    acc = Account()
    lost = acc.lead("2024-03-05", status=LOST)[0]
    acc.moved(lost, STAGES["new"], STAGES["qualified"], "2024-03-06")
    acc.moved(lost, STAGES["qualified"], LOST, "2024-03-07")
    acc.lead("2024-03-05", status="new")
    acc.lead("2024-03-05", status="offer")
    acc.lead("2024-03-05", status=WON, price=5)
    acc.build(tmp_db)
    fun = call(tmp_db, engine.funnel, MARCH)
    assert list(fun["stage"]) == ["Неразобранное", "Новый", "Квалифицирован", "КП", "Успешно"]
    assert list(fun["reached"]) == [4, 4, 3, 2, 1]
    assert list(fun["share"]) == [1.0, 1.0, 0.75, 0.5, 0.25]
    assert fun["step_share"].iloc[3] == pytest.approx(2 / 3)


def test_funnel_filtered_by_partner_and_by_source(tmp_db: Path) -> None:
    """Filters narrow the funnel to their leads: a partner filter reads day aggregates, a source filter the leads
    one by one; both count the same way."""
    acc = Account()
    acc.partner("A", "referral")
    acc.lead("2024-03-05", partner="A", status="qualified", utm="vk", n=2)
    acc.lead("2024-03-06", partner="A", status=WON, price=5, utm="google")
    acc.lead("2024-03-07", status="offer", utm="vk")
    acc.lead("2024-02-28", partner="A", status=WON, price=5, utm="vk")  # before the period
    acc.build(tmp_db)
    reached = {}
    for name, f in (("A", replace(MARCH, partners=(1,))), ("vk", replace(MARCH, sources=("vk",))),
                    ("A+vk", replace(MARCH, partners=(1,), sources=("vk",)))):
        fun = call(tmp_db, engine.funnel, f)
        reached[name] = dict(zip(fun["stage"], fun["reached"], strict=True))
    assert reached["A"] == {"Неразобранное": 3, "Новый": 3, "Квалифицирован": 3, "КП": 1, "Успешно": 1}
    assert reached["vk"] == {"Неразобранное": 3, "Новый": 3, "Квалифицирован": 3, "КП": 1, "Успешно": 0}
    assert reached["A+vk"] == {"Неразобранное": 2, "Новый": 2, "Квалифицирован": 2, "КП": 0, "Успешно": 0}


@pytest.mark.covers("win_rate")
def test_partner_vs_direct_differences(tmp_db: Path) -> None:
    acc = Account()
    acc.partner("A", "referral")
    acc.lead("2024-03-05", partner="A", status=WON, price=200, n=2)
    acc.lead("2024-03-05", partner="A", status="new", n=2)
    acc.lead("2024-03-05", status=WON, price=100)
    acc.lead("2024-03-05", status="new", n=3)
    acc.build(tmp_db)
    pvd = call(tmp_db, engine.partner_vs_direct, MARCH)
    assert list(pvd["segment"]) == ["referral", "partners", "direct"]
    p = row(pvd, segment="partners")
    assert (p["win_rate"], p["avg_check"], p["win_rate_diff"], p["avg_check_diff"]) == (0.5, 200, 0.25, 100)
    assert p["avg_check_rel"] == 1.0 and p["win_rate_low"] < 0.5 < p["win_rate_high"]


def test_deltas_compare_with_the_previous_period(tmp_db: Path) -> None:
    acc = Account()
    acc.lead("2024-02-10", status=WON, price=100)
    acc.lead("2024-03-10", status=WON, price=300, n=2)
    acc.build(tmp_db)
    f = Filters(date(2024, 3, 1), date(2024, 3, 29))  # 29 days: previous = 1..29 February
    d = call(tmp_db, engine.deltas, f).set_index("metric")
    assert (d.loc["revenue", "current"], d.loc["revenue", "previous"]) == (600, 100)
    assert (d.loc["revenue", "change"], d.loc["revenue", "change_rel"]) == (500, 5.0)
    assert d.loc["leads", "change_rel"] == 1.0
    with pytest.raises(FilterError):
        call(tmp_db, engine.deltas, f, by="month")


def test_deals_lists_a_partners_leads_with_commission(tmp_db: Path) -> None:
    acc = Account()
    acc.partner("A", "referral")
    acc.lead("2024-03-05", partner="A", status=WON, price=1000)
    acc.lead("2024-03-06", partner="A", status="qualified")
    acc.lead("2024-03-06", status=WON, price=50)
    acc.rule("percent_revenue", 0.1, model="referral")
    acc.rule("fixed_per_qualified_lead", 7, model="referral")
    acc.build(tmp_db)
    d = call(tmp_db, engine.deals, MARCH, partner_ids(tmp_db)["A"], won_only=False)
    assert sorted(d["commission"]) == [7.0, 107.0]
    assert set(d["stage"]) == {"Успешно", "Квалифицирован"}
    won = call(tmp_db, engine.deals, MARCH, partner_ids(tmp_db)["A"])
    assert list(won["commission"]) == [107.0] and bool(won["in_deals"].iloc[0])
    assert list(call(tmp_db, engine.deals, MARCH, None)["amount"]) == [50.0]


@pytest.mark.covers("purchases_per_client", "ltv")
def test_derived_tables_follow_every_rebuild(tmp_db: Path) -> None:
    """Regression: the won-deals table behind lifetime metrics is rebuilt with lead_facts after a write."""
    acc = Account()
    acc.partner("A", "referral")
    acc.lead("2024-03-10", partner="A", status=WON, price=600, contact=1)
    acc.build(tmp_db)
    assert row(kpis(tmp_db, by="partner"), partner="A")["purchases_per_client"] == 1
    more = Account(_ids=iter(range(5000, 5010)))
    more.lead("2024-01-10", status=WON, price=400, contact=1)
    more.build(tmp_db)  # saves through the data layer, which rebuilds lead_facts and the fact_* tables
    a = row(kpis(tmp_db, by="partner"), partner="A")
    assert (a["purchases_per_client"], a["ltv"]) == (2, 1000)
    with store.connect(tmp_db, read_only=True) as con:
        assert con.execute("select count(*), sum(client_deals) from fact_won_deals").fetchone() == (2, 4)
        assert con.execute("select sum(leads), sum(won_leads) from fact_lead_days").fetchone() == (2, 2)


# ---------- batched frames (engine.kpis_many) ----------

@pytest.fixture
def spread(tmp_db: Path) -> Path:
    """Two partners and direct leads over four months, repeat clients, a deal closing after March, costs."""
    acc = Account()
    acc.partner("A", "referral")
    acc.partner("B", "sales")
    for day, who in [("2024-01-15", "A"), ("2024-02-10", "B"), ("2024-03-05", "A"), ("2024-03-20", None),
                     ("2024-04-02", "B"), ("2024-04-25", "A")]:
        acc.lead(day, partner=who, status=WON, price=1000, contact=1 if who == "A" else 2, closed="2024-05-02")
        acc.lead(day, partner=who, status="qualified", n=2)
        acc.lead(day, partner=who, status=LOST, loss_reason="Спам")
    acc.lead("2024-03-28", partner="B", status=WON, price=700, closed="2024-03-30", contact=3)
    acc.cost("A", "2024-03", "marketing", 900)
    acc.cost("B", "2024-02", "support", 400)
    acc.rule("fixed_per_qualified_lead", 50, model="referral")
    acc.rule("percent_revenue", 0.1, model="sales", tiers=[{"up_to": 1000, "rate": 0.1}, {"up_to": None, "rate": 0.2}])
    acc.rule("fixed_per_deal", 30, partner="A", valid_from="2024-03-10")
    return acc.build(tmp_db)


def _frames(f: Filters) -> tuple:
    close = Filters(date(2024, 3, 1), date(2024, 5, 31), view="close")
    return ((f, "none"), (f.previous(), "none"), (f, "month"), (close, "partner"), (f, ("month", "model")),
            (f, "pipeline"), (close, "source"), (f, "week"), (Filters(date(2024, 1, 1), date(2024, 4, 30)), "quarter"))


def test_a_batch_gives_each_frame_what_a_query_of_its_own_gives(spread: Path) -> None:
    """Regression: frames computed together never leak rows, keys or dtypes into each other."""
    f = Filters(date(2024, 3, 1), date(2024, 4, 30))
    batch = call(spread, engine.kpis_many, _frames(f))
    for (frame_f, by), got in zip(_frames(f), batch, strict=True):
        alone = call(spread, engine.grouped, frame_f, by)
        pd.testing.assert_frame_equal(got.reset_index(drop=True), alone.reset_index(drop=True))
    assert any(len(df) > 1 for df in batch) and int(batch[0]["leads"].iloc[0]) > 0
    assert batch[0]["costs_commission"].iloc[0] > 0


def test_a_lite_frame_has_every_number_but_the_client_metrics(spread: Path) -> None:
    f = Filters(date(2024, 1, 1), date(2024, 4, 30))
    full, lite = call(spread, engine.kpis_many, ((f, "partner"), (f, "partner", engine.LITE)))
    assert lite[list(engine.CLIENT_METRICS)].isna().all().all()
    assert full["new_clients"].sum() > 0 and full["ltv"].notna().any()
    same = [c for c in full.columns if c not in engine.CLIENT_METRICS]
    pd.testing.assert_frame_equal(lite[same], full[same])


def test_frames_with_different_filters_are_batched_apart(spread: Path) -> None:
    pid = partner_ids(spread)["A"]
    f = Filters(date(2024, 1, 1), date(2024, 4, 30))
    mine = Filters(f.date_from, f.date_to, partners=(pid,))
    both = call(spread, engine.kpis_many, ((f, "none"), (mine, "none")))
    assert int(both[1]["leads"].iloc[0]) < int(both[0]["leads"].iloc[0])
    assert int(both[1]["leads"].iloc[0]) == int(kpis(spread, mine)["leads"].iloc[0])


def test_frames_of_equal_dates_share_one_pass_over_the_data() -> None:
    """Scopes of the same dates and view form one family (at most one time unit): its keys are the union."""
    f = Filters(date(2024, 3, 1), date(2024, 4, 30))
    frames = [(f, ()), (f, ("month",)), (f, ("partner",)), (f, ("week",)), (f.previous(), ()),
              (replace(f, view="close"), ("partner",))]
    scopes = [query._scope(i, fr, dims, lite=i > 0) for i, (fr, dims) in enumerate(frames)]
    fams = query._families(scopes, share=True)
    # the cohort scopes without a week read the previous period (family 0) and the period (family 1)
    assert [s["fams"] for s in scopes] == [[1], [1], [1], [2], [0], [3]]
    assert query._fam_dims(fams[1]) == ("partner", "month") and fams[1]["g_clients"] and fams[1]["g_pm"]
    assert query._fam_dims(fams[0]) == () and not fams[0]["g_clients"]
    assert query._fam_dims(fams[2]) == ("week",) and not fams[2]["g_clients"]
    alone = query._families([query._scope(i, fr, dims) for i, (fr, dims) in enumerate(frames)], share=False)
    assert [fam["sid"] for fam in alone] == list(range(len(frames)))


def test_overlapping_frames_read_each_day_once() -> None:
    """Scopes of one view that overlap are cut into segments: each day is read once, each scope rolls up its own."""
    f = Filters(date(2024, 3, 1), date(2024, 4, 30))
    week_ago = replace(f, date_to=date(2024, 4, 23))
    frames = [(f, ()), (f, ("partner",)), (week_ago, ("partner",))]
    scopes = [query._scope(i, fr, dims, lite=i > 0) for i, (fr, dims) in enumerate(frames)]
    fams = query._families(scopes, share=True)
    assert [(fam["date_from"], fam["date_to"]) for fam in fams] == [
        (date(2024, 3, 1), date(2024, 4, 23)), (date(2024, 4, 24), date(2024, 4, 30))]
    assert [s["fams"] for s in scopes] == [[0, 1], [0, 1], [0]]
    assert all(fam["g_clients"] and fam["g_partner"] for fam in fams)


def test_overlapping_frames_give_what_queries_of_their_own_give(spread: Path) -> None:
    """Segments shared by overlapping periods (a deal closing after one period's end, repeat clients, tiers)."""
    f = Filters(date(2024, 3, 1), date(2024, 4, 30))
    inner = Filters(date(2024, 3, 10), date(2024, 4, 20))
    requests = ((f, "none"), (f, "partner", engine.LITE), (inner, "none"), (inner, "partner"),
                (replace(f, date_to=date(2024, 4, 23)), "partner", engine.LITE), (f, "month"),
                (Filters(date(2024, 2, 1), date(2024, 5, 31)), "none"))
    batch = call(spread, engine.kpis_many, requests)
    for request, got in zip(requests, batch, strict=True):
        alone = call(spread, engine.kpis_many, (request,))[0]
        pd.testing.assert_frame_equal(got, alone)
    assert batch[2]["new_clients"].iloc[0] > 0 and batch[2]["ltv"].notna().all()


def test_texts_without_the_unused_ctes_give_what_the_general_text_gives(spread: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The template inputs that leave a CTE out when no scope needs it (one deal view, no ledger split, revenue
    shares without narrowing filters, no close-view lost leads, no client metrics) change the plan, never a
    number: every query rendered with all of them on gives the same frames."""
    f = Filters(date(2024, 3, 1), date(2024, 4, 30))
    pid = partner_ids(spread)["A"]
    cases = [((f, "partner"),), ((replace(f, view="close"), "partner"),), _frames(f),
             ((replace(f, partners=(pid,)), "none"), (replace(f, partners=(pid,)), "month")),
             ((f, "partner", engine.LITE), (f.previous(), "none", engine.LITE))]
    pruned = [call(spread, engine.kpis_many, requests) for requests in cases]
    roi = call(spread, engine.roi_interval, f, "partner")
    real_render = sql.render

    def rendered_with(forced: dict[str, object]):
        def render(name: str, inputs: dict[str, object] | None = None) -> str:
            inputs = dict(inputs or {})
            if "deal_views" in inputs:  # a scope-based query
                inputs.update(forced)
            return real_render(name, inputs)
        return render

    every_part = {"deal_views": ("cohort", "close"), "detailed": True, "lost_leads": True, "clients": True}
    monkeypatch.setattr(sql, "render", rendered_with(every_part))
    for requests, got in zip(cases, pruned, strict=True):
        for want, have in zip(call(spread, engine.kpis_many, requests), got, strict=True):
            pd.testing.assert_frame_equal(want, have)
    pd.testing.assert_frame_equal(call(spread, engine.roi_interval, f, "partner"), roi)
    # revenue shares from every won deal equal those of the deals in scope when no filter narrows them
    monkeypatch.setattr(sql, "render", rendered_with({**every_part, "narrowed": True}))
    pd.testing.assert_frame_equal(call(spread, engine.kpis_many, cases[0])[0], pruned[0][0])
    assert pruned[0][0]["revenue_share"].notna().all()


@pytest.mark.parametrize("by", ["partner", "pipeline", "model", "month"])
def test_roi_interval_rows_are_named_and_ordered_as_the_kpi_rows(spread: Path, by: str) -> None:
    # roi_units.sql names the keys and orders the rows itself: the leaderboard matches the two frames row by row
    f = engine.Filters(MARCH.date_from, date(2024, 4, 30))
    ri = call(spread, engine.roi_interval, f, by=by)
    keys = [c for c in ri.columns if c in ("partner_id", "partner", "model", "pipeline_id", "pipeline", "period")]
    rows = call(spread, engine.grouped, f, by)
    rows = rows[rows["leads"] > 0].reset_index(drop=True)
    assert len(ri) >= (3 if by == "partner" else 1) and keys
    pd.testing.assert_frame_equal(ri[keys], rows[keys], check_dtype=False)
    if by == "partner":
        assert ri["model"].iloc[-1] == "direct" and pd.isna(ri["partner"].iloc[-1])


def test_calls_run_together_give_what_they_give_one_by_one(spread: Path) -> None:
    """engine.together: the caller's connection and a cursor of it at once, results in call order."""
    pid = partner_ids(spread)["A"]
    f = Filters(date(2024, 1, 1), date(2024, 4, 30))
    mine = replace(f, partners=(pid,))
    calls = (engine.Call.of(engine.kpis_many, ((mine, "none"), (mine.previous(), "none"))),
             engine.Call.of(engine.deals, mine, pid), engine.Call.of(engine.funnel, mine),
             engine.Call.of(engine.quality, mine, by="none"), engine.Call.of(engine.partner_vs_direct, f))
    with store.connect(spread, read_only=True) as con:
        got = engine.together(con, calls)
        alone = [c.fn(con, *c.args, **dict(c.kwargs)) for c in calls]
        assert batch._lane_cursor(con) is batch._lane_cursor(con), "the second connection is kept for the next"
    for a, b in zip(got[0], alone[0], strict=True):
        pd.testing.assert_frame_equal(a, b)
    for a, b in zip(got[1:], alone[1:], strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert len(got[1]) > 0 and int(got[0][0]["leads"].iloc[0]) > 0


def test_together_runs_only_engine_queries_and_reports_a_failure(spread: Path) -> None:
    def write(con) -> None:
        con.execute("create table t (x int)")

    f = Filters(date(2024, 1, 1), date(2024, 4, 30))
    with store.connect(spread, read_only=True) as con:
        with pytest.raises(ValueError, match="together\\(\\) runs only .*not write"):
            engine.together(con, (engine.Call.of(engine.kpis, f), engine.Call.of(write)))
        with pytest.raises(FilterError):  # a bad grouping in the call the cursor runs
            engine.together(con, (engine.Call.of(engine.kpis, f), engine.Call.of(engine.kpis, f, by="colour")))
        assert int(engine.kpis(con, f)["leads"].iloc[0]) > 0, "the connection stays usable"


def test_together_called_inside_a_lane_runs_its_calls_in_turn(spread: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A call running on the pool's only thread that itself runs calls together must not wait on that pool."""
    f = Filters(date(2024, 1, 1), date(2024, 4, 30))
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=batch._LANE_NAME)
    monkeypatch.setattr(batch, "_LANE_POOL", pool)
    with store.connect(spread, read_only=True) as con:
        inside = pool.submit(engine.together, con, (engine.Call.of(engine.kpis, f), engine.Call.of(engine.quality, f)))
        try:
            kpi_rows, quality_rows = inside.result(timeout=60)
        finally:  # a deadlock would leave the inner call queued: cancelling it frees the thread
            pool.shutdown(wait=True, cancel_futures=True)
    assert int(kpi_rows["leads"].iloc[0]) == int(quality_rows["leads"].sum()) > 0

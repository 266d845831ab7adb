"""Definitions of issue 19 (metrics-spec): close-view win rate, client identity, LTV to date, tier kinds."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from support import costs_page as costs_app
from support import whatif_page as whatif_app
from support.accounts import LOST, WON, Account, partner_ids
from support.engine import MARCH, call, kpis, row

from data_layer import store, userdata
from data_layer.userdata import UserDataError
from metrics import engine, registry
from metrics.__main__ import main as cli_main
from metrics.costs import Scenario, bound_rules
from metrics.filters import Filters

CLOSE_MARCH = Filters(MARCH.date_from, MARCH.date_to, view="close")


# ---------- close view: win rate of the leads closed in the period ----------

@pytest.fixture
def closing(tmp_db: Path) -> Path:
    """Partner A: in March 2 won and 3 lost leads close (whatever their creation); B: 1 won, 1 lost closed."""
    acc = Account()
    acc.partner("A", "referral")
    acc.partner("B", "sales")
    acc.lead("2024-02-10", partner="A", status=WON, price=700, closed="2024-03-05")   # old lead, won in March
    acc.lead("2024-03-02", partner="A", status=WON, price=300, closed="2024-03-20")   # March lead, won in March
    acc.lead("2024-03-10", partner="A", status=WON, price=100, closed="2024-04-02")   # won after March
    acc.lead("2024-01-15", partner="A", status=LOST, closed="2024-03-08")             # old lead, lost in March
    acc.lead("2024-03-11", partner="A", status=LOST, closed="2024-03-12", n=2)        # March leads lost in March
    acc.lead("2024-03-11", partner="A", status=LOST, closed="2024-04-03")             # lost after March
    acc.lead("2024-03-12", partner="A", status="new", n=4)                            # open
    acc.lead("2024-03-03", partner="B", status=WON, price=50, closed="2024-03-04")
    acc.lead("2024-03-03", partner="B", status=LOST, closed="2024-03-25")
    return acc.build(tmp_db)


@pytest.mark.covers("win_rate_closed", "win_rate_closed_low", "win_rate_closed_high")
def test_close_view_shows_the_win_rate_of_the_leads_closed_in_the_period(closing: Path) -> None:
    a = row(kpis(closing, CLOSE_MARCH, by="partner"), partner="A")
    assert (a["won_deals"], a["won_closed"], a["lost_closed"]) == (2, 2, 3)
    assert a["win_rate_closed"] == pytest.approx(2 / 5)
    # every ratio on screen recomputes from the counts beside it
    assert a["win_rate_closed"] == pytest.approx(a["won_closed"] / (a["won_closed"] + a["lost_closed"]))
    assert a["win_rate_closed_low"] < a["win_rate_closed"] < a["win_rate_closed_high"]
    total = kpis(closing, CLOSE_MARCH).iloc[0]
    assert (total["won_closed"], total["lost_closed"]) == (3, 4)
    assert total["win_rate_closed"] == pytest.approx(3 / 7)
    b_only = kpis(closing, Filters(MARCH.date_from, MARCH.date_to, view="close",
                                   partners=(partner_ids(closing)["B"],))).iloc[0]
    assert (b_only["won_closed"], b_only["lost_closed"], b_only["win_rate_closed"]) == (1, 1, 0.5)


@pytest.mark.covers("win_rate_closed")
def test_win_rate_closed_by_month_and_in_a_batch_as_alone(closing: Path) -> None:
    april = Filters(date(2024, 3, 1), date(2024, 4, 30), view="close")
    by_month = kpis(closing, april, by="month")
    march, apr = (row(by_month, period=date(2024, m, 1)) for m in (3, 4))
    assert (march["won_closed"], march["lost_closed"], apr["won_closed"], apr["lost_closed"]) == (3, 4, 1, 1)
    requests = ((april, "none"), (april, "month", engine.LITE), (CLOSE_MARCH, "partner", engine.LITE))
    batch = call(closing, engine.kpis_many, requests)
    for request, got in zip(requests, batch, strict=True):
        pd.testing.assert_frame_equal(got, call(closing, engine.kpis_many, (request,))[0])
    assert batch[0]["win_rate_closed"].iloc[0] == pytest.approx(4 / 9)


@pytest.mark.covers("conversion", "win_rate_closed")
def test_cohort_view_has_no_closed_win_rate(closing: Path) -> None:
    a = row(kpis(closing, by="partner"), partner="A")
    assert a["conversion"] == pytest.approx(2 / 9)  # March leads: 2 won of 9
    assert pd.isna(a["win_rate_closed"]) and pd.isna(a["won_closed"]) and pd.isna(a["lost_closed"])


def test_the_registry_names_the_closed_win_rate() -> None:
    m = registry.get("win_rate_closed")
    assert (m.label_ru, m.label_en) == ("Доля выигранных среди закрытых", "Win rate of closed")
    assert "won + lost" in m.formula


# ---------- client identity ----------

def _not_main(acc: Account) -> None:
    """Make the last lead's contacts non-main."""
    for c in acc.leads[-1]["_embedded"].get("contacts", []):
        c["is_main"] = False


@pytest.mark.covers("new_clients", "purchases_per_client")
def test_a_company_buying_through_two_non_main_contacts_is_one_client(tmp_db: Path) -> None:
    acc = Account()
    acc.partner("A", "referral")
    acc.lead("2024-03-05", partner="A", status=WON, price=100, contact=11, company=7)
    _not_main(acc)
    acc.lead("2024-03-06", partner="A", status=WON, price=200, contact=12, company=7)
    _not_main(acc)
    acc.build(tmp_db)
    a = row(kpis(tmp_db, by="partner"), partner="A")
    assert (a["won_deals"], a["new_clients"], a["purchases_per_client"]) == (2, 1, 2)


@pytest.mark.covers("new_clients")
def test_a_main_contact_comes_first_then_the_company_then_another_contact(tmp_db: Path) -> None:
    acc = Account()
    acc.partner("A", "referral")
    main = acc.lead("2024-03-05", partner="A", status=WON, price=100, contact=5, company=7)[0]
    company = acc.lead("2024-03-06", partner="A", status=WON, price=100, contact=6, company=7)[0]
    _not_main(acc)
    other = acc.lead("2024-03-07", partner="A", status=WON, price=100, contact=9)[0]
    acc.leads[-1]["_embedded"]["contacts"] = [{"id": 9, "is_main": False}, {"id": 8, "is_main": False}]
    alone = acc.lead("2024-03-08", partner="A", status=WON, price=100)[0]
    acc.build(tmp_db)
    with store.connect(tmp_db, read_only=True) as con:
        keys = dict(con.execute("select lead_id, client_key from fact_won_deals").fetchall())
    assert [keys[i] for i in (main, company, other, alone)] == ["c5", "co7", "c8", f"l{alone}"]
    assert row(kpis(tmp_db, by="partner"), partner="A")["new_clients"] == 4


# ---------- LTV to date ----------

@pytest.mark.covers("won_deals", "new_clients", "cpa", "purchases_per_client", "ltv")
def test_ltv_counts_every_deal_of_the_clients_to_date(tmp_db: Path) -> None:
    acc = Account()
    acc.partner("A", "referral")
    acc.lead("2023-11-10", status=WON, price=400, contact=1)                            # direct, before
    acc.lead("2024-03-10", partner="A", status=WON, price=600, contact=1)
    acc.lead("2024-03-12", partner="A", status=WON, price=300, contact=1, closed="2024-05-20")  # in scope, late
    acc.lead("2024-03-15", partner="A", status=WON, price=200, contact=2)
    acc.lead("2024-06-01", status=WON, price=1000, contact=1)                           # direct, after the period
    acc.cost("A", "2024-03", "bonus", 100)
    acc.build(tmp_db)
    r = row(kpis(tmp_db, by="partner"), partner="A")
    assert (r["won_deals"], r["new_clients"], r["cpa"]) == (3, 2, 50)
    assert r["purchases_per_client"] == pytest.approx((4 + 1) / 2)  # client 1: 4 deals to date, client 2: 1
    assert r["ltv"] == pytest.approx((400 + 600 + 300 + 1000 + 200) / 2 - 50)
    close = row(kpis(tmp_db, CLOSE_MARCH, by="partner"), partner="A")  # closed in March: 600 and 200
    assert (close["won_deals"], close["new_clients"]) == (2, 2)
    assert close["ltv"] == pytest.approx((400 + 600 + 300 + 1000 + 200) / 2 - 50)
    # a frame batched with others (several families) gives the same lifetime
    batch = call(tmp_db, engine.kpis_many, ((MARCH, "partner"), (Filters(date(2024, 3, 10), MARCH.date_to), "none")))
    assert row(batch[0], partner="A")["ltv"] == pytest.approx(r["ltv"])
    assert batch[1].iloc[0]["purchases_per_client"] == pytest.approx(2.5)


def test_the_glossary_says_to_date() -> None:
    for name in ("purchases_per_client", "ltv"):
        m = registry.get(name)
        assert "to date" in m.formula and "period end" not in m.formula
    text = (Path(__file__).parents[2] / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert "up to the period end" not in text and "up to the period's" not in text


# ---------- tiers: marginal or whole ----------

TIERS = [{"up_to": 100_000, "rate": 0.05}, {"up_to": 200_000, "rate": 0.10}, {"up_to": None, "rate": 0.15}]


def _tiered(path: Path, kind: str | None, prices: tuple[float, ...] = (150_000, 100_000)) -> Path:
    """Partner A with March deals (250 000 by default: revenue in all three bands) and one tiered rule."""
    acc = Account()
    acc.partner("A", "referral")
    for p in prices:
        acc.lead("2024-03-05", partner="A", status=WON, price=p)
    acc.rule("percent_revenue", 0.05, model="referral", tiers=TIERS)
    acc.build(path)
    if kind is not None:
        with store.connect(path) as con:
            con.execute("update commission_rules set tier_kind = ?", [kind])
    return path


@pytest.mark.covers("costs_commission")
@pytest.mark.parametrize(("kind", "commission", "rate"), [
    (None, 100_000 * 0.05 + 100_000 * 0.10 + 50_000 * 0.15, 22_500 / 250_000),  # the default: marginal
    ("marginal", 22_500, 0.09),
    ("whole", 250_000 * 0.15, 0.15),                                            # the highest band reached
])
def test_tier_kinds_on_a_month_in_three_bands(tmp_db: Path, kind: str | None, commission: float, rate: float) -> None:
    _tiered(tmp_db, kind)
    assert row(kpis(tmp_db, by="partner"), partner="A")["costs_commission"] == pytest.approx(commission)
    details = call(tmp_db, engine.commission_details, MARCH).iloc[0]
    assert details["tier_kind"] == (kind or "marginal")
    assert (details["amount"], details["effective_rate"]) == (pytest.approx(commission), pytest.approx(rate))


@pytest.mark.covers("costs_commission")
def test_whole_tiers_at_a_band_bound_keep_that_band(tmp_db: Path) -> None:
    _tiered(tmp_db, "whole", prices=(120_000, 80_000))  # exactly 200 000: still the 10 % band
    assert row(kpis(tmp_db, by="partner"), partner="A")["costs_commission"] == pytest.approx(20_000)


@pytest.mark.covers("costs_commission")
def test_a_scenario_carries_the_tier_kind(tmp_db: Path) -> None:
    _tiered(tmp_db, None)
    with store.connect(tmp_db, read_only=True) as con:
        rules = bound_rules(con)
    assert list(rules["tier_kind"]) == ["marginal"]
    whole = Scenario(rules=rules.assign(tier_kind="whole"))
    got = row(kpis(tmp_db, by="partner", scenario=whole), partner="A")
    assert got["costs_commission"] == pytest.approx(37_500)
    assert row(kpis(tmp_db, by="partner"), partner="A")["costs_commission"] == pytest.approx(22_500)
    blank = Scenario(rules=rules.drop(columns="tier_kind"))  # a scenario saved before tier kinds: marginal
    assert row(kpis(tmp_db, by="partner", scenario=blank), partner="A")["costs_commission"] == pytest.approx(22_500)


def test_the_migration_keeps_rules_and_gives_them_marginal_tiers(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.duckdb"
    old = [m for m in store.MIGRATIONS if m[0] < "0008"]
    monkeypatch.setattr(store, "MIGRATIONS", old)
    store.init_db(path)
    with store.connect(path) as con:
        con.execute("insert into commission_rules (model, kind, rate, tiers) values ('referral', "
                    "'percent_revenue', 0.05, ?)", [json.dumps(TIERS)])
    monkeypatch.undo()
    assert "0008_definitions" in store.upgrade(path)
    with store.connect(path, read_only=True) as con:
        assert con.execute("select kind, rate, tier_kind from commission_rules").fetchall() == [
            ("percent_revenue", 0.05, "marginal")]
        assert con.execute("select count(*) from fact_lost_close_days").fetchone()[0] == 0


# ---------- tier kinds through user data, the rules editors and the CLI ----------

def test_rules_keep_their_tier_kind_and_reject_an_unknown_one(tmp_db: Path) -> None:
    _tiered(tmp_db, None)
    alpha = partner_ids(tmp_db)["A"]
    with store.connect(tmp_db) as con:
        rules = userdata.list_rules(con)
        assert rules["tier_kind"].tolist() == ["marginal"]
        userdata.replace_rules(con, rules.assign(tier_kind="whole"))
        assert userdata.list_rules(con)["tier_kind"].tolist() == ["whole"]
        with pytest.raises(UserDataError) as exc:
            userdata.replace_rules(con, rules.assign(tier_kind="stepwise"))
        assert "marginal" in exc.value.problems[0].text("en") and "whole" in exc.value.problems[0].text("ru")
        assert userdata.list_rules(con)["tier_kind"].tolist() == ["whole"]
        rule_id = userdata.add_rule(con, "percent_revenue", 0.1, partner_id=alpha,
                                    tiers=TIERS, tier_kind="whole")
        assert userdata.list_rules(con).set_index("rule_id").loc[rule_id, "tier_kind"] == "whole"


def test_a_saved_scenario_carries_the_tier_kind_and_an_old_one_is_marginal(tmp_db: Path) -> None:
    _tiered(tmp_db, None)
    with store.connect(tmp_db, read_only=True) as con:
        rules = userdata.list_rules(con).assign(tier_kind="whole")
    payload = userdata.ScenarioInputs(rules=rules).to_payload()
    assert payload["rules"][0]["tier_kind"] == "whole"
    assert userdata.ScenarioInputs.from_payload(payload).rules["tier_kind"].tolist() == ["whole"]
    for r in payload["rules"]:
        del r["tier_kind"]  # a scenario saved before tier kinds
    with store.connect(tmp_db, read_only=True) as con:
        clean = userdata.check_scenario(con, userdata.ScenarioInputs.from_payload(payload))
    assert clean.rules["tier_kind"].tolist() == ["marginal"]


def test_the_cli_reports_the_tier_kind(tmp_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _tiered(tmp_db, "whole")
    assert cli_main(["commissions", "--db", str(tmp_db), "--from", "2024-03-01", "--to", "2024-03-31",
                     "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["tier_kind"], r["amount"]) for r in rows] == [("whole", pytest.approx(37_500))]


@pytest.fixture
def ui_db(tmp_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Alpha (referral, 10 % rule): 3 won (3 000) and 1 lost lead last month, ledger 300 (the default period)."""
    month = costs_app.last_month()
    acc = Account()
    acc.partner(costs_app.ALPHA, "referral")
    acc.lead((month + timedelta(days=4)).isoformat(), partner=costs_app.ALPHA, status=WON, price=1000, n=3)
    acc.lead((month + timedelta(days=5)).isoformat(), partner=costs_app.ALPHA, status=LOST)
    acc.cost(costs_app.ALPHA, month.strftime("%Y-%m"), "marketing", 300)
    acc.rule("percent_revenue", 0.1, model="referral")
    acc.build(tmp_db)
    monkeypatch.setenv("PARTNER_ROI_DB", str(tmp_db))
    return tmp_db


UI_TIERS = json.dumps([{"up_to": 1000, "rate": 0.1}, {"up_to": None, "rate": 0.2}])


def test_the_rules_editor_sets_the_tier_kind_and_the_explanation_names_it(ui_db: Path) -> None:
    at = costs_app.app({"costs.rules": costs_app.edits({0: {"tiers": UI_TIERS, "tier_kind": "whole"}})})
    at.button(key="costs.rules_save").click().run()
    assert not at.error, costs_app.errors(at)
    with store.connect(ui_db, read_only=True) as con:
        assert userdata.list_rules(con)["tier_kind"].tolist() == ["whole"]
    details = next(f.value for f in at.dataframe if "Как посчитано" in f.value.columns).set_index("Партнёр")
    assert details.loc[costs_app.ALPHA, "Комиссия"] == "600,00\u00a0₽"  # 3 000 × 20 %, not 100 + 400
    assert "на всю выручку месяца" in details.loc[costs_app.ALPHA, "Как посчитано"]
    assert costs_app.app().data_editor(key="costs.rules").value["tier_kind"].tolist() == ["whole"]


@pytest.mark.parametrize(("kind", "scenario_roi"), [("marginal", "275,0\u00a0%"), ("whole", "233,3\u00a0%")])
def test_the_what_if_rules_choose_the_tier_kind(ui_db: Path, kind: str, scenario_roi: str) -> None:
    # commission 500 (marginal: 100 + 400) or 600 (whole: 20 % of 3 000); costs 300 + it; income 3 000
    at = whatif_app.app({"what_if.rules": {"edited_rows": {0: {"tiers": UI_TIERS, "tier_kind": kind}},
                                           "added_rows": [], "deleted_rows": []}})
    assert whatif_app.roi(at, costs_app.ALPHA) == ("400,0\u00a0%", scenario_roi)


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/models.py"])
def test_close_view_cards_show_the_win_rate_of_closed_with_its_counts(ui_db: Path, page: str) -> None:
    at = AppTest.from_file(costs_app.APP, default_timeout=120)
    at.query_params["view"] = "close"
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    cards = {m.label: m.value for m in at.metric}
    assert cards["Доля выигранных среди закрытых"].startswith("75") and "Конверсия" not in cards
    assert any("выиграно 3 из 4 закрытых в периоде (проиграно 1)" in c.value for c in at.caption)
    cohort = AppTest.from_file(costs_app.APP, default_timeout=120)
    cohort.run()
    cohort.switch_page(page).run()
    assert "Конверсия" in {m.label for m in cohort.metric}

"""Payback month of acquisition cohorts (metrics.payback, payback.sql, `python -m metrics payback`): worked
examples, the statuses, commissions from the rule machinery the KPIs use, and the CLI."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from support.accounts import WON, Account, partner_ids

from data_layer import store
from metrics import engine, payback
from metrics.__main__ import main
from metrics.filters import FilterError, Filters

YEAR = Filters(date(2024, 1, 1), date(2024, 12, 31))


def _cohorts(acc: Account) -> Account:
    """Partner P (referral): four cohorts with ledger 10 000 each and deals closing months later; as-of 2024-12-15."""
    acc.partner("P", "referral")
    deals = {  # cohort month: [(price, close date)]
        "2024-01": [(3000, "2024-02-10"), (7000, "2024-04-10")],   # −10 000, −7 000, −7 000, 0: pays back in month 3
        "2024-02": [(4000, "2024-04-10"), (6000, "2024-09-10")],   # pays back in month 7
        "2024-03": [(2000, "2024-04-15")],                         # age 9, still −8 000: not yet
        "2024-10": [(1000, "2024-11-10")],                         # age 2, still −9 000: too young
    }
    for month, won in deals.items():
        acc.cost("P", month, "marketing", 10_000)
        acc.lead(f"{month}-20", partner="P", status="new")
        for i, (price, closed) in enumerate(won):
            acc.lead(f"{month}-{10 + i:02d}", partner="P", status=WON, price=price, closed=closed)
    acc.lead("2024-12-15", status="new")  # a direct lead: the data's as-of day
    return acc


@pytest.fixture
def cohort_db(tmp_db: Path) -> Path:
    return _cohorts(Account()).build(tmp_db)


def _by_cohort(months: pd.DataFrame) -> dict[str, tuple[str, object]]:
    return {c.strftime("%Y-%m"): (s, None if pd.isna(m) else int(m))
            for c, s, m in zip(months["cohort"], months["status"], months["payback_month"], strict=True)}


@pytest.mark.covers("payback_month")
def test_worked_examples_pay_back_in_month_3_and_7(cohort_db: Path) -> None:
    with store.connect(cohort_db, read_only=True) as con:
        pid = partner_ids(cohort_db)["P"]
        curve, months = payback.payback(con, YEAR, partner_id=pid)
        by_model = payback.payback(con, YEAR, model="referral")[1]
    assert _by_cohort(months) == {"2024-01": ("paid_back", 3), "2024-02": ("paid_back", 7),
                                  "2024-03": ("not_yet", None), "2024-10": ("too_young", None)}
    assert months["needed"].tolist() == [5] * 4, "the typical payback: median of 3 and 7"
    assert _by_cohort(by_model) == _by_cohort(months), "the model's only partner"
    jan = curve[curve["cohort"] == date(2024, 1, 1)]
    assert jan["m"].tolist() == list(range(12)), "month 0 to its age (as-of December)"
    assert jan["cumulative"].tolist()[:5] == [-10_000, -7_000, -7_000, 0, 0]
    assert set(curve["model"]) == {"referral"}


@pytest.mark.covers("payback_month")
def test_a_cohort_younger_than_its_payback_is_too_young_an_old_one_not_yet(cohort_db: Path) -> None:
    with store.connect(cohort_db, read_only=True) as con:
        months = payback.payback(con, YEAR, model="referral")[1].set_index("cohort")
    young, old = months.loc[date(2024, 10, 1)], months.loc[date(2024, 3, 1)]
    assert (young["age"], young["cumulative"], young["status"]) == (2, -9_000, "too_young")
    assert pd.isna(young["payback_month"])
    assert (old["age"], old["cumulative"], old["status"]) == (9, -8_000, "not_yet")
    assert pd.isna(old["payback_month"])


@pytest.mark.covers("payback_month")
def test_statuses_follow_the_rule() -> None:
    def series(cohort: str, age: int, cumulative: list[float], costs: list[float]) -> pd.DataFrame:
        return pd.DataFrame({"model": "sales", "cohort": date.fromisoformat(cohort), "m": range(age + 1),
                             "age": age, "leads": 10, "won_leads": 1, "cum_income": 0.0, "cum_costs": costs,
                             "cumulative": cumulative})
    curve = pd.concat([series("2024-01-01", 2, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),       # nothing spent
                       series("2024-02-01", 1, [-5.0, -1.0], [5.0, 5.0]),               # none paid back: needs 1
                       series("2024-03-01", 0, [-5.0], [5.0])])                          # its month is not over
    statuses = dict(zip(payback.months(curve)["cohort"], payback.months(curve)["status"], strict=True))
    assert statuses == {date(2024, 1, 1): "no_costs", date(2024, 2, 1): "not_yet", date(2024, 3, 1): "too_young"}
    paid = payback.months(series("2024-01-01", 3, [-5.0, 0.0, 2.0, 2.0], [5.0, 5.0, 5.0, 5.0]))
    assert (paid["status"].iloc[0], int(paid["payback_month"].iloc[0])) == ("paid_back", 1)


def test_commissions_and_ledger_are_the_kpis_own(tmp_db: Path) -> None:
    """The cohort's commissions come from the same rules as the KPIs' (10 % of revenue, 100 per qualified lead)."""
    acc = _cohorts(Account())
    acc.rule("percent_revenue", 0.1, model="referral")
    acc.rule("fixed_per_qualified_lead", 100, model="referral")
    acc.lead("2024-01-25", partner="P", status="qualified")
    db = acc.build(tmp_db)
    with store.connect(db, read_only=True) as con:
        pid = partner_ids(db)["P"]
        curve = payback.curves(con, YEAR, partner_id=pid)
        kpi = engine.kpis(con, Filters(date(2024, 1, 1), date(2024, 1, 31), partners=(pid,)), "partner").iloc[0]
    jan = curve[curve["cohort"] == date(2024, 1, 1)]
    assert jan["commission"].sum() == pytest.approx(kpi["costs_commission"])
    assert jan["ledger"].sum() == pytest.approx(kpi["costs_ledger"]) == 10_000
    assert jan["income"].sum() == pytest.approx(kpi["income"])
    assert jan.loc[jan["m"] == 3, "commission"].iloc[0] == pytest.approx(700), "10 % of the deal closed in month 3"
    assert jan.loc[jan["m"] == 0, "commission"].iloc[0] == pytest.approx(300), "three qualified leads (won too)"


def test_one_model_or_one_partner_and_never_direct(cohort_db: Path) -> None:
    with store.connect(cohort_db, read_only=True) as con:
        with pytest.raises(FilterError):
            payback.payback(con, YEAR, model="direct")
        with pytest.raises(FilterError):
            payback.payback(con, YEAR, model="referral", partner_id=1)
        every = payback.payback(con, YEAR)[1]
        later = payback.payback(con, Filters(date(2025, 1, 1), date(2025, 2, 1)), model="referral")
    assert set(every["model"]) == {"referral"}
    assert later[0].empty and later[1].empty, "a period after the data's as-of day has no cohorts"


@pytest.mark.covers("payback_month")
def test_cli_payback(cohort_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["payback", "--help"])
    assert done.value.code == 0 and "--partner" in capsys.readouterr().out
    base = ["payback", "--db", str(cohort_db), "--from", "2024-01-01", "--to", "2024-12-31"]
    assert main([*base, "--partner", "P", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["cohort"], r["status"], r["payback_month"]) for r in rows] == [
        ("2024-10", "too_young", None), ("2024-03", "not_yet", None), ("2024-02", "paid_back", 7),
        ("2024-01", "paid_back", 3)]
    pid = partner_ids(cohort_db)["P"]
    assert main([*base, "--partner", str(pid), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == rows, "by id as by name"
    assert main(["payback", "--db", str(cohort_db), "--model", "referral", "--curve", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "model,cohort,m,income,commission,ledger,costs,cumulative"
    assert "referral,2024-01,3,7000.0,0.0,0.0,0.0,0.0" in lines
    assert main([*base, "--partner", "Nobody"]) == 2
    assert "Unknown partner" in capsys.readouterr().err


# ---------- the models page and a partner's page (AppTest of app.py with the session's demo database) ----------

PAYBACK_TEXTS = {"ещё нет", "слишком молодая когорта", "нет затрат"}


def _payback_cells(values: pd.Series) -> None:
    for v in values:
        assert v in PAYBACK_TEXTS or v.isdigit(), v


def test_models_page_shows_cohort_payback_per_model(app_env: Path) -> None:
    from support.app import frame_with, new_app, run_ok
    at = run_ok(new_app())
    run_ok(at.switch_page("pages/models.py"))
    assert "Окупаемость когорт" in [s.value for s in at.subheader]
    assert not at.toggle(key="models.payback").value, "on request: the page opens without its query"
    at.toggle(key="models.payback").set_value(True)
    run_ok(at)
    choice = at.selectbox(key="models.payback_model")
    assert choice.value == "referral" and "direct" not in choice.options
    table = frame_with(at, "Когорта", "Месяц окупаемости")
    assert 0 < len(table) <= payback.COHORTS
    _payback_cells(table["Месяц окупаемости"])
    choice.set_value("sales")
    run_ok(at)
    assert frame_with(at, "Когорта", "Месяц окупаемости") is not None
    assert at.get("vega_lite_chart"), "the cumulative curves"


def test_partner_page_shows_its_cohort_payback(app_env: Path) -> None:
    from support.app import frame_with, new_app, run_ok
    at = run_ok(new_app({"selected": "2", "lang": "en"}))
    run_ok(at.switch_page("pages/partners.py"))
    assert "Cohort payback" in [s.value for s in at.subheader]
    at.toggle(key="partners.payback").set_value(True)
    run_ok(at)
    table = frame_with(at, "Cohort", "Payback month")
    for v in table["Payback month"]:
        assert v in {"not yet", "cohort too young", "no costs"} or v.isdigit(), v

"""Issue 20 item 9: values far outside what the account has seen need a confirmation that names the effect.

The rule (data_layer.plausibility) on its own: amounts, months, goal targets, fixed commissions; and its writers
(the cost import and CLI, the ledger editor's save, the rules editor's save) write nothing until confirmed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.accounts import WON, Account
from support.costs_io import cli

from data_layer import costs_io, plausibility, store, userdata
from data_layer.costs_limits import ConfirmationNeeded, ImportLimits
from data_layer.plausibility import Scale

LIMITS = ImportLimits()
TODAY = date(2026, 12, 7)
NBSP = "\u00a0"


def scale(month_max: float = 1000.0, **kw: object) -> Scale:
    defaults = {"cost_month_max": month_max, "cost_year": 12 * month_max, "revenue_year": 0.0,
                "first_month": date(2025, 1, 1), "last_month": date(2026, 12, 1), "avg_deal": 0.0, "today": TODAY}
    return Scale(**{**defaults, **kw})


# ---------------------------------------------------------------- amounts

@settings(max_examples=200, deadline=None)
@given(month_max=st.floats(min_value=0.01, max_value=1e11), k=st.floats(min_value=1.0, max_value=1e3))
def test_ten_times_the_threshold_always_asks(month_max: float, k: float) -> None:
    amount = month_max * LIMITS.outlier_factor * 10 * k
    found = plausibility.amount_finding(amount, scale(month_max), LIMITS)
    assert found is not None and found.code == "amount.implausible"
    assert "больше самого затратного месяца" in found.text("ru")  # в 1 562 раза, в 5 000 раз


@settings(max_examples=200, deadline=None)
@given(month_max=st.floats(min_value=0.01, max_value=1e11), share=st.floats(min_value=0.0, max_value=1.0))
def test_ordinary_amounts_never_ask(month_max: float, share: float) -> None:
    assert plausibility.amount_finding(month_max * LIMITS.outlier_factor * share, scale(month_max), LIMITS) is None


def test_the_sentence_names_every_effect() -> None:
    found = plausibility.amount_finding(1e12, scale(700.0, cost_year=700.0, revenue_year=4000.0), LIMITS, line=3)
    ru = found.text("ru")
    big, n = "1_000_000_000_000", "1_428_571_429"
    assert ru == (f"строка 3: Сумма {big}_₽ — это в {n} раз больше всех затрат за последний год журнала (700_₽), "
                  f"в {n} раз больше самого затратного месяца (700_₽) и в 250_000_000 раз больше выручки за последний "
                  "год данных (4_000_₽). Проверьте, не лишние ли разряды; если сумма верна, подтвердите её.").replace("_", NBSP)
    assert f"в 1{NBSP}428{NBSP}571{NBSP}429 раз больше всех затрат за последний год журнала (700{NBSP}₽)" in ru
    assert f"и в 250{NBSP}000{NBSP}000 раз больше выручки за последний год данных (4{NBSP}000{NBSP}₽)" in ru
    assert "{" not in found.text("en") and "times the revenue" in found.text("en")
    usd = plausibility.amount_finding(1e12, scale(700.0, cost_year=700.0, currency="USD"), LIMITS)
    assert f"700{NBSP}$" in usd.text("en") and "₽" not in usd.text("en")


def test_empty_ledger_asks_above_the_absolute_limit_only() -> None:
    empty = scale(0.0, cost_year=0.0)
    assert plausibility.amount_finding(LIMITS.outlier_empty_ledger, empty, LIMITS) is None
    found = plausibility.amount_finding(LIMITS.outlier_empty_ledger * 2, empty, LIMITS)
    assert found.code == "amount.implausible_empty" and "журнал затрат пока пуст" in found.text("ru")


# ---------------------------------------------------------------- months

def test_a_month_five_years_ahead_asks_and_says_how_far() -> None:
    found = plausibility.month_finding(date(2031, 12, 1), scale())
    assert found.text("ru") == ("Месяц 2031-12 — на 5 лет позже последних данных (2026-12). Проверьте год; "
                                "если месяц верен, подтвердите его.")
    assert "5 years after the last data" in found.text("en")
    assert "на 4 года и 3 месяца раньше первых данных (2025-01)" in plausibility.month_finding(
        date(2020, 10, 1), scale()).text("ru")


@settings(max_examples=100, deadline=None)
@given(offset=st.integers(min_value=-plausibility.MONTHS_AWAY, max_value=plausibility.MONTHS_AWAY))
def test_months_near_the_data_never_ask(offset: int) -> None:
    for edge in (date(2025, 1, 1), date(2026, 12, 1)):
        n = edge.year * 12 + edge.month - 1 + offset
        assert plausibility.month_finding(date(n // 12, n % 12 + 1, 1), scale()) is None


def test_stale_data_measures_from_the_current_month() -> None:
    stale = scale(last_month=date(2024, 1, 1))
    assert plausibility.month_finding(date(2026, 12, 1), stale) is None  # this month is always plausible
    assert "позже текущего месяца (2026-12)" in plausibility.month_finding(date(2029, 1, 1), stale).text("ru")


def test_an_account_without_data_has_nothing_to_compare_months_with() -> None:
    assert plausibility.month_finding(date(2090, 1, 1), Scale(today=TODAY)) is None


def test_span_words() -> None:
    assert [plausibility.span_ru(n) for n in (1, 3, 5, 12, 13, 26, 60, 61)] == [
        "1 месяц", "3 месяца", "5 месяцев", "1 год", "1 год и 1 месяц", "2 года и 2 месяца", "5 лет",
        "5 лет и 1 месяц"]


# ---------------------------------------------------------------- goal targets

def test_a_goal_of_a_trillion_leads_asks_naming_the_record_month() -> None:
    found = plausibility.target_finding(1e12, 1209.0, date(2025, 12, 1), 31, True, show=plausibility.money_text)
    ru = found.text("ru")
    assert f"в 827{NBSP}129{NBSP}859 раз выше рекордного месяца (1{NBSP}209, 2025-12)" in ru
    assert ru.startswith(f"Цель 1{NBSP}000{NBSP}000{NBSP}000{NBSP}000 — это")


def test_a_long_goal_compares_its_monthly_average() -> None:
    # 12 months × 1 000 leads a month is not far from a 1 000-lead record; 12 × 200 000 is
    assert plausibility.target_finding(12_000, 1000.0, date(2025, 12, 1), 365, True) is None
    found = plausibility.target_finding(2_400_000, 1000.0, date(2025, 12, 1), 365, True)
    assert found.code == "goal.far_total" and "в среднем" in found.text("ru")


@settings(max_examples=200, deadline=None)
@given(record=st.floats(min_value=0.001, max_value=1e9), k=st.floats(min_value=1.0, max_value=1e3),
       additive=st.booleans())
def test_targets_ten_times_the_threshold_always_ask(record: float, k: float, additive: bool) -> None:
    target = record * plausibility.TARGET_FACTOR * 10 * k
    assert plausibility.target_finding(target, record, date(2025, 1, 1), 30, additive) is not None
    assert plausibility.target_finding(record * plausibility.TARGET_FACTOR, record, date(2025, 1, 1), 30,
                                       additive) is None


def test_no_history_or_negative_targets_never_ask() -> None:
    assert plausibility.target_finding(1e12, None, None, 30, True) is None
    assert plausibility.target_finding(-1e12, 2.5, date(2025, 1, 1), 30, False) is None


# ---------------------------------------------------------------- writers on a database

@pytest.fixture
def db(tmp_db: Path) -> Path:
    """Leads up to last month (average won deal 1 000), a ledger of 700 in last month."""
    acc = Account()
    acc.partner("Альфа", "referral")
    acc.lead(f"{date.today():%Y-%m}-01", partner="Альфа", status=WON, price=1000, n=3)
    acc.cost("Альфа", f"{date.today():%Y-%m}", "marketing", 700)
    acc.build(tmp_db)
    return tmp_db


def ledger(path: Path) -> list[tuple]:
    with store.connect(path, read_only=True) as con:
        return sorted((r.month.strftime("%Y-%m"), r.category, r.amount) for r in userdata.read_ledger(con).itertuples())


def test_save_ledger_asks_for_new_values_only(db: Path) -> None:
    this = f"{date.today():%Y-%m}"
    far = f"{date.today().year + 5}-01"
    rows = pd.DataFrame([{"partner": "Альфа", "month": this, "category": "marketing", "amount": 700.0},
                         {"partner": "Альфа", "month": far, "category": "bonus", "amount": 1e12}])
    before = ledger(db)
    with store.connect(db) as con, pytest.raises(ConfirmationNeeded) as err:
        plausibility.save_ledger(con, rows)
    assert [(p.code, p.line) for p in err.value.problems] == [("amount.implausible", 2), ("month.far", 2)]
    assert ledger(db) == before
    with store.connect(db) as con:
        assert plausibility.save_ledger(con, rows, confirmed=True) == 2
        plausibility.save_ledger(con, rows)  # stored now: saving the same rows again does not ask
    assert (far, "bonus", 1e12) in ledger(db)


def test_cli_asks_for_a_month_far_after_the_data(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    month = date.today().year + 1, date.today().month + 6
    far = date(month[0] + (month[1] - 1) // 12, (month[1] - 1) % 12 + 1, 1)  # 18 months ahead: inside the window
    path = tmp_path / "costs.csv"
    path.write_bytes(f"partner,month,category,amount\nАльфа,{far:%Y-%m},bonus,10\n".encode())
    before = ledger(db)
    assert cli("import", str(path), "--db", str(db), "--lang", "ru") == 3
    err = capsys.readouterr().err
    assert "на 1 год и 6 месяцев позже последних данных" in err and "--confirm-large" in err
    assert ledger(db) == before
    assert cli("import", str(path), "--db", str(db), "--confirm-large") == 0
    with store.connect(db, read_only=True) as con:  # the preview lists it without raising
        parsed = costs_io.parse_costs(con, path.read_bytes(), "costs.csv")
    assert parsed.warnings == []  # the month is seen now


def test_save_rules_asks_for_a_fixed_amount_far_above_the_average_deal(db: Path) -> None:
    rules = pd.DataFrame([{"model": "referral", "kind": "fixed_per_deal", "rate": 50_000.0}])
    with store.connect(db) as con:
        with pytest.raises(ConfirmationNeeded) as err:
            plausibility.save_rules(con, rules)
        assert con.execute("select count(*) from commission_rules").fetchone()[0] == 0
        assert f"Сумма за сделку 50{NBSP}000{NBSP}₽ — это в 50 раз больше средней выигранной сделки (1{NBSP}000{NBSP}₽)" in \
            err.value.text("ru")
        assert plausibility.save_rules(con, rules, confirmed=True) == 1
        assert plausibility.save_rules(con, rules) == 1  # stored: not asked again
        ordinary = pd.DataFrame([{"model": "referral", "kind": "fixed_per_deal", "rate": 500.0}])
        assert plausibility.save_rules(con, ordinary) == 1

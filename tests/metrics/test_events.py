"""Events on the charts (metrics.events): rule changes from the audit log, ledger categories' first months, user
events by scope, and the before / after effect with Welch's interval (metrics.stats)."""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from data_layer import store, userdata
from metrics import events, stats
from metrics.events import Scope

WHOLE = Scope()


@pytest.fixture
def con(tmp_db: Path):
    """A fresh database with partners Альфа (1, referral) and Бета (2, sales)."""
    with store.connect(tmp_db) as connection:
        userdata.add_partner(connection, "Альфа", model="referral")
        userdata.add_partner(connection, "Бета", model="sales")
        yield connection


def stamp(con: duckdb.DuckDBPyConnection, when: datetime) -> None:
    """Date the newest audit row (the log records now; a test needs fixed days)."""
    con.execute("update audit_log set happened_at = ? where event_id = (select max(event_id) from audit_log)",
                [when])


def test_a_rule_change_is_an_event_on_its_audit_day_naming_the_rule_and_what_changed(
        con: duckdb.DuckDBPyConnection) -> None:
    rid = userdata.add_rule(con, "percent_revenue", 0.10, model="referral", valid_from="2026-01-01")
    stamp(con, datetime(2026, 2, 3, 10, 0))
    userdata.add_rule(con, "percent_revenue", 0.15, partner_id=1)  # untouched by the change below
    stamp(con, datetime(2026, 2, 3, 11, 0))
    userdata.update_rule(con, rid, rate=0.12)
    stamp(con, datetime(2026, 5, 14, 9, 30))
    userdata.add_rule(con, "fixed_per_deal", 500, partner_id=2)
    stamp(con, datetime(2026, 6, 1, 12, 0))
    pid_rule = int(con.execute("select max(rule_id) from commission_rules").fetchone()[0])
    userdata.delete_rule(con, pid_rule)
    stamp(con, datetime(2026, 7, 9, 8, 0))
    found = events.events(con, date(2026, 1, 1), date(2026, 12, 31), Scope(models=("referral", "sales"),
                                                                            partners=(1, 2)))
    assert [(r.day, r.kind, r.scope, r.value, r.change["action"]) for r in found.itertuples()] == [
        (date(2026, 2, 3), "rule", "model", "referral", "added"),
        (date(2026, 2, 3), "rule", "partner", "1", "added"),
        (date(2026, 5, 14), "rule", "model", "referral", "changed"),
        (date(2026, 6, 1), "rule", "partner", "2", "added"),
        (date(2026, 7, 9), "rule", "partner", "2", "deleted"),
    ]
    changed = found.iloc[2]
    assert changed["change"]["fields"] == {"rate": [0.1, 0.12]}
    assert changed["subject"]["model"] == "referral" and changed["subject"]["kind"] == "percent_revenue"
    deleted = found.iloc[4]  # named by its last recorded state
    assert deleted["subject"]["partner"] == "Бета" and deleted["subject"]["kind"] == "fixed_per_deal"


def test_events_follow_the_page_scope(con: duckdb.DuckDBPyConnection) -> None:
    userdata.add_event(con, "01.03.2026", "Для всех")
    userdata.add_event(con, "02.03.2026", "Реферальная акция", scope="model", value="referral")
    userdata.add_event(con, "03.03.2026", "Обучение Беты", scope="partner", value=2)
    window = (date(2026, 1, 1), date(2026, 12, 31))
    titles = {name: list(events.events(con, *window, scope)["title"]) for name, scope in {
        "whole": WHOLE, "alpha": Scope(whole=False, models=("referral",), partners=(1,)),
        "beta": Scope(whole=False, models=("sales",), partners=(2,)),
        "sales": Scope(whole=False, models=("sales",))}.items()}
    assert titles == {"whole": ["Для всех", "Реферальная акция"],
                      "alpha": ["Для всех", "Реферальная акция"],
                      "beta": ["Для всех", "Обучение Беты"],
                      "sales": ["Для всех"]}
    assert list(events.events(con, date(2026, 3, 2), date(2026, 3, 2), WHOLE)["title"]) == ["Реферальная акция"]


def test_a_ledger_category_s_first_month_is_an_event_unless_the_ledger_starts_with_it(
        con: duckdb.DuckDBPyConnection) -> None:
    rows = pd.DataFrame([
        {"partner": "Альфа", "month": "2026-01", "category": "marketing", "amount": 1000},
        {"partner": "Альфа", "month": "2026-04", "category": "training", "amount": 500},
        {"partner": "Бета", "month": "2026-02", "category": "marketing", "amount": 700},
        {"partner": "Бета", "month": "2026-03", "category": "bonus", "amount": 0},  # nothing spent: no event
        {"partner": "Бета", "month": "2026-06", "category": "bonus", "amount": 300},
    ])
    userdata.upsert_ledger(con, rows)
    window = (date(2026, 1, 1), date(2026, 12, 31))
    def firsts(scope: Scope) -> list[tuple[date, str]]:
        found = events.events(con, *window, scope)
        return [(r.day, r.subject["category"]) for r in found.itertuples() if r.kind == "ledger"]
    assert firsts(WHOLE) == [(date(2026, 4, 1), "training"), (date(2026, 6, 1), "bonus")]
    assert firsts(Scope(whole=False, models=("sales",), partners=(2,))) == [(date(2026, 6, 1), "bonus")]
    assert firsts(Scope(whole=False, models=("referral",), partners=(1,))) == [(date(2026, 4, 1), "training")]


# ---------- before / after ----------

def test_welch_interval_matches_a_hand_computed_example() -> None:
    # means 12 and 22, both variances 4, n = 3: se² = 4/3 + 4/3 = 8/3, df = (8/3)² / (2·(4/3)²/2) = 4,
    # t(0.975, 4) = 2.7764 (table), half-width 2.7764 · √(8/3) = 4.5339
    w = stats.welch_interval([10, 12, 14], [20, 24, 22])
    assert w.diff == pytest.approx(10.0)
    assert w.df == pytest.approx(4.0)
    assert (w.low, w.high) == (pytest.approx(10 - 4.5339, abs=1e-3), pytest.approx(10 + 4.5339, abs=1e-3))
    # unequal spreads (means 2 and 5): va = 1/3, vb = (20/3)/4 = 5/3, se² = 2, df = 4 / ((1/9)/2 + (25/9)/3) = 4.0755
    u = stats.welch_interval([1, 2, 3], [2, 4, 6, 8])
    assert u.diff == pytest.approx(3.0) and u.df == pytest.approx(4.0755, abs=1e-4)
    assert u.high - u.diff == pytest.approx(stats.t_quantile(0.975, u.df) * math.sqrt(2.0))
    same = stats.welch_interval([5, 5], [7, 7])
    assert (same.diff, same.low, same.high, same.df) == (2.0, 2.0, 2.0, None)


def months(values: list[float | None], young: int = 0) -> pd.DataFrame:
    """Monthly points from January 2026; the last `young` are maturing."""
    n = len(values)
    return pd.DataFrame({"period": [date(2026, m + 1, 1) for m in range(n)], "value": values,
                         "maturing": [i >= n - young for i in range(n)], "incomplete": False})


def test_the_effect_compares_n_settled_periods_each_side_leaving_out_the_event_s_own_month() -> None:
    points = months([99, 10, 12, 14, 50, 20, 24, 22, 99])
    effect = events.before_after(points, date(2026, 5, 15), "month")  # May (50) holds the event: on no side
    assert effect.before == (10, 12, 14) and effect.after == (20, 24, 22)
    assert effect.diff == pytest.approx(10.0) and effect.low == pytest.approx(10 - 4.5339, abs=1e-3)
    on_first_day = events.before_after(points, date(2026, 5, 1), "month", n=2)
    assert on_first_day.before == (12, 14) and on_first_day.after == (50, 20)


def test_too_few_settled_periods_gives_no_difference_and_young_periods_never_count() -> None:
    points = months([10, 12, 14, 20, 24, 22], young=2)  # May and June maturing
    effect = events.before_after(points, date(2026, 4, 1), "month")
    assert effect.before == (10, 12, 14) and effect.after == (20,)
    assert effect.too_few and effect.diff is None and effect.mean_after == 20
    assert events.before_after(months([1.0, None, 3.0, 4.0, 5.0]), date(2026, 3, 1), "month").before == (1.0,)

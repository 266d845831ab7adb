"""Budget planning: the arithmetic of leads-scale-with-budget, intervals from the month bootstrap, revenue and
ROI targets, the next quarter, and saving a plan as a scenario without clobbering a what-if scenario."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_layer import store, userdata
from programme import planning as pl


def monthly(groups: dict[str, tuple[float, float, float, float]], months: int = 12,
            wobble: float = 0.0) -> pd.DataFrame:
    """Monthly rows per group from (leads, won_deals, revenue, costs) per month; income = revenue."""
    rows = []
    for g, (leads, won, revenue, costs) in groups.items():
        for m in range(months):
            k = 1 + wobble * (1 if m % 2 else -1)
            rows.append({"period": pd.Timestamp(2025, m + 1, 1), "group": g, "label": g.title(),
                         "leads": leads * k, "won_deals": won * k, "revenue": revenue * k, "income": revenue * k,
                         "costs": costs})
    return pd.DataFrame(rows)


# A: 100 leads, 20 deals, 1 000 000 revenue, 200 000 costs a month -> CPL 2 000, conversion 20 %, check 50 000, ROI 4
# B: 50 leads, 5 deals, 100 000 revenue, 150 000 costs a month   -> CPL 3 000, conversion 10 %, check 20 000
BASE = {"a": (100, 20, 1_000_000, 200_000), "b": (50, 5, 100_000, 150_000)}


def test_rates_from_the_look_back() -> None:
    r = pl.rates(monthly(BASE)).set_index("group")
    assert r.at["a", "cpl"] == 2000 and r.at["a", "conversion"] == 0.2 and r.at["a", "avg_check"] == 50_000
    assert r.at["a", "roi"] == pytest.approx(4.0) and r.at["b", "roi"] == pytest.approx(-1 / 3)
    assert r.at["a", "run_rate"] == 600_000 and r.at["b", "run_rate"] == 450_000
    assert r["plannable"].all() and (r["months"] == 12).all()


def test_leads_deals_revenue_and_roi_scale_with_the_budget() -> None:
    proj = pl.project(monthly(BASE), {"a": 1_000_000, "b": 300_000}).table.set_index("group")
    assert proj.at["a", "leads"] == pytest.approx(500)          # 1 000 000 / 2 000
    assert proj.at["a", "won_deals"] == pytest.approx(100)      # 500 x 20 %
    assert proj.at["a", "revenue"] == pytest.approx(5_000_000)  # 100 x 50 000
    assert proj.at["a", "roi"] == pytest.approx(4.0)
    assert proj.at["b", "leads"] == pytest.approx(100) and proj.at["b", "revenue"] == pytest.approx(200_000)
    assert proj.at["total", "budget"] == 1_300_000
    assert proj.at["total", "revenue"] == pytest.approx(5_200_000)
    assert proj.at["total", "roi"] == pytest.approx((5_200_000 - 1_300_000) / 1_300_000)


def test_steady_history_gives_tight_intervals_and_noisy_history_wide_ones() -> None:
    steady = pl.project(monthly(BASE), {"a": 600_000}).table.set_index("group")
    assert steady.at["a", "revenue_lo95"] == pytest.approx(steady.at["a", "revenue"])
    assert steady.at["a", "revenue_hi95"] == pytest.approx(steady.at["a", "revenue"])
    noisy = pl.project(monthly(BASE, wobble=0.3), {"a": 600_000}).table.set_index("group")
    lo, mid, hi = noisy.at["a", "revenue_lo95"], noisy.at["a", "revenue"], noisy.at["a", "revenue_hi95"]
    assert lo <= noisy.at["a", "revenue_lo80"] < mid < noisy.at["a", "revenue_hi80"] <= hi and lo < hi
    assert lo >= 0.7 * mid and hi <= 1.3 * mid   # months vary by ±30 %: a quarter can not vary more


def test_groups_without_costs_or_unknown_are_not_planned() -> None:
    data = monthly({**BASE, "free": (10, 1, 1000, 0)})
    r = pl.rates(data).set_index("group")
    assert not r.at["free", "plannable"]
    proj = pl.project(data, {"a": 100, "free": 100, "ghost": 100}).table
    assert list(proj["group"]) == ["a", "total"]


def test_revenue_target_keeps_the_mix_and_hits_the_target() -> None:
    budgets = pl.budget_for_revenue(monthly(BASE), 6_000_000, {"a": 3, "b": 1})
    assert budgets["a"] == pytest.approx(3 * budgets["b"])
    proj = pl.project(monthly(BASE), budgets).table.set_index("group")
    assert proj.at["total", "revenue"] == pytest.approx(6_000_000)
    assert pl.budget_for_revenue(monthly(BASE), 0) == {}


def test_roi_target_keeps_only_groups_that_reach_it() -> None:
    budgets, dropped = pl.budget_for_roi(monthly(BASE), 1.0, 900_000)
    assert budgets == {"a": pytest.approx(900_000)} and dropped == ["b"]
    budgets, dropped = pl.budget_for_roi(monthly(BASE), 10.0, 900_000)
    assert budgets == {} and set(dropped) == {"a", "b"}


def test_chance_of_reaching_a_target() -> None:
    proj = pl.project(monthly(BASE, wobble=0.3), {"a": 600_000})
    mid = proj.table.set_index("group").at["total", "revenue"]
    assert proj.chance("revenue", 0) == 1.0
    assert 0.2 < proj.chance("revenue", mid) < 0.8
    assert proj.chance("revenue", 10 * mid) == 0.0


@pytest.mark.parametrize(("day", "start", "end"), [
    (date(2026, 11, 22), date(2027, 1, 1), date(2027, 3, 31)),
    (date(2026, 1, 1), date(2026, 4, 1), date(2026, 6, 30)),
    (date(2026, 6, 30), date(2026, 7, 1), date(2026, 9, 30)),
])
def test_next_quarter(day: date, start: date, end: date) -> None:
    assert pl.next_quarter(day) == (start, end)


def _basis() -> pl.PlanBasis:
    return pl.PlanBasis(monthly(BASE), date(2025, 1, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 3, 31),
                        "model")


def test_save_plan_writes_a_scenario_with_the_plan_in_meta(tmp_db: Path) -> None:
    budgets = {"a": 600_000.0, "b": 450_000.0}
    proj = pl.project(monthly(BASE), budgets)
    payload = pl.plan_payload(_basis(), budgets, proj, {"kind": "revenue", "value": 1e6})
    with store.connect(tmp_db) as con:
        sid = pl.save_plan(con, "  План Q1 ", payload)
        text = con.execute("select payload from scenarios where scenario_id = ?", [sid]).fetchone()[0]
        saved = pl.load_plans(con)
        inputs = userdata.load_scenario(con, "План Q1")
    stored = json.loads(text)
    assert stored["ledger"] is None and stored["rules"] is None and stored["margin"] is None
    meta = stored["meta"]
    assert meta["kind"] == "budget_plan" and meta["quarter"] == "2026-Q1" and meta["budgets"] == budgets
    assert meta["projection"]["total"]["revenue"] == pytest.approx(proj.table["revenue"].iloc[-1])
    assert list(saved["name"]) == ["План Q1"] and saved["budget"].iloc[0] == 1_050_000
    assert inputs.ledger is None and inputs.meta["kind"] == "budget_plan"   # the what-if page can open it


def test_save_plan_never_overwrites_a_what_if_scenario(tmp_db: Path) -> None:
    payload = pl.plan_payload(_basis(), {"a": 1.0}, pl.project(monthly(BASE), {"a": 1.0}))
    with store.connect(tmp_db) as con:
        userdata.save_scenario(con, "Комиссия 8 %", userdata.ScenarioInputs(margin={"account": 0.5}))
        with pytest.raises(userdata.UserDataError) as err:
            pl.save_plan(con, "Комиссия 8 %", payload, overwrite=True)
        assert "Комиссия 8 %" in err.value.text("ru")
        pl.save_plan(con, "План", payload)
        with pytest.raises(userdata.UserDataError):
            pl.save_plan(con, "План", payload)
        pl.save_plan(con, "План", {**payload, "quarter": "2026-Q2"}, overwrite=True)
        rows = con.execute("select name, payload from scenarios order by name").fetchall()
        with pytest.raises(userdata.UserDataError):
            pl.save_plan(con, "   ", payload)
    assert [r[0] for r in rows] == ["Комиссия 8 %", "План"]
    assert json.loads(rows[1][1])["meta"]["quarter"] == "2026-Q2"
    assert json.loads(rows[0][1])["margin"]["account"] == 0.5


def test_payload_is_plain_json() -> None:
    proj = pl.project(monthly(BASE), {"a": np.float64(5.0)})
    payload = pl.plan_payload(_basis(), {"a": np.float64(5.0)}, proj)
    assert json.loads(json.dumps(payload)) == payload

"""Scenario input maths: ledger overrides, period totals, spreading a new total over months, quick rates."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_layer import userdata
from data_layer.userdata import ScenarioInputs


def ledger(*rows: tuple[int, str, str, float]) -> pd.DataFrame:
    return pd.DataFrame([{"partner_id": p, "month": userdata.to_month(m), "category": c, "amount": a}
                         for p, m, c, a in rows])


def totals(df: pd.DataFrame, lo: date, hi: date) -> dict[tuple[int, str], float]:
    out = userdata.period_totals(df, lo, hi)
    return {(int(r.partner_id), r.category): round(r.amount, 2) for r in out.itertuples()}


def test_period_totals_take_the_share_of_days() -> None:
    df = ledger((1, "2024-01", "bonus", 310), (1, "2024-02", "bonus", 290), (1, "2024-05", "bonus", 1000))
    assert totals(df, date(2024, 1, 1), date(2024, 2, 29)) == {(1, "bonus"): 600.0}
    # 16 of 31 January days + all of February
    assert totals(df, date(2024, 1, 16), date(2024, 2, 29)) == {(1, "bonus"): 450.0}


def test_merge_ledger_replaces_same_keys_only() -> None:
    actual = ledger((1, "2024-01", "bonus", 10), (1, "2024-02", "bonus", 20), (2, "2024-01", "other", 5))
    merged = userdata.merge_ledger(actual, ledger((1, "2024-02", "bonus", 99), (3, "2024-01", "support", 7)))
    got = sorted((r.partner_id, r.month.isoformat(), r.category, r.amount) for r in merged.itertuples())
    assert got == [(1, "2024-01-01", "bonus", 10.0), (1, "2024-02-01", "bonus", 99.0),
                   (2, "2024-01-01", "other", 5.0), (3, "2024-01-01", "support", 7.0)]
    assert userdata.merge_ledger(actual, None)["amount"].tolist() == [10.0, 20.0, 5.0]


def test_new_total_scales_existing_months_and_spreads_new_ones() -> None:
    actual = ledger((1, "2024-01", "bonus", 100), (1, "2024-02", "bonus", 300))
    lo, hi = date(2024, 1, 1), date(2024, 3, 31)
    targets = pd.DataFrame([{"partner_id": 1, "category": "bonus", "amount": 800},
                            {"partner_id": 1, "category": "marketing", "amount": 910},
                            {"partner_id": 2, "category": "other", "amount": 0}])
    rows = userdata.ledger_for_totals(actual, lo, hi, targets)
    bonus = rows[rows["category"] == "bonus"].sort_values("month")["amount"].tolist()
    assert bonus == [200.0, 600.0]                       # pattern kept, doubled
    marketing = rows[rows["category"] == "marketing"].sort_values("month")["amount"].tolist()
    assert marketing == [310.0, 290.0, 310.0]            # by days: 31 + 29 + 31 = 91
    assert (rows["category"] == "other").sum() == 0      # unchanged total: no rows
    merged = userdata.merge_ledger(actual, rows)
    assert totals(merged, lo, hi) == {(1, "bonus"): 800.0, (1, "marketing"): 910.0}


@settings(max_examples=40, deadline=None)
@given(amounts=st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=4),
       target=st.integers(min_value=0, max_value=10**8), start_day=st.integers(min_value=1, max_value=28))
def test_spread_total_is_what_the_period_counts(amounts: list[int], target: int, start_day: int) -> None:
    months = ["2024-01", "2024-02", "2024-03", "2024-04"][:len(amounts)]
    actual = ledger(*[(1, m, "support", a) for m, a in zip(months, amounts, strict=True)])
    lo, hi = date(2024, 1, start_day), date(2024, 4, 30)
    rows = userdata.ledger_for_totals(actual, lo, hi, pd.DataFrame(
        [{"partner_id": 1, "category": "support", "amount": target}]))
    got = totals(userdata.merge_ledger(actual, rows), lo, hi).get((1, "support"), 0.0)
    assert got == pytest.approx(target, abs=0.05 * len(months) + 1e-6)


def test_quick_rate_for_a_model_and_for_a_partner() -> None:
    rules = pd.DataFrame([
        {"rule_id": 1, "model": "referral", "partner": None, "kind": "percent_revenue", "rate": 0.1,
         "tiers": '[{"up_to": 100, "rate": 0.1}, {"up_to": null, "rate": 0.2}]'},
        {"rule_id": 2, "model": "referral", "partner": None, "kind": "fixed_per_qualified_lead", "rate": 500},
    ])
    by_model = userdata.set_percent_rate(rules, 0.08, model="referral")
    assert by_model["rate"].tolist() == [0.08, 500] and by_model["tiers"].isna().tolist() == [True, True]
    added = userdata.set_percent_rate(rules, 0.05, model="sales")
    assert added.iloc[-1][["model", "kind", "rate"]].tolist() == ["sales", "percent_revenue", 0.05]
    by_partner = userdata.set_percent_rate(rules, 0.2, partner="Альфа", partner_model="referral")
    own = by_partner[by_partner["partner"] == "Альфа"]
    assert sorted(own["kind"]) == ["fixed_per_qualified_lead", "percent_revenue"]  # model rewards copied
    assert own.loc[own["kind"] == "percent_revenue", "rate"].item() == 0.2
    assert own["model"].isna().all() and own["rule_id"].isna().all()
    assert by_partner.iloc[0]["rate"] == 0.1                                        # the model rule stays


def test_same_rules_ignores_ids_order_blank_rows_and_shape() -> None:
    stored = pd.DataFrame([{"rule_id": 4, "model": "sales", "partner_id": None, "partner": None,
                            "kind": "fixed_per_deal", "rate": 100.0, "tiers": None, "valid_from": None,
                            "valid_to": None}])
    edited = pd.DataFrame([{"kind": None}, {"model": "sales", "partner": None, "kind": "fixed_per_deal",
                                            "rate": 100, "tiers": "", "valid_from": None, "valid_to": None}])
    assert userdata.same_rules(edited, stored)
    assert not userdata.same_rules(edited.assign(rate=101), stored)


def test_percent_display_roundtrip() -> None:
    rules = pd.DataFrame([{"kind": "percent_revenue", "rate": 0.125}, {"kind": "fixed_per_deal", "rate": 700.0}])
    shown = userdata.rules_in_percent(rules)
    assert shown["rate"].tolist() == [12.5, 700.0]
    assert userdata.rules_from_percent(shown)["rate"].tolist() == [0.125, 700.0]


def test_scenario_payload_roundtrip() -> None:
    inputs = ScenarioInputs(ledger=ledger((1, "2024-01", "bonus", 5.5)),
                            rules=pd.DataFrame([{"rule_id": None, "model": "sales", "partner_id": None,
                                                 "kind": "fixed_per_deal", "rate": 100.0, "tiers": None,
                                                 "valid_from": date(2024, 1, 1), "valid_to": None}]),
                            margin={"account": 0.3, "models": {}}, meta={"name": "x"})
    back = ScenarioInputs.from_payload(inputs.to_payload())
    assert back.ledger.to_dict("records") == inputs.ledger.to_dict("records")
    assert back.rules.loc[0, "valid_from"] == date(2024, 1, 1) and back.margin == inputs.margin
    assert ScenarioInputs.from_payload(ScenarioInputs().to_payload()).ledger is None


def test_reallocation_moves_only_between_clearly_separated_partners() -> None:
    from ui.whatif_analysis import reallocation_plan, reallocation_targets

    rows = pd.DataFrame([
        # partner_id, partner, roi, roi_low, roi_high, costs_ledger, income, costs, too_few
        {"partner_id": 1, "partner": "weak", "roi": -0.5, "roi_low": -0.8, "roi_high": -0.1,
         "costs_ledger": 1000.0, "income": 500.0, "costs": 1000.0, "too_few": False},
        {"partner_id": 2, "partner": "strong", "roi": 3.0, "roi_low": 2.0, "roi_high": 4.0,
         "costs_ledger": 1000.0, "income": 4000.0, "costs": 1000.0, "too_few": False},
        {"partner_id": 3, "partner": "noisy", "roi": 5.0, "roi_low": -1.0, "roi_high": 9.0,
         "costs_ledger": 500.0, "income": 3000.0, "costs": 500.0, "too_few": False},
        {"partner_id": 4, "partner": "tiny", "roi": -0.9, "roi_low": -1.0, "roi_high": -0.5,
         "costs_ledger": 100.0, "income": 10.0, "costs": 100.0, "too_few": True},
    ])
    plan, ref, effect = reallocation_plan(rows, 0.2)
    assert ref == pytest.approx((7510 - 2600) / 2600)
    assert plan.set_index("partner")["move"].to_dict() == {"weak": -200.0, "strong": 200.0}
    assert effect["mid"] == pytest.approx(200 * 3.0 - 200 * -0.5)        # 700
    assert effect["low"] == pytest.approx(200 * 2.0 - 200 * -0.1)        # 420
    assert effect["high"] == pytest.approx(200 * 4.0 - 200 * -0.8)       # 960
    totals = pd.DataFrame([{"partner_id": 1, "category": "marketing", "amount": 600.0},
                           {"partner_id": 1, "category": "bonus", "amount": 400.0},
                           {"partner_id": 2, "category": "support", "amount": 1000.0}])
    targets = reallocation_targets(plan, totals).set_index(["partner_id", "category"])["amount"].to_dict()
    assert targets == {(1, "marketing"): 480.0, (1, "bonus"): 320.0, (2, "support"): 1200.0}
    overlap = rows.assign(roi_high=rows["roi_high"].where(rows["partner_id"] != 1, 2.5))
    assert reallocation_plan(overlap, 0.2)[0].empty                      # weak is not clearly below

"""Honest comparison: Wilson interval, the seeded ROI bootstrap, roi_interval() rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.accounts import WON, Account
from support.engine import call, kpis, row

from metrics import engine, stats


def test_wilson_known_values() -> None:
    assert stats.wilson(0, 0) == (None, None)
    lo, hi = stats.wilson(20, 40)
    assert (lo, hi) == (pytest.approx(0.35199, abs=1e-5), pytest.approx(0.64801, abs=1e-5))
    lo, hi = stats.wilson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.27753, abs=1e-5)


@given(st.integers(1, 5000), st.data())
def test_wilson_contains_the_point_estimate(n: int, data: st.DataObject) -> None:
    x = data.draw(st.integers(0, n))
    lo, hi = stats.wilson(x, n)
    assert 0 <= lo <= x / n <= hi <= 1


@pytest.mark.covers("roi_low", "roi_high")
def test_bootstrap_is_seeded_and_brackets_roi() -> None:
    xs = np.array([500.0] * 10)
    sample = stats.RoiSample(n=50, fixed=2000.0, xs=xs, ys=np.zeros(10))
    a = stats.roi_bootstrap(sample, 500, seed=3)
    assert a == stats.roi_bootstrap(sample, 500, seed=3)
    assert a[0] < (5000 - 2000) / 2000 < a[1] and a[2] == "bootstrap"
    assert stats.roi_bootstrap(stats.RoiSample(0, 1.0, np.zeros(0), np.zeros(0))) == (None, None, "no data")
    no_costs = stats.RoiSample(5, 0.0, np.array([1.0]), np.array([0.0]))
    assert stats.roi_bootstrap(no_costs)[2] == "no costs"


@pytest.mark.covers("roi_low", "roi_high")
def test_large_samples_use_the_normal_draw_with_the_same_centre() -> None:
    rng = np.random.default_rng(1)
    xs = rng.gamma(2.0, 500.0, size=3000)
    sample = stats.RoiSample(n=15000, fixed=500_000.0, xs=xs, ys=xs * 0.1)
    lo, hi, method = stats.roi_bootstrap(sample, 1000, seed=0)
    roi = (xs.sum() - 500_000 - xs.sum() * 0.1) / (500_000 + xs.sum() * 0.1)
    assert method == "bootstrap-normal" and lo < roi < hi and hi - lo < 0.5


@pytest.mark.covers("roi_low", "roi_high")
def test_roi_interval_rows(tmp_db: Path) -> None:
    acc = Account()
    acc.partner("A", "referral")
    acc.partner("Free", "sales")
    for i in range(12):
        acc.lead("2024-03-05", partner="A", status=WON, price=100 * (i + 1))
    acc.lead("2024-03-05", partner="A", status="new", n=30)
    acc.lead("2024-03-05", partner="Free", status=WON, price=100)
    acc.cost("A", "2024-03", "bonus", 3100)
    acc.rule("fixed_per_deal", 10, model="referral")
    acc.build(tmp_db)
    from support.engine import MARCH
    ri = call(tmp_db, engine.roi_interval, MARCH, by="partner", n_boot=400, seed=7)
    a = row(ri, partner="A")
    k = row(kpis(tmp_db, by="partner"), partner="A")
    assert a["roi"] == pytest.approx(k["roi"]) and a["roi_low"] < a["roi"] < a["roi_high"]
    assert a["units"] == 42 and a["method"] == "bootstrap"
    free = row(ri, partner="Free")
    assert pd.isna(free["roi_low"]) and free["method"] == "no costs"
    again = call(tmp_db, engine.roi_interval, MARCH, by="partner", n_boot=400, seed=7)
    assert row(again, partner="A")["roi_low"] == a["roi_low"]
    ranked = engine.rank(ri.assign(too_few=False), "roi", by_lower_bound=True)
    assert row(ranked, partner="A")["rank"] == 1


@pytest.mark.parametrize("by", ["partner", "model", "none", "month"])
def test_kpis_with_roi_is_kpis_and_roi_interval(tmp_db: Path, by: str) -> None:
    """The leaderboard's two queries side by side give exactly what kpis() and roi_interval() give."""
    from dataclasses import replace

    from support.engine import MARCH
    acc = Account()
    acc.partner("A", "referral")
    acc.partner("B", "sales")
    for i in range(5):
        acc.lead("2024-03-05", partner="A", status=WON, price=100 * (i + 1), closed="2024-04-02" if i else None)
    acc.lead("2024-03-06", partner="A", status="qualified", n=4)
    acc.lead("2024-03-07", partner="B", status=WON, price=900)
    acc.lead("2024-03-08", status=WON, price=50)
    acc.cost("A", "2024-03", "marketing", 400)
    acc.rule("fixed_per_qualified_lead", 5, model="referral")
    acc.rule("percent_revenue", 0.1, model="sales")
    acc.build(tmp_db)
    for f in (MARCH, replace(MARCH, view="close")):
        rows, intervals = call(tmp_db, engine.kpis_with_roi, f, by=by, n_boot=300, seed=3)
        pd.testing.assert_frame_equal(rows, call(tmp_db, engine.kpis, f, by=by))
        pd.testing.assert_frame_equal(intervals, call(tmp_db, engine.roi_interval, f, by=by, n_boot=300, seed=3))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 300), st.integers(0, 30), st.floats(0, 1e6), st.integers(0, 2**32 - 1))
def test_bootstrap_interval_is_ordered(n: int, k: int, fixed: float, seed: int) -> None:
    k = min(k, n)
    rng = np.random.default_rng(seed)
    sample = stats.RoiSample(n, fixed, rng.uniform(0, 1e4, k), rng.uniform(0, 1e3, k))
    lo, hi, _ = stats.roi_bootstrap(sample, 200, seed)
    assert (lo is None and hi is None) or lo <= hi

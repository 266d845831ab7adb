"""Forecast core on synthetic series: trend and seasonality recovered, interval coverage over many seeds,
fall-backs with their reasons, no negative counts, backtest, ROI by simulation, complete periods."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from metrics import forecast as fc


def monthly(values: np.ndarray | list[float], start: str = "2021-01-01") -> pd.Series:
    """A monthly series starting at `start`."""
    return pd.Series(np.asarray(values, dtype=float), index=pd.date_range(start, periods=len(values), freq="MS"))


def seasonal_truth(n: int, slope: float = 1.5, amp: float = 30.0) -> np.ndarray:
    """Level 200, linear trend, sine seasonality of 12 periods (noise-free)."""
    t = np.arange(n)
    return 200 + slope * t + amp * np.sin(2 * np.pi * t / 12)


# ---------- the main model ----------


def test_trend_and_seasonality_are_recovered() -> None:
    rng = np.random.default_rng(3)
    truth = seasonal_truth(60)
    y = monthly(truth[:48] + rng.normal(0, 3, 48))
    res = fc.forecast_series(y, 12)
    assert (res.method, res.reason) == ("ets_seasonal", "seasonal")
    assert res.season_p is not None and res.season_p < 0.001
    err = np.abs(res.frame["mean"].to_numpy() - truth[48:])
    assert err.mean() < 8, err                          # seasonal swing is ±30: the shape is followed
    mean = res.frame["mean"].to_numpy()
    assert np.corrcoef(mean, truth[48:])[0, 1] > 0.95                       # the seasonal shape
    assert np.ptp(mean) == pytest.approx(np.ptp(truth[48:]), rel=0.2)       # and its size
    assert mean[-1] - mean[0] == pytest.approx(truth[-1] - truth[48], abs=12)   # the trend goes on
    assert list(res.frame.index) == list(pd.date_range("2025-01-01", periods=12, freq="MS"))
    assert (res.frame["lo95"] <= res.frame["lo80"]).all() and (res.frame["lo80"] <= res.frame["mean"]).all()
    assert (res.frame["mean"] <= res.frame["hi80"]).all() and (res.frame["hi80"] <= res.frame["hi95"]).all()


def test_95_and_80_percent_intervals_cover_at_about_the_stated_rate() -> None:
    hits95, hits80 = [], []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        full = seasonal_truth(54) + rng.normal(0, 5, 54)
        res = fc.forecast_series(monthly(full[:48]), 6, backtest=False, n_paths=400, seed=seed)
        actual = full[48:]
        hits95.append(np.mean((actual >= res.frame["lo95"]) & (actual <= res.frame["hi95"])))
        hits80.append(np.mean((actual >= res.frame["lo80"]) & (actual <= res.frame["hi80"])))
    assert 0.90 <= np.mean(hits95) <= 0.99, np.mean(hits95)
    assert 0.72 <= np.mean(hits80) <= 0.90, np.mean(hits80)


def test_weekly_series_gets_weekly_dates() -> None:
    idx = pd.date_range("2024-01-01", periods=30, freq="W-MON")
    y = pd.Series(50 + np.arange(30) * 0.5 + np.random.default_rng(1).normal(0, 2, 30), index=idx)
    res = fc.forecast_series(y, 4, "week")
    assert res.reason == "short_for_season" and res.reason_args["need"] == 104
    assert list(res.frame.index) == list(pd.date_range(idx[-1] + pd.Timedelta(days=7), periods=4, freq="W-MON"))


# ---------- fall-backs ----------


@pytest.mark.parametrize(("values", "method", "reason"), [
    ([], "none", "empty"),
    ([5.0], "mean", "too_short"),
    ([3, 4, 6, 5], "mean", "too_short"),
    ([7.0] * 20, "constant", "constant"),
    ([0.0] * 20, "constant", "constant"),
    ([0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0], "mean", "sparse"),
    (list(np.arange(1, 19) + np.tile([0.3, -0.2], 9)), "ets_damped", "short_for_season"),
])
def test_fallbacks_say_why(values: list[float], method: str, reason: str) -> None:
    res = fc.forecast_series(monthly(values), 3)
    assert (res.method, res.reason) == (method, reason)
    assert len(res.frame) == 3
    text = fc.REASON_TEXT["ru"][res.reason].format(**res.reason_args)
    assert text and "{" not in text
    assert fc.REASON_TEXT["en"][res.reason].format(**res.reason_args)


def test_no_seasonality_when_the_test_finds_none() -> None:
    rng = np.random.default_rng(5)
    res = fc.forecast_series(monthly(100 + np.cumsum(rng.normal(0, 3, 36))), 3)
    assert (res.method, res.reason) == ("ets_damped", "no_seasonality")
    assert res.season_p is not None and res.season_p >= fc.SEASON_ALPHA


def test_constant_series_has_no_spread_and_empty_has_no_numbers() -> None:
    res = fc.forecast_series(monthly([4.0] * 12), 2)
    assert (res.frame == 4.0).all().all()
    assert res.total() == {"mean": 8.0, "lo80": 8.0, "hi80": 8.0, "lo95": 8.0, "hi95": 8.0}
    empty = fc.forecast_series(monthly([]), 2)
    assert empty.frame.isna().all().all() and np.isnan(empty.total()["mean"])


def test_single_point_has_a_forecast_but_no_interval() -> None:
    res = fc.forecast_series(monthly([9.0]), 2)
    assert list(res.frame["mean"]) == [9.0, 9.0] and res.frame["lo95"].isna().all()


def test_counts_never_go_negative() -> None:
    falling = monthly([60, 52, 45, 37, 30, 24, 17, 12, 8, 5, 3, 1, 0, 0])
    res = fc.forecast_series(falling, 6)
    assert (res.frame >= 0).all().all()
    assert (res.paths >= 0).all()
    unclipped = fc.forecast_series(falling, 6, nonneg=False)
    assert (unclipped.frame["lo95"] < 0).any(), "without clipping the same model would go below zero"


def test_inner_gaps_are_interpolated_and_edges_dropped() -> None:
    y = monthly([np.nan, 1, 2, np.nan, 4, np.nan])
    assert list(fc.clean(y)) == [1.0, 2.0, 3.0, 4.0]


def test_bad_arguments_say_what_to_change() -> None:
    with pytest.raises(fc.ForecastError, match="month or week"):
        fc.forecast_series(monthly([1, 2, 3]), 2, "day")  # type: ignore[arg-type]
    with pytest.raises(fc.ForecastError, match="at least one"):
        fc.forecast_series(monthly([1, 2, 3]), 0)


# ---------- backtest ----------


def test_backtest_holds_out_the_horizon_but_at_most_a_quarter() -> None:
    assert fc.backtest_k(48, 6) == 6 and fc.backtest_k(12, 6) == 3 and fc.backtest_k(3, 6) == 0
    rng = np.random.default_rng(2)
    y = monthly(seasonal_truth(48) + rng.normal(0, 5, 48))
    bt = fc.forecast_series(y, 6).backtest
    assert bt is not None and bt.k == 6 and bt.method == "ets_seasonal"
    assert list(bt.actual.index) == list(y.index[-6:])
    assert bt.mae == pytest.approx(float((bt.actual - bt.predicted).abs().mean()))
    assert bt.mape == pytest.approx(float(((bt.actual - bt.predicted).abs() / bt.actual).mean()))
    assert 0 < bt.mae < 20 and bt.coverage is not None


def test_backtest_of_a_constant_is_exact_and_of_zeros_has_no_mape() -> None:
    bt = fc.forecast_series(monthly([5.0] * 16), 3).backtest
    assert bt is not None and bt.mae == 0 and bt.mape == 0
    zeros = fc.forecast_series(monthly([0.0] * 16), 3).backtest
    assert zeros is not None and zeros.mape is None


def test_results_are_reproducible() -> None:
    y = monthly(seasonal_truth(30) + np.random.default_rng(8).normal(0, 4, 30))
    a, b = fc.forecast_series(y, 4), fc.forecast_series(y, 4)
    pd.testing.assert_frame_equal(a.frame, b.frame)


# ---------- ROI ----------


def test_roi_is_income_minus_costs_over_costs_with_a_simulated_interval() -> None:
    rng = np.random.default_rng(4)
    income = fc.forecast_series(monthly(3000 + rng.normal(0, 100, 30)), 3)
    costs = fc.forecast_series(monthly(1000 + rng.normal(0, 30, 30)), 3, seed=fc.SEED + 1)
    roi = fc.ratio_forecast(income, costs)
    expected = (income.frame["mean"] - costs.frame["mean"]) / costs.frame["mean"]
    np.testing.assert_allclose(roi.frame["mean"], expected)
    assert ((roi.frame["lo95"] < roi.frame["mean"]) & (roi.frame["mean"] < roi.frame["hi95"])).all()
    assert roi.frame["mean"].between(1.5, 2.5).all()
    total = roi.total()
    assert total["mean"] == pytest.approx((income.frame["mean"].sum() - costs.frame["mean"].sum())
                                          / costs.frame["mean"].sum())
    assert total["lo95"] < total["mean"] < total["hi95"]
    assert roi.method == "ratio" and set(roi.components) == {"income", "costs"}
    assert roi.backtest is not None and roi.backtest.mape is None and roi.backtest.mae >= 0


def test_roi_without_costs_is_undefined() -> None:
    income = fc.forecast_series(monthly(np.linspace(100, 200, 14)), 2)
    costs = fc.forecast_series(monthly([0.0] * 14), 2)
    roi = fc.ratio_forecast(income, costs)
    assert roi.reason == "no_costs" and roi.frame.isna().all().all()


def test_long_table_for_charts() -> None:
    res = fc.forecast_series(monthly([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 2)
    long = fc.to_long(res, "x")
    assert list(long["kind"]) == ["history"] * 10 + ["forecast"] * 2
    assert set(long.columns) >= {"period", "label", "value", "lo80", "hi80", "lo95", "hi95"}


# ---------- periods ----------


def test_complete_periods_drop_cut_months_and_weeks() -> None:
    assert fc.complete_periods(date(2025, 1, 15), date(2025, 6, 10), "month") == (date(2025, 2, 1), date(2025, 5, 1))
    assert fc.complete_periods(date(2025, 1, 1), date(2025, 6, 30), "month") == (date(2025, 1, 1), date(2025, 6, 1))
    assert fc.complete_periods(date(2025, 12, 1), date(2025, 12, 31), "month") == (date(2025, 12, 1),) * 2
    assert fc.complete_periods(date(2025, 1, 15), date(2025, 1, 20), "month") is None
    # 2025-06-02 is a Monday; the week of Sunday 2025-06-15 is complete, the one of Wednesday 06-18 is not
    assert fc.complete_periods(date(2025, 6, 2), date(2025, 6, 15), "week") == (date(2025, 6, 2), date(2025, 6, 9))
    assert fc.complete_periods(date(2025, 6, 3), date(2025, 6, 18), "week") == (date(2025, 6, 9), date(2025, 6, 9))

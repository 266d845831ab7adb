"""Forecasting one series (pure: a pandas Series of equally spaced periods in, no database): the forecast table with
80 %/95 % prediction intervals, the method and why it was chosen, the backtest; ROI as a ratio of two forecasts."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from metrics.forecast_backtest import Backtest, ratio_backtest, run_backtest
from metrics.forecast_methods import (
    LEVELS,
    MIN_TREND,
    N_PATHS,
    PANDAS_FREQ,
    SEASON,
    SEED,
    Freq,
    bound_names,
    fit_paths,
    interval_frame,
    roi_ratio,
)

# Why a method was chosen. Placeholders: {n} periods of history, {m} season length, {need} periods needed,
# {p} p-value of the seasonality test.
REASON_TEXT: dict[str, dict[str, str]] = {
    "ru": {
        "seasonal": "Модель с трендом и сезонностью (период {m}) по {n} периодам истории.",
        "short_for_season": "История короче двух полных сезонов ({n} из {need} периодов): сезонность не учитывается,"
                            " модель с затухающим трендом.",
        "no_seasonality": "Сезонность за {n} периодов статистически не видна (p = {p}): модель с затухающим"
                          " трендом без сезонности.",
        "too_short": "Слишком короткая история ({n} периодов, нужно не меньше {need}): прогноз — среднее"
                     " с эмпирическим интервалом.",
        "sparse": "В большинстве периодов нулевые значения: тренд не оценить, прогноз — среднее"
                  " с эмпирическим интервалом.",
        "constant": "Значение не менялось за {n} периодов: прогноз — то же значение, разброса нет.",
        "fit_failed": "Модель с трендом не сошлась: использован упрощённый прогноз (сезонный наивный или среднее).",
        "empty": "Нет истории для прогноза.",
        "no_costs": "Затрат в истории нет: ROI не определён.",
    },
    "en": {
        "seasonal": "Trend and seasonality model (period {m}) fitted on {n} periods of history.",
        "short_for_season": "History is shorter than two full seasons ({n} of {need} periods): no seasonality,"
                            " damped-trend model.",
        "no_seasonality": "No significant seasonality in {n} periods (p = {p}): damped-trend model without"
                          " seasonality.",
        "too_short": "History is too short ({n} periods, at least {need} needed): forecast is the mean"
                     " with an empirical interval.",
        "sparse": "Most periods are zero: no trend can be estimated, forecast is the mean with an empirical interval.",
        "constant": "The value did not change over {n} periods: forecast is that value, no spread.",
        "fit_failed": "The trend model did not converge: a simpler forecast is used (seasonal naive or the mean).",
        "empty": "No history to forecast from.",
        "no_costs": "No costs in the history: ROI is undefined.",
    },
}


class ForecastError(ValueError):
    """An argument of a forecast is invalid; the message says what to change."""


@dataclass(frozen=True, eq=False)
class ForecastResult:
    """History, forecast table (mean, lo80, hi80, lo95, hi95 by period), method, reason and backtest."""

    history: pd.Series
    frame: pd.DataFrame
    method: str               # ets_seasonal | ets_damped | seasonal_naive | mean | constant | none | ratio
    reason: str               # a key of REASON_TEXT
    freq: str
    levels: tuple[float, ...]
    backtest: Backtest | None
    paths: np.ndarray = field(repr=False)   # (n_paths, horizon) simulated futures
    components: dict[str, ForecastResult] = field(default_factory=dict, repr=False)
    season_p: float | None = None           # p-value of the seasonality test, when it ran

    @property
    def reason_args(self) -> dict[str, object]:
        """Placeholders for REASON_TEXT[lang][reason]."""
        m = SEASON.get(self.freq, 12)
        need = 2 * m if self.reason == "short_for_season" else MIN_TREND
        p = "—" if self.season_p is None else f"{self.season_p:.2f}"
        return {"n": len(self.history), "m": m, "need": need, "p": p}

    def total(self) -> dict[str, float]:
        """Whole horizon: the sum (a ratio's total for ROI), with interval bounds from the summed paths."""
        if self.method == "ratio":
            income, costs = self.components["income"], self.components["costs"]
            inc, cost = income.paths.sum(axis=1), costs.paths.sum(axis=1)
            mean_cost = costs.frame["mean"].sum()
            mean = (income.frame["mean"].sum() - mean_cost) / mean_cost if mean_cost > 0 else float("nan")
            return _summarise(mean, roi_ratio(inc, cost), self.levels)
        mean = self.frame["mean"].sum(min_count=1)
        return _summarise(mean, self.paths.sum(axis=1) if self.paths.size else self.paths,
                          self.levels)


def _summarise(mean: float, sums: np.ndarray, levels: tuple[float, ...]) -> dict[str, float]:
    out = {"mean": float(mean)}
    for level in levels:
        lo, hi = bound_names(level)
        if sums.size and np.isfinite(sums).any():
            out[lo], out[hi] = (float(v) for v in np.nanquantile(sums, [(1 - level) / 2, (1 + level) / 2]))
        else:
            out[lo] = out[hi] = float("nan")
    return out


def clean(y: pd.Series) -> pd.Series:
    """Float series without leading/trailing gaps; inner gaps filled by linear interpolation."""
    y = pd.Series(y, dtype=float).sort_index()
    valid = y.notna().to_numpy()
    if not valid.any():
        return y.iloc[:0]
    first, last = int(np.argmax(valid)), len(y) - int(np.argmax(valid[::-1]))
    return y.iloc[first:last].interpolate(limit_area="inside")


def future_index(history: pd.Series, horizon: int, freq: str) -> pd.Index:
    """Index of the next ``horizon`` periods after the history (dates when the history has dates)."""
    idx = history.index
    if isinstance(idx, pd.DatetimeIndex) and len(idx):
        start = idx[-1] + pd.tseries.frequencies.to_offset(PANDAS_FREQ[freq])
        return pd.date_range(start, periods=horizon, freq=PANDAS_FREQ[freq])
    start = int(idx[-1]) + 1 if len(idx) else 0
    return pd.RangeIndex(start, start + horizon)


def forecast_series(y: pd.Series, horizon: int, freq: Freq = "month", levels: tuple[float, ...] = LEVELS,
                    nonneg: bool = True, backtest: bool = True, seed: int = SEED,
                    n_paths: int = N_PATHS) -> ForecastResult:
    """Forecast ``horizon`` periods of a series with prediction intervals, fall-back reason and backtest."""
    if freq not in SEASON:
        raise ForecastError(f"Unknown frequency {freq!r}: use month or week.")
    if horizon < 1:
        raise ForecastError(f"The horizon must be at least one period, got {horizon}.")
    y = clean(y)
    fit = fit_paths(y.to_numpy(), horizon, freq, nonneg, seed, n_paths)
    frame = interval_frame(future_index(y, horizon, freq), fit.mean, fit.paths, levels)
    bt = run_backtest(y, horizon, freq, levels, nonneg, seed, n_paths) if backtest else None
    return ForecastResult(y, frame, fit.method, fit.reason, freq, levels, bt, fit.paths, season_p=fit.season_p)


def ratio_forecast(income: ForecastResult, costs: ForecastResult, actual: pd.Series | None = None) -> ForecastResult:
    """ROI = (income - costs) / costs per future period, its interval from the simulated paths of both.

    The two forecasts are simulated independently; costs that move with revenue (commissions) make the
    true interval somewhat narrower than this one.
    """
    if actual is None:
        actual = pd.Series(roi_ratio(income.history.to_numpy(), costs.history.to_numpy()), index=income.history.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(costs.frame["mean"] > 0,
                        (income.frame["mean"] - costs.frame["mean"]) / costs.frame["mean"], np.nan)
    paths = roi_ratio(income.paths, costs.paths)
    frame = interval_frame(income.frame.index, mean, paths, income.levels)
    undefined = np.isnan(paths).mean(axis=0) > (1 - max(income.levels)) / 2
    frame.loc[undefined, [c for c in frame.columns if c != "mean"]] = np.nan
    no_costs = costs.history.empty or bool((costs.history <= 0).all())
    reason = "no_costs" if no_costs else (costs.reason if costs.reason != "seasonal" else income.reason)
    return ForecastResult(actual, frame, "ratio", reason, income.freq, income.levels,
                          ratio_backtest(income.backtest, costs.backtest, actual), paths, {"income": income, "costs": costs})


def to_long(result: ForecastResult, label: str = "") -> pd.DataFrame:
    """History and forecast in one table for charts: period, label, kind (history|forecast), value, bounds."""
    hist = pd.DataFrame({"period": result.history.index, "value": result.history.to_numpy(), "kind": "history"})
    fut = result.frame.reset_index(names="period").rename(columns={"mean": "value"})
    fut["kind"] = "forecast"
    out = pd.concat([hist, fut], ignore_index=True)
    out.insert(1, "label", label)
    return out

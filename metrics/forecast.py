"""Forecasts of leads, deals, revenue, costs and ROI with 80 %/95 % prediction intervals, fall-backs and a backtest.

The core is pure: ``forecast_series(y, horizon, freq)`` on a pandas Series of equally spaced periods.
Model choice (see docs/forecast.md):

* at least two full seasons (24 months / 104 weeks) and a significant seasonal effect (F-test) ->
  ETS(A, Ad, A): additive errors, damped trend, seasonality;
* at least ``MIN_TREND`` periods -> ETS(A, Ad, N): damped trend, no seasonality;
* fewer periods, mostly zeros or a failed fit -> seasonal naive (one full season known) or the mean,
  with empirical (bootstrap) intervals;
* a constant series -> that constant, no spread.

Every model yields simulated sample paths; intervals are their quantiles, so sums over the horizon
and ratios (ROI) get intervals the same way. Non-negative metrics are clipped at 0 path by path.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from typing import Literal

import duckdb
import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from threadpoolctl import ThreadpoolController

from metrics import engine, lookups, sql
from metrics.filters import Filters

Freq = Literal["month", "week"]
SEASON: dict[str, int] = {"month": 12, "week": 52}
PANDAS_FREQ: dict[str, str] = {"month": "MS", "week": "W-MON"}
LEVELS: tuple[float, ...] = (0.8, 0.95)
METRICS = ("leads", "won_deals", "revenue", "costs", "roi")
BY = ("total", "model", "partner")
MAX_HORIZON: dict[str, int] = {"month": 12, "week": 26}
TOP_GROUPS = 6
MIN_TREND = 8          # periods needed to fit a damped-trend model
HEURISTIC_MIN = 10     # periods from which initial states are set by the heuristic (fast, as well calibrated)
MIN_BOOTSTRAP = 12     # residuals needed to resample them instead of assuming a normal spread
SPARSE_SHARE = 0.5     # more zero periods than this -> the series is too sparse for a trend model
SEASON_ALPHA = 0.05    # seasonality is modelled only when the period-of-season effect is this significant
N_PATHS = 2000
SEED = 7

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


@dataclass(frozen=True)
class Backtest:
    """Errors of the same procedure refitted without the last k periods and compared with them."""

    k: int
    mae: float
    mape: float | None        # mean |error| / |actual| over non-zero actuals; None when all are zero
    coverage: float | None    # share of held-out actuals inside the widest interval
    method: str
    predicted: pd.Series      # forecast of the held-out periods
    actual: pd.Series


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
            return _summarise(mean, _roi(inc, cost), self.levels)
        mean = self.frame["mean"].sum(min_count=1)
        return _summarise(mean, self.paths.sum(axis=1) if self.paths.size else self.paths,
                          self.levels)


@dataclass(frozen=True)
class _Fit:
    method: str
    reason: str
    mean: np.ndarray
    paths: np.ndarray
    season_p: float | None = None


def bound_names(level: float) -> tuple[str, str]:
    """Column names of the lower and upper bound of one level: 0.8 -> (lo80, hi80)."""
    pct = round(level * 100)
    return f"lo{pct}", f"hi{pct}"


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


def seasonality_pvalue(y: np.ndarray, m: int) -> float:
    """p-value of an F-test: do period-of-season dummies improve a linear-trend fit? (1.0 when untestable)."""
    n = len(y)
    if n < m + 3:
        return 1.0
    t = np.arange(n, dtype=float)
    base = np.column_stack([np.ones(n), t])
    full = np.column_stack([base, np.eye(m)[np.arange(n) % m][:, 1:]])
    rss = [float(np.sum((y - x @ np.linalg.lstsq(x, y, rcond=None)[0]) ** 2)) for x in (base, full)]
    df1, df2 = m - 1, n - full.shape[1]
    if rss[1] <= 1e-12 * max(rss[0], 1e-300):
        return 0.0 if rss[0] > 0 else 1.0
    return float(stats.f.sf(((rss[0] - rss[1]) / df1) / (rss[1] / df2), df1, df2))


def choose_method(y: np.ndarray, m: int) -> tuple[str, str, float | None]:
    """(method, reason, seasonality p-value) the data allow, before any fitting."""
    n = len(y)
    if n == 0:
        return "none", "empty", None
    if n > 1 and np.ptp(y) == 0:
        return "constant", "constant", None
    if n < MIN_TREND:
        return "mean", "too_short", None
    if np.mean(y == 0) > SPARSE_SHARE:
        return "mean", "sparse", None
    if n < 2 * m:
        return "ets_damped", "short_for_season", None
    p = seasonality_pvalue(y, m)
    if p >= SEASON_ALPHA:
        return "ets_damped", "no_seasonality", p
    return "ets_seasonal", "seasonal", p


def _ets(y: np.ndarray, h: int, m: int, seasonal: bool, rng: np.random.Generator, n_paths: int) -> _Fit:
    """ETS(A, Ad, A|N) on the standardised series; raises when the fit is unusable.

    statsmodels estimates the error variance as SSE / n; like R's forecast::ets we divide by n minus the
    number of fitted parameters (smoothing, damping and initial states), else short histories get
    intervals that are far too narrow.
    """
    centre, scale = float(np.mean(y)), float(np.std(y)) or 1.0
    model = ETSModel((y - centre) / scale, error="add", trend="add", damped_trend=True,
                     seasonal="add" if seasonal else None, seasonal_periods=m if seasonal else None,
                     initialization_method="heuristic" if seasonal or len(y) >= HEURISTIC_MIN else "estimated")
    n_params = 3 + 2 + (1 + m - 1 if seasonal else 0)
    if len(y) <= n_params:
        raise ValueError("too few observations for the model's parameters")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit(disp=False)
        sigma = float(np.sqrt(res.sse / (len(y) - n_params)))
        errors = rng.standard_normal((h, n_paths)) * sigma
        mean = np.asarray(res.forecast(h), dtype=float)
        paths = np.asarray(res.simulate(h, anchor="end", repetitions=n_paths, random_errors=errors), dtype=float)
    mean, paths = centre + mean * scale, centre + paths.reshape(h, n_paths).T * scale
    if not (np.isfinite(mean).all() and np.isfinite(paths).all()):
        raise FloatingPointError("ETS produced non-finite values")
    return _Fit("ets_seasonal" if seasonal else "ets_damped", "", mean, paths)


def _noise(resid: np.ndarray, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Draws of future errors: resampled residuals when there are enough, else a t-scaled normal."""
    resid = resid[np.isfinite(resid)]
    if len(resid) >= MIN_BOOTSTRAP:
        return rng.choice(resid - resid.mean(), size=shape, replace=True)
    if len(resid) < 2:
        return np.full(shape, np.nan)
    sd = float(np.std(resid, ddof=1))
    return sd * rng.standard_t(df=len(resid) - 1, size=shape)


def _mean_model(y: np.ndarray, h: int, rng: np.random.Generator, n_paths: int) -> _Fit:
    """Mean of the history; a future period drawn like a past one (bootstrap), widened for the mean's error."""
    n, mu = len(y), float(np.mean(y))
    paths = mu + _noise(y - mu, (n_paths, h), rng) * np.sqrt(1 + 1 / n)
    return _Fit("mean", "", np.full(h, mu), paths)


def _seasonal_naive(y: np.ndarray, h: int, m: int, rng: np.random.Generator, n_paths: int) -> _Fit:
    """Same period one season ago; errors from past seasonal differences, growing with seasons ahead."""
    steps = np.arange(h)
    mean = y[len(y) - m + steps % m]
    seasons_ahead = steps // m + 1
    noise = _noise(y[m:] - y[:-m], (n_paths, h), rng)
    return _Fit("seasonal_naive", "", mean, mean + noise * np.sqrt(seasons_ahead))


def _fit_chain(y: np.ndarray, h: int, m: int, rng: np.random.Generator, n_paths: int) -> _Fit:
    """Fit the richest method the data allow, falling back step by step when a fit fails."""
    method, reason, p = choose_method(y, m)
    if method == "none":
        return _Fit(method, reason, np.full(h, np.nan), np.full((n_paths, h), np.nan))
    if method == "constant":
        return _Fit(method, reason, np.full(h, y[-1]), np.full((n_paths, h), y[-1]))
    if method.startswith("ets"):
        for seasonal in ((True, False) if method == "ets_seasonal" else (False,)):
            try:
                fit = _ets(y, h, m, seasonal, rng, n_paths)
            except (ValueError, np.linalg.LinAlgError, FloatingPointError):
                continue
            ok = seasonal == (method == "ets_seasonal")
            return _Fit(fit.method, reason if ok else "fit_failed", fit.mean, fit.paths, p)
        reason = "fit_failed"
        if len(y) >= m + 2:
            fit = _seasonal_naive(y, h, m, rng, n_paths)
            return _Fit(fit.method, reason, fit.mean, fit.paths, p)
    fit = _mean_model(y, h, rng, n_paths)
    return _Fit(fit.method, reason, fit.mean, fit.paths, p)


def _frame(index: pd.Index, mean: np.ndarray, paths: np.ndarray, levels: tuple[float, ...]) -> pd.DataFrame:
    """Forecast table: mean and interval bounds per future period."""
    data: dict[str, np.ndarray] = {"mean": mean}
    some = np.isfinite(paths).any(axis=0)
    for level in levels:
        lo, hi = bound_names(level)
        q = np.full((2, paths.shape[1]), np.nan)
        if some.any():
            q[:, some] = np.nanquantile(paths[:, some], [(1 - level) / 2, (1 + level) / 2], axis=0)
        data[lo], data[hi] = q[0], q[1]
    return pd.DataFrame(data, index=index)


@cache
def _blas() -> ThreadpoolController:
    """The BLAS libraries' thread pools (found once; looking them up costs ~20 ms)."""
    return ThreadpoolController()


def _run(y: np.ndarray, h: int, freq: str, nonneg: bool, seed: int, n_paths: int) -> _Fit:
    """Fit with a fixed seed and clip to non-negative values when asked.

    The optimiser makes hundreds of tiny BLAS calls; OpenBLAS threads spinning between them made fits
    3-5x slower on a busy two-core machine, so fits run with one BLAS thread.
    """
    with _blas().limit(limits=1, user_api="blas"):
        fit = _fit_chain(y, h, SEASON[freq], np.random.default_rng(seed), n_paths)
    if not nonneg:
        return fit
    return _Fit(fit.method, fit.reason, np.clip(fit.mean, 0, None), np.clip(fit.paths, 0, None), fit.season_p)


def backtest_k(n: int, horizon: int) -> int:
    """Periods held out for the backtest: the horizon, but at most a quarter of the history."""
    return min(horizon, n // 4)


def run_backtest(y: pd.Series, horizon: int, freq: str, levels: tuple[float, ...] = LEVELS,
                 nonneg: bool = True, seed: int = SEED, n_paths: int = N_PATHS) -> Backtest | None:
    """Refit without the last k periods, forecast them, and measure MAE, MAPE and interval coverage."""
    k = backtest_k(len(y), horizon)
    if k < 1 or len(y) - k < 3:
        return None
    train, actual = y.iloc[:-k], y.iloc[-k:]
    fit = _run(train.to_numpy(), k, freq, nonneg, seed, n_paths)
    predicted = pd.Series(fit.mean, index=actual.index)
    err = (actual - predicted).abs()
    nonzero = actual != 0
    mape = float((err[nonzero] / actual[nonzero].abs()).mean()) if nonzero.any() else None
    band = _frame(actual.index, fit.mean, fit.paths, (max(levels),))
    lo, hi = bound_names(max(levels))
    coverage = float(((actual >= band[lo]) & (actual <= band[hi])).mean()) if band[lo].notna().all() else None
    return Backtest(k, float(err.mean()), mape, coverage, fit.method, predicted, actual)


def forecast_series(y: pd.Series, horizon: int, freq: Freq = "month", levels: tuple[float, ...] = LEVELS,
                    nonneg: bool = True, backtest: bool = True, seed: int = SEED,
                    n_paths: int = N_PATHS) -> ForecastResult:
    """Forecast ``horizon`` periods of a series with prediction intervals, fall-back reason and backtest."""
    if freq not in SEASON:
        raise ForecastError(f"Unknown frequency {freq!r}: use month or week.")
    if horizon < 1:
        raise ForecastError(f"The horizon must be at least one period, got {horizon}.")
    y = clean(y)
    fit = _run(y.to_numpy(), horizon, freq, nonneg, seed, n_paths)
    frame = _frame(future_index(y, horizon, freq), fit.mean, fit.paths, levels)
    bt = run_backtest(y, horizon, freq, levels, nonneg, seed, n_paths) if backtest else None
    return ForecastResult(y, frame, fit.method, fit.reason, freq, levels, bt, fit.paths, season_p=fit.season_p)


def _roi(income: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """(income - costs) / costs element-wise; undefined (NaN) where costs are not positive."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(costs > 0, (income - costs) / costs, np.nan)


def _ratio_backtest(income: ForecastResult, costs: ForecastResult, actual: pd.Series) -> Backtest | None:
    """ROI backtest from the income and costs backtests: MAE in ROI units (MAPE is meaningless near 0)."""
    bi, bc = income.backtest, costs.backtest
    if bi is None or bc is None:
        return None
    predicted = pd.Series(_roi(bi.predicted.to_numpy(), bc.predicted.to_numpy()), index=bi.predicted.index)
    held = actual.reindex(predicted.index)
    err = (held - predicted).abs().dropna()
    if err.empty:
        return None
    return Backtest(bi.k, float(err.mean()), None, None, f"{bi.method}/{bc.method}", predicted, held)


def ratio_forecast(income: ForecastResult, costs: ForecastResult, actual: pd.Series | None = None) -> ForecastResult:
    """ROI = (income - costs) / costs per future period, its interval from the simulated paths of both.

    The two forecasts are simulated independently; costs that move with revenue (commissions) make the
    true interval somewhat narrower than this one.
    """
    if actual is None:
        actual = pd.Series(_roi(income.history.to_numpy(), costs.history.to_numpy()), index=income.history.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(costs.frame["mean"] > 0,
                        (income.frame["mean"] - costs.frame["mean"]) / costs.frame["mean"], np.nan)
    paths = _roi(income.paths, costs.paths)
    frame = _frame(income.frame.index, mean, paths, income.levels)
    undefined = np.isnan(paths).mean(axis=0) > (1 - max(income.levels)) / 2
    frame.loc[undefined, [c for c in frame.columns if c != "mean"]] = np.nan
    no_costs = costs.history.empty or bool((costs.history <= 0).all())
    reason = "no_costs" if no_costs else (costs.reason if costs.reason != "seasonal" else income.reason)
    return ForecastResult(actual, frame, "ratio", reason, income.freq, income.levels,
                          _ratio_backtest(income, costs, actual), paths, {"income": income, "costs": costs})


def to_long(result: ForecastResult, label: str = "") -> pd.DataFrame:
    """History and forecast in one table for charts: period, label, kind (history|forecast), value, bounds."""
    hist = pd.DataFrame({"period": result.history.index, "value": result.history.to_numpy(), "kind": "history"})
    fut = result.frame.reset_index(names="period").rename(columns={"mean": "value"})
    fut["kind"] = "forecast"
    out = pd.concat([hist, fut], ignore_index=True)
    out.insert(1, "label", label)
    return out


# ---------------------------------------------------------------- database-facing wrappers

def period_start(d: date, freq: str) -> date:
    """First day of the month or ISO week (Monday) containing d."""
    return d.replace(day=1) if freq == "month" else d - timedelta(days=d.weekday())


def next_period(d: date, freq: str) -> date:
    """Start of the period after the one starting at d."""
    if freq == "week":
        return d + timedelta(days=7)
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def complete_periods(start: date, end: date, freq: str) -> tuple[date, date] | None:
    """(first, last) starts of the periods lying wholly inside [start, end]; None when there is none.

    A period cut by the start or end (the current month, a first month that began mid-way) would read
    as a sudden drop, so it is left out of the history.
    """
    first = period_start(start, freq)
    if first < start:
        first = next_period(first, freq)
    last = period_start(end, freq)
    if next_period(last, freq) - timedelta(days=1) > end:
        last = period_start(last - timedelta(days=1), freq)
    return (first, last) if first <= last else None


def _check(metric: str, by: str, freq: str, horizon: int | None = None) -> None:
    """Raise ForecastError naming the invalid argument."""
    if metric not in METRICS:
        raise ForecastError(f"Unknown metric {metric!r}: use {', '.join(METRICS)}.")
    if by not in BY:
        raise ForecastError(f"Unknown grouping {by!r}: use {', '.join(BY)}.")
    if freq not in SEASON:
        raise ForecastError(f"Unknown frequency {freq!r}: use month or week.")
    if horizon is not None and not 1 <= horizon <= MAX_HORIZON[freq]:
        raise ForecastError(f"The horizon must be 1–{MAX_HORIZON[freq]} periods for {freq}, got {horizon}.")


def history_window(con: duckdb.DuckDBPyConnection, f: Filters, freq: str,
                   full_history: bool = True) -> tuple[date, date] | None:
    """Complete periods the history covers: from the first lead (or the period start) to the period end."""
    lo, hi = lookups.data_range(con)
    if lo is None or hi is None:
        return None
    start = lo if full_history else max(f.date_from, lo)
    return complete_periods(start, min(f.date_to, hi), freq)


def panel(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "total", freq: str = "month",
          full_history: bool = True, costs: bool = True) -> pd.DataFrame:
    """One row per complete period x group: leads, won_deals, revenue (+ income, costs) — missing = 0.

    Deals, revenue and commissions are dated by the close date whatever the filter's view: cohorts of
    recent months are still maturing and would bend every forecast down. Columns: period (Timestamp),
    group (total | model | partner_id as text), label (partner name or the group), and the metrics.
    Income and costs come from the KPI engine (ledger, commission rules, margins); without them
    (costs=False) one lean query over lead_facts gives the counts and revenue.
    """
    _check("leads", by, freq)
    cols = ["period", "group", "label", "leads", "won_deals", "revenue", *(["income", "costs"] if costs else [])]
    window = history_window(con, f, freq, full_history)
    if window is None:
        return pd.DataFrame(columns=cols)
    first, last = window
    scope = replace(f, date_from=first, date_to=next_period(last, freq) - timedelta(days=1), view="close")
    if costs:
        rows = _label_groups(engine.grouped(con, scope, (freq,) if by == "total" else (freq, by)), by)
    else:
        rows = _counts(con, scope, by, freq)
    grid = pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq=PANDAS_FREQ[freq])
    return _fill_grid(rows, grid, cols)


def _counts(con: duckdb.DuckDBPyConnection, f: Filters, by: str, freq: str) -> pd.DataFrame:
    """Leads (created), won deals and revenue (closed) per period and group, from lead_facts."""
    text = sql.load("forecast_counts")
    values = {"grain": freq, "by": by, "date_from": f.date_from, "date_to": f.date_to,
              "partners": [int(p) for p in f.partners], "models": list(f.models),
              "pipelines": [int(p) for p in f.pipelines], "sources": [str(s) for s in f.sources]}
    rows = con.execute(text, sql.params(text, values)).df().rename(columns={"group_key": "group"})
    rows["period"] = pd.to_datetime(rows["period"])
    rows["label"] = rows["label"].astype(str)
    return rows


def _label_groups(rows: pd.DataFrame, by: str) -> pd.DataFrame:
    """Add group and label columns for the grouping (direct leads have no partner and are left out)."""
    rows = rows.copy()
    if by == "partner":
        rows = rows[rows["partner_id"].notna()]
        rows["group"] = rows["partner_id"].astype("int64").astype(str)
        rows["label"] = rows["partner"].astype(str)
    elif by == "model":
        rows["group"] = rows["label"] = rows["model"].astype(str)
    else:
        rows["group"] = rows["label"] = "total"
    rows["period"] = pd.to_datetime(rows["period"])
    return rows


def _fill_grid(rows: pd.DataFrame, grid: pd.DatetimeIndex, cols: list[str]) -> pd.DataFrame:
    """Every group x every period of the grid, zeros where a group had nothing."""
    values = cols[3:]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    labels = rows.groupby("group")["label"].first()
    keys = pd.MultiIndex.from_product([labels.index, grid], names=["group", "period"])
    wide = (rows.groupby(["group", "period"])[values].sum().astype(float)
            .reindex(keys, fill_value=0.0).reset_index())
    wide["label"] = wide["group"].map(labels)
    return wide[cols]


def series_of(frame: pd.DataFrame, metric: str) -> pd.Series:
    """One group's metric as a series indexed by period, leading empty periods dropped.

    A partner that started later shows zeros before its first lead; those periods say nothing about it.
    For ROI the series is (income - costs) / costs, NaN where there were no costs.
    """
    frame = frame.sort_values("period").set_index("period")
    active = (frame[["income", "costs"]].sum(axis=1) if metric == "roi" else frame[metric]).to_numpy() != 0
    start = int(np.argmax(active)) if active.any() else len(frame)
    frame = frame.iloc[start:]
    if metric == "roi":
        return pd.Series(_roi(frame["income"].to_numpy(), frame["costs"].to_numpy()), index=frame.index)
    return frame[metric].astype(float).rename(metric)


def history(con: duckdb.DuckDBPyConnection, f: Filters, metric: str, by: str = "total", freq: str = "month",
            full_history: bool = True) -> pd.DataFrame:
    """History of one metric: period, group, label, value (complete periods only)."""
    _check(metric, by, freq)
    frame = panel(con, f, by, freq, full_history, costs=metric in ("costs", "roi"))
    out = []
    for (group, label), rows in frame.groupby(["group", "label"], sort=False):
        s = series_of(rows, metric)
        out.append(pd.DataFrame({"period": s.index, "group": group, "label": label, "value": s.to_numpy()}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=["period", "group", "label", "value"])


@dataclass(frozen=True)
class GroupForecast:
    """The forecast of one group (total, a model or a partner)."""

    group: str
    label: str
    result: ForecastResult


@dataclass(frozen=True)
class ForecastSet:
    """Forecasts of one metric for every shown group, with what the history covered."""

    metric: str
    by: str
    freq: str
    horizon: int
    groups: tuple[GroupForecast, ...]
    first: date | None          # first and last complete period of the history
    last: date | None
    hidden: int = 0             # groups left out (only the TOP_GROUPS largest are forecast)


def _top_groups(frame: pd.DataFrame, top: int) -> tuple[list[str], int]:
    """Groups ordered by leads in the history, the largest `top` kept; returns (kept, left out)."""
    volume = frame.groupby("group")["leads"].sum().sort_values(ascending=False, kind="stable")
    volume = volume[volume > 0] if (volume > 0).any() else volume
    return list(volume.index[:top]), max(len(volume) - top, 0)


def forecast_group(frame: pd.DataFrame, metric: str, freq: str, horizon: int,
                   levels: tuple[float, ...] = LEVELS) -> ForecastResult:
    """Forecast one group's metric from its panel rows (ROI from income and costs forecasts)."""
    if metric != "roi":
        return forecast_series(series_of(frame, metric), horizon, freq, levels)  # type: ignore[arg-type]
    rows = frame.set_index("period").loc[series_of(frame, "roi").index]
    income = forecast_series(rows["income"], horizon, freq, levels)  # type: ignore[arg-type]
    costs = forecast_series(rows["costs"], horizon, freq, levels, seed=SEED + 1)  # type: ignore[arg-type]
    return ratio_forecast(income, costs)


def forecast(con: duckdb.DuckDBPyConnection, f: Filters, metric: str, by: str = "total", freq: str = "month",
             horizon: int = 6, full_history: bool = True, top: int = TOP_GROUPS) -> ForecastSet:
    """Forecasts of a metric for the total, each model or the largest partners, from the database."""
    _check(metric, by, freq, horizon)
    frame = panel(con, f, by, freq, full_history, costs=metric in ("costs", "roi"))
    window = history_window(con, f, freq, full_history)
    if frame.empty or window is None:
        return ForecastSet(metric, by, freq, horizon, (), None, None)
    if by == "model":
        present = set(frame["group"])
        keep = [m for m in engine.MODEL_ORDER if m in present]
        hidden = 0
    else:
        keep, hidden = _top_groups(frame, top)
    groups = []
    for group in keep:
        rows = frame[frame["group"] == group]
        groups.append(GroupForecast(group, str(rows["label"].iloc[0]), forecast_group(rows, metric, freq, horizon)))
    return ForecastSet(metric, by, freq, horizon, tuple(groups), window[0], window[1], hidden)

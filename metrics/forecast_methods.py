"""The statistical methods of the forecasts: which method the data allow, the fits and their simulated paths.

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
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from threadpoolctl import ThreadpoolController

Freq = Literal["month", "week"]
SEASON: dict[str, int] = {"month": 12, "week": 52}
PANDAS_FREQ: dict[str, str] = {"month": "MS", "week": "W-MON"}
LEVELS: tuple[float, ...] = (0.8, 0.95)
MIN_TREND = 8          # periods needed to fit a damped-trend model
HEURISTIC_MIN = 10     # periods from which initial states are set by the heuristic (fast, as well calibrated)
MIN_BOOTSTRAP = 12     # residuals needed to resample them instead of assuming a normal spread
SPARSE_SHARE = 0.5     # more zero periods than this -> the series is too sparse for a trend model
SEASON_ALPHA = 0.05    # seasonality is modelled only when the period-of-season effect is this significant
N_PATHS = 2000
SEED = 7


@dataclass(frozen=True)
class Fit:
    """A fit: method, reason (a key of forecast_core.REASON_TEXT, set by _fit_chain), mean, paths (n_paths × h)."""

    method: str
    reason: str
    mean: np.ndarray
    paths: np.ndarray
    season_p: float | None = None


def bound_names(level: float) -> tuple[str, str]:
    """Column names of the lower and upper bound of one level: 0.8 -> (lo80, hi80)."""
    pct = round(level * 100)
    return f"lo{pct}", f"hi{pct}"


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


def _ets(y: np.ndarray, h: int, m: int, seasonal: bool, rng: np.random.Generator, n_paths: int) -> Fit:
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
    return Fit("ets_seasonal" if seasonal else "ets_damped", "", mean, paths)


def _noise(resid: np.ndarray, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Draws of future errors: resampled residuals when there are enough, else a t-scaled normal."""
    resid = resid[np.isfinite(resid)]
    if len(resid) >= MIN_BOOTSTRAP:
        return rng.choice(resid - resid.mean(), size=shape, replace=True)
    if len(resid) < 2:
        return np.full(shape, np.nan)
    sd = float(np.std(resid, ddof=1))
    return sd * rng.standard_t(df=len(resid) - 1, size=shape)


def _mean_model(y: np.ndarray, h: int, rng: np.random.Generator, n_paths: int) -> Fit:
    """Mean of the history; a future period drawn like a past one (bootstrap), widened for the mean's error."""
    n, mu = len(y), float(np.mean(y))
    paths = mu + _noise(y - mu, (n_paths, h), rng) * np.sqrt(1 + 1 / n)
    return Fit("mean", "", np.full(h, mu), paths)


def _seasonal_naive(y: np.ndarray, h: int, m: int, rng: np.random.Generator, n_paths: int) -> Fit:
    """Same period one season ago; errors from past seasonal differences, growing with seasons ahead."""
    steps = np.arange(h)
    mean = y[len(y) - m + steps % m]
    seasons_ahead = steps // m + 1
    noise = _noise(y[m:] - y[:-m], (n_paths, h), rng)
    return Fit("seasonal_naive", "", mean, mean + noise * np.sqrt(seasons_ahead))


def _fit_chain(y: np.ndarray, h: int, m: int, rng: np.random.Generator, n_paths: int) -> Fit:
    """Fit the richest method the data allow, falling back step by step when a fit fails."""
    method, reason, p = choose_method(y, m)
    if method == "none":
        return Fit(method, reason, np.full(h, np.nan), np.full((n_paths, h), np.nan))
    if method == "constant":
        return Fit(method, reason, np.full(h, y[-1]), np.full((n_paths, h), y[-1]))
    if method.startswith("ets"):
        for seasonal in ((True, False) if method == "ets_seasonal" else (False,)):
            try:
                fit = _ets(y, h, m, seasonal, rng, n_paths)
            except (ValueError, np.linalg.LinAlgError, FloatingPointError):
                continue
            ok = seasonal == (method == "ets_seasonal")
            return Fit(fit.method, reason if ok else "fit_failed", fit.mean, fit.paths, p)
        reason = "fit_failed"
        if len(y) >= m + 2:
            fit = _seasonal_naive(y, h, m, rng, n_paths)
            return Fit(fit.method, reason, fit.mean, fit.paths, p)
    fit = _mean_model(y, h, rng, n_paths)
    return Fit(fit.method, reason, fit.mean, fit.paths, p)


def interval_frame(index: pd.Index, mean: np.ndarray, paths: np.ndarray, levels: tuple[float, ...]) -> pd.DataFrame:
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


def fit_paths(y: np.ndarray, h: int, freq: str, nonneg: bool, seed: int, n_paths: int) -> Fit:
    """Fit with a fixed seed and clip to non-negative values when asked.

    The optimiser makes hundreds of tiny BLAS calls; OpenBLAS threads spinning between them made fits
    3-5x slower on a busy two-core machine, so fits run with one BLAS thread.
    """
    with _blas().limit(limits=1, user_api="blas"):
        fit = _fit_chain(y, h, SEASON[freq], np.random.default_rng(seed), n_paths)
    if not nonneg:
        return fit
    return Fit(fit.method, fit.reason, np.clip(fit.mean, 0, None), np.clip(fit.paths, 0, None), fit.season_p)


def roi_ratio(income: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """(income - costs) / costs element-wise; undefined (NaN) where costs are not positive."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(costs > 0, (income - costs) / costs, np.nan)

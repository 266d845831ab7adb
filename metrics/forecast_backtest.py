"""The forecasts' backtest: the same procedure refitted without the last periods and compared with them."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from metrics.forecast_methods import LEVELS, N_PATHS, SEED, bound_names, fit_paths, interval_frame, roi_ratio


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
    fit = fit_paths(train.to_numpy(), k, freq, nonneg, seed, n_paths)
    predicted = pd.Series(fit.mean, index=actual.index)
    err = (actual - predicted).abs()
    nonzero = actual != 0
    mape = float((err[nonzero] / actual[nonzero].abs()).mean()) if nonzero.any() else None
    band = interval_frame(actual.index, fit.mean, fit.paths, (max(levels),))
    lo, hi = bound_names(max(levels))
    coverage = float(((actual >= band[lo]) & (actual <= band[hi])).mean()) if band[lo].notna().all() else None
    return Backtest(k, float(err.mean()), mape, coverage, fit.method, predicted, actual)


def ratio_backtest(bi: Backtest | None, bc: Backtest | None, actual: pd.Series) -> Backtest | None:
    """ROI backtest from the income and costs backtests: MAE in ROI units (MAPE is meaningless near 0)."""
    if bi is None or bc is None:
        return None
    predicted = pd.Series(roi_ratio(bi.predicted.to_numpy(), bc.predicted.to_numpy()), index=bi.predicted.index)
    held = actual.reindex(predicted.index)
    err = (held - predicted).abs().dropna()
    if err.empty:
        return None
    return Backtest(bi.k, float(err.mean()), None, None, f"{bi.method}/{bc.method}", predicted, held)

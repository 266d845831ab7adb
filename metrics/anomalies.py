"""Anomaly flags and trend direction over aggregated time series (no SQL: rows come from metrics.engine).

A value is an anomaly when it leaves the robust band of the trailing periods: median ± k · 1.4826 · MAD
(the 1.4826 factor makes MAD comparable to a standard deviation for normal data). The median and MAD
ignore outliers, so one spike does not widen the band for the months after it. A maturing or incomplete period
(metrics.maturity: its deals are still closing, or it is not over) gets no verdict and is no later period's history.

The trend is the least-squares line through the last TREND_WINDOW settled periods (neither maturing nor
incomplete): up or down when the line moves more than TREND_THRESHOLD of the points' mean across the window, else
flat. The trends chart draws that very line (trend_line), so the arrow and the line it describes cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from metrics.maturity import mature

WINDOW = 6        # trailing periods the band is computed from
MIN_HISTORY = 4   # fewer trailing periods than this: no verdict
K = 3.0           # band half-width in robust standard deviations
REL_FLOOR = 0.02  # a flat history still gets a band of ±2 % of its median (MAD would be 0)
TREND_THRESHOLD = 0.05  # relative change of the trend line across its window that counts as a move up or down
TREND_WINDOW = 4  # the last settled periods the trend line goes through: recent enough to see a turn, more than a pair


def robust_band(history: Sequence[float], k: float = K) -> tuple[float, float] | None:
    """(low, high) of median ± k·1.4826·MAD over history; None with fewer than MIN_HISTORY values."""
    values = np.array([v for v in history if v is not None and not math.isnan(v)], dtype=float)
    if len(values) < MIN_HISTORY:
        return None
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    scale = max(1.4826 * mad, REL_FLOOR * abs(median), 1e-9)
    return median - k * scale, median + k * scale


def flag(series: pd.DataFrame, value: str = "value", by: str | None = None, window: int = WINDOW,
         k: float = K) -> pd.DataFrame:
    """Add band_low, band_high, is_anomaly to rows sorted by period (per group `by` when given); maturing or
    incomplete rows get none."""
    def one(group: pd.DataFrame) -> pd.DataFrame:
        group = group.sort_values("period").copy()
        lows, highs, flags, seen = [], [], [], []
        vals = group[value].astype(float).tolist()
        for v, usable in zip(vals, mature(group).tolist(), strict=True):
            band = robust_band(seen[-window:], k) if usable else None
            seen += [v] if usable else []
            lows.append(band[0] if band else None)
            highs.append(band[1] if band else None)
            flags.append(bool(band) and not math.isnan(v) and not band[0] <= v <= band[1])
        group["band_low"], group["band_high"], group["is_anomaly"] = lows, highs, flags
        return group

    if series.empty:
        return series.assign(band_low=pd.Series(dtype=float), band_high=pd.Series(dtype=float),
                             is_anomaly=pd.Series(dtype=bool))
    if by is None:
        return one(series)
    parts = [one(g) for _, g in series.groupby(by, dropna=False, sort=False)]
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class TrendLine:
    """The line a trend arrow describes: fitted through `periods` (oldest first), `start` and `end` its values at
    the first and last of them; `change` = (end − start) / |mean of the points| (None when that mean is 0)."""

    direction: str
    periods: tuple[Any, ...]
    start: float
    end: float
    change: float | None


def trend_line(rows: pd.DataFrame, value: str, window: int = TREND_WINDOW,
               threshold: float = TREND_THRESHOLD) -> TrendLine | None:
    """The trend line through the last `window` settled rows with a value (sorted by period; maturing and
    incomplete ones left out); None with fewer than two such rows."""
    ordered = rows.sort_values("period") if "period" in rows.columns else rows
    kept = ordered.loc[mature(ordered)]
    values = pd.to_numeric(kept[value], errors="coerce").astype(float)
    kept, values = kept[values.notna()].tail(window), values[values.notna()].tail(window)
    if len(values) < 2:
        return None
    if "period" not in kept.columns:
        return _fit(np.arange(len(values), dtype=float), values.to_numpy(), tuple(range(len(values))), threshold)
    periods = tuple(kept["period"])
    return _fit(_days(periods), values.to_numpy(), periods, threshold)


def trend(rows: pd.DataFrame, value: str, threshold: float = TREND_THRESHOLD) -> str:
    """up | down | flat: the direction of trend_line (flat without one)."""
    line = trend_line(rows, value, threshold=threshold)
    return line.direction if line else "flat"


def direction(values: Sequence[float], threshold: float = TREND_THRESHOLD) -> str:
    """up | down | flat of equally spaced values: the trend line through the last TREND_WINDOW of them."""
    vals = np.array([float(v) for v in values if v is not None and not math.isnan(float(v))][-TREND_WINDOW:])
    if len(vals) < 2:
        return "flat"
    steps = tuple(range(len(vals)))
    return _fit(np.arange(len(vals), dtype=float), vals, steps, threshold).direction


def _days(periods: tuple[Any, ...]) -> np.ndarray:
    """x of each period (dates) for the fit: days from the first, so a missing period between two counts."""
    days = pd.to_datetime(pd.Series(periods))
    return (days - days.iloc[0]).dt.days.to_numpy(dtype=float)


def _fit(x: np.ndarray, y: np.ndarray, periods: tuple[Any, ...], threshold: float) -> TrendLine:
    """The least-squares line of y on x, its ends and its direction (see the module's docstring)."""
    slope, intercept = np.polyfit(x, y, 1) if np.ptp(x) > 0 else (0.0, float(np.mean(y)))
    start, end = float(intercept + slope * x[0]), float(intercept + slope * x[-1])
    mean = float(np.mean(y))
    change = (end - start) / abs(mean) if mean != 0 else None
    if change is None:
        move = "flat" if math.isclose(end, start, abs_tol=1e-12) else ("up" if end > start else "down")
    else:
        move = "up" if change > threshold else "down" if change < -threshold else "flat"
    return TrendLine(move, periods, start, end, change)

"""Anomaly flags and trend direction over aggregated time series (no SQL: rows come from metrics.engine).

A value is an anomaly when it leaves the robust band of the trailing periods: median ± k · 1.4826 · MAD
(the 1.4826 factor makes MAD comparable to a standard deviation for normal data). The median and MAD
ignore outliers, so one spike does not widen the band for the months after it. A maturing or incomplete period
(metrics.maturity: its deals are still closing, or it is not over) gets no verdict and is no later period's history;
the trend direction is taken over the other periods only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from metrics.maturity import mature

WINDOW = 6        # trailing periods the band is computed from
MIN_HISTORY = 4   # fewer trailing periods than this: no verdict
K = 3.0           # band half-width in robust standard deviations
REL_FLOOR = 0.02  # a flat history still gets a band of ±2 % of its median (MAD would be 0)
TREND_THRESHOLD = 0.05  # relative change that counts as a move up or down


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


def trend(rows: pd.DataFrame, value: str, threshold: float = TREND_THRESHOLD) -> str:
    """direction() of a column over the rows sorted by period, maturing and incomplete periods left out."""
    ordered = rows.sort_values("period") if "period" in rows.columns else rows
    return direction(ordered.loc[mature(ordered), value].astype(float).tolist(), threshold)


def direction(values: Sequence[float], threshold: float = TREND_THRESHOLD) -> str:
    """up | down | flat: mean of the last three periods against the three before (or last vs first)."""
    vals = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if len(vals) < 2:
        return "flat"
    n = min(3, len(vals) // 2)
    recent, before = float(np.mean(vals[-n:])), float(np.mean(vals[-2 * n:-n]))
    if before == 0:
        return "flat" if recent == 0 else ("up" if recent > 0 else "down")
    change = (recent - before) / abs(before)
    if change > threshold:
        return "up"
    if change < -threshold:
        return "down"
    return "flat"

"""What changed: anomaly flags, trend lines, week-over-week movers and ROI band changes — one rule each.

Every screen and report that says "this changed" reads it here: the trends page, the overview's week, the meeting
screens, the weekly e-mail and the alerts. No SQL: rows come from metrics.engine.

A value is an anomaly when it leaves the robust band of the trailing periods (at most WINDOW, at least
MIN_HISTORY): median ± K · scale, scale = the largest of 1.4826 · MAD (comparable to a standard deviation for
normal data), REL_FLOOR of the median (a flat history would give MAD 0) and, for counts, √median (Poisson noise:
3 → 6 leads is not news). The median and MAD ignore outliers, so one spike does not widen the band for the periods
after it. A count series whose median and value are both under MIN_COUNT gets no verdict. A maturing or incomplete
period (metrics.maturity: its deals are still closing, or it is not over) gets no verdict and is no later
period's history.

The trend is the least-squares line through the last TREND_WINDOW settled periods (neither maturing nor
incomplete): up or down when the line moves more than TREND_THRESHOLD of the points' mean across the window, else
flat. The trends chart draws that very line (trend_line), so the arrow and the line it describes cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from metrics.maturity import mature

Kind = Literal["int", "money", "pct"]  # how a value is formatted (reports.table kinds); "int" values are counts

WINDOW = 6        # trailing periods the band is computed from
MIN_HISTORY = 4   # fewer trailing periods than this: no verdict
K = 3.0           # band half-width in robust standard deviations
MAD_SCALE = 1.4826  # MAD × this estimates the standard deviation of normal data
REL_FLOOR = 0.10  # a flat history still gets a band of ±K × 10 % of its median (MAD would be 0)
MIN_COUNT = 3.0   # a count series below this (median and value) is too small to call anything an anomaly
TOP_MOVERS = 5
BAND_ORDER = {"loss": 0, "marginal": 1, "profitable": 2, "excellent": 3}
ANOMALY_COLUMNS = ["series", "metric", "kind", "week", "actual", "expected", "z"]
TREND_THRESHOLD = 0.05  # relative change of the trend line across its window that counts as a move up or down
TREND_WINDOW = 4  # the last settled periods the trend line goes through: recent enough to see a turn, more than a pair


def robust_band(history: Sequence[float], k: float = K, count: bool = False) -> tuple[float, float] | None:
    """(low, high) of median ± k·scale over history (scale: see the module's docstring); None with fewer than
    MIN_HISTORY values."""
    values = np.array([v for v in history if v is not None and not math.isnan(v)], dtype=float)
    if len(values) < MIN_HISTORY:
        return None
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    scale = max(MAD_SCALE * mad, REL_FLOOR * abs(median), math.sqrt(max(median, 1.0)) if count else 0.0, 1e-9)
    return median - k * scale, median + k * scale


def outside(value: float, band: tuple[float, float] | None, count: bool = False) -> bool:
    """The anomaly verdict: value leaves the band (and, for a count, the series is not too small to judge)."""
    if band is None or math.isnan(value) or band[0] <= value <= band[1]:
        return False
    return not count or max((band[0] + band[1]) / 2, value) >= MIN_COUNT


def flag(series: pd.DataFrame, value: str = "value", by: str | None = None, window: int = WINDOW,
         k: float = K, count: bool = False) -> pd.DataFrame:
    """Add band_low, band_high, is_anomaly to rows sorted by period (per group `by` when given); maturing or
    incomplete rows get none; count: the values are counts (leads, deals)."""
    def one(group: pd.DataFrame) -> pd.DataFrame:
        group = group.sort_values("period").copy()
        lows, highs, flags, seen = [], [], [], []
        vals = group[value].astype(float).tolist()
        for v, usable in zip(vals, mature(group).tolist(), strict=True):
            band = robust_band(seen[-window:], k, count) if usable else None
            seen += [v] if usable else []
            lows.append(band[0] if band else None)
            highs.append(band[1] if band else None)
            flags.append(outside(v, band, count))
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


def latest_anomalies(series: pd.DataFrame, label: str, kinds: tuple[tuple[str, Kind], ...]) -> pd.DataFrame:
    """The anomalies of a weekly series' last week (rows: week, maturing, one column per metric), by flag's rule:
    series, metric, kind, week, actual, expected (the band's median), z (robust deviations from it)."""
    rows = []
    ordered = series.sort_values("week").rename(columns={"week": "period"})
    if ordered.empty:
        return pd.DataFrame(rows, columns=ANOMALY_COLUMNS)
    for metric, kind in kinds:
        values = pd.to_numeric(ordered[metric], errors="coerce").astype(float).fillna(0.0)
        last = flag(ordered.assign(value=values), count=kind == "int").iloc[-1]
        if not last["is_anomaly"]:
            continue
        low, high, actual = float(last["band_low"]), float(last["band_high"]), float(last["value"])
        expected = (low + high) / 2
        rows.append({"series": label or None, "metric": metric, "kind": kind, "week": last["period"],
                     "actual": actual, "expected": expected, "z": (actual - expected) / ((high - low) / (2 * K))})
    return pd.DataFrame(rows, columns=ANOMALY_COLUMNS)


def change(now: Any, before: Any) -> tuple[float | None, float | None]:
    """Absolute and relative change (relative None when before is 0 or missing)."""
    a, b = number(now), number(before)
    if a is None or b is None:
        return None, None
    return a - b, ((a - b) / abs(b) if b else None)


def movers_frame(now: pd.DataFrame, before: pd.DataFrame, top: int = TOP_MOVERS) -> pd.DataFrame:
    """Partners whose revenue (then leads) changed most between two windows, biggest absolute change first."""
    cols = ["partner_id", "partner", "model", "leads", "revenue", "too_few"]
    a = now[now["partner_id"].notna()][cols]
    b = before[before["partner_id"].notna()][["partner_id", "partner", "leads", "revenue"]]
    both = a.merge(b, on="partner_id", how="outer", suffixes=("_now", "_before"))
    # a partner with revenue only last week takes its name from that week
    both = both.rename(columns={"partner_now": "partner"})
    both["partner"] = both["partner"].combine_first(both.pop("partner_before"))
    if both.empty:
        return pd.DataFrame(columns=[*cols, "leads_now", "leads_before", "revenue_now", "revenue_before",
                                     "change", "change_pct", "leads_change"])
    for col in ("leads_now", "leads_before", "revenue_now", "revenue_before"):
        both[col] = pd.to_numeric(both[col], errors="coerce").fillna(0.0)
    both["change"] = both["revenue_now"] - both["revenue_before"]
    both["change_pct"] = [change(x, y)[1] for x, y in zip(both["revenue_now"], both["revenue_before"], strict=True)]
    both["leads_change"] = both["leads_now"] - both["leads_before"]
    both["too_few"] = both["too_few"].astype("boolean").fillna(True)
    moved = both[(both["change"].abs() > 0) | (both["leads_change"].abs() > 0)].copy()
    moved["rank"] = list(zip(moved["change"].abs(), moved["leads_change"].abs(), strict=True))
    return moved.sort_values("rank", ascending=False, kind="stable").drop(columns="rank").head(top) \
        .reset_index(drop=True)


def bands_frame(now: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    """Partners whose ROI band differs between two windows (well-measured partners first): partner_id, partner,
    model, band_before, band_now, roi_before, roi_now, too_few (in either window), up."""
    keep = ["partner_id", "partner", "model", "roi", "roi_band", "too_few"]
    a = now[now["partner_id"].notna()][keep]
    b = before[before["partner_id"].notna()][["partner_id", "roi", "roi_band", "too_few"]]
    both = a.merge(b, on="partner_id", suffixes=("_now", "_before"))
    crossed = both[both["roi_band_now"].fillna("n/a") != both["roi_band_before"].fillna("n/a")].copy()
    crossed["too_few"] = crossed["too_few_now"].astype(bool) | crossed["too_few_before"].astype(bool)
    crossed["up"] = [BAND_ORDER.get(n, -1) > BAND_ORDER.get(b, -1)
                     for n, b in zip(crossed["roi_band_now"], crossed["roi_band_before"], strict=True)]
    crossed = crossed.rename(columns={"roi_band_now": "band_now", "roi_band_before": "band_before"})
    out = crossed[["partner_id", "partner", "model", "band_before", "band_now", "roi_before", "roi_now",
                   "too_few", "up"]]
    return out.sort_values(["too_few", "partner"], kind="stable").reset_index(drop=True)


def number(v: Any) -> float | None:
    """A float, or None for a missing or non-numeric value (None, NA, NaN, text)."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x

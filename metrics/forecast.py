"""Forecasts of leads, deals, revenue, costs and ROI with 80 %/95 % prediction intervals, fall-backs and a backtest.

This module is the database-facing part: the complete periods a history covers, the panel of counts, revenue,
income and costs per period and group, and the forecasts of the total, each model or the largest partners. The
series work is pure and lives beside it, re-exported here: metrics.forecast_core (``forecast_series(y, horizon,
freq)`` on a pandas Series of equally spaced periods, ROI as a ratio, the result types), metrics.forecast_methods
(model choice and fits) and metrics.forecast_backtest.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from metrics import engine, lookups, sql
from metrics.filters import Filters
from metrics.forecast_backtest import Backtest, backtest_k, run_backtest
from metrics.forecast_core import (
    REASON_TEXT,
    ForecastError,
    ForecastResult,
    clean,
    forecast_series,
    future_index,
    ratio_forecast,
    to_long,
)
from metrics.forecast_methods import (
    LEVELS,
    MIN_TREND,
    N_PATHS,
    PANDAS_FREQ,
    SEASON,
    SEASON_ALPHA,
    SEED,
    Freq,
    bound_names,
    choose_method,
    roi_ratio,
    seasonality_pvalue,
)

__all__ = [
    "BY", "LEVELS", "MAX_HORIZON", "METRICS", "MIN_TREND", "N_PATHS", "PANDAS_FREQ", "REASON_TEXT", "SEASON",
    "SEASON_ALPHA", "SEED", "TOP_GROUPS", "Backtest", "ForecastError", "ForecastResult", "ForecastSet", "Freq",
    "GroupForecast", "backtest_k", "bound_names", "choose_method", "clean", "complete_periods", "forecast",
    "forecast_group", "forecast_series", "future_index", "history", "history_window", "next_period", "panel",
    "period_start", "ratio_forecast", "run_backtest", "seasonality_pvalue", "series_of", "to_long",
]


METRICS = ("leads", "won_deals", "revenue", "costs", "roi")
BY = ("total", "model", "partner")
MAX_HORIZON: dict[str, int] = {"month": 12, "week": 26}
TOP_GROUPS = 6


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
        return pd.Series(roi_ratio(frame["income"].to_numpy(), frame["costs"].to_numpy()), index=frame.index)
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

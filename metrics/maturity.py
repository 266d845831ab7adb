"""Maturing cohorts: how far a cohort-view period's deals have closed, its projection at maturity, incomplete periods.

In the cohort view a period's leads keep turning into won deals after it ends, so a young period looks worse than
it will be. The time-to-close curve (close_curve.sql: per pipeline, the won deals of the last 24 months) says what
share of the eventual won deals has closed by a lead's age; a period's `maturity` is that share averaged over its
leads (the young leads' shortfall, maturity_young.sql, read once per data version beside the curve and summed
per frame by metrics.young; maturity.sql computes the same per frame, the tests' reference), and the period is
`maturing` while it is below the `maturity_threshold` setting (0.9). A maturing row carries projections at
maturity with an 80 % interval; the current calendar period (ending on or after today, or holding the data's
as-of date) is `incomplete` in both views. Anomaly rules, trend arrows and
movers leave maturing and incomplete rows out (:func:`mature`).
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd

from metrics import fetch, query, sql
from metrics.costs import is_read_only, raw_settings
from metrics.young import YoungLeads, norm

INTERVAL = 0.8  # the projection's interval: 10th to 90th percentile
TAIL = (1 - INTERVAL) / 2
PROJECTED = ("won_deals", "revenue", "conversion", "roi")
COLUMNS = ("maturity", "maturing", "incomplete",
           *(f"projected_{m}{s}" for m in PROJECTED for s in ("", "_low", "_high")))
KEYS = {"partner": "partner_id", "model": "model", "pipeline": "pipeline_id", "source": "source"}
TIME_UNITS = ("month", "week", "quarter")

# One curve per distinct input (close_curve_key.sql), bound to a connection as the Arrow table m_close_curve; a
# read-only connection trusts the curve it was bound once (nothing writes under it), a read-write one re-checks.
_CURVES: dict[str, tuple[Any, Bound]] = {}
_CURVE_LOCK = threading.Lock()
_BOUND: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, tuple[str, Bound]] = weakref.WeakKeyDictionary()
_ZONES: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, str] = weakref.WeakKeyDictionary()
CURVE_CACHE_SIZE = 8
DEFAULT_THRESHOLD = 0.9


@dataclass(frozen=True)
class CurveInfo:
    """What the metrics need besides the curve: the data's as-of date, and the first age at which every curve is 1
    (older leads have closed all they will; None when some curve never gets there)."""

    as_of: date | None
    full_day: int | None


Bound = tuple[CurveInfo, "YoungLeads | None"]  # what a data version's curve gives the frames


def today(tz: str) -> date:
    """Today's date in the account time zone (tests replace it)."""
    return datetime.now(ZoneInfo(tz)).date()


def threshold(con: duckdb.DuckDBPyConnection) -> float:
    """The `maturity_threshold` setting (a fraction in (0, 1], default 0.9), read with the other metric settings."""
    value = raw_settings(con).get("maturity_threshold")
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 1
    return float(value) if ok else DEFAULT_THRESHOLD


def bind_curve(con: duckdb.DuckDBPyConnection) -> CurveInfo:
    """Bind m_close_curve on this connection, computed once per data version (fingerprint of its inputs)."""
    return _bound(con)[0]


def _bound(con: duckdb.DuckDBPyConnection) -> tuple[CurveInfo, YoungLeads | None]:
    """(curve info, young leads) of this connection's data version, m_close_curve bound (both computed once)."""
    bound = _BOUND.get(con)
    if bound is not None and is_read_only(con):
        return bound[1]
    key = con.execute(sql.load("close_curve_key")).fetchone()[0]
    if bound is not None and bound[0] == key:
        return bound[1]
    with _CURVE_LOCK:
        cached = _CURVES.get(key)
    if cached is None:
        table = con.execute(sql.load("close_curve")).to_arrow_table()
        con.register("m_close_curve", table)
        info = _info(table.to_pandas())
        cached = (table, (info, _young(con, info)))
        with _CURVE_LOCK:
            while len(_CURVES) >= CURVE_CACHE_SIZE:  # oldest first (dicts keep insertion order)
                _CURVES.pop(next(iter(_CURVES)))
            _CURVES[key] = cached
    con.register("m_close_curve", cached[0])
    _BOUND[con] = (key, cached[1])
    return cached[1]


def _young(con: duckdb.DuckDBPyConnection, info: CurveInfo) -> YoungLeads | None:
    """The leads younger than the curve's full day with their shortfall (None without a curve)."""
    if info.as_of is None:
        return None
    # leads at least full_day old have closed all they will: only the younger ones are read
    start = info.as_of - timedelta(days=info.full_day - 1) if info.full_day is not None else date.min
    rows = fetch.frame(con.execute(sql.load("maturity_young"), {"as_of": info.as_of, "young": start}))
    return YoungLeads.of(start, rows)


def _info(table: pd.DataFrame) -> CurveInfo:
    """As-of date and full day of a curve table."""
    if table.empty:
        return CurveInfo(None, None)
    full = table[table["share"] >= 1 - 1e-12].groupby(table["pipeline_id"].fillna(-1))["day"].min()
    levels = table["pipeline_id"].fillna(-1).nunique()
    as_of = pd.Timestamp(table["as_of"].iloc[0]).date()
    return CurveInfo(as_of, int(full.max()) if len(full) == levels else None)


def curve(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The time-to-close curve: pipeline_id (null = all pipelines), day, share, deals, as_of."""
    bind_curve(con)
    return fetch.frame(con.execute("select * from m_close_curve order by pipeline_id nulls first, day"))


def _timezone(con: duckdb.DuckDBPyConnection) -> str:
    """The account time zone (once per read-only connection)."""
    tz = _ZONES.get(con)
    if tz is None:
        tz = str(con.execute("select timezone from stg_account").fetchone()[0] or "Europe/Moscow")
        if is_read_only(con):
            _ZONES[con] = tz
    return tz


# ---------- annotating KPI frames ----------

Runner = Callable[..., pd.DataFrame]  # query.scope_run
# Each frame's shortfall per row (None: not a young cohort frame), given frames, their KPI rows, the data version's
# curve info and young leads: young_shortfalls, or direct_shortfalls (one maturity query, the reference)
Shortfalls = Callable[..., list[np.ndarray | None]]


def annotate(con: duckdb.DuckDBPyConnection, frames: list[tuple[Any, tuple[str, ...]]], parts: list[pd.DataFrame],
             shortfalls: Shortfalls | None = None) -> list[pd.DataFrame]:
    """Each frame's KPI rows (frames: (filters, dims)) with COLUMNS, from the data version's young leads."""
    info, young = _bound(con)
    tz = _timezone(con)
    cutoff = min(today(tz), info.as_of) if info.as_of else today(tz)
    found = (shortfalls or young_shortfalls)(con, frames, parts, info, young) if info.as_of else [None] * len(parts)
    limit = threshold(con)
    out = []
    for (f, dims), part, short in zip(frames, parts, found, strict=True):
        ready = f.view == "cohort" and info.as_of is not None
        out.append(_one(part, f, dims, short, ready, cutoff, limit))
    return out


def young_shortfalls(con: duckdb.DuckDBPyConnection, frames: list[tuple[Any, tuple[str, ...]]],
                     parts: list[pd.DataFrame], info: CurveInfo, young: YoungLeads | None) -> list[np.ndarray | None]:
    """Each cohort frame's shortfall per row, summed from the young leads (no query)."""
    return [young.shortfall_of(f, part, _cols(dims), _unit(dims)) if f.view == "cohort" and young else None
            for (f, dims), part in zip(frames, parts, strict=True)]


def direct_shortfalls(con: duckdb.DuckDBPyConnection, frames: list[tuple[Any, tuple[str, ...]]],
                      parts: list[pd.DataFrame], info: CurveInfo, young: YoungLeads | None) -> list[np.ndarray | None]:
    """The same from one maturity query over the frames' scopes (maturity.sql): the reference the tests compare
    young_shortfalls with."""
    found = _found(frames, info, query.scope_run, con)
    return [_shortfall(part, dims, found[i]) if i in found else np.zeros(len(part)) if f.view == "cohort" else None
            for i, ((f, dims), part) in enumerate(zip(frames, parts, strict=True))]


def _unit(dims: tuple[str, ...]) -> str | None:
    """The frame's time unit, if it has one."""
    return next((d for d in dims if d in TIME_UNITS), None)


def _found(frames: list[tuple[Any, tuple[str, ...]]], info: CurveInfo, scope_run: Runner,
           con: duckdb.DuckDBPyConnection) -> dict[int, pd.DataFrame]:
    """The shortfall rows of each young cohort frame (index -> rows keyed like the frame)."""
    young = info.as_of - timedelta(days=info.full_day - 1) if info.full_day is not None else date.min
    # frames of the same days (and at most one time unit) are read as one scope grouped by all their keys
    scopes: dict[tuple[Any, ...], list[int]] = {}
    units: dict[tuple[Any, ...], str | None] = {}
    for i, (f, dims) in enumerate(frames):
        if f.view == "cohort" and f.date_to >= young:
            unit = _unit(dims)
            key: tuple[Any, ...] = (max(f.date_from, young), f.date_to)
            if unit and units.get(key) not in (None, unit):
                key = (*key, unit)
            units[key] = units.get(key) or unit
            scopes.setdefault(key, []).append(i)
    if not scopes:
        return {}
    read = [(replace(frames[idx[0]][0], date_from=key[0]),
             tuple(dict.fromkeys(d for i in idx for d in frames[i][1]))) for key, idx in scopes.items()]
    raw = scope_run(con, "maturity", read, costs=False, as_of=info.as_of).rename(columns=RESULT_KEYS)
    if "period" in raw.columns:
        raw["period"] = pd.to_datetime(raw["period"]).dt.date
    sids = raw["sid"].to_numpy()
    return {i: raw[sids == pos] for pos, idx in enumerate(scopes.values()) for i in idx}


def _cols(dims: tuple[str, ...]) -> list[str]:
    """The key columns a frame's rows are matched on (a partner's model follows from the partner)."""
    cols = [KEYS[d] for d in dims if d in KEYS and not (d == "model" and "partner" in dims)]
    return cols + (["period"] if any(d in TIME_UNITS for d in dims) else [])


# the two blocks' column labels, built once (an Index per frame costs ~35 µs)
_FLOAT_COLUMNS = pd.Index(["maturity", *COLUMNS[3:]])
_BOOL_COLUMNS = pd.Index(["maturing", "incomplete"])
RESULT_KEYS = {"k_partner_id": "partner_id", "k_model": "model", "k_pipeline_id": "pipeline_id", "k_source": "source",
               "k_period": "period"}


def _one(part: pd.DataFrame, f: Any, dims: tuple[str, ...], short: np.ndarray | None, ready: bool,
         cutoff: date, limit: float) -> pd.DataFrame:
    """One frame's rows with maturity, flags and projections (ready: a cohort frame with a curve; short: its rows'
    shortfall, None: none)."""
    if "maturity" in part.columns:  # annotating twice changes nothing
        part = part.drop(columns=[c for c in COLUMNS if c in part.columns])
    unit = _unit(dims)
    ends = [min(bucket_end(p, unit), f.date_to) for p in part["period"]] if unit else [f.date_to] * len(part)
    leads = part["leads"].to_numpy(dtype=float)
    if ready:
        short = short if short is not None else np.zeros(len(part))
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(leads > 0, 1 - short / leads, np.nan)
    else:
        share = np.full(len(part), np.nan)
    flags = {"maturity": share, "maturing": share < limit,
             "incomplete": np.array([end >= cutoff for end in ends], dtype=bool)}
    # two blocks (floats, flags) joined once: inserting 18 columns one by one costs ~8 ms a frame
    proj = projections(part, share, flags["maturing"])
    floats = pd.DataFrame(np.column_stack([share, *proj.values()]), index=part.index, columns=_FLOAT_COLUMNS)
    bools = pd.DataFrame(np.column_stack([flags["maturing"], flags["incomplete"]]), index=part.index,
                         columns=_BOOL_COLUMNS)
    return pd.concat([part, floats, bools], axis=1)


def _shortfall(part: pd.DataFrame, dims: tuple[str, ...], found: pd.DataFrame) -> np.ndarray:
    """Each row's shortfall of closed deals, matched on the frame's keys (no young lead: 0)."""
    cols = _cols(dims)
    if not cols:
        return np.full(len(part), float(found["shortfall"].sum()))
    lookup: dict[tuple[Any, ...], float] = {}
    for r, v in zip(zip(*(found[c] for c in cols), strict=True), found["shortfall"], strict=True):
        key = tuple(map(norm, r))  # summed: rows read for several frames at once carry their union of keys
        lookup[key] = lookup.get(key, 0.0) + v
    return np.array([lookup.get(tuple(map(norm, r)), 0.0) for r in zip(*(part[c] for c in cols), strict=True)],
                    dtype=float)


def bucket_start(day: date, unit: str | None) -> date:
    """First day of the week (Monday), month or quarter holding `day`."""
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return day.replace(day=1)


def bucket_end(start: date, unit: str | None) -> date:
    """Last day of the week, month or quarter starting on `start`."""
    if unit == "week":
        return start + timedelta(days=6)
    months = 3 if unit == "quarter" else 1
    year, month = divmod(start.month - 1 + months, 12)
    return date(start.year + year, month + 1, 1) - timedelta(days=1)


# ---------- projections ----------

def projections(part: pd.DataFrame, share: np.ndarray, maturing: np.ndarray) -> dict[str, np.ndarray]:
    """Projections at maturity of the maturing rows (other rows: empty), with the 80 % interval.

    Won deals: so far / maturity, the interval from the deals still to close (remaining_interval). Revenue: so far
    / maturity, the interval's deals each at the average check so far (none without a deal so far). Conversion: won
    deals / leads (leads do not mature). ROI: income and computed commissions grow with the deals, ledger costs stay.
    """
    rows = np.flatnonzero(maturing & (share > 0))
    full = {c: np.full(len(part), np.nan) for c in COLUMNS[3:]}
    if not len(rows):
        return full
    won, revenue, leads, income, commission, ledger = _values(part, rows)
    s = share[rows]
    bounds = np.array([remaining_interval(int(w), float(x)) for w, x in zip(won, s, strict=True)]).reshape(-1, 2)
    mid = won / s
    deals = {"": mid, "_low": np.minimum(won + bounds[:, 0], mid), "_high": np.maximum(won + bounds[:, 1], mid)}
    with np.errstate(divide="ignore", invalid="ignore"):
        check = np.where(won > 0, revenue / won, np.nan)  # the interval's deals are each worth the check so far
        out: dict[str, np.ndarray] = {}
        for suffix, n in deals.items():
            growth = np.where(won > 0, n / won, np.nan)
            costs = ledger + commission * growth
            out[f"projected_won_deals{suffix}"] = n
            # no deal yet: nothing says what the deals to come are worth, so no revenue (nor ROI) projection
            out[f"projected_revenue{suffix}"] = np.where(won > 0, revenue / s, np.nan) if suffix == "" else n * check
            out[f"projected_conversion{suffix}"] = np.where(leads > 0, n / leads, np.nan)
            out[f"projected_roi{suffix}"] = np.where(costs > 0, (income * growth - costs) / costs, np.nan)
    for name, values in out.items():
        full[name][rows] = values
    return full


INPUTS = ("won_deals", "revenue", "leads", "income", "costs_commission", "costs_ledger")


def _values(part: pd.DataFrame, rows: np.ndarray) -> list[np.ndarray]:
    """The INPUTS columns' values at rows as floats (missing: NaN; a frame without a column: all NaN)."""
    return [_floats(part[c])[rows] if c in part.columns else np.full(len(rows), np.nan) for c in INPUTS]


def _floats(column: pd.Series) -> np.ndarray:
    """A column as floats, missing values NaN (a numpy dtype converts directly: half the time of na_value)."""
    if isinstance(column.dtype, np.dtype):
        return column.to_numpy().astype(float, copy=False)
    return column.to_numpy(dtype=float, na_value=np.nan)


# the same rows' (won, share) come back on every rerun of a data version: ~25 µs of numpy each, computed once
@lru_cache(maxsize=8192)
def remaining_interval(won: int, share: float, level: float = INTERVAL) -> tuple[float, float]:
    """(low, high) of the deals still to close when `won` closed with `share` expected closed: the central `level`
    interval of the predictive negative binomial (Poisson deals, Jeffreys prior: r = won + ½, p = share)."""
    if share >= 1:
        return 0.0, 0.0
    r, p = won + 0.5, share
    mean, sd = r * (1 - p) / p, math.sqrt(r * (1 - p)) / p
    z = 1.2815515655446004  # the 90th percentile of the standard normal
    if mean > 200:  # the normal approximation is within a deal or two there; the exact sum would be long
        return max(0.0, math.floor(mean - z * sd)), math.ceil(mean + z * sd)
    m = np.arange(int(mean + 12 * sd + 30))
    log_pmf = r * math.log(p) + np.concatenate(([0.0], np.cumsum(np.log((m[:-1] + r) / (m[:-1] + 1) * (1 - p)))))
    cdf = np.cumsum(np.exp(log_pmf))
    tail = (1 - level) / 2
    return float(np.searchsorted(cdf, tail)), float(np.searchsorted(cdf, 1 - tail))


# ---------- the rules that must not use young periods ----------

def mature(rows: pd.DataFrame) -> pd.Series:
    """True for rows an anomaly rule, a trend arrow or a mover may use: neither maturing nor incomplete."""
    keep = pd.Series(True, index=rows.index)
    for col in ("maturing", "incomplete"):
        if col in rows.columns:
            keep &= ~rows[col].fillna(False).astype(bool)
    return keep


def settled(*frames: pd.DataFrame, key: str = "partner_id") -> list[pd.DataFrame]:
    """The frames of a "since last week" comparison without the groups (key) maturing in any of them: a group left
    out of one frame only would look like a change from or to nothing."""
    young: set[Any] = set()
    for frame in frames:
        if "maturing" in frame.columns:
            young |= set(frame.loc[frame["maturing"].fillna(False).astype(bool), key])
    return [frame[~frame[key].isin(young)] if young else frame for frame in frames]


DELTA_FLAGS = ("maturing", "incomplete", "maturing_prev", "incomplete_prev")


def delta_flags(both: pd.DataFrame) -> pd.DataFrame:
    """The flags of the current and previous period beside deltas' rows (a group missing in one: False)."""
    return pd.DataFrame({c: both[c].astype("boolean").fillna(False).astype(bool) if c in both.columns
                         else False for c in DELTA_FLAGS}, index=both.index)

"""KPI rows of frames (filters × grouping), every frame sharing a narrowing in one query, with their maturity;
costs by category and period-over-period deltas derived from them."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd

from metrics import maturity, query, shape
from metrics.costs import LEDGER_CATEGORIES, Scenario
from metrics.filters import FilterError, Filters
from metrics.query import BY_CHOICES, KEY_COLUMNS, TIME_UNITS, Frame

KPI_COLUMNS = (
    "leads", "qualified_leads", "won_deals", "conversion", "conversion_low", "conversion_high",
    "lead_to_qualified", "qualified_to_won", "revenue", "avg_check", "revenue_share",
    "costs", "costs_ledger", "costs_commission", "income", "income_basis", "profit", "roi", "roi_band",
    "new_clients", "cpa", "ltv", "purchases_per_client", "time_to_close_days", "too_few",
    "preexisting_deals", "incremental_revenue", "preexisting_share", "incremental_roi",
)
# The close view's own ratio and its counts (empty in the cohort view; metrics-spec "conversion")
CLOSE_COLUMNS = ("won_closed", "lost_closed", "win_rate_closed", "win_rate_closed_low", "win_rate_closed_high")
COST_COLUMNS = tuple(f"cost_{c}" for c in LEDGER_CATEGORIES)
COMMISSION_CATEGORY = "computed_commission"


LITE = "lite"  # third element of a kpis_many request: no client metrics
CLIENT_METRICS = ("new_clients", "cpa", "ltv", "purchases_per_client", "time_to_close_days")  # empty when lite


def _kpi_frames(df: pd.DataFrame, frames: list[Frame], lite: list[bool]) -> list[pd.DataFrame]:
    """Each frame's KPI rows (kpis.sql's presentation order, typed counts, public key names) from one result
    ordered by sid (lite: client metrics missing, not zero).

    The conversions common to all frames run once on the whole result and each frame is one positional slice:
    renaming, dropping and casting frame by frame cost ~4 ms per frame, more than the data work of a small one.
    """
    for col in ("leads", "qualified_leads", "won_deals", "preexisting_deals"):
        df[col] = df[col].astype("int64")
    if "k_period" in df.columns and any(shape.public_names(dims).get("period") for _, dims in frames):
        df["k_period"] = pd.to_datetime(df["k_period"]).dt.date.astype(object)  # object even when all null
    bounds = np.searchsorted(df["sid"].to_numpy(), np.arange(len(frames) + 1))
    nullable = set(shape.nullable_columns(df))
    rest = [c for c in df.columns if c != "sid" and not c.startswith("k_")]
    out = []
    for (_, dims), is_lite, a, b in zip(frames, lite, bounds[:-1], bounds[1:], strict=True):
        names = shape.public_names(dims)
        part = df.iloc[a:b, df.columns.get_indexer([*names.values(), *rest])]
        part.columns = [*names, *rest]
        part.index = pd.RangeIndex(b - a)
        part = shape.typed_part(part, [c for c in part.columns if names.get(c, c) in nullable])
        part["new_clients"] = part["new_clients"].astype("float64" if is_lite else "int64")
        out.append(part)
    return out


def kpis_many(con: duckdb.DuckDBPyConnection, requests: tuple[tuple[Any, ...], ...],
              scenario: Scenario | None = None) -> list[pd.DataFrame]:
    """KPI rows of several requests, one query per distinct narrowing; results in order.

    A request is (filters, grouping) or (filters, grouping, "lite"): a lite frame leaves the client metrics
    (new clients, CPA, LTV, purchases per client) and days to close empty, which saves most of the work.
    """
    frames = [(r[0], query.frame_dims(r[1])) for r in requests]
    lite = [len(r) > 2 and r[2] == LITE for r in requests]
    batches: dict[tuple[Any, ...], list[int]] = {}
    for i, (f, _) in enumerate(frames):
        batches.setdefault(query.narrowing(f), []).append(i)
    out: list[pd.DataFrame] = [pd.DataFrame()] * len(frames)
    for idxs in batches.values():  # each frame's rows then get their maturity (metrics.maturity)
        batch = [frames[i] for i in idxs]
        df = query.scope_run(con, "kpis", batch, scenario, lite=tuple(lite[i] for i in idxs), share=True)
        parts = maturity.annotate(con, batch, _kpi_frames(df, batch, [lite[i] for i in idxs]))
        for i, part in zip(idxs, parts, strict=True):
            out[i] = part
    return out


def grouped(con: duckdb.DuckDBPyConnection, f: Filters, by: str | tuple[str, ...] = "none",
            scenario: Scenario | None = None, lite: bool = False) -> pd.DataFrame:
    """KPI rows grouped by one or more dimensions (e.g. ("month", "model")); see kpis() (lite: without the client
    metrics, see kpis_many)."""
    return kpis_many(con, ((f, by, LITE) if lite else (f, by),), scenario)[0]


def kpis(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "none",
         scenario: Scenario | None = None) -> pd.DataFrame:
    """One row per group (by: none|partner|model|month|week|quarter|pipeline|source) with every KPI."""
    if by not in BY_CHOICES:
        raise FilterError(f"Unknown grouping {by!r}: use one of {', '.join(BY_CHOICES)}.")
    return grouped(con, f, by, scenario)


def costs_by_category(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "none",
                      scenario: Scenario | None = None) -> pd.DataFrame:
    """Costs in long format: group keys, category (ledger categories + computed_commission), amount."""
    return costs_long(kpis(con, f, by, scenario))


def costs_long(wide: pd.DataFrame) -> pd.DataFrame:
    """KPI rows (kpis()) turned into costs in long format: group keys, category, amount."""
    wide = wide.copy()
    keys = [c for c in wide.columns
            if c not in KPI_COLUMNS + CLOSE_COLUMNS + maturity.COLUMNS and not c.startswith("cost_")]
    wide = wide.rename(columns={f"cost_{c}": c for c in LEDGER_CATEGORIES})
    wide[COMMISSION_CATEGORY] = wide["costs_commission"]
    cats = [*LEDGER_CATEGORIES, COMMISSION_CATEGORY]
    long = wide.melt(id_vars=keys, value_vars=cats, var_name="category", value_name="amount")
    order = {c: i for i, c in enumerate(cats)}
    long["_c"] = long["category"].map(order)
    long["_g"] = long.groupby("category", sort=False).cumcount()
    return long.sort_values(["_g", "_c"]).drop(columns=["_c", "_g"]).reset_index(drop=True)


DELTA_METRICS = ("leads", "qualified_leads", "won_deals", "conversion", "lead_to_qualified", "qualified_to_won",
                 "revenue", "avg_check", "revenue_share", "costs", "income", "profit", "roi", "new_clients",
                 "cpa", "ltv", "purchases_per_client", "time_to_close_days")


def deltas(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "none",
           scenario: Scenario | None = None) -> pd.DataFrame:
    """Current period vs f.previous(): per group and metric, current, previous, change and relative change."""
    if by in TIME_UNITS:
        raise FilterError("Period-over-period changes compare whole periods: group by none, partner, model, "
                          "pipeline or source.")
    cur, prev = kpis(con, f, by, scenario), kpis(con, f.previous(), by, scenario)
    keys = list(KEY_COLUMNS[by].values())
    join_keys = [k for k in keys if k not in ("partner", "pipeline")]
    labels = [k for k in keys if k not in join_keys]
    if join_keys:
        both = cur.merge(prev, on=join_keys, how="outer", suffixes=("", "_prev"))
        for col in labels:
            both[col] = both[col].fillna(both[f"{col}_prev"])
    else:
        both = cur.join(prev.add_suffix("_prev"))
    rows, flags = [], maturity.delta_flags(both)  # maturing / incomplete, now and before
    for metric in DELTA_METRICS:
        part = both[keys].join(flags)
        part["metric"] = metric
        part["current"] = both[metric].astype("float64")
        part["previous"] = both[f"{metric}_prev"].astype("float64")
        rows.append(part)
    out = pd.concat(rows, ignore_index=True)
    out["change"] = out["current"] - out["previous"]
    prev_abs = out["previous"].abs()
    out["change_rel"] = out["change"] / prev_abs.where(prev_abs > 0)
    return out

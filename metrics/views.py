"""Metrics with a query of their own (not KPI rows): revenue vs costs by month, the stage funnel, lead quality,
partners vs direct, a partner's deal list, commission details and the revenue total."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import numpy as np
import pandas as pd

from metrics import maturity, query, shape, sql, stats
from metrics.costs import Scenario, load_settings
from metrics.filters import FilterError, Filters
from metrics.query import MODEL_ORDER, TIME_UNITS


def monthly(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "none",
            scenario: Scenario | None = None) -> pd.DataFrame:
    """Revenue vs costs per calendar month (optionally per partner / model / ...): chart input."""
    if by in TIME_UNITS:
        raise FilterError("monthly() already groups by month: choose none, partner, model, pipeline or source.")
    dims = query.frame_dims(("month",) if by == "none" else ("month", by))
    df = shape.scope_parts(query.scope_run(con, "monthly", [(f, dims)], scenario), 1)[0].astype(
        {"leads": "int64", "won_deals": "int64"})
    return maturity.annotate(con, [(f, dims)], [shape.sort_rows(shape.public_keys(df, dims))])[0]


def funnel(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Per pipeline and stage: leads of the period that reached it (stage history), share and step share."""
    # a source filter needs the leads one by one (fact_stage_days has no source columns)
    df = query.run(con, "funnel", query.query_params(f, load_settings(con)), {"by_lead": bool(f.sources)})
    for col in ("reached", "leads"):
        df[col] = df[col].astype("int64")
    return df


def quality(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "partner") -> pd.DataFrame:
    """Lead quality per group: mean score, shares with phone / e-mail / qualified, junk share."""
    dims = query.frame_dims(by)
    values = query.query_params(f, load_settings(con))
    # the day counts have no pipeline or source columns: filtering or grouping by them reads the leads
    by_lead = bool(f.pipelines or f.sources) or "pipeline" in dims or "source" in dims
    df = query.run(con, "quality", values, {**sql.plain_inputs(dims), "by_lead": by_lead})
    df["leads"] = df["leads"].astype("int64")
    return shape.sort_rows(shape.public_keys(df, dims))


PVD_COLUMNS = ("leads", "won_deals", "win_rate", "win_rate_low", "win_rate_high", "revenue", "avg_check",
               "time_to_close_days")


def partner_vs_direct(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Each model, all partners and direct: win rate (Wilson), average check, days to close, diffs vs direct."""
    df = query.scope_run(con, "partner_vs_direct", [(f, ())], costs=False)
    df["win_rate"] = df["cohort_won"] / df["leads"].where(df["leads"] > 0)
    bounds = [stats.wilson(int(w), int(n)) for w, n in zip(df["cohort_won"], df["leads"], strict=True)]
    df["win_rate_low"] = [b[0] for b in bounds]
    df["win_rate_high"] = [b[1] for b in bounds]
    df["avg_check"] = df["revenue"] / df["won_deals"].where(df["won_deals"] > 0)
    order = {**MODEL_ORDER, "partners": 2.5}
    df = df.assign(_o=df["segment"].map(order)).sort_values("_o").drop(columns="_o").reset_index(drop=True)
    out = df[["segment", *PVD_COLUMNS]].astype({"leads": "int64", "won_deals": "int64"})
    direct = out[out["segment"] == "direct"]
    for col in ("win_rate", "avg_check", "time_to_close_days"):
        base = direct[col].iloc[0] if len(direct) else np.nan
        out[f"{col}_diff"] = out[col] - base
        out[f"{col}_rel"] = out[f"{col}_diff"] / base if base else np.nan
    return out


def deals(con: duckdb.DuckDBPyConnection, f: Filters, partner_id: int | None, won_only: bool = True,
          scenario: Scenario | None = None) -> pd.DataFrame:
    """A partner's won deals in scope (None = direct) with commission, newest first; won_only=False: all leads."""
    narrowed = replace(f, partners=(int(partner_id),), models=()) if partner_id is not None \
        else replace(f, partners=(), models=("direct",))
    return query.scope_run(con, "deals", [(narrowed, ())], scenario, inputs={"won_only": won_only})


def commission_details(con: duckdb.DuckDBPyConnection, f: Filters,
                       scenario: Scenario | None = None) -> pd.DataFrame:
    """How computed commissions came about: partner, rule, base, rate / tiers, effective rate, amount."""
    return query.scope_run(con, "commission_details", [(f, ("partner",))], scenario)


def revenue_total(con: duckdb.DuckDBPyConnection, f: Filters) -> float:
    """Revenue of the won deals in scope for f (every filter, the chosen view)."""
    return float(query.scope_run(con, "revenue_total", [(f, ())], costs=False)["revenue"].iloc[0])

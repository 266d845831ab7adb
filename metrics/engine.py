"""Public metrics API: every metric of metrics-spec computed by SQL in DuckDB (metrics/sql/*.sql).

Functions take a DuckDB connection and a :class:`~metrics.filters.Filters`; they return pandas
DataFrames of aggregated rows (never one row per lead, except :func:`deals`).
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from metrics import sql
from metrics.costs import LEDGER_CATEGORIES, MetricSettings, Scenario, bind_cost_inputs, load_settings
from metrics.filters import FilterError, Filters

BY_CHOICES = ("none", "partner", "model", "month", "week", "quarter", "pipeline", "source")
TIME_UNITS = ("month", "week", "quarter")
MODEL_ORDER = {"referral": 0, "sales": 1, "service": 2, "direct": 3, "unassigned": 4}

# Public key columns of each grouping, renamed from the SQL's k_* columns.
KEY_COLUMNS: dict[str, dict[str, str]] = {
    "none": {},
    "partner": {"k_partner_id": "partner_id", "k_partner_name": "partner", "k_model": "model"},
    "model": {"k_model": "model"},
    "month": {"k_period": "period"},
    "week": {"k_period": "period"},
    "quarter": {"k_period": "period"},
    "pipeline": {"k_pipeline_id": "pipeline_id", "k_pipeline_name": "pipeline"},
    "source": {"k_source": "source"},
}
KPI_COLUMNS = (
    "leads", "qualified_leads", "won_deals", "conversion", "conversion_low", "conversion_high",
    "lead_to_qualified", "qualified_to_won", "revenue", "avg_check", "revenue_share",
    "costs", "costs_ledger", "costs_commission", "income", "income_basis", "profit", "roi", "roi_band",
    "new_clients", "cpa", "ltv", "purchases_per_client", "time_to_close_days", "too_few",
)
COST_COLUMNS = tuple(f"cost_{c}" for c in LEDGER_CATEGORIES)
COMMISSION_CATEGORY = "computed_commission"


def _dims(by: str | tuple[str, ...]) -> tuple[str, ...]:
    """Validated grouping dimensions: a `by` name or a tuple of them (at most one time unit)."""
    dims = (by,) if isinstance(by, str) else tuple(by)
    bad = [d for d in dims if d not in BY_CHOICES]
    if bad:
        raise FilterError(f"Unknown grouping {', '.join(bad)}: use one of {', '.join(BY_CHOICES)}.")
    if sum(d in TIME_UNITS for d in dims) > 1:
        raise FilterError("Group by one time unit at most (month, week or quarter).")
    return tuple(d for d in dims if d != "none")


def _margin_params(s: MetricSettings) -> dict[str, Any]:
    models = dict(s.margin_models)
    out: dict[str, Any] = {"m_account": s.margin_account}
    for model in ("referral", "sales", "service", "direct", "unassigned"):
        out[f"m_{model}"] = models.get(model)
    return out


def query_params(f: Filters, dims: tuple[str, ...], s: MetricSettings) -> dict[str, Any]:
    """Every bound parameter the KPI queries may use, for filters f grouped by dims."""
    unit = next((d for d in dims if d in TIME_UNITS), "none")
    return {
        "date_from": f.date_from, "date_to": f.date_to, "close_view": f.view == "close",
        "partners": [int(p) for p in f.partners], "models": list(f.models),
        "pipelines": [int(p) for p in f.pipelines], "sources": [str(x) for x in f.sources],
        "g_partner": "partner" in dims, "g_model": "partner" in dims or "model" in dims,
        "g_pipeline": "pipeline" in dims, "g_source": "source" in dims, "g_unit": unit,
        "min_leads": s.min_leads, "seed": not dims,
        "junk": [_norm(x) for x in s.junk_reasons],
        "w_phone": s.weight("phone"), "w_email": s.weight("email"), "w_qualified": s.weight("qualified"),
        **_margin_params(s),
    }


def _norm(name: str) -> str:
    """Normalised name as the SQL macro norm_name computes it (lower, trimmed, ё = е)."""
    return name.replace("Ё", "Е").replace("ё", "е").strip().lower()


def run(con: duckdb.DuckDBPyConnection, name: str, values: dict[str, Any]) -> pd.DataFrame:
    """Execute named query `name` with the parameters it uses, as a DataFrame."""
    return con.execute(sql.load(name), sql.params(name, values)).df()


def _prepare(con: duckdb.DuckDBPyConnection, f: Filters, dims: tuple[str, ...],
             scenario: Scenario | None) -> dict[str, Any]:
    """Bind cost inputs and return the parameters of a query over f grouped by dims."""
    settings = load_settings(con, scenario)
    bind_cost_inputs(con, scenario)
    return query_params(f, dims, settings)


def _public_keys(df: pd.DataFrame, dims: tuple[str, ...]) -> pd.DataFrame:
    """Rename the k_* columns of the grouped dims to their public names, drop the others."""
    rename: dict[str, str] = {}
    for d in dims:
        rename.update(KEY_COLUMNS[d])
    keys = list(dict.fromkeys(rename.values()))
    rest = [c for c in df.columns if not c.startswith("k_")]
    out = df.rename(columns=rename)[keys + rest]
    if "period" in out.columns:
        out["period"] = pd.to_datetime(out["period"]).dt.date
    return out


def _sort(df: pd.DataFrame) -> pd.DataFrame:
    """Stable presentation order: period, then model order, partner name (direct last), pipeline, source."""
    if df.empty:
        return df.reset_index(drop=True)
    key = pd.DataFrame(index=df.index)
    if "period" in df.columns:
        key["period"] = df["period"]
    if "partner" in df.columns:
        key["direct"] = df["partner_id"].isna()
        key["partner"] = df["partner"].fillna("").str.lower()
    elif "model" in df.columns:
        key["model"] = df["model"].map(MODEL_ORDER)
    for col in ("pipeline_id", "source"):
        if col in df.columns:
            key[col] = df[col]
    if key.columns.empty:
        return df.reset_index(drop=True)
    order = key.sort_values(list(key.columns), na_position="last", kind="stable").index
    return df.loc[order].reset_index(drop=True)


def grouped(con: duckdb.DuckDBPyConnection, f: Filters, by: str | tuple[str, ...] = "none",
            scenario: Scenario | None = None) -> pd.DataFrame:
    """KPI rows grouped by one or more dimensions (e.g. ("month", "model")); see kpis()."""
    dims = _dims(by)
    values = _prepare(con, f, dims, scenario)
    df = run(con, "kpis", values)
    for col in ("leads", "qualified_leads", "won_deals", "new_clients"):
        df[col] = df[col].astype("int64")
    return _sort(_public_keys(df, dims))


def kpis(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "none",
         scenario: Scenario | None = None) -> pd.DataFrame:
    """One row per group (by: none|partner|model|month|week|quarter|pipeline|source) with every KPI."""
    if by not in BY_CHOICES:
        raise FilterError(f"Unknown grouping {by!r}: use one of {', '.join(BY_CHOICES)}.")
    return grouped(con, f, by, scenario)

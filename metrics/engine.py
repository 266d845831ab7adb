"""Public metrics API: every metric of metrics-spec computed by SQL in DuckDB (metrics/sql/*.sql).

Functions take a DuckDB connection and a :class:`~metrics.filters.Filters`; they return pandas
DataFrames of aggregated rows (never one row per lead, except :func:`deals`).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from metrics import fetch, maturity, sql, stats
from metrics.costs import LEDGER_CATEGORIES, MetricSettings, Scenario, bind_cost_inputs, load_settings
from metrics.filters import FilterError, Filters
from metrics.registry import METRICS

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
# The close view's own ratio and its counts (empty in the cohort view; metrics-spec "conversion")
CLOSE_COLUMNS = ("won_closed", "lost_closed", "win_rate_closed", "win_rate_closed_low", "win_rate_closed_high")
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


def query_params(f: Filters, s: MetricSettings) -> dict[str, Any]:
    """Every bound parameter the metric queries may use, for filters f and settings s."""
    return {
        "date_from": f.date_from, "date_to": f.date_to,
        "partners": [int(p) for p in f.partners], "models": list(f.models),
        "pipelines": [int(p) for p in f.pipelines], "sources": [str(x) for x in f.sources],
        "min_leads": s.min_leads,
        "junk": [_norm(x) for x in s.junk_reasons],
        "w_phone": s.weight("phone"), "w_email": s.weight("email"), "w_qualified": s.weight("qualified"),
        **_margin_params(s),
    }


def _norm(name: str) -> str:
    """Normalised name as the SQL macro norm_name computes it (lower, trimmed, ё = е)."""
    return name.replace("Ё", "Е").replace("ё", "е").strip().lower()


def run(con: duckdb.DuckDBPyConnection, name: str, values: dict[str, Any],
        slot_items: tuple[tuple[str, str], ...] = ()) -> pd.DataFrame:
    """Execute named query `name` (slots filled) with the parameters it uses, as a DataFrame."""
    text = sql.render(name, slot_items or sql.slots())
    return fetch.frame(con.execute(text, sql.params(text, values)))


# A frame is one (filters, grouping) of a page. Frames that share the partner / model / pipeline / source
# filters are computed by one query (one scope each, see _scope.sql): a query's fixed cost (planning, some
# hundred small operators) is paid once per page instead of once per number block.
Frame = tuple[Filters, tuple[str, ...]]
LITE = "lite"  # third element of a kpis_many request: no client metrics
# Text of a boolean slot (funnel.sql's {{by_lead}}, deals.sql's {{won_only}}): a constant, so DuckDB drops the
# branch of the other case before planning its scans
CONSTANT = {True: "true", False: "false"}
CLIENT_METRICS = ("new_clients", "cpa", "ltv", "purchases_per_client", "time_to_close_days")  # empty when lite


def _scope(sid: int, f: Filters, dims: tuple[str, ...], lite: bool = False) -> dict[str, Any]:
    """The $scopes entry of one frame: its dates, view and grouping flags (lite: no client metrics)."""
    split = bool(f.pipelines or f.sources) or "pipeline" in dims or "source" in dims
    return {"sid": sid, "date_from": f.date_from, "date_to": f.date_to, "close_view": f.view == "close",
            "g_partner": "partner" in dims, "g_model": "model" in dims, "g_pipeline": "pipeline" in dims,
            "g_source": "source" in dims, "g_unit": next((d for d in dims if d in TIME_UNITS), None),
            "g_split": split, "g_seed": not dims,
            # a partner's model follows from the partner: grouping by it too would only cost string hashing
            "g_pm": "partner" in dims and "model" not in dims, "g_clients": not lite, "fams": [sid]}


def frame_dims(by: str | tuple[str, ...]) -> tuple[str, ...]:
    """The grouping dimensions of a `by` (validated): the key under which a frame's rows are the same."""
    return _dims(by)


def _narrowing(f: Filters) -> tuple[Any, ...]:
    return (f.partners, f.models, f.pipelines, f.sources)


def scope_run(con: duckdb.DuckDBPyConnection, name: str, frames: list[Frame], scenario: Scenario | None = None,
              costs: bool = True, lite: tuple[bool, ...] = (), slots: dict[str, str] | None = None,
              share: bool = False, **extra: Any) -> pd.DataFrame:
    """Run a scope-based query (one scope per frame, sid = position) for frames sharing their narrowing
    (share: scopes of equal dates read the data once, see _families; only kpis rolls scopes up from them)."""
    base = frames[0][0]
    if any(_narrowing(f) != _narrowing(base) for f, _ in frames):
        raise ValueError("frames of one query must share partner, model, pipeline and source filters")
    values = _prepare(con, base, scenario, costs)
    scopes = [_scope(i, f, dims, bool(lite and lite[i])) for i, (f, dims) in enumerate(frames)]
    fams = _families(scopes, share)
    split_filtering = bool(base.pipelines or base.sources)
    values.update(
        date_from=min(f.date_from for f, _ in frames), date_to=max(f.date_to for f, _ in frames),
        scopes=scopes, fams=fams, split_filtering=split_filtering, **extra)
    detailed = any(s["g_split"] for s in scopes)
    items = sql.scope_slots(tuple(_fam_dims(f) for f in fams), detailed, tuple(dims for _, dims in frames))
    chosen = {**dict(items), "lost_part": sql.LOST_PART[any(f["close_view"] for f in fams)],
              "client_part": sql.CLIENT_PART[any(s["g_clients"] for s in scopes)],
              "scope_deals": sql.DEAL_VIEWS[tuple(sorted({f["close_view"] for f in fams}))],
              "split_rel": sql.SPLIT_REL[detailed],  # pipeline / source filters make every scope split
              "all_revenue": sql.ALL_REVENUE[bool(base.partners or base.models or base.sources)], **(slots or {})}
    return run(con, name, values, tuple(sorted(chosen.items())))


def _families(scopes: list[dict[str, Any]], share: bool) -> list[dict[str, Any]]:
    """Set each scope's families ("fams") and return them: the $fams entries the data CTEs join.

    With share, scopes of one view (and at most one time unit) share their data: the days they cover are cut at
    every scope's first and last day into segments, each a family read once and grouped by every key of the
    scopes covering it; the query then rolls each scope up from the families of its days (additive sums; client
    metrics from the same rows). The overview's "a week ago" frame thus reads only the last week apart from its
    period. Without share, every scope is its own family (the queries that read the family rows as the scope's).
    """
    if not share:
        for s in scopes:
            s["fams"] = [s["sid"]]
        return [{**s} for s in scopes]
    fams: list[dict[str, Any]] = []
    for cluster in _clusters(scopes):
        cuts = sorted({d for s in cluster for d in (s["date_from"], s["date_to"] + timedelta(days=1))})
        for lo, end in zip(cuts[:-1], cuts[1:], strict=True):
            covering = [s for s in cluster if s["date_from"] <= lo and end <= s["date_to"] + timedelta(days=1)]
            if covering:
                fams.append(_segment(len(fams), lo, end - timedelta(days=1), covering))
    return fams


def _clusters(scopes: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Scopes that may share data: the same view, and no two time units."""
    clusters: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    for s in scopes:
        home = next((c for c in clusters if c[0]["close_view"] == s["close_view"]
                     and (c[0]["g_unit"] is None or s["g_unit"] is None or c[0]["g_unit"] == s["g_unit"])), None)
        if home is None:
            home = ({"close_view": s["close_view"], "g_unit": None}, [])
            clusters.append(home)
        home[0]["g_unit"] = home[0]["g_unit"] or s["g_unit"]
        home[1].append(s)
        s["fams"] = []
    return [members for _, members in clusters]


def _segment(sid: int, lo: date, hi: date, covering: list[dict[str, Any]]) -> dict[str, Any]:
    """The family of days lo..hi read for the scopes covering them (flags: the union of theirs)."""
    fam = {**covering[0], "sid": sid, "date_from": lo, "date_to": hi, "fams": [sid]}
    for flag in ("g_partner", "g_model", "g_pipeline", "g_source", "g_split", "g_seed", "g_clients"):
        fam[flag] = any(s[flag] for s in covering)
    fam["g_unit"] = next((s["g_unit"] for s in covering if s["g_unit"]), None)
    fam["g_pm"] = fam["g_partner"] and not fam["g_model"]
    for s in covering:
        s["fams"].append(sid)
    return fam


def _fam_dims(fam: dict[str, Any]) -> tuple[str, ...]:
    """The grouping dimensions of a family entry (the union of its scopes')."""
    dims = tuple(d for d, flag in sql.FLAG.items() if fam[flag])
    return dims + ((fam["g_unit"],) if fam["g_unit"] else ())


def _prepare(con: duckdb.DuckDBPyConnection, f: Filters, scenario: Scenario | None = None,
             costs: bool = True) -> dict[str, Any]:
    """Bind the cost inputs (unless costs=False); return the parameters of a query over f."""
    settings = load_settings(con, scenario)
    if costs:
        bind_cost_inputs(con, scenario)
    return query_params(f, settings)


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


def _nullable_columns(df: pd.DataFrame) -> list[str]:
    """Columns DuckDB gave a nullable integer / boolean dtype (it does so only when the column holds a null)."""
    return [col for col, dtype in df.dtypes.items()
            if isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iub"]


def _typed_part(part: pd.DataFrame, nullable: list[str]) -> pd.DataFrame:
    """A scope's rows with plain dtypes where it has no null: other scopes' null keys must not change them."""
    for col in nullable:
        if col in part.columns and not part[col].isna().any():
            part[col] = part[col].astype(part[col].dtype.numpy_dtype)
    return part


def _scope_parts(df: pd.DataFrame, n: int) -> list[pd.DataFrame]:
    """The rows of scopes 0..n-1 of a result ordered by sid, each typed as a query of it alone would give them."""
    bounds = np.searchsorted(df["sid"].to_numpy(), np.arange(n + 1))
    nullable = _nullable_columns(df)
    return [_typed_part(df.iloc[a:b].drop(columns="sid").reset_index(drop=True), nullable)
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _public_names(dims: tuple[str, ...]) -> dict[str, str]:
    """Public key name -> k_* column of a grouping, in the order _public_keys puts them."""
    names: dict[str, str] = {}
    for d in dims:
        for col, public in KEY_COLUMNS[d].items():
            names.setdefault(public, col)
    return names


def _kpi_frames(df: pd.DataFrame, frames: list[Frame], lite: list[bool]) -> list[pd.DataFrame]:
    """Each frame's KPI rows (kpis.sql's presentation order, typed counts, public key names) from one result
    ordered by sid (lite: client metrics missing, not zero).

    The conversions common to all frames run once on the whole result and each frame is one positional slice:
    renaming, dropping and casting frame by frame cost ~4 ms per frame, more than the data work of a small one.
    """
    for col in ("leads", "qualified_leads", "won_deals"):
        df[col] = df[col].astype("int64")
    if "k_period" in df.columns and any(_public_names(dims).get("period") for _, dims in frames):
        df["k_period"] = pd.to_datetime(df["k_period"]).dt.date.astype(object)  # object even when all null
    bounds = np.searchsorted(df["sid"].to_numpy(), np.arange(len(frames) + 1))
    nullable = set(_nullable_columns(df))
    rest = [c for c in df.columns if c != "sid" and not c.startswith("k_")]
    out = []
    for (_, dims), is_lite, a, b in zip(frames, lite, bounds[:-1], bounds[1:], strict=True):
        names = _public_names(dims)
        part = df.iloc[a:b, df.columns.get_indexer([*names.values(), *rest])]
        part.columns = [*names, *rest]
        part.index = pd.RangeIndex(b - a)
        part = _typed_part(part, [c for c in part.columns if names.get(c, c) in nullable])
        part["new_clients"] = part["new_clients"].astype("float64" if is_lite else "int64")
        out.append(part)
    return out


def kpis_many(con: duckdb.DuckDBPyConnection, requests: tuple[tuple[Any, ...], ...],
              scenario: Scenario | None = None) -> list[pd.DataFrame]:
    """KPI rows of several requests, one query per distinct narrowing; results in order.

    A request is (filters, grouping) or (filters, grouping, "lite"): a lite frame leaves the client metrics
    (new clients, CPA, LTV, purchases per client) and days to close empty, which saves most of the work.
    """
    frames = [(r[0], _dims(r[1])) for r in requests]
    lite = [len(r) > 2 and r[2] == LITE for r in requests]
    batches: dict[tuple[Any, ...], list[int]] = {}
    for i, (f, _) in enumerate(frames):
        batches.setdefault(_narrowing(f), []).append(i)
    out: list[pd.DataFrame] = [pd.DataFrame()] * len(frames)
    for idxs in batches.values():  # each frame's rows then get their maturity (metrics.maturity)
        batch = [frames[i] for i in idxs]
        df = scope_run(con, "kpis", batch, scenario, lite=tuple(lite[i] for i in idxs), share=True)
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


def commission_details(con: duckdb.DuckDBPyConnection, f: Filters,
                       scenario: Scenario | None = None) -> pd.DataFrame:
    """How computed commissions came about: partner, rule, base, rate / tiers, effective rate, amount."""
    return scope_run(con, "commission_details", [(f, ("partner",))], scenario)


def monthly(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "none",
            scenario: Scenario | None = None) -> pd.DataFrame:
    """Revenue vs costs per calendar month (optionally per partner / model / ...): chart input."""
    if by in TIME_UNITS:
        raise FilterError("monthly() already groups by month: choose none, partner, model, pipeline or source.")
    dims = _dims(("month",) if by == "none" else ("month", by))
    df = _scope_parts(scope_run(con, "monthly", [(f, dims)], scenario), 1)[0].astype(
        {"leads": "int64", "won_deals": "int64"})
    return maturity.annotate(con, [(f, dims)], [_sort(_public_keys(df, dims))])[0]


def funnel(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Per pipeline and stage: leads of the period that reached it (stage history), share and step share."""
    # a source filter needs the leads one by one (fact_stage_days has no source columns)
    df = run(con, "funnel", query_params(f, load_settings(con)), (("by_lead", CONSTANT[bool(f.sources)]),))
    for col in ("reached", "leads"):
        df[col] = df[col].astype("int64")
    return df


def quality(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "partner") -> pd.DataFrame:
    """Lead quality per group: mean score, shares with phone / e-mail / qualified, junk share."""
    dims = _dims(by)
    values = query_params(f, load_settings(con))
    # the day counts have no pipeline or source columns: filtering or grouping by them reads the leads
    by_lead = bool(f.pipelines or f.sources) or "pipeline" in dims or "source" in dims
    df = run(con, "quality", values, (*sql.slots(dims), ("by_lead", CONSTANT[by_lead])))
    df["leads"] = df["leads"].astype("int64")
    return _sort(_public_keys(df, dims))


PVD_COLUMNS = ("leads", "won_deals", "win_rate", "win_rate_low", "win_rate_high", "revenue", "avg_check",
               "time_to_close_days")


def partner_vs_direct(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Each model, all partners and direct: win rate (Wilson), average check, days to close, diffs vs direct."""
    df = scope_run(con, "partner_vs_direct", [(f, ())], costs=False)
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


def deals(con: duckdb.DuckDBPyConnection, f: Filters, partner_id: int | None, won_only: bool = True,
          scenario: Scenario | None = None) -> pd.DataFrame:
    """A partner's won deals in scope (None = direct) with commission, newest first; won_only=False: all leads."""
    narrowed = replace(f, partners=(int(partner_id),), models=()) if partner_id is not None \
        else replace(f, partners=(), models=("direct",))
    return scope_run(con, "deals", [(narrowed, ())], scenario,
                     slots={"won_only": CONSTANT[won_only]})


def rank(df: pd.DataFrame, metric: str, by_lower_bound: bool = False, higher_is_better: bool | None = None,
         ) -> pd.DataFrame:
    """Add `rank` (1 = best) and `highlight` (best / worst) by metric or its cautious interval bound."""
    # too_few rows, rows without a value and the direct baseline (partner_id null) get no rank. With
    # by_lower_bound the pessimistic bound is used (`_low` when higher is better, else `_high`), so a small,
    # noisy group cannot top the list on luck: for conversion and ROI the bound of the partially pooled estimate
    # (metrics.pooling, added when missing), so even with min_leads = 1 three wins of three leads stay below
    # a 500-lead partner at 20 %.
    better_high = higher_is_better if higher_is_better is not None else \
        getattr(METRICS.get(metric), "higher_is_better", True)
    col = metric
    if by_lower_bound:
        from metrics import pooling  # imported here: pooling builds on this module
        df, col = pooling.bound_column(df, metric, better_high)
        if col not in df.columns:
            raise FilterError(f"No interval column {col} to rank by: use roi_interval() or conversion.")
    out = df.copy()
    eligible = out[col].notna()
    if "too_few" in out.columns:
        eligible &= ~out["too_few"].fillna(False).astype(bool)
    if "partner_id" in out.columns:
        eligible &= out["partner_id"].notna()
    ranks = out.loc[eligible, col].rank(ascending=not better_high, method="min")
    out["rank"] = ranks.astype("Int64").reindex(out.index)
    out["highlight"] = None
    if eligible.sum() >= 2:
        out.loc[ranks.idxmin(), "highlight"] = "best"
        out.loc[ranks.idxmax(), "highlight"] = "worst"
    return out


SCOPE_KEY_COLUMNS = ("k_partner_id", "k_model", "k_pipeline_id", "k_source", "k_period")  # a group's seed key
ROI_UNIT_COLUMNS = ("n", "k", "fixed", "sx", "sy", "sxx", "syy", "sxy", "xs", "ys")  # roi_units.sql's inputs


def roi_interval(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "partner", n_boot: int = 1000,
                 seed: int = 0, scenario: Scenario | None = None) -> pd.DataFrame:
    """Bootstrap 95 % interval of ROI per group (resampling its leads and deals, seeded): roi_low, roi_high."""
    dims = _dims(by)
    raw = _scope_parts(scope_run(con, "roi_units", [(f, dims)], scenario, max_exact=stats.EXACT_MAX_UNITS), 1)[0]
    return _roi_intervals(raw, dims, n_boot, seed)


def kpis_with_roi(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "partner", n_boot: int = 1000,
                  seed: int = 0, scenario: Scenario | None = None,
                  lite: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(grouped(f, by, lite), roi_interval(f, by)), computed side by side (together): the partners leaderboard
    (lite unless it shows a client metric)."""
    # the ROI intervals (the longer, with their bootstrap) first: they run on con, the KPI rows on its cursor
    intervals, rows = together(con, (Call.of(roi_interval, f, by=by, n_boot=n_boot, seed=seed, scenario=scenario),
                                     Call.of(grouped, f, by=by, scenario=scenario, lite=lite)))
    return rows, intervals


def _roi_intervals(raw: pd.DataFrame, dims: tuple[str, ...], n_boot: int, seed: int) -> pd.DataFrame:
    """roi_interval's rows from roi_units rows of one scope (bootstrap per group, seeded by the group's keys)."""
    cols = {c: raw[c].tolist() for c in (*SCOPE_KEY_COLUMNS, *ROI_UNIT_COLUMNS)}  # lists: cheaper than rows
    lows, highs, methods, rois = [], [], [], []
    for i in range(len(raw)):
        xs, ys = (np.asarray(v if isinstance(v, (list, np.ndarray)) else [], dtype=float)
                  for v in (cols["xs"][i], cols["ys"][i]))
        n, k, fixed, sx, sy = (cols[c][i] for c in ("n", "k", "fixed", "sx", "sy"))
        sample = stats.RoiSample(int(max(n, k)), float(fixed), xs, ys,
                                 (int(k), sx, sy, cols["sxx"][i], cols["syy"][i], cols["sxy"][i]))
        group = tuple(cols[c][i] for c in SCOPE_KEY_COLUMNS)
        low, high, method = stats.roi_bootstrap(sample, n_boot, stats.group_seed(seed, group))
        costs = fixed + sy
        rois.append((sx - costs) / costs if costs else None)
        lows.append(low)
        highs.append(high)
        methods.append(method)
    # roi_units.sql names the keys and orders the rows; a partner's row shows the partner's model
    out = raw[[c for c in raw.columns if c.startswith("k_")]]
    if "partner" in dims:
        out = out.assign(k_model=raw["partner_model"])
    out = out.assign(units=raw["n"].astype("int64"), roi=rois, roi_low=lows, roi_high=highs, method=methods)
    return _public_keys(out, dims).reset_index(drop=True)


def revenue_total(con: duckdb.DuckDBPyConnection, f: Filters) -> float:
    """Revenue of the won deals in scope for f (every filter, the chosen view)."""
    return float(scope_run(con, "revenue_total", [(f, ())], costs=False)["revenue"].iloc[0])


def breakeven_commission_rate(con: duckdb.DuckDBPyConnection, f: Filters, partner_id: int,
                              scenario: Scenario | None = None) -> float | None:
    """Percent-of-revenue commission rate at which the partner's ROI is 0, other costs unchanged."""
    # Other costs = ledger share + rewards of the other rule kinds. None without revenue; a negative rate
    # means the partner loses money even with no percentage commission.
    parts = _commission_parts(con, f, partner_id, scenario)
    if parts is None or parts["revenue"] <= 0:
        return None
    return (parts["income"] - parts["other_costs"]) / parts["revenue"]


def roi_sensitivity(con: duckdb.DuckDBPyConnection, f: Filters, partner_ids: list[int] | tuple[int, ...],
                    rates: list[float] | tuple[float, ...], scenario: Scenario | None = None) -> pd.DataFrame:
    """ROI of each partner if its percent-of-revenue commission rate were each of `rates` (other costs kept)."""
    rows = []
    for pid in partner_ids:
        parts = _commission_parts(con, f, pid, scenario) or {"revenue": 0.0, "income": 0.0, "other_costs": 0.0,
                                                            "partner": None}
        for rate in rates:
            costs = parts["other_costs"] + rate * parts["revenue"]
            profit = parts["income"] - costs
            roi = profit / costs if costs else None
            rows.append({"partner_id": pid, "partner": parts["partner"], "rate": rate, "revenue": parts["revenue"],
                         "income": parts["income"], "costs": costs, "profit": profit, "roi": roi,
                         "roi_band": roi_band(roi)})
    return pd.DataFrame(rows, columns=["partner_id", "partner", "rate", "revenue", "income", "costs", "profit",
                                       "roi", "roi_band"])


def _commission_parts(con: duckdb.DuckDBPyConnection, f: Filters, partner_id: int,
                      scenario: Scenario | None) -> dict[str, Any] | None:
    """A partner's revenue, income and costs other than percent-of-revenue commissions."""
    narrowed = replace(f, partners=(int(partner_id),), models=())
    row = kpis(con, narrowed, "partner", scenario)
    row = row[row["partner_id"] == partner_id]
    if row.empty:
        return None
    details = commission_details(con, narrowed, scenario)
    percent = float(details.loc[details["kind"] == "percent_revenue", "amount"].sum())
    r = row.iloc[0]
    return {"partner": r["partner"], "revenue": float(r["revenue"]), "income": float(r["income"]),
            "other_costs": float(r["costs"]) - percent}


def roi_band(roi: float | None) -> str:
    """ROI band per metrics-spec: excellent ≥ 2, profitable ≥ 0.5, marginal ≥ 0, loss < 0, n/a."""
    if roi is None or (isinstance(roi, float) and np.isnan(roi)):
        return "n/a"
    if roi >= 2:
        return "excellent"
    if roi >= 0.5:
        return "profitable"
    return "marginal" if roi >= 0 else "loss"


# ---------- several queries side by side ----------

def payback(con: duckdb.DuckDBPyConnection, f: Filters, model: str | None = None,
            partner_id: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """metrics.payback.payback (cohort curves, payback months), named here so a page runs it beside its others."""
    from metrics import payback as cohorts  # imported here: metrics.payback builds on this module
    return cohorts.payback(con, f, model=model, partner_id=partner_id)


def qualified_name(fn: Callable[..., Any]) -> str:
    """module.qualname of a function: how a call names it (a wrapper made with functools.wraps names the same)."""
    return f"{fn.__module__}.{fn.__qualname__}"


# A query runs mostly on one core (its pipelines are small and follow each other); a page's independent queries
# run side by side on two connections of the same database, the caller's and a cursor of it kept for the next
# page (the cursor binds its own cost inputs once). Only these engine functions may be called.
TOGETHER = frozenset(qualified_name(fn) for fn in (kpis_many, kpis, grouped, roi_interval, deals, funnel, quality,
                                                   partner_vs_direct, payback))


@dataclass(frozen=True)
class Call:
    """One engine computation to run later: fn(con, *args, **dict(kwargs)); frozen and hashable, so a cache can key
    on it (key()).

    kwargs are (name, value) pairs, kept sorted by name: the same call written with its keywords in another order is
    equal to it.
    """

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", tuple(self.args))
        object.__setattr__(self, "kwargs", tuple(sorted(self.kwargs, key=lambda item: item[0])))

    @classmethod
    def of(cls, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Call:
        """The call fn(con, *args, **kwargs), written as it would be made."""
        return cls(fn, args, tuple(kwargs.items()))

    @property
    def name(self) -> str:
        """The function's qualified name (module.qualname)."""
        return qualified_name(self.fn)

    def key(self) -> tuple[Any, ...]:
        """(qualified name, args, kwargs): what a cache keys the call on, the same in every process (a function
        object hashes by its address; its name does not change between runs)."""
        return (self.name, self.args, self.kwargs)

    def run(self, con: duckdb.DuckDBPyConnection) -> Any:
        """The call's result on con."""
        return self.fn(con, *self.args, **dict(self.kwargs))


_LANE: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection] = weakref.WeakKeyDictionary()
_LANE_NAME = "partner-roi-lane"
_LANE_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix=_LANE_NAME)


def together(con: duckdb.DuckDBPyConnection, calls: tuple[Call, ...]) -> list[Any]:
    """Run engine calls on con and a second connection at once; results in order.

    Each call takes the connection that comes free first, so the first (the largest, by convention) runs on con
    while the others follow one another beside it.
    """
    unknown = sorted({c.fn.__name__ for c in calls if c.name not in TOGETHER})
    if unknown:
        known = sorted(name.rsplit(".", 1)[-1] for name in TOGETHER)
        raise ValueError(f"together() runs only {', '.join(known)}; not {', '.join(unknown)}")
    pending = iter(enumerate(calls))
    lock = threading.Lock()

    def lane(c: duckdb.DuckDBPyConnection) -> dict[int, Any]:
        done: dict[int, Any] = {}
        while True:
            with lock:
                item = next(pending, None)
            if item is None:
                return done
            i, call = item
            done[i] = call.run(c)

    if len(calls) < 2 or threading.current_thread().name.startswith(_LANE_NAME):
        results = lane(con)  # one call, or called from the pool's thread: waiting on the pool would deadlock
    else:
        beside = _LANE_POOL.submit(lane, _lane_cursor(con))
        try:
            results = lane(con)
        finally:  # never leave the cursor running when the caller goes on (it may close con)
            done = beside.result()
        results.update(done)
    return [results[i] for i in range(len(calls))]


def _lane_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """con's second connection for together() (closed with con)."""
    cursor = _LANE.get(con)
    if cursor is None:
        cursor = _LANE[con] = con.cursor()
    return cursor

"""Running a metric query: the bound parameters, the groupings, and the scopes of a page's frames (one query for
every frame sharing its narrowing; frames of equal dates read the data once, see scope_run)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd

from metrics import fetch, sql
from metrics.costs import MetricSettings, Scenario, bind_cost_inputs, load_settings
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
        "junk": [norm_name(x) for x in s.junk_reasons],
        "w_phone": s.weight("phone"), "w_email": s.weight("email"), "w_qualified": s.weight("qualified"),
        **_margin_params(s),
    }


def norm_name(name: str) -> str:
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
# Text of a boolean slot (funnel.sql's {{by_lead}}, deals.sql's {{won_only}}): a constant, so DuckDB drops the
# branch of the other case before planning its scans
CONSTANT = {True: "true", False: "false"}


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


def narrowing(f: Filters) -> tuple[Any, ...]:
    """f's partner, model, pipeline and source filters: frames with the same narrowing share one query."""
    return (f.partners, f.models, f.pipelines, f.sources)


def scope_run(con: duckdb.DuckDBPyConnection, name: str, frames: list[Frame], scenario: Scenario | None = None,
              costs: bool = True, lite: tuple[bool, ...] = (), slots: dict[str, str] | None = None,
              share: bool = False, **extra: Any) -> pd.DataFrame:
    """Run a scope-based query (one scope per frame, sid = position) for frames sharing their narrowing
    (share: scopes of equal dates read the data once, see _families; only kpis rolls scopes up from them)."""
    base = frames[0][0]
    if any(narrowing(f) != narrowing(base) for f, _ in frames):
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

"""Running a metric query: the bound parameters, the groupings, and the scopes of a page's frames (one query for
every frame sharing its narrowing; frames of equal dates read the data once, see scope_run)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Prepared:
    """One query as it runs: its name, template inputs, rendered text and the parameters that text binds."""

    name: str
    inputs: Mapping[str, Any]
    text: str
    params: dict[str, Any]


def prepare(name: str, values: dict[str, Any], inputs: Mapping[str, Any] | None = None) -> Prepared:
    """Query `name` rendered for its template inputs (default: ungrouped rows), with the parameters it uses."""
    inputs = {**sql.plain_inputs(), **(inputs or {})}
    text = sql.render(name, inputs)
    return Prepared(name, inputs, text, sql.params(text, values))


# The queries run in this context while recording() is active: `python -m metrics.sql show` runs a page's
# engine call and prints what it ran (a context variable, so concurrent sessions never see each other's).
_RECORDED: ContextVar[list[Prepared] | None] = ContextVar("recorded_queries", default=None)


@contextmanager
def recording() -> Iterator[list[Prepared]]:
    """Collect every query executed through this module meanwhile (in this context), in order."""
    got: list[Prepared] = []
    token = _RECORDED.set(got)
    try:
        yield got
    finally:
        _RECORDED.reset(token)


def execute(con: duckdb.DuckDBPyConnection, q: Prepared) -> pd.DataFrame:
    """Run a prepared query, as a DataFrame."""
    recorded = _RECORDED.get()
    if recorded is not None:
        recorded.append(q)
    return fetch.frame(con.execute(q.text, q.params))


def run(con: duckdb.DuckDBPyConnection, name: str, values: dict[str, Any],
        inputs: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Execute named query `name` (rendered for its template inputs) with the parameters it uses."""
    return execute(con, prepare(name, values, inputs))


# A frame is one (filters, grouping) of a page. Frames that share the partner / model / pipeline / source
# filters are computed by one query (one scope each, see _scope.sql): a query's fixed cost (planning, some
# hundred small operators) is paid once per page instead of once per number block.
Frame = tuple[Filters, tuple[str, ...]]
GROUP_FLAGS = {"partner": "g_partner", "model": "g_model", "pipeline": "g_pipeline", "source": "g_source"}


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
              costs: bool = True, lite: tuple[bool, ...] = (), inputs: Mapping[str, Any] | None = None,
              share: bool = False, **extra: Any) -> pd.DataFrame:
    """Run a scope-based query (one scope per frame, sid = position) for frames sharing their narrowing
    (share: scopes of equal dates read the data once, see _families; only kpis rolls scopes up from them;
    inputs: the query's own template inputs, e.g. deals.sql's won_only)."""
    settings = load_settings(con, scenario)
    if costs:
        bind_cost_inputs(con, scenario)
    return execute(con, scope_query(name, frames, settings, lite, inputs, share, **extra))


def scope_query(name: str, frames: list[Frame], settings: MetricSettings, lite: tuple[bool, ...] = (),
                inputs: Mapping[str, Any] | None = None, share: bool = False, **extra: Any) -> Prepared:
    """The prepared scope-based query of scope_run (no connection: the settings are given)."""
    base = frames[0][0]
    if any(narrowing(f) != narrowing(base) for f, _ in frames):
        raise ValueError("frames of one query must share partner, model, pipeline and source filters")
    values = query_params(base, settings)
    scopes = [_scope(i, f, dims, bool(lite and lite[i])) for i, (f, dims) in enumerate(frames)]
    fams = _families(scopes, share)
    split_filtering = bool(base.pipelines or base.sources)
    values.update(
        date_from=min(f.date_from for f, _ in frames), date_to=max(f.date_to for f, _ in frames),
        scopes=scopes, fams=fams, split_filtering=split_filtering, **extra)
    chosen = {
        **sql.scope_keys(tuple(_fam_dims(f) for f in fams), tuple(dims for _, dims in frames)),
        "detailed": any(s["g_split"] for s in scopes),  # pipeline / source filters make every scope split
        "deal_views": tuple(v for v, close in (("cohort", False), ("close", True))
                            if any(f["close_view"] == close for f in fams)),
        "narrowed": bool(base.partners or base.models or base.sources),
        "lost_leads": any(f["close_view"] for f in fams),
        "clients": any(s["g_clients"] for s in scopes),
        **(inputs or {}),
    }
    return prepare(name, values, chosen)


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
    dims = tuple(d for d, flag in GROUP_FLAGS.items() if fam[flag])
    return dims + ((fam["g_unit"],) if fam["g_unit"] else ())

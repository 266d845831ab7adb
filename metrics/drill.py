"""Drill-through: the leads / deals behind any number, for the Filters the number used plus a narrowing.

A narrowing is a set of named filters (`narrow(f, partner=7, status="won")`). Each name is one entry of one of
two small dicts: FILTERS narrows the Filters object itself (what the SQL binds: partner, model, period, pipeline,
source), ROWS keeps the rows of the list that match (status, stage). Adding a narrowing over another column of
the list is one line in ROWS (``pre_existing``: the lead's client was ours already).

The list is `deal_list.sql` (deals.sql's rows with the client's name): the same scope CTEs as the KPI queries, so
its counts are the cards' (tests/metrics/test_drill.py holds leads, won deals and revenue to the engine's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import duckdb
import pandas as pd

from metrics import query
from metrics.costs import Scenario
from metrics.filters import ALL_MODELS, FilterError, Filters

DIRECT = "direct"  # partner=DIRECT: the leads without a partner
PARTNER_MODELS = tuple(m for m in ALL_MODELS if m != DIRECT)  # model=PARTNER_MODELS: every partner's leads


def _partner(f: Filters, value: Any) -> Filters:
    """One partner by id (its model follows from it), or direct sales."""
    if value == DIRECT:
        return replace(f, partners=(), models=(DIRECT,))
    return replace(f, partners=(int(value),), models=())


def _model(f: Filters, value: Any) -> Filters:
    """One model, or several (a tuple: e.g. every partner model, "all partners" against direct)."""
    models = (value,) if isinstance(value, str) else tuple(value)
    bad = [m for m in models if m not in ALL_MODELS]
    if bad or not models:
        raise FilterError(f"Unknown model {value!r}: use {', '.join(ALL_MODELS)}.")
    return replace(f, models=models)


def _period(f: Filters, value: Any) -> Filters:
    """A sub-period (first, last) — a chart's month or week — cut to the number's own period, as its bar is."""
    first, last = (pd.Timestamp(v).date() for v in value)
    first, last = max(first, f.date_from), min(last, f.date_to)
    if first > last:
        raise FilterError(f"The period {value[0]} … {value[1]} lies outside {f.date_from} … {f.date_to}.")
    return replace(f, date_from=first, date_to=last)


# name -> the Filters narrowed by a value (what the query binds)
FILTERS: dict[str, Callable[[Filters, Any], Filters]] = {
    "partner": _partner,
    "model": _model,
    "period": _period,
    "pipeline": lambda f, v: replace(f, pipelines=(int(v),)),
    "source": lambda f, v: replace(f, sources=(str(v),)),
}

# status -> the rows of the list it keeps. leads: L (the `leads` card); won: the won deals in scope (`won_deals`,
# `revenue`; in the close view those closed in the period); qualified / lost / open: leads of L in that state.
STATUSES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "leads": lambda d: d["in_leads"],
    "qualified": lambda d: d["in_leads"] & d["is_qualified"],
    "won": lambda d: d["in_deals"],
    "lost": lambda d: d["in_leads"] & d["is_lost"],
    "open": lambda d: d["in_leads"] & ~d["is_won"] & ~d["is_lost"],
    "all": lambda d: d["in_leads"] | d["in_deals"],
}


def state(is_won: object, is_lost: object) -> str:
    """A listed lead's state: won, lost or open."""
    return "won" if bool(is_won) else "lost" if bool(is_lost) else "open"


def _status(d: pd.DataFrame, value: Any) -> pd.Series:
    if value not in STATUSES:
        raise FilterError(f"Unknown status {value!r}: use {', '.join(STATUSES)}.")
    return STATUSES[value](d)


# name -> the rows of the list a value keeps (a column of deal_list.sql)
ROWS: dict[str, Callable[[pd.DataFrame, Any], pd.Series]] = {
    "status": _status,
    "stage": lambda d, v: d["status_id"] == int(v),
    "pre_existing": lambda d, v: d["preexisting"] == bool(v),  # metrics-spec "Credit and incrementality"
}


@dataclass(frozen=True)
class Drill:
    """What a number counts: the Filters its query bound, and the row narrowings (name, value) on its list."""

    filters: Filters
    rows: tuple[tuple[str, Any], ...] = (("status", "won"),)

    @property
    def status(self) -> str:
        """The status narrowing (won when none was given)."""
        return next((v for k, v in self.rows if k == "status"), "won")


def narrow(f: Filters, **what: Any) -> Drill:
    """The Drill of a number computed for f, narrowed by named filters (FILTERS, ROWS); None values are ignored."""
    unknown = sorted(set(what) - set(FILTERS) - set(ROWS))
    if unknown:
        raise FilterError(f"Unknown narrowing {', '.join(unknown)}: use {', '.join([*FILTERS, *ROWS])}.")
    given = {k: v for k, v in what.items() if v is not None}
    for name in FILTERS:
        if name in given:
            f = FILTERS[name](f, given[name])
    rows = tuple((k, v) for k, v in given.items() if k in ROWS)
    if not any(k == "status" for k, _ in rows):
        rows = (("status", "won"), *rows)
    if dict(rows)["status"] not in STATUSES:  # before any query
        raise FilterError(f"Unknown status {dict(rows)['status']!r}: use {', '.join(STATUSES)}.")
    return Drill(f, rows)


COLUMNS = ("lead_id", "lead_name", "amount", "created_date", "closed_date", "pipeline_id", "pipeline", "status_id",
           "stage", "is_won", "is_lost", "loss_reason", "partner_id", "partner", "model", "client_key", "client",
           "commission", "preexisting")


def deal_list(con: duckdb.DuckDBPyConnection, drill: Drill, scenario: Scenario | None = None) -> pd.DataFrame:
    """The leads / deals a Drill names, newest first: COLUMNS (amount, dates, stage, partner, client, commission)."""
    won_only = drill.status == "won"  # the won deals alone come from fact_won_deals: no scan of the period's leads
    df = query.scope_run(con, "deal_list", [(drill.filters, ())], scenario, inputs={"won_only": won_only})
    keep = pd.Series(True, index=df.index)
    for name, value in drill.rows:
        keep &= ROWS[name](df, value).astype(bool)
    return df.loc[keep, list(COLUMNS)].reset_index(drop=True)


def summary(rows: pd.DataFrame, status: str) -> dict[str, float]:
    """The numbers a list adds up to: its rows, and the amount of the won deals among them (revenue)."""
    won = rows if status == "won" else rows[rows["is_won"].astype(bool)]
    return {"count": float(len(rows)), "amount": float(won["amount"].fillna(0).sum()),
            "commission": float(rows["commission"].fillna(0).sum())}


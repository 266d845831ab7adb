"""The record month of a metric for a goal's scope: what data_layer.plausibility compares a goal target with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from metrics import engine, lookups
from programme.goals import goal_filters


@dataclass(frozen=True)
class RecordMonth:
    """A metric's largest monthly value, its month, and whether the whole program's stood in for the scope's."""

    value: float
    month: date
    whole_program: bool = False


def _record(con: duckdb.DuckDBPyConnection, metric: str, scope: str, model: str | None, partner_id: int | None,
            lo: date, hi: date) -> tuple[float, date] | None:
    """(largest monthly value, its month) of the metric in one scope over lo … hi; None when never above zero."""
    f = goal_filters({"scope": scope, "model": model, "partner_id": partner_id, "date_from": lo}, hi)
    rows = engine.grouped(con, f, "month", lite=metric not in engine.CLIENT_METRICS)
    if metric not in rows or rows.empty:
        return None
    values = pd.to_numeric(rows[metric], errors="coerce")
    if not (values > 0).any():
        return None
    top = values.idxmax()
    return float(values[top]), pd.Timestamp(rows.loc[top, "period"]).date()


def record_month(con: duckdb.DuckDBPyConnection, metric: str, scope: str = "program", model: str | None = None,
                 partner_id: int | None = None) -> RecordMonth | None:
    """The metric's record month in the scope over all data; the whole program's when the scope has none yet."""
    lo, hi = lookups.data_range(con)
    if lo is None or hi is None:
        return None
    found = _record(con, metric, scope, model, partner_id, lo, hi)
    if found is not None:
        return RecordMonth(*found)
    if scope == "program":
        return None
    found = _record(con, metric, "program", None, None, lo, hi)
    return RecordMonth(*found, whole_program=True) if found is not None else None

"""The young leads' shortfall of closed deals, read once per data version, summed per KPI frame in numpy.

maturity_young.sql gives, for the leads younger than the curve's full day (older ones have closed all they will),
one row per creation day x partner x model x pipeline x source with its shortfall Σ leads x (1 - curve(age)). A
frame's rows then sum the rows of its days, filters and keys: a few array operations instead of a maturity query
(whose planning cost ~8 ms a page). Frames whose days are all older have no shortfall at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

# a frame's public key column -> the young rows' column it is matched on (a period: its unit's start)
PERIOD_COLUMNS = {"week": "p_week", "month": "p_month", "quarter": "p_quarter"}
KEY_COLUMNS = ("partner_id", "model", "pipeline_id", "source", "utm_source", "source_name", *PERIOD_COLUMNS.values())


def norm(value: Any) -> Any:
    """A hashable key in which every missing value is the same None (NaN, NA and None differ otherwise)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return int(value) if isinstance(value, (float, np.floating, np.integer)) else value


@dataclass(frozen=True)
class Column:
    """One key column of the young rows, factorised: each row's code and the code of each value."""

    codes: np.ndarray
    index: dict[Any, int]

    @classmethod
    def of(cls, values: Iterable[Any]) -> Column:
        """Factorise values (missing values are one key, None)."""
        index: dict[Any, int] = {}
        codes = [index.setdefault(norm(v), len(index)) for v in values]
        return cls(np.asarray(codes, dtype=np.int64), index)

    def allowed(self, values: Sequence[Any]) -> np.ndarray:
        """Rows whose value is one of values (a missing value matches nothing, as list_contains does in SQL)."""
        codes = [self.index[v] for v in map(norm, values) if v is not None and v in self.index]
        return np.isin(self.codes, codes)

    def lookup(self, values: Iterable[Any]) -> np.ndarray:
        """The code of each value (-1: no young row has it)."""
        return np.fromiter((self.index.get(norm(v), -1) for v in values), dtype=np.int64)


@dataclass(frozen=True)
class YoungLeads:
    """The young rows: creation day (days since the epoch), shortfall, and the factorised key columns."""

    start: date  # the first day read (the curve's full day before the as-of date)
    days: np.ndarray
    shortfall: np.ndarray
    columns: dict[str, Column]

    @classmethod
    def of(cls, start: date, rows: pd.DataFrame) -> YoungLeads:
        """From maturity_young.sql's rows."""
        days = pd.to_datetime(rows["d"]).to_numpy(dtype="datetime64[D]").astype(np.int64)
        columns = {c: Column.of(rows[c].tolist()) for c in KEY_COLUMNS}
        return cls(start, days, rows["shortfall"].to_numpy(dtype=float), columns)

    def rows(self, f: Any) -> np.ndarray:
        """Indices of the rows in a cohort frame's days (from the first young day) and partner / model / pipeline /
        source filters (filters: metrics.filters.Filters)."""
        lo = np.datetime64(max(f.date_from, self.start), "D").astype(np.int64)
        hi = np.datetime64(f.date_to, "D").astype(np.int64)
        keep = (self.days >= lo) & (self.days <= hi)
        for name, values in (("partner_id", f.partners), ("model", f.models), ("pipeline_id", f.pipelines)):
            if values:
                keep &= self.columns[name].allowed(values)
        if f.sources:
            keep &= self.columns["utm_source"].allowed(f.sources) | self.columns["source_name"].allowed(f.sources)
        return np.flatnonzero(keep)

    def shortfall_of(self, f: Any, part: pd.DataFrame, cols: list[str], unit: str | None) -> np.ndarray:
        """Each of a frame's rows' shortfall, matched on its key columns cols (no young lead: 0)."""
        rows = self.rows(f) if f.date_to >= self.start else np.empty(0, dtype=np.int64)
        if not len(rows):
            return np.zeros(len(part))
        if not cols:
            return np.full(len(part), float(self.shortfall[rows].sum()))
        young = np.zeros(len(rows), dtype=np.int64)
        mine = np.zeros(len(part), dtype=np.int64)
        missing = np.zeros(len(part), dtype=bool)
        for col in cols:  # one mixed-radix code per key combination
            column = self.columns[PERIOD_COLUMNS[unit] if col == "period" and unit else col]
            size = len(column.index)
            codes = column.lookup(part[col])
            young = young * size + column.codes[rows]
            mine = mine * size + np.maximum(codes, 0)
            missing |= codes < 0
        keys, inverse = np.unique(young, return_inverse=True)
        sums = np.bincount(inverse, weights=self.shortfall[rows], minlength=len(keys))
        at = np.minimum(np.searchsorted(keys, mine), len(keys) - 1)
        return np.where(~missing & (keys[at] == mine), sums[at], 0.0)

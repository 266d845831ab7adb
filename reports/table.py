"""A table ready for export: raw values plus, per column, its kind (how to format) and its label."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

Kind = Literal["text", "int", "money", "pct", "number", "days", "date", "month", "mixed"]
NUMERIC_KINDS = ("int", "money", "pct", "number", "days")


@dataclass
class Table:
    """One exported table: `frame` holds raw values (fractions for pct), `kinds`/`labels` are per column."""

    key: str
    title: str
    frame: pd.DataFrame
    kinds: dict[str, Kind] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    currency: str = "₽"
    row_kinds: list[Kind] = field(default_factory=list)  # per-row kinds of "mixed" columns (a KPI list)

    @property
    def columns(self) -> list[str]:
        """Column keys in display order."""
        return list(self.frame.columns)

    def kind(self, col: str) -> Kind:
        """The kind of a column (text when not declared)."""
        return self.kinds.get(col, "text")

    def cell_kind(self, col: str, row: int) -> Kind:
        """The kind of one cell: the column's, or the row's when the column is mixed."""
        kind = self.kind(col)
        if kind == "mixed":
            return self.row_kinds[row] if row < len(self.row_kinds) else "text"
        return kind

    def label(self, col: str) -> str:
        """The header of a column (its key when no label was given)."""
        return self.labels.get(col, col)

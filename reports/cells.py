"""Table cells as the PDF prints them: values the locale's way (1 234 567 ₽, 20,5 %), intervals, whole tables."""

from __future__ import annotations

from typing import Any

import pandas as pd

from presentation import fmt
from reports.pdf import ReportPDF
from reports.table import Table
from reports.text import say

NUMERIC: tuple[str, ...] = ("int", "money", "pct", "number", "days")


def missing(value: Any) -> bool:
    """True for None, NA, NaT and NaN."""
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and pd.isna(value))


def cell_text(value: Any, kind: str, lang: str, currency: str = "RUB") -> str:
    """A value formatted the locale's way (1 234 567 ₽, 20,5 %) for a PDF cell."""
    if isinstance(value, str):
        return value
    if missing(value):
        return fmt.DASH
    if kind == "money":
        return fmt.money(float(value), lang, currency)
    if kind == "pct":
        return fmt.pct(float(value), lang)
    if kind == "int":
        return fmt.num(int(value), lang)
    if kind in ("number", "days"):
        return fmt.num(float(value), lang, 1)
    if kind == "date":
        return fmt.day(pd.Timestamp(value).date(), lang)
    if kind == "month":
        return fmt.month(pd.Timestamp(value).date(), lang)
    return str(value)


def pct_span(low: Any, high: Any, lang: str) -> str:
    """An interval of rates: 11,5…21,2 % (a dash when it has no bound)."""
    if missing(low) or missing(high):
        return fmt.DASH
    return f"{fmt.num(float(low) * 100, lang, 1)}…{fmt.pct(float(high), lang)}"


def pdf_rows(table: Table, lang: str, currency: str, columns: list[str] | None = None) -> list[list[str]]:
    """The cells of a table as formatted strings."""
    cols = columns or table.columns
    return [[cell_text(table.frame[c].iloc[i], table.cell_kind(c, i), lang, currency) for c in cols]
            for i in range(len(table.frame))]


def pdf_table(doc: ReportPDF, table: Table, lang: str, currency: str, columns: list[str] | None = None,
              widths: list[float] | None = None, width: float | None = None, size: float = 8) -> None:
    """Write one table (title, header, rows; numbers right-aligned) into the PDF."""
    cols = columns or table.columns
    doc.heading(table.title, size=12)
    if table.frame.empty:
        doc.para(say(lang, "w.none"), muted=True)
        return
    align = ["R" if table.kind(c) in (*NUMERIC, "mixed") else "L" for c in cols]
    doc.table_rows([table.label(c) for c in cols], pdf_rows(table, lang, currency, cols), align, widths,
                   width=width, size=size)

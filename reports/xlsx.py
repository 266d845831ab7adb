"""XLSX writer: one formatted sheet per table (styled frozen header, number formats, column widths).

Text is written as string cells with its exact value: a name like ``=Формула Роста`` is shown as typed and
never runs as a formula, so it needs no apostrophe (that prefix belongs to CSV, see data_layer.textguard).
"""

from __future__ import annotations

import io
import math
from datetime import date, datetime
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from data_layer.textguard import text_cell
from reports.table import Table

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
TITLE_FONT = Font(bold=True, size=13)
MIN_WIDTH, MAX_WIDTH = 8, 60
INVALID_SHEET_CHARS = str.maketrans({c: " " for c in "[]:*?/\\"})


def number_format(kind: str, currency: str = "₽") -> str:
    """Excel number format for a column kind (Excel applies the reader's grouping and decimal marks)."""
    return {
        "int": "#,##0",
        "money": f'#,##0 "{currency}";-#,##0 "{currency}"',
        "pct": "0.0%",
        "number": "#,##0.00",
        "days": "0.0",
        "date": "yyyy-mm-dd",
        "month": "mmm yyyy",
    }.get(kind, "General")


def cell_value(value: Any, kind: str) -> Any:
    """A value as openpyxl should store it: numbers as numbers, text as is (`text_cell` keeps it text)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if kind in ("date", "month"):
        if isinstance(value, pd.Timestamp):
            return value.date()
        return value if isinstance(value, (date, datetime)) else str(value)
    if kind in ("int", "money", "pct", "number", "days"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        return int(number) if kind == "int" else number
    if hasattr(value, "item"):  # numpy scalar in a text column
        value = value.item()
    return value if isinstance(value, (int, float, bool)) else str(value)


def sheet_title(title: str, used: set[str]) -> str:
    """A valid, unique sheet name (≤ 31 characters, no []:*?/\\)."""
    base = (title.translate(INVALID_SHEET_CHARS).strip() or "Sheet")[:31]
    name, n = base, 2
    while name.lower() in used:
        suffix = f" {n}"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def _write_header(ws: Worksheet, row: int, labels: list[str]) -> None:
    for col, label in enumerate(labels, start=1):
        cell = text_cell(ws.cell(row=row, column=col, value=label))
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def _width(value: Any, kind: str) -> int:
    if value is None:
        return 0
    if isinstance(value, float) and kind in ("money", "number", "int"):
        return len(f"{value:,.0f}") + (3 if kind == "money" else 0)
    if kind == "pct":
        return 7
    return len(str(value))


def write_table(ws: Worksheet, table: Table) -> None:
    """Fill a worksheet with a table: header on row 1 (frozen, filter), one row per record."""
    cols = table.columns
    _write_header(ws, 1, [table.label(c) for c in cols])
    widths = [len(table.label(c)) for c in cols]
    for r, record in enumerate(table.frame.itertuples(index=False, name=None), start=2):
        for c, (col, raw) in enumerate(zip(cols, record, strict=True), start=1):
            kind = table.cell_kind(col, r - 2)
            value = cell_value(raw, kind)
            cell = text_cell(ws.cell(row=r, column=c, value=value))  # text is a string cell, never a formula
            cell.number_format = number_format(kind, table.currency)
            widths[c - 1] = max(widths[c - 1], _width(value, kind))
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = max(MIN_WIDTH, min(MAX_WIDTH, width + 2))
    ws.freeze_panes = "A2"
    if cols and len(table.frame):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{len(table.frame) + 1}"


def write_info(ws: Worksheet, title: str, lines: list[tuple[str, str]]) -> None:
    """A cover sheet: the title, then label/value lines (period, filters, source, generated at)."""
    text_cell(ws.cell(row=1, column=1, value=title)).font = TITLE_FONT
    for r, (label, value) in enumerate(lines, start=3):
        text_cell(ws.cell(row=r, column=1, value=label)).font = Font(bold=True)
        text_cell(ws.cell(row=r, column=2, value=value))
    ws.column_dimensions["A"].width = max([MIN_WIDTH] + [len(lbl) + 2 for lbl, _ in lines])
    ws.column_dimensions["B"].width = min(MAX_WIDTH * 2, max([MIN_WIDTH] + [len(v) + 2 for _, v in lines]))


def workbook(tables: list[Table], title: str = "", info: list[tuple[str, str]] | None = None) -> bytes:
    """An XLSX file: an optional cover sheet, then one sheet per table."""
    wb = Workbook()
    used: set[str] = set()
    first: Worksheet = wb.active
    if info is not None:
        first.title = sheet_title(title or "Info", used)
        write_info(first, title, info)
        first = None
    for table in tables:
        ws = first if first is not None else wb.create_sheet()
        first = None
        ws.title = sheet_title(table.title, used)
        write_table(ws, table)
    wb.properties.title = title or None
    wb.properties.creator = "Partner ROI"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

"""CSV writer: UTF-8 with BOM (Excel opens Cyrillic right), `;` and decimal comma for Russian Excel."""

from __future__ import annotations

import pandas as pd

from reports.safe import safe_frame
from reports.table import Table

BOM = "\ufeff"


def default_decimal(sep: str) -> str:
    """Decimal mark that goes with a separator: comma for `;` (Russian Excel), point otherwise."""
    return "," if sep == ";" else "."


def _header(table: Table, col: str) -> str:
    kind = table.kind(col)
    suffix = {"pct": ", %", "money": f", {table.currency}"}.get(kind, "")
    return table.label(col) + suffix


def _values(table: Table) -> pd.DataFrame:
    """Plain values for CSV: percentages as numbers of percent (20.5), money rounded to kopecks."""
    out = pd.DataFrame(index=table.frame.index)
    for col in table.columns:
        series = table.frame[col]
        kind = table.kind(col)
        if kind == "pct":
            series = (pd.to_numeric(series, errors="coerce") * 100).round(2)
        elif kind in ("money", "number", "days"):
            series = pd.to_numeric(series, errors="coerce").round(2)
        elif kind == "int":
            series = pd.to_numeric(series, errors="coerce").astype("Int64")
        elif kind == "date":
            series = pd.to_datetime(series, errors="coerce").dt.strftime("%Y-%m-%d")
        out[_header(table, col)] = series
    return out


def to_csv(table: Table, sep: str = ";", decimal: str | None = None) -> bytes:
    """One table as CSV bytes (BOM, CRLF line ends, text cells neutralised against formula injection)."""
    decimal = decimal or default_decimal(sep)
    if sep == decimal:
        raise ValueError(f"The separator and the decimal mark are both {sep!r}: choose different ones.")
    frame = safe_frame(_values(table))
    text = frame.to_csv(index=False, sep=sep, decimal=decimal, lineterminator="\r\n")
    return (BOM + text).encode("utf-8")


def to_csv_many(tables: list[Table], sep: str = ";", decimal: str | None = None) -> bytes:
    """Several tables in one CSV file, each after a title line, separated by an empty line."""
    parts = []
    for i, table in enumerate(tables):
        body = to_csv(table, sep, decimal).decode("utf-8").removeprefix(BOM)
        title = safe_frame(pd.DataFrame({"t": [table.title]}))["t"].iloc[0]
        parts.append(("\r\n" if i else "") + _quote(str(title), sep) + "\r\n" + body)
    return (BOM + "".join(parts)).encode("utf-8")


def _quote(text: str, sep: str) -> str:
    if any(ch in text for ch in (sep, '"', "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text

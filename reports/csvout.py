"""CSV writer: UTF-8 with BOM (Excel opens Cyrillic right), `;` and decimal comma for Russian Excel."""

from __future__ import annotations

import pandas as pd

from reports.safe import neutralise
from reports.table import Table

BOM = "\ufeff"


def default_decimal(sep: str) -> str:
    """Decimal mark that goes with a separator: comma for `;` (Russian Excel), point otherwise."""
    return "," if sep == ";" else "."


def _header(table: Table, col: str) -> str:
    suffix = {"pct": ", %", "money": f", {table.currency}"}.get(table.kind(col), "")
    return table.label(col) + suffix


def _num_text(value: float, decimal: str) -> str:
    """A number as plain text with at most two decimals and the chosen decimal mark."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", decimal) if text not in ("-0", "") else "0"


def _mixed(value: object, kind: str, decimal: str) -> object:
    """One cell of a mixed column (a KPI list): percent as 20,5, numbers rounded, text as is."""
    if kind == "text" or isinstance(value, str):
        return neutralise(value)
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    if pd.isna(number):
        return None
    if kind == "int":
        return str(int(number))
    return _num_text(float(number) * (100 if kind == "pct" else 1), decimal)


def _column(table: Table, col: str, decimal: str) -> pd.Series:
    """Plain values of one column: percentages as numbers of percent (20.5), money rounded to kopecks."""
    series, kind = table.frame[col], table.kind(col)
    if kind == "mixed":
        return pd.Series([_mixed(v, table.cell_kind(col, i), decimal) for i, v in enumerate(series)],
                         index=series.index, dtype=object)
    if kind == "pct":
        return (pd.to_numeric(series, errors="coerce") * 100).round(2)
    if kind in ("money", "number", "days"):
        return pd.to_numeric(series, errors="coerce").round(2)
    if kind == "int":
        return pd.to_numeric(series, errors="coerce").astype("Int64")
    if kind in ("date", "month"):
        return pd.to_datetime(series, errors="coerce").dt.strftime("%Y-%m-%d" if kind == "date" else "%Y-%m")
    return series.astype(object).map(neutralise)


def to_csv(table: Table, sep: str = ";", decimal: str | None = None) -> bytes:
    """One table as CSV bytes (BOM, CRLF line ends, text cells neutralised against formula injection)."""
    # Neutralising happens per column before numbers become text, so "-5" from a number stays "-5".
    decimal = decimal or default_decimal(sep)
    if sep == decimal:
        raise ValueError(f"The separator and the decimal mark are both {sep!r}: choose different ones.")
    frame = pd.DataFrame({_header(table, c): _column(table, c, decimal) for c in table.columns},
                         index=table.frame.index)
    text = frame.to_csv(index=False, sep=sep, decimal=decimal, lineterminator="\r\n")
    return (BOM + text).encode("utf-8")


def _quote(text: str, sep: str) -> str:
    if any(ch in text for ch in (sep, '"', "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


def _cells(values: list[str], sep: str) -> str:
    """One CSV line of text cells (neutralised against formula injection, quoted where needed)."""
    return sep.join(_quote(str(neutralise(v)), sep) for v in values)


def info_section(title: str, lines: list[tuple[str, str]], sep: str = ";") -> str:
    """The header section of a CSV file: its title line, then one label / value line each (period, filters, ...)."""
    return "\r\n".join([_cells([title], sep), *(_cells([label, value], sep) for label, value in lines)]) + "\r\n"


def to_csv_many(tables: list[Table], sep: str = ";", decimal: str | None = None,
                info: tuple[str, list[tuple[str, str]]] | None = None) -> bytes:
    """Several tables in one CSV file, each after a title line, separated by an empty line; with info (title, header
    lines) the file opens with that header section."""
    parts = [info_section(*info, sep)] if info else []
    for table in tables:
        body = to_csv(table, sep, decimal).decode("utf-8").removeprefix(BOM)
        parts.append(("\r\n" if parts else "") + _cells([table.title], sep) + "\r\n" + body)
    return (BOM + "".join(parts)).encode("utf-8")

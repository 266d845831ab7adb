"""Exports of the current view (filters) as CSV, XLSX or PDF: the dispatch from a format to its writer.

The view's data is reports.view_data (``collect``), its tables reports.view_tables, the PDF reports.view_pdf;
``render`` turns collected data into bytes of one format; ``export_view`` / ``export_table`` read and render for
callers holding a connection (CLI, tests, pages via ``ui.data.query``). Every file opens with the same header
(reports.header).
"""

from __future__ import annotations

from typing import Literal

import duckdb

from metrics.filters import Filters
from reports import csvout, view_pdf, xlsx
from reports.text import say
from reports.view_data import ViewData, collect, header_lines
from reports.view_tables import TABLES, tables

Format = Literal["csv", "xlsx", "pdf"]


def view_images(con: duckdb.DuckDBPyConnection, f: Filters, lang: str = "ru", compare: str = "previous") -> list[bytes]:
    """The PDF's chart images for filters f (the page's preview)."""
    return view_pdf.chart_images(collect(con, f, compare), lang)


def render(data: ViewData, fmt_: Format, lang: str = "ru", sep: str = ";", decimal: str | None = None) -> bytes:
    """Bytes of a collected view in one format: each opens with the header (CSV: its first section, XLSX: the cover
    sheet); CSV then holds every table, each after its title line."""
    if fmt_ == "pdf":
        return view_pdf.view_pdf(data, lang)
    items = list(tables(data, lang).values())
    if fmt_ == "xlsx":
        return xlsx.workbook(items, title=say(lang, "view.title"), info=header_lines(data, lang))
    if fmt_ == "csv":
        return csvout.to_csv_many(items, sep, decimal, info=(say(lang, "view.title"), header_lines(data, lang)))
    raise ValueError(f"Unknown format {fmt_!r}: use csv, xlsx or pdf.")


def export_view(con: duckdb.DuckDBPyConnection, f: Filters, fmt: Format, lang: str = "ru", sep: str = ";",
                decimal: str | None = None, compare: str = "previous") -> bytes:
    """Export the view of filters f (compared as the sidebar's compare says) as CSV, XLSX or PDF bytes."""
    return render(collect(con, f, compare), fmt, lang, sep, decimal)


def export_table(con: duckdb.DuckDBPyConnection, f: Filters, table: str, lang: str = "ru", sep: str = ";",
                 decimal: str | None = None) -> bytes:
    """One table of the view (kpis, partners, models, costs, monthly) as CSV bytes."""
    if table not in TABLES:
        raise ValueError(f"Unknown table {table!r}: use one of {', '.join(TABLES)}.")
    return csvout.to_csv(tables(collect(con, f), lang)[table], sep, decimal)


def filename(kind: str, f: Filters, fmt_: str, lang: str = "ru") -> str:
    """A download file name: partner-roi-<kind>-<from>_<to>-<lang>.<ext>."""
    return f"partner-roi-{kind}-{f.date_from:%Y-%m-%d}_{f.date_to:%Y-%m-%d}-{lang}.{fmt_}"

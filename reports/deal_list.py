"""The drill-through list as CSV and XLSX (the dialog's downloads), through the reports' writers and formula guard."""

from __future__ import annotations

from typing import Literal

import pandas as pd

from presentation import deals, fmt
from reports import csvout, xlsx
from reports.table import Table

FileKind = Literal["csv", "xlsx"]


def table(rows: pd.DataFrame, base: str | None, lang: str, title: str, currency: str = "RUB") -> Table:
    """A metrics.drill.deal_list frame as an export table (the link column only when there are links)."""
    shown = deals.frame(rows, base, lang)
    if base is None:
        shown = shown.drop(columns="url")
    kinds = {c: k for c, k in deals.COLUMNS if c in shown.columns}
    return Table("deals", title, shown, kinds, {c: deals.label(c, lang) for c in shown.columns},
                 fmt.currency_symbol(currency, lang))


def file(rows: pd.DataFrame, base: str | None, lang: str, title: str, currency: str, kind: FileKind) -> bytes:
    """The list as a CSV or XLSX file: CRM text neutralised in CSV, written as text cells in XLSX."""
    t = table(rows, base, lang, title, currency)
    return csvout.to_csv(t) if kind == "csv" else xlsx.workbook([t], title)

"""The comparison period of a view and a period as text: the sidebar's rule and words, which every export's header
repeats (reports.header)."""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import date

from metrics.filters import Filters
from presentation import fmt

COMPARES = ("previous", "year")

TEXT = {
    "ru": {
        "compare": "Сравнивать с",
        "compare.previous": "предыдущим периодом той же длины", "compare.year": "тем же периодом год назад",
    },
    "en": {
        "compare": "Compare with",
        "compare.previous": "previous period of equal length", "compare.year": "same period last year",
    },
}


def shift_year(d: date, years: int = -1) -> date:
    """The same calendar date a number of years away (29 February becomes 28 February)."""
    year = d.year + years
    return d.replace(year=year, day=min(d.day, calendar.monthrange(year, d.month)[1]))


def comparison_of(f: Filters, mode: str) -> Filters:
    """The comparison period: previous period of equal length (default) or the same dates a year earlier."""
    if mode == "year":
        return replace(f, date_from=shift_year(f.date_from), date_to=shift_year(f.date_to))
    return f.previous()


def period_text(f: Filters, lang: str) -> str:
    """The period as text: 1 янв. 2025 г. – 31 мар. 2025 г."""
    return f"{fmt.day(f.date_from, lang)} – {fmt.day(f.date_to, lang)}"

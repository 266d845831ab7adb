"""Limits of a cost import: file caps, the month window; the confirmation that plausibility findings need.

Every bound is a setting (table ``settings``, `userdata.set_setting`), read by `load_limits`:

| setting | default | meaning |
| --- | --- | --- |
| ``costs_import_max_mb`` | 50 | largest file, uncompressed (an XLSX's unpacked parts; a CSV as is) |
| ``costs_import_max_rows`` | 100 000 | most data rows in a file |
| ``costs_years_before_first_lead`` | 5 | earliest month: the account's first lead minus this many years |
| ``costs_years_after_today`` | 2 | latest month: today plus this many years |
| ``costs_outlier_factor`` | 100 | a line above this × the ledger's largest monthly total needs confirmation |
| ``costs_outlier_empty_ledger`` | 100 000 000 | the same threshold while the ledger is still empty |

The last two are thresholds of `data_layer.plausibility`, the one home of "far outside the account's history":
its writers raise `ConfirmationNeeded` (defined here, with the wording helpers) instead of refusing such a value.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any, ClassVar

import duckdb

from data_layer.userdata import Problem, UserDataError, extended, get_setting

MAX_LISTED = 20  # lines a refusal spells out; the rest are counted (3 000 bad lines must not be 3 000 sentences)
SETTINGS = {  # setting key -> ImportLimits field
    "costs_import_max_mb": "max_mb",
    "costs_import_max_rows": "max_rows",
    "costs_years_before_first_lead": "years_before",
    "costs_years_after_today": "years_after",
    "costs_outlier_factor": "outlier_factor",
    "costs_outlier_empty_ledger": "outlier_empty_ledger",
}

# the limits' own sentences (the user data's table plus these; that table is never added to)
_OWN: dict[str, dict[str, str]] = {"ru": {
    "month.window": "Месяц {value} вне правдоподобного диапазона {first} … {last} (первый лид счёта минус "
                    "{before} {before_word}, сегодня плюс {after} {after_word}) — проверьте год.",
    "list.more": "…и ещё {n} {lines}.",
    "confirm.head": "Значения далеко за пределами истории счёта: {n}. Ничего не записано — проверьте их "
                    "или подтвердите, что они верны.",
}, "en": {
    "month.window": "The month {value} is outside the plausible range {first} … {last} (the account's first lead "
                    "minus {before} years, today plus {after} years): check the year.",
    "list.more": "… and {n} more lines.",
    "confirm.head": "Values far outside the account's history: {n}. Nothing was written: check them or confirm "
                    "that they are right.",
}}
MESSAGES = extended(_OWN)


class LimitProblem(Problem):
    """A value outside an import's limits (a month out of the window), worded from MESSAGES."""

    MESSAGES: ClassVar[dict[str, dict[str, str]]] = MESSAGES


@dataclass(frozen=True)
class ImportLimits:
    """The bounds of a cost import (defaults; `load_limits` reads the settings)."""

    max_mb: float = 50.0
    max_rows: int = 100_000
    years_before: int = 5
    years_after: int = 2
    outlier_factor: float = 100.0
    outlier_empty_ledger: float = 100_000_000.0

    @property
    def max_bytes(self) -> int:
        """The uncompressed size cap in bytes."""
        return int(self.max_mb * 2**20)


def load_limits(con: duckdb.DuckDBPyConnection) -> ImportLimits:
    """The limits from the settings table; a missing, non-numeric or non-positive setting keeps its default."""
    values: dict[str, Any] = {}
    types = {f.name: f.type for f in fields(ImportLimits)}
    for key, name in SETTINGS.items():
        raw = get_setting(con, key)
        try:
            number = float(raw)
        except (TypeError, ValueError):
            continue
        if number > 0 and number < float("inf"):
            values[name] = int(number) if types[name] in (int, "int") else number
    return ImportLimits(**values)


# ---------------------------------------------------------------- the month window

def _years_back(day: date, years: int) -> date:
    return date(max(1, day.year - years), day.month, 1)


def month_window(con: duckdb.DuckDBPyConnection, limits: ImportLimits,
                 today: date | None = None) -> tuple[date, date]:
    """(first, last) month a cost may fall in: first lead (or today) − years_before … today + years_after."""
    today = today or date.today()
    try:
        first_lead = con.execute("select min(created_date) from lead_facts").fetchone()[0]
    except duckdb.Error:  # a database without derived tables yet: judge by today
        first_lead = None
    start = first_lead if isinstance(first_lead, date) else today
    return _years_back(start, limits.years_before), date(min(9999, today.year + limits.years_after), today.month, 1)


def check_month(month: date, window: tuple[date, date], line: int | None, limits: ImportLimits) -> None:
    """Raise when the month lies outside the plausible window."""
    first, last = window
    if not first <= month <= last:
        raise UserDataError(LimitProblem("month.window", {
            "value": month.strftime("%Y-%m"), "first": first.strftime("%Y-%m"), "last": last.strftime("%Y-%m"),
            "before": limits.years_before, "before_word": years_ru(limits.years_before),
            "after": limits.years_after, "after_word": years_ru(limits.years_after)}, line))


# ---------------------------------------------------------------- long refusals and confirmations

class ShortListError(UserDataError):
    """A UserDataError whose sentences cover the first MAX_LISTED lines and then count the rest."""

    def lines(self, lang: str = "en") -> list[str]:
        """The problems of the first MAX_LISTED lines, then how many more lines have problems."""
        lines = list(dict.fromkeys(p.line for p in self.problems))
        shown = set(lines[:MAX_LISTED])
        out = [p.text(lang) for p in self.problems if p.line in shown]
        rest = len(lines) - len(shown)
        if rest:
            word = plural_ru(rest, "строка", "строки", "строк")
            out.append(MESSAGES.get(lang, MESSAGES["en"])["list.more"].format(n=count_text(rest), lines=word))
        return out


class ConfirmationNeeded(ShortListError):
    """The rows are valid but some amounts are far outside the account's history: confirm, or nothing is written."""

    def text(self, lang: str = "en") -> str:
        """A heading that asks for confirmation, then one sentence per line."""
        head = MESSAGES.get(lang, MESSAGES["en"])["confirm.head"].format(n=len(self.problems))
        return "\n".join([head, *self.lines(lang)])


# ---------------------------------------------------------------- wording

def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """The Russian noun form for n: 1 строка, 2 строки, 5 строк (11–14 take the 'many' form)."""
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def times_ru(n: int) -> str:
    """«раз» or «раза» after a number: в 2 раза, в 5 раз, в 10 000 раз."""
    return plural_ru(n, "раз", "раза", "раз")


def years_ru(n: int) -> str:
    """«год», «года» or «лет» after a number of years."""
    return plural_ru(n, "год", "года", "лет")


def count_text(n: int) -> str:
    """An integer with non-breaking spaces between thousands: 10 000."""
    return f"{n:,}".replace(",", "\u00a0")


def money_text(amount: float) -> str:
    """An amount with non-breaking thousands and kopecks only when there are any: 1 000 000, 12 500,50."""
    text = f"{amount:,.2f}".removesuffix(".00")
    return text.replace(",", "\u00a0").replace(".", ",")

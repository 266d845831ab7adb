"""Limits and plausibility checks of cost amounts: import caps, the month window, amounts far outside history.

Every bound is a setting (table ``settings``, `userdata.set_setting`), read by `load_limits`:

| setting | default | meaning |
| --- | --- | --- |
| ``costs_import_max_mb`` | 50 | largest file, uncompressed (an XLSX's unpacked parts; a CSV as is) |
| ``costs_import_max_rows`` | 100 000 | most data rows in a file |
| ``costs_years_before_first_lead`` | 5 | earliest month: the account's first lead minus this many years |
| ``costs_years_after_today`` | 2 | latest month: today plus this many years |
| ``costs_outlier_factor`` | 100 | a line above this × the ledger's largest monthly total needs confirmation |
| ``costs_outlier_empty_ledger`` | 100 000 000 | the same threshold while the ledger is still empty |

`implausible_amounts` is the one rule for "far outside the account's history"; the importer and manual ledger
entry ask for an explicit confirmation (`ConfirmationNeeded`) instead of refusing such a line.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from data_layer.userdata import MESSAGES, Problem, UserDataError, fail, get_setting

MAX_LISTED = 20  # lines a refusal spells out; the rest are counted (3 000 bad lines must not be 3 000 sentences)
SETTINGS = {  # setting key -> ImportLimits field
    "costs_import_max_mb": "max_mb",
    "costs_import_max_rows": "max_rows",
    "costs_years_before_first_lead": "years_before",
    "costs_years_after_today": "years_after",
    "costs_outlier_factor": "outlier_factor",
    "costs_outlier_empty_ledger": "outlier_empty_ledger",
}

MESSAGES["ru"].update({
    "month.window": "Месяц {value} вне правдоподобного диапазона {first} … {last} (первый лид счёта минус "
                    "{before} {before_word}, сегодня плюс {after} {after_word}) — проверьте год.",
    "amount.implausible": "Сумма {amount} — это в {ratio_year} {times_year} больше всех затрат за последний год "
                          "журнала ({year_total}) и в {ratio_month} {times_month} больше самого затратного месяца "
                          "({month_max}). Проверьте, не лишние ли разряды; если сумма верна, подтвердите импорт.",
    "amount.implausible_month": "Сумма {amount} — это в {ratio_month} {times_month} больше самого затратного "
                                "месяца журнала ({month_max}). Проверьте, не лишние ли разряды; если сумма "
                                "верна, подтвердите импорт.",
    "amount.implausible_empty": "Сумма {amount} больше {limit}, а журнал затрат пока пуст — проверьте, не лишние "
                                "ли разряды; если сумма верна, подтвердите импорт.",
    "list.more": "…и ещё {n} {lines}.",
    "confirm.head": "Суммы далеко за пределами истории счёта: {n}. Ничего не записано — проверьте строки ниже "
                    "или подтвердите импорт.",
})
MESSAGES["en"].update({
    "month.window": "The month {value} is outside the plausible range {first} … {last} (the account's first lead "
                    "minus {before} years, today plus {after} years): check the year.",
    "amount.implausible": "The amount {amount} is {ratio_year} times all costs of the ledger's last year "
                          "({year_total}) and {ratio_month} times its costliest month ({month_max}). Check for "
                          "extra digits; if it is right, confirm the import.",
    "amount.implausible_month": "The amount {amount} is {ratio_month} times the ledger's costliest month "
                                "({month_max}). Check for extra digits; if it is right, confirm the import.",
    "amount.implausible_empty": "The amount {amount} is above {limit} while the ledger is still empty: check for "
                                "extra digits; if it is right, confirm the import.",
    "list.more": "… and {n} more lines.",
    "confirm.head": "Amounts far outside the account's history: {n}. Nothing was written: check the lines below "
                    "or confirm the import.",
})


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
        raise fail("month.window", line, value=month.strftime("%Y-%m"), first=first.strftime("%Y-%m"),
                   last=last.strftime("%Y-%m"), before=limits.years_before,
                   before_word=years_ru(limits.years_before), after=limits.years_after,
                   after_word=years_ru(limits.years_after))


# ---------------------------------------------------------------- amounts far outside history

@dataclass(frozen=True)
class History:
    """The ledger's scale: its largest monthly total and its total over the 12 months up to its last month."""

    month_max: float
    year_total: float


def ledger_history(con: duckdb.DuckDBPyConnection) -> History:
    """The ledger's largest monthly total (all partners and categories) and its latest 12 months' total."""
    row = con.execute("""
        with m as (select month, sum(amount) as total from cost_ledger group by month)
        select coalesce(max(total), 0),
               coalesce(sum(total) filter (where month > (select max(month) from m) - interval 12 month), 0)
        from m""").fetchone()
    return History(float(row[0]), float(row[1]))


def implausible_amounts(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame,
                        limits: ImportLimits | None = None) -> list[Problem]:
    """Lines (columns amount, line) far outside the account's history: each needs an explicit confirmation.

    The rule: an amount above ``outlier_factor`` (100) × the ledger's largest monthly total; while the ledger
    is empty, above ``outlier_empty_ledger`` (100 000 000). The sentence says how many times larger it is.
    """
    limits = limits or load_limits(con)
    if rows.empty:
        return []
    history = ledger_history(con)
    if history.month_max <= 0:
        limit = limits.outlier_empty_ledger
        return [Problem("amount.implausible_empty", {"amount": money_text(a), "limit": money_text(limit)},
                        _line(line)) for a, line in zip(rows["amount"], rows["line"], strict=True) if a > limit]
    limit = limits.outlier_factor * history.month_max
    return [_implausible(float(a), _line(line), history)
            for a, line in zip(rows["amount"], rows["line"], strict=True) if a > limit]


def _implausible(amount: float, line: int | None, history: History) -> Problem:
    """The sentence for one line: how many times the costliest month (and the last year) it is."""
    ratio = round(amount / history.month_max)
    params: dict[str, Any] = {"amount": money_text(amount), "month_max": money_text(history.month_max),
                              "ratio_month": count_text(ratio), "times_month": times_ru(ratio)}
    if history.year_total <= 0:
        return Problem("amount.implausible_month", params, line)
    ratio = round(amount / history.year_total)
    return Problem("amount.implausible", {**params, "ratio_year": count_text(ratio), "times_year": times_ru(ratio),
                                          "year_total": money_text(history.year_total)}, line)


def _line(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


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

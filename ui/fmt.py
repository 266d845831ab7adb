"""Numbers, money, percentages and dates the Russian way (1 234 567 ₽, 20,5 %) or the English way."""

from __future__ import annotations

import math
from datetime import date

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent, get_currency_symbol

LOCALES = {"ru": "ru_RU", "en": "en_US"}
DASH = "—"


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x)))


def num(x: float | int | None, lang: str = "ru", digits: int = 0) -> str:
    """A plain number with grouping: 1 234 567 (ru), 1,234,567 (en)."""
    if _missing(x):
        return DASH
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(x, format=pattern, locale=LOCALES[lang])


def money(x: float | int | None, lang: str = "ru", currency: str = "RUB", digits: int = 0) -> str:
    """Money in the account currency: 1 234 567 ₽ (ru), ₽1,234,567 (en)."""
    if _missing(x):
        return DASH
    amount = num(x, lang, digits)
    sym = currency_symbol(currency, lang)
    if lang == "ru":
        return f"{amount}\u00a0{sym}"
    return f"-{sym}{amount[1:]}" if amount.startswith("-") else f"{sym}{amount}"


def currency_symbol(currency: str = "RUB", lang: str = "ru") -> str:
    """The currency sign for labels (₽)."""
    # The Russian symbol for roubles reads better in English too than the bare code "RUB".
    return get_currency_symbol(currency, locale="ru_RU" if currency == "RUB" else LOCALES[lang])


def pct(x: float | None, lang: str = "ru", digits: int = 1) -> str:
    """A fraction as a percentage: 0.205 -> 20,5 % (ru), 20.5% (en)."""
    if _missing(x):
        return DASH
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + ("\u00a0%" if lang == "ru" else "%")
    return format_percent(x, format=pattern, locale=LOCALES[lang])


def day(d: date | None, lang: str = "ru") -> str:
    """A date: 7 июн. 2024 г. (ru), Jun 7, 2024 (en)."""
    if d is None:
        return DASH
    return format_date(d, format="medium", locale=LOCALES[lang])

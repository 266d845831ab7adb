"""Numbers, money, percentages and dates the Russian way (1 234 567 ₽, 20,5 %) or the English way."""

from __future__ import annotations

import math
import re
from datetime import date

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from data_layer.numbers import currency_symbol

LOCALES = {"ru": "ru_RU", "en": "en_US"}
DASH = "—"
MINUS = "\u2212"  # the typographic minus of every negative number shown (babel gives the ASCII hyphen)


def _minus(text: str) -> str:
    return MINUS + text[1:] if text.startswith("-") else text


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x)))


def num(x: float | int | None, lang: str = "ru", digits: int = 0) -> str:
    """A plain number with grouping: 1 234 567 (ru), 1,234,567 (en); a negative one with the minus sign (−5)."""
    if _missing(x):
        return DASH
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return _minus(format_decimal(x, format=pattern, locale=LOCALES[lang]))


def money(x: float | int | None, lang: str = "ru", currency: str = "RUB", digits: int = 0) -> str:
    """Money in the account currency: 1 234 567 ₽ (ru), ₽1,234,567 (en)."""
    if _missing(x):
        return DASH
    amount = num(x, lang, digits)
    sym = currency_symbol(currency, lang)
    if lang == "ru":
        return f"{amount}\u00a0{sym}"
    return f"{MINUS}{sym}{amount[1:]}" if amount.startswith(MINUS) else f"{sym}{amount}"


def pct(x: float | None, lang: str = "ru", digits: int = 1) -> str:
    """A fraction as a percentage: 0.205 -> 20,5 % (ru), 20.5% (en); −4,2 % with the minus sign."""
    if _missing(x):
        return DASH
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + ("\u00a0%" if lang == "ru" else "%")
    return _minus(format_percent(x, format=pattern, locale=LOCALES[lang]))


def day(d: date | None, lang: str = "ru") -> str:
    """A date: 7 июн. 2024 г. (ru), Jun 7, 2024 (en)."""
    if d is None:
        return DASH
    return format_date(d, format="medium", locale=LOCALES[lang])


def ratio_delta(now: float | None, before: float | None) -> float | None:
    """Relative change now vs before as a fraction (None when before is missing or zero)."""
    if _missing(now) or _missing(before) or before == 0:
        return None
    return (float(now) - float(before)) / abs(float(before))


def signed_pct(x: float | None, lang: str = "ru", digits: int = 1) -> str:
    """A change as a signed percentage: +12,5 % / −3,0 % (ru), +12.5% / −3.0% (en)."""
    if _missing(x):
        return DASH
    text = pct(abs(x), lang, digits)
    return ("+" if x >= 0 else "\u2212") + text


def signed_pp(x: float | None, lang: str = "ru", digits: int = 1) -> str:
    """A change of a percentage in percentage points: +1,2 п.п. (ru), +1.2 pp (en)."""
    if _missing(x):
        return DASH
    unit = "\u00a0п.\u00a0п." if lang == "ru" else "\u00a0pp"
    return ("+" if x >= 0 else "\u2212") + num(abs(x) * 100, lang, digits) + unit


def md_escape(text: object) -> str:
    """CRM or user text made literal for Markdown, one line: never a link, an emoji or formatting (see plain)."""
    return plain(text)


def _backslashed(raw: str) -> str:
    """Every ASCII punctuation mark backslash-escaped."""
    return "".join("\\" + ch if (ch.isascii() and not ch.isalnum() and not ch.isspace()) else ch for ch in raw)


# Streamlit's Markdown links bare URLs and e-mails it finds in the text *after* escapes are resolved (its
# mdast-util-gfm-autolink-literal matches /(https?:\/\/|www(?=\.))/ and /x@y.z/ in text nodes), and its emoji and
# icon shortcodes are :name:, so backslashes alone do not keep CRM text literal. A word joiner (U+2060, invisible,
# not a \w character) after every ":" and "@" and between "www" and "." breaks each of those patterns.
WORD_JOINER = "\u2060"
_LINK_MARKS = re.compile(r"(www)(?=\.)|([:@])", re.IGNORECASE)


def plain(text: object) -> str:
    """CRM or user text (partner, deal, pipeline, scenario names) for Markdown: literal, never a link or emoji."""
    if text is None:
        return ""
    raw = " ".join(str(text).split())
    return _backslashed(_LINK_MARKS.sub(lambda m: (m.group(1) or m.group(2)) + WORD_JOINER, raw))


def money_short(x: float | int | None, lang: str = "ru", currency: str = "RUB") -> str:
    """Money for a KPI card: 256,0 млн ₽ / 1,2 млрд ₽ (ru), ₽256.0M (en); under a million as money()."""
    if _missing(x):
        return DASH
    value = float(x)
    for size, ru, en in ((1e9, "млрд", "B"), (1e6, "млн", "M")):
        if abs(value) >= size:
            amount = num(value / size, lang, 1)
            sym = currency_symbol(currency, lang)
            if lang == "ru":
                return f"{amount}\u00a0{ru}\u00a0{sym}"
            sign, amount = ("-", amount[1:]) if amount.startswith("-") else ("", amount)
            return f"{sign}{sym}{amount}{en}"
    return money(value, lang, currency)


def month(d: date | None, lang: str = "ru") -> str:
    """A month as a short label: янв. 2026 (ru), Jan 2026 (en)."""
    if d is None:
        return DASH
    return format_date(d, format="LLL y", locale=LOCALES[lang])

"""Reading typed or stored values: blanks, names, dates, months, money amounts, categories, models."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

import pandas as pd

from data_layer.numbers import NumberFormat, NumberTextError, parse_number
from data_layer.userdata.errors import fail

MODELS = ("referral", "sales", "service")
CATEGORIES = ("commission", "bonus", "marketing", "training", "support", "other")
MAX_AMOUNT = 10**15  # below decimal(18, 2)'s limit, far above any real monthly cost
MAX_NAME = 200


def is_blank(value: object) -> bool:
    """True for None, NaN, NaT, pd.NA and blank strings."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def norm_name(name: str) -> str:
    """Compare names like the database does: trimmed, lower case, ё = е."""
    return name.strip().replace("Ё", "Е").replace("ё", "е").lower()


def to_date(value: object, line: int | None = None) -> date | None:
    """A date from a date, datetime, Timestamp or ISO string; None for blanks."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):  # also pd.Timestamp
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise fail("date.bad", line, value=value) from None


_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-01)?$")


def to_month(value: object, line: int | None = None) -> date:
    """First day of a month from YYYY-MM (or YYYY-MM-01), a date or a datetime."""
    if is_blank(value):
        raise fail("month.empty", line)
    if isinstance(value, datetime):
        return date(value.year, value.month, 1)
    if isinstance(value, date):
        return date(value.year, value.month, 1)
    match = _MONTH.match(str(value).strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise fail("month.bad", line, value=value)
    return date(int(match.group(1)), int(match.group(2)), 1)


def to_amount(value: object, line: int | None = None, decimals: int | None = None,
              number_format: NumberFormat = "auto") -> float:
    """A non-negative finite money amount; text is read by `data_layer.numbers` (format: auto, comma, point)."""
    if is_blank(value):
        raise fail("amount.empty", line)
    if isinstance(value, bool):
        raise fail("amount.not_number", line, value=value)
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    else:
        number = parse_number_text(str(value), line, number_format)
    if not number.is_finite():
        raise fail("amount.not_finite", line, value=value)
    if number < 0:
        raise fail("amount.negative", line, value=value)
    if number >= MAX_AMOUNT:
        raise fail("amount.too_big", line, value=value)
    if decimals is not None and number != round(number, decimals):
        raise fail("amount.decimals", line, value=value)
    return float(round(number, 2))


def parse_number_text(text: str, line: int | None, number_format: NumberFormat = "auto") -> Decimal:
    """Decimal from text such as '1 234,50', '1\u00a0234.5', '12500 ₽' (rules: data_layer.numbers)."""
    try:
        return parse_number(text, number_format)
    except NumberTextError as exc:
        raise fail(exc.code, line, value=text, **exc.params) from None


def to_category(value: object, line: int | None = None) -> str:
    """A ledger category key from its key or its Russian / English label."""
    key = norm_name(str(value)) if not is_blank(value) else ""
    found = CATEGORY_LABELS.get(key)
    if found is None:
        raise fail("category.unknown", line, value="" if is_blank(value) else value)
    return found


CATEGORY_LABELS: dict[str, str] = {c: c for c in CATEGORIES} | {
    "комиссия": "commission", "комиссии": "commission", "бонус": "bonus", "бонусы": "bonus",
    "маркетинг": "marketing", "обучение": "training", "поддержка": "support", "прочее": "other",
    "прочие": "other", "bonuses": "bonus",
}


def to_model(value: object, line: int | None = None) -> str | None:
    """A partnership model key or None."""
    if is_blank(value):
        return None
    key = str(value).strip().lower()
    if key not in MODELS:
        raise fail("model.unknown", line, model=value)
    return key


def finite_number(value: object) -> float | None:
    """An int or float (never a bool) as a float; None for anything else, NaN or infinity."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def nulls_as_none(df: pd.DataFrame, cols: Iterable[str]) -> pd.DataFrame:
    """Missing values in these columns as None (object dtype), so pages and JSON see null, not NaN."""
    for col in cols:
        df[col] = df[col].astype(object).where(df[col].notna(), None)
    return df

"""Money amounts written as text: one parser for files, editors and the CLI, with no silent misreading.

Spaces (also non-breaking and thin ones, and the Swiss apostrophe) always separate thousands, in groups of
three: ``1 234 567,50``. A dot or a comma is the decimal mark unless the file's number format is declared:

* ``auto`` (nothing declared): ``12,5`` and ``12.5`` are 12.5; a dot or comma that could just as well separate
  thousands (``12,500``, ``1.000``, ``1.000.000``) is refused as ambiguous, as is a value with both marks;
* ``comma`` (Russian convention): the comma is decimal, dots or spaces separate thousands (``1.234.567,50``);
* ``point``: the dot is decimal, commas or spaces separate thousands (``1,234,567.50``).

Exponent notation (``1e5``, ``1,5e3``) is read exactly; ``nan`` / ``inf`` are refused. The result is a
`Decimal`; range checks (negative, too large, decimals) belong to the caller (`userdata.to_amount`).

A number typed into the dashboard (`parse_typed`) follows the UI language: in Russian the comma is decimal
(``12,5``, ``12,500`` = 12.5) and a lone dot is decimal too (a numeric keypad types one) unless it could
separate thousands (``1.000`` is refused); in English the dot is decimal and commas separate thousands. Its
errors use the ``number.*`` messages, which speak of a typed number rather than of a file's amounts.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Literal

from babel.numbers import get_currency_symbol

NumberFormat = Literal["auto", "comma", "point"]
NUMBER_FORMATS: tuple[NumberFormat, ...] = ("auto", "comma", "point")
SPACES = " \u00a0\u202f\u2009'"  # thousands separators in every format
CURRENCY = ("₽", "руб.", "руб", "р.")
MINUS = "\u2212\u2013"  # the minus sign and the en dash, as copied from formatted numbers, read as "-"
MAX_EXPONENT = 99  # 1e99 is far beyond any amount; a longer exponent is refused before Decimal sees it
_SHAPE = re.compile(r"(?P<sign>[+-]?)(?P<body>[\d.,]*\d[\d.,]*)(?:[eE](?P<exp>[+-]?\d+))?")

MESSAGES: dict[str, dict[str, str]] = {
    "ru": {
        "amount.grouping": "Сумма «{value}» неоднозначна: «{mark}» может отделять и тысячи, и дробную часть — "
                           "укажите формат чисел файла (десятичная запятая или десятичная точка) или отделяйте "
                           "тысячи пробелом: 12 500.",
        "amount.groups": "В сумме «{value}» разряды разделены неровно — отделяйте тысячи по три цифры, "
                         "например 1 234 567,50.",
        "amount.format": "Сумма «{value}» не подходит к заявленному формату чисел (как {example}) — "
                         "исправьте сумму или выберите другой формат.",
        "number.not_number": "«{value}» — не число: введите число, например 12,5 или 1 234 567.",
        "number.not_finite": "«{value}» — не конечное число: введите обычное число.",
        "number.too_big": "Число «{value}» слишком велико — проверьте, не лишние ли разряды.",
        "number.decimals": "В числе «{value}» слишком много знаков после запятой — округлите его.",
        "number.groups": "В числе «{value}» разряды разделены неровно — отделяйте тысячи пробелом по три "
                         "цифры: 1 234 567.",
        "number.grouping": "Число «{value}» неоднозначно: точка может отделять и тысячи, и дробную часть — "
                           "дробную часть пишите через запятую (12,5), а тысячи отделяйте пробелом (1 000).",
        "number.format": "Число «{value}» не читается: дробную часть пишите через запятую (12,5), а тысячи "
                         "отделяйте пробелом (1 234 567).",
    },
    "en": {
        "amount.grouping": "The amount “{value}” is ambiguous: “{mark}” may separate thousands or decimals. "
                           "Declare the file's number format (decimal comma or decimal point) or separate "
                           "thousands with a space: 12 500.",
        "amount.groups": "The amount “{value}” has uneven digit groups: separate thousands in threes, e.g. "
                         "1 234 567.50.",
        "amount.format": "The amount “{value}” does not fit the declared number format (like {example}): fix it "
                         "or choose another format.",
        "number.not_number": "“{value}” is not a number: type a number such as 12.5 or 1,234,567.",
        "number.not_finite": "“{value}” is not a finite number: type an ordinary number.",
        "number.too_big": "The number “{value}” is too large: check for extra digits.",
        "number.decimals": "The number “{value}” has too many decimals: round it.",
        "number.groups": "The number “{value}” has uneven digit groups: separate thousands in threes, e.g. "
                         "1,234,567.",
        "number.grouping": "The number “{value}” is ambiguous: a mark may separate thousands or decimals. Use "
                           "a point for decimals (12.5) and commas for thousands (1,234).",
        "number.format": "The number “{value}” does not read in English notation: use a point for decimals "
                         "(12.5) and commas or spaces for thousands (1,234,567).",
    },
}
EXAMPLE = {"comma": "1.234,50", "point": "1,234.50"}  # shown in messages: what the declared format reads


class NumberTextError(ValueError):
    """Text that is not an amount: a message code of userdata.MESSAGES and its parameters."""

    def __init__(self, code: str, **params: str):
        super().__init__(code)
        self.code, self.params = code, params


def parse_number(text: str, fmt: NumberFormat = "auto") -> Decimal:
    """Decimal from amount text ('1 234,50', '12500 ₽', '1.234,5' with fmt='comma'); raise NumberTextError."""
    body = _strip_currency(text.strip().translate({ord(m): "-" for m in MINUS}))
    if body.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        raise NumberTextError("amount.not_finite")
    grouped, body = _drop_space_groups(body)
    match = _SHAPE.fullmatch(body)
    if not match:
        raise NumberTextError("amount.not_number")
    exponent = match.group("exp") or "0"
    digits = exponent.lstrip("+-")
    if len(digits) > 3 or int(digits) > MAX_EXPONENT:  # length first: int() of a huge string is slow
        raise NumberTextError("amount.decimals" if exponent.startswith("-") else "amount.too_big")
    whole, fraction = _split(match.group("body"), fmt, grouped)
    try:
        return Decimal(f"{match.group('sign')}{whole or '0'}.{fraction or '0'}E{int(exponent)}")
    except (InvalidOperation, ValueError):
        raise NumberTextError("amount.not_number") from None


def _strip_currency(text: str) -> str:
    """The text without a trailing rouble sign or 'руб.' or a leading '₽' as English formats it (spaces next
    to it are dropped too)."""
    sign = "-" if text.startswith("-") and text[1:].lstrip(SPACES).startswith("₽") else ""
    if text.lstrip("-").startswith("₽"):
        return sign + text.lstrip("-")[1:].lstrip(SPACES)
    for suffix in CURRENCY:
        if text.lower().endswith(suffix):
            return text[: -len(suffix)].rstrip(SPACES)
    return text


def typed_format(text: str, lang: str) -> NumberFormat:
    """How a number typed in the dashboard in this language is read (see the module docstring)."""
    if lang == "en":
        return "point"
    return "auto" if "." in text and "," not in text else "comma"


def parse_typed(text: str, lang: str, unit: str = "") -> Decimal:
    """Decimal from a number typed in the dashboard ('12,5', '1 234 567', '1e6'; the field's unit such as '%'
    or '$' and a rouble sign may stand before or after it); raise NumberTextError with a number.* code."""
    body = text.strip()
    if unit and body.endswith(unit):
        body = body[: -len(unit)].rstrip(SPACES)
    elif unit and body.lstrip("-").startswith(unit):
        body = ("-" if body.startswith("-") else "") + body.lstrip("-")[len(unit):].lstrip(SPACES)
    try:
        return parse_number(body, typed_format(body, lang))
    except NumberTextError as exc:
        code = exc.code.replace("amount.", "number.", 1)
        raise NumberTextError(code if code in MESSAGES["ru"] else "number.not_number", **exc.params) from None


def _drop_space_groups(text: str) -> tuple[bool, str]:
    """(whether spaces grouped the thousands, the text without them); raise on uneven groups."""
    if not any(ch in SPACES for ch in text):
        return False, text
    head = re.split(r"[.,eE]", text, maxsplit=1)[0].lstrip("+-")  # spaces may group the whole part only
    rest = text[len(text) - len(text.lstrip("+-")) + len(head):]
    if any(ch in SPACES for ch in rest) or not re.fullmatch(rf"\d{{1,3}}([{SPACES}]\d{{3}})+", head):
        raise NumberTextError("amount.groups")
    return True, re.sub(f"[{SPACES}]", "", text)


def _split(body: str, fmt: NumberFormat, grouped: bool) -> tuple[str, str]:
    """(whole digits, fraction digits) of the mantissa under the number format."""
    if fmt == "auto":
        return _split_auto(body, grouped)
    decimal, group = (",", ".") if fmt == "comma" else (".", ",")
    if body.count(decimal) > 1:
        raise NumberTextError("amount.format", example=EXAMPLE[fmt])
    whole, _, fraction = body.partition(decimal)
    if group in fraction:
        raise NumberTextError("amount.format", example=EXAMPLE[fmt])
    if group in whole:
        if grouped or not re.fullmatch(rf"\d{{1,3}}(\{group}\d{{3}})+", whole):
            raise NumberTextError("amount.format", example=EXAMPLE[fmt])
        whole = whole.replace(group, "")
    return whole, fraction


def _split_auto(body: str, grouped: bool) -> tuple[str, str]:
    """Undeclared format: the one dot or comma is decimal, unless it could be a thousands separator."""
    if "." in body and "," in body:
        raise NumberTextError("amount.ambiguous")
    mark = "," if "," in body else "."
    if body.count(mark) > 1:
        raise NumberTextError("amount.grouping", mark=mark)
    whole, _, fraction = body.partition(mark)
    # "12,500" reads as 12 500 in one country and 12.5 in another; with spaces grouping the whole part the
    # mark can only be decimal, and a whole part of 0 or of four digits and more is no thousands group.
    if (mark in body and not grouped and len(fraction) == 3 and 1 <= len(whole) <= 3
            and not whole.startswith("0")):
        raise NumberTextError("amount.grouping", mark=mark)
    return whole, fraction


def currency_symbol(currency: str = "RUB", lang: str = "ru") -> str:
    """The currency sign for labels and sentences (₽), the one rule pages, reports and the data layer's messages use."""
    # The Russian symbol for roubles reads better in English too than the bare code "RUB".
    return get_currency_symbol(currency, locale="ru_RU" if currency == "RUB" else {"ru": "ru_RU"}.get(lang, "en_US"))

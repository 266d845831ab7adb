"""Numbers typed into the dashboard's text fields and editor cells: shown and read the UI language's way.

Streamlit's number widgets drop a decimal comma ("12,5" becomes 125) and a minus sign, so the editors take text
and read it with `data_layer.numbers.parse_typed` (one parser with the cost import). A value that cannot be used
is refused with a sentence naming the field, what is wrong and what to do; nothing is flipped or clipped.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pandas as pd

from data_layer import userdata
from data_layer.numbers import NumberTextError, parse_typed
from data_layer.userdata import Problem, UserDataError
from presentation import fmt
from ui.i18n import lang, tr

TEXT = {
    "ru": {
        "where": "{field}: {text}",
        "percent.empty": "не указан процент — введите число от 0 до 100.",
        "number.empty": "значение не указано — введите число.",
        "percent.negative": "{value} — отрицательное число; введите процент от 0 до 100.",
        "percent.over": "{value} больше 100 % — введите процент от 0 до 100.",
    },
    "en": {
        "where": "{field}: {text}",
        "percent.empty": "no percentage given: type a number from 0 to 100.",
        "number.empty": "no value given: type a number.",
        "percent.negative": "{value} is negative: type a percentage from 0 to 100.",
        "percent.over": "{value} is above 100 %: type a percentage from 0 to 100.",
    },
}
PERCENT_DIGITS = 4  # rates are stored as fractions with 6 decimals: 4 in percent


class EntryError(ValueError):
    """A typed value that cannot be used; `sentence` says where, what is wrong and what to do."""

    def __init__(self, sentence: str):
        super().__init__(sentence)
        self.sentence = sentence


def _refuse(field: str, text: str) -> EntryError:
    return EntryError(tr(TEXT, "where", field=field, text=text))


def _decimal(text: str, field: str, unit: str = "") -> Decimal:
    """The typed text as a Decimal, or an EntryError with the parser's sentence."""
    try:
        return parse_typed(text, lang(), unit)
    except NumberTextError as exc:
        raise _refuse(field, Problem(exc.code, {**exc.params, "value": text.strip()}).text(lang())) from None


def read_amount(value: object, field: str, unit: str = "") -> float:
    """A money amount typed as text (or a number; unit: the currency sign it may carry): non-negative, at most
    kopecks; else EntryError."""
    typed = "" if userdata.is_blank(value) else str(value).strip()
    number: object = _decimal(typed, field, unit) if isinstance(value, str) and typed else value
    try:
        return userdata.to_amount(number, decimals=2)
    except UserDataError as exc:  # the sentence shows what was typed, not the parsed Decimal
        problem = exc.problems[0]
        raise _refuse(field, Problem(problem.code, {**problem.params, "value": typed}).text(lang())) from None


def read_percent(value: object, field: str, blank: bool = False) -> float | None:
    """A percentage 0…100 typed as text ('12,5', '12,5 %'); None when blank and blank is allowed."""
    typed = "" if userdata.is_blank(value) else str(value).strip()
    if not typed:
        if blank:
            return None
        raise _refuse(field, tr(TEXT, "percent.empty"))
    number = float(_decimal(typed, field, "%"))
    if number < 0:
        raise _refuse(field, tr(TEXT, "percent.negative", value=typed))
    if number > 100:
        raise _refuse(field, tr(TEXT, "percent.over", value=typed.rstrip("% ") + "\u00a0%"))
    return number


def read_number(value: object, field: str, unit: str = "") -> float:
    """Any finite number typed as text ('150', '−12,5 %'; unit: a sign it may carry), e.g. a target ROI; blank is
    refused."""
    typed = "" if userdata.is_blank(value) else str(value).strip()
    if not typed:
        raise _refuse(field, tr(TEXT, "number.empty"))
    return float(_decimal(typed, field, unit))


def amount_text(value: object) -> str:
    """A money amount for a text cell: always two decimals, grouped the UI language's way (no currency sign:
    the column title carries it)."""
    return "" if userdata.is_blank(value) else fmt.num(float(value), lang(), 2)  # type: ignore[arg-type]


def percent_text(value: object) -> str:
    """A percentage (12.5 = 12,5 %) for a text field: as many decimals as it has (up to four), with a sign."""
    if userdata.is_blank(value):
        return ""
    number = round(float(value), PERCENT_DIGITS)  # type: ignore[arg-type]
    digits = next(d for d in range(PERCENT_DIGITS + 1) if round(number, d) == number)
    return f"{fmt.num(number, lang(), digits)}\u00a0%"


_NEVER_SHOWN = object()  # the shown text of a row added in the editor: equal to nothing typed, even a blank


def typed_amount(value: object, shown: object, exact: float, field: str, unit: str = "") -> float:
    """One money cell of a text column read back: untouched (still the text it was shown as), its exact stored
    value, not that rounded text; edited or added, read as typed (EntryError when it cannot be used)."""
    return float(exact) if value == shown else read_amount(value, field, unit)


def typed_amounts(edited: pd.Series, shown: pd.Series, exact: pd.Series, field: Callable[[int], str],
                  unit: str = "") -> tuple[pd.Series, list[str]]:
    """typed_amount of every cell of an editor's money column (rows added in the editor have no shown text);
    returns the amounts and each refused cell's sentence. `field(n)` names the n-th row (1-based)."""
    amounts: list[float | None] = []
    problems: list[str] = []
    for n, (idx, value) in enumerate(edited.items(), start=1):
        known = idx in shown.index
        try:
            amounts.append(typed_amount(value, shown.loc[idx] if known else _NEVER_SHOWN,
                                        exact.loc[idx] if known else 0.0, field(n), unit))
        except EntryError as exc:
            problems.append(exc.sentence)
            amounts.append(None)
    return pd.Series(amounts, index=edited.index, dtype=object), problems

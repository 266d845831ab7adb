"""The one formula guard for every file the product writes (OWASP "CSV injection").

A text cell that a spreadsheet would run as a formula — it starts with ``= + - @`` or their full-width forms
(``＝ ＋ － ＠``, which some Excel input methods turn into the ASCII ones), also after leading spaces, or with
a tab / carriage return / line feed — is dangerous. CSV writers prefix it with an apostrophe (``neutralise``);
XLSX writers store it as a string cell instead and need no prefix. ``unneutralise`` undoes the prefix on
import, so an exported ledger re-imports unchanged. It lives in the data layer because the ledger export
needs it and the data layer never imports ``reports`` (``reports.safe`` re-exports these names).
"""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # with full-width forms
CONTROL_START = ("\t", "\r", "\n")
QUOTE = "'"


def is_dangerous(text: str) -> bool:
    """True when a spreadsheet could take this text for a formula or a control sequence."""
    if not text:
        return False
    if text.startswith(CONTROL_START) or text.startswith(FORMULA_START):
        return True
    return text.lstrip(" \u00a0").startswith(FORMULA_START)


def neutralise(value: Any) -> Any:
    """Prefix a dangerous text cell with an apostrophe (CSV); return anything else unchanged."""
    if isinstance(value, str) and is_dangerous(value):
        return QUOTE + value
    return value


def unneutralise(text: str) -> str:
    """Undo the CSV guard: an apostrophe before dangerous text is dropped, other text is kept."""
    return text[1:] if text.startswith(QUOTE) and is_dangerous(text[1:]) else text


def text_cell(cell: Any) -> Any:
    """Keep an openpyxl cell holding text a string cell: never a formula, no apostrophe in its value."""
    # openpyxl turns any str starting with "=" into a formula cell; data_type "s" writes it as inline text.
    # quotePrefix is Excel's own "text, not formula" flag: the cell stays text when someone edits it.
    if isinstance(cell.value, str):
        cell.data_type = "s"
        if is_dangerous(cell.value):
            cell.quotePrefix = True
    return cell

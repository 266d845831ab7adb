"""Make CRM-supplied text harmless in exported files, and keep secrets out of reports and logs.

* CSV: a text cell that a spreadsheet would read as a formula (starts with ``= + - @``, a tab or a
  carriage return — also after leading spaces, and their full-width forms) gets a leading apostrophe
  (OWASP "CSV injection"). Only text is touched: numbers, dates and empty cells stay what they are. The
  guard itself is ``data_layer.textguard`` (one rule for the ledger export and the reports), re-exported
  here. XLSX writers store such text as a string cell, never a formula, and add no apostrophe.
* PDF: fpdf2 writes plain text; every call in ``reports.pdf`` passes ``markdown=False`` and nothing calls
  ``write_html``, so ``**bold**`` or ``<b>`` in a partner name is printed literally. ``pdf_text`` only
  replaces control characters the font cannot draw.
* Secrets: ``redact`` replaces every known secret (SMTP password, tokens from the environment or
  ``.streamlit/secrets.toml``) with ``***`` in any message before it is printed or logged.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from data_layer.textguard import CONTROL_START, FORMULA_START, QUOTE, is_dangerous, neutralise

__all__ = ["CONTROL_START", "FORMULA_START", "QUOTE", "is_dangerous", "known_secrets", "neutralise", "pdf_text",
           "redact", "safe_frame"]

SECRETS_FILE = Path(".streamlit/secrets.toml")
SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _is_text_column(series: pd.Series) -> bool:
    return series.dtype == object or isinstance(series.dtype, pd.StringDtype)


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of the frame whose text cells are neutralised (numbers untouched)."""
    out = frame.copy()
    for col in out.columns:
        if _is_text_column(out[col]):
            out[col] = out[col].map(neutralise).astype(object)
    return out


def pdf_text(value: Any) -> str:
    """Text for a PDF cell: literal, with tabs/newlines as spaces and other control characters dropped."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value).replace("\t", " ").replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    return _CONTROL.sub("", text)


def _secret_values(table: dict[str, Any]) -> Iterable[str]:
    for key, value in table.items():
        if isinstance(value, dict):
            yield from _secret_values(value)
        elif isinstance(value, str) and any(word in key.lower() for word in SECRET_WORDS):
            yield value


def known_secrets(secrets_file: Path | None = None) -> list[str]:
    """Secret values this process could know: matching environment variables and secrets.toml entries."""
    found = [v for k, v in os.environ.items() if any(w in k.lower() for w in SECRET_WORDS)]
    path = secrets_file or SECRETS_FILE
    try:
        found.extend(_secret_values(tomllib.loads(path.read_text(encoding="utf-8"))))
    except (OSError, tomllib.TOMLDecodeError):
        pass
    return sorted({s for s in found if len(s) >= 4}, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """The text with every known secret replaced by ***."""
    for secret in known_secrets() if secrets is None else secrets:
        if secret:
            text = text.replace(secret, "***")
    return text

"""Table columns for st.dataframe in one place: how money, percentages, counts, intervals and names look and fit.

A page lists its columns as `Col`s (frame column, kind, optional header, help, pinning); `styled` formats the
frame's cells the locale's way through presentation.fmt (numbers stay numbers, so a click on a header still sorts
them), `column_config` right-aligns the numbers and sizes every column to its longest text, and `show` draws the
table in a given column order. Widths come from the texts, not from the first rows Streamlit's grid measures, so
a long name further down is not clipped.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd
import streamlit as st

from presentation import fmt

Kind = Literal["text", "name", "count", "money", "pct", "interval", "days"]
NUMERIC: frozenset[str] = frozenset({"count", "money", "pct", "days"})
PADDING = 8 * 2 + 2  # the grid's cell padding on both sides, and a little room
NAME_MAX = 250  # px, about 33 letters: a longer name is cut with "…" (its header says where to read it in full)
ELLIPSIS = "…"


@dataclass(frozen=True)
class Col:
    """One displayed column: `kind` decides its format, alignment and width; `label` is a shorter header."""

    key: str
    kind: Kind = "text"
    label: str | None = None
    help: str | None = None
    pinned: bool = False
    digits: int | None = None  # decimals of a number, a percentage or an interval (the kind's default if None)
    width: int | None = None  # px; fitted to the texts when None


DEFAULT_DIGITS = {"count": 0, "money": 0, "pct": 1, "interval": 1, "days": 1}


def _digits(col: Col) -> int:
    return DEFAULT_DIGITS.get(col.kind, 0) if col.digits is None else col.digits


def _value(v: object) -> float | None:
    """A cell as a float, None when missing (None, NaN, NA; fmt shows those as a dash)."""
    return None if v is None or pd.isna(v) else float(v)


def interval_text(low: object, high: object, code: str = "ru", digits: int = 1) -> str:
    """A 95 % interval of a fraction, compact: "180–303 %" (ru), "180–303%" (en); a dash when a bound is missing."""
    lo, hi = _value(low), _value(high)
    if lo is None or hi is None or not math.isfinite(lo + hi):
        return fmt.DASH
    unit = "\u00a0%" if code == "ru" else "%"
    # a range of negative numbers reads "−51 – −5 %": the spaced dash keeps the minus signs apart from it
    dash = "–" if lo >= 0 else "\u00a0– "
    return f"{fmt.num(lo * 100, code, digits)}{dash}{fmt.num(hi * 100, code, digits)}{unit}"


def intervals(rows: pd.DataFrame, col: str, code: str = "ru", digits: int = 1) -> list[str]:
    """interval_text of every row's <col>_low, <col>_high."""
    return [interval_text(lo, hi, code, digits) for lo, hi in zip(rows[f"{col}_low"], rows[f"{col}_high"],
                                                                   strict=False)]


def formatter(col: Col, code: str = "ru", currency: str = "RUB") -> Callable[[object], str] | None:
    """The cell text of a numeric column in the locale (money with ₽, percentages with %), None for text."""
    digits = _digits(col)
    if col.kind == "money":
        return lambda v: fmt.money(_value(v), code, currency, digits)
    if col.kind == "pct":
        return lambda v: fmt.pct(_value(v), code, digits)
    if col.kind in ("count", "days"):
        return lambda v: "" if _value(v) is None else fmt.num(_value(v), code, digits)
    return None


def styled(frame: pd.DataFrame, cols: Iterable[Col], code: str = "ru",
           currency: str = "RUB") -> pd.io.formats.style.Styler:
    """The frame with each numeric column's cells formatted by its kind (the values stay numbers)."""
    formats = {c.key: f for c in cols if c.key in frame.columns and (f := formatter(c, code, currency))}
    return frame.style.format(formats)


WIDE = frozenset("ШЩЖЮМЫWMшщжюмыwm%@—")
NARROW = frozenset(".,:;'|!()[]ilIjtfr1")


def text_px(text: str) -> float:
    """A slightly generous estimate of a text's width in px in the grid's 14 px font (Source Sans)."""
    width = 0.0
    for ch in text:
        if ch.isspace():
            width += 3.6
        elif ch in WIDE:
            width += 12.0
        elif ch in NARROW:
            width += 4.4
        elif ch.isdigit():
            width += 7.2
        elif ch.isupper() or unicodedata.east_asian_width(ch) in ("W", "F"):
            width += 9.6
        else:
            width += 7.4
    return width


def fit_width(texts: Iterable[str], header: str, low: int = 40, high: int = 420) -> int:
    """Pixels for a column that shows every text and its header in one line, clamped to [low, high]."""
    longest = max((text_px(t) for t in texts), default=0.0)
    return int(min(high, max(low, math.ceil(max(longest, text_px(header) + 2) + PADDING))))  # headers are bold


def shorten(name: str, px: float = NAME_MAX, pad: float = PADDING) -> str:
    """A name that fits px pixels (with pad of cell padding), cut with "…" at the end when it does not."""
    if text_px(name) + pad <= px:
        return name
    while name and text_px(name + ELLIPSIS) + pad > px:
        name = name[:-1]
    return name.rstrip() + ELLIPSIS


def names(values: Iterable[object], px: int = NAME_MAX) -> list[str]:
    """Partner (or other CRM) names as cells: literal text, shortened with "…" beyond px pixels."""
    return [shorten(str(v), px) for v in values]


def cell_texts(frame: pd.DataFrame, col: Col, code: str = "ru", currency: str = "RUB") -> list[str]:
    """What the column's cells read on screen (for sizing)."""
    f = formatter(col, code, currency)
    return [f(v) if f else ("" if v is None or pd.isna(v) else str(v)) for v in frame[col.key]]


def column_config(frame: pd.DataFrame, cols: Iterable[Col], code: str = "ru",
                  currency: str = "RUB") -> dict[str, st.column_config.Column]:
    """Streamlit column configs: numbers and intervals right-aligned, each column as wide as its longest text."""
    out: dict[str, st.column_config.Column] = {}
    for c in cols:
        if c.key not in frame.columns:
            continue
        header = c.label or c.key
        width = c.width or fit_width(cell_texts(frame, c, code, currency), header,
                                     high=NAME_MAX if c.kind == "name" else 420)
        common = {"label": c.label, "help": c.help, "width": width, "pinned": c.pinned or None}
        if c.kind in NUMERIC:
            out[c.key] = st.column_config.NumberColumn(alignment="right", **common)
        elif c.kind == "interval":
            out[c.key] = st.column_config.TextColumn(alignment="right", **common)
        else:
            out[c.key] = st.column_config.TextColumn(**common)
    return out


def total_width(config: dict[str, st.column_config.Column], order: Sequence[str]) -> int:
    """The pixels the columns of order take side by side (the selection column not counted)."""
    return sum(int(config[k].get("width") or 0) for k in order if k in config)


def fit(order: Sequence[str], config: dict[str, st.column_config.Column], budget: int, drop: Iterable[str],
        keep: Iterable[str] = ()) -> list[str]:
    """order without the columns of drop (in that order, never those of keep) until it fits budget pixels."""
    out, kept = list(order), set(keep)
    for key in drop:
        if total_width(config, out) <= budget:
            break
        if key in out and key not in kept:
            out.remove(key)
    return out


def show(frame: pd.DataFrame, cols: Sequence[Col], order: Sequence[str] | None = None, *, code: str = "ru",
         currency: str = "RUB", style: Callable[[pd.io.formats.style.Styler], pd.io.formats.style.Styler] | None = None,
         config: dict[str, st.column_config.Column] | None = None, **kwargs: object) -> object:
    """Draw frame with st.dataframe: formatted, configured (config, else column_config), in order (default: the
    Cols' order); style adds colours."""
    styler = styled(frame, cols, code, currency)
    if style is not None:
        styler = style(styler)
    keys = list(order) if order is not None else [c.key for c in cols if c.key in frame.columns]
    return st.dataframe(styler, column_config=config or column_config(frame, cols, code, currency),
                        column_order=keys, hide_index=True, placeholder=fmt.DASH, **kwargs)

"""Tables sized for a shared screen: large type and every row shown in meeting mode (ui.filters.is_meeting).

st.dataframe draws its cells on a canvas in a fixed 14 px font that no Streamlit option enlarges, so a short table
meant to be read across a room is drawn with st.table from a pandas Styler instead (the way Streamlit documents
styling a static table; no HTML and no page-wide CSS rule): the Styler sets the font size, keeps numbers as numbers so the
columns stay right-aligned, and shows each cell's text through `formats`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from presentation import fmt
from presentation.palette import BAND_COLORS
from ui.filters import is_meeting

GOOD, BAD, MUTED = BAND_COLORS["excellent"], BAND_COLORS["loss"], "#57606a"
CELL_FONT = {True: "1.4rem", False: "1.05rem"}    # meeting mode: ~22 px, readable across a room
HEAD_FONT = {True: "1.15rem", False: "0.9rem"}


def signed_color(value: object, good_when_up: bool = True) -> str:
    """Green for a change in the good direction, red for the other, none for zero or missing."""
    if value is None or pd.isna(value) or float(value) == 0:  # type: ignore[arg-type]
        return ""
    return GOOD if (float(value) > 0) == good_when_up else BAD  # type: ignore[arg-type]


def _nbsp(value: Any) -> Any:
    """A text with its spaces made non-breaking (anything else unchanged)."""
    return value.replace(" ", "\u00a0") if isinstance(value, str) else value


def _unbroken(format_: Callable[[Any], str]) -> Callable[[Any], str]:
    """A cell formatter whose text never breaks over lines."""
    return lambda v: _nbsp(format_(v))


def styler(frame: pd.DataFrame, formats: Mapping[str, Callable[[Any], str]] | None = None,
           colors: Mapping[str, Callable[[Any], str]] | None = None, right: Sequence[str] = (),
           wrap: Sequence[str] = (), big: bool | None = None) -> Any:
    """The frame as a Styler: cell texts from formats (a dash for missing values), text colours from colors
    (value -> CSS colour or ""), text columns in right right-aligned, only the columns in wrap (names, sentences)
    broken over lines, the font sized for the mode."""
    big = is_meeting() if big is None else big
    # a number or a short label broken over two lines reads as two values: non-breaking spaces keep it whole (the
    # table's cells are Markdown blocks that set their own wrapping, so a white-space property would not reach them)
    whole = {c: _unbroken(f) for c, f in (formats or {}).items() if c not in wrap}
    formats = {**(formats or {}), **whole}
    frame = frame.assign(**{c: frame[c].map(_nbsp) for c in frame.columns
                            if c not in wrap and c not in formats and not pd.api.types.is_numeric_dtype(frame[c])})
    out = frame.style.format(formats, na_rep=fmt.DASH)
    out = out.set_properties(**{"font-size": CELL_FONT[big], "line-height": "1.25"})
    out = out.set_table_styles([{"selector": "th", "props": f"font-size: {HEAD_FONT[big]}; color: {MUTED}"}])
    for col, pick in (colors or {}).items():
        out = out.map(lambda v, pick=pick: f"color: {pick(v)}" if pick(v) else "", subset=[col])
    if right:
        out = out.set_properties(subset=list(right), **{"text-align": "right !important"})
        out = out.set_table_styles({c: [{"selector": "th", "props": "text-align: right !important"}] for c in right},
                                   overwrite=False)
    return out


def table(frame: pd.DataFrame, formats: Mapping[str, Callable[[Any], str]] | None = None,
          colors: Mapping[str, Callable[[Any], str]] | None = None, right: Sequence[str] = (),
          wrap: Sequence[str] = (), big: bool | None = None) -> None:
    """A short table with every row shown and no inner scroll (st.table), large in meeting mode; text cells are
    Markdown, so CRM names must come escaped (presentation.fmt.plain)."""
    st.table(styler(frame, formats, colors, right, wrap, big), hide_index=True, border="horizontal")


def beside(weights: Sequence[float]) -> list[Any]:
    """Side-by-side blocks in meeting mode (the wide shared screen), stacked otherwise (a laptop with the sidebar)."""
    if is_meeting():
        return list(st.columns(list(weights), gap="medium"))
    return [st.container() for _ in weights]

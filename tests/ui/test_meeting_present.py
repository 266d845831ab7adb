"""ui.present: the shared screen's tables — large type in meeting mode, numbers kept as numbers, short texts whole."""

from __future__ import annotations

import pandas as pd

from ui import present


def _css(styler) -> str:
    return styler.to_html()


def test_meeting_mode_enlarges_the_cells_and_keeps_numbers_numeric() -> None:
    frame = pd.DataFrame({"Партнёр": ["ООО «Альфа»"], "Выручка": [1234567.0], "Выборка": ["мало лидов"]})
    big = present.styler(frame, formats={"Выручка": lambda v: f"{v:,.0f} ₽"}, wrap=["Партнёр"], big=True)
    small = present.styler(frame, big=False)
    assert f"font-size: {present.CELL_FONT[True]}" in _css(big) and f"font-size: {present.CELL_FONT[False]}" in _css(small)
    assert big.data["Выручка"].dtype.kind == "f", "numbers stay numbers: st.table right-aligns them"
    assert big.data["Выборка"].iloc[0] == "мало\u00a0лидов" and big.data["Партнёр"].iloc[0] == "ООО «Альфа»"
    assert "1,234,567\u00a0₽" in _css(big), "a formatted number never breaks over two lines"


def test_right_aligned_text_columns_and_signed_colours() -> None:
    frame = pd.DataFrame({"Лиды": ["8 → 10"], "Изменение": [-5.0]})
    html = _css(present.styler(frame, colors={"Изменение": present.signed_color}, right=["Лиды"], big=True))
    assert "text-align: right !important" in html and present.BAD in html
    assert present.signed_color(3) == present.GOOD and present.signed_color(0) == "" and present.signed_color(None) == ""
    assert present.signed_color(3, good_when_up=False) == present.BAD

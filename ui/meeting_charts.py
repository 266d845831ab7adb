"""Altair charts of the meeting screens: few marks, value labels on the marks (a room reads labels, not axes).

Drawn with ui.charts.show, which applies the project's palette, locale and the large meeting-mode fonts.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from presentation.palette import ANOMALY_COLOR, BAND_COLORS, PALETTE
from ui.present import BAD, GOOD, MUTED

LABEL_LIMIT = 320  # px of a partner name on a chart's axis before Vega cuts it with "…"


def _padded(values: Sequence[float], share: float = 0.35) -> list[float]:
    """An x domain from 0 (or the smallest value) to the largest, widened so the value labels beside the bars fit."""
    lo, hi = min([0.0, *values]), max([0.0, *values])
    span = (hi - lo) or 1.0
    return [lo - share * span if lo < 0 else 0.0, hi + share * span if hi > 0 else 0.0]


def change_bars(labels: Sequence[str], values: Sequence[float], texts: Sequence[str], title: str) -> alt.LayerChart:
    """One horizontal bar per row (in the given order): green up, red down, the formatted change beside it."""
    rows = pd.DataFrame({"label": list(labels), "value": [float(v) for v in values], "text": list(texts)})
    rows["color"] = [GOOD if v >= 0 else BAD for v in rows["value"]]
    y = alt.Y("label:N", sort=list(labels), title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT))
    values = rows["value"].tolist()
    lo, hi = min([0.0, *values]), max([0.0, *values])
    # every label stands right of its bar's end or of zero (a row has one bar, so that side is free): room on the right
    domain = [lo, hi + 0.6 * ((hi - lo) or 1.0)]
    x = alt.X("value:Q", title=title, scale=alt.Scale(domain=domain), axis=alt.Axis(labels=False, ticks=False,
                                                                                    grid=False))
    base = alt.Chart(rows).encode(y=y)
    bars = base.mark_bar(cornerRadius=3).encode(x=x, color=alt.Color("color:N", scale=None, legend=None))
    text = base.mark_text(align="left", dx=8).encode(x="at:Q", text="text:N") \
        .transform_calculate(at="max(datum.value, 0)")
    zero = alt.Chart(pd.DataFrame({"value": [0.0]})).mark_rule(color=MUTED).encode(x="value:Q")
    return alt.layer(bars, zero, text)


def roi_moves(rows: pd.DataFrame, title: str) -> alt.LayerChart:
    """ROI before → now per partner (rows: label, roi_before, roi_now, band_now, text): a grey dot, a line, a dot
    in the new band's colour with the new ROI beside it."""
    data = rows.assign(color=[BAND_COLORS.get(b or "n/a", MUTED) for b in rows["band_now"]])
    y = alt.Y("label:N", sort=list(rows["label"]), title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT))
    values = [float(v) for v in [*data["roi_before"], *data["roi_now"]] if pd.notna(v)]
    x = alt.X("roi_before:Q", title=None, axis=alt.Axis(format=".0%", tickCount=5),
              scale=alt.Scale(domain=_padded(values, 0.2)))
    base = alt.Chart(data).encode(y=y)
    line = base.mark_rule(color=MUTED).encode(x=x, x2="roi_now:Q")
    before = base.mark_point(filled=True, color=MUTED, size=220).encode(x=x)
    now = base.mark_point(filled=True, size=420).encode(x="roi_now:Q", color=alt.Color("color:N", scale=None))
    label = base.mark_text(dy=-22).encode(x="roi_now:Q", text="text:N")
    # the long legend-like title goes under the whole chart from its left edge: centred under the plot it was cut
    return alt.layer(line, before, now, label).properties(
        title=alt.TitleParams(title, orient="bottom", anchor="start", frame="bounds", fontSize=14))


def weekly_line(rows: pd.DataFrame, title: str, axis_format: str = ",.0f") -> alt.LayerChart:
    """A metric's last weeks (rows: week, value, flagged, text): a line, the flagged week's point in red and the last
    week's value written above it."""
    data = rows.assign(week=pd.to_datetime(rows["week"]), color=[ANOMALY_COLOR if f else PALETTE[0]
                                                                  for f in rows["flagged"]])
    x = alt.X("week:T", title=None, axis=alt.Axis(format="%d.%m", tickCount=6, labelAngle=0))
    y = alt.Y("value:Q", title=None, axis=alt.Axis(format=axis_format, tickCount=4))
    base = alt.Chart(data).encode(x=x, y=y)
    line = base.mark_line(color=PALETTE[0])
    points = base.mark_point(filled=True, size=160).encode(color=alt.Color("color:N", scale=None))
    last = base.transform_window(rank="rank()", sort=[alt.SortField("week", order="descending")]) \
        .transform_filter("datum.rank == 1").mark_text(dy=-22, fontWeight="bold").encode(text="text:N")
    return alt.layer(line, points, last).properties(title=title)


def goal_bars(rows: pd.DataFrame, title: str) -> alt.LayerChart:
    """Each goal's actual and projected end-of-period value as shares of its target (rows: label, done, pace, text);
    the target is the line at 100 %."""
    data = rows.assign(done=rows["done"].astype(float), pace=rows["pace"].astype(float))
    top = max([1.0, *[v for v in [*data["done"], *data["pace"]] if pd.notna(v)]])
    x = alt.X("done:Q", title=title, axis=alt.Axis(format=".0%", tickCount=6), scale=alt.Scale(domain=[0, top * 1.25]))
    y = alt.Y("label:N", sort=list(rows["label"]), title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT))
    base = alt.Chart(data).encode(y=y)
    bars = base.mark_bar(color=BAD, cornerRadius=3).encode(x=x)
    pace = base.mark_tick(color="#000000", thickness=4).encode(x="pace:Q")
    text = base.mark_text(align="left", dx=8, fontWeight="bold").encode(x="done:Q", text="text:N")
    target = alt.Chart(pd.DataFrame({"done": [1.0]})).mark_rule(color=GOOD, strokeDash=[6, 4]).encode(x="done:Q")
    return alt.layer(bars, target, pace, text)

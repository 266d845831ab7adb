"""A metric over time (the trends page): one line per series in its stable colour, young periods drawn apart,
anomaly rings, and the trend line each arrow describes.

Built like ui.charts' builders (aggregated rows in, an unconfigured chart out; charts.show draws it).
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd

from metrics.changes import TrendLine
from presentation import fmt
from presentation.palette import ANOMALY_COLOR
from presentation.stages import STAGES, stage_of
from ui import charts
from ui.charts import STAGE_DASH, money_axis, pct_axis, text_col, when
from ui.i18n import lang

TREND_WIDTH = 9  # px: the trend line is a broad translucent band under the points, not one more thin line


def over_time(df: pd.DataFrame, series_col: str, value_kind: str, title: str,
              currency: str = "RUB", anomalies: bool = True, grain: str = "month",
              stages: dict[str, str] | None = None, colors: alt.Scale | None = None,
              trends: Mapping[str, TrendLine | None] | None = None,
              trend_labels: Mapping[str, str] | None = None) -> alt.LayerChart:
    """A metric over time, one line per series; anomalies (is_anomaly) as red rings.

    df: period (date), series_col, value, is_anomaly (optional); with `stages` (labels of "mature", "maturing",
    "incomplete", "projection"), also maturing / incomplete flags and proj, proj_low, proj_high: young periods are
    drawn dashed (maturing) or dotted (incomplete) with hollow points, and a maturing period's projection at maturity
    as a diamond with its 80 % interval. colors: the series' colour scale (presentation.palette.model_scale /
    partner_scale); trends: each series' trend line (changes.trend_line), drawn as a broad translucent band through
    its window, its tooltip saying trend_labels[direction] and the change.
    """
    rows = df.copy()
    rows["period"] = pd.to_datetime(rows["period"])
    rows["value"] = rows["value"].astype(float)
    kind = {"money": "money", "pct": "pct", "days": "days"}.get(value_kind, "num")
    rows = text_col(rows, "value", kind, currency)
    rows["period_txt"] = [(fmt.day if grain == "week" else fmt.month)(p.date(), lang()) for p in rows["period"]]
    if "is_anomaly" not in rows:
        rows["is_anomaly"] = False
    axis = (money_axis(title, currency) if kind == "money" else pct_axis(title) if kind == "pct"
            else alt.Axis(title=title))
    x = alt.X("period:T", title=None,
              axis=alt.Axis(labelAngle=0, format="%d %b" if grain == "week" else "%b %Y",
                            tickCount="week" if grain == "week" else "month", labelOverlap="greedy"))
    # the legend's symbols at full strength: Vega-Lite would take them from the first layer, the pale trend band
    scale = {"scale": colors} if colors is not None else {}
    legend = alt.Legend(symbolOpacity=1.0)
    color = alt.Color(f"{series_col}:N", title=None, legend=legend, **scale)
    tips = [alt.Tooltip(f"{series_col}:N", title=" "), alt.Tooltip("period_txt:N", title=" "),
            alt.Tooltip("value_txt:N", title=title)]
    band = _trend_rows(trends or {}, series_col, trend_labels or {})
    if stages is not None:
        # the points' stroke encodes the series too, in the same scale: the same legend as color (legend=None on
        # it hid both in the browser's Vega-Lite)
        stroke = alt.Stroke(f"{series_col}:N", title=None, legend=legend, **scale)
        return _staged_lines(rows, series_col, kind, currency, stages, (x, alt.Y("y:Q", axis=axis), color, stroke),
                             tips, anomalies, band, title)
    data = pd.concat([rows.assign(role="point", y=rows["value"]), band], ignore_index=True)
    base = alt.Chart().encode(x=x, y=alt.Y("y:Q", axis=axis), color=color)
    layers = [base.transform_filter("datum.role == 'point'").mark_line(point=True).encode(tooltip=tips)
              .add_params(_drill(series_col))]
    layers += _trend_layer(base, series_col, band, title)
    if anomalies:
        layers.append(base.transform_filter("datum.role == 'point' && datum.is_anomaly").mark_point(
            shape="circle", size=420, filled=False, strokeWidth=3).encode(color=alt.value(ANOMALY_COLOR)))
    return alt.layer(*layers, data=data)


def _drill(series_col: str) -> alt.Parameter:
    """The click selection of a point: its period and series (ui.drill opens the deals behind it)."""
    return alt.selection_point(name=charts.DRILL, fields=["period", series_col], on="click")


def _trend_rows(trends: Mapping[str, TrendLine | None], series_col: str, labels: Mapping[str, str]) -> pd.DataFrame:
    """The two ends of each series' trend line as rows (role "trend"), with the arrow's text for the tooltip."""
    code = lang()
    out = []
    for name, line in trends.items():
        if line is None:
            continue
        text = labels.get(line.direction, line.direction)
        if line.change is not None:
            text += f" ({fmt.signed_pct(line.change, code)})"
        for period, y in ((line.periods[0], line.start), (line.periods[-1], line.end)):
            out.append({series_col: name, "period": pd.Timestamp(period), "y": y, "trend_txt": text, "role": "trend"})
    return pd.DataFrame(out, columns=[series_col, "period", "y", "trend_txt", "role"])


def _trend_layer(base: alt.Chart, series_col: str, band: pd.DataFrame, title: str) -> list[alt.Chart]:
    """The trend lines (none when no series has one): broad, translucent, in the series' colour, under the points."""
    if band.empty:
        return []
    return [base.transform_filter("datum.role == 'trend'").mark_line(
        strokeWidth=TREND_WIDTH, opacity=0.22, strokeCap="round").encode(
        detail=alt.Detail(f"{series_col}:N"),
        tooltip=[alt.Tooltip(f"{series_col}:N", title=" "), alt.Tooltip("trend_txt:N", title=title)])]


def _runs(rows: pd.DataFrame, series_col: str) -> pd.DataFrame:
    """Line rows: each run of one stage within a series (run = its number), a later run starting at the run
    before's last point (so the dashed part continues the solid line)."""
    rows = rows.sort_values([series_col, "period"], kind="stable").reset_index(drop=True)
    same = rows[series_col].eq(rows[series_col].shift())
    starts = same & rows["stage"].ne(rows["stage"].shift())  # a stage change within a series
    rows["run"] = starts.groupby(rows[series_col], sort=False).cumsum()
    joints = rows.shift()[starts].assign(stage=rows.loc[starts, "stage"], stage_label=rows.loc[starts, "stage_label"],
                                         run=rows.loc[starts, "run"])
    return pd.concat([rows, joints], ignore_index=True)


def _staged_lines(rows: pd.DataFrame, series_col: str, kind: str, currency: str, stages: dict[str, str],
                  channels: tuple[alt.X, alt.Y, alt.Color, alt.Stroke], tips: list[alt.Tooltip], anomalies: bool,
                  band: pd.DataFrame, title: str) -> alt.LayerChart:
    """over_time with the young periods drawn apart and the projections at maturity (see over_time)."""
    x, y, color, stroke = channels
    rows["stage"] = stage_of(rows)
    rows["stage_label"] = rows["stage"].map(stages)
    for col in ("proj", "proj_low", "proj_high"):
        rows[col] = rows[col].astype(float) if col in rows.columns else float("nan")
    code = lang()
    def txt(v: float) -> str:
        return charts.value_text(kind, v, code, currency)

    rows["proj_txt"] = ["" if pd.isna(p) else f"{txt(p)} (80 %: {txt(lo)} – {txt(hi)})"
                        for p, lo, hi in zip(rows["proj"], rows["proj_low"], rows["proj_high"], strict=True)]
    keep = [c for c in ("period", series_col, "value", "value_txt", "period_txt", "is_anomaly", "stage",
                        "stage_label", "proj", "proj_low", "proj_high", "proj_txt") if c in rows.columns]
    rows = rows[keep]
    lines = _runs(rows, series_col)
    lines["series_run"] = lines[series_col].astype(str) + "·" + lines["run"].astype(str)
    young = rows[rows["proj"].notna()]
    # one dataset for every layer (line runs, points, projections and trend lines apart by role), few layers: each
    # layer and dataset costs ~5-10 ms to build and serialise on every rerun
    data = pd.concat([rows.assign(role="point", y=rows["value"]), young.assign(role="proj", y=young["proj"]),
                      lines.drop(columns="run").assign(role="line", y=lines["value"]), band], ignore_index=True)
    tips = [*tips, alt.Tooltip("stage_label:N", title=" "), alt.Tooltip("proj_txt:N", title=stages["projection"])]
    domain = [stages[s] for s in STAGES]
    base = alt.Chart().encode(x=x, y=y, color=color)
    line = base.transform_filter("datum.role == 'line'").mark_line().encode(
        detail=alt.Detail("series_run:N"),
        strokeDash=alt.StrokeDash("stage_label:N", title=None, scale=alt.Scale(
            domain=domain, range=[STAGE_DASH[s] for s in STAGES]),
        # above the chart: beside the series' legend at the bottom it ran past the right edge at 1440 px
        legend=alt.Legend(symbolType="stroke", orient="top")))
    # points filled when mature, hollow when young; a projection is a diamond
    marks = base.transform_filter("datum.role == 'point' || datum.role == 'proj'").mark_point(
        filled=True, strokeWidth=1.5).encode(
        tooltip=tips, shape=when("datum.role == 'proj'", "diamond", "circle", alt.ShapeValue), stroke=stroke,
        fillOpacity=when("datum.role == 'point' && datum.stage != 'mature'", 0.0, 0.8, alt.FillOpacityValue)
    ).add_params(_drill(series_col))
    interval = base.transform_filter("datum.role == 'proj'").mark_rule(strokeWidth=2, opacity=0.45).encode(
        y=alt.Y("proj_low:Q"), y2=alt.Y2("proj_high"))
    layers = [*_trend_layer(base, series_col, band, title), line, marks, interval]
    if anomalies and rows["is_anomaly"].any():
        layers.append(base.transform_filter("datum.role == 'point' && datum.is_anomaly").mark_point(
            shape="circle", size=420, filled=False, strokeWidth=3).encode(color=alt.value(ANOMALY_COLOR)))
    return alt.layer(*layers, data=data)


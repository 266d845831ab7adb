"""The forecast page's chart: actuals, the forecast and its 80 % / 95 % bands (Altair), and the frame it draws."""

from __future__ import annotations

import altair as alt
import pandas as pd

from metrics import forecast as fc
from presentation import palette
from ui.forecast_format import MONEY, period_text, value_text
from ui.i18n import lang


def chart_frame(result: fc.ForecastResult, metric: str, grain: str, currency: str) -> pd.DataFrame:
    """History and forecast rows with tooltip text; the forecast starts at the last actual point."""
    long = fc.to_long(result)
    hist = long[long["kind"] == "history"]
    if len(hist):
        joint = hist.iloc[[-1]].assign(kind="forecast")
        for col in ("lo80", "hi80", "lo95", "hi95"):
            joint[col] = joint["value"]
        long = pd.concat([long, joint], ignore_index=True)
    long["period"] = pd.to_datetime(long["period"])
    long["period_txt"] = [period_text(p, grain) for p in long["period"]]
    long["value_txt"] = [value_text(metric, v, currency) for v in long["value"]]
    long["band_txt"] = [
        "" if pd.isna(a) else f"80 %: {value_text(metric, a, currency)} – {value_text(metric, b, currency)}; "
                              f"95 %: {value_text(metric, c, currency)} – {value_text(metric, d, currency)}"
        for a, b, c, d in zip(long["lo80"], long["hi80"], long["lo95"], long["hi95"], strict=True)]
    return long


def _axis(metric: str, title: str) -> alt.Axis:
    if metric == "roi":
        return alt.Axis(title=title, format=".0%")
    if metric in MONEY:
        big, small = ("млн", "тыс") if lang() == "ru" else ("M", "K")
        expr = (f"abs(datum.value) >= 1e6 ? format(datum.value / 1e6, ',.1~f') + ' {big}' : "
                f"abs(datum.value) >= 1e3 ? format(datum.value / 1e3, ',.0f') + ' {small}' : "
                "format(datum.value, ',.0f')")
        return alt.Axis(title=title, labelExpr=expr)
    return alt.Axis(title=title)


def forecast_chart(long: pd.DataFrame, metric: str, title: str) -> alt.LayerChart:
    """Actuals (solid), forecast (dashed) and its 80 % / 95 % bands."""
    color = palette.PALETTE[0]
    base = alt.Chart().encode(x=alt.X("period:T", title=None, axis=alt.Axis(labelAngle=0)))  # data: on the layer
    tips = [alt.Tooltip("period_txt:N", title=" "), alt.Tooltip("value_txt:N", title=title),
            alt.Tooltip("band_txt:N", title=" ")]
    future = base.transform_filter("datum.kind == 'forecast'")
    band95 = future.mark_area(opacity=0.15, color=color).encode(y=alt.Y("lo95:Q", axis=_axis(metric, title)),
                                                                y2="hi95:Q")
    band80 = future.mark_area(opacity=0.3, color=color).encode(y="lo80:Q", y2="hi80:Q")
    ink = "#1b1f24"
    past = base.transform_filter("datum.kind == 'history'").mark_line(
        point=alt.OverlayMarkDef(color=ink), color=ink).encode(y="value:Q", tooltip=tips)
    ahead = future.mark_line(point=alt.OverlayMarkDef(color=color), strokeDash=[6, 4], color=color).encode(
        y="value:Q", tooltip=tips)
    return alt.layer(band95, band80, past, ahead, data=long)

"""Static charts for PDFs: Altair specs rendered to PNG by vl-convert (no browser), bundled font, RU/EN locale."""

from __future__ import annotations

import threading

import altair as alt
import pandas as pd
import vl_convert as vlc

from reports.pdf import FONT_DIR
from reports.text import band_label, say

# The dashboard's palette (ui/charts.py), repeated here so a cron job need not import the UI.
PALETTE = ["#1f6feb", "#e36209", "#1a7f37", "#8250df", "#bf3989", "#0598bc", "#9a6700", "#57606a"]
BAND_COLORS = {"excellent": "#1a7f37", "profitable": "#1f6feb", "marginal": "#d4a72c", "loss": "#cf222e",
               "n/a": "#8c959f"}
FONT = "DejaVu Sans"
WIDTH = 720
_fonts_lock = threading.Lock()
_fonts_ready = False


def _register_fonts() -> None:
    global _fonts_ready
    with _fonts_lock:
        if not _fonts_ready:
            vlc.register_font_directory(str(FONT_DIR))
            _fonts_ready = True


def _themed(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (chart.configure(font=FONT).configure_range(category=PALETTE)
            .configure_axis(labelFontSize=11, titleFontSize=11, labelLimit=220, gridColor="#e6e9ed")
            .configure_legend(orient="bottom", labelFontSize=11, labelLimit=320)
            .configure_title(fontSize=14, anchor="start").configure_view(strokeWidth=0))


def to_png(chart: alt.TopLevelMixin, lang: str = "ru", scale: float = 1.6) -> bytes:
    """Render a chart to PNG with the bundled font, the language's number format and no network access."""
    _register_fonts()
    spec = _themed(chart).to_dict()
    locale = "ru-RU" if lang == "ru" else "en-US"
    return vlc.vegalite_to_png(spec, scale=scale, format_locale=locale, time_format_locale=locale,
                               allowed_base_urls=[])


def _money_axis(title: str, lang: str, currency: str) -> alt.Axis:
    unit = ("млн", "тыс") if lang == "ru" else ("M", "K")
    expr = (f"abs(datum.value) >= 1e6 ? format(datum.value / 1e6, ',.1~f') + ' {unit[0]}' : "
            f"abs(datum.value) >= 1e3 ? format(datum.value / 1e3, ',.0f') + ' {unit[1]}' : "
            "format(datum.value, ',.0f')")
    return alt.Axis(title=f"{title}, {currency}", labelExpr=expr)


def revenue_costs(monthly: pd.DataFrame, lang: str, currency: str = "₽") -> alt.Chart:
    """Monthly revenue and costs as grouped bars; monthly: period, revenue, costs."""
    rows = monthly[["period", "revenue", "costs"]].copy()
    rows["period"] = pd.to_datetime(rows["period"])
    names = {"revenue": say(lang, "chart.revenue"), "costs": say(lang, "chart.costs")}
    long = rows.melt(id_vars="period", value_vars=["revenue", "costs"], var_name="series", value_name="amount")
    long["amount"] = pd.to_numeric(long["amount"], errors="coerce").fillna(0.0)
    long["series"] = long["series"].map(names)
    domain = [names["revenue"], names["costs"]]
    return alt.Chart(long, title=say(lang, "chart.revenue_costs")).mark_bar().encode(
        x=alt.X("yearmonth(period):T", title=None, axis=alt.Axis(format="%b %Y", labelAngle=0)),
        xOffset=alt.XOffset("series:N", sort=domain),
        y=alt.Y("amount:Q", axis=_money_axis(say(lang, "col.amount"), lang, currency)),
        color=alt.Color("series:N", title=None, sort=domain, scale=alt.Scale(domain=domain, range=PALETTE[:2])),
    ).properties(width=WIDTH, height=220)


def roi_bars(frame: pd.DataFrame, label_col: str, title: str, lang: str, limit: int = 40) -> alt.Chart:
    """ROI per row as bars coloured by band; rows with too few leads paler; rows without ROI left out."""
    rows = frame[[label_col, "roi", "roi_band"]].copy()
    rows["few"] = frame["too_few"].fillna(False).astype(bool) if "too_few" in frame else False
    rows["roi"] = pd.to_numeric(rows["roi"], errors="coerce")
    rows = rows[rows["roi"].notna()].sort_values("roi", ascending=False).head(limit)
    rows["band"] = [band_label(b if isinstance(b, str) else None, lang) for b in rows["roi_band"]]
    domain = [band_label(b, lang) for b in BAND_COLORS]
    return alt.Chart(rows, title=title).mark_bar().encode(
        y=alt.Y(f"{label_col}:N", sort="-x", title=None),
        x=alt.X("roi:Q", title="ROI", axis=alt.Axis(format=".0%")),
        color=alt.Color("band:N", title=None, scale=alt.Scale(domain=domain, range=list(BAND_COLORS.values()))),
        opacity=alt.condition("datum.few", alt.value(0.4), alt.value(1.0)),
    ).properties(width=WIDTH - 180, height=max(60, 16 * len(rows)))


def weekly_line(series: pd.DataFrame, title: str) -> alt.Chart:
    """A weekly series as a line with points; series: week (date), value, is_anomaly."""
    rows = series.copy()
    rows["week"] = pd.to_datetime(rows["week"])
    base = alt.Chart(rows, title=title).encode(
        x=alt.X("week:T", title=None, axis=alt.Axis(format="%d %b", labelAngle=0)),
        y=alt.Y("value:Q", title=None),
    )
    points = base.mark_point(filled=True, size=80).encode(
        color=alt.condition("datum.is_anomaly", alt.value(BAND_COLORS["loss"]), alt.value(PALETTE[0])))
    return alt.layer(base.mark_line(color=PALETTE[0]), points).properties(width=WIDTH, height=160)

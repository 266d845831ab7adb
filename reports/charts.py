"""Static charts for PDFs: Altair specs rendered to PNG by vl-convert (no browser), bundled font, RU/EN locale.

Colours are the dashboard's (presentation.palette: one palette, one colour per model, one per ROI band), and the
charts mark what the screens mark: an unfinished or maturing period's bars pale with the projection at maturity, a
partner with too few leads pale and named so, the models' ROI with its 95 % interval.
"""

from __future__ import annotations

import threading

import altair as alt
import pandas as pd
import vl_convert as vlc

from presentation import events as event_words
from presentation import fmt
from presentation.palette import ANOMALY_COLOR, BAND_COLORS, BANDS, MODEL_COLORS, PALETTE
from presentation.stages import stage_of
from reports.pdf import FONT_DIR
from reports.text import band_label, few_word, say

__all__ = ["model_roi", "revenue_costs", "roi_bars", "to_png", "weekly_line"]

FONT = "DejaVu Sans"
WIDTH = 720
INK = "#1b1f24"
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
            .configure_axis(labelFontSize=11, titleFontSize=11, labelLimit=260, gridColor="#e6e9ed")
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


def revenue_costs(monthly: pd.DataFrame, lang: str, currency: str = "₽",
                  events: pd.DataFrame | None = None) -> alt.LayerChart:
    """Monthly revenue and costs as grouped bars, as the overview draws them: an unfinished month's bars pale, a
    maturing month's revenue pale with its projection at maturity (tick) and 80 % interval (line); the view's events
    (metrics.events) as dashed rules with their titles, as on the dashboard."""
    rows = monthly[["period", "revenue", "costs"]].copy()
    rows["period"] = pd.to_datetime(rows["period"])
    rows["month"] = [fmt.month(p.date(), lang) for p in rows["period"]]
    rows["stage"] = stage_of(monthly)
    names = {"revenue": say(lang, "chart.revenue"), "costs": say(lang, "chart.costs")}
    long = rows.melt(id_vars=["month", "stage"], value_vars=["revenue", "costs"], var_name="series",
                     value_name="amount")
    long["amount"] = pd.to_numeric(long["amount"], errors="coerce").fillna(0.0)
    long["pale"] = [stage == "incomplete" or (stage == "maturing" and series == "revenue")
                    for stage, series in zip(long["stage"], long["series"], strict=True)]
    long["series"] = long["series"].map(names)
    domain = [names["revenue"], names["costs"]]
    order = list(rows["month"])
    x = alt.X("month:O", title=None, sort=order, axis=alt.Axis(labelAngle=0 if len(order) <= 8 else -40))
    offset = alt.XOffset("series:N", sort=domain, scale=alt.Scale(domain=domain))
    bars = alt.Chart(long).mark_bar().encode(
        x=x, xOffset=offset, y=alt.Y("amount:Q", axis=_money_axis(say(lang, "col.amount"), lang, currency)),
        color=alt.Color("series:N", title=None, sort=domain, scale=alt.Scale(domain=domain, range=PALETTE[:2])),
        opacity=alt.condition("datum.pale", alt.value(0.4), alt.value(1.0)),
    )
    proj = _projection_rows(monthly, rows["month"], names["revenue"])
    layers: list[alt.Chart] = [bars]
    if not proj.empty:
        layers.append(alt.Chart(proj).mark_tick(thickness=3, color=INK).encode(x=x, xOffset=offset, y="proj:Q"))
        layers.append(alt.Chart(proj).mark_rule(color=INK, opacity=0.6).encode(x=x, xOffset=offset, y="low:Q",
                                                                               y2="high:Q"))
    layers += _event_layers(events, order, x, lang)
    return alt.layer(*layers).properties(width=WIDTH, height=220, title=say(lang, "chart.revenue_costs"))


EVENT_INK = "#57606a"
EVENT_TITLE = 30  # characters of an event's title on paper


def _event_layers(events: pd.DataFrame | None, order: list[str], x: alt.X, lang: str) -> list[alt.Chart]:
    """The events of the months on the chart as dashed rules with titles (one rule per month; its events' titles
    joined; two rows of titles so neighbours do not overlap); none without events."""
    if events is None or events.empty:
        return []
    titles: dict[str, list[str]] = {}
    for event in events.to_dict("records"):
        label = fmt.month(event["day"].replace(day=1), lang)
        if label in order:
            titles.setdefault(label, []).append(event_words.title(event, lang))
    if not titles:
        return []
    marks = pd.DataFrame([{"month": m, "label": event_words.short(" · ".join(t), EVENT_TITLE),
                           "y_px": 2 + 13 * (i % 2), "right": order.index(m) > 0.7 * (len(order) - 1)}
                          for i, (m, t) in enumerate(sorted(titles.items(), key=lambda kv: order.index(kv[0])))])
    rule = alt.Chart(marks).mark_rule(color=EVENT_INK, strokeDash=[5, 3], strokeWidth=1.2).encode(x=x)
    texts = [alt.Chart(marks).transform_filter(f"{'' if right else '!'}datum.right").mark_text(
        align="right" if right else "left", baseline="top", dx=-3 if right else 3, fontSize=9, color=EVENT_INK,
        fontWeight="bold").encode(x=x, y=alt.Y("y_px:Q", scale=None, axis=None), text="label:N")
        for right in (False, True)]
    return [rule, *texts]


def _projection_rows(monthly: pd.DataFrame, months: pd.Series, revenue: str) -> pd.DataFrame:
    """The maturing months' projected revenue and its interval (empty when no month is projected)."""
    if "projected_revenue" not in monthly.columns:
        return pd.DataFrame(columns=["month", "series", "proj", "low", "high"])
    keep = monthly["projected_revenue"].notna().to_numpy()
    if "maturing" in monthly.columns:
        keep = keep & monthly["maturing"].fillna(False).astype(bool).to_numpy()
    proj = monthly[keep]
    value = proj["projected_revenue"].astype(float)
    return pd.DataFrame({
        "month": months[keep].to_numpy(), "series": revenue, "proj": value.to_numpy(),
        "low": proj.get("projected_revenue_low", value).astype(float).fillna(value).to_numpy(),
        "high": proj.get("projected_revenue_high", value).astype(float).fillna(value).to_numpy(),
    })


def roi_bars(frame: pd.DataFrame, label_col: str, title: str, lang: str, limit: int = 40) -> alt.Chart:
    """ROI per row as bars coloured by band; a row with too few leads pale and named so ("· мало лидов", as the
    partners page labels it); rows without ROI left out."""
    rows = frame[[label_col, "roi", "roi_band"]].copy()
    few = frame["too_few"].fillna(False).astype(bool) if "too_few" in frame else pd.Series(False, index=frame.index)
    rows["few"] = few
    rows["roi"] = pd.to_numeric(rows["roi"], errors="coerce")
    rows = rows[rows["roi"].notna()].sort_values("roi", ascending=False).head(limit)
    rows[label_col] = [f"{name} · {few_word(lang)}" if f else str(name)
                       for name, f in zip(rows[label_col], rows["few"], strict=True)]
    rows["band"] = [band_label(b if isinstance(b, str) else None, lang) for b in rows["roi_band"]]
    domain = [band_label(b, lang) for b in BANDS]
    return alt.Chart(rows, title=title).mark_bar().encode(
        y=alt.Y(f"{label_col}:N", sort="-x", title=None),
        x=alt.X("roi:Q", title="ROI", axis=alt.Axis(format=".0%")),
        color=alt.Color("band:N", title=None, scale=alt.Scale(domain=domain,
                                                              range=[BAND_COLORS[b] for b in BANDS])),
        opacity=alt.condition("datum.few", alt.value(0.4), alt.value(1.0)),
    ).properties(width=WIDTH - 180, height=max(60, 16 * len(rows)))


def model_roi(models: pd.DataFrame, label_col: str, title: str) -> alt.LayerChart:
    """ROI of each model as a bar in the model's colour with its 95 % interval (the first screen's model bars);
    models without ROI (direct sales: no costs) left out. models: model, label_col, roi, roi_low, roi_high."""
    rows = models[["model", label_col, "roi"]].copy()
    for col in ("roi", "roi_low", "roi_high"):
        rows[col] = pd.to_numeric(models[col], errors="coerce") if col in models else float("nan")
    rows = rows[rows["roi"].notna()]
    order = [m for m in MODEL_COLORS if m in set(rows["model"])] + \
        [m for m in dict.fromkeys(rows["model"]) if m not in MODEL_COLORS]
    labels = {m: lab for m, lab in zip(rows["model"], rows[label_col], strict=True)}
    domain = [labels[m] for m in order]
    colors = [MODEL_COLORS.get(m, MODEL_COLORS["unassigned"]) for m in order]
    y = alt.Y(f"{label_col}:N", sort=domain, title=None)
    bars = alt.Chart().mark_bar(height=22).encode(
        y=y, x=alt.X("roi:Q", title="ROI", axis=alt.Axis(format=".0%")),
        color=alt.Color(f"{label_col}:N", legend=None, scale=alt.Scale(domain=domain, range=colors)))
    ranges = alt.Chart().mark_rule(color=INK, strokeWidth=1.5).encode(y=y, x="roi_low:Q", x2="roi_high:Q")
    return alt.layer(bars, ranges, data=rows[rows["roi"].notna()]).properties(
        width=WIDTH - 160, height=max(60, 30 * len(rows)), title=title)


def weekly_line(series: pd.DataFrame, title: str) -> alt.LayerChart:
    """A weekly series as a line with points (a maturing week's point hollow, an anomaly red); series: week (date),
    value, is_anomaly, optional maturing."""
    rows = series.copy()
    rows["week"] = pd.to_datetime(rows["week"])
    rows["young"] = rows["maturing"].fillna(False).astype(bool) if "maturing" in rows else False
    base = alt.Chart(title=title).encode(
        x=alt.X("week:T", title=None, axis=alt.Axis(format="%d %b", labelAngle=0)),
        y=alt.Y("value:Q", title=None),
    )
    rows["ink"] = [ANOMALY_COLOR if bool(a) else PALETTE[0] for a in rows["is_anomaly"]]
    points = base.mark_point(size=80, strokeWidth=2, opacity=1).encode(
        color=alt.Color("ink:N", scale=None),
        fill=alt.condition("datum.young", alt.value("white"), alt.Color("ink:N", scale=None)))
    return alt.layer(base.mark_line(color=PALETTE[0]), points, data=rows).properties(width=WIDTH, height=160)

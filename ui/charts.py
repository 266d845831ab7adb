"""Altair chart builders: one palette, locale-formatted tooltips, a high-contrast variant for meetings.

Builders take aggregated rows (never raw leads), return an unconfigured chart; show() applies the theme
(normal or meeting) and the number/time locale, and draws it. Tooltips read pre-formatted text columns
(`<col>_txt`) so they show exactly what the tables show: 1 234 567 ₽, 20,5 %.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Sequence
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from presentation import fmt
from presentation.palette import MODELS, PALETTE, band_scale, model_scale
from presentation.stages import stage_of
from ui.filters import is_meeting
from ui.i18n import band_label, lang, model_label, t, tr

_RU_NUMBER = {"decimal": ",", "thousands": "\u00a0", "grouping": [3], "currency": ["", "\u00a0₽"],
              "percent": "\u00a0%", "minus": "\u2212"}
_EN_NUMBER = {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["₽", ""], "minus": "\u2212"}
_RU_TIME = {
    "dateTime": "%A, %e %B %Y г. %X", "date": "%d.%m.%Y", "time": "%H:%M:%S", "periods": ["AM", "PM"],
    "days": ["воскресенье", "понедельник", "вторник", "среда", "четверг", "пятница", "суббота"],
    "shortDays": ["вс", "пн", "вт", "ср", "чт", "пт", "сб"],
    "months": ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
               "ноябрь", "декабрь"],
    "shortMonths": ["янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"],
}


# ---------- formatting helpers ----------

def text_col(df: pd.DataFrame, col: str, kind: str, currency: str = "RUB") -> pd.DataFrame:
    """Add `<col>_txt`: the value formatted for the current language (money, pct, num, days)."""
    code = lang()
    fmt_one = {
        "money": lambda v: fmt.money(v, code, currency),
        "pct": lambda v: fmt.pct(v, code),
        "num": lambda v: fmt.num(v, code),
        "num1": lambda v: fmt.num(v, code, 1),
        "days": lambda v: fmt.num(v, code, 1),
    }[kind]
    out = df.copy()
    out[f"{col}_txt"] = [fmt_one(None if pd.isna(v) else float(v)) for v in out[col]]
    return out


def money_axis(title: str, currency: str = "RUB") -> alt.Axis:
    """A money axis with compact labels (1,2 млн / 1.2M) and the currency in the title."""
    sym = fmt.currency_symbol(currency, lang())
    if lang() == "ru":
        expr = ("abs(datum.value) >= 1e6 ? format(datum.value / 1e6, ',.1~f') + ' млн' : "
                "abs(datum.value) >= 1e3 ? format(datum.value / 1e3, ',.0f') + ' тыс' : format(datum.value, ',.0f')")
    else:
        expr = ("abs(datum.value) >= 1e6 ? format(datum.value / 1e6, ',.1~f') + 'M' : "
                "abs(datum.value) >= 1e3 ? format(datum.value / 1e3, ',.0f') + 'K' : format(datum.value, ',.0f')")
    return alt.Axis(title=f"{title}, {sym}", labelExpr=expr, tickCount=6)


def pct_axis(title: str) -> alt.Axis:
    return alt.Axis(title=title, format=".0%", tickCount=6)


# ---------- theme ----------

def style(chart: alt.TopLevelMixin, big: bool = False, code: str | None = None) -> alt.TopLevelMixin:
    """Apply the palette, fonts and locale (of language `code`, default the page's); big=True is the
    high-contrast meeting variant."""
    code = code or lang()
    locale = {"number": _RU_NUMBER, "time": _RU_TIME} if code == "ru" else {"number": _EN_NUMBER}
    label, title = (17, 19) if big else (12, 13)
    ink = "#000000" if big else "#1b1f24"
    grid = "#9aa1a9" if big else "#e6e9ed"
    return (
        chart.configure(locale=locale, font="sans-serif")
        .configure_range(category=PALETTE)
        .configure_axis(labelFontSize=label, titleFontSize=title, labelColor=ink, titleColor=ink,
                        gridColor=grid, domainColor=ink if big else "#8c959f", labelLimit=260 if big else 200,
                        titleFontWeight="bold" if big else "normal")
        .configure_legend(labelFontSize=label, titleFontSize=title, labelColor=ink, titleColor=ink,
                          orient="bottom", labelLimit=320, symbolSize=200 if big else 100)
        .configure_title(fontSize=title + 3, color=ink, anchor="start")
        .configure_text(fontSize=label, color=ink)
        .configure_view(strokeWidth=0)
        .configure_line(strokeWidth=4 if big else 2)
        .configure_point(size=160 if big else 60)
        .configure_rule(strokeWidth=3 if big else 1.5)
    )


def when(test: str, then: Any, otherwise: Any, channel: type[alt.SchemaBase]) -> alt.SchemaBase:
    """A conditional constant channel (what alt.condition gives), built as its typed object: Altair would
    otherwise resolve alt.condition's plain dict against ~20 candidate schemas on every rerun (~8 ms a chart)."""
    return channel(value=otherwise, condition={"test": test, "value": then})


VALIDATE_SPECS = False  # the test folders' conftests set it for every AppTest page run (tests/support/demo.py)


DRILL = "drill"  # the point selection a chart's marks carry when a click opens their deals (ui.drill)


def show(chart: alt.TopLevelMixin, key: str, height: int | None = None, select: bool = False) -> object:
    """Draw a chart styled for the current mode (meeting = large high-contrast fonts); select: a click on a mark
    of its DRILL selection reruns the page with the point (returned, and in st.session_state[key])."""
    big = is_meeting()
    if height:
        chart = chart.properties(height=int(height * (1.35 if big else 1)))
    # Altair's schema validation costs ~13 ms per chart on every rerun; the page tests switch it on instead
    # (VALIDATE_SPECS), so a malformed chart still fails a test, not a user's page.
    with alt.data_transformers.disable_max_rows():  # rows are aggregated already (charts never get leads)
        spec = (style(chart, big) if VALIDATE_SPECS else chart).to_dict(validate=VALIDATE_SPECS)
    if not VALIDATE_SPECS:  # the theme is the same for every chart: built once per language and mode
        spec["config"] = copy.deepcopy(_theme(lang(), big))
    if select:
        return st.vega_lite_chart(spec, key=key, theme=None, width="stretch", on_select="rerun",
                                  selection_mode=DRILL)
    return st.vega_lite_chart(spec, key=key, theme=None, width="stretch")


@functools.cache
def _theme(code: str, big: bool) -> dict[str, Any]:
    """The `config` part of a styled chart's spec for a language and mode (see style)."""
    return style(alt.Chart().mark_point(), big, code).to_dict(validate=False)["config"]


# ---------- builders ----------

def revenue_vs_costs(df: pd.DataFrame, labels: dict[str, str], currency: str = "RUB") -> alt.LayerChart:
    """Monthly revenue and costs side by side; df: period (date), revenue, costs, roi (optional).

    With maturing / incomplete flags (metrics.maturity) a young period's bars are pale (a maturing one's revenue, an
    incomplete one's both) and a maturing period's projected revenue is a tick with its 80 % interval on the revenue
    bar; labels "maturing", "incomplete", "projection" name them (default: the shared words young.*).
    """
    labels = {**{k: t(f"young.{k}") for k in ("maturing", "incomplete", "projection")}, **labels}
    rows = df[["period", "revenue", "costs"]].copy()
    rows["period"] = pd.to_datetime(rows["period"])
    rows["stage"] = stage_of(df)
    long = rows.melt(id_vars=["period", "stage"], value_vars=["revenue", "costs"], var_name="series",
                     value_name="amount")
    long["amount"] = long["amount"].fillna(0.0).astype(float)
    long["series_label"] = long["series"].map(labels)
    long = text_col(long, "amount", "money", currency)
    code = lang()
    weekly = labels.get("unit") == "week"
    long["month_txt"] = [(fmt.day if weekly else fmt.month)(p.date(), code) for p in long["period"]]
    long["pale"] = [st_ == "incomplete" or (st_ == "maturing" and s_ == "revenue")
                    for st_, s_ in zip(long["stage"], long["series"], strict=True)]
    long["stage_label"] = [labels.get(st_, "") if pale else "" for st_, pale in zip(long["stage"], long["pale"],
                                                                                    strict=True)]
    order = list(dict.fromkeys(long.sort_values("period")["month_txt"]))
    domain = [labels["revenue"], labels["costs"]]
    x = alt.X("month_txt:O", title=None, sort=order, axis=alt.Axis(labelAngle=0 if len(order) <= 12 else -45))
    offset = alt.XOffset("series_label:N", sort=domain, scale=alt.Scale(domain=domain))
    bars = alt.Chart(long).mark_bar(cornerRadiusTopLeft=2, cornerRadiusTopRight=2).encode(
        x=x, xOffset=offset,
        y=alt.Y("amount:Q", axis=money_axis(labels.get("axis", ""), currency)),
        color=alt.Color("series_label:N", title=None, sort=domain,
                        scale=alt.Scale(domain=domain, range=PALETTE[:2])),
        opacity=young_opacity("stage_label", [labels["maturing"], labels["incomplete"]], long["stage_label"]),
        tooltip=[alt.Tooltip("month_txt:N", title=labels.get("month", "")),
                 alt.Tooltip("series_label:N", title=" "),
                 alt.Tooltip("amount_txt:N", title=labels.get("amount", "")),
                 alt.Tooltip("stage_label:N", title=" ")],
    )
    bars = bars.add_params(alt.selection_point(name=DRILL, fields=["period"], on="click"))  # a bar opens its deals
    proj = _projected_revenue(df, labels, currency, long)
    if proj is None:
        return alt.layer(bars)
    tips = [alt.Tooltip("month_txt:N", title=labels.get("month", "")),
            alt.Tooltip("proj_txt:N", title=labels["projection"])]
    tick = alt.Chart(proj).mark_tick(thickness=3, color="#1b1f24").encode(x=x, xOffset=offset, y="proj:Q",
                                                                          tooltip=tips)
    rule = alt.Chart(proj).mark_rule(color="#1b1f24", opacity=0.6).encode(x=x, xOffset=offset, y="proj_low:Q",
                                                                          y2="proj_high:Q", tooltip=tips)
    return alt.layer(bars, rule, tick)


def _projected_revenue(df: pd.DataFrame, labels: dict[str, str], currency: str,
                       long: pd.DataFrame) -> pd.DataFrame | None:
    """The maturing periods' projected revenue rows of revenue_vs_costs (None: nothing to draw)."""
    if "projection" not in labels or "projected_revenue" not in df.columns:
        return None
    proj = df[df["projected_revenue"].notna()]
    if proj.empty:
        return None
    code = lang()
    months = dict(zip(long["period"], long["month_txt"], strict=False))
    out = pd.DataFrame({
        "month_txt": [months[pd.Timestamp(p)] for p in proj["period"]],
        "series_label": labels["revenue"],
        "proj": proj["projected_revenue"].astype(float).to_numpy(),
        "proj_low": proj["projected_revenue_low"].astype(float).fillna(proj["projected_revenue"]).to_numpy(),
        "proj_high": proj["projected_revenue_high"].astype(float).fillna(proj["projected_revenue"]).to_numpy(),
    })
    out["proj_txt"] = [f"{fmt.money(p, code, currency)} (80 %: {fmt.money(lo, code, currency)} – "
                       f"{fmt.money(hi, code, currency)})"
                       for p, lo, hi in zip(out["proj"], out["proj_low"], out["proj_high"], strict=True)]
    return out


def roi_bars(df: pd.DataFrame, label_col: str, title: str) -> alt.Chart:
    """ROI per row as horizontal bars coloured by band (rows flagged too_few drawn pale); df: label_col, roi,
    roi_band, optional too_few."""
    rows = df[[label_col, "roi", "roi_band"]].copy()
    rows["_dim"] = df["too_few"].fillna(False).astype(bool) if "too_few" in df.columns else False
    rows = rows[rows["roi"].notna()]
    rows["roi"] = rows["roi"].astype(float)
    rows["band_label"] = rows["roi_band"].fillna("n/a").map(band_label)
    rows = text_col(rows, "roi", "pct")
    return alt.Chart(rows).mark_bar().encode(
        y=alt.Y(f"{label_col}:N", sort="-x", title=None),
        x=alt.X("roi:Q", axis=pct_axis(title)),
        color=alt.Color("band_label:N", title=None, scale=band_scale(lang()),
                        # one column: two ran past the right edge of a half-page chart at 1440 px
                        legend=alt.Legend(orient="bottom", columns=1, labelLimit=260)),
        opacity=when("datum._dim", 0.35, 1.0, alt.OpacityValue),
        tooltip=[alt.Tooltip(f"{label_col}:N", title=" "), alt.Tooltip("roi_txt:N", title=title),
                 alt.Tooltip("band_label:N", title=" ")],
    )


def conversion_intervals(df: pd.DataFrame, label_col: str, title: str, few_label: str) -> alt.LayerChart:
    """Conversion with its 95 % interval as error bars; rows with too few leads drawn grey.

    df: label_col, conversion, conversion_low, conversion_high, leads, too_few.
    """
    rows = df[[label_col, "conversion", "conversion_low", "conversion_high", "leads", "too_few"]].copy()
    rows = rows[rows["conversion"].notna()]
    for col in ("conversion", "conversion_low", "conversion_high"):
        rows[col] = rows[col].astype(float)
    rows["note"] = [few_label if bool(x) else "" for x in rows["too_few"]]
    rows["interval_txt"] = [f"{fmt.pct(lo, lang())} – {fmt.pct(hi, lang())}"
                            for lo, hi in zip(rows["conversion_low"], rows["conversion_high"], strict=False)]
    rows = text_col(text_col(rows, "conversion", "pct"), "leads", "num")
    base = alt.Chart().encode(  # the rows go on the layer: Altair compares each layer's data by repr otherwise
        y=alt.Y(f"{label_col}:N", sort=alt.EncodingSortField("conversion", order="descending"), title=None),
        color=when("datum.too_few", "#8c959f", PALETTE[0], alt.ColorValue),
        tooltip=[alt.Tooltip(f"{label_col}:N", title=" "), alt.Tooltip("conversion_txt:N", title=title),
                 alt.Tooltip("interval_txt:N", title="95 %"), alt.Tooltip("leads_txt:N", title="n"),
                 alt.Tooltip("note:N", title=" ")],
    )
    rule = base.mark_rule().encode(x=alt.X("conversion_low:Q", axis=pct_axis(title)), x2="conversion_high:Q")
    point = base.mark_point(filled=True).encode(x="conversion:Q")
    return alt.layer(rule, point, data=rows)


def funnel(df: pd.DataFrame, stage_col: str, count_col: str, title: str) -> alt.LayerChart:
    """Stage funnel: one bar per stage in the given row order with the share of the first stage."""
    rows = df[[stage_col, count_col]].copy().reset_index(drop=True)
    rows["order"] = range(len(rows))
    first = float(rows[count_col].iloc[0]) if len(rows) and rows[count_col].iloc[0] else None
    rows["share"] = [float(v) / first if first else None for v in rows[count_col]]
    rows = text_col(text_col(rows, count_col, "num"), "share", "pct")
    rows["label"] = rows[f"{count_col}_txt"] + " · " + rows["share_txt"]
    base = alt.Chart().encode(
        y=alt.Y(f"{stage_col}:N", sort=alt.EncodingSortField("order"), title=None),
        x=alt.X(f"{count_col}:Q", title=title),
        tooltip=[alt.Tooltip(f"{stage_col}:N", title=" "), alt.Tooltip(f"{count_col}_txt:N", title=title),
                 alt.Tooltip("share_txt:N", title="%")],
    )
    return alt.layer(base.mark_bar(color=PALETTE[0]), base.mark_text(align="left", dx=4).encode(text="label:N"),
                     data=rows)


STAGE_DASH = {"mature": [1, 0], "maturing": [6, 4], "incomplete": [2, 3]}  # a line's dash per presentation.stages


TEXT = {
    "ru": {"young.bars": "Светлая выручка — месяц созревает: его лиды ещё превращаются в сделки; черта — выручка, "
                         "ожидаемая при созревании, с 80 % интервалом. Оба столбца светлые — текущий период, он ещё "
                         "не закончен."},
    "en": {"young.bars": "Pale revenue — the month is maturing: its leads are still turning into deals; the tick is "
                         "the revenue projected at maturity with its 80 % interval. Both bars pale — the current "
                         "period, not over yet."},
}


def young_caption(rows: pd.DataFrame) -> None:
    """Under a revenue_vs_costs chart: what its pale bars and ticks mean, when some period is young."""
    if any(s != "mature" for s in stage_of(rows)):
        st.caption(tr(TEXT, "young.bars"))


def cost_categories(df: pd.DataFrame, category_col: str, amount_col: str, title: str,
                    currency: str = "RUB") -> alt.Chart:
    """Costs split by category as horizontal bars, largest first."""
    rows = df[[category_col, amount_col]].copy()
    rows[amount_col] = rows[amount_col].astype(float)
    rows = text_col(rows, amount_col, "money", currency)
    return alt.Chart(rows).mark_bar(color=PALETTE[1]).encode(
        y=alt.Y(f"{category_col}:N", sort="-x", title=None),
        x=alt.X(f"{amount_col}:Q", axis=money_axis(title, currency)),
        tooltip=[alt.Tooltip(f"{category_col}:N", title=" "), alt.Tooltip(f"{amount_col}_txt:N", title=title)],
    )


def model_bars(df: pd.DataFrame, value_col: str, kind: str, title: str, currency: str = "RUB") -> alt.LayerChart:
    """One bar per partnership model in the model colours; df: model, value_col, optional maturing / incomplete
    flags and projected_<value_col>(_low, _high): a young row's bar is pale (the charts' sign for a period whose
    deals are still closing or that is not over), a maturing one's projection at maturity a tick with its 80 %
    interval."""
    rows = df.copy()
    rows = rows[rows[value_col].notna()]
    rows[value_col] = rows[value_col].astype(float)
    rows["model_label"] = rows["model"].map(model_label)
    rows = text_col(rows, value_col, kind, currency)
    young = {s: t(f"young.{s}") for s in ("maturing", "incomplete")}
    flags = {s: rows[s].fillna(False).astype(bool) if s in rows.columns else pd.Series(False, index=rows.index)
             for s in young}
    # a period total still maturing is pale (its value will move); one only not over (the current month inside a
    # longer, settled period) keeps its colour and gets the incomplete period's dotted outline
    rows["pale_label"] = [young["maturing"] if m else "" for m in flags["maturing"]]
    rows["open_label"] = [young["incomplete"] if i else "" for i in flags["incomplete"]]
    rows["stage_label"] = [", ".join(x for x in pair if x) for pair in zip(rows["pale_label"], rows["open_label"],
                                                                          strict=True)]
    order = [model_label(m) for m in MODELS]
    axis = (money_axis(title, currency) if kind == "money" else pct_axis(title) if kind == "pct"
            else alt.Axis(title=title))
    y = alt.Y("model_label:N", sort=order, title=None)
    tips = [alt.Tooltip("model_label:N", title=" "), alt.Tooltip(f"{value_col}_txt:N", title=title),
            alt.Tooltip("stage_label:N", title=" ")]
    bars = alt.Chart(rows).mark_bar(stroke="#1b1f24", strokeWidth=1.5).encode(
        y=y, x=alt.X(f"{value_col}:Q", axis=axis),
        color=alt.Color("model_label:N", legend=None, scale=model_scale(dict(zip(MODELS, order, strict=True)))),
        opacity=young_opacity("pale_label", [young["maturing"]], rows["pale_label"]),
        strokeDash=_open_outline("open_label", young["incomplete"], rows["open_label"]),
        strokeOpacity=when("datum.open_label != ''", 1.0, 0.0, alt.StrokeOpacityValue), tooltip=tips)
    proj = _model_projection(rows, value_col, kind, currency)
    if proj is None:
        return alt.layer(bars)
    ptips = [alt.Tooltip("model_label:N", title=" "), alt.Tooltip("proj_txt:N", title=t("young.projection"))]
    tick = alt.Chart(proj).mark_tick(thickness=3, color="#1b1f24", orient="vertical").encode(
        y=y, x="proj:Q", tooltip=ptips)
    rule = alt.Chart(proj).mark_rule(color="#1b1f24", opacity=0.6).encode(y=y, x="proj_low:Q", x2="proj_high:Q",
                                                                          tooltip=ptips)
    return alt.layer(bars, rule, tick)


def _model_projection(rows: pd.DataFrame, value_col: str, kind: str, currency: str) -> pd.DataFrame | None:
    """The maturing models' projection at maturity of model_bars (None: nothing to draw)."""
    col = f"projected_{value_col}"
    if col not in rows.columns or not rows[col].notna().any():
        return None
    out = rows.loc[rows[col].notna(), ["model_label"]].copy()
    out["proj"] = rows.loc[out.index, col].astype(float)
    for end in ("low", "high"):
        src = rows.get(f"{col}_{end}")
        out[f"proj_{end}"] = (src.loc[out.index].astype(float) if src is not None else out["proj"]).fillna(out["proj"])
    code = lang()
    out["proj_txt"] = [f"{value_text(kind, p, code, currency)} (80 %: {value_text(kind, lo, code, currency)} – "
                       f"{value_text(kind, hi, code, currency)})"
                       for p, lo, hi in zip(out["proj"], out["proj_low"], out["proj_high"], strict=True)]
    return out


def _open_outline(field: str, label: str, present: Iterable[str]) -> alt.StrokeDash:
    """The dotted outline of bars whose period is not over (`field` holds `label`), named in the legend when any."""
    legend = alt.Legend(values=[label], title=None, symbolType="square", symbolFillColor="#ffffff",
                        symbolStrokeColor="#1b1f24", symbolStrokeWidth=1.5) if label in set(present) else None
    return alt.StrokeDash(f"{field}:N", legend=legend, scale=alt.Scale(domain=["", label], range=[[1, 0], [3, 2]]))


YOUNG_OPACITY = 0.4  # a young period's bar: pale, the same on every bar chart


def young_opacity(field: str, young_labels: Sequence[str], present: Iterable[str]) -> alt.Opacity:
    """Opacity of bars whose `field` holds a young stage's label (pale) or "" (a settled period: full); the legend
    names the young stages present, none when all are settled."""
    seen = set(present)
    shown = [label for label in young_labels if label in seen]
    legend = alt.Legend(values=shown, title=None, symbolType="square", symbolFillColor="#57606a",
                        symbolStrokeWidth=0) if shown else None
    return alt.Opacity(f"{field}:N", legend=legend, scale=alt.Scale(
        domain=["", *young_labels], range=[1.0, *[YOUNG_OPACITY] * len(young_labels)]))


def value_text(kind: str, value: float, code: str, currency: str) -> str:
    """A value as text_col writes it (money, pct, days, else a number)."""
    if kind == "money":
        return fmt.money(value, code, currency)
    if kind == "pct":
        return fmt.pct(value, code)
    return fmt.num(value, code, 1 if kind in ("days", "num1") else 0)


def quality_components(df: pd.DataFrame, label_col: str, components: Sequence[tuple[str, str]],
                       title: str) -> alt.Chart:
    """Mean lead-quality score per row split into its components (stacked, rows in the given order; rows
    flagged too_few drawn pale); components: (column, label)."""
    cols = [c for c, _ in components]
    rows = df[[label_col, *cols]].copy()
    rows["_dim"] = df["too_few"].fillna(False).astype(bool) if "too_few" in df.columns else False
    long = rows.melt(id_vars=[label_col, "_dim"], value_vars=cols, var_name="component", value_name="points")
    long["points"] = long["points"].astype(float)
    names = dict(components)
    long["component_label"] = long["component"].map(names)
    long["stack"] = long["component"].map({c: i for i, c in enumerate(cols)})
    order = list(dict.fromkeys(df[label_col]))
    long = text_col(long, "points", "num1")
    domain = [names[c] for c in cols]
    return alt.Chart(long).mark_bar().encode(
        y=alt.Y(f"{label_col}:N", sort=order, title=None),
        x=alt.X("sum(points):Q", title=title, scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("component_label:N", title=None, sort=domain,
                        scale=alt.Scale(domain=domain, range=PALETTE[:len(domain)])),
        opacity=when("datum._dim", 0.4, 1.0, alt.OpacityValue),
        order=alt.Order("stack:Q"),
        tooltip=[alt.Tooltip(f"{label_col}:N", title=" "), alt.Tooltip("component_label:N", title=" "),
                 alt.Tooltip("points_txt:N", title=title)],
    )


def payback_curves(df: pd.DataFrame, color: str, labels: dict[str, str], currency: str = "RUB") -> alt.LayerChart:
    """Cumulative income − costs of acquisition cohorts by months since acquisition, one line per cohort in one
    colour (the model's; older cohorts paler), and the zero line (paid back) marked.

    df: cohort_txt (label), m, cumulative; labels: x, y, cohort, zero (the zero line's note).
    """
    rows = df[["cohort_txt", "m", "cumulative"]].copy()
    rows["cumulative"] = rows["cumulative"].astype(float)
    rows = text_col(rows, "cumulative", "money", currency)
    order = list(dict.fromkeys(rows["cohort_txt"]))  # oldest first: the newest is drawn on top, darkest
    lines = alt.Chart().mark_line(point=alt.OverlayMarkDef(color=color), color=color).encode(
        x=alt.X("m:Q", title=labels["x"], axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("cumulative:Q", axis=money_axis(labels["y"], currency)),
        detail="cohort_txt:N",
        opacity=alt.Opacity("cohort_txt:N", sort=order, title=labels["cohort"],
                            scale=alt.Scale(range=[0.25, 1.0]), legend=alt.Legend(orient="right", symbolType="stroke")),
        tooltip=[alt.Tooltip("cohort_txt:N", title=labels["cohort"]), alt.Tooltip("m:Q", title=labels["x"]),
                 alt.Tooltip("cumulative_txt:N", title=labels["y"])],
    )
    zero = pd.DataFrame({"y": [0.0], "note": [labels["zero"]]})
    rule = alt.Chart(zero).mark_rule(color="#1b1f24", strokeDash=[6, 4]).encode(y="y:Q")
    note = alt.Chart(zero).mark_text(align="left", baseline="bottom", dx=4, dy=-2, color="#1b1f24").encode(
        y="y:Q", x=alt.value(0), text="note:N")
    return alt.layer(alt.layer(lines, data=rows), rule, note)

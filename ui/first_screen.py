"""The overview's answer: which models and which partners earn their cost (metrics.verdict), beside the KPI cards."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from metrics import engine, pooling, verdict
from metrics.filters import Filters
from presentation import fmt, palette
from ui import charts, layout, tables
from ui.data import kpi_frame, query
from ui.i18n import band_label, lang, model_label, t, tr

MODEL_ORDER = ("referral", "sales", "service", "direct")
LIST_ROWS = 3  # partners per list: the first screen must fit 1440x900 without scrolling

TEXT = {
    "ru": {
        "title": "Кто окупает затраты",
        "models": "ROI моделей и прямые продажи",
        "direct.value": "затрат нет",
        "direct.caption": "Прямые продажи — база сравнения: конверсия {conv}, выручка {rev}, затрат на партнёров нет.",
        "earns": "Окупают затраты: {n}", "loses": "Не окупают: {n}",
        "earns.none": "Ни один партнёр пока не окупает затраты с уверенностью.",
        "loses.none": "Нет партнёров, которые с уверенностью не окупаются.",
        "earns.help": "Первые по прибыли; после имени — ROI с учётом размера выборки (у малых партнёров подтянут к модели), в скобках его 95 % интервал, затем прибыль за период.",
        "loses.help": "Первые по убытку; после имени — ROI с учётом размера выборки (у малых партнёров подтянут к модели), в скобках его 95 % интервал, затем убыток за период.",
        "unclear": "Неясно по {n} партнёрам: их интервал ROI захватывает ноль ({few} — мало лидов).",
        "unclear.none": "По всем партнёрам с затратами вывод уверенный.",
        "profit": "прибыль {amount}", "loss": "убыток {amount}",
        "all": "Все партнёры",
        "rule": "«Окупает» — нижняя граница 95 % интервала ROI выше нуля, «не окупает» — верхняя ниже нуля; "
                "у партнёров с малым числом лидов интервал взят с учётом размера выборки (подтянут к модели).",
    },
    "en": {
        "title": "Who earns their cost",
        "models": "ROI of the models and direct sales",
        "direct.value": "no costs",
        "direct.caption": "Direct sales are the baseline: conversion {conv}, revenue {rev}, no partner costs.",
        "earns": "Earn their cost: {n}", "loses": "Do not earn it: {n}",
        "earns.none": "No partner earns its cost with confidence yet.",
        "loses.none": "No partner is a confident loss.",
        "earns.help": "The largest profits first; after the name — ROI adjusted for sample size (small partners pulled toward their model), its 95 % interval in brackets, then the period's profit.",
        "loses.help": "The largest losses first; after the name — ROI adjusted for sample size (small partners pulled toward their model), its 95 % interval in brackets, then the period's loss.",
        "unclear": "Unclear for {n} partners: their ROI interval holds zero ({few} with too few leads).",
        "unclear.none": "Every partner with costs has a confident verdict.",
        "profit": "profit {amount}", "loss": "loss {amount}",
        "all": "All partners",
        "rule": "“Earns” — the lower bound of the 95 % ROI interval is above zero, “does not” — the upper bound is "
                "below zero; partners with few leads use the interval adjusted for sample size (pulled toward "
                "their model).",
    },
}


def _roi_text(row: pd.Series, code: str) -> str:
    """ROI adjusted for sample size with its interval, e.g. 240,3 % (178…303 %), and the "too few leads" mark."""
    low, high = verdict.interval(row)
    text = fmt.pct(verdict.point(row), code)
    if pd.notna(low) and pd.notna(high):
        text += f" ({tables.interval_text(low, high, code, 0)})"
    if bool(row.get("too_few")):
        text += f" · {t('too_few')}"
    return text


def _model_rows(now: pd.DataFrame, before: pd.DataFrame, currency: str) -> pd.DataFrame:
    """One row per model and direct sales: ROI, its interval and change, the label drawn beside the bar."""
    code = lang()
    out = []
    for model in MODEL_ORDER:
        if model not in now.index:
            continue
        row = now.loc[model]
        prior = before.loc[model] if model in before.index else None
        if pd.isna(row.get("roi")):  # direct sales (or a model nobody pays): no ROI, the conversion baseline
            text = tr(TEXT, "direct.value")
            out.append({"model": model, "roi": 0.0, "low": None, "high": None, "text": text, "bar": False})
            continue
        change = layout.delta_text(layout.change("roi", "pp", row, prior), "pp")
        text = fmt.pct(row["roi"], code) + (f" ({change.replace('-', chr(0x2212), 1)})" if change else "")
        out.append({"model": model, "roi": float(row["roi"]), "low": row.get("roi_low"), "high": row.get("roi_high"),
                    "text": text, "bar": True})
    rows = pd.DataFrame(out)
    rows["label"] = rows["model"].map(model_label)
    rows["band"] = [band_label(b) for b in now.reindex(rows["model"])["roi_band"].fillna("n/a")]
    rows["interval"] = [tables.interval_text(lo, hi, code) for lo, hi in zip(rows["low"], rows["high"], strict=True)]
    return rows


def model_chart(rows: pd.DataFrame) -> alt.LayerChart:
    """Horizontal ROI bars in the model colours with their 95 % intervals and a label (ROI and its change)."""
    order = list(rows["label"])
    colors = [palette.model_color(m) for m in rows["model"]]
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=220))
    tips = [alt.Tooltip("label:N", title=" "), alt.Tooltip("text:N", title="ROI"),
            alt.Tooltip("interval:N", title="95 %"), alt.Tooltip("band:N", title=" ")]
    base = alt.Chart().encode(y=y, tooltip=tips)
    ends = pd.concat([rows["roi"], pd.to_numeric(rows["high"], errors="coerce"),
                      pd.to_numeric(rows["low"], errors="coerce")]).dropna()
    # room on the right for the labels beside the longest bar; negative ROIs (a losing model) keep their side
    domain = [min(0.0, float(ends.min())), max(0.05, float(ends.max())) * 2.0]
    bars = base.mark_bar(height=18).encode(
        x=alt.X("roi:Q", axis=alt.Axis(title=None, format=".0%", tickCount=5), scale=alt.Scale(domain=domain)),
        color=alt.Color("label:N", legend=None, scale=alt.Scale(domain=order, range=colors)),
    ).transform_filter("datum.bar")
    ticks = base.mark_rule(color="#1b1f24").encode(x="low:Q", x2="high:Q").transform_filter("datum.bar")
    label_x = alt.X("xlabel:Q")
    labels = base.mark_text(align="left", dx=6).encode(x=label_x, text="text:N").transform_calculate(
        xlabel="datum.bar ? max(datum.roi, datum.high || 0) : 0")
    return alt.layer(bars, ticks, labels, data=rows).properties(height=36 * len(rows))


def models_row(f: Filters, before_f: Filters, currency: str) -> None:
    """ROI of each model and direct sales side by side (bars with intervals), with the change vs comparison."""
    now = verdict.with_model_interval(kpi_frame(f, "model", lite=True),
                                      query(engine.roi_interval, f, by="model")).set_index("model")
    before = kpi_frame(before_f, "model", lite=True).set_index("model")
    st.markdown(f"**{tr(TEXT, 'models')}**")
    if now.empty:
        layout.empty()
        return
    charts.show(model_chart(_model_rows(now, before, currency)), key="first.models")
    if "direct" in now.index:
        direct = now.loc["direct"]
        st.caption(tr(TEXT, "direct.caption", conv=fmt.pct(direct.get("conversion"), lang()),
                      rev=fmt.money_short(direct.get("revenue"), lang(), currency)))


def _partner_line(row: pd.Series, code: str, currency: str) -> str:
    """One partner as a Markdown list item: the name (CRM text, literal), ROI, interval, marks and the profit (+)
    or loss (−)."""
    value = float(row["profit"])
    money = ("+" if value >= 0 else "\u2212") + fmt.money_short(abs(value), code, currency)
    return f"- **{fmt.plain(row['partner'])}** · {_roi_text(row, code)} · {money}"


def _partner_list(rows: pd.DataFrame, which: str, currency: str) -> None:
    """The first LIST_ROWS partners of one verdict (the money first) as list lines; the title counts them all."""
    code = lang()
    mine = verdict.profit_order(rows, which)
    st.markdown(f"**{tr(TEXT, which, n=len(mine))}**", help=tr(TEXT, f"{which}.help"))
    if mine.empty:
        st.caption(tr(TEXT, f"{which}.none"))
        return
    st.markdown("\n".join(_partner_line(r, code, currency) for _, r in mine.head(LIST_ROWS).iterrows()))


def partner_rows(f: Filters) -> pd.DataFrame:
    """The period's partners (lite KPI rows) with ROI intervals and pooled estimates, as the leaderboard has them."""
    rows = pooling.add_pooled(pooling.with_roi(kpi_frame(f, "partner", lite=True),
                                               query(engine.roi_interval, f, by="partner")))
    return rows[rows["partner_id"].notna()]


def partners_lists(f: Filters, currency: str) -> None:
    """Partners that earn and that do not earn their cost, with their intervals and marks; the unclear ones counted."""
    rows = partner_rows(f)
    _partner_list(rows, verdict.EARNS, currency)
    _partner_list(rows, verdict.LOSES, currency)
    unclear = rows[verdict.verdict(rows) == verdict.UNCLEAR]
    few = int(unclear["too_few"].fillna(False).astype(bool).sum())
    line = tr(TEXT, "unclear", n=len(unclear), few=few) if len(unclear) else tr(TEXT, "unclear.none")
    st.caption(line, help=tr(TEXT, "rule"))


def render(f: Filters, before_f: Filters, currency: str) -> None:
    """The answer block: the models' ROI beside the partners' verdicts (meeting mode: the same, larger)."""
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.subheader(tr(TEXT, "title"), anchor=False, width="content")
        st.page_link("pages/partners.py", label=tr(TEXT, "all"), icon=":material/arrow_forward:", width="content")
    left, right = st.columns([4, 5], gap="medium")
    with left, st.container(key="first.answer.models"):  # keyed: a class the browser tests find it by
        models_row(f, before_f, currency)
    with right, st.container(key="first.answer.partners"):
        partners_lists(f, currency)

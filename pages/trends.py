"""Trends & monitoring: any metric over time by model or partner, anomaly flags, a KPI table with actions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from metrics import changes, engine, lookups, maturity, page_frames, registry
from metrics import drill as deal_drill
from metrics.filters import Filters
from presentation import fmt, palette
from presentation.rules import anomaly_rule
from ui import chart_lines, charts, drill, event_rules, layout
from ui.data import kpi_frame, prefetch_kpis, query
from ui.filters import current, language_sensitive, period_label
from ui.i18n import labeler, lang, metric_label, metric_labeler, model_label, t, tr

K_METRIC, K_GRAIN, K_BY, K_PARTNERS = "trends.metric", "trends.grain", "trends.by", "trends.partners"
METRICS = ("revenue", "leads", "won_deals", "conversion", "avg_check", "costs", "profit", "roi", "cpa", "ltv",
           "lead_to_qualified", "time_to_close_days")
KIND = {"revenue": "money", "avg_check": "money", "costs": "money", "profit": "money", "cpa": "money",
        "ltv": "money", "conversion": "pct", "roi": "pct", "lead_to_qualified": "pct", "time_to_close_days": "days"}
TABLE_METRICS = ("leads", "conversion", "avg_check", "revenue", "costs", "roi", "cpa", "ltv", "time_to_close_days")
TOP_PARTNERS = 5

TEXT = {
    "ru": {
        "caption": "Период: {now} · Красным обведены аномалии. {rule}",
        "metric": "Показатель", "grain": "Шаг", "grain.month": "Месяц", "grain.week": "Неделя",
        "by": "Разрез", "by.total": "Всего", "by.model": "По моделям", "by.partner": "По партнёрам",
        "partners": "Партнёры на графике", "partners.help": "По умолчанию — пять партнёров с наибольшей выручкой.",
        "partial": "Последний период ещё не закончился — он на графике, но не участвует в поиске аномалий и тренде.",
        "stage.mature": "сделки закрыты", "stage.maturing": "созревает: сделки ещё закрываются",
        "stage.incomplete": "текущий месяц не закончен", "stage.projection": "Прогноз при созревании",
        "drill": "{series}: {metric} за {period}",
        "young": "Пунктир — период созревает: лиды ещё превращаются в сделки (по кривой закрытия сделок за 24 месяца), "
                 "ромб — прогноз при созревании с 80 % интервалом; точками — текущий период, он не закончен. Такие "
                 "периоды не участвуют в поиске аномалий и в тренде.",
        "col.projection": "Прогноз при созревании",
        "anomalies": "Аномалии", "anomalies.none": "Аномалий нет: все значения в пределах обычного коридора.",
        "col.period": "Период", "col.series": "Ряд", "col.value": "Значение", "col.band": "Обычный коридор",
        "col.kpi": "Показатель", "col.trend": "Тренд", "col.action": "Что делать", "total": "Всего",
        "kpi.title": "Показатели, тренд и рекомендация",
        "trend.up": "↑ растёт", "trend.down": "↓ снижается", "trend.flat": "→ стабильно",
        "kpi.caption": "Значение — за весь период; тренд — по всем выбранным лидам: наклон прямой через {n} "
                       "последних завершённых и созревших периода (рост или спад больше {p} за эти периоды); прогноз "
                       "— если период ещё созревает.",
        "trend.band": "Широкая бледная полоса — тренд: прямая через {n} последних завершённых и созревших периода "
                      "каждого ряда; стрелка в таблице ниже описывает именно её.",
        "series.title": "Тренд рядов на графике", "col.change": "Изменение за окно", "col.window": "Окно тренда",
        "trend.none": "мало периодов",
        "few_periods": "Для тренда и аномалий нужно хотя бы {n} периода — увеличьте период или выберите шаг «Неделя».",
        "act.up.good": "Растёт — закрепите то, что сработало, и распространите на похожих партнёров.",
        "act.flat": "Стабильно — держите под контролем, ищите рост у лучших партнёров.",
        "act.down.good": "Снижается — хороший знак, зафиксируйте причину.",
        "act.leads": "Лидов меньше — свяжитесь с партнёрами, у которых поток упал, обновите им материалы.",
        "act.conversion": "Конверсия падает — проверьте качество лидов и этап воронки, где они теряются.",
        "act.avg_check": "Чек снижается — предложите пакеты дороже и допродажи, проверьте скидки.",
        "act.revenue": "Выручка снижается — найдите партнёров и модели с наибольшим падением.",
        "act.roi": "ROI падает — сравните рост затрат с ростом дохода, пересмотрите комиссии убыточных партнёров.",
        "act.ltv": "LTV снижается — займитесь повторными продажами и удержанием клиентов.",
        "act.costs": "Затраты растут — проверьте, растёт ли с ними доход; сократите статьи без отдачи.",
        "act.cpa": "Клиент дорожает — перераспределите бюджет к партнёрам с низким CPA.",
        "act.time_to_close_days": "Сделки идут дольше — найдите этап, где они застревают, и разгрузите менеджеров.",
    },
    "en": {
        "caption": "Period: {now} · Anomalies are circled in red. {rule}",
        "metric": "Metric", "grain": "Step", "grain.month": "Month", "grain.week": "Week",
        "by": "Split", "by.total": "Total", "by.model": "By model", "by.partner": "By partner",
        "partners": "Partners on the chart", "partners.help": "By default the five partners with the most revenue.",
        "partial": "The last period is not over yet — it is drawn but left out of anomaly flags and the trend.",
        "stage.mature": "deals closed", "stage.maturing": "maturing: deals are still closing",
        "stage.incomplete": "current month not over", "stage.projection": "Projection at maturity",
        "drill": "{series}: {metric}, {period}",
        "young": "Dashed — the period is maturing: its leads are still turning into deals (by the account's 24-month "
                 "time-to-close curve); the diamond is the projection at maturity with its 80 % interval; dotted — "
                 "the current period, not over yet. Such periods are left out of anomaly flags and the trend.",
        "col.projection": "Projection at maturity",
        "anomalies": "Anomalies", "anomalies.none": "No anomalies: every value stays within its usual band.",
        "col.period": "Period", "col.series": "Series", "col.value": "Value", "col.band": "Usual band",
        "col.kpi": "Metric", "col.trend": "Trend", "col.action": "What to do", "total": "Total",
        "kpi.title": "KPIs, trend and recommended action",
        "trend.up": "↑ rising", "trend.down": "↓ falling", "trend.flat": "→ stable",
        "kpi.caption": "Value — over the whole period; trend — over all leads selected: the slope of the straight "
                       "line through the last {n} complete, mature periods (a rise or fall of more than {p} across "
                       "them); projection — while the period is still maturing.",
        "trend.band": "The broad pale band is the trend: the straight line through each series' last {n} complete, "
                      "mature periods; the arrow in the table below describes exactly that line.",
        "series.title": "Trend of the chart's series", "col.change": "Change across the window",
        "col.window": "Trend window", "trend.none": "too few periods",
        "few_periods": "Trends and anomalies need at least {n} periods — widen the period or choose “Week”.",
        "act.up.good": "Growing — keep what worked and roll it out to similar partners.",
        "act.flat": "Stable — keep an eye on it and look for growth at the best partners.",
        "act.down.good": "Falling — a good sign; note what caused it.",
        "act.leads": "Fewer leads — contact the partners whose flow dropped and refresh their materials.",
        "act.conversion": "Conversion is falling — check lead quality and the funnel stage where leads drop out.",
        "act.avg_check": "The average check is falling — offer bigger packages and upsells, review discounts.",
        "act.revenue": "Revenue is falling — find the partners and models with the largest drop.",
        "act.roi": "ROI is falling — compare cost growth with income growth, review commissions of loss-makers.",
        "act.ltv": "LTV is falling — work on repeat sales and client retention.",
        "act.costs": "Costs are rising — check that income rises with them; cut items that do not pay back.",
        "act.cpa": "Clients cost more — shift budget towards partners with a low CPA.",
        "act.time_to_close_days": "Deals take longer — find the stage where they stall and rebalance managers' load.",
    },
}

ARROWS = {"up": "trend.up", "down": "trend.down", "flat": "trend.flat"}


def action(metric: str, trend: str) -> str:
    """The recommended action for a metric moving in a direction (good or bad depends on the metric)."""
    if trend == "flat":
        return tr(TEXT, "act.flat")
    bad = (trend == "down") if registry.get(metric).higher_is_better else (trend == "up")
    if bad:
        return tr(TEXT, f"act.{metric}")
    return tr(TEXT, "act.down.good" if trend == "down" else "act.up.good")


def _series(f: Filters, grain: str, by: str, metric: str) -> pd.DataFrame:
    """Rows period, series, value for the chart, with the period's maturity flags and projection."""
    if by == "total":
        rows = query(engine.kpis, f, by=grain)
        label: pd.Series | str = tr(TEXT, "total")
        key = "total"
    else:
        rows = kpi_frame(f, (grain, by), lite=metric not in engine.CLIENT_METRICS)
        if by == "model":
            label = rows["model"].map(model_label)
            key: pd.Series | str = rows["model"]
        else:
            rows = rows[rows["partner_id"].notna()]
            label = rows["partner"].astype(str)
            key = rows["partner_id"]
    # a bucket cut by the period's end is not a whole period either: no verdict on it (like an incomplete one)
    cut = np.array([maturity.bucket_end(p, grain) > f.date_to for p in rows["period"]], dtype=bool)
    proj = {k: rows.get(f"projected_{metric}{k}") if metric in maturity.PROJECTED else None
            for k in ("", "_low", "_high")}
    return pd.DataFrame({"period": rows["period"], "series": label, "key": key, "value": rows[metric],
                         "partner_id": rows.get("partner_id"), "maturing": rows["maturing"],
                         "incomplete": rows["incomplete"] | cut, "partial": cut,
                         "proj": proj[""], "proj_low": proj["_low"], "proj_high": proj["_high"]})


def _partner_choice(f: Filters) -> list[int]:
    """The partners multiselect (default: top partners by revenue in the period)."""
    rows = kpi_frame(f, "partner", lite=True)
    rows = rows[rows["partner_id"].notna()].sort_values("revenue", ascending=False)
    names = dict(zip(rows["partner_id"].astype(int), rows["partner"].astype(str), strict=False))
    options = list(names)
    current_sel = st.session_state.get(K_PARTNERS)
    if current_sel is None:
        st.session_state[K_PARTNERS] = options[:TOP_PARTNERS]
    else:
        st.session_state[K_PARTNERS] = [p for p in current_sel if p in names]
    return st.multiselect(tr(TEXT, "partners"), options, key=K_PARTNERS, format_func=lambda p: names.get(p, str(p)),
                          help=tr(TEXT, "partners.help"))


def _anomaly_table(flagged: pd.DataFrame, metric: str, currency: str, grain: str) -> None:
    st.subheader(tr(TEXT, "anomalies"), anchor=False)
    hits = flagged[flagged["is_anomaly"]].sort_values("period", ascending=False)
    if hits.empty:
        st.caption(tr(TEXT, "anomalies.none"))
        return
    code = lang()
    st.dataframe(pd.DataFrame({
        tr(TEXT, "col.period"): [(fmt.day if grain == "week" else fmt.month)(p, code) for p in hits["period"]],
        tr(TEXT, "col.series"): hits["series"].astype(str),
        tr(TEXT, "col.value"): [layout.value_text(metric, v, currency) for v in hits["value"]],
        tr(TEXT, "col.band"): [f"{layout.value_text(metric, lo, currency)} – {layout.value_text(metric, hi, currency)}"
                               for lo, hi in zip(hits["band_low"], hits["band_high"], strict=False)],
    }), hide_index=True, key="trends.anomalies", placeholder=fmt.DASH)


def kpi_table(f: Filters, grain: str, currency: str) -> pd.DataFrame:
    """One row per KPI: value over the period, projection at maturity while it matures, trend arrow over complete,
    mature periods, recommended action."""
    total = query(engine.kpis, f)
    rows = query(engine.kpis, f, by=grain)
    rows = rows[[maturity.bucket_end(p, grain) <= f.date_to for p in rows["period"]]]
    now = total.iloc[0] if len(total) else None
    out = []
    for m in TABLE_METRICS:
        trend = changes.trend(rows, m) if len(rows) else "flat"
        value = now[m] if now is not None else None
        out.append({tr(TEXT, "col.kpi"): metric_label(m), tr(TEXT, "col.value"): layout.value_text(m, value, currency),
                    tr(TEXT, "col.projection"): _projection_text(now, m, currency),
                    tr(TEXT, "col.trend"): tr(TEXT, ARROWS[trend]), tr(TEXT, "col.action"): action(m, trend)})
    return pd.DataFrame(out)


def trend_lines(flagged: pd.DataFrame) -> dict[str, changes.TrendLine | None]:
    """Each chart series' trend line (changes.trend_line: its last settled periods), the one its arrow names."""
    return {str(name): changes.trend_line(group, "value") for name, group in flagged.groupby("series", sort=False)}


def series_trend_table(lines: dict[str, changes.TrendLine | None], grain: str) -> pd.DataFrame:
    """One row per chart series: its arrow, the trend line's change across its window, and the window."""
    code = lang()
    when = fmt.day if grain == "week" else fmt.month
    return pd.DataFrame({
        tr(TEXT, "col.series"): list(lines),
        tr(TEXT, "col.trend"): [tr(TEXT, ARROWS[x.direction]) if x else tr(TEXT, "trend.none") for x in lines.values()],
        tr(TEXT, "col.change"): [fmt.signed_pct(x.change, code) if x and x.change is not None else fmt.DASH
                                 for x in lines.values()],
        tr(TEXT, "col.window"): [f"{when(x.periods[0], code)} – {when(x.periods[-1], code)}" if x else fmt.DASH
                                 for x in lines.values()],
    })


def _chart(f: Filters, flagged: pd.DataFrame, lines: dict[str, changes.TrendLine | None], by: str, metric: str,
           currency: str, grain: str) -> None:
    """The metric over time: each series in its stable colour, young periods drawn apart, its trend line."""
    stages = {s: tr(TEXT, f"stage.{s}") for s in ("mature", "maturing", "incomplete", "projection")}
    colors = palette.series_scale(by, dict(zip(flagged["key"], flagged["series"].astype(str), strict=False)))
    rows = flagged[["period", "series", "value", "is_anomaly", "maturing", "incomplete", "proj", "proj_low",
                    "proj_high"]]
    chart = chart_lines.over_time(rows, "series", KIND.get(metric, "num"), metric_label(metric), currency,
                                  grain=grain, stages=stages, colors=colors, trends=lines,
                                  trend_labels={d: tr(TEXT, k) for d, k in ARROWS.items()})
    chart = event_rules.overlay(chart, flagged, KIND.get(metric, "num"), grain, currency, split=by)
    charts.show(chart, key="trends.chart", height=360, select=metric in drill.CARD_STATUS)
    if metric in drill.CARD_STATUS:
        _drill_point(f, flagged, by, metric, grain)


def _drill_point(f: Filters, flagged: pd.DataFrame, by: str, metric: str, grain: str) -> None:
    """A point of the chart clicked: the leads / deals behind that period (and model or partner), cut to f."""
    def make(picked: Sequence[dict[str, Any]]) -> drill.Request | None:
        start, series = drill.point_day(picked[0].get("period")), picked[0].get("series")
        rows = flagged[(pd.to_datetime(flagged["period"]).dt.date == start) & (flagged["series"] == series)]
        if start is None or rows.empty:
            return None
        key, value = rows["key"].iloc[0], rows["value"].iloc[0]
        who = {} if by == "total" else {"model": key} if by == "model" else {"partner": int(key)}
        when = (fmt.day if grain == "week" else fmt.month)(start, lang())
        count = int(value) if metric in ("leads", "won_deals") and pd.notna(value) else None
        return drill.Request(tr(TEXT, "drill", series=series, metric=metric_label(metric), period=when),
                             deal_drill.narrow(f, period=drill.bucket(start, grain), status=drill.CARD_STATUS[metric],
                                               **who), count)

    drill.on_selection("trends.chart", drill.selected_points(st.session_state.get("trends.chart"), charts.DRILL),
                       make)


def _projection_text(row: pd.Series | None, metric: str, currency: str) -> str:
    """The projection at maturity and its 80 % interval of a maturing period (else a dash)."""
    if row is None or metric not in maturity.PROJECTED or not bool(row.get("maturing")) \
            or pd.isna(row.get(f"projected_{metric}")):
        return fmt.DASH
    value, low, high = (layout.value_text(metric, row.get(f"projected_{metric}{k}"), currency)
                        for k in ("", "_low", "_high"))
    return f"{value} (80 %: {low} – {high})"


language_sensitive(K_METRIC, K_GRAIN, K_BY)


def render() -> None:
    """The trends & monitoring page."""
    f = current()
    currency = query(lookups.freshness).get("currency") or "RUB"
    st.title(t("page.trends"), anchor=False)
    st.caption(tr(TEXT, "caption", now=period_label(f), rule=anomaly_rule(lang())))
    c1, c2, c3 = st.columns([2, 1, 2], vertical_alignment="bottom")
    with c1:
        if st.session_state.get(K_METRIC) not in METRICS:
            st.session_state[K_METRIC] = "revenue"
        metric = st.selectbox(tr(TEXT, "metric"), METRICS, key=K_METRIC, format_func=metric_labeler())
    with c2:
        if st.session_state.get(K_GRAIN) not in ("month", "week"):
            st.session_state[K_GRAIN] = "month"
        grain = st.segmented_control(tr(TEXT, "grain"), ("month", "week"), key=K_GRAIN, required=True,
                                     format_func=labeler(TEXT, "grain."))
    with c3:
        if st.session_state.get(K_BY) not in ("total", "model", "partner"):
            st.session_state[K_BY] = "model"
        by = st.segmented_control(tr(TEXT, "by"), ("total", "model", "partner"), key=K_BY, required=True,
                                  format_func=labeler(TEXT, "by."))
    prefetch_kpis(page_frames.trends(f, grain, by, metric))
    total = query(engine.kpis, f)
    if total.empty or int(total.iloc[0]["leads"]) + int(total.iloc[0]["won_deals"]) == 0:
        layout.empty()
        return
    chosen = _partner_choice(f) if by == "partner" else None
    series = _series(f, grain, by, metric)
    if chosen is not None:
        series = series[series["partner_id"].isin(chosen)]
    series = series.dropna(subset=["value"])
    if series.empty:
        layout.empty()
        return
    # maturing and incomplete periods get no verdict; counts (leads, deals) get the Poisson floor
    flagged = changes.flag(series, by="series", count=registry.get(metric).unit == "count")
    lines = trend_lines(flagged)
    _chart(f, flagged, lines, by, metric, currency, grain)
    event_rules.panel("trends.events")
    young = ~maturity.mature(flagged)
    if young.any():
        st.caption(tr(TEXT, "young"))
    elif flagged["partial"].any():
        st.caption(tr(TEXT, "partial"))
    if any(lines.values()):
        st.caption(tr(TEXT, "trend.band", n=changes.TREND_WINDOW))
        st.dataframe(series_trend_table(lines, grain), hide_index=True, key="trends.series_trend",
                     placeholder=fmt.DASH)
    if flagged.loc[~young, "period"].nunique() <= changes.MIN_HISTORY:
        st.info(tr(TEXT, "few_periods", n=changes.MIN_HISTORY + 1))
    _anomaly_table(flagged, metric, currency, grain)
    st.subheader(tr(TEXT, "kpi.title"), anchor=False)
    st.caption(tr(TEXT, "kpi.caption", n=changes.TREND_WINDOW, p=fmt.pct(changes.TREND_THRESHOLD, lang(), 0)))
    st.dataframe(kpi_table(f, grain, currency), hide_index=True, key="trends.kpi_table", placeholder=fmt.DASH)


if __name__ == "__main__":
    render()

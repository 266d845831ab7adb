"""Forecast & planning: metric forecasts with 80 %/95 % bands and a backtest, the open-deal pipeline, a budget plan.

Render only. The forecast and pipeline sections are here; the chart is ui.forecast_chart, the budget plan
ui.forecast_plan, the numbers and group names the sections share ui.forecast_format.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics import forecast as fc
from metrics import lookups, pipeline_forecast
from presentation import fmt
from ui import charts, layout
from ui.data import query
from ui.filters import bind_param, current, language_sensitive, mirror_param, period_label
from ui.forecast_chart import chart_frame, forecast_chart
from ui.forecast_format import group_label, value_text
from ui.forecast_plan import FLASH, K_PLAN_BY, K_PLAN_MODE, planning_section
from ui.i18n import labeler, lang, metric_label, metric_labeler, t, tr

K_METRIC, K_GRAIN, K_HORIZON, K_BY = "forecast.metric", "forecast.grain", "forecast.horizon", "forecast.by"
K_FULL, K_SECTION = "forecast.full_history", "forecast.section"
K_PIPE_BY = "forecast.pipeline_by"
K_GRAIN_SEEN = "forecast._grain_seen"
DEFAULT_HORIZON = {"month": 6, "week": 12}

TEXT = {
    "ru": {
        "caption": "Фильтры: {period} · История — все завершённые {unit} до конца периода; сделки, выручка и "
                   "комиссии датируются днём закрытия.",
        "caption.period": "Фильтры: {period} · История — завершённые {unit} внутри периода; сделки, выручка и "
                          "комиссии датируются днём закрытия.",
        "unit.month": "месяцы", "unit.week": "недели",
        "section": "Раздел", "section.forecast": "Прогноз показателей",
        "section.pipeline": "Открытые сделки", "section.plan": "План бюджета",
        "metric": "Показатель", "grain": "Шаг", "grain.month": "Месяц", "grain.week": "Неделя",
        "horizon": "Горизонт, периодов", "by": "Разрез", "by.total": "Всего", "by.model": "По моделям",
        "by.partner": "По партнёрам", "full": "Вся история до конца периода",
        "full.help": "Прогнозу нужна длинная история: сезонность видна только по двум полным годам. "
                     "Выключите, чтобы учить модель только на выбранном периоде.",
        "empty": "Нет ни одного завершённого периода истории для этих фильтров — расширьте период или "
                 "снимите фильтры.",
        "legend": "Сплошная линия — факт, пунктир — прогноз; тёмная полоса — 80 % интервал, светлая — 95 %.",
        "hidden": "Показаны {n} партнёров с наибольшим числом лидов; ещё {m} — выберите их в фильтре "
                  "«Партнёры», чтобы увидеть прогноз.",
        "sum": "Итого за {h} {unit_short}", "roi_total": "ROI за {h} {unit_short}",
        "unit_short.month": "мес.", "unit_short.week": "нед.",
        "interval": "80 %: {lo80} – {hi80} · 95 %: {lo95} – {hi95}",
        "backtest": "Проверка на истории: последние {k} периодов скрыты, модель обучена заново — "
                    "средняя ошибка {mae}{mape}{cover}.",
        "backtest.mape": " ({mape} от факта)", "backtest.cover": "; в 95 % полосу попало {hit} из {k}",
        "backtest.none": "Проверка на истории невозможна: слишком мало периодов.",
        "trust.high": "Точность: высокая", "trust.medium": "Точность: средняя", "trust.low": "Точность: низкая",
        "method.ets_seasonal": "Метод: экспоненциальное сглаживание (тренд + сезонность)",
        "method.ets_damped": "Метод: экспоненциальное сглаживание (затухающий тренд)",
        "method.seasonal_naive": "Метод: как год назад (сезонный наивный)",
        "method.mean": "Метод: среднее", "method.constant": "Метод: постоянное значение",
        "method.none": "Метод: —", "method.ratio": "ROI = (прогноз дохода − прогноз затрат) / прогноз затрат",
        "income": "Доход", "costs": "Затраты",
        "col.period": "Период", "col.forecast": "Прогноз", "col.band80": "80 %", "col.band95": "95 %",
        "pipe.title": "Ожидаемая выручка открытых сделок",
        "pipe.caption": "Открытые сделки из лидов, созданных в периоде. Вероятность выигрыша — доля выигранных "
                        "среди лидов, закрытых с {start} по {end} и побывавших на том же этапе ({n} закрытых); "
                        "для партнёров и моделей с малой историей она подтягивается к среднему по этапу.",
        "pipe.by": "Группировать", "pipe.empty": "Открытых сделок для этих фильтров нет.",
        "pipe.deals": "Открытые сделки", "pipe.amount": "Сумма в воронке", "pipe.expected": "Ожидаемая выручка",
        "pipe.range": "P10 – P90", "pipe.no_amount": "У {n} сделок не указан бюджет — они считаются как 0 ₽.",
        "col.group": "Группа", "col.deals": "Сделок", "col.amount": "Сумма", "col.expected": "Ожидается",
        "col.p10": "P10", "col.p50": "P50", "col.p90": "P90", "col.stage": "Этап", "col.pipeline": "Воронка",
        "col.p_win": "Вероятность выигрыша", "col.history": "Закрытых с этапа",
    },
    "en": {
        "caption": "Filters: {period} · History is every complete {unit} up to the period end; deals, revenue "
                   "and commissions are dated by the close date.",
        "caption.period": "Filters: {period} · History is the complete {unit} inside the period; deals, revenue "
                          "and commissions are dated by the close date.",
        "unit.month": "months", "unit.week": "weeks",
        "section": "Section", "section.forecast": "Metric forecast",
        "section.pipeline": "Open deals", "section.plan": "Budget plan",
        "metric": "Metric", "grain": "Step", "grain.month": "Month", "grain.week": "Week",
        "horizon": "Horizon, periods", "by": "Split", "by.total": "Total", "by.model": "By model",
        "by.partner": "By partner", "full": "All history up to the period end",
        "full.help": "Forecasts need a long history: seasonality shows only with two full years. "
                     "Turn off to learn from the selected period only.",
        "empty": "No complete period of history matches these filters — widen the period or clear filters.",
        "legend": "Solid line: actuals; dashed: forecast; dark band: 80 % interval, light band: 95 %.",
        "hidden": "Showing the {n} partners with the most leads; {m} more — pick them in the Partners "
                  "filter to see their forecast.",
        "sum": "Total over {h} {unit_short}", "roi_total": "ROI over {h} {unit_short}",
        "unit_short.month": "mo", "unit_short.week": "wk",
        "interval": "80 %: {lo80} – {hi80} · 95 %: {lo95} – {hi95}",
        "backtest": "Backtest: the last {k} periods were hidden and the model refitted — mean error "
                    "{mae}{mape}{cover}.",
        "backtest.mape": " ({mape} of actuals)", "backtest.cover": "; {hit} of {k} inside the 95 % band",
        "backtest.none": "No backtest: too few periods.",
        "trust.high": "Accuracy: high", "trust.medium": "Accuracy: medium", "trust.low": "Accuracy: low",
        "method.ets_seasonal": "Method: exponential smoothing (trend + seasonality)",
        "method.ets_damped": "Method: exponential smoothing (damped trend)",
        "method.seasonal_naive": "Method: same as a year ago (seasonal naive)",
        "method.mean": "Method: mean", "method.constant": "Method: constant value",
        "method.none": "Method: —", "method.ratio": "ROI = (income forecast − costs forecast) / costs forecast",
        "income": "Income", "costs": "Costs",
        "col.period": "Period", "col.forecast": "Forecast", "col.band80": "80 %", "col.band95": "95 %",
        "pipe.title": "Expected revenue from open deals",
        "pipe.caption": "Open deals from leads created in the period. Win probability is the share won among "
                        "leads closed {start} – {end} that stood at the same stage ({n} closed); for partners "
                        "and models with little history it is pulled toward the stage average.",
        "pipe.by": "Group by", "pipe.empty": "No open deals match these filters.",
        "pipe.deals": "Open deals", "pipe.amount": "Pipeline amount", "pipe.expected": "Expected revenue",
        "pipe.range": "P10 – P90", "pipe.no_amount": "{n} deals have no amount set — they count as 0.",
        "col.group": "Group", "col.deals": "Deals", "col.amount": "Amount", "col.expected": "Expected",
        "col.p10": "P10", "col.p50": "P50", "col.p90": "P90", "col.stage": "Stage", "col.pipeline": "Pipeline",
        "col.p_win": "Win probability", "col.history": "Closed from stage",
    },
}

language_sensitive(K_SECTION, K_METRIC, K_GRAIN, K_BY, K_PIPE_BY, K_PLAN_BY, K_PLAN_MODE)


# ---------- forecast section ----------

def _controls() -> tuple[str, str, int, str, bool]:
    """Metric, grain, horizon, grouping and history switch (mirrored in the URL)."""
    bind_param(K_METRIC, "fc_metric", str, "revenue")
    bind_param(K_GRAIN, "fc_grain", str, "month")
    bind_param(K_BY, "fc_by", str, "total")
    bind_param(K_HORIZON, "fc_h", int, None)
    s = st.session_state
    s[K_METRIC] = s.get(K_METRIC) if s.get(K_METRIC) in fc.METRICS else "revenue"
    s[K_GRAIN] = s.get(K_GRAIN) if s.get(K_GRAIN) in fc.SEASON else "month"
    s[K_BY] = s.get(K_BY) if s.get(K_BY) in fc.BY else "total"
    c1, c2, c3, c4 = st.columns([2, 1, 2, 2], vertical_alignment="bottom")
    with c1:
        metric = st.selectbox(tr(TEXT, "metric"), fc.METRICS, key=K_METRIC, format_func=metric_labeler())
    with c2:
        grain = st.segmented_control(tr(TEXT, "grain"), ("month", "week"), key=K_GRAIN, required=True,
                                     format_func=labeler(TEXT, "grain."))
    top = fc.MAX_HORIZON[grain]
    changed = s.get(K_GRAIN_SEEN, grain) != grain   # a new step: 6 months become 12 weeks, not 6 weeks
    if changed or not isinstance(s.get(K_HORIZON), int) or not 1 <= s[K_HORIZON] <= top:
        s[K_HORIZON] = DEFAULT_HORIZON[grain]
    s[K_GRAIN_SEEN] = grain
    with c3:
        horizon = st.slider(tr(TEXT, "horizon"), 1, top, key=K_HORIZON)
    with c4:
        by = st.segmented_control(tr(TEXT, "by"), fc.BY, key=K_BY, required=True, format_func=labeler(TEXT, "by."))
    full = st.toggle(tr(TEXT, "full"), value=True, key=K_FULL, help=tr(TEXT, "full.help"))
    for param, value, default in (("fc_metric", metric, "revenue"), ("fc_grain", grain, "month"),
                                  ("fc_by", by, "total"), ("fc_h", horizon, DEFAULT_HORIZON[grain])):
        mirror_param(param, value, default)
    return metric, grain, int(horizon), by, bool(full)



def _trust(mape: float | None) -> str | None:
    if mape is None:
        return None
    return "trust.high" if mape < 0.15 else "trust.medium" if mape < 0.35 else "trust.low"


def _backtest_text(result: fc.ForecastResult, metric: str, currency: str) -> str:
    bt = result.backtest
    if bt is None:
        return tr(TEXT, "backtest.none")
    code = lang()
    mape = tr(TEXT, "backtest.mape", mape=fmt.pct(bt.mape, code)) if bt.mape is not None else ""
    cover = (tr(TEXT, "backtest.cover", hit=round(bt.coverage * bt.k), k=bt.k) if bt.coverage is not None else "")
    mae = fmt.pct(bt.mae, code) if metric == "roi" else value_text(metric, bt.mae, currency)
    return tr(TEXT, "backtest", k=bt.k, mae=mae, mape=mape, cover=cover)


def _reason(result: fc.ForecastResult) -> str:
    return tr(fc.REASON_TEXT, result.reason, **result.reason_args)


def _summary(result: fc.ForecastResult, metric: str, grain: str, horizon: int, currency: str, key: str) -> None:
    """Beside the chart: horizon total with intervals, backtest error, method and why."""
    total = result.total()
    unit = tr(TEXT, f"unit_short.{grain}")
    label = tr(TEXT, "roi_total" if metric == "roi" else "sum", h=horizon, unit_short=unit)
    with st.container(key=f"{key}.total"):
        st.metric(label, value_text(metric, total["mean"], currency))
    st.caption(tr(TEXT, "interval", **{k: value_text(metric, total.get(k), currency)
                                       for k in ("lo80", "hi80", "lo95", "hi95")}))
    trust = _trust(result.backtest.mape if result.backtest else None)
    if trust:
        st.badge(tr(TEXT, trust), color={"trust.high": "green", "trust.medium": "orange"}.get(trust, "red"))
    st.caption(_backtest_text(result, metric, currency))
    st.caption(tr(TEXT, f"method.{result.method}"))
    if result.method == "ratio":
        for part in ("income", "costs"):
            st.caption(f"{tr(TEXT, part)}: {_reason(result.components[part])}")
    elif result.reason != "seasonal":
        st.info(_reason(result), icon=":material/info:")
    else:
        st.caption(_reason(result))


def _group_block(g: fc.GroupForecast, fs: fc.ForecastSet, currency: str, index: int) -> None:
    """One group: chart on the left, numbers and trust on the right."""
    name = group_label(fs.by, g.group, g.label)
    if fs.by != "total":
        st.markdown(f"**{fmt.plain(name)}**")
    left, right = st.columns([3, 2], gap="medium")
    with left:
        if g.result.history.empty:
            st.caption(_reason(g.result))
        else:
            long = chart_frame(g.result, fs.metric, fs.freq, currency)
            charts.show(forecast_chart(long, fs.metric, metric_label(fs.metric)), key=f"forecast.chart.{index}",
                        height=260)
    with right:
        _summary(g.result, fs.metric, fs.freq, fs.horizon, currency, f"forecast.summary.{index}")


def forecast_section(f: object, currency: str) -> None:
    """Selectors, then one chart + summary per group."""
    metric, grain, horizon, by, full = _controls()
    unit = tr(TEXT, f"unit.{grain}")
    st.caption(tr(TEXT, "caption" if full else "caption.period", period=period_label(f), unit=unit))
    fs = query(fc.forecast, f, metric, by, grain, horizon, full)
    if not fs.groups:
        layout.empty(tr(TEXT, "empty"))
        return
    st.caption(tr(TEXT, "legend"))
    for i, g in enumerate(fs.groups):
        _group_block(g, fs, currency, i)
    if fs.hidden:
        st.caption(tr(TEXT, "hidden", n=len(fs.groups), m=fs.hidden))


# ---------- pipeline section ----------

def pipeline_section(f: object, currency: str) -> None:
    """Open deals x win probability: totals with P10–P90, by group and by stage."""
    code = lang()
    st.subheader(tr(TEXT, "pipe.title"), anchor=False)
    if st.session_state.get(K_PIPE_BY) not in pipeline_forecast.BY:
        st.session_state[K_PIPE_BY] = "model"
    by = st.segmented_control(tr(TEXT, "pipe.by"), pipeline_forecast.BY, key=K_PIPE_BY, required=True,
                              format_func=labeler(TEXT, "by."))
    pf = query(pipeline_forecast.pipeline_forecast, f, by)
    st.caption(tr(TEXT, "pipe.caption", start=fmt.day(pf.hist_from, code), end=fmt.day(pf.hist_to, code),
                  n=fmt.num(pf.closed, code)))
    if pf.deals.empty:
        layout.empty(tr(TEXT, "pipe.empty"))
        return
    tot = pf.total
    layout.kpi_cards([
        layout.Kpi(tr(TEXT, "pipe.deals"), fmt.num(tot["deals"], code)),
        layout.Kpi(tr(TEXT, "pipe.amount"), fmt.money(tot["amount"], code, currency)),
        layout.Kpi(tr(TEXT, "pipe.expected"), fmt.money(tot["expected"], code, currency)),
        layout.Kpi(tr(TEXT, "pipe.range"),
                   f"{fmt.money_short(tot['p10'], code, currency)} – {fmt.money_short(tot['p90'], code, currency)}"),
    ], key="forecast.pipe_kpi", per_row=4)
    if tot["without_amount"]:
        st.caption(tr(TEXT, "pipe.no_amount", n=fmt.num(tot["without_amount"], code)))
    groups = pf.by_group
    money_cols = ("amount", "expected", "p10", "p50", "p90")
    st.dataframe(pd.DataFrame({
        tr(TEXT, "col.group"): [group_label(by, g, lbl) for g, lbl in zip(groups["group"], groups["label"], strict=True)],
        tr(TEXT, "col.deals"): [fmt.num(v, code) for v in groups["deals"]],
        **{tr(TEXT, f"col.{c}"): [fmt.money(v, code, currency) for v in groups[c]] for c in money_cols},
    }), hide_index=True, key="forecast.pipe_groups", placeholder=fmt.DASH)
    stages = pf.by_stage
    names = query(lookups.pipelines).set_index("pipeline_id")["name"].to_dict()
    st.dataframe(pd.DataFrame({
        tr(TEXT, "col.pipeline"): [str(names.get(p, p)) for p in stages["pipeline_id"]],
        tr(TEXT, "col.stage"): stages["stage"].astype(str),
        tr(TEXT, "col.deals"): [fmt.num(v, code) for v in stages["deals"]],
        tr(TEXT, "col.amount"): [fmt.money(v, code, currency) for v in stages["amount"]],
        tr(TEXT, "col.p_win"): [fmt.pct(v, code) for v in stages["p_stage"]],
        tr(TEXT, "col.history"): [fmt.num(v, code) for v in stages["history"]],
        tr(TEXT, "col.expected"): [fmt.money(v, code, currency) for v in stages["expected"]],
    }), hide_index=True, key="forecast.pipe_stages", placeholder=fmt.DASH)


SECTIONS = {"forecast": forecast_section, "pipeline": pipeline_section, "plan": planning_section}


def render() -> None:
    """The forecast & planning page: one section at a time (each reads the database only when shown)."""
    f = current()
    currency = query(lookups.freshness).get("currency") or "RUB"
    st.title(t("page.forecast"), anchor=False)
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    bind_param(K_SECTION, "fc_section", str, "forecast")
    if st.session_state.get(K_SECTION) not in SECTIONS:
        st.session_state[K_SECTION] = "forecast"
    section = st.segmented_control(tr(TEXT, "section"), list(SECTIONS), key=K_SECTION, required=True,
                                   format_func=labeler(TEXT, "section."), label_visibility="collapsed")
    mirror_param("fc_section", section, "forecast")
    SECTIONS[section](f, currency)


if __name__ == "__main__":
    render()

"""Forecast & planning: metric forecasts with 80 %/95 % bands and a backtest, the open-deal pipeline, a budget plan."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from data_layer.userdata import MAX_NAME, UserDataError
from metrics import forecast as fc
from metrics import lookups, pipeline_forecast
from presentation import fmt, palette
from programme import planning
from ui import auth, charts, layout
from ui.data import query
from ui.filters import bind_param, current, language_sensitive, mirror_param, period_label
from ui.i18n import labeler, lang, metric_label, metric_labeler, model_label, t, tr
from ui.writes import write

K_METRIC, K_GRAIN, K_HORIZON, K_BY = "forecast.metric", "forecast.grain", "forecast.horizon", "forecast.by"
K_FULL, K_SECTION = "forecast.full_history", "forecast.section"
K_PIPE_BY = "forecast.pipeline_by"
K_PLAN_BY, K_PLAN_MODE, K_PLAN_BUDGETS = "forecast.plan_by", "forecast.plan_mode", "forecast.plan_budgets"
K_PLAN_TARGET, K_PLAN_TOTAL = "forecast.plan_target", "forecast.plan_total"
K_PLAN_NAME, K_PLAN_OVERWRITE, K_PLAN_SAVE = "forecast.plan_name", "forecast.plan_overwrite", "forecast.plan_save"
FLASH, K_GRAIN_SEEN = "forecast._flash", "forecast._grain_seen"
DEFAULT_HORIZON = {"month": 6, "week": 12}
MONEY = {"revenue", "costs", "income"}
PLAN_MODES = ("budget", "revenue", "roi")

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
        "total": "Всего", "sum": "Итого за {h} {unit_short}", "roi_total": "ROI за {h} {unit_short}",
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
        "plan.title": "План бюджета на {quarter}",
        "plan.by": "Планировать", "plan.mode": "Что задаём", "plan.mode.budget": "Бюджеты",
        "plan.mode.revenue": "Цель по выручке", "plan.mode.roi": "Цель по ROI",
        "plan.target.revenue": "Выручка за квартал, ₽", "plan.target.roi": "ROI не ниже, %",
        "plan.total": "Общий бюджет квартала, ₽",
        "plan.empty": "Нет групп с затратами и лидами за последние 12 месяцев — план строить не на чем.",
        "plan.editor": "Бюджет на квартал по группам (по умолчанию — как в среднем за последние месяцы):",
        "plan.rates": "Исходные показатели за {start} – {end}",
        "plan.chance": "Вероятность достичь цели: {p}.",
        "plan.dropped": "Не получают бюджета (ROI ниже цели): {names}.",
        "plan.none": "Ни одна группа не достигает такого ROI — снизьте цель.",
        "col.budget": "Бюджет", "col.leads": "Лиды", "col.won": "Сделки", "col.revenue": "Выручка",
        "col.roi": "ROI", "col.cpl": "Цена лида", "col.conv": "Конверсия", "col.check": "Средний чек",
        "col.run_rate": "Бюджет, как сейчас",
        "plan.name": "Название сценария", "plan.overwrite": "Перезаписать план с тем же именем",
        "plan.save": "Сохранить как сценарий", "plan.saved": "План «{name}» сохранён в сценарии.",
        "plan.saved_list": "Сохранённые планы",
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
        "total": "Total", "sum": "Total over {h} {unit_short}", "roi_total": "ROI over {h} {unit_short}",
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
        "plan.title": "Budget plan for {quarter}",
        "plan.by": "Plan by", "plan.mode": "Set", "plan.mode.budget": "Budgets",
        "plan.mode.revenue": "Revenue target", "plan.mode.roi": "ROI target",
        "plan.target.revenue": "Quarter revenue, ₽", "plan.target.roi": "ROI at least, %",
        "plan.total": "Total quarter budget, ₽",
        "plan.empty": "No group had both costs and leads in the last 12 months — nothing to plan from.",
        "plan.editor": "Quarter budget per group (default: the recent monthly average):",
        "plan.rates": "Basis: {start} – {end}",
        "plan.chance": "Chance of reaching the target: {p}.",
        "plan.dropped": "Get no budget (ROI below target): {names}.",
        "plan.none": "No group reaches that ROI — lower the target.",
        "col.budget": "Budget", "col.leads": "Leads", "col.won": "Deals", "col.revenue": "Revenue",
        "col.roi": "ROI", "col.cpl": "Cost per lead", "col.conv": "Conversion", "col.check": "Average check",
        "col.run_rate": "Budget at run rate",
        "plan.name": "Scenario name", "plan.overwrite": "Overwrite a plan with the same name",
        "plan.save": "Save as scenario", "plan.saved": "Plan “{name}” saved as a scenario.",
        "plan.saved_list": "Saved plans",
    },
}

language_sensitive(K_SECTION, K_METRIC, K_GRAIN, K_BY, K_PIPE_BY, K_PLAN_BY, K_PLAN_MODE)


# ---------- formatting ----------

def _value(metric: str, v: object, currency: str) -> str:
    """A forecast value: money, percent (ROI) or a count."""
    code = lang()
    x = None if v is None or pd.isna(v) else float(v)  # type: ignore[arg-type]
    if metric in MONEY:
        return fmt.money(x, code, currency)
    if metric == "roi":
        return fmt.pct(x, code)
    return fmt.num(x, code, 1 if x is not None and abs(x) < 10 else 0)


def _period(p: pd.Timestamp, grain: str) -> str:
    code = lang()
    return fmt.month(p.date(), code) if grain == "month" else fmt.day(p.date(), code)


def _group_label(by: str, group: str, label: str) -> str:
    if by == "total":
        return tr(TEXT, "total")
    if by == "model" or group == "direct":
        return model_label(group)
    return label


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
    long["period_txt"] = [_period(p, grain) for p in long["period"]]
    long["value_txt"] = [_value(metric, v, currency) for v in long["value"]]
    long["band_txt"] = [
        "" if pd.isna(a) else f"80 %: {_value(metric, a, currency)} – {_value(metric, b, currency)}; "
                              f"95 %: {_value(metric, c, currency)} – {_value(metric, d, currency)}"
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
    mae = fmt.pct(bt.mae, code) if metric == "roi" else _value(metric, bt.mae, currency)
    return tr(TEXT, "backtest", k=bt.k, mae=mae, mape=mape, cover=cover)


def _reason(result: fc.ForecastResult) -> str:
    return tr(fc.REASON_TEXT, result.reason, **result.reason_args)


def _summary(result: fc.ForecastResult, metric: str, grain: str, horizon: int, currency: str, key: str) -> None:
    """Beside the chart: horizon total with intervals, backtest error, method and why."""
    total = result.total()
    unit = tr(TEXT, f"unit_short.{grain}")
    label = tr(TEXT, "roi_total" if metric == "roi" else "sum", h=horizon, unit_short=unit)
    with st.container(key=f"{key}.total"):
        st.metric(label, _value(metric, total["mean"], currency))
    st.caption(tr(TEXT, "interval", **{k: _value(metric, total.get(k), currency)
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
    name = _group_label(fs.by, g.group, g.label)
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
        tr(TEXT, "col.group"): [_group_label(by, g, lbl) for g, lbl in zip(groups["group"], groups["label"], strict=True)],
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


# ---------- planning section ----------

def _plan_inputs(by: str, mode: str, rates: pd.DataFrame, currency: str) -> dict[str, object]:
    """Budgets editor or target inputs; returns keyword arguments of planning.plan."""
    plannable = rates[rates["plannable"]]
    labels = [_group_label(by, g, lbl) for g, lbl in zip(plannable["group"], plannable["label"], strict=True)]
    if mode == "roi":
        target = st.number_input(tr(TEXT, "plan.target.roi"), value=100.0, step=10.0, key=K_PLAN_TARGET)
        total = st.number_input(tr(TEXT, "plan.total"), min_value=0.0, step=100000.0, key=K_PLAN_TOTAL,
                                value=float(round(plannable["run_rate"].sum(), -3)))
        return {"target_kind": "roi", "target": float(target) / 100, "total_budget": float(total)}
    if mode == "revenue":
        default = float(round((plannable["run_rate"] * plannable["revenue_per_cost"].fillna(0)).sum(), -3))
        target = st.number_input(tr(TEXT, "plan.target.revenue"), min_value=0.0, step=100000.0, value=default,
                                 key=K_PLAN_TARGET)
        return {"target_kind": "revenue", "target": float(target)}
    st.caption(tr(TEXT, "plan.editor"))
    frame = pd.DataFrame({"group": plannable["group"].tolist(), tr(TEXT, "col.group"): labels,
                          tr(TEXT, "col.budget"): plannable["run_rate"].round(-2).tolist()})
    edited = st.data_editor(frame, key=K_PLAN_BUDGETS, hide_index=True, num_rows="fixed", disabled=["group"],
                            column_config={"group": None, tr(TEXT, "col.budget"): st.column_config.NumberColumn(
                                min_value=0.0, step=10000.0, format="%.0f")})
    budgets = tuple((str(g), float(v or 0.0)) for g, v in zip(edited["group"], edited[tr(TEXT, "col.budget")],
                                                                strict=True))
    return {"budgets": budgets}


def _projection_table(result: planning.PlanResult, by: str, currency: str) -> pd.DataFrame:
    code = lang()
    rows = result.projection.table

    def span(m: str, r: pd.Series, level: int) -> str:
        return f"{_value(m, r[f'{m}_lo{level}'], currency)} – {_value(m, r[f'{m}_hi{level}'], currency)}"

    out = {tr(TEXT, "col.group"): [tr(TEXT, "total") if g == "total" else _group_label(by, g, lbl)
                                   for g, lbl in zip(rows["group"], rows["label"], strict=True)],
           tr(TEXT, "col.budget"): [fmt.money(v, code, currency) for v in rows["budget"]]}
    for m, col in (("leads", "col.leads"), ("won_deals", "col.won"), ("revenue", "col.revenue"), ("roi", "col.roi")):
        out[tr(TEXT, col)] = [_value(m, r[m], currency) for _, r in rows.iterrows()]
        out[f"{tr(TEXT, col)} · 80 %"] = [span(m, r, 80) for _, r in rows.iterrows()]
        out[f"{tr(TEXT, col)} · 95 %"] = [span(m, r, 95) for _, r in rows.iterrows()]
    return pd.DataFrame(out)


def _rates_table(rates: pd.DataFrame, by: str, currency: str) -> pd.DataFrame:
    code = lang()
    r = rates[rates["plannable"]]
    return pd.DataFrame({
        tr(TEXT, "col.group"): [_group_label(by, g, lbl) for g, lbl in zip(r["group"], r["label"], strict=True)],
        tr(TEXT, "col.cpl"): [fmt.money(v, code, currency) for v in r["cpl"]],
        tr(TEXT, "col.conv"): [fmt.pct(v, code) for v in r["conversion"]],
        tr(TEXT, "col.check"): [fmt.money(v, code, currency) for v in r["avg_check"]],
        tr(TEXT, "col.roi"): [fmt.pct(v, code) for v in r["roi"]],
        tr(TEXT, "col.run_rate"): [fmt.money(v, code, currency) for v in r["run_rate"]],
    })


def _save_box(result: planning.PlanResult) -> None:
    """Name + save: the plan goes to the scenarios table (cost inputs untouched)."""
    a, b, c = st.columns([4, 2, 2], vertical_alignment="bottom")
    with a:
        name = st.text_input(tr(TEXT, "plan.name"), key=K_PLAN_NAME, max_chars=MAX_NAME)
    with b:
        overwrite = st.checkbox(tr(TEXT, "plan.overwrite"), key=K_PLAN_OVERWRITE)
    with c:
        pressed = st.button(tr(TEXT, "plan.save"), key=K_PLAN_SAVE, type="primary",
                            disabled=not auth.allowed(planning.save_plan))  # a shared plan: an edit
    if pressed:
        target = {"kind": result.target_kind, "value": result.target} if result.target_kind else None
        payload = planning.plan_payload(result.basis, result.budgets, result.projection, target)
        try:
            write(planning.save_plan, name, payload, overwrite=overwrite)
        except UserDataError as exc:
            st.error(exc.text(lang()), icon=":material/error:")
            return
        st.session_state[FLASH] = tr(TEXT, "plan.saved", name=(name or "").strip())
        st.rerun()


def planning_section(f: object, currency: str) -> None:
    """Budgets (or a target) for the next quarter -> projected leads, deals, revenue and ROI with intervals."""
    code = lang()
    s = st.session_state
    if s.get(K_PLAN_BY) not in ("model", "partner"):
        s[K_PLAN_BY] = "model"
    if s.get(K_PLAN_MODE) not in PLAN_MODES:
        s[K_PLAN_MODE] = "budget"
    b = query(planning.basis, f, s[K_PLAN_BY])
    rates = planning.rates(b.monthly)
    st.subheader(tr(TEXT, "plan.title", quarter=b.quarter_label), anchor=False)
    c1, c2 = st.columns(2)
    with c1:
        by = st.segmented_control(tr(TEXT, "plan.by"), ("model", "partner"), key=K_PLAN_BY, required=True,
                                  format_func=labeler(TEXT, "by."))
    with c2:
        mode = st.segmented_control(tr(TEXT, "plan.mode"), PLAN_MODES, key=K_PLAN_MODE, required=True,
                                    format_func=labeler(TEXT, "plan.mode."))
    if rates.empty or not rates["plannable"].any():
        layout.empty(tr(TEXT, "plan.empty"))
        return
    st.caption(planning.ASSUMPTION[code].format(months=rates["months"].max(), start=fmt.month(b.first, code),
                                                end=fmt.month(b.last, code)))
    with st.expander(tr(TEXT, "plan.rates", start=fmt.month(b.first, code), end=fmt.month(b.last, code))):
        st.dataframe(_rates_table(rates, by, currency), hide_index=True, key="forecast.plan_rates", placeholder=fmt.DASH)
    kwargs = _plan_inputs(by, mode, rates, currency)
    result = planning.plan_from(b, **kwargs)  # pure arithmetic on the cached basis
    if mode == "roi" and not result.budgets:
        st.warning(tr(TEXT, "plan.none"), icon=":material/warning:")
        return
    st.dataframe(_projection_table(result, by, currency), hide_index=True, key="forecast.plan_table", placeholder=fmt.DASH)
    if result.chance is not None:
        st.caption(tr(TEXT, "plan.chance", p=fmt.pct(result.chance, code, 0)))
    if result.dropped:
        names = dict(zip(rates["group"], rates["label"], strict=True))
        st.caption(tr(TEXT, "plan.dropped", names=", ".join(fmt.plain(_group_label(by, g, names.get(g, g)))
                                                             for g in result.dropped)))
    _save_box(result)
    saved = query(planning.load_plans)
    if not saved.empty:
        with st.expander(tr(TEXT, "plan.saved_list")):
            st.dataframe(saved[["name", "quarter", "budget"]].assign(
                budget=[fmt.money(v, code, currency) for v in saved["budget"]]), hide_index=True,
                key="forecast.plan_saved", placeholder=fmt.DASH)


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

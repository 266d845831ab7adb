"""Partnership models side by side (referral, sales, service) against direct sales, with strengths and weaknesses."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st

from metrics import drill as deal_drill
from metrics import engine, lookups, maturity, page_frames
from metrics.filters import Filters
from presentation import fmt
from ui import charts, drill, goals_panel, incrementality_panel, layout, payback_panel
from ui.data import prefetch, query
from ui.filters import current, language_sensitive, period_label
from ui.i18n import lang, metric_label, metric_labeler, model_label, t, tr

K_METRIC, K_TABLE, K_VS_DIRECT = "models.metric", "models.table", "models.vs_direct"
K_PAYBACK, K_PAYBACK_SHOW = "models.payback_model", "models.payback"
ORDER = ("referral", "sales", "service", "direct", "unassigned")
# Metrics compared side by side (which way is better: registry.higher_is_better).
COMPARED = ("conversion", "avg_check", "roi", "cpa", "ltv", "time_to_close_days", "revenue_share",
            "leads", "won_deals", "revenue", "costs")
KIND = {"conversion": "pct", "roi": "pct", "revenue_share": "pct", "avg_check": "money", "cpa": "money",
        "ltv": "money", "revenue": "money", "costs": "money", "time_to_close_days": "days"}

TEXT = {
    "ru": {
        "caption": "Период: {now} · Прямые продажи — лиды без партнёра — база, с которой сравнивается каждая модель.",
        "metric": "Показатель для графика", "chart": "{m} по моделям", "table": "Все показатели",
        "chart.young": "Светлый столбец — период модели ещё не закончен или созревает (сделки по его лидам ещё "
                       "закрываются): значение изменится; черта — прогноз при созревании с 80 % интервалом.",
        "col.metric": "Показатель", "pros": "Сильные стороны", "cons": "Слабые стороны", "watch": "Что отслеживать",
        "vs_direct": "{metric}: {sign} прямых продаж на {pp}; ROI {roi}.",
        "few": "Лидов меньше порога: выводы по модели пока ненадёжны.",
        "referral.pros": ["Запуск быстрый и недорогой: партнёру хватает ссылки или промокода.",
                          "Охват растёт за счёт множества небольших партнёров."],
        "referral.cons": ["Качество лидов сильно разнится, конверсия обычно ниже остальных моделей.",
                          "Оплата за лид съедает маржу, если лиды нецелевые."],
        "referral.watch": "число лидов, конверсия, CPA, доля мусорных лидов",
        "sales.pros": ["Партнёр сам доводит сделку и заинтересован в оплате клиента.",
                       "Вознаграждение привязано к выручке: платим за результат, средний чек и ROI выше."],
        "sales.cons": ["Дороже запуск: партнёра нужно обучать, поддерживать и проверять его продажи.",
                       "Процент с продажи требует настройки: мал — не мотивирует, велик — съедает прибыль."],
        "sales.watch": "сделки, средний чек, ROI, LTV",
        "service.pros": ["Внедрение и сопровождение дают высокую маржу и долгие отношения с клиентом.",
                         "Клиенты после хорошего внедрения чаще покупают повторно — растёт LTV."],
        "service.cons": ["Нужен строгий отбор партнёров и контроль качества их работы.",
                         "Сделки длиннее, отдача видна позже."],
        "service.watch": "число проектов, средняя стоимость проекта, срок сделки, повторные покупки",
        "direct.pros": ["Нет партнёрских выплат: всё, что потрачено, — собственный маркетинг и продажи."],
        "direct.cons": ["Рост ограничен собственным охватом и силами отдела продаж."],
        "direct.watch": "если модель не обгоняет прямые продажи по конверсии или ROI, её затраты стоит пересмотреть",
        "unassigned.pros": ["Партнёры, которым ещё не назначена модель."],
        "unassigned.cons": ["Назначьте модель в «Настройках», чтобы они попали в сравнение."],
        "unassigned.watch": "модель партнёра",
        "higher": "выше", "lower": "ниже",
        "pvd": "Партнёры в целом и прямые продажи",
        "pvd.caption": "Доля выигранных лидов с 95-процентным интервалом (Вильсон), средний чек и срок сделки "
                       "каждой модели и всех партнёров вместе — и их разница с прямыми продажами.",
        "pvd.segment": "Сегмент", "pvd.partners": "Все партнёры", "pvd.leads": "Лиды",
        "pvd.win": "Доля выигранных", "pvd.interval": "95 % интервал", "pvd.win_diff": "Разница, п. п.",
        "pvd.check": "Средний чек", "pvd.check_diff": "Разница, %", "pvd.days": "Дней до сделки",
        "pvd.days_diff": "Разница, дн.", "pvd.base": "база",
        "drill.hint": "Щёлкните ячейку с лидами, сделками, выручкой, конверсией или средним чеком — откроется список "
                      "сделок за ней; строку таблицы ниже — лиды сегмента.",
        "drill.model": "{model}: {metric}", "drill.segment": "{segment}: лиды периода",
    },
    "en": {
        "caption": "Period: {now} · Direct sales — leads without a partner — are the baseline each model is "
                   "compared with.",
        "metric": "Metric for the chart", "chart": "{m} by model", "table": "All figures",
        "chart.young": "A pale bar — the model's period is not over yet or is maturing (its leads' deals are still "
                       "closing): the value will change; the mark is the projection at maturity with its 80 % "
                       "interval.",
        "col.metric": "Metric", "pros": "Strengths", "cons": "Weaknesses", "watch": "What to watch",
        "vs_direct": "{metric}: {sign} direct sales by {pp}; ROI {roi}.",
        "few": "Fewer leads than the threshold: conclusions about this model are not reliable yet.",
        "referral.pros": ["Quick and cheap to launch: a link or promo code is all a partner needs.",
                          "Reach grows through many small partners."],
        "referral.cons": ["Lead quality varies widely; conversion is usually the lowest of the models.",
                          "Paying per lead eats the margin when the leads are off-target."],
        "referral.watch": "lead count, conversion, CPA, junk share",
        "sales.pros": ["The partner closes the deal and is paid only when the client pays.",
                       "Rewards follow revenue: you pay for results; average check and ROI tend to be higher."],
        "sales.cons": ["Costlier to start: partners need training, support and checks on their sales.",
                       "The commission needs tuning: too low does not motivate, too high eats the profit."],
        "sales.watch": "deals, average check, ROI, LTV",
        "service.pros": ["Implementation and support bring high margins and long client relationships.",
                         "Well-onboarded clients buy again more often, which lifts LTV."],
        "service.cons": ["Partners must be selected strictly and their work quality checked.",
                         "Deals take longer, so the payback shows later."],
        "service.watch": "projects, average project value, time to close, repeat purchases",
        "direct.pros": ["No partner payouts: all spend is your own marketing and sales."],
        "direct.cons": ["Growth is limited by your own reach and sales team."],
        "direct.watch": "if a model does not beat direct sales on conversion or ROI, review its costs",
        "unassigned.pros": ["Partners that have no model yet."],
        "unassigned.cons": ["Set their model in “Settings” to include them in the comparison."],
        "unassigned.watch": "the partner's model",
        "higher": "higher than", "lower": "lower than",
        "pvd": "All partners and direct sales",
        "pvd.caption": "Share of leads won with its 95 % interval (Wilson), average check and time to close of each "
                       "model and of all partners together — and how they differ from direct sales.",
        "pvd.segment": "Segment", "pvd.partners": "All partners", "pvd.leads": "Leads",
        "pvd.win": "Leads won", "pvd.interval": "95 % interval", "pvd.win_diff": "Difference, pp",
        "pvd.check": "Average check", "pvd.check_diff": "Difference, %", "pvd.days": "Days to close",
        "pvd.days_diff": "Difference, days", "pvd.base": "baseline",
        "drill.hint": "Click a cell with leads, deals, revenue, conversion or average check to list the deals behind "
                      "it; a row of the table below lists the segment's leads.",
        "drill.model": "{model}: {metric}", "drill.segment": "{segment}: leads of the period",
    },
}


def _texts(key: str) -> list[str]:
    """A list-valued entry of TEXT for the current language."""
    return TEXT[lang()].get(key) or TEXT["ru"].get(key) or []


def _card(f: Filters, row: pd.Series, direct: pd.Series | None, currency: str) -> None:
    model = row["model"]
    with st.container(border=True, height="stretch", key=f"models.card.{model}"):
        st.subheader(model_label(model), anchor=False)
        if bool(row.get("too_few")):
            layout.too_few_badge()
        conv = layout.conversion_metric(row)  # close view: the win rate of the leads closed, with its counts
        st.metric(metric_label(conv), layout.value_text(conv, row[conv]))
        if conv != "conversion":
            st.caption(layout.closed_counts(row))
        st.metric(metric_label("roi"), layout.value_text("roi", row["roi"]))
        layout.band_badge(row.get("roi_band"))
        for m in ("avg_check", "cpa", "ltv", "time_to_close_days", "revenue_share"):
            st.markdown(f"{metric_label(m)}: **{layout.value_text(m, row.get(m), currency, short=True)}**")
        if direct is not None and model != "direct":
            diff = layout.change(conv, "pp", row, direct)
            if diff is not None:
                st.caption(tr(TEXT, "vs_direct", metric=metric_label(conv),
                              sign=tr(TEXT, "higher" if diff >= 0 else "lower"),
                              pp=fmt.signed_pp(abs(diff), lang()).lstrip("+"),
                              roi=layout.value_text("roi", row.get("roi"))))
        st.markdown(f"**{tr(TEXT, 'pros')}**")
        st.markdown("\n".join(f"- {s}" for s in _texts(f"{model}.pros")))
        st.markdown(f"**{tr(TEXT, 'cons')}**")
        st.markdown("\n".join(f"- {s}" for s in _texts(f"{model}.cons")))
        st.caption(f"{tr(TEXT, 'watch')}: {tr(TEXT, f'{model}.watch')}")
        drill.card_button("won_deals", tr(TEXT, "drill.model", model=model_label(model),
                                          metric=metric_label("won_deals")),
                          deal_drill.narrow(f, model=model).filters, f"models.card.{model}", row.get("won_deals"))


def vs_direct_table(rows: pd.DataFrame, currency: str) -> pd.DataFrame:
    """engine.partner_vs_direct's rows for display: each model, all partners, direct (the baseline)."""
    code = lang()
    segment = [tr(TEXT, "pvd.partners") if s == "partners" else model_label(s) for s in rows["segment"]]
    interval = [f"{fmt.pct(lo, code)} – {fmt.pct(hi, code)}" if pd.notna(lo) else fmt.DASH
                for lo, hi in zip(rows["win_rate_low"], rows["win_rate_high"], strict=True)]
    base = rows["segment"].eq("direct").tolist()

    def diff(values: pd.Series, show: Callable[[float], str]) -> list[str]:
        """Differences from direct sales; direct's own row says it is the baseline."""
        return [tr(TEXT, "pvd.base") if is_base else show(x) for x, is_base in zip(values, base, strict=True)]

    def days(x: float) -> str:
        return fmt.DASH if pd.isna(x) else ("+" if x > 0 else "") + fmt.num(x, code, 1)

    return pd.DataFrame({
        tr(TEXT, "pvd.segment"): segment,
        tr(TEXT, "pvd.leads"): [fmt.num(x, code) for x in rows["leads"]],
        tr(TEXT, "pvd.win"): [fmt.pct(x, code) for x in rows["win_rate"]],
        tr(TEXT, "pvd.interval"): interval,
        tr(TEXT, "pvd.win_diff"): diff(rows["win_rate_diff"], lambda x: fmt.signed_pp(x, code)),
        tr(TEXT, "pvd.check"): [fmt.money(x, code, currency) for x in rows["avg_check"]],
        tr(TEXT, "pvd.check_diff"): diff(rows["avg_check_rel"], lambda x: fmt.signed_pct(x, code)),
        tr(TEXT, "pvd.days"): [fmt.num(x, code, 1) for x in rows["time_to_close_days"]],
        tr(TEXT, "pvd.days_diff"): diff(rows["time_to_close_days_diff"], days),
    })


def comparison_table(rows: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Metrics as rows, models as columns, values formatted for the current language."""
    table = {tr(TEXT, "col.metric"): [metric_label(m) for m in COMPARED]}
    for _, row in rows.iterrows():
        table[model_label(row["model"])] = [layout.value_text(m, row.get(m), currency) for m in COMPARED]
    return pd.DataFrame(table)


language_sensitive(K_METRIC)


def render() -> None:
    """The model comparison page."""
    f = current()
    currency = query(lookups.freshness).get("currency") or "RUB"
    st.title(t("page.models"), anchor=False)
    st.caption(tr(TEXT, "caption", now=period_label(f)))
    # the model KPIs and the partners-vs-direct comparison are computed side by side (engine.together)
    prefetch(page_frames.models(f))
    rows = query(engine.kpis, f, by="model")
    rows = rows[rows["leads"].fillna(0) + rows["won_deals"].fillna(0) > 0]
    if rows.empty:
        layout.empty()
        return
    rows = rows.assign(_o=rows["model"].map({m: i for i, m in enumerate(ORDER)})).sort_values("_o")
    direct = rows[rows["model"] == "direct"]
    direct_row = direct.iloc[0] if len(direct) else None
    cols = st.columns(len(rows), gap="medium")
    for col, (_, row) in zip(cols, rows.iterrows(), strict=False):
        with col:
            _card(f, row, direct_row, currency)
            if row["model"] in ("referral", "sales", "service", "direct"):
                goals_panel.render("model", model=str(row["model"]), limit=2)

    if st.session_state.get(K_METRIC) not in COMPARED:
        st.session_state[K_METRIC] = "roi"
    metric = st.selectbox(tr(TEXT, "metric"), COMPARED, key=K_METRIC, format_func=metric_labeler())
    st.subheader(tr(TEXT, "chart", m=metric_label(metric)), anchor=False)
    chart_rows = rows[rows[metric].notna()]
    if chart_rows.empty:
        layout.empty()
    else:
        young = [c for c in ("maturing", "incomplete", *(f"projected_{metric}{k}" for k in ("", "_low", "_high")))
                 if c in chart_rows.columns]
        charts.show(charts.model_bars(chart_rows[["model", metric, *young]], metric, KIND.get(metric, "num"),
                                      metric_label(metric), currency),
                    key="models.chart", height=60 * len(chart_rows) + 40)
        if not maturity.mature(chart_rows).all():
            st.caption(tr(TEXT, "chart.young"))
    st.subheader(tr(TEXT, "table"), anchor=False)
    st.dataframe(comparison_table(rows, currency), hide_index=True, key=K_TABLE, on_select="rerun",
                 selection_mode="single-cell", height=35 * (len(COMPARED) + 1) + 3, placeholder=fmt.DASH)
    st.caption(tr(TEXT, "drill.hint"))
    _drill_cell(f, rows)
    incrementality_panel.models_section(rows, currency)
    st.subheader(tr(TEXT, "pvd"), anchor=False)
    st.caption(tr(TEXT, "pvd.caption"))
    segments = query(engine.partner_vs_direct, f)
    st.dataframe(vs_direct_table(segments, currency), hide_index=True, key=K_VS_DIRECT, on_select="rerun",
                 selection_mode="single-row", height=35 * (len(segments) + 1) + 3, placeholder=fmt.DASH)
    _drill_segment(f, segments)
    _payback(f, [m for m in ORDER if m in set(rows["model"]) and m != "direct"], currency)


def _drill_cell(f: Filters, rows: pd.DataFrame) -> None:
    """A comparison-table cell of a metric that counts leads or deals: open that model's list of them."""
    labels = {model_label(m): m for m in rows["model"]}

    def make(picked: Sequence[tuple[int, str]]) -> drill.Request | None:
        i, column = picked[0]
        metric = COMPARED[i] if i < len(COMPARED) else None
        model = labels.get(column)
        if model is None or metric not in drill.CARD_STATUS:
            return None
        row = rows[rows["model"] == model].iloc[0]
        count = row.get(metric) if metric in ("leads", "won_deals") else None
        return drill.Request(tr(TEXT, "drill.model", model=column, metric=metric_label(metric)),
                             deal_drill.narrow(f, model=model, status=drill.CARD_STATUS[metric]),
                             None if count is None or pd.isna(count) else int(count))

    drill.on_selection(K_TABLE, drill.selected_cells(st.session_state.get(K_TABLE)), make)


def _drill_segment(f: Filters, segments: pd.DataFrame) -> None:
    """A row of the partners-vs-direct table: open that segment's leads (its lead count)."""
    def make(picked: Sequence[int]) -> drill.Request | None:
        if picked[0] >= len(segments):
            return None
        row = segments.iloc[picked[0]]
        segment = str(row["segment"])
        models = deal_drill.PARTNER_MODELS if segment == "partners" else segment
        name = tr(TEXT, "pvd.partners") if segment == "partners" else model_label(segment)
        return drill.Request(tr(TEXT, "drill.segment", segment=name),
                             deal_drill.narrow(f, model=models, status="leads"), int(row["leads"]))

    drill.on_selection(K_VS_DIRECT, drill.selected_rows(st.session_state.get(K_VS_DIRECT)), make)


def _payback(f: Filters, models: list[str], currency: str) -> None:
    """Cohort payback of one partnership model, chosen here, on request (every model's cohorts: one query)."""
    if not models or not payback_panel.wanted(K_PAYBACK_SHOW):
        return
    curve, months = query(engine.payback, f)
    model = payback_panel.model_choice(models, K_PAYBACK)
    payback_panel.render(curve, months, model, currency, key="models")


if __name__ == "__main__":
    render()

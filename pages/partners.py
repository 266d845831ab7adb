"""Partners: a leaderboard with honest intervals, and one partner's own page (?selected=<partner_id>)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pandas as pd
import streamlit as st

from metrics import drill as deal_drill
from metrics import engine, lookups, page_frames, verdict
from metrics.filters import Filters
from metrics.leaderboard import partner_rows
from presentation import fmt
from ui import (
    charts,
    drill,
    event_rules,
    goals_panel,
    incrementality_panel,
    layout,
    lifecycle_panel,
    payback_panel,
    tables,
)
from ui import leaderboard as board
from ui.data import kpi_frame, prefetch_kpis, query
from ui.filters import (
    bind_param,
    compare_label,
    comparison,
    current,
    language_sensitive,
    mirror_param,
    period_label,
)
from ui.i18n import lang, metric_help, metric_label, metric_labeler, model_label, t, tr

K_SORT, K_LOWER, K_SELECTED, K_TABLE, K_BACK = (
    "partners.sort_by", "partners.by_lower", "partners.selected", "partners.table", "partners.back")
K_PAYBACK, K_ALL = "partners.payback", "partners.all_columns"

# Metrics the leaderboard sorts by; lower is better for those in ASCENDING.
SORTABLE = ("revenue", "roi", "conversion", "profit", "leads", "won_deals", "avg_check", "cpa", "ltv", "costs",
            "revenue_share", "lead_to_qualified", "time_to_close_days", "incremental_roi", "preexisting_share")
ASCENDING, has_interval = board.ASCENDING, board.has_interval

TEXT = {
    "ru": {
        "caption": "Период: {now} · Партнёры с малым числом лидов не ранжируются: их показатели слишком шумные.",
        "sort_by": "Сортировать по", "by_lower": "Ранжировать по нижней границе 95 % интервала",
        "by_lower.help": "Осторожная оценка: партнёр поднимается выше, только если высокий результат подтверждён "
                         "достаточным числом лидов.",
        "no_interval": "У метрики «{m}» нет интервала — сортировка по самому значению.",
        "open": "Открыть страницу партнёра", "open.none": "— выберите партнёра —",
        "table.hint": "Щёлкните строку — откроются сделки партнёра за период, оттуда же и его страница.",
        "drill.title": "{partner}: выигранные сделки", "drill.page": "Страница партнёра →",
        "drill.period": "{partner}: сделки за {period}",
        "all_columns": "Показать все столбцы",
        "all_columns.help": "Кроме основных — конверсия, оценки с учётом размера выборки, лиды, сделки и модель. "
                            "Первые столбцы закреплены при прокрутке вправо.",
        "chart.conv": "Конверсия с 95 % интервалом", "chart.roi": "ROI по партнёрам",
        "back": "← Ко всем партнёрам", "unknown": "Партнёр с номером {pid} не найден — выберите другого.",
        "detail.caption": "Модель: {model} · период: {now} · сравнение с {before}",
        "trend": "Выручка и затраты по месяцам", "funnel": "Воронка по этапам", "quality": "Качество лидов",
        "costs": "Затраты по категориям", "deals": "Сделки партнёра", "no_costs": "Затрат за период нет.",
        "no_deals": "Сделок за период нет.", "axis": "Сумма", "month": "Период", "amount": "Сумма",
        "leads_axis": "Лиды", "col.lead": "Сделка", "col.pipeline": "Воронка", "col.stage": "Этап",
        "col.created": "Создана", "col.closed": "Закрыта", "col.amount": "Сумма", "col.commission": "Комиссия",
        "deals.caption": "Лидов за период: {leads} · выиграно сделок: {won} — они перечислены ниже.",
        "empty_partner": "У партнёра нет лидов за этот период — выберите другой период.",
        "count.all": "Партнёров за период", "count.earns": "Окупают затраты", "count.loses": "Убыточны",
        "count.unclear": "Пока неясно",
        "count.help": "По 95 % интервалу ROI, как на первом экране: окупает — нижняя граница выше нуля, убыточен — "
                      "верхняя ниже нуля, неясно — интервал включает ноль (данных пока мало).",
        "maturing": "Период ещё созревает у {n} партнёров: по их лидам сделки продолжают закрываться (закрыто "
                    "около {share} от ожидаемого), поэтому их выручка, конверсия и ROI пока ниже итоговых — "
                    "прогноз при созревании на странице «Тренды».",
    },
    "en": {
        "caption": "Period: {now} · Partners with too few leads are not ranked: their figures are too noisy.",
        "sort_by": "Sort by", "by_lower": "Rank by the lower bound of the 95 % interval",
        "by_lower.help": "A cautious ranking: a partner moves up only when a high result is backed by enough "
                         "leads.",
        "no_interval": "“{m}” has no interval — sorted by the value itself.",
        "open": "Open a partner's page", "open.none": "— choose a partner —",
        "table.hint": "Click a row to see the partner's deals of the period, and open its page from there.",
        "drill.title": "{partner}: won deals", "drill.page": "Partner's page →",
        "drill.period": "{partner}: deals of {period}",
        "all_columns": "Show all columns",
        "all_columns.help": "Besides the main ones: conversion, the estimates adjusted for sample size, leads, won "
                            "deals and the model. The first columns stay pinned when scrolling right.",
        "chart.conv": "Conversion with 95 % interval", "chart.roi": "ROI by partner",
        "back": "← All partners", "unknown": "No partner with number {pid} — choose another one.",
        "detail.caption": "Model: {model} · period: {now} · compared with {before}",
        "trend": "Revenue and costs by month", "funnel": "Stage funnel", "quality": "Lead quality",
        "costs": "Costs by category", "deals": "The partner's deals", "no_costs": "No costs in this period.",
        "no_deals": "No deals in this period.", "axis": "Amount", "month": "Period", "amount": "Amount",
        "leads_axis": "Leads", "col.lead": "Deal", "col.pipeline": "Pipeline", "col.stage": "Stage",
        "col.created": "Created", "col.closed": "Closed", "col.amount": "Amount", "col.commission": "Commission",
        "deals.caption": "Leads in the period: {leads} · won deals: {won} — listed below.",
        "empty_partner": "The partner has no leads in this period — choose another period.",
        "count.all": "Partners in the period", "count.earns": "Earn their cost", "count.loses": "Lose money",
        "count.unclear": "Not clear yet",
        "count.help": "By the 95 % ROI interval, as on the first screen: earns — its lower bound is above zero, "
                      "loses — its upper bound is below zero, not clear — the interval holds zero (too little data).",
        "maturing": "The period is still maturing for {n} partners: their leads' deals are still closing (about "
                    "{share} of the expected deals closed so far), so their revenue, conversion and ROI are still "
                    "below their final values — the projection at maturity is on the Trends page.",
    },
}


def _currency() -> str:
    return query(lookups.freshness).get("currency") or "RUB"


def sort_leaderboard(rows: pd.DataFrame, metric: str, by_lower: bool) -> pd.DataFrame:
    """Ranked partners first (engine.rank: too few leads and direct never ranked), then the unranked
    partners, direct sales (the baseline) last."""
    ranked = engine.rank(rows, metric, by_lower_bound=by_lower and has_interval(rows, metric),
                         higher_is_better=metric not in ASCENDING)
    partners = ranked[ranked["partner_id"].notna()].copy()
    partners["_few"] = partners["too_few"].fillna(False).astype(bool)
    partners["_r"] = partners["rank"].astype("float64")
    partners = partners.sort_values(["_r", "_few", metric], ascending=[True, True, metric in ASCENDING],
                                    na_position="last", kind="stable")
    direct = ranked[ranked["partner_id"].isna()]
    return pd.concat([partners.drop(columns=["_few", "_r"]), direct], ignore_index=True)


CHART_LABEL_PX = 210  # the charts' axis labels stop at 200 px of 12 px text (260 px of 17 px in meeting mode)


def chart_labels(rows: pd.DataFrame) -> list[str]:
    """Partner names for charts; a partner with too few leads says so next to its name, which is shortened so the
    note is never cut off (unless two names would then read the same: the chart's rows are its labels)."""
    def label(name: object, few: object) -> str:
        note = f" · {t('too_few')}" if bool(few) else ""
        return tables.shorten(str(name), CHART_LABEL_PX - tables.text_px(note), pad=0) + note

    full = [f"{p} · {t('too_few')}" if bool(f) else str(p)
            for p, f in zip(rows["partner"], rows["too_few"].fillna(False), strict=False)]
    short = [label(p, f) for p, f in zip(rows["partner"], rows["too_few"].fillna(False), strict=False)]
    return short if len(set(short)) == len(set(full)) else full


def _maturing_note(rows: pd.DataFrame) -> None:
    """Say so when partners' figures are still maturing (their leads' deals are still closing: the values will grow)."""
    young = rows[rows["partner_id"].notna() & rows.get("maturing", pd.Series(False, index=rows.index)).fillna(False)
                 .astype(bool)]
    if len(young):
        st.info(tr(TEXT, "maturing", n=len(young), share=fmt.pct(float(young["maturity"].median()), lang())),
                icon=":material/hourglass_top:")


def _drill_row(f: Filters, ranked: pd.DataFrame) -> None:
    """A leaderboard row selected: open that partner's (or direct sales') won deals, the row's won-deal count."""
    def make(picked: Sequence[int]) -> drill.Request | None:
        if picked[0] >= len(ranked):
            return None
        row = ranked.iloc[picked[0]]
        pid = None if pd.isna(row["partner_id"]) else int(row["partner_id"])
        name = str(row["partner"]) if pid is not None else model_label("direct")
        action = (tr(TEXT, "drill.page"), K_SELECTED, pid) if pid is not None else None
        return drill.Request(tr(TEXT, "drill.title", partner=name),
                             deal_drill.narrow(f, partner=deal_drill.DIRECT if pid is None else pid),
                             int(row["won_deals"]), action)

    drill.on_selection(K_TABLE, drill.selected_rows(st.session_state.get(K_TABLE)), make)


def _verdict_counts(rows: pd.DataFrame) -> None:
    """The answer before the table: how many partners earn their cost, lose money or cannot be told yet
    (metrics.verdict, the first screen's rule)."""
    partners = rows[rows["partner_id"].notna()]
    verdicts = verdict.verdict(partners).value_counts()
    code = lang()
    cards = (("count.all", len(partners)), ("count.earns", verdicts.get(verdict.EARNS, 0)),
             ("count.loses", verdicts.get(verdict.LOSES, 0)), ("count.unclear", verdicts.get(verdict.UNCLEAR, 0)))
    for col, (key, n) in zip(st.columns(len(cards)), cards, strict=True):
        col.metric(tr(TEXT, key), fmt.num(int(n), code), help=None if key == "count.all" else tr(TEXT, "count.help"))


def leaderboard(f: Filters) -> None:
    """The ranked list of partners with intervals, badges and two charts."""
    currency = _currency()
    st.caption(tr(TEXT, "caption", now=period_label(f)))
    # KPI rows and ROI intervals side by side (engine.together), then the pooled estimates (metrics.pooling), cached
    # as one result; the client metrics (CPA, LTV, days to close) only when sorted by one
    lite = st.session_state.get(K_SORT) not in engine.CLIENT_METRICS
    rows = query(partner_rows, f, lite=lite)
    if rows.empty or int(rows["leads"].sum()) + int(rows["won_deals"].sum()) == 0:
        layout.empty()
        return
    _verdict_counts(rows)
    c1, c2, c3 = st.columns([1, 1.45, 0.75], vertical_alignment="bottom")
    with c1:
        if st.session_state.get(K_SORT) not in SORTABLE:
            st.session_state[K_SORT] = "revenue"
        metric = st.selectbox(tr(TEXT, "sort_by"), SORTABLE, key=K_SORT, format_func=metric_labeler())
    with c2:
        by_lower = st.toggle(tr(TEXT, "by_lower"), key=K_LOWER, help=tr(TEXT, "by_lower.help"))
    with c3:
        everything = st.toggle(tr(TEXT, "all_columns"), key=K_ALL, help=tr(TEXT, "all_columns.help"))
    if by_lower and not has_interval(rows, metric):
        st.caption(tr(TEXT, "no_interval", m=metric_label(metric)))
    ranked = sort_leaderboard(rows, metric, by_lower)
    st.session_state["partners._order"] = [None if pd.isna(p) else int(p) for p in ranked["partner_id"]]
    # the sort column sits right after the name, so it is on screen whatever the sort (ui.leaderboard)
    board.show(ranked, metric, by_lower, everything, currency, key=K_TABLE, on_select="rerun",
               selection_mode="single-row", height=min(38 * (len(ranked) + 1) + 4, 640))
    _drill_row(f, ranked)
    st.caption(tr(TEXT, "table.hint"))
    incrementality_panel.board_callout(ranked)
    _maturing_note(ranked)
    st.caption(tr(board.TEXT, "pooled"))
    partners_only = ranked[ranked["partner_id"].notna()]
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(tr(TEXT, "chart.conv"), anchor=False)
        conv = partners_only.assign(partner=chart_labels(partners_only))
        charts.show(charts.conversion_intervals(conv, "partner", metric_label("conversion"), t("too_few")),
                    key="partners.chart_conversion", height=max(220, 22 * len(conv)))
    with right:
        st.subheader(tr(TEXT, "chart.roi"), anchor=False)
        roi = partners_only.assign(partner=chart_labels(partners_only))
        charts.show(charts.roi_bars(roi, "partner", metric_label("roi")), key="partners.chart_roi",
                    height=max(220, 22 * len(roi)))


def _back() -> None:
    st.session_state[K_SELECTED] = None


def partner_page(f: Filters, pid: int, names: pd.DataFrame) -> None:
    """One partner: KPIs with deltas, trend, funnel, lead quality, costs by category, its deals."""
    currency = _currency()
    info = names.loc[pid]
    st.button(tr(TEXT, "back"), key=K_BACK, on_click=_back)
    st.header(fmt.plain(info["name"]), anchor=False)
    mine = replace(f, partners=(pid,), models=())
    before = replace(comparison(), partners=(pid,), models=())
    st.caption(tr(TEXT, "detail.caption", model=model_label(info["model"]), now=period_label(mine),
                  before=period_label(before)))
    # the funnel, lead quality and deal list are computed beside the KPI cards (engine.together)
    prefetch_kpis(page_frames.partner(mine, before), alongside=page_frames.partner_extras(mine, pid))
    now_rows, before_rows = kpi_frame(mine, "none", lite=True), kpi_frame(before, "none", lite=True)
    now = now_rows.iloc[0] if len(now_rows) else None
    no_leads = now is None or int(now.get("leads") or 0) == 0 and int(now.get("won_deals") or 0) == 0
    if no_leads and (now is None or not float(now.get("costs") or 0) > 0):
        layout.empty(tr(TEXT, "empty_partner"))
        return
    if no_leads:  # costs and no lead: the cost stays in view, with ROI −100 % and the mark saying why
        layout.no_leads_badge()
    elif bool(now.get("too_few")):
        layout.too_few_badge()
    prev = before_rows.iloc[0] if len(before_rows) else None
    layout.kpi_cards(layout.kpi_row(now, prev, currency), key="partners.kpi", compare_note=compare_label(),
                     drill_from=mine)
    # "how much of what we pay for would we have had anyway": in view right under the cards
    if now is not None:
        incrementality_panel.partner_section(mine, pid, str(info["name"]), currency, now)
    goals_panel.render("partner", partner_id=pid)

    st.subheader(tr(TEXT, "trend"), anchor=False)
    unit = page_frames.trend_unit(mine)
    monthly = kpi_frame(mine, unit, lite=True)
    labels = {"revenue": metric_label("revenue"), "costs": metric_label("costs"), "axis": tr(TEXT, "axis"),
              "month": tr(TEXT, "month"), "amount": tr(TEXT, "amount"), "unit": unit}
    chart = event_rules.overlay_bars(charts.revenue_vs_costs(monthly, labels, currency), monthly, unit, labels, currency,
                                     scope=event_rules.partner_scope(pid, info["model"]))
    charts.show(chart, key="partners.chart_trend", height=280, select=True)
    drill.on_period("partners.chart_trend", mine, unit, monthly,
                    lambda d: tr(TEXT, "drill.period", partner=info["name"],
                                 period=(fmt.day if unit == "week" else fmt.month)(d, lang())))
    charts.young_caption(monthly)

    left, right = st.columns(2, gap="large")
    with left:
        _funnel(mine)
    with right:
        _quality(mine)
        _costs(mine, currency)
    if payback_panel.wanted(K_PAYBACK):  # on request: the cohorts' query is as long as the cards'
        curve, months = query(engine.payback, mine, partner_id=pid)
        payback_panel.render(curve, months, str(info["model"]), currency, key="partners")
    incrementality_panel.deal_list(mine, pid, currency)
    _deals(mine, pid, currency, now)


def _funnel(f: Filters) -> None:
    """Stage funnel of the partner's leads, one chart per pipeline."""
    st.subheader(tr(TEXT, "funnel"), anchor=False)
    rows = query(engine.funnel, f)
    rows = rows[rows["leads"] > 0]
    if rows.empty:
        layout.empty()
        return
    for i, (pipeline, part) in enumerate(rows.groupby("pipeline", sort=False)):
        if rows["pipeline"].nunique() > 1:
            st.caption(fmt.plain(pipeline))
        part = part.sort_values("sort").assign(stage=part["stage"].astype(str))
        charts.show(charts.funnel(part, "stage", "reached", tr(TEXT, "leads_axis")),
                    key=f"partners.chart_funnel.{i}", height=max(140, 30 * len(part)))


def _quality(f: Filters) -> None:
    """Lead quality of the partner: mean score, junk share, lead → qualified."""
    st.subheader(tr(TEXT, "quality"), anchor=False)
    rows = query(engine.quality, f, by="none")
    if rows.empty or int(rows.iloc[0]["leads"]) == 0:
        layout.empty()
        return
    row = rows.iloc[0]
    code = lang()
    cols = st.columns(3)
    cols[0].metric(metric_label("quality_score"), fmt.num(row.get("quality_score"), code, 1),
                   help=metric_help("quality_score"))
    cols[1].metric(metric_label("junk_share"), fmt.pct(row.get("junk_share"), code), help=metric_help("junk_share"))
    cols[2].metric(metric_label("lead_to_qualified"), fmt.pct(row.get("lead_to_qualified"), code),
                   help=metric_help("lead_to_qualified"))


def _costs(f: Filters, currency: str) -> None:
    """The partner's costs split by category (ledger plus commissions computed by rules)."""
    st.subheader(tr(TEXT, "costs"), anchor=False)
    split = engine.costs_long(kpi_frame(f, "none", lite=True))  # the partner page's prefetched KPI row
    split = split[split["amount"].fillna(0) > 0]
    if split.empty:
        st.caption(tr(TEXT, "no_costs"))
        return
    split = split.assign(category=[t(f"category.{c}") for c in split["category"]])
    charts.show(charts.cost_categories(split, "category", "amount", metric_label("costs"), currency),
                key="partners.chart_costs", height=max(160, 34 * len(split)))


def deal_cols() -> list[tables.Col]:
    """The deal list's columns: names as text, dates, money right-aligned with ₽."""
    return [tables.Col(tr(TEXT, "col.lead"), "name"), tables.Col(tr(TEXT, "col.pipeline")),
            tables.Col(tr(TEXT, "col.stage")), tables.Col(tr(TEXT, "col.created")), tables.Col(tr(TEXT, "col.closed")),
            tables.Col(tr(TEXT, "col.amount"), "money"), tables.Col(tr(TEXT, "col.commission"), "money")]


def deals_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The partner's won deals for display: CRM names stay literal text, amounts stay numbers (ui.tables formats
    them); a won deal has no loss reason, so there is no column for one."""
    code = lang()
    day = lambda d: fmt.day(pd.Timestamp(d).date(), code) if pd.notna(d) else fmt.DASH  # noqa: E731
    return pd.DataFrame({
        tr(TEXT, "col.lead"): tables.names(rows["lead_name"]),
        tr(TEXT, "col.pipeline"): rows["pipeline"].astype(str),
        tr(TEXT, "col.stage"): rows["stage"].astype(str),
        tr(TEXT, "col.created"): [day(d) for d in rows["created_date"]],
        tr(TEXT, "col.closed"): [day(d) for d in rows["closed_date"]],
        tr(TEXT, "col.amount"): rows["amount"].fillna(0.0).astype(float),
        # no commission on a deal reads as a dash, not "0 ₽"
        tr(TEXT, "col.commission"): rows["commission"].astype(float).where(rows["commission"].fillna(0.0) != 0),
    }, index=rows.index)


def _deals(f: Filters, pid: int, currency: str, now: pd.Series | None) -> None:
    """The partner's won deals; the caption counts from the KPI row the cards show, so they always agree."""
    st.subheader(tr(TEXT, "deals"), anchor=False)
    rows = query(engine.deals, f, pid)  # the won deals in scope (what the "deals" card counts)
    if rows.empty:
        st.caption(tr(TEXT, "no_deals"))
        return
    code = lang()
    leads, won = (0, len(rows)) if now is None else (now.get("leads") or 0, now.get("won_deals") or 0)
    st.caption(tr(TEXT, "deals.caption", leads=fmt.num(leads, code), won=fmt.num(won, code)))
    tables.show(deals_table(rows), deal_cols(), code=code, currency=_currency(), key="partners.deals", height=420)


language_sensitive(K_SORT)


def render() -> None:
    """The partners page: the leaderboard, or one partner's page when one is selected."""
    f = current()
    st.title(t("page.partners"), anchor=False)
    names = query(lookups.partners).set_index("partner_id")
    bind_param(K_SELECTED, "selected", int)
    options = [int(p) for p in names.index]
    selected = st.session_state.get(K_SELECTED)
    if selected is not None and selected not in names.index:
        st.warning(tr(TEXT, "unknown", pid=selected))
        st.session_state[K_SELECTED] = selected = None
    pid = st.selectbox(tr(TEXT, "open"), options, key=K_SELECTED, placeholder=tr(TEXT, "open.none"),
                       format_func=lambda p: str(names["name"].get(p, p)))
    mirror_param("selected", pid)
    if pid is None:
        leaderboard(f)
        lifecycle_panel.render()
    else:
        partner_page(f, int(pid), names)


if __name__ == "__main__":
    render()

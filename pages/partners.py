"""Partners: a leaderboard with honest intervals, and one partner's own page (?selected=<partner_id>)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from metrics import engine, lookups, page_frames, pooling
from metrics.filters import Filters
from ui import charts, fmt, goals_panel, layout, payback_panel
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
from ui.i18n import band_label, lang, metric_help, metric_label, metric_labeler, model_label, t, tr

K_SORT, K_LOWER, K_SELECTED, K_TABLE, K_BACK = (
    "partners.sort_by", "partners.by_lower", "partners.selected", "partners.table", "partners.back")
K_PAYBACK = "partners.payback"

# Metrics the leaderboard sorts by; lower is better for those in ASCENDING.
SORTABLE = ("revenue", "roi", "conversion", "profit", "leads", "won_deals", "avg_check", "cpa", "ltv", "costs",
            "revenue_share", "lead_to_qualified", "time_to_close_days")
ASCENDING = {"cpa", "time_to_close_days"}

TEXT = {
    "ru": {
        "caption": "Период: {now} · Партнёры с малым числом лидов не ранжируются: их показатели слишком шумные.",
        "sort_by": "Сортировать по", "by_lower": "Ранжировать по нижней границе 95 % интервала",
        "by_lower.help": "Осторожная оценка: партнёр поднимается выше, только если высокий результат подтверждён "
                         "достаточным числом лидов.",
        "no_interval": "У метрики «{m}» нет интервала — сортировка по самому значению.",
        "open": "Открыть страницу партнёра", "open.none": "— выберите партнёра —",
        "table.hint": "Щёлкните строку, чтобы открыть страницу партнёра.",
        "col.rank": "Место", "col.partner": "Партнёр", "col.model": "Модель", "col.interval": "Конверсия, 95 %",
        "col.flag": "Выборка", "baseline": "база сравнения", "col.roi_interval": "ROI, 95 %",
        "col.conv_pooled_interval": "Конверсия с учётом выборки, 95 %",
        "col.roi_pooled_interval": "ROI с учётом выборки, 95 %",
        "pooled": "«С учётом размера выборки» — показатель партнёра, подтянутый к средней по его модели тем сильнее, "
                  "чем меньше у него лидов; рядом — его собственное значение. Ранжирование по нижней границе "
                  "идёт по этой оценке.",
        "highlight.best": "лучший", "highlight.worst": "худший",
        "chart.conv": "Конверсия с 95 % интервалом", "chart.roi": "ROI по партнёрам",
        "back": "← Ко всем партнёрам", "unknown": "Партнёр с номером {pid} не найден — выберите другого.",
        "detail.caption": "Модель: {model} · период: {now} · сравнение с {before}",
        "trend": "Выручка и затраты по месяцам", "funnel": "Воронка по этапам", "quality": "Качество лидов",
        "costs": "Затраты по категориям", "deals": "Сделки партнёра", "no_costs": "Затрат за период нет.",
        "no_deals": "Сделок за период нет.", "axis": "Сумма", "month": "Период", "amount": "Сумма",
        "leads_axis": "Лиды", "col.lead": "Сделка", "col.pipeline": "Воронка", "col.stage": "Этап",
        "col.created": "Создана", "col.closed": "Закрыта", "col.amount": "Сумма", "col.commission": "Комиссия",
        "col.loss": "Причина отказа", "deals.caption": "Лидов за период: {leads}, из них выиграно: {won}.",
        "empty_partner": "У партнёра нет лидов за этот период — выберите другой период.",
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
        "table.hint": "Click a row to open the partner's page.",
        "col.rank": "Rank", "col.partner": "Partner", "col.model": "Model", "col.interval": "Conversion, 95 %",
        "col.flag": "Sample", "baseline": "baseline", "col.roi_interval": "ROI, 95 %",
        "col.conv_pooled_interval": "Conversion adjusted for sample size, 95 %",
        "col.roi_pooled_interval": "ROI adjusted for sample size, 95 %",
        "pooled": "“Adjusted for sample size”: the partner's figure pulled toward its model's average, the more so "
                  "the fewer leads it has; its own value is beside it. Ranking by the lower bound uses this estimate.",
        "highlight.best": "best", "highlight.worst": "worst",
        "chart.conv": "Conversion with 95 % interval", "chart.roi": "ROI by partner",
        "back": "← All partners", "unknown": "No partner with number {pid} — choose another one.",
        "detail.caption": "Model: {model} · period: {now} · compared with {before}",
        "trend": "Revenue and costs by month", "funnel": "Stage funnel", "quality": "Lead quality",
        "costs": "Costs by category", "deals": "The partner's deals", "no_costs": "No costs in this period.",
        "no_deals": "No deals in this period.", "axis": "Amount", "month": "Period", "amount": "Amount",
        "leads_axis": "Leads", "col.lead": "Deal", "col.pipeline": "Pipeline", "col.stage": "Stage",
        "col.created": "Created", "col.closed": "Closed", "col.amount": "Amount", "col.commission": "Commission",
        "col.loss": "Loss reason", "deals.caption": "Leads in the period: {leads}, won: {won}.",
        "empty_partner": "The partner has no leads in this period — choose another period.",
        "maturing": "The period is still maturing for {n} partners: their leads' deals are still closing (about "
                    "{share} of the expected deals closed so far), so their revenue, conversion and ROI are still "
                    "below their final values — the projection at maturity is on the Trends page.",
    },
}


def _currency() -> str:
    return query(lookups.freshness).get("currency") or "RUB"


def has_interval(rows: pd.DataFrame, metric: str) -> bool:
    """True when the metric's cautious bound is available in rows (conversion, ROI)."""
    bound = "_high" if metric in ASCENDING else "_low"
    return f"{metric}{bound}" in rows.columns


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


BASE_COLUMNS = ("leads", "won_deals", "conversion", "revenue", "costs", "roi")  # the sort metric is added if new


def _rate_columns(rows: pd.DataFrame, code: str) -> dict[str, object]:
    """Conversion and its interval; in the close view the win rate of the leads closed in the period instead, so
    the rate beside the won deals recomputes from them (won ÷ (won + lost) closed in the period)."""
    name = layout.conversion_metric(rows.iloc[0]) if len(rows) else "conversion"
    return {metric_label(name): rows[name],
            tr(TEXT, "col.interval"): [f"{fmt.pct(lo, code)} – {fmt.pct(hi, code)}" for lo, hi
                                       in zip(rows[f"{name}_low"], rows[f"{name}_high"], strict=False)]}


def _table(rows: pd.DataFrame, currency: str, metric: str) -> pd.io.formats.style.Styler:
    """Leaderboard rows as a styled frame: numbers stay numbers (sortable), the text is locale-formatted."""
    code = lang()
    extra = {} if metric in BASE_COLUMNS else {metric_label(metric): rows[metric]}
    out = pd.DataFrame({
        tr(TEXT, "col.rank"): rows["rank"],
        tr(TEXT, "col.partner"): [str(p) if pd.notna(pid) else model_label("direct")
                                  for p, pid in zip(rows["partner"], rows["partner_id"], strict=False)],
        tr(TEXT, "col.flag"): [_flag(pid, few_flag, mark, n) for pid, few_flag, mark, n
                               in zip(rows["partner_id"], rows["too_few"], rows["highlight"], rows["leads"],
                                      strict=False)],
        **extra,
        **_rate_columns(rows, code),
        metric_label("conversion_pooled"): rows["conversion_pooled"],
        tr(TEXT, "col.conv_pooled_interval"): _intervals(rows, "conversion_pooled", code),
        metric_label("roi"): rows["roi"],
        tr(TEXT, "col.roi_interval"): [f"{fmt.pct(lo, code)} – {fmt.pct(hi, code)}" if pd.notna(lo) else fmt.DASH
                                       for lo, hi in zip(rows["roi_low"], rows["roi_high"], strict=False)],
        metric_label("roi_pooled"): rows["roi_pooled"],
        tr(TEXT, "col.roi_pooled_interval"): _intervals(rows, "roi_pooled", code),
        metric_label("roi_band"): [band_label(b) for b in rows["roi_band"].fillna("n/a")],
        metric_label("revenue"): rows["revenue"],
        metric_label("costs"): rows["costs"],
        metric_label("leads"): rows["leads"],
        metric_label("won_deals"): rows["won_deals"],
        tr(TEXT, "col.model"): [model_label(m) for m in rows["model"]],
    })
    money = lambda v: fmt.money(None if pd.isna(v) else v, code, currency)  # noqa: E731
    pct = lambda v: fmt.pct(None if pd.isna(v) else v, code)  # noqa: E731
    count = lambda v: fmt.num(None if pd.isna(v) else v, code)  # noqa: E731
    formats = {metric_label(m): money for m in ("revenue", "costs")}
    formats.update({metric_label(m): pct for m in ("conversion", "win_rate_closed", "roi", "conversion_pooled",
                                                   "roi_pooled")})
    formats.update({metric_label(m): count for m in ("leads", "won_deals")})
    if extra:
        formats[metric_label(metric)] = lambda v: layout.value_text(metric, v, currency)
    formats[tr(TEXT, "col.rank")] = lambda v: "" if pd.isna(v) else fmt.num(v, code)
    band_colors = {band_label(b): c for b, c in charts.BAND_COLORS.items()}
    flag_colors = {tr(TEXT, "highlight.best"): "#1a7f37", tr(TEXT, "highlight.worst"): "#cf222e"}
    return (out.style.format(formats)
            .map(lambda v: f"color: {band_colors.get(v, '#1b1f24')}; font-weight: 600",
                 subset=[metric_label("roi_band")])
            .map(lambda v: f"color: {flag_colors.get(v, '#57606a')}; font-weight: 600", subset=[tr(TEXT, "col.flag")]))


def _intervals(rows: pd.DataFrame, col: str, code: str) -> list[str]:
    """"low – high" texts of an estimate's interval columns (<col>_low, <col>_high); a dash where there is none."""
    return [f"{fmt.pct(lo, code)} – {fmt.pct(hi, code)}" if pd.notna(lo) and pd.notna(hi) else fmt.DASH
            for lo, hi in zip(rows[f"{col}_low"], rows[f"{col}_high"], strict=False)]


def chart_labels(rows: pd.DataFrame) -> list[str]:
    """Partner names for charts; a partner with too few leads says so next to its name."""
    return [f"{p} · {t('too_few')}" if bool(f) else str(p)
            for p, f in zip(rows["partner"], rows["too_few"].fillna(False), strict=False)]


def _column_widths(metric: str) -> dict[str, st.column_config.Column]:
    """Narrow numeric columns so the band and sample notes stay on screen."""
    small = [tr(TEXT, "col.rank"), metric_label("leads"), metric_label("won_deals"), metric_label("conversion"),
             metric_label("roi")]
    medium = [tr(TEXT, "col.model"), tr(TEXT, "col.interval"), metric_label("revenue"), metric_label("costs"),
              tr(TEXT, "col.roi_interval"), metric_label("roi_band"), tr(TEXT, "col.flag"), metric_label(metric),
              metric_label("conversion_pooled"), metric_label("roi_pooled"), tr(TEXT, "col.conv_pooled_interval"),
              tr(TEXT, "col.roi_pooled_interval")]
    widths = {name: st.column_config.Column(width=70) for name in small}
    widths.update({name: st.column_config.Column(width=115) for name in medium})
    widths[tr(TEXT, "col.partner")] = st.column_config.Column(width=190)
    widths[metric_label("roi_band")] = st.column_config.Column(width=170)
    return widths


def _flag(pid: object, too_few: object, highlight: object, leads: object = None) -> str:
    """The sample / highlight note of one leaderboard row."""
    if pd.isna(pid):
        return tr(TEXT, "baseline")
    if leads is not None and not pd.isna(leads) and int(leads) == 0:
        return t("no_leads")  # costs with no lead at all: ROI −100 %, said in words
    if bool(too_few):
        return t("too_few")
    return tr(TEXT, f"highlight.{highlight}") if highlight in ("best", "worst") else ""


def _maturing_note(rows: pd.DataFrame) -> None:
    """Say so when partners' figures are still maturing (their leads' deals are still closing: the values will grow)."""
    young = rows[rows["partner_id"].notna() & rows.get("maturing", pd.Series(False, index=rows.index)).fillna(False)
                 .astype(bool)]
    if len(young):
        st.info(tr(TEXT, "maturing", n=len(young), share=fmt.pct(float(young["maturity"].median()), lang())),
                icon=":material/hourglass_top:")


def _open_from_table() -> None:
    """Row click in the leaderboard: open that partner's page."""
    state = st.session_state.get(K_TABLE)
    rows = (state or {}).get("selection", {}).get("rows", []) if isinstance(state, dict) else \
        getattr(getattr(state, "selection", None), "rows", [])
    order = st.session_state.get("partners._order", [])
    if rows and rows[0] < len(order) and order[rows[0]] is not None:
        st.session_state[K_SELECTED] = int(order[rows[0]])


def leaderboard(f: Filters) -> None:
    """The ranked list of partners with intervals, badges and two charts."""
    currency = _currency()
    st.caption(tr(TEXT, "caption", now=period_label(f)))
    # KPI rows and ROI intervals side by side (engine.together), then the pooled estimates (metrics.pooling), cached
    # as one result; the client metrics (CPA, LTV, days to close) only when sorted by one
    lite = st.session_state.get(K_SORT) not in engine.CLIENT_METRICS
    rows = query(pooling.leaderboard, f, lite=lite)
    if rows.empty or int(rows["leads"].sum()) + int(rows["won_deals"].sum()) == 0:
        layout.empty()
        return
    c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
    with c1:
        if st.session_state.get(K_SORT) not in SORTABLE:
            st.session_state[K_SORT] = "revenue"
        metric = st.selectbox(tr(TEXT, "sort_by"), SORTABLE, key=K_SORT, format_func=metric_labeler())
    with c2:
        by_lower = st.toggle(tr(TEXT, "by_lower"), key=K_LOWER, help=tr(TEXT, "by_lower.help"))
    if by_lower and not has_interval(rows, metric):
        st.caption(tr(TEXT, "no_interval", m=metric_label(metric)))
    ranked = sort_leaderboard(rows, metric, by_lower)
    st.session_state["partners._order"] = [None if pd.isna(p) else int(p) for p in ranked["partner_id"]]
    st.dataframe(_table(ranked, currency, metric), hide_index=True, key=K_TABLE, on_select=_open_from_table,
                 column_config=_column_widths(metric),
                 selection_mode="single-row", height=min(38 * (len(ranked) + 1) + 4, 640), placeholder=fmt.DASH)
    st.caption(tr(TEXT, "table.hint"))
    _maturing_note(ranked)
    st.caption(tr(TEXT, "pooled"))
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
    layout.kpi_cards(layout.kpi_row(now, prev, currency), key="partners.kpi", compare_note=compare_label())
    goals_panel.render("partner", partner_id=pid)

    st.subheader(tr(TEXT, "trend"), anchor=False)
    unit = page_frames.trend_unit(mine)
    monthly = kpi_frame(mine, unit, lite=True)
    labels = {"revenue": metric_label("revenue"), "costs": metric_label("costs"), "axis": tr(TEXT, "axis"),
              "month": tr(TEXT, "month"), "amount": tr(TEXT, "amount"), "unit": unit}
    charts.show(charts.revenue_vs_costs(monthly, labels, currency), key="partners.chart_trend", height=280)

    left, right = st.columns(2, gap="large")
    with left:
        _funnel(mine)
    with right:
        _quality(mine)
        _costs(mine, currency)
    if payback_panel.wanted(K_PAYBACK):  # on request: the cohorts' query is as long as the cards'
        curve, months = query(engine.payback, mine, partner_id=pid)
        payback_panel.render(curve, months, str(info["model"]), currency, key="partners")
    _deals(mine, pid, currency)


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


def deals_table(rows: pd.DataFrame, currency: str) -> pd.DataFrame:
    """The partner's leads and deals for display (CRM names stay literal text in the table)."""
    code = lang()
    return pd.DataFrame({
        tr(TEXT, "col.lead"): rows["lead_name"].astype(str),
        tr(TEXT, "col.pipeline"): rows["pipeline"].astype(str),
        tr(TEXT, "col.stage"): rows["stage"].astype(str),
        tr(TEXT, "col.created"): [fmt.day(pd.Timestamp(d).date(), code) if pd.notna(d) else fmt.DASH
                                  for d in rows["created_date"]],
        tr(TEXT, "col.closed"): [fmt.day(pd.Timestamp(d).date(), code) if pd.notna(d) else fmt.DASH
                                 for d in rows["closed_date"]],
        tr(TEXT, "col.amount"): [fmt.money(v, code, currency) for v in rows["amount"].fillna(0.0)],
        tr(TEXT, "col.commission"): [fmt.money(v, code, currency) if v else fmt.DASH
                                     for v in rows["commission"].fillna(0.0)],
        tr(TEXT, "col.loss"): rows["loss_reason"].fillna("").astype(str),
    })


def _deals(f: Filters, pid: int, currency: str) -> None:
    st.subheader(tr(TEXT, "deals"), anchor=False)
    rows = query(engine.deals, f, pid)
    if rows.empty:
        st.caption(tr(TEXT, "no_deals"))
        return
    won = rows[rows["is_won"].fillna(False).astype(bool)]
    st.caption(tr(TEXT, "deals.caption", leads=fmt.num(len(rows), lang()), won=fmt.num(len(won), lang())))
    st.dataframe(deals_table(rows, currency), hide_index=True, key="partners.deals", height=420, placeholder=fmt.DASH)


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
    else:
        partner_page(f, int(pid), names)


if __name__ == "__main__":
    layout.require_router()
    render()

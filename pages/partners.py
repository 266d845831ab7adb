"""Partners: a leaderboard with honest intervals, and one partner's own page (?selected=<partner_id>)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from metrics import engine, lookups
from metrics.filters import Filters
from ui import charts, fmt, layout
from ui.data import query
from ui.filters import (
    bind_param,
    compare_label,
    comparison,
    current,
    language_sensitive,
    mirror_param,
    period_label,
)
from ui.i18n import band_label, lang, metric_label, metric_labeler, model_label, t, tr

K_SORT, K_LOWER, K_SELECTED, K_TABLE, K_BACK = (
    "partners.sort_by", "partners.by_lower", "partners.selected", "partners.table", "partners.back")

# Metrics the leaderboard sorts by; lower is better for those in ASCENDING.
SORTABLE = ("revenue", "roi", "conversion", "profit", "leads", "won_deals", "avg_check", "cpa", "ltv", "costs",
            "revenue_share", "lead_to_qualified", "time_to_close_days")
ASCENDING = {"cpa", "time_to_close_days"}
INTERVALS = {"conversion": "conversion_low", "roi": "roi_low"}  # metric -> lower-bound column, when present

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
        "col.flag": "Выборка", "baseline": "база сравнения",
        "chart.conv": "Конверсия с 95 % интервалом", "chart.roi": "ROI по партнёрам",
        "back": "← Ко всем партнёрам", "unknown": "Партнёр с номером {pid} не найден — выберите другого.",
        "detail.caption": "Модель: {model} · период: {now} · сравнение с {before}",
        "trend": "Выручка и затраты по месяцам", "funnel": "Воронка по этапам", "quality": "Качество лидов",
        "costs": "Затраты по категориям", "deals": "Сделки партнёра", "no_costs": "Затрат за период нет.",
        "no_deals": "Сделок за период нет.", "axis": "Сумма", "month": "Период", "amount": "Сумма",
        "leads_axis": "Лиды", "empty_partner": "У партнёра нет лидов за этот период — выберите другой период.",
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
        "col.flag": "Sample", "baseline": "baseline",
        "chart.conv": "Conversion with 95 % interval", "chart.roi": "ROI by partner",
        "back": "← All partners", "unknown": "No partner with number {pid} — choose another one.",
        "detail.caption": "Model: {model} · period: {now} · compared with {before}",
        "trend": "Revenue and costs by month", "funnel": "Stage funnel", "quality": "Lead quality",
        "costs": "Costs by category", "deals": "The partner's deals", "no_costs": "No costs in this period.",
        "no_deals": "No deals in this period.", "axis": "Amount", "month": "Period", "amount": "Amount",
        "leads_axis": "Leads", "empty_partner": "The partner has no leads in this period — choose another period.",
    },
}


def _currency() -> str:
    return query(lookups.freshness).get("currency") or "RUB"


def sort_leaderboard(rows: pd.DataFrame, metric: str, by_lower: bool) -> pd.DataFrame:
    """Ranked partners first (best first), then those with too few leads; direct (baseline) last."""
    col = INTERVALS.get(metric) if by_lower and INTERVALS.get(metric) in rows.columns else metric
    partners = rows[rows["partner_id"].notna()].copy()
    partners["_few"] = partners["too_few"].fillna(False).astype(bool)
    partners = partners.sort_values(["_few", col], ascending=[True, metric in ASCENDING], na_position="last",
                                    kind="stable")
    ranked = ~partners["_few"] & partners[col].notna()
    partners["rank"] = pd.Series(range(1, int(ranked.sum()) + 1), index=partners.index[ranked])
    direct = rows[rows["partner_id"].isna()].copy()
    return pd.concat([partners.drop(columns="_few"), direct], ignore_index=True)


BASE_COLUMNS = ("leads", "won_deals", "conversion", "revenue", "costs", "roi")


def _table(rows: pd.DataFrame, currency: str, metric: str) -> pd.io.formats.style.Styler:
    """Leaderboard rows as a styled frame: numbers stay numbers (sortable), the text is locale-formatted."""
    code = lang()
    few = t("too_few")
    extra = {} if metric in BASE_COLUMNS else {metric_label(metric): rows[metric]}
    out = pd.DataFrame({
        tr(TEXT, "col.rank"): rows["rank"],
        tr(TEXT, "col.partner"): [str(p) if pd.notna(pid) else model_label("direct")
                                  for p, pid in zip(rows["partner"], rows["partner_id"], strict=False)],
        tr(TEXT, "col.model"): [model_label(m) for m in rows["model"]],
        metric_label("leads"): rows["leads"],
        metric_label("won_deals"): rows["won_deals"],
        metric_label("conversion"): rows["conversion"],
        tr(TEXT, "col.interval"): [f"{fmt.pct(lo, code)} – {fmt.pct(hi, code)}"
                                   for lo, hi in zip(rows["conversion_low"], rows["conversion_high"], strict=False)],
        metric_label("revenue"): rows["revenue"],
        metric_label("costs"): rows["costs"],
        metric_label("roi"): rows["roi"],
        metric_label("roi_band"): [band_label(b) for b in rows["roi_band"].fillna("n/a")],
        **extra,
        tr(TEXT, "col.flag"): [tr(TEXT, "baseline") if pd.isna(pid) else (few if bool(f) else "")
                               for pid, f in zip(rows["partner_id"], rows["too_few"], strict=False)],
    })
    money = lambda v: fmt.money(None if pd.isna(v) else v, code, currency)  # noqa: E731
    pct = lambda v: fmt.pct(None if pd.isna(v) else v, code)  # noqa: E731
    count = lambda v: fmt.num(None if pd.isna(v) else v, code)  # noqa: E731
    formats = {metric_label(m): money for m in ("revenue", "costs")}
    formats.update({metric_label(m): pct for m in ("conversion", "roi")})
    formats.update({metric_label(m): count for m in ("leads", "won_deals")})
    if extra:
        formats[metric_label(metric)] = lambda v: layout.value_text(metric, v, currency)
    formats[tr(TEXT, "col.rank")] = lambda v: "" if pd.isna(v) else fmt.num(v, code)
    band_colors = {band_label(b): c for b, c in charts.BAND_COLORS.items()}
    return (out.style.format(formats)
            .map(lambda v: f"color: {band_colors.get(v, '#1b1f24')}; font-weight: 600",
                 subset=[metric_label("roi_band")]))


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
    rows = query(engine.kpis, f, by="partner")
    if rows.empty or int(rows["leads"].sum()) == 0:
        layout.empty()
        return
    c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
    with c1:
        if st.session_state.get(K_SORT) not in SORTABLE:
            st.session_state[K_SORT] = "revenue"
        metric = st.selectbox(tr(TEXT, "sort_by"), SORTABLE, key=K_SORT, format_func=metric_labeler())
    with c2:
        by_lower = st.toggle(tr(TEXT, "by_lower"), key=K_LOWER, help=tr(TEXT, "by_lower.help"))
    if by_lower and INTERVALS.get(metric) not in rows.columns:
        st.caption(tr(TEXT, "no_interval", m=metric_label(metric)))
    ranked = sort_leaderboard(rows, metric, by_lower)
    st.session_state["partners._order"] = [None if pd.isna(p) else int(p) for p in ranked["partner_id"]]
    st.dataframe(_table(ranked, currency, metric), hide_index=True, key=K_TABLE, on_select=_open_from_table,
                 selection_mode="single-row", height=min(38 * (len(ranked) + 1) + 4, 640))
    st.caption(tr(TEXT, "table.hint"))
    partners_only = ranked[ranked["partner_id"].notna()]
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(tr(TEXT, "chart.conv"), anchor=False)
        conv = partners_only.assign(partner=partners_only["partner"].astype(str))
        charts.show(charts.conversion_intervals(conv, "partner", metric_label("conversion"), t("too_few")),
                    key="partners.chart_conversion", height=max(220, 22 * len(conv)))
    with right:
        st.subheader(tr(TEXT, "chart.roi"), anchor=False)
        roi = partners_only.assign(partner=partners_only["partner"].astype(str))
        charts.show(charts.roi_bars(roi, "partner", metric_label("roi")), key="partners.chart_roi",
                    height=max(220, 22 * len(roi)))


def _back() -> None:
    st.session_state[K_SELECTED] = None


def _optional(name: str):
    """An engine function that may not exist yet in this version of metrics (None when absent)."""
    return getattr(engine, name, None)


def partner_page(f: Filters, pid: int, names: pd.DataFrame) -> None:
    """One partner: KPIs with deltas, trend, funnel, lead quality, costs by category, its deals."""
    currency = _currency()
    info = names.loc[pid]
    st.button(tr(TEXT, "back"), key=K_BACK, on_click=_back)
    st.header(fmt.md_escape(info["name"]), anchor=False)
    mine = replace(f, partners=(pid,), models=())
    before = replace(comparison(), partners=(pid,), models=())
    st.caption(tr(TEXT, "detail.caption", model=model_label(info["model"]), now=period_label(mine),
                  before=period_label(before)))
    now_rows, before_rows = query(engine.kpis, mine), query(engine.kpis, before)
    now = now_rows.iloc[0] if len(now_rows) else None
    if now is None or int(now.get("leads") or 0) == 0 and int(now.get("won_deals") or 0) == 0:
        layout.empty(tr(TEXT, "empty_partner"))
        return
    if bool(now.get("too_few")):
        layout.too_few_badge()
    prev = before_rows.iloc[0] if len(before_rows) else None
    layout.kpi_cards(layout.kpi_row(now, prev, currency), key="partners.kpi", compare_note=compare_label())

    st.subheader(tr(TEXT, "trend"), anchor=False)
    monthly = query(engine.kpis, mine, by="week" if mine.days <= 62 else "month")
    labels = {"revenue": metric_label("revenue"), "costs": metric_label("costs"), "axis": tr(TEXT, "axis"),
              "month": tr(TEXT, "month"), "amount": tr(TEXT, "amount"), "unit": "week" if mine.days <= 62 else "month"}
    charts.show(charts.revenue_vs_costs(monthly, labels, currency), key="partners.chart_trend", height=280)

    left, right = st.columns(2, gap="large")
    with left:
        _funnel(mine)
        _quality(mine)
    with right:
        _costs(now, currency)
    _deals(mine, currency)


def _funnel(f: Filters) -> None:
    fn = _optional("funnel")
    if fn is None:
        return
    st.subheader(tr(TEXT, "funnel"), anchor=False)
    rows = query(fn, f)
    if rows.empty:
        layout.empty()
        return
    stage = "stage" if "stage" in rows.columns else rows.columns[0]
    count = "leads" if "leads" in rows.columns else rows.select_dtypes("number").columns[-1]
    charts.show(charts.funnel(rows.assign(**{stage: rows[stage].astype(str)}), stage, count, tr(TEXT, "leads_axis")),
                key="partners.chart_funnel", height=max(160, 34 * len(rows)))


def _quality(f: Filters) -> None:
    fn = _optional("quality")
    if fn is None:
        return
    st.subheader(tr(TEXT, "quality"), anchor=False)
    rows = query(fn, f)
    if rows.empty:
        layout.empty()
        return
    row = rows.iloc[0]
    code = lang()
    cols = st.columns(3)
    cols[0].metric(metric_label("quality_score"), fmt.num(row.get("quality_score"), code, 1))
    cols[1].metric(metric_label("junk_share"), fmt.pct(row.get("junk_share"), code))
    cols[2].metric(metric_label("lead_to_qualified"), fmt.pct(row.get("lead_to_qualified"), code))


def cost_split(row: pd.Series) -> pd.DataFrame:
    """Costs of one KPI row split by category (ledger categories plus commission computed by rules)."""
    items = [(t(f"category.{c[5:]}"), row.get(c)) for c in row.index if str(c).startswith("cost_")]
    items.append((t("category.computed_commission"), row.get("costs_commission")))
    out = pd.DataFrame(items, columns=["category", "amount"])
    out["amount"] = pd.to_numeric(out["amount"], errors="coerce").fillna(0.0)
    return out[out["amount"] > 0]


def _costs(row: pd.Series, currency: str) -> None:
    st.subheader(tr(TEXT, "costs"), anchor=False)
    split = cost_split(row)
    if split.empty:
        st.caption(tr(TEXT, "no_costs"))
        return
    charts.show(charts.cost_categories(split, "category", "amount", metric_label("costs"), currency),
                key="partners.chart_costs", height=max(160, 34 * len(split)))


def _deals(f: Filters, currency: str) -> None:
    fn = _optional("deals")
    if fn is None:
        return
    st.subheader(tr(TEXT, "deals"), anchor=False)
    rows = query(fn, f)
    if rows.empty:
        st.caption(tr(TEXT, "no_deals"))
        return
    st.dataframe(rows, hide_index=True, key="partners.deals")


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

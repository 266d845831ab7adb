"""Overview: the headline KPIs with deltas, revenue vs costs over time, what changed since last week."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import streamlit as st

from metrics import changes, lookups, maturity, page_frames
from metrics.filters import Filters
from presentation import fmt
from ui import charts, drill, event_rules, first_screen, goals_panel, layout
from ui.data import kpi_frame, prefetch_kpis, query
from ui.filters import compare_label, comparison, current, period_label
from ui.i18n import band_label, lang, metric_label, t, tr

TEXT = {
    "ru": {
        "period": "Период: {now} · сравнение с {before}",
        "basis.revenue": "ROI считается от выручки (маржа не задана).",
        "basis.margin": "ROI считается от дохода: выручка × маржа из настроек.",
        "chart.title": "Выручка и затраты по месяцам", "chart.title_week": "Выручка и затраты по неделям",
        "chart.axis": "Сумма", "chart.month": "Период", "chart.amount": "Сумма",
        "chart.drill": "Сделки за {period}", "chart.hint": "Щёлкните столбец — откроются сделки этого периода.",
        "week.title": "Что изменилось за неделю",
        "week.caption": "Последние 7 дней периода ({now}) против 7 дней до них ({before}).",
        "movers": "Сильнее всего изменилась выручка (сделки, закрытые за неделю)", "movers.none": "За неделю выручка партнёров не изменилась.",
        "new": "Новые партнёры (первый лид за последние 7 дней)", "new.none": "Новых партнёров за неделю нет.",
        "bands": "Сменили оценку ROI за неделю", "bands.none": "Ни один партнёр не сменил оценку ROI.",
        "bands.caption": "ROI за период на сегодня против того же периода неделю назад; партнёры с малым "
                         "числом лидов не показаны.",
        "col.partner": "Партнёр", "col.model": "Модель", "col.week": "Выручка, 7 дней",
        "col.prev_week": "Выручка, 7 дней до", "col.change": "Изменение", "col.leads_week": "Лиды, 7 дней",
        "col.first": "Первый лид", "col.leads": "Лиды", "col.before": "Было", "col.after": "Стало",
        "col.roi": "ROI",
        "stage.maturing": "созревает: сделки ещё закрываются", "stage.incomplete": "текущий месяц не закончен",
        "stage.projection": "Прогноз выручки при созревании",
        "chart.young": "Бледная выручка — месяц созревает: лиды ещё превращаются в сделки; черта — прогноз выручки "
                       "при созревании с 80 % интервалом. Бледные оба столбца — текущий период, он не закончен.",
        "bands.young": "Партнёры, у которых период ещё созревает (сделки когорты закрываются), не сравниваются.",
    },
    "en": {
        "period": "Period: {now} · compared with {before}",
        "basis.revenue": "ROI is computed from revenue (no margin set).",
        "basis.margin": "ROI is computed from income: revenue × the margin from settings.",
        "chart.title": "Revenue and costs by month", "chart.title_week": "Revenue and costs by week",
        "chart.axis": "Amount", "chart.month": "Period", "chart.amount": "Amount",
        "chart.drill": "Deals of {period}", "chart.hint": "Click a bar to see the deals of its period.",
        "week.title": "What changed this week",
        "week.caption": "The last 7 days of the period ({now}) against the 7 days before ({before}).",
        "movers": "Largest revenue changes (deals won during the week)", "movers.none": "Partner revenue did not change this week.",
        "new": "New partners (first lead in the last 7 days)", "new.none": "No new partners this week.",
        "bands": "Changed ROI band this week", "bands.none": "No partner changed its ROI band.",
        "bands.caption": "ROI over the period as of today against the same period a week ago; partners "
                         "with too few leads are left out.",
        "col.partner": "Partner", "col.model": "Model", "col.week": "Revenue, 7 days",
        "col.prev_week": "Revenue, previous 7 days", "col.change": "Change", "col.leads_week": "Leads, 7 days",
        "col.first": "First lead", "col.leads": "Leads", "col.before": "Before", "col.after": "Now",
        "col.roi": "ROI",
        "stage.maturing": "maturing: deals are still closing", "stage.incomplete": "current month not over",
        "stage.projection": "Revenue projected at maturity",
        "chart.young": "Pale revenue — the month is maturing: its leads are still turning into deals; the tick is the "
                       "revenue projected at maturity with its 80 % interval. Both bars pale — the current period, "
                       "not over yet.",
        "bands.young": "Partners whose period is still maturing (the cohort's deals are still closing) are left out.",
    },
}

def _first(df: pd.DataFrame) -> pd.Series | None:
    return df.iloc[0] if len(df) else None


def _trend_chart(f: Filters, currency: str) -> None:
    by = page_frames.trend_unit(f)
    rows = kpi_frame(f, by, lite=True)
    st.subheader(tr(TEXT, "chart.title_week" if by == "week" else "chart.title"), anchor=False)
    if rows.empty or (rows["revenue"].fillna(0).abs().sum() == 0 and rows["costs"].fillna(0).abs().sum() == 0):
        layout.empty()
        return
    labels = {"revenue": metric_label("revenue"), "costs": metric_label("costs"), "axis": tr(TEXT, "chart.axis"),
              "unit": by,
              "month": tr(TEXT, "chart.month"), "amount": tr(TEXT, "chart.amount"),
              **{s: tr(TEXT, f"stage.{s}") for s in ("maturing", "incomplete", "projection")}}
    chart = event_rules.overlay_bars(charts.revenue_vs_costs(rows, labels, currency), rows, by, labels, currency)
    charts.show(chart, key="overview.chart", height=320, select=True)
    drill.on_period("overview.chart", f, by, rows, lambda d: tr(TEXT, "chart.drill", period=_bucket_label(d, by)))
    st.caption(tr(TEXT, "chart.hint"))
    if not maturity.mature(rows).all():
        st.caption(tr(TEXT, "chart.young"))


def _bucket_label(d: date, unit: str) -> str:
    """A chart period as its bar names it: the month, or the week's first day."""
    return (fmt.day if unit == "week" else fmt.month)(d, lang())


def _by_partner(*fs: Filters) -> list[pd.DataFrame]:
    """Partner KPI rows of frames compared with each other; partners maturing in any are left out (metrics.maturity:
    no "since last week" change is read from a cohort whose deals are still closing)."""
    return maturity.settled(*(kpi_frame(g, "partner", lite=True) for g in fs))


def _since_last_week(f: Filters, currency: str) -> None:
    code = lang()
    last, prev, as_of = page_frames.week_windows(f)
    st.subheader(tr(TEXT, "week.title"), anchor=False)
    st.caption(tr(TEXT, "week.caption", now=period_label(last), before=period_label(prev)))
    movers = changes.movers_frame(*_by_partner(replace(last, view="close"), replace(prev, view="close")))
    col1, right = st.columns([7, 5], gap="large")  # the movers' four columns need the room; the rest stack
    col2, col3 = right.container(), right.container()
    with col1:
        st.markdown(f"**{tr(TEXT, 'movers')}**")
        if movers.empty:
            st.caption(tr(TEXT, "movers.none"))
        else:
            st.dataframe(pd.DataFrame({
                tr(TEXT, "col.partner"): movers["partner"].astype(str),
                tr(TEXT, "col.change"): [("+" if v > 0 else "\u2212") + fmt.money(abs(v), code, currency)
                                         for v in movers["change"]],
                tr(TEXT, "col.week"): [fmt.money(v, code, currency) for v in movers["revenue_now"]],
                tr(TEXT, "col.leads_week"): [f"{fmt.num(a, code)} ({'+' if a >= b else chr(0x2212)}{fmt.num(abs(a - b), code)})"
                                             for a, b in zip(movers["leads_now"], movers["leads_before"], strict=False)],
            }), hide_index=True, key="overview.movers", placeholder=fmt.DASH, width="stretch",
                column_config={tr(TEXT, c): st.column_config.TextColumn(alignment="right")  # numbers as text
                               for c in ("col.change", "col.week", "col.leads_week")})
    with col2:
        st.markdown(f"**{tr(TEXT, 'new')}**")
        first = query(lookups.partner_first_seen)
        fresh = first[pd.to_datetime(first["first_date"]).dt.date >= last.date_from]
        fresh = fresh[pd.to_datetime(fresh["first_date"]).dt.date <= last.date_to]
        names = query(lookups.partners).set_index("partner_id")
        if fresh.empty:
            st.caption(tr(TEXT, "new.none"))
        else:
            st.dataframe(pd.DataFrame({
                tr(TEXT, "col.partner"): [str(names["name"].get(p, p)) for p in fresh["partner_id"]],
                tr(TEXT, "col.model"): [t(f"model.{names['model'].get(p, 'unassigned')}") for p in fresh["partner_id"]],
                tr(TEXT, "col.first"): [fmt.day(pd.Timestamp(d).date(), code) for d in fresh["first_date"]],
            }), hide_index=True, key="overview.new_partners", placeholder=fmt.DASH)
    with col3:
        st.markdown(f"**{tr(TEXT, 'bands')}**")
        crossed = changes.bands_frame(*_by_partner(f, as_of))
        crossed = crossed[~crossed["too_few"]]  # a band change of a partner with few leads is noise, not news
        if crossed.empty:
            st.caption(tr(TEXT, "bands.none"))
        else:
            st.dataframe(pd.DataFrame({
                tr(TEXT, "col.partner"): crossed["partner"].astype(str),
                tr(TEXT, "col.before"): [band_label(b) for b in crossed["band_before"]],
                tr(TEXT, "col.after"): [band_label(b) for b in crossed["band_now"]],
                tr(TEXT, "col.roi"): [f"{fmt.pct(a, code)} → {fmt.pct(b, code)}"
                                      for a, b in zip(crossed["roi_before"], crossed["roi_now"], strict=False)],
            }), hide_index=True, key="overview.crossed", placeholder=fmt.DASH)
        st.caption(tr(TEXT, "bands.caption"))
        frames = [kpi_frame(g, "partner", lite=True) for g in (f, as_of)]
        if any(r.loc[r["partner_id"].notna(), "maturing"].any() for r in frames):
            st.caption(tr(TEXT, "bands.young"))


def render() -> None:
    """The overview page."""
    f, before_f = current(), comparison()
    prefetch_kpis(page_frames.overview(f, before_f), alongside=page_frames.overview_extras(f))
    currency = query(lookups.freshness).get("currency") or "RUB"
    st.title(t("page.overview"), anchor=False)
    st.caption(tr(TEXT, "period", now=period_label(f), before=period_label(before_f)))
    now = _first(kpi_frame(f, "none", lite=True))  # the cards show no client metric (page_frames.overview)
    if now is None or int(now.get("leads") or 0) == 0 and int(now.get("won_deals") or 0) == 0:
        layout.empty()
        return
    before = _first(kpi_frame(before_f, "none", lite=True))
    layout.kpi_cards(layout.kpi_row(now, before, currency), key="overview.kpi", compare_note=compare_label(),
                     compact=True, drill_from=f)
    first_screen.render(f, before_f, currency)
    st.caption(tr(TEXT, "basis.margin" if now.get("income_basis") not in (None, "revenue") else "basis.revenue"))
    goals_panel.render("program")
    _trend_chart(f, currency)
    _since_last_week(f, currency)


if __name__ == "__main__":
    render()

"""Cohort payback on the models page and one partner's page: the curves chart and the payback-month table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from presentation import fmt, palette
from ui import charts
from ui.i18n import lang, model_label, tr

TEXT = {
    "ru": {
        "title": "Окупаемость когорт",
        "caption": "Накопленный доход минус затраты (комиссии и журнал затрат месяца когорты) по месяцам после прихода "
                   "лидов. Одна линия — лиды одного месяца (последние 12 когорт периода); выше нуля — когорта "
                   "окупилась.",
        "x": "Месяцев после прихода лидов", "y": "Доход − затраты", "cohort": "Когорта", "zero": "окупаемость",
        "col.cohort": "Когорта", "col.age": "Возраст, мес.", "col.leads": "Лиды", "col.won": "Сделки",
        "col.cumulative": "Доход − затраты к сегодняшнему дню", "col.payback": "Месяц окупаемости",
        "status.not_yet": "ещё нет", "status.too_young": "слишком молодая когорта", "status.no_costs": "нет затрат",
        "needed": "«Слишком молодая» — когорта моложе {n} мес.: столько обычно нужно когортам этой серии, чтобы "
                  "окупиться; «ещё нет» — старше, но всё ещё ниже нуля.",
        "none": "Нет когорт за этот период.", "model": "Модель для окупаемости",
        "show": "Показать окупаемость когорт",
        "show.help": "Когда окупаются лиды каждого месяца: считается по запросу, чтобы страница открывалась быстро.",
    },
    "en": {
        "title": "Cohort payback",
        "caption": "Cumulative income minus costs (commissions and the cohort month's cost ledger) by months since the "
                   "leads came in. One line per month of leads (the period's last 12 cohorts); above zero, the cohort "
                   "has paid back.",
        "x": "Months since the leads came in", "y": "Income − costs", "cohort": "Cohort", "zero": "payback",
        "col.cohort": "Cohort", "col.age": "Age, months", "col.leads": "Leads", "col.won": "Deals",
        "col.cumulative": "Income − costs to date", "col.payback": "Payback month",
        "status.not_yet": "not yet", "status.too_young": "cohort too young", "status.no_costs": "no costs",
        "needed": "“Too young”: the cohort is younger than {n} months, what this series' cohorts usually need to pay "
                  "back; “not yet”: older than that and still below zero.",
        "none": "No cohorts in this period.", "model": "Model for payback",
        "show": "Show cohort payback",
        "show.help": "When each month's leads pay back: computed on request, so the page opens fast.",
    },
}


def payback_text(month: object, status: str) -> str:
    """The payback cell: the month number, else «ещё нет» / «слишком молодая когорта» / «нет затрат»."""
    if status == "paid_back" and pd.notna(month):
        return fmt.num(int(month), lang())
    return tr(TEXT, f"status.{status}")


def table(months: pd.DataFrame, currency: str) -> pd.DataFrame:
    """payback.months rows of one series for display, newest cohort first."""
    code = lang()
    return pd.DataFrame({
        tr(TEXT, "col.cohort"): [fmt.month(c, code) for c in months["cohort"]],
        tr(TEXT, "col.age"): [fmt.num(a, code) for a in months["age"]],
        tr(TEXT, "col.leads"): [fmt.num(n, code) for n in months["leads"]],
        tr(TEXT, "col.won"): [fmt.num(n, code) for n in months["won_leads"]],
        tr(TEXT, "col.cumulative"): [fmt.money(v, code, currency) for v in months["cumulative"]],
        tr(TEXT, "col.payback"): [payback_text(m, s) for m, s in zip(months["payback_month"], months["status"],
                                                                      strict=True)],
    })


def wanted(key: str) -> bool:
    """The section's title and its toggle (key): True when the user asked for the cohort payback."""
    st.subheader(tr(TEXT, "title"), anchor=False)
    # on request: its query would add about a KPI query's time to every rerun of the page
    return st.toggle(tr(TEXT, "show"), key=key, help=tr(TEXT, "show.help"))


def render(curve: pd.DataFrame, months: pd.DataFrame, model: str, currency: str, key: str) -> None:
    """One series' section below its toggle: caption, the curves in the model's colour and the payback table."""
    st.caption(tr(TEXT, "caption"))
    curve, months = curve[curve["model"] == model], months[months["model"] == model]
    if curve.empty:
        st.caption(tr(TEXT, "none"))
        return
    code = lang()
    lines = curve.assign(cohort_txt=[fmt.month(c, code) for c in curve["cohort"]])
    labels = {k: tr(TEXT, k) for k in ("x", "y", "cohort", "zero")}
    color = palette.model_color(model)  # the model's colour on every chart
    charts.show(charts.payback_curves(lines, color, labels, currency), key=f"{key}.chart_payback", height=300)
    st.dataframe(table(months, currency), hide_index=True, key=f"{key}.payback", placeholder=fmt.DASH,
                 height=35 * (len(months) + 1) + 3)
    if (months["status"] == "too_young").any():
        st.caption(tr(TEXT, "needed", n=fmt.num(int(months["needed"].iloc[0]), code)))


def model_choice(models: list[str], key: str) -> str:
    """The model whose cohorts the models page shows (a selectbox; the first model by default)."""
    if st.session_state.get(key) not in models:
        st.session_state[key] = models[0]
    code = lang()
    return st.selectbox(tr(TEXT, "model"), models, key=key, format_func=lambda m: model_label(m, code))

"""The partner lifecycle panel of the partners page: partners per stage, the dormant list and the never-started list
(metrics.lifecycle, as of the data's last day)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from metrics import lifecycle, payback
from metrics.costs import load_settings
from presentation import fmt
from presentation import lifecycle as words
from ui import tables
from ui.data import query
from ui.i18n import lang, model_label, tr

K_DORMANT, K_NEVER = "partners.lifecycle_dormant", "partners.lifecycle_never"

TEXT = {
    "ru": {
        "title": "Жизненный цикл партнёров",
        "caption": "На {day}: подключён → первый лид → первая сделка → активен (лид за {active} дн.) → уснул (нет "
                   "лидов {dormant} дн.); «остывает» — между ними. Пороги — в настройках, вкладка «Параметры расчёта».",
        "dormant": "Уснувшие партнёры", "dormant.none": "Уснувших партнёров нет.",
        "never": "Так и не начали", "never.caption": "Подключены {dormant} и больше дней назад, ни одного лида.",
        "never.none": "Все подключённые партнёры уже привели лиды или подключены недавно.",
        "col.partner": "Партнёр", "col.model": "Модель", "col.last_lead": "Последний лид",
        "col.days_since": "Дней без лидов", "col.leads": "Лидов всего", "col.recruited": "Подключён",
        "col.days_waiting": "Дней без лидов", "avg": "В среднем до первого лида — {lead} дн., до первой сделки — "
                                                    "{deal} дн.",
        "empty": "Партнёров пока нет.",
    },
    "en": {
        "title": "Partner lifecycle",
        "caption": "As of {day}: recruited → first lead → first deal → active (a lead within {active} days) → dormant "
                   "(no lead for {dormant} days); “cooling” in between. The thresholds are in Settings, Calculation "
                   "settings.",
        "dormant": "Dormant partners", "dormant.none": "No dormant partners.",
        "never": "Never started", "never.caption": "Recruited {dormant} or more days ago, not a single lead.",
        "never.none": "Every recruited partner has brought leads or joined recently.",
        "col.partner": "Partner", "col.model": "Model", "col.last_lead": "Last lead",
        "col.days_since": "Days without leads", "col.leads": "Leads in total", "col.recruited": "Recruited",
        "col.days_waiting": "Days without leads", "avg": "On average {lead} days to the first lead, {deal} days to "
                                                         "the first deal.",
        "empty": "No partners yet.",
    },
}


def _cards(table: pd.DataFrame, active: int, dormant: int) -> None:
    """One metric card per stage, its meaning as help."""
    code = lang()
    counts = lifecycle.counts(table)
    for col, stage in zip(st.columns(len(counts)), counts, strict=True):
        col.metric(words.stage_label(stage, code), fmt.num(counts[stage], code),
                   help=words.stage_help(stage, code, active, dormant))


def _days(as_of: date, d: object) -> int:
    return (as_of - d).days  # type: ignore[operator]


def dormant_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The dormant list as shown: partner, model, last lead, days since, leads in total (longest asleep first)."""
    code = lang()
    rows = lifecycle.dormant(table)
    return pd.DataFrame({
        "partner": tables.names(rows["partner"]), "model": [model_label(m, code) for m in rows["model"]],
        "last_lead": [fmt.day(d, code) for d in rows["last_lead_on"]],
        "days_since": rows["days_since_lead"].astype("int64"), "leads": rows["leads"].astype("int64")})


def never_frame(table: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The never-started list as shown: partner, model, recruited on, days since (longest waiting first)."""
    code = lang()
    rows = lifecycle.never_started(table)
    return pd.DataFrame({
        "partner": tables.names(rows["partner"]), "model": [model_label(m, code) for m in rows["model"]],
        "recruited": [fmt.day(d, code) for d in rows["recruited_on"]],
        "days_waiting": [_days(as_of, d) for d in rows["recruited_on"]]})


def _cols(keys: tuple[tuple[str, str], ...]) -> list[tables.Col]:
    return [tables.Col(k, kind, tr(TEXT, f"col.{k}"), digits=0) for k, kind in keys]


def _averages(table: pd.DataFrame) -> None:
    code = lang()
    lead, deal = table["days_to_first_lead"].dropna(), table["days_to_first_deal"].dropna()
    if len(lead) or len(deal):
        st.caption(tr(TEXT, "avg", lead=fmt.num(float(lead.mean()) if len(lead) else None, code),
                      deal=fmt.num(float(deal.mean()) if len(deal) else None, code)))


def render() -> None:
    """The panel: title, cards per stage, the dormant and never-started lists."""
    st.subheader(tr(TEXT, "title"), anchor=False)
    as_of = query(payback.as_of_date)
    settings = query(load_settings)
    if as_of is None:
        st.caption(tr(TEXT, "empty"))
        return
    table = query(lifecycle.stages, as_of, settings)
    active, dormant = settings.lifecycle_active_days, settings.lifecycle_dormant_days
    code = lang()
    st.caption(tr(TEXT, "caption", day=fmt.day(as_of, code), active=active, dormant=dormant))
    if table.empty:
        st.caption(tr(TEXT, "empty"))
        return
    _cards(table, active, dormant)
    _averages(table)
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown(f"**{tr(TEXT, 'dormant')}**")
        shown = dormant_frame(table)
        if shown.empty:
            st.caption(tr(TEXT, "dormant.none"))
        else:
            tables.show(shown, _cols((("partner", "name"), ("model", "text"), ("last_lead", "text"),
                                      ("days_since", "count"), ("leads", "count"))), code=code, key=K_DORMANT,
                        height=min(35 * (len(shown) + 1) + 3, 400))
    with right:
        st.markdown(f"**{tr(TEXT, 'never')}**")
        never = never_frame(table, as_of)
        if never.empty:
            st.caption(tr(TEXT, "never.none"))
        else:
            st.caption(tr(TEXT, "never.caption", dormant=dormant))
            tables.show(never, _cols((("partner", "name"), ("model", "text"), ("recruited", "text"),
                                      ("days_waiting", "count"))), code=code, key=K_NEVER,
                        height=min(35 * (len(never) + 1) + 3, 400))

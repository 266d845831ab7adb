"""Drill-through in the dashboard: a number's "deals" button or a table row / chart mark selection opens the list of
the leads / deals behind it (metrics.drill) in one dialog, with amoCRM links and CSV / XLSX downloads.

Sources only *request* a list (`request`, `card_button`, `on_selection`); app.py opens the pending request once per
run (`open_pending`), after the page, and gives it the exporter (reports sit beside ui, so ui never imports them).
A selection opens its list once: the rows last acted on are remembered per widget, so an unrelated rerun with the
row still selected does not open the dialog again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from data_layer import crm_links
from metrics import drill, lookups, maturity
from metrics.filters import Filters
from presentation import deals, fmt
from ui import tables
from ui.data import query
from ui.filters import period_label
from ui.i18n import lang, tr

K_PENDING, K_SEEN = "drill.pending", "drill.seen"
ICON = ":material/format_list_bulleted:"  # a card's list button
SHOW_MAX = 10_000  # rows drawn in the dialog; the downloads hold every row
NAME_PX = 200  # a name column's width: ten columns fit the large dialog at 1440 px (a longer name ends in …)
# the KPI card metrics that count leads or deals -> the rows they count
CARD_STATUS = {"leads": "leads", "qualified_leads": "qualified", "won_deals": "won", "revenue": "won",
               "avg_check": "won", "conversion": "leads"}
Exporter = Callable[[pd.DataFrame, str | None, str, str, str, str], bytes]

TEXT = {
    "ru": {
        "dialog": "Сделки за числом", "period": "Период: {period} · фильтры те же, что у числа.", "button": "Сделки →", "button.leads": "Лиды →",
        "button.help": "Открыть список лидов и сделок, из которых сложилось это число.",
        "count.won": "Сделок: {n} · выручка {amount} · комиссия {commission}",
        "count.leads": "Лидов: {n} · из них выиграно {won} на {amount}",
        "expected": "Число, по которому вы щёлкнули: {n}.",
        "mismatch": "Список ({got}) расходится с числом ({want}): обновите страницу — данные могли обновиться.",
        "cut": "Показаны первые {shown} из {n}; в файлах — все.",
        "links": "№ ведёт на карточку сделки в amoCRM.", "no_links": "Демо-данные: номера без ссылок на amoCRM.",
        "none": "За этим числом нет ни одной сделки.",
        "csv": "Скачать CSV", "xlsx": "Скачать XLSX",
    },
    "en": {
        "dialog": "Deals behind the number", "period": "Period: {period} · the number's own filters.", "button": "Deals →", "button.leads": "Leads →",
        "button.help": "Open the list of the leads and deals this number is made of.",
        "count.won": "Deals: {n} · revenue {amount} · commission {commission}",
        "count.leads": "Leads: {n} · won among them {won} for {amount}",
        "expected": "The number you clicked: {n}.",
        "mismatch": "The list ({got}) differs from the number ({want}): reload the page — the data may have changed.",
        "cut": "Showing the first {shown} of {n}; the files hold all of them.",
        "links": "The id opens the deal's card in amoCRM.", "no_links": "Demo data: ids without amoCRM links.",
        "none": "No deal is behind this number.",
        "csv": "Download CSV", "xlsx": "Download XLSX",
    },
}


@dataclass(frozen=True)
class Request:
    """A list to open: the number's title (plain text), what it counts, the number itself (a count, if shown)
    and an optional follow-up button (label, session-state key, value: e.g. open the partner's page)."""

    title: str
    drill: drill.Drill
    expected: int | None = None
    action: tuple[str, str, Any] | None = None


def request(req: Request) -> None:
    """Ask for req's list to open at the end of this run."""
    st.session_state[K_PENDING] = req


def card_button(metric: str | None, title: str, f: Filters | None, key: str, count: object = None,
                icon_only: bool = False) -> None:
    """A KPI card's small button opening the leads / deals its number counts (nothing for other metrics);
    icon_only: just the list icon, its words in the tooltip (a card's corner)."""
    if f is None or metric not in CARD_STATUS:
        return
    status = CARD_STATUS[metric]
    word = tr(TEXT, "button.leads" if status in ("leads", "qualified") else "button")
    label, tip = (ICON, f"{word} {tr(TEXT, 'button.help')}") if icon_only else (word, tr(TEXT, "button.help"))
    if st.button(label, key=f"{key}.drill", type="tertiary", help=tip):
        n = None if count is None or pd.isna(count) else int(count)
        request(Request(title, drill.narrow(f, status=status), n if metric in ("leads", "qualified_leads",
                                                                                 "won_deals") else None))


def selected_rows(event: object) -> tuple[int, ...]:
    """The row positions a dataframe selection event holds (empty when none)."""
    selection = event.get("selection", {}) if isinstance(event, dict) else getattr(event, "selection", None)
    rows = selection.get("rows", []) if isinstance(selection, dict) else getattr(selection, "rows", [])
    return tuple(int(r) for r in rows or ())


def selected_cells(event: object) -> tuple[tuple[int, str], ...]:
    """The (row position, column) cells a dataframe selection event holds (empty when none)."""
    selection = event.get("selection", {}) if isinstance(event, dict) else getattr(event, "selection", None)
    cells = selection.get("cells", []) if isinstance(selection, dict) else getattr(selection, "cells", [])
    return tuple((int(r), str(c)) for r, c in cells or ())


def selected_points(event: object, param: str) -> list[dict[str, Any]]:
    """The points a chart selection event holds for selection parameter `param` (field -> value dicts)."""
    selection = event.get("selection", {}) if isinstance(event, dict) else getattr(event, "selection", None)
    points = selection.get(param) if isinstance(selection, dict) else getattr(selection, param, None)
    return list(points or []) if isinstance(points, (list, tuple)) else []


def on_selection(key: str, picked: Sequence[Any], make: Callable[[Sequence[Any]], Request | None]) -> None:
    """A widget's selection (rows or points): open make(picked)'s list once per new, non-empty selection."""
    seen = st.session_state.setdefault(K_SEEN, {})
    token = repr(list(picked))
    if picked and seen.get(key) != token:
        req = make(picked)
        if req is not None:
            request(req)
    seen[key] = token if picked else None


def point_day(value: object) -> date | None:
    """The day a chart point's temporal field holds: Vega sends it as epoch milliseconds or as ISO text."""
    try:
        stamp = pd.Timestamp(value, unit="ms") if isinstance(value, (int, float)) else pd.Timestamp(str(value))
    except (TypeError, ValueError):
        return None
    return None if pd.isna(stamp) else stamp.date()


def bucket(start: date, unit: str) -> tuple[date, date]:
    """The days of the week / month / quarter that starts on `start` (a chart's period; metrics.maturity's rule)."""
    return start, maturity.bucket_end(start, unit)


def on_period(key: str, f: Filters, unit: str, rows: pd.DataFrame, title: Callable[[date], str]) -> None:
    """A bar of a chart by period (its DRILL point's `period`) clicked: open that period's won deals, cut to f's
    period as the bar is; rows (period, won_deals) give the bar's count."""
    points = selected_points(st.session_state.get(key), "drill")

    def make(picked: Sequence[dict[str, Any]]) -> Request | None:
        start = point_day(picked[0].get("period"))
        if start is None:
            return None
        won = rows.loc[pd.to_datetime(rows["period"]).dt.date == start, "won_deals"]
        d = drill.narrow(f, period=bucket(start, unit))
        return Request(title(start), d, int(won.iloc[0]) if len(won) and pd.notna(won.iloc[0]) else None)

    on_selection(key, points, make)


def open_pending(export: Exporter) -> None:
    """Open the list this run asked for, if any, in the dialog (export: reports.deal_list.file)."""
    req = st.session_state.pop(K_PENDING, None)
    if isinstance(req, Request):
        st.dialog(tr(TEXT, "dialog"), width="large", icon=":material/list_alt:")(_body)(req, export)


def _currency() -> str:
    return query(lookups.freshness).get("currency") or "RUB"


def _body(req: Request, export: Exporter) -> None:
    """The dialog: the number's title and count, the list, its downloads, the follow-up button."""
    code, currency = lang(), _currency()
    rows = query(drill.deal_list, req.drill)
    base = query(crm_links.account_base)
    st.subheader(fmt.plain(req.title), anchor=False)  # CRM names (a partner's) inside
    st.caption(tr(TEXT, "period", period=period_label(req.drill.filters)))
    _counts(req, rows, code, currency)
    if rows.empty:
        st.info(tr(TEXT, "none"), icon=":material/filter_alt_off:")
    else:
        _table(rows.head(SHOW_MAX), base, code, currency)
        if len(rows) > SHOW_MAX:
            st.caption(tr(TEXT, "cut", shown=fmt.num(SHOW_MAX, code), n=fmt.num(len(rows), code)))
        st.caption(tr(TEXT, "links" if base else "no_links"))
    with st.container(horizontal=True):
        for kind in ("csv", "xlsx"):
            st.download_button(
                tr(TEXT, kind), lambda kind=kind: export(rows, base, code, req.title, currency, kind),
                file_name=f"deals.{kind}", key=f"drill.{kind}", on_click="ignore", icon=":material/download:",
                mime="text/csv" if kind == "csv" else
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", disabled=rows.empty)
        if req.action is not None:
            label, state_key, value = req.action
            # the callback sets the state before the next run; the click's own run is the dialog's (a fragment),
            # so it then reruns the whole app, which draws the page the state names
            if st.button(label, key="drill.action", type="primary",
                         on_click=lambda: st.session_state.update({state_key: value})):
                st.rerun()


def _counts(req: Request, rows: pd.DataFrame, code: str, currency: str) -> None:
    """How many rows, their money, and the number clicked beside them (they agree: metrics.drill's test)."""
    s = drill.summary(rows, req.drill.status)
    money = lambda x: fmt.money(x, code, currency)  # noqa: E731
    if req.drill.status == "won":
        st.markdown(tr(TEXT, "count.won", n=fmt.num(s["count"], code), amount=money(s["amount"]),
                       commission=money(s["commission"])))
    else:
        won = int(rows["is_won"].astype(bool).sum())
        st.markdown(tr(TEXT, "count.leads", n=fmt.num(s["count"], code), won=fmt.num(won, code),
                       amount=money(s["amount"])))
    if req.expected is not None and req.expected != len(rows):
        st.warning(tr(TEXT, "mismatch", got=fmt.num(len(rows), code), want=fmt.num(req.expected, code)))


def _table(rows: pd.DataFrame, base: str | None, code: str, currency: str) -> None:
    """The list: the id links to amoCRM when an account is connected; money and dates the locale's way (numbers
    stay numbers, so a header click sorts them)."""
    shown = deals.frame(rows, base, code)
    shown["lead_id"] = shown["url"] if base else shown["lead_id"].astype(str)  # an id, never "31 000 005"
    for c in ("created", "closed"):
        shown[c] = [fmt.day(d, code) if d is not None else fmt.DASH for d in shown[c]]
    for c in ("name", "partner", "client"):
        shown[c] = tables.names(shown[c].fillna(fmt.DASH), NAME_PX)
    kinds = {"name": "name", "partner": "name", "client": "name", "amount": "money", "commission": "money"}
    # a column with one value throughout (one partner's list: its partner, model, status) is said by the title
    same = {c for c in ("partner", "model", "status") if shown[c].nunique(dropna=False) <= 1}
    cols = [tables.Col(c, kinds.get(c, "text"), label=deals.label(c, code)) for c, _ in deals.COLUMNS
            if c != "url" and c not in same]
    config = tables.column_config(shown, cols, code, currency)
    if base:
        config["lead_id"] = st.column_config.LinkColumn(deals.label("lead_id", code), display_text=r"/leads/detail/(\d+)$")
    tables.show(shown, cols, code=code, currency=currency, config=config, key="drill.table",
                height=min(38 * (len(shown) + 1) + 4, 460), width="stretch")

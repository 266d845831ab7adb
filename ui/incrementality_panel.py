"""Credited vs incremental (metrics-spec "Credit and incrementality") on the partners leaderboard, a partner's page
and the models page: the figures, the sentence for a partner that only looks profitable, the pre-existing deals."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics import engine, incrementality
from metrics.filters import Filters
from presentation import fmt
from ui import tables
from ui.data import query
from ui.i18n import lang, metric_help, metric_label, model_label, tr

TEXT = {
    "ru": {
        "title": "Сколько партнёр привёл сам",
        "caption": "Сделка зачтена партнёру, но не приростная, если у клиента (тот же контакт или компания, тот же "
                   "телефон, e-mail или ИНН) за {days} дней до заявки партнёра была открытая, выигранная или прямая "
                   "заявка: такую выручку мы, скорее всего, получили бы и без него. Комиссии по ней начисляются как "
                   "обычно.",
        "credited": "Зачтённая выручка", "roi.credited": "ROI зачтённый", "roi.incremental": "ROI приростный",
        "interval": "95 %: {ci}",
        "loss": "{name}: зачтённый ROI {roi} — партнёр выглядит прибыльным, но приростный ROI {inc} ниже нуля. "
                "{share} его выручки — клиенты, которые уже были нашими: без них он не окупает затраты.",
        "loss.board": "Выглядят прибыльными, но не окупаются без клиентов, которые уже были нашими (приростный ROI "
                      "ниже нуля при положительном зачтённом): {names}",
        "loss.model": "Модель «{name}»: зачтённый ROI {roi}, приростный {inc} — ниже нуля.",
        "none": "Сделок с прежними клиентами за период нет: вся выручка партнёра приростная.",
        "list": "Сделки с прежними клиентами ({n})",
        "col.lead": "Сделка", "col.id": "Номер", "col.client": "Клиент", "col.amount": "Сумма",
        "col.created": "Создана", "col.earlier": "Прежняя заявка", "col.earlier_id": "Её номер",
        "col.earlier_date": "Её дата", "col.why": "Почему считается", "col.match": "Совпадение",
        "col.link.help": "Карточка сделки в amoCRM.",
        "why.won": "выиграна", "why.direct": "прямая", "why.open": "была открыта",
        "match.contact": "тот же контакт", "match.company": "та же компания", "match.phone": "телефон",
        "match.email": "e-mail", "match.inn": "ИНН",
        "ids": "Номера — это номера сделок в amoCRM; в демо-данных ссылок на карточки нет.",
        "models": "Зачтённое и приростное по моделям", "col.model": "Модель",
    },
    "en": {
        "title": "What the partner brought itself",
        "caption": "A deal is credited to the partner but not incremental when its client (the same contact or "
                   "company, the same phone, e-mail or INN) had an open, won or direct lead in the {days} days before "
                   "the partner's lead: we would probably have had that revenue anyway. Its commission accrues as "
                   "usual.",
        "credited": "Credited revenue", "roi.credited": "Credited ROI", "roi.incremental": "Incremental ROI",
        "interval": "95 %: {ci}",
        "loss": "{name}: credited ROI {roi} — the partner looks profitable, but its incremental ROI {inc} is below "
                "zero. {share} of its revenue comes from clients who were ours already: without them it does not "
                "earn its cost.",
        "loss.board": "Look profitable but do not earn their cost without the clients who were ours already "
                      "(incremental ROI below zero, credited ROI above): {names}",
        "loss.model": "The {name} model: credited ROI {roi}, incremental {inc} — below zero.",
        "none": "No deals with earlier clients in this period: all of the partner's revenue is incremental.",
        "list": "Deals with clients who were ours already ({n})",
        "col.lead": "Deal", "col.id": "Id", "col.client": "Client", "col.amount": "Amount", "col.created": "Created",
        "col.earlier": "Earlier lead", "col.earlier_id": "Its id", "col.earlier_date": "Its date",
        "col.why": "Why it counts", "col.match": "Match", "col.link.help": "The deal's card in amoCRM.",
        "why.won": "won", "why.direct": "direct", "why.open": "was open",
        "match.contact": "same contact", "match.company": "same company", "match.phone": "phone",
        "match.email": "e-mail", "match.inn": "INN",
        "ids": "Ids are amoCRM deal ids; the demo data has no card links.",
        "models": "Credited and incremental by model", "col.model": "Model",
    },
}


def loss_names(rows: pd.DataFrame) -> list[str]:
    """Partners whose incremental ROI is below 0 while their credited ROI is above it."""
    hit = rows[rows["partner_id"].notna().to_numpy() & incrementality.incremental_loss(rows["roi"],
                                                                                         rows["incremental_roi"])]
    return [str(p) for p in hit["partner"]]


def board_callout(rows: pd.DataFrame) -> None:
    """Under the leaderboard: the partners that only look profitable, named in one sentence."""
    names = loss_names(rows)
    if names:
        st.warning(tr(TEXT, "loss.board", names=fmt.plain(", ".join(names))), icon=":material/person_search:")


def _bounds(f: Filters, pid: int, incremental: bool) -> pd.Series:
    """The partner's ROI interval (credited or incremental) by ROI's bootstrap rule."""
    rows = query(engine.roi_interval, f, by="partner", incremental=incremental)
    mine = rows[rows["partner_id"] == pid]
    return mine.iloc[0] if len(mine) else pd.Series({"roi_low": None, "roi_high": None})


def partner_section(f: Filters, pid: int, name: str, currency: str, now: pd.Series) -> None:
    """A partner's credited vs incremental figures (its KPI row, now) with ROI intervals, and the sentence when only
    the credited ROI is positive (the list of its pre-existing deals: deal_list, further down the page)."""
    code = lang()
    st.subheader(tr(TEXT, "title"), anchor=False)
    st.caption(tr(TEXT, "caption", days=query(incrementality.window_days)))
    credited, incremental = _bounds(f, pid, False), _bounds(f, pid, True)
    cards = st.columns(5)
    cards[0].metric(tr(TEXT, "credited"), fmt.money_short(now.get("revenue"), code, currency),
                    help=metric_help("revenue"))
    cards[1].metric(metric_label("incremental_revenue"), fmt.money_short(now.get("incremental_revenue"), code,
                                                                          currency), help=metric_help("incremental_revenue"))
    cards[2].metric(metric_label("preexisting_share"), fmt.pct(now.get("preexisting_share"), code, 0),
                    help=metric_help("preexisting_share"))
    for col, label, value, bounds, metric in ((cards[3], "roi.credited", now.get("roi"), credited, "roi"),
                                              (cards[4], "roi.incremental", now.get("incremental_roi"), incremental,
                                               "incremental_roi")):
        col.metric(tr(TEXT, label), fmt.pct(value, code, 0), help=metric_help(metric))
        col.caption(tr(TEXT, "interval", ci=tables.interval_text(bounds["roi_low"], bounds["roi_high"], code, 0)))
    if bool(incrementality.incremental_loss(now.get("roi"), now.get("incremental_roi"))[0]):
        st.warning(tr(TEXT, "loss", name=fmt.plain(name), roi=fmt.pct(now.get("roi"), code, 0),
                      inc=fmt.pct(now.get("incremental_roi"), code, 0),
                      share=fmt.pct(now.get("preexisting_share"), code, 0)), icon=":material/person_search:")


def deal_list(f: Filters, pid: int, currency: str) -> None:
    """The partner's pre-existing deals: lead, client, the earlier lead, both dates, why and how it matched."""
    code = lang()
    deals = query(incrementality.preexisting_deals, f, pid)
    if deals.empty:
        st.caption(tr(TEXT, "none"))
        return
    linked = deals["url"].notna().any()
    day = lambda d: fmt.day(pd.Timestamp(d).date(), code) if pd.notna(d) else fmt.DASH  # noqa: E731
    k = {c: tr(TEXT, f"col.{c}") for c in ("lead", "id", "client", "amount", "created", "earlier", "earlier_id",
                                           "earlier_date", "why", "match")}
    shown = pd.DataFrame({
        k["lead"]: tables.names(deals["lead_name"]),
        k["id"]: deals["url"] if linked else deals["lead_id"].astype(str),
        k["client"]: tables.names(deals["client"].fillna(fmt.DASH)),
        k["amount"]: deals["amount"].fillna(0.0).astype(float),
        k["created"]: [day(d) for d in deals["created_date"]],
        k["earlier"]: tables.names(deals["earlier_lead_name"].fillna(fmt.DASH)),
        k["earlier_id"]: deals["earlier_url"] if linked else deals["earlier_lead_id"].astype(str),
        k["earlier_date"]: [day(d) for d in deals["earlier_created_date"]],
        k["why"]: [tr(TEXT, f"why.{w}") for w in deals["earlier_kind"]],
        k["match"]: [tr(TEXT, f"match.{m}") for m in deals["match_kind"]],
    })
    cols = [tables.Col(k["lead"], "name"), tables.Col(k["id"]), tables.Col(k["client"], "name"),
            tables.Col(k["amount"], "money"), tables.Col(k["created"]), tables.Col(k["earlier"], "name"),
            tables.Col(k["earlier_id"]), tables.Col(k["earlier_date"]), tables.Col(k["why"]), tables.Col(k["match"])]
    config = tables.column_config(shown, cols, code, currency)
    if linked:  # amoCRM cards for a real account; the id is the link's text
        for key in (k["id"], k["earlier_id"]):
            config[key] = st.column_config.LinkColumn(key, display_text=r"/leads/detail/(\d+)$",
                                                      help=tr(TEXT, "col.link.help"))
    st.subheader(tr(TEXT, 'list', n=fmt.num(len(deals), code)), anchor=False)
    tables.show(shown, cols, code=code, currency=currency, config=config, key="partners.preexisting",
                height=min(38 * (len(shown) + 1) + 4, 360))
    if not linked:
        st.caption(tr(TEXT, "ids"))


def models_section(rows: pd.DataFrame, currency: str) -> None:
    """Credited vs incremental per model from the page's KPI rows by model (direct, the baseline, has none
    pre-existing; the intervals are on the partner page and in `python -m metrics incrementality`: the page's
    own queries stay as they were)."""
    code = lang()
    rows = rows[rows["model"] != "direct"]
    if rows.empty:
        return
    st.subheader(tr(TEXT, "models"), anchor=False)
    st.caption(tr(TEXT, "caption", days=query(incrementality.window_days)))
    k = {"model": tr(TEXT, "col.model"), "credited": tr(TEXT, "credited"),
         "inc": metric_label("incremental_revenue"), "share": metric_label("preexisting_share"),
         "roi": tr(TEXT, "roi.credited"), "iroi": tr(TEXT, "roi.incremental")}
    shown = pd.DataFrame({
        k["model"]: [model_label(m) for m in rows["model"]], k["credited"]: rows["revenue"],
        k["inc"]: rows["incremental_revenue"], k["share"]: rows["preexisting_share"], k["roi"]: rows["roi"],
        k["iroi"]: rows["incremental_roi"]})
    cols = [tables.Col(k["model"]), tables.Col(k["credited"], "money"),
            tables.Col(k["inc"], "money", help=metric_help("incremental_revenue")),
            tables.Col(k["share"], "pct", digits=0, help=metric_help("preexisting_share")),
            tables.Col(k["roi"], "pct", digits=0, help=metric_help("roi")),
            tables.Col(k["iroi"], "pct", digits=0, help=metric_help("incremental_roi"))]
    tables.show(shown, cols, code=code, currency=currency, key="models.incrementality")
    for model, roi, inc in zip(rows["model"], rows["roi"], rows["incremental_roi"], strict=True):
        if incrementality.incremental_loss(roi, inc)[0]:
            st.warning(tr(TEXT, "loss.model", name=model_label(model), roi=fmt.pct(roi, code, 0),
                          inc=fmt.pct(inc, code, 0)))

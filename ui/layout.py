"""Page building blocks without CSS: KPI cards, badges, the freshness line, empty states, error sentences."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from data_layer import store
from metrics.filters import Filters
from presentation import fmt, freshness
from ui import data, drill, writes
from ui.filters import is_meeting
from ui.i18n import band_label, lang, metric_help, metric_label, t, tr

log = logging.getLogger("partner_roi.ui")

BAND_COLORS = {"excellent": "green", "profitable": "blue", "marginal": "orange", "loss": "red", "n/a": "gray"}

TEXT = {
    "ru": {
        "no_db": "База данных ещё не создана. Запустите `make run` (или `python -m data_layer demo`), "
                 "чтобы собрать демо-аккаунт, либо подключите amoCRM на странице настроек.",
        "err.store": "Не удалось открыть базу данных: она занята или повреждена. Подождите минуту и обновите "
                     "страницу; если не поможет — пересоберите демо-базу командой `python -m data_layer demo`.",
        "err.filter": "Фильтр задан неверно: {msg} Исправьте его на боковой панели или нажмите «Сбросить фильтры».",
        "err.schema": "База данных не той версии, что ожидает приложение. Перезапустите `make run` — схема "
                      "обновится; если это демо-база, соберите её заново: `python -m data_layer demo`.",
        "err.other": "Страница не смогла построиться ({kind}). Обновите страницу или сбросьте фильтры; если "
                     "ошибка повторяется, пересоберите демо-базу (`python -m data_layer demo`) и сообщите "
                     "разработчику, что вы делали.",
        "too_few.help": "Меньше {n} лидов в выборке: показатели сильно шумят, партнёр не выделяется как "
                        "лучший или худший.",
        "closed.counts": "выиграно {won} из {closed} закрытых в периоде (проиграно {lost})",
    },
    "en": {
        "no_db": "The database does not exist yet. Run `make run` (or `python -m data_layer demo`) to build "
                 "the demo account, or connect amoCRM on the settings page.",
        "err.store": "The database cannot be opened: it is busy or damaged. Wait a minute and reload the "
                     "page; if that does not help, rebuild the demo database with `python -m data_layer demo`.",
        "err.filter": "A filter is invalid: {msg} Fix it in the sidebar or press “Reset filters”.",
        "err.schema": "The database is not the version the app expects. Restart `make run` to upgrade the "
                      "schema; for the demo database, rebuild it: `python -m data_layer demo`.",
        "err.other": "This page could not be built ({kind}). Reload the page or reset the filters; if it "
                     "happens again, rebuild the demo database (`python -m data_layer demo`) and tell the "
                     "developer what you did.",
        "too_few.help": "Fewer than {n} leads in scope: the figures are noisy, so the partner is never "
                        "highlighted as best or worst.",
        "closed.counts": "{won} won of {closed} closed in the period ({lost} lost)",
    },
}


@dataclass(frozen=True)
class Kpi:
    """One KPI card: already formatted value and delta (delta starts with '-' when the change is negative)."""

    label: str
    value: str
    delta: str | None = None
    delta_color: str = "normal"     # normal | inverse (a fall is good, e.g. costs) | off
    help: str | None = None
    band: str | None = None         # ROI band: shown as a coloured badge under the value
    caption: str | None = None      # a line under the value: the counts a ratio is made of
    metric: str | None = None       # the metric shown (kpi_row): its "deals" button opens what it counts (ui.drill)
    raw: float | None = None        # its unformatted value: the count the opened list must have


def delta_text(change: float | None, kind: str = "rel", code: str | None = None) -> str | None:
    """A change for st.metric: relative (rel, +12,5 %) or in percentage points (pp); ASCII minus for the arrow."""
    if change is None or change != change:
        return None
    code = code or lang()
    text = fmt.signed_pp(change, code) if kind == "pp" else fmt.signed_pct(change, code)
    return text.replace("\u2212", "-")


def no_change(delta: str | None) -> bool:
    """True when a formatted change reads as zero ("+0,0 п. п.", "0 %"): it gets neither an arrow nor a colour."""
    return bool(delta) and not any(ch in "123456789" for ch in str(delta))


def kpi_cards(cards: Sequence[Kpi], key: str, compare_note: str | None = None, per_row: int = 3,
              compact: bool = False, drill_from: Filters | None = None) -> None:
    """KPI cards in rows of per_row (three by default: long money values stay readable); meeting mode: large, six
    to a row when compact; compact: the ROI band as a badge in the card's label (one line less per card);
    drill_from: the Filters the cards were computed for, so a card counting leads or deals opens them."""
    big = is_meeting()
    if big and compact:
        per_row = len(cards)
    per_row = max(1, min(per_row, len(cards)))
    for start in range(0, len(cards), per_row):
        row = cards[start:start + per_row]
        cols = st.columns(per_row, gap="medium")
        for i, (col, card) in enumerate(zip(cols, row, strict=False)):
            with col:
                if big:
                    _big_card(card, f"{key}.{start + i}", compare_note, drill_from)
                else:
                    _card(card, f"{key}.{start + i}", compare_note, compact, drill_from)


def _card(card: Kpi, key: str, note: str | None, compact: bool = False, drill_from: Filters | None = None) -> None:
    label = f"{card.label} {band_markdown(card.band)}" if compact and card.band else card.label
    with st.container(border=True, key=key, height="stretch"):
        flat = no_change(card.delta)
        st.metric(label, card.value, delta=card.delta, delta_color="off" if flat else card.delta_color,
                  delta_arrow="off" if flat else "auto", help=card.help,
                  delta_description=note if card.delta else None)
        if card.caption:
            st.caption(card.caption)
        if card.band and not compact:
            band_badge(card.band)
        drill.card_button(card.metric, card.label, drill_from, key, card.raw)


def _big_card(card: Kpi, key: str, note: str | None, drill_from: Filters | None = None) -> None:
    """Meeting-mode card: the label as a subheader, the value as a title (no CSS, readable across a room)."""
    with st.container(border=True, key=key, height="stretch"):
        st.subheader(card.label, anchor=False, help=card.help)
        st.title(card.value, anchor=False)
        if card.delta:
            good = card.delta.startswith("-") == (card.delta_color == "inverse")
            flat = no_change(card.delta)
            color = "gray" if card.delta_color == "off" or flat else ("green" if good else "red")
            arrow = "" if flat else "▼" if card.delta.startswith("-") else "▲"
            text = fmt.md_escape(card.delta.replace("-", "\u2212", 1))
            st.markdown(f"### :{color}[{arrow} {text}]")
            if note:
                st.caption(note)
        if card.caption:
            st.caption(card.caption)
        if card.band:
            band_badge(card.band)
        drill.card_button(card.metric, card.label, drill_from, key, card.raw)


# (metric, delta kind, delta colour) of the headline cards; pp = change in percentage points.
HEADLINE = (("leads", "rel", "normal"), ("won_deals", "rel", "normal"), ("conversion", "pp", "normal"),
            ("revenue", "rel", "normal"), ("costs", "rel", "inverse"), ("roi", "pp", "normal"))
MONEY_METRICS = ("revenue", "costs", "profit", "avg_check", "cpa", "ltv", "income")
PCT_METRICS = ("conversion", "roi", "revenue_share", "lead_to_qualified", "qualified_to_won", "junk_share",
               "win_rate_closed")


def conversion_metric(row: pd.Series) -> str:
    """The conversion a card shows: in the close view (its rows carry won_closed) the win rate of the leads closed in
    the period, whose counts are on screen (metrics-spec), else won leads of the period ÷ its leads."""
    return "win_rate_closed" if _num(row.get("won_closed")) is not None else "conversion"


def closed_counts(row: pd.Series) -> str:
    """The counts behind win_rate_closed: won of closed (won + lost) in the period, and lost."""
    code = lang()
    won, lost = _num(row.get("won_closed")) or 0.0, _num(row.get("lost_closed")) or 0.0
    return tr(TEXT, "closed.counts", won=fmt.num(won, code), closed=fmt.num(won + lost, code),
              lost=fmt.num(lost, code))


def _num(v: object) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def value_text(metric: str, v: object, currency: str = "RUB", short: bool = False) -> str:
    """A metric value formatted for the current language (money, percent, days or count)."""
    code, x = lang(), _num(v)
    if metric in MONEY_METRICS:
        return fmt.money_short(x, code, currency) if short else fmt.money(x, code, currency)
    if metric in PCT_METRICS:
        return fmt.pct(x, code)
    if metric in ("time_to_close_days", "purchases_per_client", "quality_score"):
        return fmt.num(x, code, 1)
    return fmt.num(x, code)


def _card_help(metric: str, row: pd.Series, currency: str) -> str | None:
    """The metric's description, plus the exact amount when the card shows a rounded one."""
    text = metric_help(metric)
    if metric in MONEY_METRICS:
        exact = value_text(metric, row.get(metric), currency)
        text = f"{exact}. {text}" if text else exact
    return text


def change(metric: str, kind: str, now: pd.Series, before: pd.Series | None) -> float | None:
    """now vs before: relative change (rel) or difference (pp); None when either side is missing."""
    if before is None:
        return None
    a, b = _num(now.get(metric)), _num(before.get(metric))
    if a is None or b is None:
        return None
    return a - b if kind == "pp" else fmt.ratio_delta(a, b)


def kpi_row(now: pd.Series, before: pd.Series | None, currency: str = "RUB",
            metrics: Sequence[tuple[str, str, str]] = HEADLINE) -> list[Kpi]:
    """Headline cards (leads, deals, conversion, revenue, costs, ROI with band) with deltas vs before; in the close
    view the conversion card is the win rate of the leads closed in the period, with its counts."""
    cards = []
    for name, kind, color in metrics:
        metric = conversion_metric(now) if name == "conversion" else name
        cards.append(Kpi(
            label=metric_label(metric), value=value_text(metric, now.get(metric), currency, short=True),
            delta=delta_text(change(metric, kind, now, before), kind), delta_color=color,
            help=_card_help(metric, now, currency),
            band=(now.get("roi_band") or "n/a") if metric == "roi" else None,
            caption=closed_counts(now) if metric == "win_rate_closed" else None,
            metric=metric, raw=_num(now.get(metric))))
    return cards


def band_markdown(band: str | None) -> str:
    """The ROI band as an inline Markdown badge (for labels: st.metric renders badges in its label)."""
    band = band or "n/a"
    return f":{BAND_COLORS.get(band, 'gray')}-badge[{fmt.md_escape(band_label(band))}]"


def band_badge(band: str | None) -> None:
    """The ROI band as a coloured badge with its label (очень эффективна, прибыльна, …)."""
    band = band or "n/a"
    st.badge(band_label(band), color=BAND_COLORS.get(band, "gray"))


def too_few_badge(min_leads: int = 30) -> None:
    """The "too few leads" badge."""
    st.badge(t("too_few"), color="gray", icon=":material/info:", help=tr(TEXT, "too_few.help", n=min_leads))


def no_leads_badge() -> None:
    """The "no leads" badge of a partner that has costs and no lead in the period."""
    st.badge(t("no_leads"), color="red", icon=":material/money_off:", help=t("no_leads.help"))


def empty(message: str | None = None) -> None:
    """An empty filter result: one sentence instead of an empty chart."""
    st.info(message or t("empty"), icon=":material/filter_alt_off:")


def freshness_line(info: dict | None) -> str:
    """One line: where the data comes from, when it was last synced, the account time zone (presentation.freshness:
    the exports' headers print the same line)."""
    return freshness.freshness_line(info, lang())


def show_freshness(info: dict | None) -> None:
    """The freshness line as a caption (account names escaped: they are CRM text)."""
    st.caption(":material/database: " + fmt.plain(freshness_line(info)))  # the CRM account name


def no_database() -> None:
    """The database file is missing: say how to create it and stop the run."""
    st.info(tr(TEXT, "no_db"), icon=":material/database_off:")
    st.stop()


def damaged_database(exc: store.DamagedDatabase) -> None:
    """The database file is damaged or not ours: say which and what to do, and stop the run."""
    st.error(exc.text(lang()), icon=":material/database_off:")
    st.stop()


def error_sentence(exc: BaseException) -> str:
    """What went wrong and what to do next, for a marketing lead (never a traceback)."""
    if isinstance(exc, store.DamagedDatabase):
        return exc.text(lang())
    if isinstance(exc, writes.WriteRefused):
        return str(exc)
    if store.is_damage(exc, data.db_path()):  # met mid-query on the rerun's shared connection
        return store.DamagedDatabase(data.db_path()).text(lang())
    kind = type(exc).__name__
    module = type(exc).__module__ or ""
    if kind == "StoreError":
        return tr(TEXT, "err.store")
    if kind == "FilterError":
        return tr(TEXT, "err.filter", msg=str(exc))
    if module.startswith("duckdb") and kind in ("CatalogException", "BinderException"):
        return tr(TEXT, "err.schema")
    return tr(TEXT, "err.other", kind=kind)


def show_error(exc: BaseException) -> None:
    """Log the traceback for developers and show one sentence on the page."""
    log.exception("page failed", exc_info=exc)
    st.error(error_sentence(exc), icon=":material/error:")

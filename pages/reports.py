"""Reports: downloads of the current view (CSV / Excel / PDF), partner statements, the weekly pack, a preview.

Files are built when a download button is pressed (deferred data), from results read once per run through
ui.data.query; nothing here touches the database directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

import pandas as pd
import streamlit as st

from metrics import lookups
from metrics.filters import Filters
from presentation import fmt
from reports import cells, csvout, exports, statement, view_data, view_tables, weekly
from reports.table import Table
from ui.data import query
from ui.filters import compare_mode, current, period_label, today
from ui.i18n import lang, t, tr

MIME = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pdf": "application/pdf"}
CRON = "0 8 * * MON cd /path/to/partner-roi && .venv/bin/python -m reports weekly --to-email team@example.ru"

TEXT = {
    "ru": {
        "caption": "Период: {period} · файлы строятся по текущим фильтрам боковой панели в момент скачивания.",
        "view": "Выгрузка текущего вида", "view.help": "Показатели, партнёры, модели, затраты и помесячная "
        "динамика — то же, что на страницах дашборда: с отметками «мало лидов», 95 % интервалами и незавершёнными "
        "месяцами. В начале файла — период, сравнение, фильтры и время данных в часовом поясе аккаунта.",
        "sep": "Разделитель CSV", "sep.semicolon": "точка с запятой (русский Excel, десятичная запятая)",
        "sep.comma": "запятая (десятичная точка)",
        "csv": "CSV", "xlsx": "Excel", "pdf": "PDF", "table": "Одна таблица в CSV", "table_csv": "Скачать таблицу",
        "t.kpis": "Показатели", "t.partners": "Партнёры", "t.models": "Модели", "t.costs": "Затраты",
        "t.monthly": "По месяцам",
        "statement": "Выписка для партнёра",
        "statement.help": "Только этот партнёр: его лиды, сделки, выручка, комиссии по правилам и начисления к "
                          "выплате. Ни имён других партнёров, ни итогов программы — можно отправлять партнёру.",
        "partner": "Партнёр", "partner.none": "Выберите партнёра", "statement.lang": "Язык выписки",
        "statement.pdf": "Выписка PDF", "statement.xlsx": "Выписка Excel",
        "statement.summary": "Итоги выписки за {period}",
        "weekly": "Недельный отчёт", "weekly.help": "Для еженедельной встречи: показатели неделя к неделе, "
        "главные изменения, смена оценки ROI, аномалии. Сделки — по дате закрытия.",
        "week_ending": "Неделя, заканчивающаяся", "weekly.build": "Собрать недельный отчёт",
        "weekly.pdf": "Недельный отчёт PDF", "weekly.xlsx": "Недельный отчёт Excel",
        "weekly.cron": "Чтобы отчёт приходил сам, добавьте в cron (подробности — в руководстве пользователя, раздел «Отчёты»):",
        "preview": "Предпросмотр", "preview.charts": "Показать графики из PDF",
        "lang.ru": "Русский", "lang.en": "English",
    },
    "en": {
        "caption": "Period: {period} · files follow the sidebar filters and are built when you download them.",
        "view": "Export the current view", "view.help": "KPIs, partners, models, costs and the monthly trend — "
        "the same numbers as the dashboard pages, with the \"too few leads\" marks, 95 % intervals and unfinished "
        "months. Each file opens with the period, comparison, filters and data time in the account's time zone.",
        "sep": "CSV separator", "sep.semicolon": "semicolon (Russian Excel, decimal comma)",
        "sep.comma": "comma (decimal point)",
        "csv": "CSV", "xlsx": "Excel", "pdf": "PDF", "table": "One table as CSV", "table_csv": "Download table",
        "t.kpis": "KPIs", "t.partners": "Partners", "t.models": "Models", "t.costs": "Costs", "t.monthly": "Monthly",
        "statement": "Partner statement",
        "statement.help": "This partner only: its leads, deals, revenue, commissions by rules and amounts owed. "
                          "No other partner's name, no program totals — safe to send to the partner.",
        "partner": "Partner", "partner.none": "Choose a partner", "statement.lang": "Statement language",
        "statement.pdf": "Statement PDF", "statement.xlsx": "Statement Excel",
        "statement.summary": "Statement totals for {period}",
        "weekly": "Weekly report", "weekly.help": "For the weekly meeting: week-over-week KPIs, top movers, ROI "
        "band changes, anomalies. Deals count by close date.",
        "week_ending": "Week ending", "weekly.build": "Build the weekly report",
        "weekly.pdf": "Weekly report PDF", "weekly.xlsx": "Weekly report Excel",
        "weekly.cron": "To receive it automatically, add this to cron (details in the user guide, section “Reports”):",
        "preview": "Preview", "preview.charts": "Show the PDF charts",
        "lang.ru": "Русский", "lang.en": "English",
    },
}
WEEKLY_FLAG = "reports._weekly_for"


def _now(when: datetime) -> datetime:
    """The current time in the time zone of a cached generation stamp."""
    return datetime.now(when.tzinfo)


def _download(label_key: str, data: Callable[[], bytes], file_name: str, fmt_: str, key: str) -> None:
    st.download_button(tr(TEXT, label_key), data=data, file_name=file_name, mime=MIME[fmt_], key=key,
                       icon=":material/download:", on_click="ignore")


def view_section(f: Filters, data: view_data.ViewData, code: str) -> None:
    """Downloads of the whole view and of single tables."""
    st.subheader(tr(TEXT, "view"), anchor=False)
    st.caption(tr(TEXT, "view.help"))
    sep = st.radio(tr(TEXT, "sep"), [";", ","], key="reports.sep", horizontal=True,
                   format_func=lambda s: tr(TEXT, "sep.semicolon" if s == ";" else "sep.comma"))

    def build(fmt_: str) -> Callable[[], bytes]:
        return lambda: exports.render(replace(data, generated_at=_now(data.generated_at)), fmt_, code, sep)

    with st.container(horizontal=True):
        for fmt_ in ("csv", "xlsx", "pdf"):
            _download(fmt_, build(fmt_), exports.filename("view", f, fmt_, code), fmt_, f"reports.download_{fmt_}")
    with st.container(horizontal=True, vertical_alignment="bottom"):
        table = st.selectbox(tr(TEXT, "table"), view_tables.TABLES, key="reports.table",
                             format_func=lambda k: tr(TEXT, f"t.{k}"))
        _download("table_csv", lambda: csvout.to_csv(view_tables.tables(data, code)[table], sep),
                  exports.filename(table, f, "csv", code), "csv", "reports.download_table")


def statement_section(f: Filters, code: str) -> None:
    """Partner statement builder: partner, language, two downloads and the totals."""
    st.subheader(tr(TEXT, "statement"), anchor=False)
    st.caption(tr(TEXT, "statement.help"))
    partners = query(lookups.partners)
    names = dict(zip(partners["partner_id"].astype(int), partners["name"].astype(str), strict=True))
    left, right = st.columns([3, 1])
    with left:
        pid = st.selectbox(tr(TEXT, "partner"), list(names), index=None, key="reports.partner",
                           format_func=lambda p: names.get(p, str(p)), placeholder=tr(TEXT, "partner.none"))
    with right:
        s_lang = st.radio(tr(TEXT, "statement.lang"), ["ru", "en"], key="reports.statement_lang",
                          index=0 if code == "ru" else 1, format_func=lambda c: tr(TEXT, f"lang.{c}"))
    if pid is None:
        return
    data = query(statement.collect, f, int(pid))

    def build(fmt_: str) -> Callable[[], bytes]:
        return lambda: statement.render(replace(data, generated_at=_now(data.generated_at)), fmt_, s_lang)

    with st.container(horizontal=True):
        for fmt_ in ("pdf", "xlsx"):
            _download(f"statement.{fmt_}", build(fmt_), statement.filename(data, fmt_, s_lang), fmt_,
                      f"reports.download_statement_{fmt_}")
    st.caption(tr(TEXT, "statement.summary", period=period_label(data.f)))
    summary = statement.summary_table(data, code)
    st.dataframe(_formatted(summary, data.currency, code), hide_index=True, key="reports.statement_summary", placeholder=fmt.DASH)


def _default_week(tz: str, data_max: date | None) -> date:
    """The last completed Sunday, or the last Sunday with data when the data end earlier (as the meeting opens)."""
    return weekly.default_week(today(tz), data_max)


def weekly_section(f: Filters, code: str, tz: str, data_max: date | None) -> None:
    """Weekly pack for a chosen week (built on request), with the cron hint."""
    st.subheader(tr(TEXT, "weekly"), anchor=False)
    st.caption(tr(TEXT, "weekly.help"))
    with st.container(horizontal=True, vertical_alignment="bottom"):
        week_ending = st.date_input(tr(TEXT, "week_ending"), value=_default_week(tz, data_max),
                                    key="reports.week_ending", format="DD.MM.YYYY")
        if st.button(tr(TEXT, "weekly.build"), key="reports.weekly_build", icon=":material/event_note:"):
            st.session_state[WEEKLY_FLAG] = week_ending
    if st.session_state.get(WEEKLY_FLAG) == week_ending:
        base = replace(f, date_from=week_ending, date_to=week_ending)
        pack = query(weekly.build_weekly, week_ending, base, "close")

        def build(fmt_: str) -> Callable[[], bytes]:
            fresh = replace(pack, generated_at=_now(pack.generated_at))
            return (lambda: weekly.weekly_pdf(fresh, code)) if fmt_ == "pdf" else (lambda: weekly.weekly_xlsx(fresh, code))

        stem = f"partner-roi-weekly-{week_ending:%Y-%m-%d}-{code}"
        with st.container(horizontal=True):
            for fmt_ in ("pdf", "xlsx"):
                _download(f"weekly.{fmt_}", build(fmt_), f"{stem}.{fmt_}", fmt_, f"reports.download_weekly_{fmt_}")
        summary = weekly.summary_table(pack, code)
        st.dataframe(_formatted(summary, pack.currency, code), hide_index=True, key="reports.weekly_summary", placeholder=fmt.DASH)
    st.caption(tr(TEXT, "weekly.cron"))
    st.code(CRON, language="bash")


def _formatted(table: Table, currency: str, code: str) -> pd.DataFrame:
    """A report table as the strings the PDF shows (1 234 567 ₽, 20,5 %)."""
    rows = cells.pdf_rows(table, code, currency)
    return pd.DataFrame(rows, columns=[table.label(c) for c in table.columns])


def preview_section(f: Filters, data: view_data.ViewData, code: str) -> None:
    """The KPI table of the exports and, on request, the PDF's chart images."""
    st.subheader(tr(TEXT, "preview"), anchor=False)
    kpi = view_tables.tables(data, code)["kpis"]
    shown = [kpi.label(c) for c in kpi.columns if c != "unit"]
    st.dataframe(_formatted(kpi, data.currency, code)[shown], hide_index=True, key="reports.preview_kpis",
                 placeholder=fmt.DASH)
    if st.toggle(tr(TEXT, "preview.charts"), key="reports.preview_charts"):
        for png in query(exports.view_images, f, code, compare_mode()):
            st.image(png)


def render() -> None:
    """The reports page."""
    f, code = current(), lang()
    info = query(lookups.freshness)
    st.title(t("page.reports"), anchor=False)
    st.caption(tr(TEXT, "caption", period=period_label(f)))
    data = query(view_data.collect, f, compare_mode())
    view_section(f, data, code)
    st.divider()
    statement_section(f, code)
    st.divider()
    weekly_section(f, code, str(info.get("timezone") or "Europe/Moscow"), query(lookups.data_range)[1])
    st.divider()
    preview_section(f, data, code)


if __name__ == "__main__":
    render()

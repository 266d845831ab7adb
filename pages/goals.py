"""Program goals: every goal's progress (actual, projected, status) and the editor to add or delete goals.

Render only: reads through ui.data.query, writes through ui.writes.write; goal errors come back from
programme.goals as sentences in the UI language.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from data_layer import plausibility
from data_layer.numbers import NumberTextError, parse_number
from metrics import lookups
from metrics.registry import METRICS
from presentation import fmt
from programme import goals
from programme.record_month import record_month
from ui import auth, confirm
from ui.data import query
from ui.goals_panel import (
    bar_value,
    detail_text,
    goal_title,
    period_text,
    scope_label,
    status_label,
    target_text,
    value_text,
)
from ui.i18n import lang, metric_label, model_label, tr
from ui.writes import write

TEXT = {
    "ru": {
        "title": "Цели программы",
        "caption": "Цель — значение показателя за период для всей программы, модели или партнёра. Для сумм "
                   "(лиды, сделки, выручка, затраты) прогноз — значение на конец периода при нынешнем темпе; "
                   "для долей и средних (конверсия, ROI, CPA) — текущее значение. Подробнее — в руководстве пользователя, раздел «Цели программы».",
        "progress": "Ход выполнения", "show": "Показать", "show.current": "текущие и недавние", "show.all": "все",
        "empty": "Целей пока нет — добавьте первую ниже.",
        "col.goal": "Цель", "col.scope": "Охват", "col.period": "Период", "col.target": "Цель",
        "col.actual": "Сейчас", "col.pace": "Прогноз на конец", "col.progress": "Выполнение",
        "col.status": "Статус", "col.note": "Комментарий",
        "add": "Новая цель", "scope": "Охват", "scope.program": "Вся программа", "scope.model": "Модель",
        "scope.partner": "Партнёр", "metric": "Показатель", "model": "Модель", "partner": "Партнёр",
        "op": "Условие", "op.>=": "не меньше (≥)", "op.<=": "не больше (≤)",
        "target": "Целевое значение", "target.pct": "Целевое значение, %", "from": "С", "to": "По",
        "note": "Комментарий", "who": "Кто добавляет (для журнала)", "save": "Добавить цель",
        "saved": "Цель добавлена.", "no_partners": "Партнёров пока нет — добавьте их на странице затрат.",
        "delete": "Удалить цель", "delete.pick": "Цель", "delete.do": "Удалить", "deleted": "Цель удалена.",
        "target.placeholder": "например 1 500 или 12,5",
        "confirm": "Да, цель верна — добавить её как есть",
    },
    "en": {
        "title": "Program goals",
        "caption": "A goal is a metric's value over a period for the whole program, a model or a partner. For "
                   "totals (leads, deals, revenue, costs) the projection is the value at period end at the "
                   "current pace; for shares and averages (conversion, ROI, CPA) it is the current value. "
                   "More in the user guide, section “Program goals”.",
        "progress": "Progress", "show": "Show", "show.current": "current and recent", "show.all": "all",
        "empty": "No goals yet — add the first one below.",
        "col.goal": "Goal", "col.scope": "Scope", "col.period": "Period", "col.target": "Target",
        "col.actual": "Now", "col.pace": "Projected", "col.progress": "Progress",
        "col.status": "Status", "col.note": "Note",
        "add": "New goal", "scope": "Scope", "scope.program": "Whole program", "scope.model": "Model",
        "scope.partner": "Partner", "metric": "Metric", "model": "Model", "partner": "Partner",
        "op": "Condition", "op.>=": "at least (≥)", "op.<=": "at most (≤)",
        "target": "Target value", "target.pct": "Target value, %", "from": "From", "to": "To",
        "note": "Note", "who": "Added by (for the audit log)", "save": "Add goal",
        "saved": "Goal added.", "no_partners": "No partners yet — add them on the costs page.",
        "delete": "Delete a goal", "delete.pick": "Goal", "delete.do": "Delete", "deleted": "Goal deleted.",
        "target.placeholder": "e.g. 1 500 or 12.5",
        "confirm": "Yes, the goal is right: add it as it is",
    },
}
FLASH = "goals._flash"
GOAL_CONFIRM = "goals.add"  # ui.confirm's key of the new goal's pending confirmation
DATE_FORMAT = {"ru": "DD.MM.YYYY", "en": "YYYY/MM/DD"}


def _month(today: date) -> tuple[date, date]:
    first = today.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def progress_table(df: pd.DataFrame, currency: str) -> pd.DataFrame:
    """The progress of every goal as display strings plus a 0–100 progress number."""
    rows = []
    for r in df.to_dict("records"):
        rows.append({
            tr(TEXT, "col.goal"): target_text(r, currency),
            tr(TEXT, "col.scope"): scope_label(r), tr(TEXT, "col.period"): period_text(r),
            tr(TEXT, "col.actual"): value_text(r["metric"], r["actual"], currency),
            tr(TEXT, "col.pace"): value_text(r["metric"], r["pace"], currency) if r["additive"] else "—",
            tr(TEXT, "col.progress"): round(bar_value(r) * 100, 1),
            tr(TEXT, "col.status"): status_label(r["status"]), tr(TEXT, "col.note"): r["note"] or "",
        })
    return pd.DataFrame(rows)


def progress_section(currency: str, today: date) -> None:
    """Every goal with its progress; current and recent ones by default."""
    st.subheader(tr(TEXT, "progress"), anchor=False)
    df = query(goals.goal_progress)
    if df.empty:
        st.info(tr(TEXT, "empty"), icon=":material/flag:")
        return
    show = st.segmented_control(tr(TEXT, "show"), ["current", "all"], default="current", key="goals.show",
                                required=True, format_func=lambda k: tr(TEXT, f"show.{k}"))
    if show != "all":
        df = df[df["date_to"].map(lambda d: d >= today - timedelta(days=31))]
    table = progress_table(df, currency)
    col = tr(TEXT, "col.progress")
    st.dataframe(table, hide_index=True, key="goals.table", column_config={
        col: st.column_config.ProgressColumn(col, min_value=0, max_value=100, format="%.0f%%")}, placeholder=fmt.DASH)
    for r in df[df["status"] == "off_track"].to_dict("records"):
        st.caption(":red[●] " + fmt.plain(goal_title(r, currency) + " — " + detail_text(r, currency)))


def _scope_fields(scope: str, partners: pd.DataFrame) -> tuple[str | None, int | None]:
    """The model or partner widget the scope needs."""
    if scope == "model":
        return st.selectbox(tr(TEXT, "model"), list(goals.GOAL_MODELS), format_func=model_label,
                            key="goals.model"), None
    if scope == "partner":
        ids = [int(p) for p in partners["partner_id"]]
        names = dict(zip(ids, partners["name"], strict=True))
        pid = st.selectbox(tr(TEXT, "partner"), ids, format_func=lambda p: str(names.get(p, p)), key="goals.partner")
        return None, pid
    return None, None


def add_section(partners: pd.DataFrame, today: date, currency: str = "RUB") -> None:
    """The form that adds a goal."""
    st.subheader(tr(TEXT, "add"), anchor=False)
    scope = st.segmented_control(tr(TEXT, "scope"), list(goals.SCOPES), default="program", key="goals.scope",
                                 required=True, format_func=lambda s: tr(TEXT, f"scope.{s}")) or "program"
    metric = st.selectbox(tr(TEXT, "metric"), list(goals.goal_metrics()), format_func=metric_label,
                          key="goals.metric")
    if scope == "partner" and partners.empty:
        st.info(tr(TEXT, "no_partners"))
        return
    percent = METRICS[metric].unit == "fraction"
    lo, hi = _month(today)
    with st.form("goals.add", border=True):
        model, partner_id = _scope_fields(scope, partners)
        c1, c2 = st.columns(2)
        op = c1.selectbox(tr(TEXT, "op"), list(goals.OPS), format_func=lambda o: tr(TEXT, f"op.{o}"), key="goals.op")
        target = c2.text_input(tr(TEXT, "target.pct" if percent else "target"), key="goals.target",
                               placeholder=tr(TEXT, "target.placeholder"))
        d1, d2 = st.columns(2)
        date_from = d1.date_input(tr(TEXT, "from"), value=lo, key="goals.from", format=DATE_FORMAT[lang()])
        date_to = d2.date_input(tr(TEXT, "to"), value=hi, key="goals.to", format=DATE_FORMAT[lang()])
        note = st.text_input(tr(TEXT, "note"), key="goals.note")
        typed = st.text_input(tr(TEXT, "who"), key="goals.who") if auth.principal().open_mode else ""
        goal = {"scope": scope, "metric": metric, "op": op, "target": target, "date_from": date_from,
                "date_to": date_to, "model": model, "partner_id": partner_id}
        sig = confirm.signature(sorted(goal.items()), percent)  # a tick confirms exactly this goal
        slot = st.container()  # the warning and its tick go above the button that confirms them
        if st.form_submit_button(tr(TEXT, "save"), key="goals.save", type="primary"):
            _save(goal, percent, note, actor(typed), sig, currency)
        with slot:
            confirm.show(GOAL_CONFIRM, sig, tr(TEXT, "confirm"))


def actor(typed: str = "") -> str:
    """Who a change is recorded as: the signed-in person; in open mode the typed name, else the local user."""
    person = auth.principal()
    if not person.open_mode:
        return person.actor
    return (typed or "").strip() or person.actor


def target_value(text: str, percent: bool) -> float:
    """The typed target as a number, read as a Russian user types it (12,5 · 1 000 000); percent as a fraction."""
    try:
        number = float(parse_number(text or ""))
    except NumberTextError:
        raise goals.GoalError("target", value=text) from None
    return number / 100 if percent else number


def far_findings(goal: dict, currency: str) -> list[plausibility.Finding]:
    """The goal's target and start far outside what the account has seen (data_layer.plausibility's rule)."""
    metric = goal["metric"]
    record = query(record_month, metric, goal["scope"], goal["model"], goal["partner_id"])
    days = (goal["date_to"] - goal["date_from"]).days + 1
    found = [
        plausibility.target_finding(goal["target"], record and record.value, record and record.month, days,
                                    goals.is_additive(metric), lambda v: value_text(metric, v, currency),
                                    bool(record and record.whole_program)),
        plausibility.month_finding(goal["date_from"], query(plausibility.account_scale), code="goal.month_far"),
    ]
    return [f for f in found if f is not None]


def _save(goal: dict, percent: bool, note: str, who: str, sig: str, currency: str) -> None:
    """Add the goal; a target or start far outside the account's history first waits for the tick."""
    try:
        values = {**goal, "target": target_value(goal["target"], percent)}
        found = [] if confirm.confirmed(GOAL_CONFIRM, sig) else far_findings(values, currency)
        if found:
            confirm.ask(GOAL_CONFIRM, sig, plausibility.ConfirmationNeeded(found))  # nothing written
            return
        write(goals.add_goal, **values, note=note, who=who)
    except goals.GoalError as exc:
        st.error(exc.text(lang()), icon=":material/error:")
        return
    confirm.clear(GOAL_CONFIRM)
    st.session_state[FLASH] = tr(TEXT, "saved")
    st.rerun()


def delete_section(currency: str) -> None:
    """Pick a goal and delete it."""
    listed = query(goals.list_goals)
    if listed.empty:
        return
    with st.expander(tr(TEXT, "delete")):
        titles = {int(r["goal_id"]): goal_title(r, currency) for r in listed.to_dict("records")}
        gid = st.selectbox(tr(TEXT, "delete.pick"), list(titles), format_func=lambda g: titles[g],
                           key="goals.delete_id")
        if st.button(tr(TEXT, "delete.do"), key="goals.delete"):
            try:
                write(goals.delete_goal, gid, who=actor(st.session_state.get("goals.who") or ""))
            except goals.GoalError as exc:
                st.error(exc.text(lang()), icon=":material/error:")
                return
            st.session_state[FLASH] = tr(TEXT, "deleted")
            st.rerun()


def render() -> None:
    """The goals page."""
    currency = query(lookups.freshness).get("currency") or "RUB"
    today = query(goals.account_today)
    st.title(tr(TEXT, "title"), anchor=False)
    st.caption(tr(TEXT, "caption"))
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    progress_section(currency, today)
    st.divider()
    if not auth.can("edit"):
        auth.read_only_note()
        return
    add_section(query(lookups.partners), today, currency)
    delete_section(currency)


if __name__ == "__main__":
    render()

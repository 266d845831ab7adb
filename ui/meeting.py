"""The weekly meeting flow: six screens read off one weekly pack (programme.weekly), with previous / next navigation.

The screen number and the week are widgets bound to the URL (``?step=3&week=2026-11-29``, Streamlit's
``bind="query-params"``), so a link reopens the same screen of the same week; ← and → (or the buttons) step through.
The pack is the one the weekly e-mail is made of, for the same week, filters and view, so the meeting and the
e-mail never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import streamlit as st

from presentation import fmt
from programme.weekly import WeeklyPack, week_maturing
from ui.filters import is_meeting, period_label
from ui.i18n import lang, tr
from ui.meeting_actions import anomalies, decisions, goals_off_track
from ui.meeting_changes import bands, movers, summary

K_STEP, K_WEEK = "step", "week"   # widget keys are the URL parameters' names (bind="query-params")
STEPS = ("summary", "movers", "bands", "anomalies", "goals", "decisions")
SCREENS: dict[str, Callable[[WeeklyPack], None]] = {
    "summary": summary, "movers": movers, "bands": bands, "anomalies": anomalies, "goals": goals_off_track,
    "decisions": decisions,
}

TEXT = {
    "ru": {
        "step.summary": "Неделя к неделе", "step.movers": "Главные изменения", "step.bands": "Смена оценки ROI",
        "step.anomalies": "Аномалии", "step.goals": "Цели, которые отстают", "step.decisions": "Что решить",
        "steps": "Экран встречи", "steps.help": "Экраны: {names}. Ссылка на страницу открывает тот же экран той же "
                                                "недели; ← и → листают экраны.",
        "prev": "Назад", "next": "Далее", "prev.help": "Предыдущий экран (клавиша ←)",
        "next.help": "Следующий экран (клавиша →)",
        "week": "Неделя до", "week.help": "Последний день недели встречи (по умолчанию — последнее прошедшее "
                                          "воскресенье с данными).",
        "caption": "Неделя {now} против {before} · сделки по дате закрытия, как в недельном отчёте",
        "maturing": "Неделя ещё созревает: сделки её лидов ещё закрываются, аномалий по ней нет.",
        "not_meeting": "Для общего экрана включите «Режим встречи» справа вверху: крупный шрифт, панель фильтров "
                       "скрыта.",
    },
    "en": {
        "step.summary": "Week over week", "step.movers": "Top movers", "step.bands": "ROI band changes",
        "step.anomalies": "Anomalies", "step.goals": "Goals off track", "step.decisions": "Decisions to take",
        "steps": "Meeting screen", "steps.help": "Screens: {names}. The page link opens the same screen of the same "
                                                 "week; ← and → step through the screens.",
        "prev": "Back", "next": "Next", "prev.help": "Previous screen (← key)", "next.help": "Next screen (→ key)",
        "week": "Week ending", "week.help": "The last day of the meeting's week (by default the last past Sunday "
                                            "with data).",
        "caption": "Week {now} against {before} · deals by close date, as in the weekly report",
        "maturing": "The week is still maturing: its leads' deals are still closing, so it gets no anomaly verdict.",
        "not_meeting": "For a shared screen switch on “Meeting mode” at the top right: large type, the filter panel "
                       "hidden.",
    },
}


def step_title(step: int, code: str | None = None) -> str:
    """A screen's name by its number (1-based)."""
    return tr(TEXT, f"step.{STEPS[step - 1]}", _lang=code)


def week_ending(default: date) -> date:
    """The meeting's week (?week=, else default): a date input bound to the URL."""
    value = st.date_input(tr(TEXT, "week"), value=default, key=K_WEEK, bind="query-params", help=tr(TEXT, "week.help"),
                          format="DD.MM.YYYY" if lang() == "ru" else "YYYY-MM-DD", width=150)
    return value if isinstance(value, date) else default


def _url_step() -> int:
    """The screen asked for in the URL before the bound widget has read it (1 when absent or invalid)."""
    try:
        value = int(st.query_params.get(K_STEP, "1"))
    except ValueError:
        return 1
    return value if 1 <= value <= len(STEPS) else 1


def _go(delta: int) -> None:
    """Button callback: the previous or next screen (programmatic set of the bound widget: the URL follows)."""
    now = int(st.session_state.get(K_STEP) or 1)
    st.session_state[K_STEP] = min(max(now + delta, 1), len(STEPS))


def navigation() -> int:
    """← [1 … 6] → : the buttons (keys ← and →) and the step control bound to ?step=; returns the screen shown."""
    if st.session_state.get(K_STEP) is None and K_STEP not in st.query_params:
        st.session_state[K_STEP] = 1  # screen 1 selected (a default= would clash with the buttons' session-state sets)
    now = int(st.session_state.get(K_STEP) or _url_step())
    code = lang()
    names = ", ".join(f"{i} — {step_title(i, code)}" for i in range(1, len(STEPS) + 1))
    with st.container(horizontal=True, horizontal_alignment="right", vertical_alignment="bottom", gap="small"):
        st.button(tr(TEXT, "prev"), key="meeting.prev", on_click=_go, args=(-1,), shortcut="Left",
                  disabled=now <= 1, help=tr(TEXT, "prev.help"))
        chosen = st.segmented_control(tr(TEXT, "steps"), list(range(1, len(STEPS) + 1)), key=K_STEP,
                                      required=True, bind="query-params", format_func=str,
                                      help=tr(TEXT, "steps.help", names=names))
        st.button(tr(TEXT, "next"), key="meeting.next", on_click=_go, args=(1,), shortcut="Right",
                  disabled=now >= len(STEPS),
                  type="primary", help=tr(TEXT, "next.help"))
    return int(chosen or 1)


def header(default_week: date) -> tuple[int, date]:
    """The title row: screen number and name on the left; week, step control and buttons on the right (under the
    title outside meeting mode, where the sidebar leaves too little width)."""
    left, right = (st.columns([5, 4], vertical_alignment="bottom") if is_meeting()
                   else (st.container(), st.container()))
    with right, st.container(horizontal=True, horizontal_alignment="right", vertical_alignment="bottom"):
        week = week_ending(default_week)
        step = navigation()
    with left:
        st.title(f"{step}. {step_title(step)}", anchor=False)
    return step, week


def show(pack: WeeklyPack, step: int) -> None:
    """The week line under the title, then the chosen screen."""
    code = lang()
    st.caption(tr(TEXT, "caption", now=period_label(pack.week), before=period_label(pack.previous)))
    if not is_meeting():
        st.caption(":material/co_present: " + tr(TEXT, "not_meeting"))
    if week_maturing(pack):
        st.caption(fmt.md_escape(tr(TEXT, "maturing", _lang=code)))
    SCREENS[STEPS[step - 1]](pack)

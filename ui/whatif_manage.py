"""What-if scenarios by name: open, delete, save, compare two, and apply one to the real ledger.

Nothing touches the real ledger, rules or margin until "Apply" is pressed after an explicit confirmation; saving
writes only the named scenario. Viewers may play with the inputs but not save or apply (ui.auth).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from data_layer import userdata
from data_layer.userdata import ScenarioInputs, UserDataError
from metrics import engine
from metrics.costs import Scenario
from metrics.filters import Filters
from presentation import fmt
from ui import auth
from ui.data import query
from ui.i18n import lang, metric_label, model_label, tr
from ui.whatif_results import value_text
from ui.whatif_state import NAME, flash, name, scenario_of, set_base, show_problems, unchanged
from ui.writes import write

TEXT = {
    "ru": {
        "open": "Сохранённые сценарии", "none_saved": "— нет сохранённых —",
        "load": "Открыть", "delete": "Удалить", "deleted": "Сценарий «{name}» удалён.",
        "loaded": "Открыт сценарий «{name}».",
        "save": "Сохранить сценарий", "name": "Название сценария", "overwrite": "Перезаписать, если есть",
        "saved": "Сценарий «{name}» сохранён.", "invalid": "Не сохранено — исправьте значения:",
        "compare.a": "Сценарий A", "compare.b": "Сценарий B", "compare.draft": "текущий черновик",
        "compare.caption": "Итог по моделям за период.", "col.model": "Модель", "series.actual": "Факт",
        "apply": "Применить к журналу", "apply.what": "Будет записано: строк журнала — {ledger}; правила комиссий "
                                                       "— {rules}; маржа — {margin}.",
        "apply.replace": "заменены целиком", "apply.keep": "без изменений",
        "confirm": "Я понимаю, что это изменит настоящий журнал затрат и правила для всех пользователей",
        "applied": "Сценарий применён: записано строк журнала {ledger}, правил {rules}.",
        "apply.nothing": "Применять нечего — сценарий совпадает с фактом.",
        "apply.bad": "Применять нечего, пока значения не исправлены.",
        "apply.failed": "Не применено — исправьте значения:",
    },
    "en": {
        "open": "Saved scenarios", "none_saved": "— none saved —",
        "load": "Open", "delete": "Delete", "deleted": "Scenario “{name}” deleted.",
        "loaded": "Opened scenario “{name}”.",
        "save": "Save scenario", "name": "Scenario name", "overwrite": "Overwrite if it exists",
        "saved": "Scenario “{name}” saved.", "invalid": "Not saved: fix these values:",
        "compare.a": "Scenario A", "compare.b": "Scenario B", "compare.draft": "current draft",
        "compare.caption": "Totals by model for the period.", "col.model": "Model", "series.actual": "Actual",
        "apply": "Apply to the ledger", "apply.what": "Will write: ledger rows — {ledger}; commission rules — "
                                                      "{rules}; margin — {margin}.",
        "apply.replace": "replaced entirely", "apply.keep": "unchanged",
        "confirm": "I understand this changes the real cost ledger and rules for every user",
        "applied": "Scenario applied: {ledger} ledger rows and {rules} rules written.",
        "apply.nothing": "Nothing to apply: the scenario equals the actuals.",
        "apply.bad": "Nothing can be applied until the values are fixed.",
        "apply.failed": "Not applied: fix these values:",
    },
}


def open_bar(saved: pd.DataFrame) -> None:
    """Open or delete a saved scenario."""
    names = saved["name"].astype(str).tolist()
    a, b, c = st.columns([4, 1, 1], vertical_alignment="bottom")
    with a:
        chosen = st.selectbox(tr(TEXT, "open"), names, key="what_if.open", index=0 if names else None,
                              placeholder=tr(TEXT, "none_saved"), disabled=not names)
    with b:
        if st.button(tr(TEXT, "load"), key="what_if.load", disabled=not names, width="stretch") and chosen:
            set_base(query(userdata.load_scenario, chosen), chosen, tr(TEXT, "loaded", name=chosen))
    with c:
        if st.button(tr(TEXT, "delete"), key="what_if.delete", type="secondary", width="stretch",
                     disabled=not names or not auth.allowed(userdata.delete_scenario)) and chosen:
            write(userdata.delete_scenario, chosen)
            flash(tr(TEXT, "deleted", name=chosen))
            st.rerun()


def save_box(inputs: ScenarioInputs | None, f: Filters) -> None:
    """Save the current scenario under a name (inputs None: they are not valid yet)."""
    a, b, c = st.columns([4, 2, 2], vertical_alignment="bottom")
    with a:
        typed = st.text_input(tr(TEXT, "name"), key="what_if.name", max_chars=userdata.MAX_NAME, value=name() or "")
    with b:
        overwrite = st.checkbox(tr(TEXT, "overwrite"), key="what_if.overwrite")
    with c:
        # viewers play with the inputs in their session; saving a shared scenario is an edit
        pressed = st.button(tr(TEXT, "save"), key="what_if.save", type="primary", width="stretch",
                            disabled=inputs is None or not auth.allowed(userdata.save_scenario))
    if pressed and inputs is not None:
        meta = {"name": (typed or "").strip(), "date_from": f.date_from.isoformat(),
                "date_to": f.date_to.isoformat()}
        try:
            write(userdata.save_scenario, typed, replace(inputs, meta=meta), overwrite=overwrite)
        except UserDataError as exc:
            show_problems(exc.lines(lang()), tr(TEXT, "invalid"))
            return
        st.session_state[NAME] = typed.strip()
        flash(tr(TEXT, "saved", name=typed.strip()))
        st.rerun()


def compare(f: Filters, saved: pd.DataFrame, draft: Scenario, actual_ledger: pd.DataFrame,
            currency: str) -> None:
    """Two scenarios and actuals side by side, by model."""
    code = lang()
    options = ["__draft__", *saved["name"].astype(str).tolist()]

    def label(o: str) -> str:
        return tr(TEXT, "compare.draft", _lang=code) if o == "__draft__" else o

    a, b = st.columns(2)
    with a:
        first = st.selectbox(tr(TEXT, "compare.a"), options, key="what_if.compare_a", format_func=label)
    with b:
        second = st.selectbox(tr(TEXT, "compare.b"), options, index=min(1, len(options) - 1),
                              key="what_if.compare_b", format_func=label)
    frames = [("actual", tr(TEXT, "series.actual"), query(engine.kpis, f, by="model"))]
    for option in (first, second):
        sc = draft if option == "__draft__" else scenario_of(query(userdata.load_scenario, option),
                                                              actual_ledger, option)
        frames.append((option, label(option), query(engine.kpis, f, by="model", scenario=sc)))
    table = pd.DataFrame({tr(TEXT, "col.model"): frames[0][2]["model"].map(model_label)})
    for _, title, frame in frames:
        frame = frames[0][2][["model"]].merge(frame, on="model", how="left")
        for metric in ("costs", "profit", "roi"):
            table[f"{metric_label(metric)} · {title}"] = [value_text(metric, v, currency) for v in frame[metric]]
    st.dataframe(table, hide_index=True, key="what_if.compare_table", placeholder=fmt.DASH)
    st.caption(tr(TEXT, "compare.caption"))


def apply_box(inputs: ScenarioInputs | None) -> None:
    """Write the scenario into the real ledger, rules and margin — only after an explicit confirmation."""
    st.subheader(tr(TEXT, "apply"), anchor=False)
    if not auth.can("apply"):
        auth.read_only_note()
        return
    if inputs is None:
        st.caption(tr(TEXT, "apply.bad"))
        return
    if unchanged(inputs):
        st.caption(tr(TEXT, "apply.nothing"))
        return
    st.write(tr(TEXT, "apply.what",
                ledger=0 if inputs.ledger is None else len(inputs.ledger),
                rules=tr(TEXT, "apply.keep") if inputs.rules is None else tr(TEXT, "apply.replace"),
                margin=tr(TEXT, "apply.keep") if inputs.margin is None else tr(TEXT, "apply.replace")))
    confirmed = st.checkbox(tr(TEXT, "confirm"), key="what_if.confirm")
    if st.button(tr(TEXT, "apply"), key="what_if.apply", type="primary",
                 disabled=not confirmed or not auth.allowed(userdata.apply_scenario)) and confirmed:
        try:
            done = write(userdata.apply_scenario, replace(inputs, meta={"name": name()}))
        except UserDataError as exc:
            show_problems(exc.lines(lang()), tr(TEXT, "apply.failed"))
            return
        st.session_state.pop("what_if.confirm", None)
        set_base(ScenarioInputs(), None, tr(TEXT, "applied", ledger=done["ledger_rows"], rules=done["rules"]))

"""What-if: edit cost inputs (a commission rate, ledger totals, rules, margin) and see ROI, profit, break-even and
the change against actuals beside them, recomputed on each edit.

Render only. Inputs on the left, the result panel on the right (one screen at 1440x900): the inputs are
ui.whatif_inputs, the panel and tables ui.whatif_results, break-even and reallocation ui.whatif_analysis, saving /
comparing / applying ui.whatif_manage, session state ui.whatif_state. The body is a fragment, so an edit reruns
the page body only, not the sidebar. A scenario lives in this browser session until it is saved by name; nothing
touches the real ledger until "Apply" is pressed after an explicit confirmation.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data_layer import userdata
from data_layer.userdata import ScenarioInputs, UserDataError
from metrics import engine, lookups, page_frames
from metrics.filters import Filters
from ui import layout, whatif_analysis, whatif_inputs, whatif_manage, whatif_results
from ui import whatif_state as state
from ui.data import prefetch_kpis, query
from ui.filters import current, period_label
from ui.i18n import lang, t, tr

TEXT = {
    "ru": {
        "caption": "Период: {period} · сценарий живёт в этой вкладке, пока вы его не сохраните; журнал затрат "
                   "не меняется до «Применить».",
        "invalid": "Сценарий не пересчитан — исправьте значения:",
        "details": "Подробно", "by_partner": "По партнёрам", "by_model": "По моделям",
        "breakeven": "Точка безубыточности и чувствительность к комиссии", "realloc": "Перераспределение бюджета",
        "compare": "Сравнить сценарии", "scenarios": "Сценарии",
    },
    "en": {
        "caption": "Period: {period} · a scenario lives in this tab until you save it; the cost ledger does not "
                   "change until “Apply”.",
        "invalid": "The scenario was not recomputed: fix these values:",
        "details": "Details", "by_partner": "By partner", "by_model": "By model",
        "breakeven": "Break-even and sensitivity to commission", "realloc": "Budget reallocation",
        "compare": "Compare scenarios", "scenarios": "Scenarios",
    },
}


def checked(inputs: ScenarioInputs, problems: list[str]) -> tuple[ScenarioInputs | None, list[str]]:
    """The inputs validated by userdata (partners resolved), or None and every sentence of what is wrong."""
    if problems:
        return None, problems
    try:
        return query(userdata.check_scenario, inputs), []
    except UserDataError as exc:
        return None, exc.lines(lang())


def details(f: Filters, inputs: ScenarioInputs, raw: ScenarioInputs, actual: dict, partners: pd.DataFrame,
            saved: pd.DataFrame, currency: str) -> None:
    """Actual-vs-scenario tables, break-even, reallocation and comparison in lazy tabs (only the open one runs)."""
    scenario = state.scenario_of(inputs, actual["ledger"], "draft")
    metric = state.metric_scenario(scenario, inputs)
    st.subheader(tr(TEXT, "details"), anchor=False)
    labels = [tr(TEXT, k) for k in ("by_partner", "by_model", "breakeven", "realloc", "compare")]
    tabs = st.tabs(labels, key="what_if.view", on_change="rerun")
    with tabs[0]:
        if tabs[0].open is not False:
            whatif_results.comparison_table(f, metric, "partner", currency)
    with tabs[1]:
        if tabs[1].open:
            whatif_results.comparison_table(f, metric, "model", currency)
    if tabs[2].open or tabs[3].open:
        by_partner = query(engine.kpis, f, by="partner", scenario=metric)
        with tabs[2]:
            if tabs[2].open:
                whatif_analysis.breakeven_section(f, metric, partners, by_partner)
        with tabs[3]:
            if tabs[3].open:
                whatif_analysis.reallocation_section(f, metric, raw, actual["ledger"], by_partner, currency)
    with tabs[4]:
        if tabs[4].open:
            whatif_manage.compare(f, saved, scenario, actual["ledger"], currency)


# @st.fragment
def body(f: Filters, currency: str, partners: pd.DataFrame) -> None:
    """Inputs beside the result, then the details and the scenarios; an edit reruns only this."""
    with state.fragment_run():
        state.show_flash()
        actual = {"ledger": query(userdata.read_ledger), "rules": query(userdata.list_rules),
                  "margin": query(userdata.get_margin)}
        all_partners = query(userdata.list_partners)
        left, right = st.columns([6, 5], gap="small")
        with left:
            quick_slot = st.container()
            raw, problems = whatif_inputs.current_inputs(f, state.base(), actual, partners,
                                                         all_partners["name"].tolist(), currency)
            with quick_slot:
                whatif_inputs.quick_rate(raw.rules if raw.rules is not None else actual["rules"], all_partners,
                                         raw, state.name())
        inputs, problems = checked(raw, problems)
        with right, st.container(border=True, key="what_if.result"):
            if inputs is None:
                whatif_results.panel_header(state.name())
                state.show_problems(problems, tr(TEXT, "invalid"))
            else:
                metric = state.metric_scenario(state.scenario_of(inputs, actual["ledger"], "draft"), inputs)
                if metric is not None:
                    prefetch_kpis(page_frames.what_if(f), scenario=metric)
                whatif_results.result_panel(f, metric, currency, st.session_state.get("what_if.rate_target"),
                                            state.name())
        saved = query(userdata.list_scenarios)
        if inputs is not None:
            details(f, inputs, raw, actual, partners, saved, currency)
        st.subheader(tr(TEXT, "scenarios"), anchor=False)
        whatif_manage.open_bar(saved)
        whatif_manage.save_box(inputs, f)
        whatif_manage.apply_box(inputs)


def render() -> None:
    """The what-if page."""
    f = current()
    currency = query(lookups.freshness).get("currency") or "RUB"
    st.title(t("page.what_if"), anchor=False)
    st.caption(tr(TEXT, "caption", period=period_label(f)))
    prefetch_kpis(page_frames.what_if(f))
    actual = query(engine.kpis, f, by="partner")
    if actual.empty:
        layout.empty()
        return
    body(f, currency, whatif_inputs.scope_partners(actual))


if __name__ == "__main__":
    render()

"""The forecast page's budget plan: budgets (or a target) for the next quarter, the projected leads, deals, revenue
and ROI with their intervals (programme.planning), and saving the plan as a scenario."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from data_layer.userdata import MAX_NAME, UserDataError
from presentation import fmt
from programme import planning
from ui import auth, layout
from ui.data import query
from ui.forecast_format import group_label, value_text
from ui.i18n import labeler, lang, tr
from ui.number_entry import EntryError, amount_text, percent_text, read_amount, read_number, typed_amounts
from ui.writes import write

K_PLAN_BY, K_PLAN_MODE, K_PLAN_BUDGETS = "forecast.plan_by", "forecast.plan_mode", "forecast.plan_budgets"
K_PLAN_TARGET, K_PLAN_TARGET_ROI = "forecast.plan_target", "forecast.plan_target_roi"
K_PLAN_TOTAL = "forecast.plan_total"
K_PLAN_NAME, K_PLAN_OVERWRITE, K_PLAN_SAVE = "forecast.plan_name", "forecast.plan_overwrite", "forecast.plan_save"
FLASH = "forecast._flash"  # the saved plan's sentence, shown once by the page after the rerun
PLAN_MODES = ("budget", "revenue", "roi")

TEXT = {
    "ru": {
        "total": "Всего", "by.model": "По моделям", "by.partner": "По партнёрам", "col.group": "Группа",
        "plan.title": "План бюджета на {quarter}",
        "plan.by": "Планировать", "plan.mode": "Что задаём", "plan.mode.budget": "Бюджеты",
        "plan.mode.revenue": "Цель по выручке", "plan.mode.roi": "Цель по ROI",
        "plan.target.revenue": "Выручка за квартал, {sign}", "plan.target.roi": "ROI не ниже, %",
        "plan.total": "Общий бюджет квартала, {sign}",
        "plan.empty": "Нет групп с затратами и лидами за последние 12 месяцев — план строить не на чем.",
        "plan.editor": "Бюджет на квартал по группам (по умолчанию — как в среднем за последние месяцы):",
        "plan.rates": "Исходные показатели за {start} – {end}",
        "plan.chance": "Вероятность достичь цели: {p}.",
        "plan.dropped": "Не получают бюджета (ROI ниже цели): {names}.",
        "plan.none": "Ни одна группа не достигает такого ROI — снизьте цель.",
        "col.budget": "Бюджет", "col.budget.sign": "Бюджет, {sign}",
        "col.budget.help": "Сумма на квартал, например «1 234 567» или «250 000,50».", "col.leads": "Лиды", "col.won": "Сделки", "col.revenue": "Выручка",
        "col.roi": "ROI", "col.cpl": "Цена лида", "col.conv": "Конверсия", "col.check": "Средний чек",
        "col.run_rate": "Бюджет, как сейчас",
        "plan.name": "Название сценария", "plan.overwrite": "Перезаписать план с тем же именем",
        "plan.save": "Сохранить как сценарий", "plan.saved": "План «{name}» сохранён в сценарии.",
        "plan.saved_list": "Сохранённые планы",
    },
    "en": {
        "total": "Total", "by.model": "By model", "by.partner": "By partner", "col.group": "Group",
        "plan.title": "Budget plan for {quarter}",
        "plan.by": "Plan by", "plan.mode": "Set", "plan.mode.budget": "Budgets",
        "plan.mode.revenue": "Revenue target", "plan.mode.roi": "ROI target",
        "plan.target.revenue": "Quarter revenue, {sign}", "plan.target.roi": "ROI at least, %",
        "plan.total": "Total quarter budget, {sign}",
        "plan.empty": "No group had both costs and leads in the last 12 months — nothing to plan from.",
        "plan.editor": "Quarter budget per group (default: the recent monthly average):",
        "plan.rates": "Basis: {start} – {end}",
        "plan.chance": "Chance of reaching the target: {p}.",
        "plan.dropped": "Get no budget (ROI below target): {names}.",
        "plan.none": "No group reaches that ROI — lower the target.",
        "col.budget": "Budget", "col.budget.sign": "Budget, {sign}",
        "col.budget.help": "The quarter's amount, e.g. “1,234,567” or “250,000.50”.", "col.leads": "Leads", "col.won": "Deals", "col.revenue": "Revenue",
        "col.roi": "ROI", "col.cpl": "Cost per lead", "col.conv": "Conversion", "col.check": "Average check",
        "col.run_rate": "Budget at run rate",
        "plan.name": "Scenario name", "plan.overwrite": "Overwrite a plan with the same name",
        "plan.save": "Save as scenario", "plan.saved": "Plan “{name}” saved as a scenario.",
        "plan.saved_list": "Saved plans",
    },
}


def _typed(label: str, key: str, default: str, read: Callable[[str], float]) -> float | None:
    """A number typed as text (Russian «12,5», «1 234 567»): its value, or None after showing why it is refused."""
    if key not in st.session_state:
        st.session_state[key] = default
    text = st.text_input(label, key=key)
    try:
        return read(text)
    except EntryError as exc:
        st.error(exc.sentence, icon=":material/error:")
        return None


def _budget_editor(plannable: pd.DataFrame, labels: list[str], currency: str) -> tuple[tuple[str, float], ...] | None:
    """The budgets per group as an editor of text cells; None after showing the cells it refuses."""
    st.caption(tr(TEXT, "plan.editor"))
    col = tr(TEXT, "col.budget.sign", sign=fmt.currency_symbol(currency, lang()))
    exact = plannable["run_rate"].round(-2).reset_index(drop=True)
    shown = exact.map(amount_text)
    frame = pd.DataFrame({"group": plannable["group"].tolist(), tr(TEXT, "col.group"): labels, col: shown})
    edited = st.data_editor(frame, key=K_PLAN_BUDGETS, hide_index=True, num_rows="fixed",
                            disabled=["group", tr(TEXT, "col.group")],
                            column_config={"group": None, col: st.column_config.TextColumn(
                                help=tr(TEXT, "col.budget.help"))})
    amounts, problems = typed_amounts(edited[col], shown, exact, lambda n: f"{labels[n - 1]}, {col}")
    for sentence in problems:
        st.error(sentence, icon=":material/error:")
    if problems:
        return None
    return tuple((str(g), float(v)) for g, v in zip(edited["group"], amounts, strict=True))


def _plan_inputs(by: str, mode: str, rates: pd.DataFrame, currency: str) -> dict[str, object] | None:
    """Budgets editor or target inputs; keyword arguments of planning.plan, or None when an input is refused."""
    plannable = rates[rates["plannable"]]
    labels = [group_label(by, g, lbl) for g, lbl in zip(plannable["group"], plannable["label"], strict=True)]
    sign = fmt.currency_symbol(currency, lang())
    if mode == "roi":
        label, total_label = tr(TEXT, "plan.target.roi"), tr(TEXT, "plan.total", sign=sign)
        c1, c2 = st.columns(2)
        with c1:
            target = _typed(label, K_PLAN_TARGET_ROI, percent_text(100.0), lambda x: read_number(x, label, "%"))
        with c2:
            total = _typed(total_label, K_PLAN_TOTAL, amount_text(round(plannable["run_rate"].sum(), -3)),
                           lambda x: read_amount(x, total_label, sign))
        if target is None or total is None:
            return None
        return {"target_kind": "roi", "target": target / 100, "total_budget": total}
    if mode == "revenue":
        label = tr(TEXT, "plan.target.revenue", sign=sign)
        default = round((plannable["run_rate"] * plannable["revenue_per_cost"].fillna(0)).sum(), -3)
        with st.columns(2)[0]:
            target = _typed(label, K_PLAN_TARGET, amount_text(default), lambda x: read_amount(x, label, sign))
        return None if target is None else {"target_kind": "revenue", "target": target}
    budgets = _budget_editor(plannable, labels, currency)
    return None if budgets is None else {"budgets": budgets}


def _projection_table(result: planning.PlanResult, by: str, currency: str) -> pd.DataFrame:
    code = lang()
    rows = result.projection.table

    def span(m: str, r: pd.Series, level: int) -> str:
        return f"{value_text(m, r[f'{m}_lo{level}'], currency)} – {value_text(m, r[f'{m}_hi{level}'], currency)}"

    out = {tr(TEXT, "col.group"): [tr(TEXT, "total") if g == "total" else group_label(by, g, lbl)
                                   for g, lbl in zip(rows["group"], rows["label"], strict=True)],
           tr(TEXT, "col.budget"): [fmt.money(v, code, currency) for v in rows["budget"]]}
    for m, col in (("leads", "col.leads"), ("won_deals", "col.won"), ("revenue", "col.revenue"), ("roi", "col.roi")):
        out[tr(TEXT, col)] = [value_text(m, r[m], currency) for _, r in rows.iterrows()]
        out[f"{tr(TEXT, col)} · 80 %"] = [span(m, r, 80) for _, r in rows.iterrows()]
        out[f"{tr(TEXT, col)} · 95 %"] = [span(m, r, 95) for _, r in rows.iterrows()]
    return pd.DataFrame(out)


def _rates_table(rates: pd.DataFrame, by: str, currency: str) -> pd.DataFrame:
    code = lang()
    r = rates[rates["plannable"]]
    return pd.DataFrame({
        tr(TEXT, "col.group"): [group_label(by, g, lbl) for g, lbl in zip(r["group"], r["label"], strict=True)],
        tr(TEXT, "col.cpl"): [fmt.money(v, code, currency) for v in r["cpl"]],
        tr(TEXT, "col.conv"): [fmt.pct(v, code) for v in r["conversion"]],
        tr(TEXT, "col.check"): [fmt.money(v, code, currency) for v in r["avg_check"]],
        tr(TEXT, "col.roi"): [fmt.pct(v, code) for v in r["roi"]],
        tr(TEXT, "col.run_rate"): [fmt.money(v, code, currency) for v in r["run_rate"]],
    })


def _save_box(result: planning.PlanResult) -> None:
    """Name + save: the plan goes to the scenarios table (cost inputs untouched)."""
    a, b, c = st.columns([4, 2, 2], vertical_alignment="bottom")
    with a:
        name = st.text_input(tr(TEXT, "plan.name"), key=K_PLAN_NAME, max_chars=MAX_NAME)
    with b:
        overwrite = st.checkbox(tr(TEXT, "plan.overwrite"), key=K_PLAN_OVERWRITE)
    with c:
        pressed = st.button(tr(TEXT, "plan.save"), key=K_PLAN_SAVE, type="primary",
                            disabled=not auth.allowed(planning.save_plan))  # a shared plan: an edit
    if pressed:
        target = {"kind": result.target_kind, "value": result.target} if result.target_kind else None
        payload = planning.plan_payload(result.basis, result.budgets, result.projection, target)
        try:
            write(planning.save_plan, name, payload, overwrite=overwrite)
        except UserDataError as exc:
            st.error(exc.text(lang()), icon=":material/error:")
            return
        st.session_state[FLASH] = tr(TEXT, "plan.saved", name=(name or "").strip())
        st.rerun()


def planning_section(f: object, currency: str) -> None:
    """Budgets (or a target) for the next quarter -> projected leads, deals, revenue and ROI with intervals."""
    code = lang()
    s = st.session_state
    if s.get(K_PLAN_BY) not in ("model", "partner"):
        s[K_PLAN_BY] = "model"
    if s.get(K_PLAN_MODE) not in PLAN_MODES:
        s[K_PLAN_MODE] = "budget"
    b = query(planning.basis, f, s[K_PLAN_BY])
    rates = planning.rates(b.monthly)
    st.subheader(tr(TEXT, "plan.title", quarter=b.quarter_label), anchor=False)
    c1, c2 = st.columns(2)
    with c1:
        by = st.segmented_control(tr(TEXT, "plan.by"), ("model", "partner"), key=K_PLAN_BY, required=True,
                                  format_func=labeler(TEXT, "by."))
    with c2:
        mode = st.segmented_control(tr(TEXT, "plan.mode"), PLAN_MODES, key=K_PLAN_MODE, required=True,
                                    format_func=labeler(TEXT, "plan.mode."))
    if rates.empty or not rates["plannable"].any():
        layout.empty(tr(TEXT, "plan.empty"))
        return
    st.caption(planning.ASSUMPTION[code].format(months=rates["months"].max(), start=fmt.month(b.first, code),
                                                end=fmt.month(b.last, code)))
    with st.expander(tr(TEXT, "plan.rates", start=fmt.month(b.first, code), end=fmt.month(b.last, code))):
        st.dataframe(_rates_table(rates, by, currency), hide_index=True, key="forecast.plan_rates", placeholder=fmt.DASH)
    kwargs = _plan_inputs(by, mode, rates, currency)
    if kwargs is None:  # a refused input: its sentence is shown, and no plan is drawn from a misread number
        return
    result = planning.plan_from(b, **kwargs)  # pure arithmetic on the cached basis
    if mode == "roi" and not result.budgets:
        st.warning(tr(TEXT, "plan.none"), icon=":material/warning:")
        return
    st.dataframe(_projection_table(result, by, currency), hide_index=True, key="forecast.plan_table", placeholder=fmt.DASH)
    if result.chance is not None:
        st.caption(tr(TEXT, "plan.chance", p=fmt.pct(result.chance, code, 0)))
    if result.dropped:
        names = dict(zip(rates["group"], rates["label"], strict=True))
        st.caption(tr(TEXT, "plan.dropped", names=", ".join(fmt.plain(group_label(by, g, names.get(g, g)))
                                                             for g in result.dropped)))
    _save_box(result)
    saved = query(planning.load_plans)
    if not saved.empty:
        with st.expander(tr(TEXT, "plan.saved_list")):
            st.dataframe(saved[["name", "quarter", "budget"]].assign(
                budget=[fmt.money(v, code, currency) for v in saved["budget"]]), hide_index=True,
                key="forecast.plan_saved", placeholder=fmt.DASH)

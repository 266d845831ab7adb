"""The forecast page's budget plan: budgets (or a target) for the next quarter, the projected leads, deals, revenue
and ROI with their intervals (programme.planning), and saving the plan as a scenario."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data_layer.userdata import MAX_NAME, UserDataError
from presentation import fmt
from programme import planning
from ui import auth, layout
from ui.data import query
from ui.forecast_format import group_label, value_text
from ui.i18n import labeler, lang, tr
from ui.writes import write

K_PLAN_BY, K_PLAN_MODE, K_PLAN_BUDGETS = "forecast.plan_by", "forecast.plan_mode", "forecast.plan_budgets"
K_PLAN_TARGET, K_PLAN_TOTAL = "forecast.plan_target", "forecast.plan_total"
K_PLAN_NAME, K_PLAN_OVERWRITE, K_PLAN_SAVE = "forecast.plan_name", "forecast.plan_overwrite", "forecast.plan_save"
FLASH = "forecast._flash"  # the saved plan's sentence, shown once by the page after the rerun
PLAN_MODES = ("budget", "revenue", "roi")

TEXT = {
    "ru": {
        "total": "Всего", "by.model": "По моделям", "by.partner": "По партнёрам", "col.group": "Группа",
        "plan.title": "План бюджета на {quarter}",
        "plan.by": "Планировать", "plan.mode": "Что задаём", "plan.mode.budget": "Бюджеты",
        "plan.mode.revenue": "Цель по выручке", "plan.mode.roi": "Цель по ROI",
        "plan.target.revenue": "Выручка за квартал, ₽", "plan.target.roi": "ROI не ниже, %",
        "plan.total": "Общий бюджет квартала, ₽",
        "plan.empty": "Нет групп с затратами и лидами за последние 12 месяцев — план строить не на чем.",
        "plan.editor": "Бюджет на квартал по группам (по умолчанию — как в среднем за последние месяцы):",
        "plan.rates": "Исходные показатели за {start} – {end}",
        "plan.chance": "Вероятность достичь цели: {p}.",
        "plan.dropped": "Не получают бюджета (ROI ниже цели): {names}.",
        "plan.none": "Ни одна группа не достигает такого ROI — снизьте цель.",
        "col.budget": "Бюджет", "col.leads": "Лиды", "col.won": "Сделки", "col.revenue": "Выручка",
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
        "plan.target.revenue": "Quarter revenue, ₽", "plan.target.roi": "ROI at least, %",
        "plan.total": "Total quarter budget, ₽",
        "plan.empty": "No group had both costs and leads in the last 12 months — nothing to plan from.",
        "plan.editor": "Quarter budget per group (default: the recent monthly average):",
        "plan.rates": "Basis: {start} – {end}",
        "plan.chance": "Chance of reaching the target: {p}.",
        "plan.dropped": "Get no budget (ROI below target): {names}.",
        "plan.none": "No group reaches that ROI — lower the target.",
        "col.budget": "Budget", "col.leads": "Leads", "col.won": "Deals", "col.revenue": "Revenue",
        "col.roi": "ROI", "col.cpl": "Cost per lead", "col.conv": "Conversion", "col.check": "Average check",
        "col.run_rate": "Budget at run rate",
        "plan.name": "Scenario name", "plan.overwrite": "Overwrite a plan with the same name",
        "plan.save": "Save as scenario", "plan.saved": "Plan “{name}” saved as a scenario.",
        "plan.saved_list": "Saved plans",
    },
}


def _plan_inputs(by: str, mode: str, rates: pd.DataFrame, currency: str) -> dict[str, object]:
    """Budgets editor or target inputs; returns keyword arguments of planning.plan."""
    plannable = rates[rates["plannable"]]
    labels = [group_label(by, g, lbl) for g, lbl in zip(plannable["group"], plannable["label"], strict=True)]
    if mode == "roi":
        target = st.number_input(tr(TEXT, "plan.target.roi"), value=100.0, step=10.0, key=K_PLAN_TARGET)
        total = st.number_input(tr(TEXT, "plan.total"), min_value=0.0, step=100000.0, key=K_PLAN_TOTAL,
                                value=float(round(plannable["run_rate"].sum(), -3)))
        return {"target_kind": "roi", "target": float(target) / 100, "total_budget": float(total)}
    if mode == "revenue":
        default = float(round((plannable["run_rate"] * plannable["revenue_per_cost"].fillna(0)).sum(), -3))
        target = st.number_input(tr(TEXT, "plan.target.revenue"), min_value=0.0, step=100000.0, value=default,
                                 key=K_PLAN_TARGET)
        return {"target_kind": "revenue", "target": float(target)}
    st.caption(tr(TEXT, "plan.editor"))
    frame = pd.DataFrame({"group": plannable["group"].tolist(), tr(TEXT, "col.group"): labels,
                          tr(TEXT, "col.budget"): plannable["run_rate"].round(-2).tolist()})
    edited = st.data_editor(frame, key=K_PLAN_BUDGETS, hide_index=True, num_rows="fixed", disabled=["group"],
                            column_config={"group": None, tr(TEXT, "col.budget"): st.column_config.NumberColumn(
                                min_value=0.0, step=10000.0, format="%.0f")})
    budgets = tuple((str(g), float(v or 0.0)) for g, v in zip(edited["group"], edited[tr(TEXT, "col.budget")],
                                                                strict=True))
    return {"budgets": budgets}


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

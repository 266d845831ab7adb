"""What-if inputs: a quick commission rate, period costs per partner x category, commission rules, margin.

Every number is typed as text and read the UI language's way (ui.number_entry: "12,5" is 12.5 in Russian, a
thousands space is fine); what cannot be used comes back as sentences and the scenario is not recomputed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st

from data_layer import userdata
from data_layer.userdata import CATEGORIES, MODELS, ScenarioInputs
from metrics.filters import Filters
from presentation import fmt
from ui.i18n import lang, model_label, t, tr
from ui.number_entry import EntryError, amount_text, percent_text, read_percent, typed_amount
from ui.rules_editor import rules_table
from ui.whatif_state import key, same_margin, set_base

TEXT = {
    "ru": {
        "quick": "Быстро: ставка комиссии", "target": "Для кого", "rate": "Ставка, %",
        "rate.set": "Задать ставку",
        "rate.help": "Процент от выручки сделки для модели (все её правила «% от выручки») или для одного "
                     "партнёра (его правила заменят правила модели). Пишите как обычно: 12,5 — это 12,5 %. "
                     "Enter или «Задать ставку» — применить.",
        "target.model": "модель: {label}", "target.partner": "партнёр: {name}",
        "tab.costs": "Затраты", "tab.rules": "Правила комиссий", "tab.margin": "Маржа",
        "costs.caption": "Затраты за период; новая сумма раскладывается по месяцам пропорционально текущим.",
        "costs.help": "То, что журнал относит к периоду. Изменённая сумма раскладывается по месяцам периода "
                      "пропорционально текущим (или по дням, если затрат не было). Пишите как обычно: "
                      "1 234 567,50.",
        "col.partner": "Партнёр", "col.category": "{label}, {sign}",
        "rules.caption": "Правило партнёра заменяет правила его модели. Ставка «% от выручки» — в процентах "
                         "(12,5 = 12,5 %), фиксированная — суммой.",
        "margin.caption": "Доход = выручка × маржа. Пусто — маржа не задана, доход равен выручке.",
        "margin.account": "По аккаунту, %", "margin.model": "{label}, %",
    },
    "en": {
        "quick": "Quick: commission rate", "target": "For", "rate": "Rate, %",
        "rate.set": "Set rate",
        "rate.help": "The percent of deal revenue for a model (all its percent-of-revenue rules) or for one "
                     "partner (its rules then replace the model's). Enter or “Set rate” applies it.",
        "target.model": "model: {label}", "target.partner": "partner: {name}",
        "tab.costs": "Costs", "tab.rules": "Commission rules", "tab.margin": "Margin",
        "costs.caption": "Costs in the period; a new amount is spread over the months like the current ones.",
        "costs.help": "What the ledger counts in the period. A changed amount is spread over the period's months "
                      "in proportion to the current ones (or by days when there were none).",
        "col.partner": "Partner", "col.category": "{label}, {sign}",
        "rules.caption": "A partner's rule replaces its model's rules. A “% of revenue” rate in percent "
                         "(12.5 = 12.5 %), a fixed one as an amount.",
        "margin.caption": "Income = revenue × margin. Empty: no margin, income equals revenue.",
        "margin.account": "Account-wide, %", "margin.model": "{label}, %",
    },
}
EDITOR_HEIGHT = 318  # eight rows: the editors scroll inside themselves, the result beside them stays in view
QUICK_APPLY = "what_if._quick_apply"


def scope_partners(actual: pd.DataFrame) -> pd.DataFrame:
    """Partners of the current filters that have leads or costs in the period: partner_id, partner, model."""
    rows = actual[actual["partner_id"].notna()][["partner_id", "partner", "model"]].copy()
    rows["partner_id"] = rows["partner_id"].astype("int64")
    return rows.reset_index(drop=True)


def costs_editor(f: Filters, partners: pd.DataFrame, merged: pd.DataFrame,
                 currency: str) -> tuple[pd.DataFrame, list[str]]:
    """Period totals per partner x category as text cells; returns the targets (long form) and any problems."""
    sign = fmt.currency_symbol(currency, lang())
    totals = userdata.period_totals(merged, f.date_from, f.date_to)
    wide = totals.pivot_table(index="partner_id", columns="category", values="amount", aggfunc="sum")
    values = partners.set_index("partner_id").join(wide).reindex(columns=["partner", *CATEGORIES])
    values[list(CATEGORIES)] = values[list(CATEGORIES)].astype(float).fillna(0.0).round(2)
    shown = values.copy().astype(object)
    for c in CATEGORIES:
        shown[c] = [amount_text(v) for v in values[c]]
    config: dict[str, Any] = {"partner": st.column_config.TextColumn(tr(TEXT, "col.partner"), disabled=True,
                                                                     pinned=True, help=tr(TEXT, "costs.help"))}
    labels = {c: tr(TEXT, "col.category", label=t(f"category.{c}"), sign=sign) for c in CATEGORIES}
    for c in CATEGORIES:
        config[c] = st.column_config.TextColumn(labels[c], alignment="right")
    edited = st.data_editor(shown, key=key("costs"), num_rows="fixed", hide_index=True, width="stretch",
                            height=EDITOR_HEIGHT, column_config=config)
    problems: list[str] = []
    targets: list[dict[str, Any]] = []
    for pid, row in edited.iterrows():
        for c in CATEGORIES:
            try:
                amount = typed_amount(row[c], shown.loc[pid, c], values.loc[pid, c],
                                      f"{row['partner']}, {t(f'category.{c}')}", sign)
            except EntryError as exc:
                problems.append(exc.sentence)
                continue
            targets.append({"partner_id": int(pid), "category": c, "amount": amount})
    return pd.DataFrame(targets, columns=["partner_id", "category", "amount"]), problems


def margin_inputs(margin: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Account-wide and per-model margin typed in percent (empty = none); returns the setting and problems."""
    st.caption(tr(TEXT, "margin.caption"))
    problems: list[str] = []
    cols = st.columns(2)

    def one(n: int, name: str, label: str, value: float | None) -> float | None:
        with cols[n % 2]:
            text = st.text_input(label, key=key(name), value=percent_text(None if value is None else value * 100))
        try:
            pct = read_percent(text, label, blank=True)
        except EntryError as exc:
            problems.append(exc.sentence)
            return None
        return None if pct is None else round(pct / 100, 6)

    account = one(0, "margin", tr(TEXT, "margin.account"), margin.get("account"))
    models = {}
    for n, model in enumerate(MODELS, start=1):
        value = one(n, f"margin_{model}", tr(TEXT, "margin.model", label=model_label(model)),
                    (margin.get("models") or {}).get(model))
        if value is not None:
            models[model] = value
    return {"account": account, "models": models}, problems


def _queue_quick_apply() -> None:
    """Enter in the rate field applies it like the button (callbacks may not rerun, so the run does)."""
    st.session_state[QUICK_APPLY] = True


def quick_rate(rules: pd.DataFrame, partners: pd.DataFrame, inputs: ScenarioInputs,
               scenario_name: str | None) -> None:
    """Set one model's or partner's percent-of-revenue rate in one step (restarts the rules editor); a refused
    rate is said under the field and changes nothing."""
    code = lang()
    options = [f"model:{m}" for m in MODELS] + [f"partner:{int(p)}" for p in partners["partner_id"]]
    names = dict(zip(partners["partner_id"].astype(int), partners["name"], strict=True))
    models = dict(zip(partners["partner_id"].astype(int), partners["model"], strict=True))
    labels = {o: tr(TEXT, "target.model", label=model_label(o[6:])) if o.startswith("model:")
              else tr(TEXT, "target.partner", name=names.get(int(o[8:]), o[8:])) for o in options}
    st.markdown(f"**{tr(TEXT, 'quick')}**")
    a, b, c = st.columns([4, 2, 2], vertical_alignment="bottom")
    with a:
        target = st.selectbox(tr(TEXT, "target"), options, key="what_if.rate_target", format_func=labels.get)
    with b:
        text = st.text_input(tr(TEXT, "rate"), value=percent_text(10.0), key="what_if.rate",
                             help=tr(TEXT, "rate.help", _lang=code), on_change=_queue_quick_apply)
    with c:
        pressed = st.button(tr(TEXT, "rate.set"), key="what_if.rate_set", width="stretch")
    entered = st.session_state.pop(QUICK_APPLY, False)  # read first: a click after typing must not apply twice
    if not (pressed or entered):
        return
    try:
        pct = read_percent(text, tr(TEXT, "rate"))
    except EntryError as exc:
        st.error(fmt.md_escape(exc.sentence), icon=":material/error:")
        return
    kind, value = target.split(":", 1)
    if kind == "model":
        new_rules = userdata.set_percent_rate(rules, pct / 100, model=value)
    else:
        new_rules = userdata.set_percent_rate(rules, pct / 100, partner=names[int(value)],
                                              partner_model=models[int(value)])
    set_base(replace(inputs, rules=new_rules), scenario_name)


def current_inputs(f: Filters, start: ScenarioInputs, actual: dict[str, Any], partners: pd.DataFrame,
                   names: list[str], currency: str) -> tuple[ScenarioInputs, list[str]]:
    """Draw the input tabs and return what they now hold (None = as actual) and the refused values.

    actual: {"ledger", "rules", "margin"} as stored."""
    costs_tab, rules_tab, margin_tab = st.tabs([tr(TEXT, k) for k in ("tab.costs", "tab.rules", "tab.margin")])
    with costs_tab:
        st.caption(tr(TEXT, "costs.caption"))
        merged = userdata.merge_ledger(actual["ledger"], start.ledger)
        targets, problems = costs_editor(f, partners, merged, currency)
    ledger = start.ledger
    if not problems and not targets.empty:
        changed = userdata.ledger_for_totals(merged, f.date_from, f.date_to, targets)
        ledger = userdata.combine_overrides(start.ledger, changed)
    with rules_tab:
        st.caption(tr(TEXT, "rules.caption"))
        rules, rule_problems = rules_table(start.rules if start.rules is not None else actual["rules"],
                                           key("rules"), names, currency)
    with margin_tab:
        margin, margin_problems = margin_inputs(start.margin if start.margin is not None else actual["margin"])
    inputs = ScenarioInputs(
        ledger=ledger,
        rules=None if userdata.same_rules(rules, actual["rules"]) else rules,
        margin=None if same_margin(margin, actual["margin"]) else margin,
    )
    return inputs, problems + rule_problems + margin_problems

"""What-if: edit cost inputs (ledger totals, commission rules, margin) and see ROI, profit, CPA, LTV recomputed.

A scenario lives in this browser session only (st.session_state) until it is saved by name; nothing touches the
real ledger until "Apply" is pressed after an explicit confirmation. Render only: metrics compute, userdata
stores, ui.data caches by (arguments, data version) — a scenario's content is part of the cache key, so two
users' scenarios never mix.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from data_layer import userdata
from data_layer.userdata import CATEGORIES, KINDS, MODELS, Problem, ScenarioInputs, UserDataError
from metrics import engine, lookups, page_frames
from metrics.costs import Scenario
from metrics.filters import Filters
from ui import auth, charts, fmt, layout
from ui.data import prefetch_kpis, query, write
from ui.filters import current, period_label
from ui.i18n import lang, metric_label, model_label, t, tr
from ui.tier_kind import tier_kind_column

TEXT = {
    "ru": {
        "caption": "Период: {period} · меняйте затраты, ставки комиссий и маржу — показатели пересчитываются "
                   "сразу. Сценарий живёт только в этой вкладке браузера, пока вы его не сохраните; журнал "
                   "затрат не меняется, пока вы не нажмёте «Применить».",
        "scenario": "Сценарий", "open": "Сохранённые сценарии", "none_saved": "— нет сохранённых —",
        "load": "Открыть", "delete": "Удалить", "reset": "Сбросить к факту", "deleted": "Сценарий «{name}» удалён.",
        "loaded": "Открыт сценарий «{name}».", "current": "Сейчас: {name}", "draft": "несохранённый черновик",
        "quick": "Быстро: ставка комиссии", "target": "Для кого", "rate": "Комиссия, % выручки",
        "rate.set": "Задать ставку", "rate.bad": "Ставка {value} % вне диапазона 0…100 % — введите процент "
                                                 "от 0 до 100.",
        "rate.help": "Задаёт процент от выручки сделки для модели (все её правила «% от выручки») или "
                     "для одного партнёра (его правила заменят правила модели).",
        "target.model": "модель: {label}", "target.partner": "партнёр: {name}",
        "costs": "Затраты партнёров за период по категориям",
        "costs.caption": "Суммы — то, что журнал относит к периоду. Изменённая сумма раскладывается по месяцам "
                         "периода пропорционально текущим (или по дням, если затрат не было).",
        "rules": "Правила комиссий сценария",
        "rules.caption": "Ставка: для «% от выручки» — проценты (10 = 10 %), для фиксированных — сумма. Правило "
                         "партнёра заменяет правила его модели.",
        "margin": "Маржа (доход = выручка × маржа)", "margin.account": "По аккаунту, %",
        "margin.model": "{label}, %", "margin.help": "Пусто — маржа не задана, доход равен выручке.",
        "col.partner": "Партнёр", "col.model": "Модель", "col.kind": "Вид", "col.rate": "Ставка (% или сумма)",
        "col.tiers": "Ступени (JSON)", "col.from": "Действует с", "col.to": "Действует по",
        "col.tier_kind": "Ступени", "tier_kind.whole": "на всю выручку месяца",
        "tier_kind.marginal": "по частям (как налоговая шкала)",
        "kind.percent_revenue": "% от выручки", "kind.fixed_per_deal": "Сумма за сделку",
        "kind.fixed_per_qualified_lead": "Сумма за квалиф. лид",
        "invalid": "Сценарий не пересчитан — исправьте значения:",
        "results": "Факт и сценарий", "by_partner": "По партнёрам", "by_model": "По моделям",
        "col.actual": "{metric}: факт", "col.scenario": "{metric}: сценарий", "col.delta": "{metric}: Δ",
        "chart": "ROI: факт и сценарий", "vs_actual": "к факту", "series.actual": "Факт", "series.scenario": "Сценарий",
        "no_change": "Сценарий пока совпадает с фактом — измените затраты, ставки или маржу.",
        "save": "Сохранить сценарий", "name": "Название сценария", "overwrite": "Перезаписать, если есть",
        "saved": "Сценарий «{name}» сохранён.",
        "compare": "Сравнить сценарии", "compare.a": "Сценарий A", "compare.b": "Сценарий B",
        "compare.draft": "текущий черновик", "compare.caption": "Итог по моделям за период.",
        "apply": "Применить к журналу", "apply.what": "Будет записано: строк журнала — {ledger}; правила комиссий "
                                                       "— {rules}; маржа — {margin}.",
        "apply.replace": "заменены целиком", "apply.keep": "без изменений",
        "confirm": "Я понимаю, что это изменит настоящий журнал затрат и правила для всех пользователей",
        "applied": "Сценарий применён: записано строк журнала {ledger}, правил {rules}.",
        "apply.nothing": "Применять нечего — сценарий совпадает с фактом.",
        "basis.margin": "Доход = выручка × маржа.", "basis.revenue": "Доход = выручка (маржа не задана).",
        "breakeven": "Точка безубыточности и чувствительность к комиссии",
        "breakeven.caption": "При какой ставке комиссии (% от выручки) ROI партнёра станет нулевым, если остальные "
                             "затраты сценария не менять; график — ROI при разных ставках.",
        "sens.partners": "Партнёры", "col.rate_now": "Ставка сейчас", "col.breakeven": "Безубыточная ставка",
        "col.headroom": "Запас", "loss_anyway": "убыточен и без процентной комиссии",
        "no_revenue": "нет выручки", "sens.rate": "Ставка комиссии, % выручки", "sens.roi": "ROI",
        "realloc": "Перераспределение бюджета",
        "realloc.caption": "Бюджет (затраты журнала) переносится только от партнёров, чей 95-% интервал ROI "
                           "целиком ниже ROI всех партнёров ({ref}), к тем, чей интервал целиком выше. Партнёры "
                           "с малым числом лидов не участвуют.",
        "realloc.assume": "Оценка предполагает постоянную отдачу: каждый перенесённый рубль приносит столько же, "
                          "сколько в среднем приносил до сих пор. На деле отдача от дополнительного бюджета "
                          "обычно падает — считайте это верхней оценкой и проверяйте на небольшом шаге.",
        "realloc.share": "Какую долю бюджета перенести от слабых партнёров", "realloc.none":
            "Нет партнёров, чей ROI уверенно ниже или выше общего, — перераспределять бюджет по этим данным "
            "нельзя.",
        "realloc.effect": "Ожидаемый прирост прибыли: {mid} (от {low} до {high} по интервалам ROI); перенос "
                          "{amount}.",
        "realloc.add": "Добавить перенос в сценарий", "role.donor": "отдаёт", "role.recipient": "получает",
        "col.interval": "ROI, 95 % интервал", "col.role": "Роль", "col.move": "Изменение бюджета",
    },
    "en": {
        "caption": "Period: {period} · change costs, commission rates and margin — the figures are recomputed "
                   "at once. A scenario lives only in this browser tab until you save it; the cost ledger does "
                   "not change until you press “Apply”.",
        "scenario": "Scenario", "open": "Saved scenarios", "none_saved": "— none saved —",
        "load": "Open", "delete": "Delete", "reset": "Reset to actuals", "deleted": "Scenario “{name}” deleted.",
        "loaded": "Opened scenario “{name}”.", "current": "Now: {name}", "draft": "unsaved draft",
        "quick": "Quick: commission rate", "target": "For", "rate": "Commission, % of revenue",
        "rate.set": "Set rate", "rate.bad": "The rate {value} % is outside 0…100 %: type a percentage from 0 "
                                            "to 100.",
        "rate.help": "Sets the percent of deal revenue for a model (all its percent-of-revenue rules) or for "
                     "one partner (its rules then replace the model's).",
        "target.model": "model: {label}", "target.partner": "partner: {name}",
        "costs": "Partner costs in the period by category",
        "costs.caption": "Amounts are what the ledger counts in the period. A changed amount is spread over the "
                         "period's months in proportion to the current ones (or by days when there were none).",
        "rules": "Scenario commission rules",
        "rules.caption": "Rate: percent for “% of revenue” (10 = 10 %), an amount for fixed rules. A partner's "
                         "rule replaces its model's rules.",
        "margin": "Margin (income = revenue × margin)", "margin.account": "Account-wide, %",
        "margin.model": "{label}, %", "margin.help": "Empty: no margin, income equals revenue.",
        "col.partner": "Partner", "col.model": "Model", "col.kind": "Kind", "col.rate": "Rate (% or amount)",
        "col.tiers": "Tiers (JSON)", "col.from": "Valid from", "col.to": "Valid to",
        "col.tier_kind": "Tiers", "tier_kind.whole": "on the whole month's revenue",
        "tier_kind.marginal": "in parts (like tax brackets)",
        "kind.percent_revenue": "% of revenue", "kind.fixed_per_deal": "Amount per deal",
        "kind.fixed_per_qualified_lead": "Amount per qualified lead",
        "invalid": "The scenario was not recomputed: fix these values:",
        "results": "Actuals and scenario", "by_partner": "By partner", "by_model": "By model",
        "col.actual": "{metric}: actual", "col.scenario": "{metric}: scenario", "col.delta": "{metric}: Δ",
        "chart": "ROI: actual and scenario", "vs_actual": "vs actual", "series.actual": "Actual", "series.scenario": "Scenario",
        "no_change": "The scenario still equals the actuals: change costs, rates or margin.",
        "save": "Save scenario", "name": "Scenario name", "overwrite": "Overwrite if it exists",
        "saved": "Scenario “{name}” saved.",
        "compare": "Compare scenarios", "compare.a": "Scenario A", "compare.b": "Scenario B",
        "compare.draft": "current draft", "compare.caption": "Totals by model for the period.",
        "apply": "Apply to the ledger", "apply.what": "Will write: ledger rows — {ledger}; commission rules — "
                                                      "{rules}; margin — {margin}.",
        "apply.replace": "replaced entirely", "apply.keep": "unchanged",
        "confirm": "I understand this changes the real cost ledger and rules for every user",
        "applied": "Scenario applied: {ledger} ledger rows and {rules} rules written.",
        "apply.nothing": "Nothing to apply: the scenario equals the actuals.",
        "basis.margin": "Income = revenue × margin.", "basis.revenue": "Income = revenue (no margin set).",
        "breakeven": "Break-even and sensitivity to commission",
        "breakeven.caption": "The percent-of-revenue commission rate at which a partner's ROI falls to zero with "
                             "the scenario's other costs unchanged; the chart shows ROI at other rates.",
        "sens.partners": "Partners", "col.rate_now": "Rate now", "col.breakeven": "Break-even rate",
        "col.headroom": "Headroom", "loss_anyway": "loses money even without a percent commission",
        "no_revenue": "no revenue", "sens.rate": "Commission rate, % of revenue", "sens.roi": "ROI",
        "realloc": "Budget reallocation",
        "realloc.caption": "Budget (ledger costs) moves only from partners whose 95 % ROI interval lies wholly "
                           "below the ROI of all partners ({ref}) to those whose interval lies wholly above it. "
                           "Partners with too few leads take no part.",
        "realloc.assume": "The estimate assumes constant returns: every moved rouble earns what an average rouble "
                          "earned so far. Returns on extra budget usually fall, so treat this as an upper "
                          "estimate and try it in a small step.",
        "realloc.share": "Share of the weak partners' budget to move", "realloc.none":
            "No partner's ROI is clearly below or above the overall ROI: these data do not support moving "
            "budget.",
        "realloc.effect": "Expected profit gain: {mid} ({low} to {high} across the ROI intervals); moving "
                          "{amount}.",
        "realloc.add": "Add the move to the scenario", "role.donor": "gives", "role.recipient": "receives",
        "col.interval": "ROI, 95 % interval", "col.role": "Role", "col.move": "Budget change",
    },
}

BASE, GEN, FLASH, NAME = "what_if._base", "what_if._gen", "what_if._flash", "what_if._name"
RULE_COLS = ["rule_id", "model", "partner", "kind", "rate", "tiers", "tier_kind", "valid_from", "valid_to"]
MONEY = ("costs", "profit", "cpa", "ltv", "revenue", "income")
COMPARE_METRICS = ("costs", "profit", "roi", "cpa", "ltv")


# ---------------------------------------------------------------- session state

def _key(name: str) -> str:
    """Key of an input whose starting value comes from the scenario base (a new base starts it afresh)."""
    gen = st.session_state.get(GEN, 0)
    return f"what_if.{name}" if gen == 0 else f"what_if.{name}.{gen}"


def base() -> ScenarioInputs:
    """The scenario the inputs start from (empty = actuals)."""
    return st.session_state.get(BASE) or ScenarioInputs()


def set_base(inputs: ScenarioInputs, name: str | None, flash: str | None = None) -> None:
    """Start the inputs from a new scenario, then rerun."""
    st.session_state[BASE] = inputs
    st.session_state[NAME] = name
    st.session_state[GEN] = st.session_state.get(GEN, 0) + 1
    if flash:
        st.session_state[FLASH] = flash
    st.rerun()


def show_problems(problems: list[Problem], intro: str) -> None:
    """Validation problems, one per line, user text shown literally."""
    code = lang()
    body = "\n".join(f"- {fmt.md_escape(p.text(code))}" for p in problems)
    st.error(f"{fmt.md_escape(intro)}\n\n{body}", icon=":material/error:")


# ---------------------------------------------------------------- inputs

def scope_partners(actual: pd.DataFrame) -> pd.DataFrame:
    """Partners of the current filters that have leads or costs in the period: partner_id, partner, model."""
    rows = actual[actual["partner_id"].notna()][["partner_id", "partner", "model"]].copy()
    rows["partner_id"] = rows["partner_id"].astype("int64")
    return rows.reset_index(drop=True)


def costs_editor(f: Filters, partners: pd.DataFrame, merged: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """Period totals per partner x category, editable; returns the targets (long form) and any problems."""
    totals = userdata.period_totals(merged, f.date_from, f.date_to)
    wide = totals.pivot_table(index="partner_id", columns="category", values="amount", aggfunc="sum")
    frame = partners.set_index("partner_id").join(wide).reindex(columns=["partner", "model", *CATEGORIES])
    frame[list(CATEGORIES)] = frame[list(CATEGORIES)].astype(float).fillna(0.0).round(2)
    frame["model"] = frame["model"].map(model_label)
    config: dict[str, Any] = {
        "partner": st.column_config.TextColumn(tr(TEXT, "col.partner"), disabled=True),
        "model": st.column_config.TextColumn(tr(TEXT, "col.model"), disabled=True),
    }
    for c in CATEGORIES:
        config[c] = st.column_config.NumberColumn(t(f"category.{c}"), min_value=0.0, format="localized")
    edited = st.data_editor(frame, key=_key("costs"), num_rows="fixed", hide_index=True, width="stretch",
                            column_config=config)
    problems: list[Problem] = []
    targets: list[dict[str, Any]] = []
    for line, (pid, row) in enumerate(edited.iterrows(), start=1):
        for c in CATEGORIES:
            try:
                amount = userdata.to_amount(row[c], line)
            except UserDataError as exc:
                problems.extend(exc.problems)
                continue
            targets.append({"partner_id": int(pid), "category": c, "amount": amount})
    return pd.DataFrame(targets, columns=["partner_id", "category", "amount"]), problems


def rules_editor(rules: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The scenario's commission rules, editable (percent rates in percent); returns storage units."""
    frame = userdata.rules_in_percent(rules.reindex(columns=RULE_COLS))
    frame["tier_kind"] = frame["tier_kind"].map(userdata.tier_kind_of)  # a scenario saved before tier kinds
    edited = st.data_editor(
        frame, key=_key("rules"), num_rows="dynamic", hide_index=True, width="stretch",
        column_order=RULE_COLS[1:],
        column_config={
            "model": st.column_config.SelectboxColumn(tr(TEXT, "col.model"), options=list(MODELS),
                                                      format_func=model_label),
            "partner": st.column_config.SelectboxColumn(tr(TEXT, "col.partner"), options=names),
            "kind": st.column_config.SelectboxColumn(tr(TEXT, "col.kind"), options=list(KINDS), required=True,
                                                     format_func=lambda k: tr(TEXT, f"kind.{k}"),
                                                     default="percent_revenue"),
            "rate": st.column_config.NumberColumn(tr(TEXT, "col.rate"), min_value=0.0, format="localized"),
            "tiers": st.column_config.TextColumn(tr(TEXT, "col.tiers")),
            "tier_kind": tier_kind_column(tr(TEXT, "col.tier_kind"), lambda k: tr(TEXT, f"tier_kind.{k}")),
            "valid_from": st.column_config.DateColumn(tr(TEXT, "col.from")),
            "valid_to": st.column_config.DateColumn(tr(TEXT, "col.to")),
        },
    )
    return userdata.rules_from_percent(edited)


def margin_inputs(margin: dict[str, Any]) -> dict[str, Any]:
    """Account-wide and per-model margin in percent (empty = none); returns the margin setting."""
    st.markdown(f"**{tr(TEXT, 'margin')}**")
    cols = st.columns(1 + len(MODELS))

    def one(col: Any, key: str, label: str, value: float | None) -> float | None:
        with col:
            pct = st.number_input(label, min_value=0.0, max_value=100.0, step=1.0, key=_key(key),
                                  value=None if value is None else round(value * 100, 4),
                                  help=tr(TEXT, "margin.help"))
        return None if pct is None else pct / 100

    account = one(cols[0], "margin", tr(TEXT, "margin.account"), margin.get("account"))
    models = {}
    for col, model in zip(cols[1:], MODELS, strict=True):
        value = one(col, f"margin_{model}", tr(TEXT, "margin.model", label=model_label(model)),
                    (margin.get("models") or {}).get(model))
        if value is not None:
            models[model] = value
    return {"account": account, "models": models}


def quick_rate(slot: Any, rules: pd.DataFrame, partners: pd.DataFrame, current_inputs: ScenarioInputs) -> None:
    """Set one model's or partner's percent-of-revenue rate in one step (restarts the rules editor)."""
    options = [f"model:{m}" for m in MODELS] + [f"partner:{int(p)}" for p in partners["partner_id"]]
    names = dict(zip(partners["partner_id"].astype(int), partners["name"], strict=True))
    models = dict(zip(partners["partner_id"].astype(int), partners["model"], strict=True))

    def label(option: str) -> str:
        kind, value = option.split(":", 1)
        if kind == "model":
            return tr(TEXT, "target.model", label=model_label(value))
        return tr(TEXT, "target.partner", name=names.get(int(value), value))

    with slot:
        st.markdown(f"**{tr(TEXT, 'quick')}**")
        a, b, c = st.columns([3, 2, 1], vertical_alignment="bottom")
        with a:
            target = st.selectbox(tr(TEXT, "target"), options, key="what_if.rate_target", format_func=label)
        with b:
            pct = st.number_input(tr(TEXT, "rate"), min_value=None, max_value=None, value=10.0, step=0.5,
                                  key="what_if.rate", help=tr(TEXT, "rate.help"))
        with c:
            pressed = st.button(tr(TEXT, "rate.set"), key="what_if.rate_set")
        if not pressed:
            return
        if pct is None or not 0 <= pct <= 100 or pct != pct:
            st.error(tr(TEXT, "rate.bad", value=pct), icon=":material/error:")
            return
        kind, value = target.split(":", 1)
        if kind == "model":
            new_rules = userdata.set_percent_rate(rules, pct / 100, model=value)
        else:
            new_rules = userdata.set_percent_rate(rules, pct / 100, partner=names[int(value)],
                                                  partner_model=models[int(value)])
        set_base(replace(current_inputs, rules=new_rules), st.session_state.get(NAME))


# ---------------------------------------------------------------- results

def scenario_of(inputs: ScenarioInputs, actual_ledger: pd.DataFrame, name: str = "") -> Scenario:
    """The metrics Scenario of some inputs: the full ledger with overrides merged in, rules, margin."""
    ledger = None if inputs.ledger is None else userdata.merge_ledger(actual_ledger, inputs.ledger)
    return Scenario(ledger=ledger, rules=inputs.rules, margin=inputs.margin, name=name)


def _fmt(metric: str, value: Any, currency: str) -> str:
    code = lang()
    v = None if value is None or pd.isna(value) else float(value)
    if metric in MONEY:
        return fmt.money(v, code, currency)
    if metric == "roi":
        return fmt.pct(v, code)
    return fmt.num(v, code)


def _delta(metric: str, a: Any, b: Any, currency: str) -> str:
    code = lang()
    if a is None or b is None or pd.isna(a) or pd.isna(b):
        return fmt.DASH
    diff = float(b) - float(a)
    if metric == "roi":
        return fmt.signed_pp(diff, code)
    sign = "+" if diff >= 0 else "\u2212"
    return sign + _fmt(metric, abs(diff), currency)


def side_by_side(actual: pd.DataFrame, scen: pd.DataFrame, keys: list[str], label_col: str,
                 currency: str) -> pd.DataFrame:
    """Actual, scenario and delta columns of costs, profit, ROI, CPA and LTV per row, formatted."""
    both = actual.merge(scen, on=keys, how="outer", suffixes=("", "_s"))
    out = pd.DataFrame({tr(TEXT, "col.partner" if label_col == "partner" else "col.model"):
                        both[label_col].map(model_label) if label_col == "model" else both[label_col].astype(str)})
    if label_col == "partner":
        out[tr(TEXT, "col.model")] = both["model"].map(model_label)
    for metric in COMPARE_METRICS:
        name = metric_label(metric)
        out[tr(TEXT, "col.actual", metric=name)] = [_fmt(metric, v, currency) for v in both[metric]]
        out[tr(TEXT, "col.scenario", metric=name)] = [_fmt(metric, v, currency) for v in both[f"{metric}_s"]]
        if metric in ("profit", "roi", "costs"):
            out[tr(TEXT, "col.delta", metric=name)] = [
                _delta(metric, a, b, currency) for a, b in zip(both[metric], both[f"{metric}_s"], strict=True)]
    return out


def roi_chart(actual: pd.DataFrame, scen: pd.DataFrame, label_col: str) -> alt.Chart:
    """ROI per row, actual and scenario side by side."""
    code = lang()
    a = actual[[label_col, "roi"]].assign(series=tr(TEXT, "series.actual"))
    b = scen[[label_col, "roi"]].assign(series=tr(TEXT, "series.scenario"))
    rows = pd.concat([a, b], ignore_index=True)
    rows = rows[rows["roi"].notna()].copy()
    rows["label"] = rows[label_col].map(model_label) if label_col == "model" else rows[label_col].astype(str)
    rows["roi"] = rows["roi"].astype(float)
    rows["roi_txt"] = [fmt.pct(v, code) for v in rows["roi"]]
    domain = [tr(TEXT, "series.actual"), tr(TEXT, "series.scenario")]
    return alt.Chart(rows).mark_bar().encode(
        y=alt.Y("label:N", title=None, sort=None),
        yOffset=alt.YOffset("series:N", sort=domain),
        x=alt.X("roi:Q", title=tr(TEXT, "chart"), axis=alt.Axis(format="%")),
        color=alt.Color("series:N", title=None, sort=domain, scale=alt.Scale(domain=domain,
                                                                              range=charts.PALETTE[:2])),
        tooltip=[alt.Tooltip("label:N", title=" "), alt.Tooltip("series:N", title=" "),
                 alt.Tooltip("roi_txt:N", title="ROI")],
    )


def totals_cards(f: Filters, scenario: Scenario | None, currency: str) -> None:
    """Costs, profit, ROI, CPA, LTV in the scenario with the change against actuals."""
    now = query(engine.kpis, f)
    then = query(engine.kpis, f, scenario=scenario)
    if now.empty or then.empty:
        return
    a, b = now.iloc[0], then.iloc[0]
    cards = []
    for metric in COMPARE_METRICS:
        change = None
        if not pd.isna(a[metric]) and not pd.isna(b[metric]):
            change = float(b[metric]) - float(a[metric]) if metric == "roi" else fmt.ratio_delta(b[metric], a[metric])
        cards.append(layout.Kpi(
            label=metric_label(metric), value=_fmt(metric, b[metric], currency),
            delta=layout.delta_text(change, "pp" if metric == "roi" else "rel"),
            delta_color="inverse" if metric in ("costs", "cpa") else "normal",
            band=(b.get("roi_band") or "n/a") if metric == "roi" else None))
    layout.kpi_cards(cards, key="what_if.kpi", compare_note=tr(TEXT, "vs_actual"))
    st.caption(tr(TEXT, "basis.margin" if b.get("income_basis") not in (None, "revenue") else "basis.revenue"))


def comparison_table(f: Filters, scenario: Scenario | None, by: str, currency: str) -> None:
    """Scenario against actuals by partner or by model: delta columns and a ROI chart."""
    keys = ["partner_id", "partner", "model"] if by == "partner" else ["model"]
    actual = query(engine.kpis, f, by=by)
    scen = query(engine.kpis, f, by=by, scenario=scenario)
    st.dataframe(side_by_side(actual, scen, keys, by, currency), hide_index=True, key=f"what_if.table_{by}", placeholder=fmt.DASH)
    if by == "partner":
        actual, scen = actual[actual["partner_id"].notna()], scen[scen["partner_id"].notna()]
    charts.show(roi_chart(actual, scen, by), key=f"what_if.chart_{by}", height=max(160, 28 * len(actual)))


# ---------------------------------------------------------------- saving, comparing, applying

def scenario_bar(saved: pd.DataFrame) -> None:
    """Open, delete or reset a scenario."""
    names = saved["name"].astype(str).tolist()
    st.caption(tr(TEXT, "current", name=fmt.plain(st.session_state.get(NAME) or tr(TEXT, "draft"))))
    a, b, c, d = st.columns([4, 1, 1, 2], vertical_alignment="bottom")
    with a:
        chosen = st.selectbox(tr(TEXT, "open"), names, key="what_if.open", index=0 if names else None,
                              placeholder=tr(TEXT, "none_saved"), disabled=not names)
    with b:
        if st.button(tr(TEXT, "load"), key="what_if.load", disabled=not names) and chosen:
            set_base(query(userdata.load_scenario, chosen), chosen, tr(TEXT, "loaded", name=chosen))
    with c:
        if st.button(tr(TEXT, "delete"), key="what_if.delete", type="secondary",
                     disabled=not names or not auth.allowed(userdata.delete_scenario)) and chosen:
            write(userdata.delete_scenario, chosen)
            st.session_state[FLASH] = tr(TEXT, "deleted", name=chosen)
            st.rerun()
    with d:
        if st.button(tr(TEXT, "reset"), key="what_if.reset"):
            set_base(ScenarioInputs(), None)


def save_box(inputs: ScenarioInputs, f: Filters) -> None:
    """Save the current scenario under a name."""
    a, b, c = st.columns([4, 2, 2], vertical_alignment="bottom")
    with a:
        name = st.text_input(tr(TEXT, "name"), key="what_if.name", max_chars=userdata.MAX_NAME,
                             value=st.session_state.get(NAME) or "")
    with b:
        overwrite = st.checkbox(tr(TEXT, "overwrite"), key="what_if.overwrite")
    with c:
        # viewers play with the inputs in their session; saving a shared scenario is an edit
        pressed = st.button(tr(TEXT, "save"), key="what_if.save", type="primary",
                            disabled=not auth.allowed(userdata.save_scenario))
    if pressed:
        meta = {"name": (name or "").strip(), "date_from": f.date_from.isoformat(), "date_to": f.date_to.isoformat()}
        try:
            write(userdata.save_scenario, name, replace(inputs, meta=meta), overwrite=overwrite)
        except UserDataError as exc:
            show_problems(exc.problems, tr(TEXT, "invalid"))
            return
        st.session_state[NAME] = name.strip()
        st.session_state[FLASH] = tr(TEXT, "saved", name=name.strip())
        st.rerun()


def compare(f: Filters, saved: pd.DataFrame, draft: Scenario, actual_ledger: pd.DataFrame,
            currency: str) -> None:
    """Two scenarios and actuals side by side, by model."""
    options = ["__draft__", *saved["name"].astype(str).tolist()]

    def label(o: str) -> str:
        return tr(TEXT, "compare.draft") if o == "__draft__" else o

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
            table[f"{metric_label(metric)} · {title}"] = [_fmt(metric, v, currency) for v in frame[metric]]
    st.dataframe(table, hide_index=True, key="what_if.compare_table", placeholder=fmt.DASH)
    st.caption(tr(TEXT, "compare.caption"))


def apply_box(inputs: ScenarioInputs) -> None:
    """Write the scenario into the real ledger, rules and margin — only after an explicit confirmation."""
    st.subheader(tr(TEXT, "apply"), anchor=False)
    if not auth.can("apply"):
        auth.read_only_note()
        return
    if inputs.ledger is None and inputs.rules is None and inputs.margin is None:
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
            done = write(userdata.apply_scenario, replace(inputs, meta={"name": st.session_state.get(NAME)}))
        except UserDataError as exc:
            show_problems(exc.problems, tr(TEXT, "invalid"))
            return
        st.session_state.pop("what_if.confirm", None)
        set_base(ScenarioInputs(), None, tr(TEXT, "applied", ledger=done["ledger_rows"], rules=done["rules"]))


# ---------------------------------------------------------------- break-even, sensitivity, reallocation

def _scenario_arg(scenario: Scenario, inputs: ScenarioInputs) -> Scenario | None:
    """The scenario for metric calls, or None when it equals the actuals (shares their cache)."""
    return None if inputs.ledger is None and inputs.rules is None and inputs.margin is None else scenario


def percent_rate_now(details: pd.DataFrame) -> dict[int, float]:
    """Effective percent-of-revenue commission rate per partner (0 without such a rule)."""
    rows = details[details["kind"] == "percent_revenue"]
    out: dict[int, float] = {}
    for pid, group in rows.groupby("partner_id"):
        revenue = float(group["revenue"].max() or 0.0)
        out[int(pid)] = float(group["amount"].sum()) / revenue if revenue else 0.0
    return out


def sensitivity_chart(rows: pd.DataFrame, breakeven: dict[int, float | None]) -> alt.LayerChart:
    """ROI against the commission rate, one line per partner; break-even points on the zero line."""
    code = lang()
    data = rows[rows["roi"].notna()].copy()
    data["roi"] = data["roi"].astype(float)
    data["partner"] = data["partner"].astype(str)
    data["rate_txt"] = [fmt.pct(r, code) for r in data["rate"]]
    data["roi_txt"] = [fmt.pct(r, code) for r in data["roi"]]
    names = dict(zip(rows["partner_id"], rows["partner"].astype(str), strict=False))
    points = pd.DataFrame([{"partner": names.get(pid), "rate": rate, "roi": 0.0, "rate_txt": fmt.pct(rate, code)}
                           for pid, rate in breakeven.items() if rate is not None and 0 <= rate <= data["rate"].max()])
    x = alt.X("rate:Q", title=tr(TEXT, "sens.rate"), axis=alt.Axis(format="%"))
    lines = alt.Chart(data).mark_line().encode(
        x=x, y=alt.Y("roi:Q", title=tr(TEXT, "sens.roi"), axis=alt.Axis(format="%")),
        color=alt.Color("partner:N", title=None, scale=alt.Scale(range=charts.PALETTE)),
        tooltip=[alt.Tooltip("partner:N", title=" "), alt.Tooltip("rate_txt:N", title=tr(TEXT, "sens.rate")),
                 alt.Tooltip("roi_txt:N", title="ROI")])
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#57606a", strokeDash=[4, 4]).encode(y="y:Q")
    layers = [lines, zero]
    if not points.empty:
        layers.append(alt.Chart(points).mark_point(filled=True, size=80).encode(
            x=x, y="roi:Q", color=alt.Color("partner:N", legend=None),
            tooltip=[alt.Tooltip("partner:N", title=" "),
                     alt.Tooltip("rate_txt:N", title=tr(TEXT, "col.breakeven"))]))
    return alt.layer(*layers)


def breakeven_section(f: Filters, scenario: Scenario | None, partners: pd.DataFrame,
                      by_partner: pd.DataFrame) -> None:
    """Break-even commission rate of the chosen partners and ROI against the rate (metrics does the maths)."""
    code = lang()
    st.caption(tr(TEXT, "breakeven.caption"))
    names = dict(zip(partners["partner_id"].astype(int), partners["partner"].astype(str), strict=True))
    ranked = by_partner[by_partner["partner_id"].notna()].sort_values("revenue", ascending=False)
    default = [int(p) for p in ranked["partner_id"].head(3)]
    chosen = st.multiselect(tr(TEXT, "sens.partners"), list(names), default=default, key="what_if.sens_partners",
                            format_func=lambda p: names.get(p, str(p)))
    if not chosen:
        return
    rates_now = percent_rate_now(query(engine.commission_details, f, scenario=scenario))
    breakeven = {pid: query(engine.breakeven_commission_rate, f, pid, scenario=scenario) for pid in chosen}
    rows = []
    for pid in chosen:
        be, now = breakeven[pid], rates_now.get(pid, 0.0)
        text = tr(TEXT, "no_revenue") if be is None else tr(TEXT, "loss_anyway") if be < 0 else fmt.pct(be, code)
        rows.append({tr(TEXT, "col.partner"): names[pid], tr(TEXT, "col.rate_now"): fmt.pct(now, code),
                     tr(TEXT, "col.breakeven"): text,
                     tr(TEXT, "col.headroom"): fmt.DASH if be is None or be < 0 else fmt.signed_pp(be - now, code)})
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="what_if.breakeven", placeholder=fmt.DASH)
    top = max([0.3, *[2 * (b or 0) for b in breakeven.values()], *[2 * r for r in rates_now.values()]])
    top = min(1.0, round(top * 20 + 0.5) / 20)
    rates = tuple(round(i * top / 40, 6) for i in range(41))
    curve = query(engine.roi_sensitivity, f, tuple(chosen), rates, scenario=scenario)
    charts.show(sensitivity_chart(curve, breakeven), key="what_if.sensitivity", height=300)


def reallocation_plan(rows: pd.DataFrame, share: float) -> tuple[pd.DataFrame, float, dict[str, float]]:
    """Donors (interval wholly below the reference ROI) give share of their ledger budget to recipients
    (interval wholly above), in proportion to the recipients' ledger budget; constant returns assumed.

    rows: partner_id, partner, roi, roi_low, roi_high, costs_ledger, income, costs, too_few.
    Returns the plan (partner_id, partner, role, move, roi, roi_low, roi_high), the reference ROI and the
    expected profit change {"mid", "low", "high"}.
    """
    ok = rows[~rows["too_few"].fillna(False).astype(bool) & rows["roi"].notna()].copy()
    costs = float(rows["costs"].fillna(0).sum())
    ref = (float(rows["income"].fillna(0).sum()) - costs) / costs if costs else float("nan")
    donors = ok[(ok["roi_high"] < ref) & (ok["costs_ledger"].fillna(0) > 0)].copy()
    recipients = ok[ok["roi_low"] > ref].copy()
    empty = pd.DataFrame(columns=["partner_id", "partner", "role", "move", "roi", "roi_low", "roi_high"])
    if donors.empty or recipients.empty:
        return empty, ref, {"mid": 0.0, "low": 0.0, "high": 0.0}
    donors["move"] = -share * donors["costs_ledger"].astype(float)
    amount = -float(donors["move"].sum())
    weights = recipients["costs_ledger"].fillna(0).astype(float)
    weights = weights / weights.sum() if weights.sum() > 0 else pd.Series(1 / len(recipients), recipients.index)
    recipients["move"] = amount * weights
    donors["role"], recipients["role"] = "donor", "recipient"
    plan = pd.concat([donors, recipients], ignore_index=True)
    effect = {  # profit change per moved rouble is the ROI: income per rouble of cost = 1 + ROI
        "mid": float((plan["move"] * plan["roi"]).sum()),
        "low": float((recipients["move"] * recipients["roi_low"]).sum() + (donors["move"] * donors["roi_high"]).sum()),
        "high": float((recipients["move"] * recipients["roi_high"]).sum() + (donors["move"] * donors["roi_low"]).sum()),
    }
    return plan[empty.columns.tolist()], ref, effect


def reallocation_targets(plan: pd.DataFrame, totals: pd.DataFrame) -> pd.DataFrame:
    """New period totals per partner x category after the move (scaled; marketing for a partner with none)."""
    rows = []
    for r in plan.itertuples():
        mine = totals[totals["partner_id"] == r.partner_id]
        total = float(mine["amount"].sum())
        if total > 0:
            factor = (total + r.move) / total
            rows += [{"partner_id": r.partner_id, "category": c, "amount": round(max(0.0, a * factor), 2)}
                     for c, a in zip(mine["category"], mine["amount"], strict=True)]
        else:
            rows.append({"partner_id": r.partner_id, "category": "marketing", "amount": round(max(0.0, r.move), 2)})
    return pd.DataFrame(rows, columns=["partner_id", "category", "amount"])


def reallocation_section(f: Filters, scenario: Scenario | None, inputs: ScenarioInputs,
                         actual_ledger: pd.DataFrame, by_partner: pd.DataFrame, currency: str) -> None:
    """Suggest moving budget from clearly weak to clearly strong partners, with the expected effect."""
    code = lang()
    intervals = query(engine.roi_interval, f, by="partner", scenario=scenario)
    rows = by_partner[by_partner["partner_id"].notna()][
        ["partner_id", "partner", "roi", "costs_ledger", "income", "costs", "too_few"]].merge(
        intervals[["partner_id", "roi_low", "roi_high"]], on="partner_id", how="left")
    share_pct = st.slider(tr(TEXT, "realloc.share"), 5, 50, 20, step=5, format="%d %%", key="what_if.realloc_share")
    plan, ref, effect = reallocation_plan(rows, share_pct / 100)
    st.caption(tr(TEXT, "realloc.caption", ref=fmt.pct(ref, code)))
    if plan.empty:
        st.info(tr(TEXT, "realloc.none"))
        return
    moved = float(plan.loc[plan["role"] == "donor", "move"].abs().sum())
    st.write(tr(TEXT, "realloc.effect", mid=fmt.money(effect["mid"], code, currency),
                low=fmt.money(effect["low"], code, currency), high=fmt.money(effect["high"], code, currency),
                amount=fmt.money(moved, code, currency)))
    st.warning(tr(TEXT, "realloc.assume"), icon=":material/warning:")
    st.dataframe(pd.DataFrame({
        tr(TEXT, "col.partner"): plan["partner"].astype(str),
        tr(TEXT, "col.role"): plan["role"].map(lambda r: tr(TEXT, f"role.{r}")),
        "ROI": [fmt.pct(v, code) for v in plan["roi"]],
        tr(TEXT, "col.interval"): [f"{fmt.pct(lo, code)} … {fmt.pct(hi, code)}"
                                   for lo, hi in zip(plan["roi_low"], plan["roi_high"], strict=True)],
        tr(TEXT, "col.move"): [("+" if m >= 0 else "\u2212") + fmt.money(abs(m), code, currency) for m in plan["move"]],
    }), hide_index=True, key="what_if.realloc", placeholder=fmt.DASH)
    if st.button(tr(TEXT, "realloc.add"), key="what_if.realloc_add"):
        merged = userdata.merge_ledger(actual_ledger, inputs.ledger)
        totals = userdata.period_totals(merged, f.date_from, f.date_to)
        changed = userdata.ledger_for_totals(merged, f.date_from, f.date_to, reallocation_targets(plan, totals))
        set_base(replace(inputs, ledger=userdata.combine_overrides(inputs.ledger, changed)),
                 st.session_state.get(NAME))


# ---------------------------------------------------------------- page

def current_inputs(f: Filters, start: ScenarioInputs, actual_ledger: pd.DataFrame, actual_rules: pd.DataFrame,
                   actual_margin: dict[str, Any], partners: pd.DataFrame,
                   names: list[str]) -> tuple[ScenarioInputs, list[Problem]]:
    """Draw the input editors and return what they now hold (None = as actual) and any problems."""
    st.markdown(f"**{tr(TEXT, 'costs')}**")
    st.caption(tr(TEXT, "costs.caption"))
    merged = userdata.merge_ledger(actual_ledger, start.ledger)
    targets, problems = costs_editor(f, partners, merged)
    ledger = start.ledger
    if not problems and not targets.empty:
        changed = userdata.ledger_for_totals(merged, f.date_from, f.date_to, targets)
        ledger = userdata.combine_overrides(start.ledger, changed)
    st.markdown(f"**{tr(TEXT, 'rules')}**")
    st.caption(tr(TEXT, "rules.caption"))
    rules = rules_editor(start.rules if start.rules is not None else actual_rules, names)
    margin = margin_inputs(start.margin if start.margin is not None else actual_margin)
    inputs = ScenarioInputs(
        ledger=ledger,
        rules=None if userdata.same_rules(rules, actual_rules) else rules,
        margin=None if _same_margin(margin, actual_margin) else margin,
    )
    return inputs, problems


def _same_margin(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def norm(m: dict[str, Any]) -> tuple:
        acc = m.get("account")
        return (None if acc is None else round(float(acc), 6),
                tuple(sorted((k, round(float(v), 6)) for k, v in (m.get("models") or {}).items())))
    return norm(a) == norm(b)


def render() -> None:
    """The what-if page."""
    f = current()
    currency = query(lookups.freshness).get("currency") or "RUB"
    st.title(t("page.what_if"), anchor=False)
    st.caption(tr(TEXT, "caption", period=period_label(f)))
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(fmt.plain(flash), icon=":material/check_circle:")
    saved = query(userdata.list_scenarios)
    scenario_bar(saved)
    prefetch_kpis(page_frames.what_if(f))
    actual = query(engine.kpis, f, by="partner")
    partners = scope_partners(actual)
    if actual.empty:
        layout.empty()
        return
    actual_ledger = query(userdata.read_ledger)
    actual_rules = query(userdata.list_rules)
    actual_margin = query(userdata.get_margin)
    all_partners = query(userdata.list_partners)
    quick_slot = st.container()
    start = base()
    inputs, problems = current_inputs(f, start, actual_ledger, actual_rules, actual_margin, partners,
                                      all_partners["name"].tolist())
    quick_rate(quick_slot, inputs.rules if inputs.rules is not None else actual_rules, all_partners, inputs)
    raw = inputs  # as the editors hold it (partners by name): the base for further edits
    try:
        inputs = query(userdata.check_scenario, inputs) if not problems else inputs
    except UserDataError as exc:
        problems = problems + exc.problems
    if problems:
        show_problems(problems, tr(TEXT, "invalid"))
        return
    scenario = scenario_of(inputs, actual_ledger, "draft")
    if inputs.ledger is None and inputs.rules is None and inputs.margin is None:
        st.info(tr(TEXT, "no_change"))
    metric_scenario = _scenario_arg(scenario, inputs)
    if metric_scenario is not None:
        prefetch_kpis(page_frames.what_if(f), scenario=metric_scenario)
    st.subheader(tr(TEXT, "results"), anchor=False)
    totals_cards(f, metric_scenario, currency)
    # Lazy tabs: only the open one computes (break-even and intervals take a few metric queries each).
    labels = [tr(TEXT, k) for k in ("by_partner", "by_model", "breakeven", "realloc", "compare")]
    tabs = st.tabs(labels, key="what_if.view", on_change="rerun")
    with tabs[0]:
        if tabs[0].open is not False:
            comparison_table(f, metric_scenario, "partner", currency)
    with tabs[1]:
        if tabs[1].open:
            comparison_table(f, metric_scenario, "model", currency)
    if tabs[2].open or tabs[3].open:
        by_partner = query(engine.kpis, f, by="partner", scenario=metric_scenario)
        with tabs[2]:
            if tabs[2].open:
                breakeven_section(f, metric_scenario, partners, by_partner)
        with tabs[3]:
            if tabs[3].open:
                reallocation_section(f, metric_scenario, raw, actual_ledger, by_partner, currency)
    with tabs[4]:
        if tabs[4].open:
            compare(f, saved, scenario, actual_ledger, currency)
    save_box(inputs, f)
    apply_box(inputs)

if __name__ == "__main__":
    layout.require_router()
    render()

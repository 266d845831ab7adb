"""What-if results: the compact result panel beside the inputs, and actual-vs-scenario tables and ROI charts.

Metrics compute (ui.data caches by arguments, the scenario included); this module only formats: money with the
account's currency sign and whole roubles everywhere, percentages with the UI language's decimal mark.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from metrics import engine
from metrics.costs import Scenario
from metrics.filters import Filters
from presentation import fmt, palette
from ui import charts, layout
from ui.data import query
from ui.i18n import lang, metric_label, model_label, tr
from ui.whatif_state import reset_button

TEXT = {
    "ru": {
        "panel": "Результат сценария", "draft": "несохранённый черновик", "vs_actual": "к факту",
        "col.metric": "Показатель", "col.actual_short": "Факт", "col.scenario_short": "Сценарий",
        "col.change": "Изменение",
        "no_change": "Сценарий пока совпадает с фактом — измените ставку, затраты, правила или маржу.",
        "basis.margin": "Доход = выручка × маржа.", "basis.revenue": "Доход = выручка (маржа не задана).",
        "breakeven.partner": "Безубыточная ставка для «{name}»: {rate} (сейчас {now}, запас {headroom}).",
        "breakeven.loss": "«{name}» убыточен и без процентной комиссии.",
        "breakeven.none": "У «{name}» нет выручки за период — безубыточной ставки нет.",
        "in_plus": "{label}: в плюсе (ROI ≥ 0) {now} из {total} партнёров, по факту {before}.",
        "in_plus.all": "Все партнёры", "in_plus.model": "Модель «{label}»",
        "more": "Подробно по партнёрам, моделям, безубыточности — ниже.",
        "col.partner": "Партнёр", "col.model": "Модель",
        "col.actual": "{metric}: факт", "col.scenario": "{metric}: сценарий", "col.delta": "{metric}: Δ",
        "chart": "ROI: факт и сценарий", "series.actual": "Факт", "series.scenario": "Сценарий",
    },
    "en": {
        "panel": "Scenario result", "draft": "unsaved draft", "vs_actual": "vs actual",
        "col.metric": "Metric", "col.actual_short": "Actual", "col.scenario_short": "Scenario",
        "col.change": "Change",
        "no_change": "The scenario still equals the actuals: change a rate, costs, rules or margin.",
        "basis.margin": "Income = revenue × margin.", "basis.revenue": "Income = revenue (no margin set).",
        "breakeven.partner": "Break-even rate for “{name}”: {rate} (now {now}, headroom {headroom}).",
        "breakeven.loss": "“{name}” loses money even without a percent commission.",
        "breakeven.none": "“{name}” has no revenue in the period: no break-even rate.",
        "in_plus": "{label}: {now} of {total} partners in the black (ROI ≥ 0), {before} in actuals.",
        "in_plus.all": "All partners", "in_plus.model": "Model “{label}”",
        "more": "By partner, by model, break-even: below.",
        "col.partner": "Partner", "col.model": "Model",
        "col.actual": "{metric}: actual", "col.scenario": "{metric}: scenario", "col.delta": "{metric}: Δ",
        "chart": "ROI: actual and scenario", "series.actual": "Actual", "series.scenario": "Scenario",
    },
}
MONEY = ("costs", "profit", "cpa", "ltv", "revenue", "income")
COMPARE_METRICS = ("costs", "profit", "roi", "cpa", "ltv")
PANEL_METRICS = ("profit", "costs", "income", "cpa", "ltv")


def value_text(metric: str, value: Any, currency: str) -> str:
    """One metric's value: money with its sign, ROI in percent, counts grouped; a dash when unknown."""
    code = lang()
    v = None if value is None or pd.isna(value) else float(value)
    if metric in MONEY:
        return fmt.money(v, code, currency)
    if metric == "roi":
        return fmt.pct(v, code)
    return fmt.num(v, code)


def delta_text(metric: str, a: Any, b: Any, currency: str) -> str:
    """Scenario minus actual: percentage points for ROI, a signed amount otherwise."""
    if a is None or b is None or pd.isna(a) or pd.isna(b):
        return fmt.DASH
    diff = float(b) - float(a)
    if metric == "roi":
        return fmt.signed_pp(diff, lang())
    sign = "+" if diff >= 0 else "\u2212"
    return sign + value_text(metric, abs(diff), currency)


# ---------------------------------------------------------------- the panel beside the inputs

def panel_header(scenario_name: str | None) -> None:
    """The panel's title (which scenario) with the reset button beside it."""
    title, reset = st.columns([3, 2], vertical_alignment="center")
    title.markdown(f"**{tr(TEXT, 'panel')}**  \n{fmt.md_escape(scenario_name or tr(TEXT, 'draft'))}")
    with reset:
        reset_button()


def result_panel(f: Filters, scenario: Scenario | None, currency: str, target: str | None,
                 scenario_name: str | None) -> None:
    """ROI card, the totals against actuals, the break-even of the quick-rate target and who stays in plus."""
    panel_header(scenario_name)
    now, then = query(engine.kpis, f), query(engine.kpis, f, scenario=scenario)
    if now.empty or then.empty:
        return
    a, b = now.iloc[0], then.iloc[0]
    change = None if pd.isna(a["roi"]) or pd.isna(b["roi"]) else float(b["roi"]) - float(a["roi"])
    layout.kpi_cards([layout.Kpi(label="ROI", value=value_text("roi", b["roi"], currency),
                                 delta=layout.delta_text(change, "pp"), band=b.get("roi_band") or "n/a")],
                     key="what_if.kpi", compare_note=tr(TEXT, "vs_actual"), per_row=1, compact=True)
    rows = [{tr(TEXT, "col.metric"): metric_label(m), tr(TEXT, "col.actual_short"): value_text(m, a[m], currency),
             tr(TEXT, "col.scenario_short"): value_text(m, b[m], currency),
             tr(TEXT, "col.change"): delta_text(m, a[m], b[m], currency)} for m in PANEL_METRICS]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="what_if.result_table", width="stretch",
                 column_config={c: st.column_config.TextColumn(c, alignment="right")
                                for c in list(rows[0])[1:]}, placeholder=fmt.DASH)
    if scenario is None:
        st.caption(tr(TEXT, "no_change"))
    target_lines(f, scenario, target)
    basis = "basis.margin" if b.get("income_basis") not in (None, "revenue") else "basis.revenue"
    st.caption(f"{tr(TEXT, basis)} {tr(TEXT, 'more')}")


def target_lines(f: Filters, scenario: Scenario | None, target: str | None) -> None:
    """For a partner target its break-even rate; for a model target how many of its partners stay in plus."""
    code = lang()
    kind, _, value = (target or "").partition(":")
    actual = query(engine.kpis, f, by="partner")
    scen = query(engine.kpis, f, by="partner", scenario=scenario)
    if kind == "partner":
        pid = int(value)
        row = scen[scen["partner_id"] == pid]
        name = str(row["partner"].iloc[0]) if not row.empty else value
        be = query(engine.breakeven_commission_rate, f, pid, scenario=scenario)
        if be is None:
            st.caption(tr(TEXT, "breakeven.none", name=fmt.plain(name)))
            return
        if be < 0:
            st.caption(tr(TEXT, "breakeven.loss", name=fmt.plain(name)))
            return
        details = query(engine.commission_details, f, scenario=scenario)
        now = percent_rate_now(details).get(pid, 0.0)
        st.caption(tr(TEXT, "breakeven.partner", name=fmt.plain(name), rate=fmt.pct(be, code),
                      now=fmt.pct(now, code), headroom=fmt.signed_pp(be - now, code)))
        return
    label = tr(TEXT, "in_plus.model", label=model_label(value)) if kind == "model" else tr(TEXT, "in_plus.all")

    def in_plus(frame: pd.DataFrame) -> tuple[int, int]:
        mine = frame[frame["partner_id"].notna() & ((frame["model"] == value) if kind == "model" else True)]
        return int((mine["roi"].astype(float) >= 0).sum()), len(mine)

    (now_n, total), (before_n, _) = in_plus(scen), in_plus(actual)
    st.caption(tr(TEXT, "in_plus", label=label, now=now_n, total=total, before=before_n))


def percent_rate_now(details: pd.DataFrame) -> dict[int, float]:
    """Effective percent-of-revenue commission rate per partner (0 without such a rule)."""
    rows = details[details["kind"] == "percent_revenue"]
    out: dict[int, float] = {}
    for pid, group in rows.groupby("partner_id"):
        revenue = float(group["revenue"].max() or 0.0)
        out[int(pid)] = float(group["amount"].sum()) / revenue if revenue else 0.0
    return out


# ---------------------------------------------------------------- tables by partner / by model

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
        out[tr(TEXT, "col.actual", metric=name)] = [value_text(metric, v, currency) for v in both[metric]]
        out[tr(TEXT, "col.scenario", metric=name)] = [value_text(metric, v, currency) for v in both[f"{metric}_s"]]
        if metric in ("profit", "roi", "costs"):
            out[tr(TEXT, "col.delta", metric=name)] = [
                delta_text(metric, a, b, currency) for a, b in zip(both[metric], both[f"{metric}_s"], strict=True)]
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
        # actual grey, scenario purple: neither is a model's colour, though the rows may be models
        color=alt.Color("series:N", title=None, sort=domain, scale=alt.Scale(domain=domain,
                                                                              range=palette.SCENARIO_COLORS)),
        tooltip=[alt.Tooltip("label:N", title=" "), alt.Tooltip("series:N", title=" "),
                 alt.Tooltip("roi_txt:N", title="ROI")],
    )


def comparison_table(f: Filters, scenario: Scenario | None, by: str, currency: str) -> None:
    """Scenario against actuals by partner or by model: delta columns and a ROI chart."""
    keys = ["partner_id", "partner", "model"] if by == "partner" else ["model"]
    actual = query(engine.kpis, f, by=by)
    scen = query(engine.kpis, f, by=by, scenario=scenario)
    st.dataframe(side_by_side(actual, scen, keys, by, currency), hide_index=True, key=f"what_if.table_{by}",
                 placeholder=fmt.DASH)
    if by == "partner":
        actual, scen = actual[actual["partner_id"].notna()], scen[scen["partner_id"].notna()]
    charts.show(roi_chart(actual, scen, by), key=f"what_if.chart_{by}", height=max(160, 28 * len(actual)))

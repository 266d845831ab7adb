"""What-if analysis under the scenario: break-even commission rate and ROI sensitivity, budget reallocation.

Metrics do the maths (engine.breakeven_commission_rate, roi_sensitivity, roi_interval); the reallocation plan is
a small rule of this module: budget moves only between partners whose ROI intervals clearly separate.
"""

from __future__ import annotations

from dataclasses import replace

import altair as alt
import pandas as pd
import streamlit as st

from data_layer import userdata
from data_layer.userdata import ScenarioInputs
from metrics import engine
from metrics.costs import Scenario
from metrics.filters import Filters
from presentation import fmt, palette
from ui import charts
from ui.data import query
from ui.i18n import lang, tr
from ui.whatif_results import percent_rate_now
from ui.whatif_state import name, set_base

TEXT = {
    "ru": {
        "breakeven.caption": "При какой ставке комиссии (% от выручки) ROI партнёра станет нулевым, если остальные "
                             "затраты сценария не менять; график — ROI при разных ставках.",
        "sens.partners": "Партнёры", "col.partner": "Партнёр", "col.rate_now": "Ставка сейчас",
        "col.breakeven": "Безубыточная ставка", "col.headroom": "Запас",
        "loss_anyway": "убыточен и без процентной комиссии",
        "no_revenue": "нет выручки", "sens.rate": "Ставка комиссии, % выручки", "sens.roi": "ROI",
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
        "breakeven.caption": "The percent-of-revenue commission rate at which a partner's ROI falls to zero with "
                             "the scenario's other costs unchanged; the chart shows ROI at other rates.",
        "sens.partners": "Partners", "col.partner": "Partner", "col.rate_now": "Rate now",
        "col.breakeven": "Break-even rate", "col.headroom": "Headroom",
        "loss_anyway": "loses money even without a percent commission",
        "no_revenue": "no revenue", "sens.rate": "Commission rate, % of revenue", "sens.roi": "ROI",
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
        color=alt.Color("partner:N", title=None, scale=palette.partner_scale(  # each partner's own colour
            dict(zip(data["partner_id"], data["partner"], strict=False)))),
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
        set_base(replace(inputs, ledger=userdata.combine_overrides(inputs.ledger, changed)), name())



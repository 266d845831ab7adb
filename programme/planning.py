"""Budget planning for the next quarter: budget per model or partner -> projected leads, deals, revenue, ROI.

Assumption (stated on the page): leads scale linearly with the budget at the group's historical cost per
lead, and conversion, average check and margin stay at their look-back values. Point projections use
the look-back totals; intervals come from a bootstrap over months — the quarter is simulated as
``months`` months drawn at random from the look-back (the same months for every group, so seasonality
and common shocks move groups together).

A revenue target is met by scaling the budget mix; under the linear assumption a group's ROI does not
depend on its budget, so an ROI target keeps only the groups whose ROI reaches it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from data_layer import userdata
from metrics import forecast as fc
from metrics import lookups
from metrics.filters import Filters

LOOKBACK_MONTHS = 12
QUARTER_MONTHS = 3
N_SIMS = 4000
SEED = 13
LEVELS = fc.LEVELS
MEASURES = ("leads", "won_deals", "revenue", "income", "roi")
PLAN_KIND = "budget_plan"
PANEL_COLUMNS = ["period", "group", "label", "leads", "won_deals", "revenue", "income", "costs"]

ASSUMPTION = {
    "ru": "Лиды растут пропорционально бюджету по исторической стоимости лида группы; конверсия, средний чек "
          "и маржа — как за {months} мес. с {start} по {end}. Интервалы — бутстрэп по месяцам этого периода; "
          "сезонность квартала не учитывается.",
    "en": "Leads scale with the budget at the group's historical cost per lead; conversion, average check and "
          "margin stay as over the {months} months {start} – {end}. Intervals bootstrap those months; the "
          "quarter's own seasonality is not modelled.",
}


@dataclass(frozen=True)
class PlanBasis:
    """Monthly history the plan rests on and the quarter it plans."""

    monthly: pd.DataFrame     # period, group, label, leads, won_deals, revenue, income, costs
    first: date | None        # first and last complete month of the look-back
    last: date | None
    quarter_start: date
    quarter_end: date
    by: str

    @property
    def quarter_label(self) -> str:
        """2027-Q1."""
        return f"{self.quarter_start.year}-Q{(self.quarter_start.month - 1) // 3 + 1}"


@dataclass(frozen=True, eq=False)
class Projection:
    """Projected quarter per group and in total (mean and interval bounds per measure)."""

    table: pd.DataFrame       # group, label, budget, <measure>, <measure>_lo80, ... for MEASURES
    sims: dict[str, np.ndarray] = field(repr=False)   # total revenue, income and roi draws

    def chance(self, measure: str, at_least: float) -> float:
        """Probability (share of simulations) that the total measure reaches at_least."""
        draws = self.sims[measure]
        draws = draws[np.isfinite(draws)]
        return float((draws >= at_least).mean()) if draws.size else float("nan")


def next_quarter(after: date) -> tuple[date, date]:
    """First and last day of the calendar quarter after the one containing `after`."""
    start_month = 3 * ((after.month - 1) // 3) + 4
    start = date(after.year + (start_month - 1) // 12, (start_month - 1) % 12 + 1, 1)
    end_month = start.month + 2
    end = fc.next_period(date(start.year, end_month, 1), "month") - timedelta(days=1)
    return start, end


def basis(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "model",
          lookback_months: int = LOOKBACK_MONTHS) -> PlanBasis:
    """The last `lookback_months` complete months up to the period end, grouped by model or partner."""
    if by not in ("model", "partner"):
        raise ValueError(f"Unknown grouping {by!r}: use model or partner.")
    lo, hi = lookups.data_range(con)
    anchor = min(f.date_to, hi) if hi else f.date_to
    q_start, q_end = next_quarter(anchor)
    window = fc.complete_periods(lo, anchor, "month") if lo else None
    if window is None:
        return PlanBasis(pd.DataFrame(columns=PANEL_COLUMNS), None, None, q_start, q_end, by)
    last = window[1]
    first = _months_back(last, lookback_months - 1, window[0])
    scope = replace(f, date_from=first, date_to=fc.next_period(last, "month") - timedelta(days=1))
    monthly = fc.panel(con, scope, by, "month", full_history=False)
    if by == "model":
        monthly = monthly[monthly["group"] != "direct"]
    return PlanBasis(monthly.reset_index(drop=True), first, last, q_start, q_end, by)


def _months_back(last: date, months: int, floor: date) -> date:
    """The month start `months` months before `last`, not before `floor`."""
    index = last.year * 12 + last.month - 1 - months
    return max(date(index // 12, index % 12 + 1, 1), floor)


def rates(monthly: pd.DataFrame, quarter_months: int = QUARTER_MONTHS) -> pd.DataFrame:
    """Per group: look-back totals, cost per lead, conversion, average check, margin, ROI and run rate.

    `run_rate` (average monthly costs x quarter months) is the default budget; a group can be planned
    only when it had both costs and leads in the look-back.
    """
    cols = ["leads", "won_deals", "revenue", "income", "costs"]
    if monthly.empty:
        return pd.DataFrame(columns=["group", "label", "months", *cols, "cpl", "conversion", "avg_check",
                                     "margin", "roi", "revenue_per_cost", "run_rate", "plannable"])
    g = monthly.groupby(["group", "label"], as_index=False, sort=False).agg(
        months=("period", "nunique"), **{c: (c, "sum") for c in cols})
    with np.errstate(divide="ignore", invalid="ignore"):
        g["cpl"] = np.where(g["leads"] > 0, g["costs"] / g["leads"], np.nan)
        g["conversion"] = np.where(g["leads"] > 0, g["won_deals"] / g["leads"], np.nan)
        g["avg_check"] = np.where(g["won_deals"] > 0, g["revenue"] / g["won_deals"], np.nan)
        g["margin"] = np.where(g["revenue"] > 0, g["income"] / g["revenue"], 1.0)
        g["roi"] = np.where(g["costs"] > 0, (g["income"] - g["costs"]) / g["costs"], np.nan)
        g["revenue_per_cost"] = np.where(g["costs"] > 0, g["revenue"] / g["costs"], np.nan)
    g["run_rate"] = g["costs"] / g["months"].clip(lower=1) * quarter_months
    g["plannable"] = (g["costs"] > 0) & (g["leads"] > 0)
    return g


def _point(r: pd.Series, budget: float) -> dict[str, float]:
    """Deterministic projection of one group from its look-back rates."""
    leads = budget / r["cpl"] if r["cpl"] > 0 else 0.0
    deals = leads * (r["conversion"] if np.isfinite(r["conversion"]) else 0.0)
    revenue = deals * (r["avg_check"] if np.isfinite(r["avg_check"]) else 0.0)
    income = revenue * r["margin"]
    roi = (income - budget) / budget if budget > 0 else float("nan")
    return {"leads": leads, "won_deals": deals, "revenue": revenue, "income": income, "roi": roi}


def _draws(monthly: pd.DataFrame, group: str, idx: np.ndarray, budget: float) -> dict[str, np.ndarray]:
    """Bootstrap draws of one group's quarter: months `idx` (sims x months) replayed at the budget."""
    rows = monthly[monthly["group"] == group].set_index("period")
    periods = np.sort(monthly["period"].unique())
    rows = rows.reindex(periods, fill_value=0.0)
    sums = {c: rows[c].to_numpy(dtype=float)[idx].sum(axis=1)
            for c in ("leads", "won_deals", "revenue", "income", "costs")}
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(sums["costs"] > 0, budget / sums["costs"], np.nan)
    out = {m: sums[m] * scale for m in ("leads", "won_deals", "revenue", "income")}
    with np.errstate(divide="ignore", invalid="ignore"):
        out["roi"] = np.where(budget > 0, (out["income"] - budget) / budget, np.nan)
    return out


def _bounds(draws: np.ndarray, levels: tuple[float, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    ok = draws[np.isfinite(draws)]
    for level in levels:
        lo, hi = fc.bound_names(level)
        if ok.size:
            out[lo], out[hi] = (float(v) for v in np.quantile(ok, [(1 - level) / 2, (1 + level) / 2]))
        else:
            out[lo] = out[hi] = float("nan")
    return out


def _row(group: str, label: str, budget: float, point: dict[str, float], draws: dict[str, np.ndarray],
         levels: tuple[float, ...]) -> dict[str, Any]:
    row: dict[str, Any] = {"group": group, "label": label, "budget": budget}
    for m in MEASURES:
        row[m] = point[m]
        row.update({f"{m}_{k}": v for k, v in _bounds(draws[m], levels).items()})
    return row


def project(monthly: pd.DataFrame, budgets: Mapping[str, float], months: int = QUARTER_MONTHS,
            levels: tuple[float, ...] = LEVELS, n_sims: int = N_SIMS, seed: int = SEED) -> Projection:
    """Projected quarter for each budgeted group and the total, with intervals (bootstrap over months)."""
    r = rates(monthly).set_index("group")
    periods = monthly["period"].nunique()
    idx = np.random.default_rng(seed).integers(0, max(periods, 1), size=(n_sims, months))
    rows, total = [], {m: np.zeros(n_sims) for m in ("leads", "won_deals", "revenue", "income")}
    total_point = dict.fromkeys(total, 0.0)
    spend = 0.0
    for group, budget in budgets.items():
        if group not in r.index or not r.at[group, "plannable"] or budget < 0:
            continue
        point, draws = _point(r.loc[group], float(budget)), _draws(monthly, group, idx, float(budget))
        rows.append(_row(group, str(r.at[group, "label"]), float(budget), point, draws, levels))
        for m in total:
            total[m] = total[m] + np.nan_to_num(draws[m])
            total_point[m] += point[m]
        spend += float(budget)
    with np.errstate(divide="ignore", invalid="ignore"):
        total["roi"] = (total["income"] - spend) / spend if spend > 0 else np.full(n_sims, np.nan)
    total_point["roi"] = (total_point["income"] - spend) / spend if spend > 0 else float("nan")
    rows.append(_row("total", "total", spend, total_point, total, levels))
    return Projection(pd.DataFrame(rows), {"revenue": total["revenue"], "income": total["income"],
                                           "roi": total["roi"]})


def _shares(r: pd.DataFrame, weights: Mapping[str, float] | None) -> pd.Series:
    """Budget mix over plannable groups: the given weights, else the look-back spend."""
    r = r[r["plannable"]].set_index("group")
    w = pd.Series({g: float(weights.get(g, 0.0)) for g in r.index}) if weights else r["costs"].astype(float)
    w = w.clip(lower=0)
    return w / w.sum() if w.sum() > 0 else w


def budget_for_revenue(monthly: pd.DataFrame, target: float, weights: Mapping[str, float] | None = None,
                       months: int = QUARTER_MONTHS) -> dict[str, float]:
    """Budgets (keeping the mix of `weights`, else look-back spend) whose point projection is `target` revenue.

    `months` is unused by the point arithmetic (revenue per rouble of budget does not depend on it) and
    kept for symmetry with project().
    """
    del months
    r = rates(monthly)
    shares = _shares(r, weights)
    per_cost = r.set_index("group")["revenue_per_cost"].reindex(shares.index)
    yield_per_budget = float((shares * per_cost).sum())
    if target <= 0 or yield_per_budget <= 0:
        return {}
    total = target / yield_per_budget
    return {g: float(s * total) for g, s in shares.items() if s > 0}


def budget_for_roi(monthly: pd.DataFrame, target_roi: float, total_budget: float,
                   weights: Mapping[str, float] | None = None) -> tuple[dict[str, float], list[str]]:
    """Spread `total_budget` over the groups whose ROI reaches the target; return (budgets, left-out groups)."""
    r = rates(monthly)
    plannable = r[r["plannable"]]
    keep = plannable[plannable["roi"] >= target_roi]["group"].tolist()
    dropped = [g for g in plannable["group"] if g not in keep]
    shares = _shares(plannable[plannable["group"].isin(keep)], weights)
    if shares.sum() <= 0:
        shares = pd.Series(1.0 / len(keep), index=keep) if keep else shares
    return {g: float(s * total_budget) for g, s in shares.items() if s > 0}, dropped


@dataclass(frozen=True, eq=False)
class PlanResult:
    """A plan as the page shows it: basis, rates, the budgets used, their projection and the target."""

    basis: PlanBasis
    rates: pd.DataFrame
    budgets: dict[str, float]
    projection: Projection
    target_kind: str | None = None      # None | revenue | roi
    target: float | None = None
    dropped: tuple[str, ...] = ()       # groups left out because their ROI misses the target
    chance: float | None = None         # probability the total reaches the target


def plan(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "model",
         budgets: tuple[tuple[str, float], ...] | None = None, target_kind: str | None = None,
         target: float | None = None, total_budget: float | None = None,
         lookback_months: int = LOOKBACK_MONTHS) -> PlanResult:
    """Plan the next quarter from the database: given budgets (default: run rate) or a revenue/ROI target."""
    return plan_from(basis(con, f, by, lookback_months), budgets, target_kind, target, total_budget)


def plan_from(b: PlanBasis, budgets: tuple[tuple[str, float], ...] | None = None, target_kind: str | None = None,
              target: float | None = None, total_budget: float | None = None) -> PlanResult:
    """Plan from a basis already read: given budgets (default: run rate) or a revenue/ROI target.

    With a target, `budgets` (when given) only sets the mix; a revenue target scales it, an ROI target
    spreads `total_budget` (default: the run rate) over the groups whose ROI reaches the target.
    """
    if target_kind not in (None, "revenue", "roi"):
        raise ValueError(f"Unknown target {target_kind!r}: use revenue or roi.")
    r = rates(b.monthly)
    given = {g: float(v) for g, v in budgets} if budgets else None
    dropped: list[str] = []
    if target_kind == "revenue" and target is not None:
        chosen = budget_for_revenue(b.monthly, target, given)
    elif target_kind == "roi" and target is not None:
        spend = total_budget if total_budget is not None else float(r.loc[r["plannable"], "run_rate"].sum())
        chosen, dropped = budget_for_roi(b.monthly, target, spend, given)
    elif given is not None:
        chosen = given
    else:
        plannable = r[r["plannable"]] if len(r) else r
        chosen = dict(zip(plannable["group"], plannable["run_rate"].astype(float), strict=True))
    projection = project(b.monthly, chosen)
    chance = projection.chance(target_kind, target) if target_kind and target is not None and chosen else None
    return PlanResult(b, r, chosen, projection, target_kind, target, tuple(dropped), chance)


def _jsonable(value: Any) -> Any:
    """Numbers, dates and nested containers as plain JSON values (NaN -> None)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def plan_payload(plan_basis: PlanBasis, budgets: Mapping[str, float], projection: Projection,
                 target: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What a saved plan keeps: quarter, grouping, budgets, target, look-back and the projection table."""
    table = projection.table.set_index("group")
    return _jsonable({
        "kind": PLAN_KIND, "by": plan_basis.by, "quarter": plan_basis.quarter_label,
        "start": plan_basis.quarter_start, "end": plan_basis.quarter_end,
        "basis": {"from": plan_basis.first, "to": plan_basis.last},
        "budgets": dict(budgets), "labels": table["label"].to_dict(), "target": dict(target or {}),
        "projection": table.drop(columns=["label"]).to_dict(orient="index"),
    })


def save_plan(con: duckdb.DuckDBPyConnection, name: str, payload: Mapping[str, Any], overwrite: bool = False) -> int:
    """Save a budget plan as a what-if scenario (cost inputs untouched, the plan under meta); return its id.

    A scenario of the same name is replaced only when overwrite is set and it is itself a budget plan.
    """
    row = con.execute("select payload from scenarios where name = ?", [str(name).strip()]).fetchone()
    if row is not None:
        try:
            kind = (json.loads(row[0]).get("meta") or {}).get("kind")
        except (ValueError, AttributeError):
            kind = None
        if not overwrite or kind != PLAN_KIND:
            raise userdata.fail("scenario.exists", name=str(name).strip())
    meta = {**_jsonable(dict(payload)), "kind": PLAN_KIND}
    return userdata.save_scenario(con, name, userdata.ScenarioInputs(meta=meta), overwrite=overwrite)


def load_plans(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Saved budget plans, newest first: name, created_at, quarter, by, total budget."""
    rows = con.execute("select name, created_at, payload from scenarios order by created_at desc, name").fetchall()
    out = []
    for name, created, text in rows:
        try:
            meta = json.loads(text).get("meta") or {}
        except (ValueError, AttributeError):
            continue
        if meta.get("kind") == PLAN_KIND:
            budget = sum(float(v or 0) for v in (meta.get("budgets") or {}).values())
            out.append({"name": name, "created_at": created, "quarter": meta.get("quarter"),
                        "by": meta.get("by"), "budget": budget})
    return pd.DataFrame(out, columns=["name", "created_at", "quarter", "by", "budget"])

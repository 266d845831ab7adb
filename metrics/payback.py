"""Payback month of acquisition cohorts: when cumulative income of a cohort's won deals covers its costs.

A cohort is the leads of one partner or of one model's partners created in one calendar month (the cohort view).
For each month since acquisition m = 0, 1, … up to the cohort's age (months from its month to the data's as-of
month) payback.sql gives the income of its won deals closed that month, the commissions the rules give for them
(the same rule machinery as the KPIs: a won deal's reward in its close month, a qualified lead's in the cohort's
month), the ledger of the cohort's own month (at m = 0) and the running total income − costs.

Status of a cohort (STATUSES), the rule the glossary states:

* ``paid_back`` — payback month = the first m whose cumulative income − costs is ≥ 0 once it has costs.
* ``no_costs`` — nothing was spent on it (no ledger, no commission) up to its age: nothing to pay back.
* ``too_young`` — still below 0 and younger than the series' typical payback: the median payback month of the
  cohorts of the same partner / model that paid back, rounded up (1 when none has yet: a cohort whose own month
  is not over is always too young).
* ``not_yet`` — still below 0 at or beyond that age.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from metrics import query, sql
from metrics.filters import FilterError, Filters

COHORTS = 12  # cohorts shown: the last 12 months of the period
STATUSES = ("paid_back", "not_yet", "too_young", "no_costs")
PARTNER_MODELS = ("referral", "sales", "service", "unassigned")  # direct has no acquisition costs to pay back
CURVE_COLUMNS = ("model", "cohort", "m", "age", "leads", "won_leads", "income", "commission", "ledger", "costs",
                 "cum_income", "cum_costs", "cumulative")
MONTH_COLUMNS = ("model", "cohort", "age", "leads", "won_leads", "cum_income", "cum_costs", "cumulative", "payback_month",
                 "status", "needed")


def _month(d: date) -> date:
    return d.replace(day=1)


def months_back(d: date, n: int) -> date:
    """The first day of the month n months before d's month."""
    k = d.year * 12 + d.month - 1 - n
    return date(k // 12, k % 12 + 1, 1)


def as_of_date(con: duckdb.DuckDBPyConnection) -> date | None:
    """The data's as-of day: the latest lead creation or deal close (None for an empty database)."""
    return con.execute(sql.load("payback_as_of")).fetchone()[0]


def cohort_filters(f: Filters, as_of: date, cohorts: int = COHORTS) -> Filters | None:
    """The cohort view over the last `cohorts` months of f's period up to as_of (None when the period is later)."""
    end = min(f.date_to, as_of)
    if end < f.date_from:
        return None
    return replace(f, date_from=max(f.date_from, months_back(end, cohorts - 1)), date_to=end, view="cohort")


def _narrowed(f: Filters, model: str | None, partner_id: int | None) -> tuple[Filters, tuple[str, ...]]:
    """f narrowed to one partner (grouped by month) or to one model's / every model's partners (by month and
    model); the other partner / model filters are dropped."""
    if model is not None and partner_id is not None:
        raise FilterError("Payback is computed for one model or one partner: give one of them, not both.")
    if model is not None and model not in PARTNER_MODELS:
        raise FilterError(f"No payback for {model!r}: choose one of {', '.join(PARTNER_MODELS)} (direct sales "
                          "have no acquisition costs to pay back).")
    if partner_id is not None:
        return replace(f, partners=(int(partner_id),), models=()), ("month",)
    return replace(f, partners=(), models=(model,) if model else PARTNER_MODELS), ("month", "model")


def curves(con: duckdb.DuckDBPyConnection, f: Filters, model: str | None = None, partner_id: int | None = None,
           cohorts: int = COHORTS, as_of: date | None = None) -> pd.DataFrame:
    """Per model (a partner's own for one partner) × cohort × month since acquisition: income, commission, ledger,
    costs and their running totals. Without model or partner: every partnership model's cohorts."""
    narrowed, dims = _narrowed(f, model, partner_id)
    as_of = as_of or as_of_date(con)
    scoped = cohort_filters(narrowed, as_of, cohorts) if as_of else None
    if scoped is None:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in CURVE_COLUMNS})
    raw = query.scope_run(con, "payback", [(scoped, dims)], as_of_month=_month(as_of))
    out = raw.rename(columns={"k_period": "cohort", "k_model": "model"})
    if partner_id is not None:  # one partner: its own model names the series
        out["model"] = con.execute(sql.load("payback_partner_model"), [int(partner_id)]).fetchone()[0]
    out["cohort"] = pd.to_datetime(out["cohort"]).dt.date
    out = out.astype({"m": "int64", "age": "int64", "leads": "int64", "won_leads": "int64"})
    out["costs"] = out["commission"] + out["ledger"]
    return out[list(CURVE_COLUMNS)].reset_index(drop=True)


def _first_payback(part: pd.DataFrame) -> int | None:
    """The first month since acquisition with costs so far and cumulative income − costs ≥ 0."""
    hit = part[(part["cum_costs"] > 0) & (part["cumulative"] >= -1e-9)]
    return int(hit["m"].iloc[0]) if len(hit) else None


def months(curve: pd.DataFrame) -> pd.DataFrame:
    """One row per model × cohort (newest first): totals to date, payback month and status (the module's rule)."""
    parts = [_series_months(model, part) for model, part in curve.groupby("model", sort=False)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(MONTH_COLUMNS))
    out["payback_month"] = out["payback_month"].astype("Int64")
    out["needed"] = out["needed"].astype("Int64")
    order = out["model"].map({m: i for i, m in enumerate(PARTNER_MODELS)})
    return (out.assign(_o=order).sort_values(["_o", "cohort"], ascending=[True, False], kind="stable")
            .drop(columns="_o").reset_index(drop=True))


def _series_months(model: str, curve: pd.DataFrame) -> pd.DataFrame:
    """months() of one series (one model's or one partner's cohorts)."""
    rows: list[dict[str, Any]] = []
    for cohort, part in curve.groupby("cohort", sort=True):
        last = part.iloc[-1]
        paid = _first_payback(part)
        status = "paid_back" if paid is not None else "no_costs" if last["cum_costs"] <= 0 else None
        rows.append({"model": model, "cohort": cohort, "age": int(last["age"]), "leads": int(last["leads"]),
                     "won_leads": int(last["won_leads"]), "cum_income": float(last["cum_income"]),
                     "cum_costs": float(last["cum_costs"]), "cumulative": float(last["cumulative"]),
                     "payback_month": paid, "status": status})
    paid_months = [r["payback_month"] for r in rows if r["payback_month"] is not None]
    # the age a cohort needs before "not yet" is fair: the series' typical payback (1 when none paid back yet)
    needed = max(1, math.ceil(float(np.median(paid_months)))) if paid_months else 1
    for r in rows:
        r["needed"] = needed
        if r["status"] is None:
            r["status"] = "too_young" if r["age"] < needed else "not_yet"
    return pd.DataFrame(rows, columns=list(MONTH_COLUMNS))


def payback(con: duckdb.DuckDBPyConnection, f: Filters, model: str | None = None, partner_id: int | None = None,
            cohorts: int = COHORTS, as_of: date | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(curves, months) of one model's, every model's or one partner's acquisition cohorts: the chart and the
    table."""
    curve = curves(con, f, model, partner_id, cohorts, as_of)
    return curve, months(curve)

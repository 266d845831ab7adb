"""What-if on one partner's percent-of-revenue commission: the break-even rate and ROI at other rates."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import duckdb
import pandas as pd

from metrics.costs import Scenario
from metrics.filters import Filters
from metrics.kpi_frames import kpis
from metrics.ranking import roi_band
from metrics.views import commission_details


def breakeven_commission_rate(con: duckdb.DuckDBPyConnection, f: Filters, partner_id: int,
                              scenario: Scenario | None = None) -> float | None:
    """Percent-of-revenue commission rate at which the partner's ROI is 0, other costs unchanged."""
    # Other costs = ledger share + rewards of the other rule kinds. None without revenue; a negative rate
    # means the partner loses money even with no percentage commission.
    parts = _commission_parts(con, f, partner_id, scenario)
    if parts is None or parts["revenue"] <= 0:
        return None
    return (parts["income"] - parts["other_costs"]) / parts["revenue"]


def roi_sensitivity(con: duckdb.DuckDBPyConnection, f: Filters, partner_ids: list[int] | tuple[int, ...],
                    rates: list[float] | tuple[float, ...], scenario: Scenario | None = None) -> pd.DataFrame:
    """ROI of each partner if its percent-of-revenue commission rate were each of `rates` (other costs kept)."""
    rows = []
    for pid in partner_ids:
        parts = _commission_parts(con, f, pid, scenario) or {"revenue": 0.0, "income": 0.0, "other_costs": 0.0,
                                                            "partner": None}
        for rate in rates:
            costs = parts["other_costs"] + rate * parts["revenue"]
            profit = parts["income"] - costs
            roi = profit / costs if costs else None
            rows.append({"partner_id": pid, "partner": parts["partner"], "rate": rate, "revenue": parts["revenue"],
                         "income": parts["income"], "costs": costs, "profit": profit, "roi": roi,
                         "roi_band": roi_band(roi)})
    return pd.DataFrame(rows, columns=["partner_id", "partner", "rate", "revenue", "income", "costs", "profit",
                                       "roi", "roi_band"])


def _commission_parts(con: duckdb.DuckDBPyConnection, f: Filters, partner_id: int,
                      scenario: Scenario | None) -> dict[str, Any] | None:
    """A partner's revenue, income and costs other than percent-of-revenue commissions."""
    narrowed = replace(f, partners=(int(partner_id),), models=())
    row = kpis(con, narrowed, "partner", scenario)
    row = row[row["partner_id"] == partner_id]
    if row.empty:
        return None
    details = commission_details(con, narrowed, scenario)
    percent = float(details.loc[details["kind"] == "percent_revenue", "amount"].sum())
    r = row.iloc[0]
    return {"partner": r["partner"], "revenue": float(r["revenue"]), "income": float(r["income"]),
            "other_costs": float(r["costs"]) - percent}

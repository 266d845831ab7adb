"""Who earns their cost: one verdict per partner or model from its ROI interval, the rule every screen shares.

A row *earns* its cost when the lower bound of its ROI interval is above zero, *loses* when the upper bound is
below zero, and is *unclear* when the interval holds zero (the data cannot tell yet). The interval is the pooled
one where the frame has it (metrics.pooling: a small partner is pulled toward its model, so three lucky deals do
not make an earner), else the raw bootstrap interval; a row without any interval is unclear unless it has costs
and no lead at all (nothing can come back: it loses). Rows without costs (direct sales, partners nobody pays)
have no ROI and no verdict.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EARNS, LOSES, UNCLEAR, NO_COSTS = "earns", "loses", "unclear", "no_costs"
VERDICTS = (EARNS, LOSES, UNCLEAR, NO_COSTS)


def _bounds(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(low, high) of each row's ROI interval: pooled where present, else raw; NaN where neither exists."""
    nan = pd.Series(np.nan, index=rows.index)
    low = rows.get("roi_low", nan).astype(float)
    high = rows.get("roi_high", nan).astype(float)
    if "roi_pooled_low" in rows.columns:
        pooled = rows["roi_pooled_low"].notna() & rows["roi_pooled_high"].notna()
        low = low.where(~pooled, rows["roi_pooled_low"].astype(float))
        high = high.where(~pooled, rows["roi_pooled_high"].astype(float))
    return low, high


def interval(row: pd.Series) -> tuple[float, float]:
    """(low, high) of one row's ROI interval, by the same choice as verdict: pooled where present, else raw."""
    low, high = _bounds(row.to_frame().T)
    return float(low.iloc[0]), float(high.iloc[0])


def point(row: pd.Series) -> float:
    """The ROI estimate that goes with interval(row): the pooled one where the row has it, else the raw one."""
    pooled = row.get("roi_pooled")
    return float(pooled) if pooled is not None and pd.notna(pooled) else float(row["roi"])


def verdict(rows: pd.DataFrame) -> pd.Series:
    """EARNS / LOSES / UNCLEAR / NO_COSTS per row of a KPI frame with roi (and ideally its interval columns)."""
    low, high = _bounds(rows)
    roi = rows["roi"].astype(float)
    no_leads = rows.get("leads", pd.Series(1, index=rows.index)).fillna(0).astype(float) == 0
    out = pd.Series(UNCLEAR, index=rows.index, dtype=object)
    out[low > 0] = EARNS
    out[high < 0] = LOSES
    out[no_leads & (roi < 0)] = LOSES  # costs with no lead at all: a certain loss, whatever an interval says
    out[roi.isna()] = NO_COSTS
    return out


def profit_order(rows: pd.DataFrame, which: str) -> pd.DataFrame:
    """Rows of one verdict, the money first: earners by profit (largest first), losers by loss (largest first)."""
    mine = rows[verdict(rows) == which]
    return mine.sort_values("profit", ascending=which == LOSES, kind="stable")



def with_model_interval(rows: pd.DataFrame, intervals: pd.DataFrame) -> pd.DataFrame:
    """KPI rows by model plus roi_low / roi_high of engine.roi_interval(by="model")'s rows, matched by model."""
    if intervals.empty or "model" not in intervals.columns:
        return rows.assign(roi_low=np.nan, roi_high=np.nan)
    return rows.join(intervals.set_index("model")[["roi_low", "roi_high"]], on="model")

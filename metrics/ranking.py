"""Ranking groups by a metric or its cautious bound, bootstrap intervals of ROI per group, and the ROI bands."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from metrics import macros, pooling, query, shape, stats
from metrics.costs import Scenario
from metrics.filters import FilterError, Filters
from metrics.registry import METRICS


def rank(df: pd.DataFrame, metric: str, by_lower_bound: bool = False, higher_is_better: bool | None = None,
         ) -> pd.DataFrame:
    """Add `rank` (1 = best) and `highlight` (best / worst) by metric or its cautious interval bound."""
    # too_few rows, rows without a value and the direct baseline (partner_id null) get no rank. With
    # by_lower_bound the pessimistic bound is used (`_low` when higher is better, else `_high`), so a small,
    # noisy group cannot top the list on luck: for conversion and ROI the bound of the partially pooled estimate
    # (metrics.pooling, added when missing), so even with min_leads = 1 three wins of three leads stay below
    # a 500-lead partner at 20 %.
    better_high = higher_is_better if higher_is_better is not None else \
        getattr(METRICS.get(metric), "higher_is_better", True)
    col = metric
    if by_lower_bound:
        df, col = pooling.bound_column(df, metric, better_high)
        if col not in df.columns:
            raise FilterError(f"No interval column {col} to rank by: use roi_interval() or conversion.")
    out = df.copy()
    eligible = out[col].notna()
    if "too_few" in out.columns:
        eligible &= ~out["too_few"].fillna(False).astype(bool)
    if "partner_id" in out.columns:
        eligible &= out["partner_id"].notna()
    ranks = out.loc[eligible, col].rank(ascending=not better_high, method="min")
    out["rank"] = ranks.astype("Int64").reindex(out.index)
    out["highlight"] = None
    if eligible.sum() >= 2:
        out.loc[ranks.idxmin(), "highlight"] = "best"
        out.loc[ranks.idxmax(), "highlight"] = "worst"
    return out


SCOPE_KEY_COLUMNS = ("k_partner_id", "k_model", "k_pipeline_id", "k_source", "k_period")  # a group's seed key
ROI_UNIT_COLUMNS = ("n", "k", "fixed", "sx", "sy", "sxx", "syy", "sxy", "xs", "ys")  # roi_units.sql's inputs


def roi_interval(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "partner", n_boot: int = 1000,
                 seed: int = 0, scenario: Scenario | None = None, incremental: bool = False) -> pd.DataFrame:
    """Bootstrap 95 % interval of ROI per group (resampling its leads and deals, seeded): roi_low, roi_high.

    incremental: the same for the incremental ROI (pre-existing clients' deals bring no income)."""
    dims = query.frame_dims(by)
    raw = shape.scope_parts(query.scope_run(con, "roi_units", [(f, dims)], scenario,
                                            inputs={"incremental": incremental} if incremental else None,
                                            max_exact=stats.EXACT_MAX_UNITS), 1)[0]
    return _roi_intervals(raw, dims, n_boot, seed)


def _roi_intervals(raw: pd.DataFrame, dims: tuple[str, ...], n_boot: int, seed: int) -> pd.DataFrame:
    """roi_interval's rows from roi_units rows of one scope (bootstrap per group, seeded by the group's keys)."""
    cols = {c: raw[c].tolist() for c in (*SCOPE_KEY_COLUMNS, *ROI_UNIT_COLUMNS)}  # lists: cheaper than rows
    lows, highs, methods, rois = [], [], [], []
    for i in range(len(raw)):
        xs, ys = (np.asarray(v if isinstance(v, (list, np.ndarray)) else [], dtype=float)
                  for v in (cols["xs"][i], cols["ys"][i]))
        n, k, fixed, sx, sy = (cols[c][i] for c in ("n", "k", "fixed", "sx", "sy"))
        sample = stats.RoiSample(int(max(n, k)), float(fixed), xs, ys,
                                 (int(k), sx, sy, cols["sxx"][i], cols["syy"][i], cols["sxy"][i]))
        group = tuple(cols[c][i] for c in SCOPE_KEY_COLUMNS)
        low, high, method = stats.roi_bootstrap(sample, n_boot, stats.group_seed(seed, group))
        costs = fixed + sy
        rois.append((sx - costs) / costs if costs else None)
        lows.append(low)
        highs.append(high)
        methods.append(method)
    # roi_units.sql names the keys and orders the rows; a partner's row shows the partner's model
    out = raw[[c for c in raw.columns if c.startswith("k_")]]
    if "partner" in dims:
        out = out.assign(k_model=raw["partner_model"])
    out = out.assign(units=raw["n"].astype("int64"), roi=rois, roi_low=lows, roi_high=highs, method=methods)
    return shape.public_keys(out, dims).reset_index(drop=True)


def roi_band(roi: float | None) -> str:
    """ROI band per metrics-spec (the macro roi_band of data_layer/macros.sql, evaluated by metrics.macros)."""
    return macros.roi_band(roi)

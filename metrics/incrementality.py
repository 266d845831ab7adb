"""Credited vs incremental figures per partner or model (metrics-spec "Credit and incrementality"), and the list of
a partner's pre-existing deals behind them."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from data_layer import crm_links
from metrics import query
from metrics.batch import Call, together
from metrics.filters import FilterError, Filters
from metrics.kpi_frames import grouped
from metrics.ranking import roi_interval

BY = ("partner", "model")
# The columns `incrementality` returns after the group's keys (docs/metrics.md lists them for the CLI's JSON).
COLUMNS = ("leads", "won_deals", "preexisting_deals", "revenue", "incremental_revenue", "preexisting_share",
           "costs", "roi", "roi_low", "roi_high", "incremental_roi", "incremental_roi_low", "incremental_roi_high",
           "too_few", "incremental_loss")
DEAL_COLUMNS = ("lead_id", "lead_name", "client", "amount", "created_date", "closed_date", "earlier_lead_id",
                "earlier_lead_name", "earlier_created_date", "earlier_closed_date", "earlier_kind", "earlier_partner",
                "match_kind", "url", "earlier_url")


DEFAULT_WINDOW_DAYS = 180  # data_layer/derived.sql's default for the setting `preexisting_window_days`


def window_days(con: duckdb.DuckDBPyConnection) -> int:
    """The pre-existing window in days, as the facts rebuild reads it (a whole number ≥ 1, else 180)."""
    row = con.execute("select try_cast(value as integer) from settings where key = 'preexisting_window_days'"
                      ).fetchone()
    return int(row[0]) if row and row[0] is not None and row[0] >= 1 else DEFAULT_WINDOW_DAYS


def incremental_loss(roi: object, incremental_roi: object) -> np.ndarray:
    """Where the incremental ROI is below 0 while the credited ROI is above it (element-wise; missing = False)."""
    credited = np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(roi)), errors="coerce"), dtype="float64")
    inc = np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(incremental_roi)), errors="coerce"), dtype="float64")
    return (inc < 0) & (credited > 0)


def incrementality(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "partner", n_boot: int = 1000,
                   seed: int = 0) -> pd.DataFrame:
    """Per partner (direct last) or model: credited revenue and ROI beside incremental ones, both with intervals.

    ``incremental_loss``: the incremental ROI is below 0 while the credited ROI is above it (a page says so)."""
    if by not in BY:
        raise FilterError(f"by must be one of {', '.join(BY)}, not {by!r}.")
    rows, credited, incremental = together(con, (
        Call.of(grouped, f, by=by, lite=True),
        Call.of(roi_interval, f, by=by, n_boot=n_boot, seed=seed),
        Call.of(roi_interval, f, by=by, n_boot=n_boot, seed=seed, incremental=True)))
    key = "partner_id" if by == "partner" else "model"
    keys = list(dict.fromkeys(c for c in (key, "partner", "model") if c in rows.columns))
    out = rows[keys + [c for c in COLUMNS if c in rows.columns]].copy()
    for name, iv in (("roi", credited), ("incremental_roi", incremental)):
        bounds = iv.set_index(iv[key].astype(object))[["roi_low", "roi_high"]]
        found = bounds.reindex(out[key].astype(object))
        out[f"{name}_low"], out[f"{name}_high"] = found["roi_low"].to_numpy(), found["roi_high"].to_numpy()
    out["incremental_loss"] = incremental_loss(out["roi"], out["incremental_roi"])
    return out[[c for c in out.columns if c not in COLUMNS] + list(COLUMNS)].reset_index(drop=True)


def preexisting_deals(con: duckdb.DuckDBPyConnection, f: Filters, partner_id: int) -> pd.DataFrame:
    """The partner's pre-existing won deals in the period: lead, client, the earlier lead, both dates, and both
    leads' amoCRM cards (url, earlier_url: None unless the database is synced from a real account)."""
    values = {"partner_id": int(partner_id), "date_from": f.date_from, "date_to": f.date_to,
              "close_view": f.view == "close"}
    rows = query.run(con, "preexisting_deals", values)
    base = crm_links.account_base(con)
    return rows.assign(url=[crm_links.lead_url(base, i) for i in rows["lead_id"]],
                       earlier_url=[crm_links.lead_url(base, i) for i in rows["earlier_lead_id"]])[list(DEAL_COLUMNS)]

"""Public metrics API: every metric of metrics-spec computed by SQL in DuckDB (metrics/sql/*.sql).

Functions take a DuckDB connection and a :class:`~metrics.filters.Filters`; they return pandas
DataFrames of aggregated rows (never one row per lead, except :func:`deals`).

This module only gathers the API from the modules doing the work, so pages and reports keep calling
``engine.kpis(...)``:

* metrics.query — bound parameters, groupings, scopes: running one query for a page's frames;
* metrics.shape — public key names, presentation order, each scope's slice of a result;
* metrics.kpi_frames — KPI rows of frames (kpis_many, grouped, kpis), costs by category, deltas;
* metrics.views — metrics with a query of their own: monthly, funnel, quality, partners vs direct, deals,
  commission details, revenue total;
* metrics.ranking — rank, ROI bootstrap intervals, ROI bands;
* metrics.sensitivity — break-even commission rate and ROI per rate (what-if);
* metrics.batch — Call and together(): a page's calls side by side; kpis_with_roi.
"""

from __future__ import annotations

from metrics.batch import TOGETHER, Call, kpis_with_roi, qualified_name, together
from metrics.costs import LEDGER_CATEGORIES
from metrics.filters import FilterError, Filters
from metrics.kpi_frames import (
    CLIENT_METRICS,
    CLOSE_COLUMNS,
    COMMISSION_CATEGORY,
    COST_COLUMNS,
    DELTA_METRICS,
    KPI_COLUMNS,
    LITE,
    costs_by_category,
    costs_long,
    deltas,
    grouped,
    kpis,
    kpis_many,
)
from metrics.payback import payback
from metrics.query import (
    BY_CHOICES,
    KEY_COLUMNS,
    MODEL_ORDER,
    TIME_UNITS,
    Frame,
    frame_dims,
    query_params,
    run,
    scope_run,
)
from metrics.ranking import ROI_UNIT_COLUMNS, SCOPE_KEY_COLUMNS, rank, roi_band, roi_interval
from metrics.sensitivity import breakeven_commission_rate, roi_sensitivity
from metrics.views import (
    PVD_COLUMNS,
    commission_details,
    deals,
    funnel,
    monthly,
    partner_vs_direct,
    quality,
    revenue_total,
)

__all__ = [
    "BY_CHOICES", "CLIENT_METRICS", "CLOSE_COLUMNS", "COMMISSION_CATEGORY", "COST_COLUMNS",
    "DELTA_METRICS", "KEY_COLUMNS", "KPI_COLUMNS", "LEDGER_CATEGORIES", "LITE", "MODEL_ORDER", "PVD_COLUMNS",
    "ROI_UNIT_COLUMNS", "SCOPE_KEY_COLUMNS", "TIME_UNITS", "TOGETHER", "Call", "FilterError", "Filters", "Frame",
    "breakeven_commission_rate", "commission_details", "costs_by_category", "costs_long", "deals", "deltas",
    "frame_dims", "funnel", "grouped", "kpis", "kpis_many", "kpis_with_roi", "monthly", "partner_vs_direct",
    "payback", "qualified_name", "quality", "query_params", "rank", "revenue_total", "roi_band", "roi_interval",
    "roi_sensitivity", "run", "scope_run", "together",
]

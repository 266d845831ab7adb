"""The data of one view's export, read once through ``metrics`` (no SQL here): KPIs of the view and of its comparison
period, by partner with the leaderboard's intervals and pooled estimates, by model, by month, and the names and
freshness its header prints (reports.header).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from metrics import engine, lookups, page_frames, pooling
from metrics import events as metric_events
from metrics.filters import Filters
from presentation.freshness import account_tz
from presentation.periods import comparison_of
from reports import header


@dataclass
class ViewData:
    """Everything an export of one view shows, read once from metrics."""

    f: Filters
    kpis: pd.DataFrame
    partners: pd.DataFrame
    models: pd.DataFrame
    monthly: pd.DataFrame
    partner_names: dict[int, str] = field(default_factory=dict)
    pipeline_names: dict[int, str] = field(default_factory=dict)
    freshness: dict[str, Any] = field(default_factory=dict)
    generated_at: datetime = field(default_factory=lambda: datetime.now().astimezone())
    compare: str = "previous"   # the sidebar's comparison: previous | year
    before: pd.DataFrame = field(default_factory=pd.DataFrame)  # the KPI row of the comparison period
    events: pd.DataFrame = field(default_factory=pd.DataFrame)  # the view's events (metrics.events), drawn on charts

    @property
    def currency(self) -> str:
        """ISO code of the account currency."""
        return str(self.freshness.get("currency") or "RUB")


def _names(frame: pd.DataFrame, key: str) -> dict[int, str]:
    return {int(k): str(v) for k, v in zip(frame[key], frame["name"], strict=True)}


def _with_model_roi(models: pd.DataFrame, intervals: pd.DataFrame) -> pd.DataFrame:
    """KPI rows by model plus roi_low / roi_high of roi_interval(by="model"), matched by model."""
    if intervals.empty:
        return models.assign(roi_low=float("nan"), roi_high=float("nan"))
    return models.join(intervals.set_index("model")[["roi_low", "roi_high"]], on="model")


def collect(con: duckdb.DuckDBPyConnection, f: Filters, compare: str = "previous") -> ViewData:
    """Read the KPIs of a view (total, by partner with the leaderboard's intervals and pooled estimates, by model with
    ROI intervals, by month with the maturity columns), of its comparison period, and the names that describe it."""
    fresh = lookups.freshness(con)
    before_f = comparison_of(f, compare)
    # one query for the five KPI frames, then the ROI bootstraps of the partners and the models
    total, partners, models, monthly, before = engine.kpis_many(
        con, (*page_frames.export_view(f), (before_f, "none")))
    partners = pooling.add_pooled(pooling.with_roi(partners, engine.roi_interval(con, f, by="partner")))
    models = _with_model_roi(models, engine.roi_interval(con, f, by="model"))
    return ViewData(
        f=f, kpis=total, partners=partners, models=models,
        monthly=monthly, partner_names=_names(lookups.partners(con), "partner_id"),
        pipeline_names=_names(lookups.pipelines(con), "pipeline_id"), freshness=fresh,
        generated_at=datetime.now(ZoneInfo(account_tz(fresh))), compare=compare, before=before,
        events=metric_events.events(con, f.date_from, f.date_to, metric_events.scope_of(f)),
    )


def header_lines(data: ViewData, lang: str) -> list[tuple[str, str]]:
    """The view's header: period, comparison, filters, data freshness and generation time (reports.header)."""
    return header.lines(data.f, data.freshness, data.generated_at, lang, compare=data.compare,
                        partner_names=data.partner_names, pipeline_names=data.pipeline_names)

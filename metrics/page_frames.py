"""The KPI frames each dashboard page shows, listed in one place so a page asks for them together.

A frame is (filters, grouping). engine.kpis_many computes every frame of a page that shares the same narrowing
in one query, so a page pays the query's fixed cost once instead of once per number block. The pages
(through ui.data.prefetch_kpis) and the benchmark (bench/metrics_bench.py) both use these lists.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from metrics import engine
from metrics.engine import CLIENT_METRICS, LITE, Call
from metrics.filters import Filters

Request = tuple  # (filters, grouping) or (filters, grouping, LITE): see engine.kpis_many


def trend_unit(f: Filters) -> str:
    """Bucket of a period's trend chart: weeks up to two months, months beyond."""
    return "week" if f.days <= 62 else "month"


def week_windows(f: Filters) -> tuple[Filters, Filters, Filters]:
    """Last 7 days of the period, the 7 days before them, and the period as it stood a week ago."""
    end = f.date_to
    last = replace(f, date_from=max(f.date_from, end - timedelta(days=6)), date_to=end)
    prev = replace(f, date_from=last.date_from - timedelta(days=7), date_to=last.date_from - timedelta(days=1))
    week_ago_end = end - timedelta(days=7)
    as_of = replace(f, date_to=week_ago_end) if week_ago_end >= f.date_from else prev
    return last, prev, as_of


def overview(f: Filters, before: Filters) -> tuple[Request, ...]:
    """KPI cards (period, comparison), trend chart, the 'since last week' panel (movers, ROI bands), and the first
    screen's answer (partners and models of the period and the comparison's models).

    Nothing on the overview shows a client metric (the cards: leads, deals, conversion, revenue, costs, ROI): every
    frame is lite.
    """
    last, prev, as_of = week_windows(f)
    return ((f, "none", LITE), (before, "none", LITE), (f, trend_unit(f), LITE),
            (replace(last, view="close"), "partner", LITE), (replace(prev, view="close"), "partner", LITE),
            (f, "partner", LITE), (as_of, "partner", LITE), (f, "model", LITE), (before, "model", LITE))


def overview_extras(f: Filters) -> tuple[Call, ...]:
    """The first screen's ROI intervals (by partner: pooled verdicts; by model), run beside the KPI frames."""
    return (Call.of(engine.roi_interval, f, by="partner"), Call.of(engine.roi_interval, f, by="model"))


def partner(mine: Filters, before: Filters) -> tuple[Request, ...]:
    """One partner's page: KPI cards (period, comparison; costs by category come from the first) and trend; no
    client metric is shown, so every frame is lite."""
    return ((mine, "none", LITE), (before, "none", LITE), (mine, trend_unit(mine), LITE))


def partner_extras(mine: Filters, pid: int) -> tuple[Call, ...]:
    """One partner's page beside its KPI frames (engine.together calls): funnel, lead quality, deal list."""
    return (Call.of(engine.funnel, mine), Call.of(engine.quality, mine, by="none"), Call.of(engine.deals, mine, pid))


def models(f: Filters) -> tuple[Call, ...]:
    """The model comparison page (engine.together calls): KPIs by model, partners vs direct."""
    return (Call.of(engine.kpis, f, by="model"), Call.of(engine.partner_vs_direct, f))


def trends(f: Filters, grain: str, by: str, metric: str) -> tuple[Request, ...]:
    """The trends page: totals and the KPI table by period (they show CPA / LTV), the series by model or partner
    (lite unless the chosen metric is a client metric) and the partner choice (top partners by revenue)."""
    if by == "total":
        return ((f, "none"), (f, grain))
    series: Request = (f, (grain, by)) if metric in CLIENT_METRICS else (f, (grain, by), LITE)
    extra: tuple[Request, ...] = ((f, "partner", LITE),) if by == "partner" else ()
    return ((f, "none"), (f, grain), series, *extra)


def what_if(f: Filters) -> tuple[Request, ...]:
    """The what-if page, once for actuals and once under the scenario: totals, by partner, by model."""
    return ((f, "none"), (f, "partner"), (f, "model"))


def export_view(f: Filters) -> tuple[Request, ...]:
    """An exported view (reports page, `python -m reports export`): totals, by partner, by model, by month."""
    return ((f, "none"), (f, "partner"), (f, "model"), (f, "month"))

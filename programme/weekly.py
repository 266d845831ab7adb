"""The weekly review's facts, one implementation for the e-mailed pack (reports.weekly) and the meeting screens.

KPIs week over week, top movers, ROI band changes, anomalies, goals off track and the decisions they call for,
and the partner lifecycle's moves of the week (new, woke up, fell asleep; the whole programme, whatever the base
filters narrow).
Weeks are the 7 days ending on ``week_ending`` (default: the last completed Sunday). Deals count by close
date by default (what was won this week); ``view="cohort"`` switches to the lead-creation view.
Band changes compare the ROI band over the 28 days ending this week with the 28 days ending a week
earlier (a single week's ROI is mostly noise). Movers, band changes and anomalies follow metrics.changes, the
rule the trends page and the overview use too (an anomaly: the week's value outside the robust band of the weeks
before it). In the cohort view a week whose deals are
still closing (maturing, metrics.maturity) gets no anomaly verdict and is nobody's baseline, and partners maturing
in either compared window are left out of the movers, band changes and decisions.
Language-independent: reports.weekly renders the pack as PDF / XLSX / e-mail, ui.meeting* as screens.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from metrics import lifecycle, lookups, maturity
from metrics.changes import Kind, bands_frame, change, latest_anomalies, movers_frame, number
from metrics.engine import grouped, kpis
from metrics.filters import Filters, View
from programme import goals

SERIES_WEEKS = 12
BAND_DAYS = 28
SUMMARY: tuple[tuple[str, Kind], ...] = (
    ("leads", "int"), ("qualified_leads", "int"), ("won_deals", "int"), ("conversion", "pct"),
    ("revenue", "money"), ("avg_check", "money"), ("costs", "money"), ("profit", "money"), ("roi", "pct"),
    ("new_clients", "int"), ("cpa", "money"),
)
ANOMALY_METRICS: tuple[tuple[str, Kind], ...] = (("leads", "int"), ("won_deals", "int"), ("revenue", "money"))


@dataclass
class WeeklyPack:
    """Everything the weekly report shows, computed once (language-independent)."""

    week_ending: date
    week: Filters
    previous: Filters
    summary: pd.DataFrame          # metric, kind, this_week, last_week, change, change_pct
    movers: pd.DataFrame           # partner_id, partner, model, leads_*, revenue_*, change, change_pct, too_few
    bands: pd.DataFrame            # partner_id, partner, model, band_before, band_now, roi_before, roi_now, too_few
    anomalies: pd.DataFrame        # series, metric, kind, week, actual, expected, z
    series: pd.DataFrame           # week (end date), leads, won_deals, revenue, leads_anomaly
    partner_names: dict[int, str] = field(default_factory=dict)
    pipeline_names: dict[int, str] = field(default_factory=dict)
    freshness: dict[str, Any] = field(default_factory=dict)
    generated_at: datetime = field(default_factory=lambda: datetime.now().astimezone())
    goals: pd.DataFrame = field(default_factory=pd.DataFrame)  # goals off track (programme.goals.goals_off_track)
    goals_set: int = 0             # goals the programme has at all (0: "none set yet", not "all on track")
    partners: pd.DataFrame = field(default_factory=pd.DataFrame)  # partner KPIs, the 28 days ending this week
    # the partner lifecycle's moves of the week (new, woke up, fell asleep: metrics.lifecycle), every partner's
    lifecycle: lifecycle.WeekChanges | None = None

    @property
    def currency(self) -> str:
        """ISO code of the account currency."""
        return str(self.freshness.get("currency") or "RUB")


# ---------- dates ----------

def last_sunday(today: date) -> date:
    """The last completed week's Sunday: yesterday on a Monday, a week ago on a Sunday."""
    return today - timedelta(days=today.weekday() + 1)


def week_filters(week_ending: date, base: Filters | None = None, view: View = "close", weeks_back: int = 0,
                 days: int = 7) -> Filters:
    """The `days`-long window ending `weeks_back` weeks before week_ending, with the narrowing of base."""
    end = week_ending - timedelta(days=7 * weeks_back)
    start = end - timedelta(days=days - 1)
    if base is None:
        return Filters(start, end, view=view)
    return replace(base, date_from=start, date_to=end, view=view)


# ---------- arithmetic on metric rows ----------

def conversion_metric(row: pd.Series) -> str:
    """The conversion a close-view row shows (metrics-spec): the win rate of the leads closed in the period (its rows
    carry won_closed), else won leads of the period ÷ its leads."""
    return "win_rate_closed" if number(row.get("won_closed")) is not None else "conversion"


def summary_frame(now: pd.Series, before: pd.Series) -> pd.DataFrame:
    """This week vs last week for each summary metric (conversion as conversion_metric names it)."""
    rows = []
    for name, kind in SUMMARY:
        name = conversion_metric(now) if name == "conversion" else name
        diff, rel = change(now.get(name), before.get(name))
        rows.append({"metric": name, "kind": kind, "this_week": number(now.get(name)),
                     "last_week": number(before.get(name)), "change": diff, "change_pct": rel})
    return pd.DataFrame(rows)


# ---------- reading ----------

def _weekly_rows(con: duckdb.DuckDBPyConnection, week_ending: date, base: Filters | None, view: View,
                 weeks: int) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Total and per-partner KPI rows of each of the last `weeks` weeks (index 0 = the week itself)."""
    if week_ending.weekday() == 6:  # Monday-to-Sunday weeks are the engine's week buckets: two queries
        return _bucketed_rows(con, week_ending, base, view, weeks)
    totals, partners = [], []
    for back in range(weeks):
        f = week_filters(week_ending, base, view, back)
        totals.append(kpis(con, f))
        partners.append(kpis(con, f, by="partner"))
    return totals, partners


def _bucketed_rows(con: duckdb.DuckDBPyConnection, week_ending: date, base: Filters | None, view: View,
                   weeks: int) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Same as the per-week loop, from grouped(("week",)) and grouped(("week", "partner")) over all weeks."""
    span = week_filters(week_ending, base, view, 0, days=7 * weeks)
    by_week, by_partner = grouped(con, span, "week"), grouped(con, span, ("week", "partner"))
    totals, partners = [], []
    for back in range(weeks):
        start = week_ending - timedelta(days=7 * back + 6)
        totals.append(by_week[by_week["period"] == start].drop(columns="period").reset_index(drop=True))
        partners.append(by_partner[by_partner["period"] == start].drop(columns="period").reset_index(drop=True))
    return totals, partners


def _series(totals: list[pd.DataFrame], week_ending: date) -> pd.DataFrame:
    rows = []
    for back, frame in enumerate(totals):
        row = frame.iloc[0] if len(frame) else pd.Series(dtype=object)
        rows.append({"week": week_ending - timedelta(days=7 * back), "maturing": bool(row.get("maturing", False)),
                     **{m: number(row.get(m)) or 0.0 for m, _ in ANOMALY_METRICS}})
    return pd.DataFrame(rows).sort_values("week").reset_index(drop=True)


def _partner_anomalies(partners: list[pd.DataFrame], week_ending: date) -> list[pd.DataFrame]:
    """Lead-count anomalies of each partner (revenue per partner per week is too lumpy to judge)."""
    frames = []
    names = {int(p): str(n) for fr in partners for p, n in zip(fr["partner_id"], fr["partner"], strict=True)
             if not pd.isna(p)}
    for pid, name in names.items():
        rows = []
        for back, fr in enumerate(partners):
            hit = fr[fr["partner_id"] == pid]
            rows.append({"week": week_ending - timedelta(days=7 * back),
                         "leads": float(hit["leads"].iloc[0]) if len(hit) else 0.0,
                         "maturing": bool(hit["maturing"].iloc[0]) if len(hit) else False})
        frames.append(latest_anomalies(pd.DataFrame(rows), name, (("leads", "int"),)))
    return frames


def build_weekly(con: duckdb.DuckDBPyConnection, week_ending: date | None = None, base: Filters | None = None,
                 view: View = "close") -> WeeklyPack:
    """Compute the weekly pack for the week ending on week_ending (default: the last completed Sunday)."""
    fresh = lookups.freshness(con)
    tz = ZoneInfo(str(fresh.get("timezone") or "Europe/Moscow"))
    week_ending = week_ending or last_sunday(datetime.now(tz).date())
    totals, partners = _weekly_rows(con, week_ending, base, view, SERIES_WEEKS)
    series = _series(totals, week_ending)
    total_anomalies = latest_anomalies(series, "", ANOMALY_METRICS)  # series None = the whole program
    found = [f for f in [total_anomalies, *_partner_anomalies(partners, week_ending)] if not f.empty]
    anomalies = pd.concat(found, ignore_index=True) if found else latest_anomalies(series.head(0), "", ANOMALY_METRICS)
    leads_flag = set(total_anomalies.loc[total_anomalies["metric"] == "leads", "week"])
    series["leads_anomaly"] = series["week"].isin(leads_flag)
    band_now, band_before = maturity.settled(kpis(con, week_filters(week_ending, base, view, 0, BAND_DAYS), by="partner"),
                                             kpis(con, week_filters(week_ending, base, view, 1, BAND_DAYS), by="partner"))
    return WeeklyPack(
        week_ending=week_ending, week=week_filters(week_ending, base, view),
        previous=week_filters(week_ending, base, view, 1),
        summary=summary_frame(_first(totals[0]), _first(totals[1])),
        movers=movers_frame(*maturity.settled(partners[0], partners[1])),
        bands=bands_frame(band_now, band_before), partners=band_now[band_now["partner_id"].notna()].reset_index(drop=True),
        anomalies=anomalies, series=series,
        partner_names={int(k): str(v) for k, v in lookups.partners(con)[["partner_id", "name"]].itertuples(index=False)},
        pipeline_names={int(k): str(v) for k, v in
                        lookups.pipelines(con)[["pipeline_id", "name"]].itertuples(index=False)},
        freshness=fresh, generated_at=datetime.now(tz), goals=goals.goals_off_track(con, week_ending),
        goals_set=len(goals.list_goals(con)), lifecycle=lifecycle.week_changes(con, week_ending),
    )


def _first(frame: pd.DataFrame) -> pd.Series:
    return frame.iloc[0] if len(frame) else pd.Series(dtype=object)




def week_maturing(pack: WeeklyPack) -> bool:
    """True when the pack's own week is still maturing (cohort view: its leads' deals are still closing)."""
    last = pack.series.sort_values("week").tail(1)
    return bool(len(last) and "maturing" in last.columns and bool(last["maturing"].iloc[0]))


def default_week(today: date, data_max: date | None) -> date:
    """The week a report or meeting opens on: the last completed Sunday, or the last Sunday with data when the data
    end earlier."""
    sunday = last_sunday(today)
    if data_max is not None and data_max < sunday:
        sunday = last_sunday(data_max + timedelta(days=1))
    return sunday

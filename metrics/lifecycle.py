"""Partner lifecycle: recruited → first lead → first won deal → active → (cooling) → dormant, as of a day.

The rule lives in one place, metrics/sql/lifecycle.sql (its `stage_rule` CTE): a partner's milestones (recruited,
first lead, first won deal, last lead) as of a day and its stage then, with the settings' two thresholds
(`lifecycle_active_days`, default 30; `lifecycle_dormant_days`, default 60; metrics.costs.MetricSettings).
This module runs it and compares two days of it: the week's changes (new, woke up, fell asleep) that the weekly
report, the meeting screens and, later, alerts read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd

from metrics import sql
from metrics.costs import MetricSettings, load_settings
from metrics.fetch import frame

STAGES = ("recruited", "first_lead", "first_deal", "active", "cooling", "dormant")  # in lifecycle order
AWAKE = ("first_lead", "first_deal", "active", "cooling")  # had leads and not dormant
COLUMNS = ("partner_id", "partner", "model", "recruited_on", "first_lead_on", "first_won_on", "last_lead_on",
           "days_to_first_lead", "days_to_first_deal", "days_since_lead", "leads", "won_deals", "stage",
           "never_started")
CHANGE_COLUMNS = ("partner_id", "partner", "model", "stage_before", "stage", "recruited_on", "last_lead_on",
                  "leads")


@dataclass(frozen=True)
class WeekChanges:
    """The lifecycle's moves of one week (the 7 days ending week_end), one frame of CHANGE_COLUMNS each."""

    week_end: date
    new: pd.DataFrame          # recruited during the week
    woke_up: pd.DataFrame      # dormant at the week's start, a lead during the week
    fell_asleep: pd.DataFrame  # had leads and was not dormant at the week's start, dormant at its end

    @property
    def empty(self) -> bool:
        """True when nothing moved this week."""
        return self.new.empty and self.woke_up.empty and self.fell_asleep.empty


def _settings(con: duckdb.DuckDBPyConnection, settings: MetricSettings | None) -> MetricSettings:
    return settings if settings is not None else load_settings(con)


def stages(con: duckdb.DuckDBPyConnection, as_of: date, settings: MetricSettings | None = None) -> pd.DataFrame:
    """One row per partner recruited by as_of (COLUMNS): its milestones, days to first lead / deal and stage."""
    s = _settings(con, settings)
    rel = con.execute(sql.load("lifecycle"), {"as_of": as_of, "active_days": s.lifecycle_active_days,
                                              "dormant_days": s.lifecycle_dormant_days})
    out = frame(rel)
    for col in ("recruited_on", "first_lead_on", "first_won_on", "last_lead_on"):
        out[col] = pd.to_datetime(out[col]).dt.date.astype(object).where(out[col].notna(), None)
    for col in ("days_to_first_lead", "days_to_first_deal", "days_since_lead"):
        out[col] = out[col].astype("Int64")
    return out[list(COLUMNS)].reset_index(drop=True)


def counts(table: pd.DataFrame) -> dict[str, int]:
    """Partners per stage, every stage present (0 when none), in lifecycle order."""
    seen = table["stage"].value_counts()
    return {stage: int(seen.get(stage, 0)) for stage in STAGES}


def dormant(table: pd.DataFrame) -> pd.DataFrame:
    """The dormant partners of a stages() table, longest asleep first."""
    out = table[table["stage"] == "dormant"]
    return out.sort_values(["days_since_lead", "partner"], ascending=[False, True], kind="stable").reset_index(drop=True)


def never_started(table: pd.DataFrame) -> pd.DataFrame:
    """Recruited partners still without a lead after the dormant days, longest waiting first."""
    out = table[table["never_started"].astype(bool)]
    return out.sort_values(["recruited_on", "partner"], kind="stable").reset_index(drop=True)


def _moves(before: pd.DataFrame, after: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    """Rows of `after` for the partner ids, with the stage they had in `before` (None: not recruited yet)."""
    was = dict(zip(before["partner_id"], before["stage"], strict=True))
    out = after[after["partner_id"].isin(set(ids))].copy()
    out["stage_before"] = [was.get(p) for p in out["partner_id"]]
    return out[list(CHANGE_COLUMNS)].reset_index(drop=True)


def week_changes(con: duckdb.DuckDBPyConnection, week_end: date,
                 settings: MetricSettings | None = None) -> WeekChanges:
    """New, woken and fallen-asleep partners of the 7 days ending week_end: the stages the day before the week
    compared with those on its last day."""
    s = _settings(con, settings)
    start = week_end - timedelta(days=7)
    before, after = stages(con, start, s), stages(con, week_end, s)
    was = dict(zip(before["partner_id"], before["stage"], strict=True))
    new = after.loc[after["recruited_on"].map(lambda d: d > start), "partner_id"]
    woke = after.loc[[was.get(p) == "dormant" and st != "dormant"
                      for p, st in zip(after["partner_id"], after["stage"], strict=True)], "partner_id"]
    asleep = after.loc[[was.get(p) in AWAKE and st == "dormant"
                        for p, st in zip(after["partner_id"], after["stage"], strict=True)], "partner_id"]
    return WeekChanges(week_end, _moves(before, after, new), _moves(before, after, woke),
                       _moves(before, after, asleep))


def fell_asleep(con: duckdb.DuckDBPyConnection, week_end: date,
                settings: MetricSettings | None = None) -> pd.DataFrame:
    """The partners that fell asleep in the 7 days ending week_end (what a "partner fell asleep" alert fires on)."""
    return week_changes(con, week_end, settings).fell_asleep

"""Partner lifecycle (metrics.lifecycle, lifecycle.sql): every transition on a synthetic account with fixed dates,
the boundaries at exactly 30 / 60 days, the settings' effect, partners without leads, found in the CRM, inactive,
and the week's changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from support.accounts import WON, Account

from data_layer import store
from metrics import lifecycle
from metrics.costs import MetricSettings, lifecycle_days, load_settings

pytestmark = pytest.mark.covers("days_to_first_lead", "days_to_first_deal", "lifecycle_stage")

D = date.fromisoformat


def _account(settings: dict | None = None) -> Account:
    """Alpha: start 2025-01-01, a lead 01-11, a lead 01-20 won 02-01, a lead 03-25. Late: start 2025-06-01, one lead
    02-10 (leads before being added). Found: never declared, one lead 02-10 (found in the CRM). Idle: start 03-01,
    no lead. Ghost: start 01-01, its only lead deleted. Gone: start 01-01, a lead 01-05, then made inactive."""
    acc = Account(settings=settings or {})
    acc.partner("Alpha", "referral", "2025-01-01")
    acc.partner("Late", "sales", "2025-06-01")
    acc.partner("Idle", "service", "2025-03-01")
    acc.partner("Ghost", "referral", "2025-01-01")
    acc.partner("Gone", "referral", "2025-01-01")
    acc.lead("2025-01-11", partner="Alpha")
    acc.lead("2025-01-20", partner="Alpha", status=WON, price=1000, closed="2025-02-01")
    acc.lead("2025-03-25", partner="Alpha")
    acc.lead("2025-02-10", partner="Late")
    acc.lead("2025-02-10", partner="Found")
    acc.lead("2025-02-10", partner="Ghost", deleted=True)
    acc.lead("2025-01-05", partner="Gone")
    return acc


@pytest.fixture
def db(tmp_db: Path) -> Path:
    path = _account().build(tmp_db)
    with store.connect(path) as con:
        con.execute("update partners set active = false where name = 'Gone'")
    return path


def _stages(path: Path, as_of: str, settings: MetricSettings | None = None) -> dict[str, dict]:
    with store.connect(path, read_only=True) as con:
        table = lifecycle.stages(con, D(as_of), settings)
    assert list(table.columns) == list(lifecycle.COLUMNS)
    return {r["partner"]: r for r in table.to_dict("records")}


def _stage(path: Path, as_of: str, partner: str = "Alpha", settings: MetricSettings | None = None) -> str:
    return _stages(path, as_of, settings)[partner]["stage"]


@pytest.mark.parametrize(("as_of", "stage"), [
    ("2025-01-05", "recruited"),    # added, no lead yet
    ("2025-01-11", "first_lead"),   # the first lead's day
    ("2025-01-31", "first_lead"),   # the won lead is still open
    ("2025-02-01", "first_deal"),   # the first won deal closes
    ("2025-03-02", "first_deal"),   # 29 days after it
    ("2025-03-03", "cooling"),      # 30 days after it, last lead 42 days ago: between 30 and 60
    ("2025-03-20", "cooling"),      # 59 days since the last lead
    ("2025-03-21", "dormant"),      # exactly 60 days
    ("2025-03-25", "active"),       # a new lead wakes it up
    ("2025-04-23", "active"),       # 29 days since
    ("2025-04-24", "cooling"),      # exactly 30 days: no longer active
    ("2025-05-23", "cooling"),      # 59 days
    ("2025-05-24", "dormant"),      # exactly 60 days
])
def test_each_transition_and_the_30_60_day_boundaries(db: Path, as_of: str, stage: str) -> None:
    assert _stage(db, as_of) == stage


def test_milestones_and_days_to_first_lead_and_deal(db: Path) -> None:
    alpha = _stages(db, "2025-04-01")["Alpha"]
    assert (alpha["recruited_on"], alpha["first_lead_on"], alpha["first_won_on"], alpha["last_lead_on"]) == (
        D("2025-01-01"), D("2025-01-11"), D("2025-02-01"), D("2025-03-25"))
    assert (alpha["days_to_first_lead"], alpha["days_to_first_deal"], alpha["days_since_lead"]) == (10, 31, 7)
    assert (alpha["leads"], alpha["won_deals"]) == (3, 1)
    early = _stages(db, "2025-01-25")["Alpha"]  # the won deal closes later: not counted yet
    assert early["first_won_on"] is None and early["won_deals"] == 0 and early["days_to_first_deal"] is None


def test_a_partner_with_no_leads_is_recruited_then_never_started(db: Path) -> None:
    assert "Idle" not in _stages(db, "2025-02-28")  # not recruited yet
    idle = _stages(db, "2025-04-29")["Idle"]       # 59 days after its start
    assert (idle["stage"], idle["never_started"], idle["leads"], idle["first_lead_on"]) == ("recruited", False, 0, None)
    assert idle["days_to_first_lead"] is None and idle["days_since_lead"] is None
    later = _stages(db, "2025-04-30")["Idle"]       # exactly 60 days
    assert later["stage"] == "recruited" and later["never_started"]
    with store.connect(db, read_only=True) as con:
        table = lifecycle.stages(con, D("2025-04-30"))
    assert list(lifecycle.never_started(table)["partner"]) == ["Ghost", "Idle"]  # the longest waiting first


def test_leads_before_being_added_recruit_the_partner_on_its_first_lead(db: Path) -> None:
    assert "Late" not in _stages(db, "2025-02-09")
    late = _stages(db, "2025-02-15")["Late"]  # added 2025-06-01, its lead came 02-10
    assert (late["recruited_on"], late["stage"], late["days_to_first_lead"]) == (D("2025-02-10"), "first_lead", None)
    found = _stages(db, "2025-02-15")["Found"]  # added by the sync today, first seen through a 2025 lead
    assert (found["recruited_on"], found["stage"], found["days_to_first_lead"]) == (D("2025-02-10"), "first_lead", None)
    assert _stage(db, "2025-04-11", "Late") == "dormant"  # 60 days later, and no deal: dormant too


def test_deleted_leads_never_count_and_inactive_partners_are_left_out(db: Path) -> None:
    table = _stages(db, "2025-02-15")
    assert table["Ghost"]["stage"] == "recruited" and table["Ghost"]["leads"] == 0
    assert "Gone" not in table


def test_the_settings_move_the_boundaries(db: Path) -> None:
    short = replace(MetricSettings(), lifecycle_active_days=10, lifecycle_dormant_days=20)
    assert _stage(db, "2025-04-03", settings=short) == "active"     # 9 days since 03-25
    assert _stage(db, "2025-04-04", settings=short) == "cooling"    # 10
    assert _stage(db, "2025-04-14", settings=short) == "dormant"    # 20
    assert _stage(db, "2025-04-14") == "active"                     # the defaults: 20 days is still active
    assert _stages(db, "2025-03-21", settings=short)["Idle"]["never_started"]


def test_stored_settings_are_read_and_a_bad_pair_falls_back_to_the_defaults(tmp_db: Path) -> None:
    path = _account({"lifecycle_active_days": 10, "lifecycle_dormant_days": 20}).build(tmp_db)
    with store.connect(path, read_only=True) as con:
        s = load_settings(con)
    assert (s.lifecycle_active_days, s.lifecycle_dormant_days) == (10, 20)
    assert _stage(path, "2025-04-14") == "dormant"
    assert lifecycle_days(30, 30) == (30, 60) and lifecycle_days(0, 60) == (30, 60)
    assert lifecycle_days("7", 60) == (30, 60) and lifecycle_days(True, 60) == (30, 60)
    assert lifecycle_days(7, 14) == (7, 14)


def test_counts_and_the_dormant_list(db: Path) -> None:
    with store.connect(db, read_only=True) as con:
        table = lifecycle.stages(con, D("2025-04-20"))
    assert lifecycle.counts(table) == {"recruited": 2, "first_lead": 0, "first_deal": 0, "active": 1,
                                       "cooling": 0, "dormant": 2}
    asleep = lifecycle.dormant(table)
    assert list(asleep["partner"]) == ["Found", "Late"]  # same 69 days: by name
    assert list(asleep["days_since_lead"]) == [69, 69]


def _changes(path: Path, week_end: str) -> dict[str, list[str]]:
    with store.connect(path, read_only=True) as con:
        week = lifecycle.week_changes(con, D(week_end))
    return {k: list(getattr(week, k)["partner"]) for k in ("new", "woke_up", "fell_asleep")}


def test_week_changes_new_woke_up_fell_asleep(db: Path) -> None:
    assert _changes(db, "2025-01-05") == {"new": ["Alpha", "Ghost"], "woke_up": [], "fell_asleep": []}
    assert _changes(db, "2025-02-16") == {"new": ["Found", "Late"], "woke_up": [], "fell_asleep": []}
    assert _changes(db, "2025-03-23") == {"new": [], "woke_up": [], "fell_asleep": ["Alpha"]}  # dormant 03-21
    assert _changes(db, "2025-03-30") == {"new": [], "woke_up": ["Alpha"], "fell_asleep": []}  # the 03-25 lead
    assert _changes(db, "2025-04-13") == {"new": [], "woke_up": [], "fell_asleep": ["Found", "Late"]}
    assert _changes(db, "2025-05-25") == {"new": [], "woke_up": [], "fell_asleep": ["Alpha"]}
    with store.connect(db, read_only=True) as con:
        asleep = lifecycle.fell_asleep(con, D("2025-05-25"))
        quiet = lifecycle.week_changes(con, D("2025-06-08"))
    assert list(asleep.columns) == list(lifecycle.CHANGE_COLUMNS)
    assert (asleep["stage_before"].iloc[0], asleep["stage"].iloc[0]) == ("cooling", "dormant")
    assert quiet.empty

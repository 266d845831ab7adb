"""The weekly review's shared facts (programme.weekly, programme.decisions): the decisions' rules, the close view's
conversion, maturing partners left out, the week a meeting opens on, and reports.weekly reading the same module."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from data_layer import store
from metrics import changes
from metrics.filters import Filters
from programme import decisions, weekly
from reports import weekly as report

WEEK = date(2026, 11, 29)


def _partners(*rows: tuple[int, str, str, float, int, bool, float]) -> pd.DataFrame:
    cols = ["partner_id", "partner", "roi_band", "roi", "leads", "too_few", "profit"]
    return pd.DataFrame(rows, columns=cols).assign(model="referral")


def _bands(*rows: tuple[int, str, str, str, bool, bool]) -> pd.DataFrame:
    cols = ["partner_id", "partner", "band_before", "band_now", "up", "too_few"]
    return pd.DataFrame(rows, columns=cols).assign(model="sales", roi_before=0.8, roi_now=0.1)


def _pack(partners: pd.DataFrame, bands: pd.DataFrame, anomalies: pd.DataFrame | None = None,
          goals: pd.DataFrame | None = None) -> weekly.WeeklyPack:
    empty = pd.DataFrame(columns=["series", "metric", "kind", "week", "actual", "expected", "z"])
    week = Filters(WEEK, WEEK, view="close")
    return weekly.WeeklyPack(week_ending=WEEK, week=week, previous=week, summary=pd.DataFrame(),
                             movers=pd.DataFrame(), bands=bands, anomalies=empty if anomalies is None else anomalies,
                             series=pd.DataFrame(), goals=pd.DataFrame() if goals is None else goals,
                             partners=partners)


def test_a_loss_making_partner_with_enough_leads_is_a_decision_a_small_one_is_not() -> None:
    partners = _partners((1, "Большой", "loss", -0.4, 120, False, -50_000.0),
                         (2, "Малый", "loss", -0.9, 6, True, -90_000.0),
                         (3, "Хороший", "excellent", 2.0, 300, False, 900_000.0),
                         (4, "Хуже всех", "loss", -0.6, 80, False, -70_000.0))
    found = decisions.decisions(_pack(partners, _bands()))
    assert list(found["kind"]) == ["loss", "loss"]
    assert list(found["subject"]) == ["Хуже всех", "Большой"], "the largest loss first; too few leads: no decision"
    assert list(found["leads"]) == [80, 120] and list(found["value"]) == [-0.6, -0.4]


def test_a_band_drop_of_a_well_measured_partner_is_a_decision_once() -> None:
    partners = _partners((1, "Упал в убыток", "loss", -0.2, 90, False, -10_000.0))
    bands = _bands((1, "Упал в убыток", "marginal", "loss", False, False),
                   (2, "Просел", "excellent", "marginal", False, False),
                   (3, "Вырос", "marginal", "excellent", True, False),
                   (4, "Мало лидов", "profitable", "loss", False, True))
    found = decisions.decisions(_pack(partners, bands))
    assert list(zip(found["kind"], found["subject"], strict=True)) == [("loss", "Упал в убыток"), ("band_down", "Просел")]
    drop = found.iloc[1]
    assert (drop["band_before"], drop["band_now"], drop["reference"], drop["value"]) == ("excellent", "marginal", 0.8, 0.1)


def test_every_anomaly_and_goal_off_track_is_a_decision_with_its_numbers() -> None:
    anomalies = pd.DataFrame([{"series": None, "metric": "leads", "kind": "int", "week": WEEK, "actual": 40.0,
                               "expected": 120.0, "z": -5.2}])
    goals = pd.DataFrame([{"scope": "program", "model": None, "partner_id": None, "partner_name": None,
                           "metric": "leads", "op": ">=", "target": 500.0, "actual": 200.0, "pace": 350.0,
                           "date_to": date(2026, 12, 31)}])
    found = decisions.decisions(_pack(_partners(), _bands(), anomalies, goals))
    assert list(found["kind"]) == ["anomaly", "goal"]
    assert (found.iloc[0]["value"], found.iloc[0]["reference"], found.iloc[0]["z"]) == (40.0, 120.0, -5.2)
    assert (found.iloc[1]["target"], found.iloc[1]["value"], found.iloc[1]["reference"]) == (500.0, 200.0, 350.0)


def test_nothing_to_decide_is_an_empty_frame_with_the_columns() -> None:
    found = decisions.decisions(_pack(_partners(), _bands()))
    assert found.empty and list(found.columns) == decisions.COLUMNS


def test_the_close_view_summary_shows_the_win_rate_of_closed_leads() -> None:
    """Regression: the weekly summary showed "conversion 0 %" for a close-view week (the spec's card metric is the win
    rate of the leads closed in the period), on the e-mail and so on the meeting's first screen."""
    close = pd.Series({"leads": 100, "conversion": 0.0, "won_closed": 15.0, "win_rate_closed": 0.15})
    before = pd.Series({"leads": 90, "conversion": 0.0, "won_closed": 12.0, "win_rate_closed": 0.12})
    rows = weekly.summary_frame(close, before).set_index("metric")
    assert "conversion" not in rows.index and rows.at["win_rate_closed", "this_week"] == 0.15
    cohort = weekly.summary_frame(pd.Series({"conversion": 0.2}), pd.Series({"conversion": 0.1})).set_index("metric")
    assert cohort.at["conversion", "change"] == pytest.approx(0.1)


@pytest.mark.parametrize(("today", "data_max", "week"), [
    (date(2026, 12, 7), date(2026, 12, 7), date(2026, 12, 6)),    # data up to today: the last completed Sunday
    (date(2026, 12, 7), date(2026, 11, 25), date(2026, 11, 22)),  # data end earlier: the last Sunday with data
    (date(2026, 12, 7), None, date(2026, 12, 6)),
])
def test_the_week_a_meeting_opens_on(today: date, data_max: date | None, week: date) -> None:
    assert weekly.default_week(today, data_max) == week


def test_the_report_renders_the_metrics_pack() -> None:
    """One implementation: the report module's pack, rules and week arithmetic are programme.weekly's objects."""
    for name in ("WeeklyPack", "build_weekly", "last_sunday", "week_filters", "week_maturing",
                 "default_week", "change"):
        assert getattr(report, name) is getattr(weekly, name), name
    assert report.change is changes.change and weekly.change is changes.change


def test_maturing_partners_never_reach_movers_bands_or_decisions(app_db: Path) -> None:
    """In the cohort view the latest weeks are still maturing: those partners are left out of every comparison and
    of the decisions, exactly as the weekly report leaves them out (metrics.maturity.settled)."""
    with store.connect(app_db, read_only=True) as con:
        week = weekly.last_sunday(date.today())
        pack = weekly.build_weekly(con, week, view="cohort")
        young = weekly.kpis(con, weekly.week_filters(week, None, "cohort", 0, weekly.BAND_DAYS), by="partner")
    maturing = set(young.loc[young["maturing"].fillna(False).astype(bool), "partner_id"].dropna().astype(int))
    assert maturing, "the demo's last 28 days hold maturing partners in the cohort view"
    found = decisions.decisions(pack)
    for ids in (pack.partners["partner_id"], pack.bands["partner_id"], found["partner_id"].dropna()):
        assert not maturing & set(ids.astype(int))

"""One rule for "what changed": the overview and the trends page say what the weekly pack says for the same week."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from support.app import frame_with, new_app, run_ok

from data_layer import store
from presentation import fmt
from programme import weekly
from programme.weekly import WeeklyPack

BAND_COLUMN = "Обычный коридор"  # the trends page's anomaly table


def _packs(db: Path, n: int = 26) -> list[WeeklyPack]:
    """The close-view packs of the demo's last n weeks."""
    with store.connect(db, read_only=True) as con:
        last = con.execute("select max(created_date) from lead_facts").fetchone()[0]
        sunday = weekly.last_sunday(last)
        return [weekly.build_weekly(con, sunday - timedelta(days=7 * i)) for i in range(n)]


@pytest.fixture(scope="module")
def packs(app_db: Path) -> list[WeeklyPack]:
    return _packs(app_db)


def _period(week_ending: date) -> dict[str, str]:
    """URL of a period of 20 weeks ending on that Sunday, deals counted by close date (the pack's view)."""
    return {"period": "custom", "from": (week_ending - timedelta(days=7 * 20 - 1)).isoformat(),
            "to": week_ending.isoformat(),
            "view": "close"}


def test_the_overview_lists_the_packs_movers(app_env: Path, packs: list[WeeklyPack]) -> None:
    pack = next(p for p in packs if len(p.movers) >= 3)
    at = run_ok(new_app(_period(pack.week_ending)))
    shown = frame_with(at, "Изменение", "Выручка, 7 дней")  # the overview's movers table
    assert shown.iloc[:, 0].tolist() == pack.movers["partner"].astype(str).tolist()


@pytest.mark.parametrize("metric", ["revenue"])  # the demo's program-wide series with anomalous weeks
def test_the_trends_page_flags_the_weeks_the_pack_flags(app_env: Path, packs: list[WeeklyPack], metric: str) -> None:
    flagged = [p for p in packs if ((p.anomalies["metric"] == metric) & p.anomalies["series"].isna()).any()]
    quiet = [p for p in packs if p not in flagged]
    assert flagged and quiet, "the demo has weeks with and without an anomaly of the program's " + metric
    for pack in (flagged[0], quiet[0]):
        at = new_app(_period(pack.week_ending))
        at.session_state["trends.metric"], at.session_state["trends.grain"] = metric, "week"
        at.session_state["trends.by"] = "total"
        run_ok(at)
        run_ok(at.switch_page("pages/trends.py"))
        table = [e.value for e in at.dataframe if BAND_COLUMN in getattr(e.value, "columns", ())]
        week_start = fmt.day(pack.week_ending - timedelta(days=6), "ru")
        on_page = bool(table) and week_start in table[0].iloc[:, 0].tolist()
        assert on_page == (pack in flagged), (pack.week_ending, metric)

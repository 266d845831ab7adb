"""Partners page honesty (issue 19): a partner with costs and no lead keeps its costs in view; the close view ranks by the win rate of closed leads."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from support.app import frame_with, metric_values, new_app, run_ok

from data_layer import store

PID = 9999


@pytest.fixture
def zero_lead_db(app_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo plus a partner that has 150 000 ₽ of marketing last month and no lead ever."""
    path = tmp_path / "zero.duckdb"
    shutil.copy(app_db, path)
    last_month = (date.today().replace(day=1) - timedelta(days=1)).replace(day=1)
    with store.connect(path) as con:
        con.execute("insert into partners (partner_id, name, model) values (?, 'Новый без лидов', 'referral')", [PID])
        con.execute("insert into cost_ledger (partner_id, month, category, amount) values (?, ?, 'marketing', 150000)",
                    [PID, last_month])
    store.bump_version(path)
    monkeypatch.setenv("PARTNER_ROI_DB", str(path))
    return path


def test_the_partner_page_shows_its_costs_and_roi_with_the_no_leads_mark(zero_lead_db: Path) -> None:
    at = run_ok(new_app({"selected": str(PID)}))
    run_ok(at.switch_page("pages/partners.py"))
    cards = metric_values(at)
    assert any("150" in v and "000" in v for v in cards.values()), cards  # the cost is on a card
    assert any(v.replace("−", "-").startswith("-100") for v in cards.values()), cards  # ROI −100 %
    assert any("badge[" in m.value and "нет лидов" in m.value for m in at.markdown), "no 'нет лидов' badge"
    assert not [i.value for i in at.info if "нет лидов за этот период" in i.value]


def test_the_leaderboard_row_says_no_leads(zero_lead_db: Path) -> None:
    at = run_ok(new_app())
    run_ok(at.switch_page("pages/partners.py"))
    frame = frame_with(at, "Партнёр", "Отметка")
    row = frame[frame["Партнёр"] == "Новый без лидов"]
    assert len(row) == 1 and row["Отметка"].iloc[0] == "нет лидов"


def test_the_leaderboard_in_the_close_view_shows_the_win_rate_of_closed_leads(app_env: Path) -> None:
    """Issue 19: in the close view the table showed the period's lead conversion beside deals closed in it."""
    at = run_ok(new_app({"view": "close"}))
    run_ok(at.switch_page("pages/partners.py"))
    frame = frame_with(at, "Партнёр", "Доля выигранных среди закрытых")
    assert "Конверсия" not in frame.columns
    assert frame["Доля выигранных среди закрытых"].dropna().between(0, 1).all()


def test_the_leaderboard_says_when_the_period_is_still_maturing(app_env: Path) -> None:
    """Issue 19: a maturing period is marked on every table — the leaderboard of last month says so in words."""
    import re

    def maturing_partners(period: str) -> int:
        at = run_ok(new_app({"period": period}))
        run_ok(at.switch_page("pages/partners.py"))
        notes = [i.value for i in at.info if "созревает" in i.value]
        return int(re.search(r"у (\d+) партн", notes[0]).group(1)) if notes else 0

    month, year = maturing_partners("last_month"), maturing_partners("last_12m")
    assert month > 0 and year < month  # only partners whose leads are mostly recent still mature over a year

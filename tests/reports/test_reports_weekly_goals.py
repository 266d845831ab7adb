"""The weekly pack lists goals that are off track (issue 10 wiring)."""

from __future__ import annotations

import io
import shutil
from datetime import date, timedelta
from pathlib import Path

import openpyxl

from data_layer import store
from programme import goals
from reports import weekly


def test_weekly_pack_lists_goals_off_track(app_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "goals.duckdb"
    shutil.copy(app_db, db)
    week_ending = weekly.last_sunday(date.today())
    end = week_ending
    with store.connect(db) as con:
        goals.add_goal(con, "program", "leads", ">=", 1e9, end - timedelta(days=20), end + timedelta(days=10),
                       who="test")
    with store.connect(db, read_only=True) as con:
        pack = weekly.build_weekly(con, week_ending)  # goals as of the week's end
    assert len(pack.goals) == 1
    book = openpyxl.load_workbook(io.BytesIO(weekly.weekly_xlsx(pack, "ru")))
    cells = [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    cells += [ws.title for ws in book.worksheets]
    assert any("Цели, которые отстают" in c for c in cells)
    assert any(c.startswith(">= 1e+09") or c.startswith(">= 1000000000") for c in cells)

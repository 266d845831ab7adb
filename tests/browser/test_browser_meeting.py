"""The meeting flow on a 1920x1080 shared screen: every one of the six screens fits without scrolling, → and the
"Назад" button step through them with the step in the URL, and a link opens its screen."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from support.browser import ARTIFACTS, browser, require_chromium, streamlit_server, wait_ready

from data_layer import store
from metrics import changes
from metrics.filters import Filters
from programme import goals, weekly

pytestmark = pytest.mark.browser
WIDTH, HEIGHT = 1920, 1080
TITLES = ("1. Неделя к неделе", "2. Главные изменения", "3. Смена оценки ROI", "4. Аномалии",
          "5. Цели, которые отстают", "6. Что решить")


def _busy_week(db: Path) -> date:
    """Seven goals off track added (a full goals screen, and with them a full decisions screen), and a week whose
    pack fills every other screen (all top movers, band changes, anomalies)."""
    end = weekly.last_sunday(date.today())
    with store.connect(db) as con:
        for model in (None, "referral", "sales", "service"):
            for metric, target in (("leads", 1e6), ("revenue", 1e12))[: 1 if model == "service" else 2]:
                goals.add_goal(con, "model" if model else "program", metric, ">=", target, end - timedelta(days=200),
                               end + timedelta(days=30), model=model, who="test")
    with store.connect(db, read_only=True) as con:
        for back in range(30):
            week = end - timedelta(days=7 * back)
            pack = weekly.build_weekly(con, week, Filters(week, week), "close")
            if len(pack.anomalies) and len(pack.bands) >= 3 and len(pack.movers) == changes.TOP_MOVERS:
                return week
    raise AssertionError("no demo week fills every screen")


def _title(page) -> str:
    return page.locator("h1:visible").first.inner_text().strip()


def _fits(page) -> tuple[int, int]:
    """(scrollHeight, clientHeight) of the app's main block, which scrolls when its content is taller."""
    return tuple(page.evaluate("() => { const m = document.querySelector(\"[data-testid='stMain']\");"
                               " return [m.scrollHeight, m.clientHeight]; }"))


def _wait_title(page, title: str) -> None:
    page.wait_for_function("t => [...document.querySelectorAll('h1')].some(h => h.innerText.trim() === t)", arg=title)
    wait_ready(page)


def test_every_screen_fits_1920x1080_and_the_flow_steps(app_db: Path, tmp_path: Path) -> None:
    require_chromium()
    db = tmp_path / "meeting.duckdb"
    shutil.copy(app_db, db)
    week = _busy_week(db)
    with streamlit_server(db, log=tmp_path / "server.log") as url, browser() as b:
        page = b.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="ru-RU").new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{url}/meeting?present=1&week={week.isoformat()}")
        _wait_title(page, TITLES[0])
        for i, title in enumerate(TITLES):
            if i:
                page.keyboard.press("ArrowRight")  # the "Далее" button's shortcut
                _wait_title(page, title)
            page.wait_for_timeout(500)  # charts lay out after the run ends
            scroll, client = _fits(page)
            ARTIFACTS.mkdir(exist_ok=True)  # the viewport as the room sees it (browser_util.shot would stretch it)
            page.screenshot(path=str(ARTIFACTS / f"browser-meeting-{i + 1}.png"))
            assert client <= HEIGHT and scroll <= client, f"screen {i + 1} scrolls: {scroll} px in {client} px"
            search = page.evaluate("location.search")
            assert f"step={i + 1}" in search if i else "step=" not in search or "step=1" in search, search
            assert page.locator("[data-testid='stException']").count() == 0
        assert page.locator("[data-testid='stTable']:visible").count() == 1, "the decisions table"
        page.get_by_role("button", name="Назад").click()
        _wait_title(page, TITLES[4])
        assert "step=5" in page.evaluate("location.search")
        page.goto(f"{url}/meeting?present=1&step=3&week={week.isoformat()}")  # a link to one screen
        _wait_title(page, TITLES[2])
        assert page.locator("[data-testid='stVegaLiteChart']:visible").count() == 1, "the ROI moves chart"

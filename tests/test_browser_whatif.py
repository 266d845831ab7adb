"""What-if in a real browser (Debian's chromium + Playwright against `streamlit run`): change the referral
commission rate and see the scenario's ROI move away from the actual one, with nothing written."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_util import CHROMIUM, browser, shot, streamlit_server, wait_ready

from data_layer import store

pytest_plugins = ("conftest_app",)  # fixture app_db: one demo database per session

pytestmark = pytest.mark.browser
TIMEOUT = 120_000  # ms


@pytest.fixture(scope="module")
def server(app_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium to run browser tests"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    with streamlit_server(app_db, log=tmp_path_factory.mktemp("streamlit-whatif") / "server.log") as url:
        yield url


def kpi(page, label: str) -> str:
    """The value of the KPI card with this label."""
    card = page.locator("[data-testid='stMetric']", has_text=label).first
    return card.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_rate_change_moves_scenario_roi(server: str, app_db: Path) -> None:
    with store.connect(app_db, read_only=True) as con:
        rules_before = con.execute("select * from commission_rules order by all").fetchall()
    with browser() as chrome:
        page = chrome.new_context(viewport={"width": 1440, "height": 1000}, locale="ru-RU").new_page()
        page.set_default_timeout(TIMEOUT)
        page.goto(server)  # a first request straight to /what-if can meet Streamlit's legacy "page not found"
        wait_ready(page)
        page.get_by_role("link", name="Что если").click()
        page.wait_for_selector(".st-key-what_if-rate_set")
        wait_ready(page)
        before = kpi(page, "ROI")
        rate = page.locator(".st-key-what_if-rate input")
        rate.fill("50")
        rate.press("Enter")
        wait_ready(page)
        page.locator(".st-key-what_if-rate_set button").click()
        page.wait_for_selector(".st-key-what_if-rules-1")
        wait_ready(page)
        after = kpi(page, "ROI")
        assert after != before
        assert page.locator("[data-testid='stException']").count() == 0
        shot(page, "browser-what-if-rate")
        page.context.close()
    with store.connect(app_db, read_only=True) as con:
        assert con.execute("select * from commission_rules order by all").fetchall() == rules_before

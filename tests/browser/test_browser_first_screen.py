"""The first screen answers "who earns their cost" without scrolling: at 1440x900, and at 1920x1080 in meeting
mode, the models' ROI chart and both partner lists (with the unclear count under them) lie inside the viewport."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.browser import browser, require_chromium, shot, streamlit_server, wait_ready

pytestmark = pytest.mark.browser


def _bottom(page, locator) -> float:
    """The element's bottom edge in viewport pixels (the app scrolls inside its own container, never the page)."""
    box = locator.bounding_box()
    assert box is not None, "the element is not rendered"
    return box["y"] + box["height"]


@pytest.mark.parametrize(("size", "query"), [((1440, 900), ""), ((1920, 1080), "?present=1")])
def test_the_answer_is_above_the_fold(app_db: Path, tmp_path: Path, size: tuple[int, int], query: str) -> None:
    require_chromium()
    width, height = size
    with streamlit_server(app_db, log=tmp_path / "server.log") as url, browser() as b:
        page = b.new_context(viewport={"width": width, "height": height}, locale="ru-RU").new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{url}/{query}")
        page.wait_for_selector(".st-key-first-answer-models [data-testid='stVegaLiteChart']")
        wait_ready(page)
        shot(page, f"browser-first-screen-{width}")
        chart = page.locator(".st-key-first-answer-models")
        losers = page.locator("p:visible", has_text="Не окупают").first
        unclear = page.locator("p:visible", has_text="Неясно по").first
        kpi = page.locator(".st-key-overview-kpi-5")
        for element in (kpi, chart, losers, unclear):
            assert _bottom(page, element) <= height, f"below the fold at {width}x{height}"
        assert page.locator("[data-testid='stException']").count() == 0

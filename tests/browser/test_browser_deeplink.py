"""Regression: the very first request to /what-if after a server start showed Streamlit's "Page not found"
(its file is what_if.py, and that first run served pages/ by file name; see ui/navigation.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.browser import browser, require_chromium, streamlit_server, wait_ready

pytestmark = pytest.mark.browser


def test_first_request_to_what_if_opens_the_page(app_db: Path, tmp_path: Path) -> None:
    require_chromium()
    with streamlit_server(app_db, log=tmp_path / "server.log") as url, browser() as b:
        page = b.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{url}/what-if")
        page.wait_for_selector(".st-key-filters-period")
        wait_ready(page)
        text = page.inner_text("body")
        assert "Page not found" not in text and "Что если" in text

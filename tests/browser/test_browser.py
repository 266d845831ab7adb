"""The whole dashboard once in a real browser: Debian's chromium driven by Playwright against `streamlit run`.

Few, robust steps (every wait is for an element or a condition, never a sleep): open every page, change a
filter, reopen the copied URL in a fresh session and see the same numbers, switch the language, turn on
meeting mode. Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.browser import browser, require_chromium, shot, streamlit_server, wait_ready

pytestmark = pytest.mark.browser

TITLES = {"partners": "Партнёры", "models": "Модели партнёрства", "trends": "Тренды", "quality": "Качество лидов",
          "costs": "Затраты", "what-if": "Что если", "forecast": "Прогноз", "reports": "Отчёты",
          "settings": "Настройки"}
PAGES = tuple(TITLES)
TIMEOUT = 120_000  # ms; the first run of a page computes its queries


@pytest.fixture(scope="module")
def server(app_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the dashboard running on the demo database."""
    require_chromium()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    with streamlit_server(app_db, log=log) as url:
        yield url


@pytest.fixture(scope="module")
def chrome(server: str) -> Iterator[object]:
    with browser() as b:
        yield b


def _page(chrome, width: int = 1440):
    context = chrome.new_context(viewport={"width": width, "height": 1000}, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    return page


def _kpis(page) -> list[str]:
    """Texts of the KPI card values in page order."""
    page.wait_for_selector("[data-testid='stMetricValue']")
    return [v.strip() for v in page.locator("[data-testid='stMetricValue']").all_inner_texts()]


def _no_traceback(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0, "a traceback is shown on the page"


def test_first_request_to_a_deep_link_gets_the_router(server: str, chrome) -> None:
    """Right after a server start, /partners?selected=… still comes with the sidebar filters and the header."""
    page = _page(chrome)
    page.goto(f"{server}/partners?selected=2")
    page.wait_for_selector(".st-key-partners-back")
    page.wait_for_selector(".st-key-filters-period")
    page.wait_for_selector(".st-key-app-lang")
    wait_ready(page)
    _no_traceback(page)
    assert len(_kpis(page)) >= 6
    shot(page, "browser-partner-deep-link")
    page.context.close()


def test_every_page_opens(server: str, chrome) -> None:
    page = _page(chrome)
    page.goto(server)
    page.wait_for_selector(".st-key-overview-kpi-0 [data-testid='stMetricValue']")
    wait_ready(page)
    shot(page, "browser-overview")
    for path in PAGES:
        page.goto(f"{server}/{path}")
        page.wait_for_selector(".st-key-filters-period")
        page.wait_for_selector(".st-key-app-lang")
        page.wait_for_function(
            "title => document.querySelector(\"[data-testid='stSidebarNav'] a[aria-current='page']\")"
            "?.innerText.includes(title)", arg=TITLES[path])
        wait_ready(page)
        _no_traceback(page)
        shot(page, f"browser-{path}")
    page.context.close()


def test_filter_link_language_and_meeting_mode(server: str, chrome) -> None:
    page = _page(chrome)
    page.goto(server)
    page.wait_for_selector(".st-key-overview-kpi-0 [data-testid='stMetricValue']")
    wait_ready(page)
    before = _kpis(page)

    # change a filter: the period becomes "last month"; the numbers and the URL follow
    page.locator(".st-key-filters-period [role='combobox']").click()
    page.get_by_role("option", name="Прошлый месяц").click()
    page.wait_for_function("() => location.search.includes('period=last_month')")
    page.wait_for_function(
        "before => { const v = [...document.querySelectorAll(\"[data-testid='stMetricValue']\")]"
        ".map(e => e.innerText.trim()); return v.length === 6 && v.join('|') !== before.join('|'); }",
        arg=before)
    wait_ready(page)
    changed = _kpis(page)
    assert changed != before
    shot(page, "browser-filter-last-month")

    # the copied URL in a fresh session shows the same numbers
    link = page.url
    other = _page(chrome)
    other.goto(link)
    other.wait_for_selector(".st-key-overview-kpi-0 [data-testid='stMetricValue']")
    wait_ready(other)
    assert _kpis(other) == changed
    assert other.locator(".st-key-filters-period [role='combobox']").input_value() == "Прошлый месяц"
    other.context.close()

    # switch the language: labels change, the chosen period stays
    page.locator(".st-key-app-lang label").click()
    page.wait_for_function("() => document.querySelector(\"[data-testid='stMain'] h1\").innerText.includes('Overview')")
    page.wait_for_function("() => location.search.includes('lang=en')")
    wait_ready(page)
    page.wait_for_function(
        "() => document.querySelector(\".st-key-filters-period [role='combobox']\")?.value === 'Last month'")
    assert "Leads" in page.locator(".st-key-overview-kpi-0").inner_text()
    shot(page, "browser-english")

    # meeting mode: large cards (no st.metric), navigation on top, the same numbers
    page.locator(".st-key-app-present label").click()
    page.wait_for_function("() => location.search.includes('present=1')")
    page.wait_for_function("() => !document.querySelector(\"[data-testid='stMetricValue']\")")
    page.wait_for_selector(".st-key-overview-kpi-0 h1")
    wait_ready(page)
    big = page.locator(".st-key-overview-kpi-3 h1").inner_text().strip()
    assert big.endswith("M"), big  # revenue in the compact English form, e.g. ₽25.1M
    _no_traceback(page)
    shot(page, "browser-meeting-mode")
    page.context.close()

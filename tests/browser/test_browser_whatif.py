"""What-if in a real browser (Debian's chromium + Playwright against `streamlit run`) at 1440x900, typed the way a
Russian user types: "12,5" as a rate is 12.5 % (not 125), a negative cost is refused with a sentence and nothing
is applied; the result panel sits beside the inputs, inside the viewport, with nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from support.browser import browser, require_chromium, shot, streamlit_server, wait_ready

from data_layer import store

pytestmark = pytest.mark.browser
TIMEOUT = 120_000  # ms
VIEWPORT = {"width": 1440, "height": 900}
PANEL = ".st-key-what_if-result"


@pytest.fixture(scope="module")
def server(app_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    with streamlit_server(app_db, log=tmp_path_factory.mktemp("streamlit-whatif") / "server.log") as url:
        yield url


def stored(db: Path) -> tuple:
    with store.connect(db, read_only=True) as con:
        return (con.execute("select * from commission_rules order by all").fetchall(),
                con.execute("select * exclude (updated_at) from cost_ledger order by all").fetchall())


def open_what_if(chrome, server: str):
    page = chrome.new_context(viewport=VIEWPORT, locale="ru-RU").new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(server)  # from the first screen through the navigation, as a user gets there (deep links: test_browser_deeplink)
    wait_ready(page)
    page.get_by_role("link", name="Что если").click()
    page.wait_for_selector(f"{PANEL} [data-testid='stMetricValue']")
    wait_ready(page)
    return page


ARM = """() => { window.__reran = false; const app = document.querySelector("[data-testid='stApp']");
  new MutationObserver(() => { if (app.getAttribute('data-test-script-state') === 'running') window.__reran = true; })
    .observe(app, {attributes: true}); }"""


def arm(page) -> None:
    """Watch for the next rerun: an edit's rerun may start later than any fixed wait on a busy machine."""
    page.evaluate(ARM)


def settled(page) -> None:
    """The reruns the edit since arm() started have run and finished (applying a rate reruns once more)."""
    page.wait_for_function("() => window.__reran === true", timeout=60_000)
    wait_ready(page)
    page.wait_for_timeout(400)
    wait_ready(page)


def roi(page) -> str:
    return page.locator(f"{PANEL} [data-testid='stMetricValue']").first.inner_text().strip()


def type_rate(page, text: str) -> None:
    field = page.locator(".st-key-what_if-rate input")
    arm(page)
    field.fill(text)
    field.press("Enter")  # Enter applies the rate: no button press needed
    settled(page)


def in_viewport(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORT["width"] \
        and box["y"] + box["height"] <= VIEWPORT["height"]


def test_a_russian_decimal_comma_rate_beside_its_result(server: str, app_db: Path) -> None:
    before = stored(app_db)
    with browser() as chrome:
        page = open_what_if(chrome, server)
        actual = roi(page)
        assert in_viewport(page, PANEL)                                   # the whole result panel, no scrolling
        assert in_viewport(page, ".st-key-what_if-rate")                  # beside the input that drives it
        type_rate(page, "12,5")
        page.wait_for_function("([sel, was]) => { const m = document.querySelector(sel);"
                               " return m && m.innerText.trim() !== was; }",
                               arg=[f"{PANEL} [data-testid='stMetricValue']", actual], timeout=60_000)
        comma = roi(page)
        assert comma != actual
        assert page.locator(".st-key-what_if-rate input").input_value() == "12,5"
        shot(page, "browser-what-if-comma")
        type_rate(page, "12.5")                                           # the same rate with a dot
        assert roi(page) == comma                                         # so "12,5" was 12.5 %, not 125 %
        type_rate(page, "125")
        assert page.locator("[data-testid='stAlert']", has_text="больше 100").count() == 1
        assert roi(page) == comma                                         # refused: nothing changed
        assert in_viewport(page, PANEL)
        assert page.locator("[data-testid='stException']").count() == 0
        page.context.close()
    assert stored(app_db) == before


def test_a_negative_cost_is_refused_with_a_sentence(server: str, app_db: Path) -> None:
    before = stored(app_db)
    with browser() as chrome:
        page = open_what_if(chrome, server)
        grid = page.locator(".st-key-what_if-costs [data-testid='stDataFrame']")
        box = grid.bounding_box()
        assert box is not None and box["y"] + 120 <= VIEWPORT["height"]  # the cost table starts on screen
        editor = page.locator("textarea.gdg-input")
        for attempt in range(3):  # a rerun still drawing the grid may close the cell editor: open it again
            page.mouse.click(box["x"] + 60, box["y"] + 52)                # the first partner's name cell
            page.keyboard.press("ArrowRight")                             # its first category
            page.keyboard.press("Enter")                                  # open the cell editor
            try:
                editor.wait_for(timeout=10_000)
                arm(page)
                editor.fill("-10", timeout=10_000)
                break
            except PlaywrightTimeout:
                assert attempt < 2, "the cell editor would not take the text"
                page.keyboard.press("Escape")
                wait_ready(page)
        page.keyboard.press("Enter")
        settled(page)
        panel = page.locator(PANEL)
        said = panel.inner_text()
        assert "Сценарий не пересчитан" in said
        assert "отрицательная — затраты вводятся положительными числами" in said
        assert panel.locator("[data-testid='stMetricValue']").count() == 0  # no result from a refused input
        assert in_viewport(page, PANEL)
        shot(page, "browser-what-if-negative")
        page.context.close()
    assert stored(app_db) == before

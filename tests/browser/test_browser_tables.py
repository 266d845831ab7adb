"""The partners leaderboard in a real browser at 1440 × 900 (Debian's chromium + Playwright): the column it is sorted
by is on screen whatever the sort, and no partner name is cut off by its column (issue 20, "Tables fit").

Streamlit's table is drawn on a canvas, so the test reads pixels: column borders are the header's full-height grey
lines; a name that does not fit runs its glyphs up to its column's right border, where a fitting one leaves the
cell's padding blank. Header texts come from the grid's accessibility table (the columns on screen, in order).
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image
from support.browser import browser, require_chromium, shot, streamlit_server, wait_ready

from data_layer import store

pytestmark = pytest.mark.browser
TIMEOUT = 120_000  # ms
VIEWPORT = {"width": 1440, "height": 900}
LONG_NAME = "Общество с ограниченной ответственностью «Региональный центр внедрения и сопровождения»"
GRID = "[data-testid='stDataFrame']"
HEADER_PX = 35  # the grid's header row
LINE = (226, 227, 230)  # the grid's border grey


@pytest.fixture(scope="module")
def server(app_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard on the demo plus a partner with a very long name, 150 000 ₽ of costs and no lead."""
    require_chromium()
    base = tmp_path_factory.mktemp("streamlit-tables")
    db = base / "tables.duckdb"
    shutil.copy(app_db, db)
    last_month = (date.today().replace(day=1) - timedelta(days=1)).replace(day=1)
    with store.connect(db) as con:
        con.execute("insert into partners (partner_id, name, model) values (9997, ?, 'service')", [LONG_NAME])
        con.execute("insert into cost_ledger (partner_id, month, category, amount) values (9997, ?, 'marketing', "
                    "150000)", [last_month])
    store.bump_version(db)
    with streamlit_server(db, log=base / "server.log") as url:
        yield url


def _grey_line(pixel: tuple[int, ...]) -> bool:
    return all(abs(a - b) <= 10 for a, b in zip(pixel[:3], LINE, strict=False))


def _image(page, box: dict) -> Image.Image:
    return Image.open(io.BytesIO(page.screenshot(clip=box))).convert("RGB")


def grid_box(page) -> dict:
    """The table's box in the page, scrolled so that the whole table is on screen."""
    page.locator(GRID).first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.mouse.move(5, 5)  # no row hover highlight
    page.wait_for_timeout(300)  # the scroll settles (a picture, not an assertion)
    return page.locator(GRID).first.bounding_box()


def columns(page) -> tuple[list[tuple[str, float, float]], bool]:
    """The header texts on screen with each column's left and right x in the page, and whether the table scrolls
    sideways (then its last visible column may be cut off by the table's edge)."""
    box = grid_box(page)
    strip = _image(page, {"x": box["x"], "y": box["y"], "width": box["width"], "height": HEADER_PX})
    px = strip.load()
    borders = [x for x in range(strip.width) if all(_grey_line(px[x, y]) for y in range(4, HEADER_PX - 4))]
    heads = page.evaluate(f"() => [...document.querySelectorAll(\"{GRID} th\")].map(t => t.textContent.trim())")
    overflow = page.evaluate(f"() => {{ const s = document.querySelector(\"{GRID} .dvn-scroller\");"
                             " return s.scrollWidth > s.clientWidth + 1; }")
    # the first border closes the row-selection column; each header ends at the next border or the table's edge
    edges = [*borders, strip.width - 1]
    out = [(h, box["x"] + edges[i], box["x"] + edges[i + 1]) for i, h in enumerate(heads) if i + 1 < len(edges)]
    return out, overflow


def assert_sort_column_on_screen(page, header: str) -> None:
    cols, overflow = columns(page)
    names = [c[0] for c in cols]
    assert header in names, f"«{header}» is not among the columns on screen: {names}"
    i = names.index(header)
    _, left, right = cols[i]
    table = page.locator(GRID).first.bounding_box()
    assert left >= table["x"] and right <= min(VIEWPORT["width"], table["x"] + table["width"]), (header, cols)
    assert not (overflow and i == len(cols) - 1), f"«{header}» is the last column and the table scrolls: cut off"
    assert i <= 3, f"«{header}» should come right after the name: {names}"


def clipped_rows(page, left: float, right: float) -> int:
    """How many pixel rows of the column between left and right have glyph pixels in its right padding."""
    box = grid_box(page)
    img = _image(page, {"x": right - 6, "y": box["y"] + HEADER_PX + 1, "width": 5,
                        "height": box["height"] - HEADER_PX - 2})
    px = img.load()
    return sum(1 for y in range(img.height) if any(sum(px[x, y]) / 3 < 170 for x in range(img.width)))


def names_cut_off(page) -> int:
    """Glyph rows reaching the partner column's right border, over every row of the table (scrolled through)."""
    cols, _ = columns(page)
    _, left, right = next(c for c in cols if c[0] == "Партнёр")
    box = grid_box(page)
    total = clipped_rows(page, left, right)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 5000)  # the rows below the table's height
    page.wait_for_timeout(500)
    return total + clipped_rows(page, left, right)


def choose_sort(page, label: str) -> None:
    box = page.locator(".st-key-partners-sort_by")
    box.evaluate("e => e.scrollIntoView({block: 'center'})")
    box.click()
    page.get_by_role("option", name=label, exact=True).click()
    wait_ready(page)


def test_the_sort_column_is_on_screen_and_no_name_is_cut_off(server: str) -> None:
    with browser() as chrome:
        page = chrome.new_context(viewport=VIEWPORT, locale="ru-RU").new_page()
        page.set_default_timeout(TIMEOUT)
        page.goto(server)
        wait_ready(page)
        page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Партнёры").click()
        page.wait_for_selector(f"{GRID} canvas")
        wait_ready(page)
        assert_sort_column_on_screen(page, "Выручка")  # the default sort
        assert names_cut_off(page) == 0, "a partner name runs into its column's border"
        shot(page, "browser-tables-leaderboard")
        choose_sort(page, "Прибыль")  # a metric with no column of its own
        assert_sort_column_on_screen(page, "Прибыль")
        choose_sort(page, "ROI")
        page.locator(".st-key-partners-by_lower label").click()  # ranked by the adjusted lower bound
        wait_ready(page)
        assert_sort_column_on_screen(page, "ROI*")
        assert names_cut_off(page) == 0
        # the long name is shortened with "…"; the column's help (a tooltip on its header) says where it is in full
        cols, _ = columns(page)
        _, left, right = next(c for c in cols if c[0] == "Партнёр")
        box = grid_box(page)
        page.mouse.move((left + right) / 2, box["y"] + HEADER_PX / 2)
        tip = page.locator("[data-testid='stDataFrameTooltipContent']")
        tip.wait_for(timeout=10_000)
        assert "полностью" in tip.inner_text()
        assert page.locator("[data-testid='stException']").count() == 0
        page.context.close()

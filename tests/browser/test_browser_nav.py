"""No legacy page listing, ever (issue 20): from the first paint after a server start the sidebar lists only
app.py's st.navigation menu (never Streamlit's pages/ file names: "app", "costs", … "what if"), and every page
path, /overview and /what-if included, opens its own page with its URL query kept and no "Page not found".

A recorder installed before the app's own scripts (add_init_script) logs every state of the sidebar menu and
of any dialog while a page loads, so a listing shown for a moment and replaced later is caught too.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from support.browser import ROOT, browser, require_chromium, streamlit_server, wait_ready

from ui.i18n import t

pytestmark = pytest.mark.browser
TIMEOUT = 120_000

# Every change of the sidebar menu (its links' labels, null while there is none) or of a dialog's text.
RECORDER = r"""
window.__navLog = [];
const record = () => {
  const nav = document.querySelector("[data-testid='stSidebarNav']");
  const links = nav ? [...nav.querySelectorAll("a")].map(a => a.innerText.trim().split("\n").pop()) : null;
  const dialog = document.querySelector("[role='dialog']");
  const state = JSON.stringify({links, dialog: dialog ? dialog.innerText : null});
  if (window.__navLog[window.__navLog.length - 1] !== state) window.__navLog.push(state);
};
new MutationObserver(record).observe(document, {subtree: true, childList: true, characterData: true});
"""


def _pages() -> list[tuple[str, str, str, str]]:
    """app.py's PAGES, read from its source (importing app.py would build its st.App)."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    node = next(n for n in tree.body if isinstance(n, ast.AnnAssign) and getattr(n.target, "id", "") == "PAGES")
    return ast.literal_eval(node.value)


PAGES = _pages()


def menu(code: str) -> list[str]:
    """The router's menu in language code, in PAGES order."""
    return [t(title, _lang=code) for _, _, title, _ in PAGES]


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


CURRENT = "[data-testid='stSidebarNav'] a[aria-current='page']"


def open_recorded(context, url: str, title: str):
    """Open url in a new tab with the recorder on; wait until the router's page titled title finished its run."""
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.add_init_script(RECORDER)
    page.goto(url)
    page.wait_for_function(
        "([sel, t]) => { const a = document.querySelector(sel); return a && a.innerText.trim().split('\\n').pop() === t; }",
        arg=[CURRENT, title])
    wait_ready(page)
    assert page.locator("[data-testid='stMain'] [data-testid='stElementContainer']").count() > 0, f"{url}: empty page"
    return page


def assert_only_the_router_menu(page, code: str) -> None:
    """Every recorded state: no menu yet, or exactly the router's; never a dialog (e.g. "Page not found")."""
    states = [json.loads(s) for s in page.evaluate("window.__navLog")]
    assert any(s["links"] for s in states), "the router's menu never appeared"
    wrong = [s for s in states if s["links"] not in (None, menu(code)) or s["dialog"]]
    assert not wrong, f"expected only {menu(code)}, saw {wrong}"
    assert "Page not found" not in page.inner_text("body")


def test_a_deep_link_as_the_first_request_after_a_start(app_db: Path, tmp_path: Path) -> None:
    """/partners?lang=en straight after a start: the router's English menu from the first paint, the page."""
    with streamlit_server(app_db, log=tmp_path / "server.log") as url, browser() as b:
        context = b.new_context(viewport={"width": 1440, "height": 900})
        page = open_recorded(context, f"{url}/partners?lang=en", t("page.partners", _lang="en"))
        assert_only_the_router_menu(page, "en")
        here = urlsplit(page.url)
        assert here.path == "/partners" and parse_qs(here.query) == {"lang": ["en"]}


def test_every_page_path_opens_its_page(app_db: Path, tmp_path: Path) -> None:
    """/overview first after a start (it answers as "/", query kept), then every url path of PAGES and "/"."""
    with streamlit_server(app_db, log=tmp_path / "server.log") as url, browser() as b:
        context = b.new_context(viewport={"width": 1440, "height": 900})
        page = open_recorded(context, f"{url}/overview?lang=en&period=last_month", t(PAGES[0][2], _lang="en"))
        assert_only_the_router_menu(page, "en")
        here = urlsplit(page.url)
        assert here.path == "/" and parse_qs(here.query) == {"lang": ["en"], "period": ["last_month"]}
        page.close()
        for path, title in [("", PAGES[0][2])] + [(p, title) for _, p, title, _ in PAGES]:
            page = open_recorded(context, f"{url}/{path}", t(title, _lang="ru"))
            assert_only_the_router_menu(page, "ru")
            page.close()

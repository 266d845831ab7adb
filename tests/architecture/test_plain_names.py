"""CRM names rendered through Markdown stay literal text: no link, no bold, no emoji (presentation.fmt.plain)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from support.app import new_app, run_ok

from data_layer import store
from presentation import fmt
from ui import auth

EVIL = "http://evil.example [x](http://evil.example) **b**"
# What Streamlit's Markdown links in text nodes once escapes are resolved (mdast-util-gfm-autolink-literal).
URL = re.compile(r"(https?://|www(?=\.))([-.\w]+)", re.IGNORECASE | re.ASCII)
EMAIL = re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", re.ASCII)


def resolved(markdown: str) -> str:
    """The text Markdown shows once backslash escapes are resolved."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def assert_literal(markdown: str, original: str) -> None:
    """markdown shows original as is: nothing links, nothing formats."""
    assert "](" not in markdown and "**" not in markdown, markdown
    text = resolved(markdown)
    assert not URL.search(text) and not EMAIL.search(text), f"would autolink: {text!r}"
    assert text.replace(fmt.WORD_JOINER, "") == original


@pytest.mark.parametrize("name", [EVIL, "www.evil.example", "WWW.X.RU и HTTPS://x.ru", "sales@alfa.ru",
                                  ":smile: :material/home: $x$ <b>", "ООО «Альфа-Интеграция» (Москва)"])
def test_plain_breaks_links_and_formatting(name: str) -> None:
    assert_literal(fmt.plain(name), name)


def test_plain_of_nothing_is_empty() -> None:
    assert fmt.plain(None) == ""


@pytest.fixture
def evil_partner(app_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """The first demo partner renamed to EVIL in a copy the dashboard reads; its partner_id."""
    db = tmp_path / "evil.duckdb"
    shutil.copy(app_db, db)
    with store.connect(db) as con:
        pid = con.execute("select min(partner_id) from partners").fetchone()[0]
        con.execute("update partners set name = ? where partner_id = ?", [EVIL, pid])
    store.bump_version(db)
    monkeypatch.setenv("PARTNER_ROI_DB", str(db))
    return int(pid)


def test_the_partner_page_heading_shows_the_name_as_text(evil_partner: int) -> None:
    at = run_ok(new_app({"selected": str(evil_partner)}))
    at.switch_page("pages/partners.py")
    run_ok(at)
    headings = [h.value for h in at.main.header]
    assert headings == [fmt.plain(EVIL)], headings
    assert_literal(headings[0], EVIL)


def test_the_portal_title_shows_the_name_as_text(evil_partner: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "current", lambda: auth.Principal("p@partner.ru", "P", "partner", partner=EVIL))
    at = run_ok(new_app())
    title = at.title[0].value
    assert fmt.plain(EVIL) in title and "](" not in title, title
    assert "http://" not in resolved(title)

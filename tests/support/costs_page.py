"""The costs page's test account and how tests open the page: partners Alpha and Beta, last month's money."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from support.accounts import WON, Account
from support.app import APP
from ui.filters import today

PAGE = "pages/costs.py"
ALPHA, BETA = "=Alpha", "Beta **bold**"   # names that would be formulas / Markdown if not shown literally


def last_month() -> date:
    """First day of the previous month: always fully inside the default period (last 12 months)."""
    first = today().replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def build_db(path: Path) -> Path:
    """Alpha (referral, 10 % rule, revenue 3 000, marketing 300), Beta (sales, revenue 1 000, support 400)."""
    month = last_month()
    day = (month + timedelta(days=4)).isoformat()
    acc = Account()
    acc.partner(ALPHA, "referral")
    acc.partner(BETA, "sales")
    acc.lead(day, partner=ALPHA, status=WON, price=1000, n=3)
    acc.lead(day, partner=BETA, status=WON, price=500, n=2)
    acc.cost(ALPHA, month.strftime("%Y-%m"), "marketing", 300)
    acc.cost(BETA, month.strftime("%Y-%m"), "support", 400)
    acc.rule("percent_revenue", 0.1, model="referral")
    return acc.build(path)


def app(state: dict | None = None) -> AppTest:
    """app.py opened on the costs page with this session state, run once (no exception allowed)."""
    at = AppTest.from_file(str(APP), default_timeout=120).switch_page(PAGE)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def edits(edited: dict | None = None, added: list | None = None, deleted: list | None = None) -> dict:
    """A data editor's session-state value: edited, added and deleted rows."""
    return {"edited_rows": edited or {}, "added_rows": added or [], "deleted_rows": deleted or []}


def errors(at: AppTest) -> str:
    """Error texts with the Markdown escaping removed."""
    return re.sub(r"\\(.)", r"\1", "\n".join(e.value for e in at.error))

"""The what-if page's test account (the costs page's Alpha and Beta, plus open leads) and how tests open the page."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from data_layer import store
from support.accounts import WON, Account
from support.app import APP
from support.costs_page import ALPHA, BETA, last_month

PAGE = "pages/what_if.py"


def build_db(path: Path) -> Path:
    """Alpha (referral, 10 % rule): revenue 3 000, ledger 300 -> costs 600, ROI 400 %.
    Beta (sales, no rule): revenue 1 000, ledger 400 -> ROI 150 %."""
    month = last_month()
    day = (month + timedelta(days=4)).isoformat()
    acc = Account()
    acc.partner(ALPHA, "referral")
    acc.partner(BETA, "sales")
    acc.lead(day, partner=ALPHA, status=WON, price=1000, n=3)
    acc.lead(day, partner=BETA, status=WON, price=500, n=2)
    acc.lead(day, partner=BETA, n=3)
    acc.cost(ALPHA, month.strftime("%Y-%m"), "marketing", 300)
    acc.cost(BETA, month.strftime("%Y-%m"), "support", 400)
    acc.rule("percent_revenue", 0.1, model="referral")
    return acc.build(path)


def app(state: dict | None = None, lang: str | None = None) -> AppTest:
    """app.py opened on the what-if page (its url path differs from the file name: run once, then switch)."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    if lang:
        at.query_params["lang"] = lang
    at.run()
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def partner_table(at: AppTest) -> pd.DataFrame:
    """The side-by-side table by partner (found by its columns)."""
    for frame in at.dataframe:
        value = frame.value
        if "ROI: сценарий" in value.columns and "Партнёр" in value.columns:
            return value.set_index("Партнёр")
    raise AssertionError("no partner table")


def roi(at: AppTest, partner: str) -> tuple[str, str]:
    """A partner's ROI as shown: (actual, scenario)."""
    row = partner_table(at).loc[partner]
    return row["ROI: факт"], row["ROI: сценарий"]


def open_tab(at: AppTest, label: str) -> AppTest:
    """Select one of the lazy result tabs (only the open one computes)."""
    at.session_state["what_if.view"] = label
    at.run()
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> list[str]:
    """The error boxes' text as a person reads it (Markdown escapes and word joiners taken out)."""
    return [e.value.replace("\\", "").replace("\u2060", "").replace("\u00a0", " ") for e in at.error]


def snapshot(path: Path) -> tuple:
    """Everything the page may write: ledger, rules, margin setting, scenario count."""
    with store.connect(path, read_only=True) as con:
        return (con.execute("select * exclude (updated_at) from cost_ledger order by all").fetchall(),
                con.execute("select * from commission_rules order by all").fetchall(),
                con.execute("select value from settings where key = 'margin'").fetchall(),
                con.execute("select count(*) from scenarios").fetchall())

"""Payouts panel (AppTest, widgets by key): accrue a month, approve, pay, refused actions, statement rows."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from support.accounts import WON, Account

from data_layer import store
from programme import payout_views
from programme import payouts as P
from ui import payouts_panel
from ui.auth import Principal
from ui.filters import today

ALPHA = "=Альфа"


def last_month() -> date:
    return (today().replace(day=1) - timedelta(days=1)).replace(day=1)


@pytest.fixture
def db(tmp_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Last month: Alpha (sales, 10 % rule) won 2 deals of 1 000 and has a 300 bonus in the ledger."""
    month = last_month()
    acc = Account()
    acc.partner(ALPHA, "sales")
    acc.lead((month + timedelta(days=3)).isoformat(), partner=ALPHA, status=WON, price=1000, n=2)
    acc.cost(ALPHA, month.strftime("%Y-%m"), "bonus", 300)
    acc.rule("percent_revenue", 0.1, model="sales")
    acc.build(tmp_db)
    monkeypatch.setenv("PARTNER_ROI_DB", str(tmp_db))
    return tmp_db


def _script() -> None:
    import streamlit as st

    from ui import payouts_panel

    st.session_state["ui.lang"] = st.session_state.get("lang", "ru")
    payouts_panel.render()


def panel(lang: str = "ru", person: Principal | None = None) -> AppTest:
    at = AppTest.from_function(_script, default_timeout=120)
    at.session_state["lang"] = lang
    if person is not None:
        at.session_state["auth.principal"] = person
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def line(db: Path) -> P.Line:
    with store.connect(db, read_only=True) as con:
        found = P.find_line(con, 1, last_month())
    assert found is not None
    return found


def test_accrue_approve_pay_through_the_panel(db: Path) -> None:
    at = panel()
    assert at.button(key="payouts.accrue").disabled  # nobody named: no actions
    at.text_input(key="payouts.who").set_value("anna").run()
    assert at.selectbox(key="payouts.accrue_month").value == last_month()
    at.button(key="payouts.accrue").click().run()
    assert not at.exception and not at.error
    assert line(db).accrued == 500  # 10 % of 2 000 + 300 bonus
    assert any("новых или увеличенных строк — 1" in s.value for s in at.success)
    pid = line(db).payout_id
    at.button(key="payouts.submit").click().run()  # approve the whole pending amount (the default)
    assert not at.error and line(db).approved == 500 and line(db).status == "approved"
    at.segmented_control(key="payouts.action").set_value("pay").run()
    at.text_input(key=f"payouts.amount.{pid}.pay").set_value("200")
    at.text_input(key="payouts.reference").set_value("п/п 42")
    at.button(key="payouts.submit").click().run()
    assert not at.error and line(db).paid == 200
    owed = at.dataframe[0].value
    assert owed.iloc[0]["Партнёр"] == ALPHA and owed.iloc[0]["Долг партнёру"] == "300,00\u00a0₽"
    with store.connect(db, read_only=True) as con:
        assert con.execute("select count(*) from audit_log where entity = 'payout' and who = 'anna'"
                           ).fetchone()[0] == 3


def test_refused_action_shows_a_sentence_and_changes_nothing(db: Path) -> None:
    with store.connect(db) as con:
        P.accrue(con, last_month(), "system")
    store.bump_version(db)
    at = panel("en")
    at.text_input(key="payouts.who").set_value("boris").run()
    pid = line(db).payout_id
    at.segmented_control(key="payouts.action").set_value("pay").run()
    at.text_input(key=f"payouts.amount.{pid}.pay").set_value("10")
    at.button(key="payouts.submit").click().run()
    assert not at.exception and "approved and unpaid" in at.error[0].value
    assert line(db).paid == 0
    at.segmented_control(key="payouts.action").set_value("reverse").run()
    at.button(key="payouts.submit").click().run()  # no reason given
    assert "reason is required" in at.error[0].value and line(db).accrued == 500


def test_statement_rows(db: Path) -> None:
    with store.connect(db) as con:
        P.accrue(con, last_month(), "system")
        rows = payouts_panel.statement_rows(con, 1, (last_month(), today()))
    assert rows["accrued"].tolist() == [500] and rows.columns.tolist() == payout_views.STATEMENT_COLUMNS


def test_viewer_sees_owed_vs_paid_only(db: Path) -> None:
    with store.connect(db) as con:
        P.accrue(con, last_month(), "system")
    store.bump_version(db)
    at = panel(person=Principal("v@acme.ru", "V", "viewer"))
    assert any("Только просмотр" in i.value for i in at.info) and len(at.dataframe) == 1
    keys = {b.key for b in at.button} | {b.key for b in at.get("form_submit_button")}
    assert not keys & {"payouts.accrue", "payouts.submit"}


def test_signed_in_editor_acts_under_their_address(db: Path) -> None:
    at = panel(person=Principal("editor@acme.ru", "E", "editor"))
    assert not [w for w in at.text_input if w.key == "payouts.who"]
    at.button(key="payouts.accrue").click().run()
    assert not at.error and line(db).accrued == 500
    with store.connect(db, read_only=True) as con:
        assert con.execute("select distinct who from payout_events").fetchall() == [("editor@acme.ru",)]


def test_a_payment_is_typed_the_russian_way(db: Path) -> None:
    """«250,50» pays 250.50 (a number widget read the comma away); «двести» is refused and pays nothing."""
    at = panel()
    at.text_input(key="payouts.who").set_value("anna").run()
    at.button(key="payouts.accrue").click().run()
    at.button(key="payouts.submit").click().run()  # approve all 500
    pid = line(db).payout_id
    at.segmented_control(key="payouts.action").set_value("pay").run()
    at.text_input(key=f"payouts.amount.{pid}.pay").set_value("двести")
    at.button(key="payouts.submit").click().run()
    assert at.error and "Сумма" in at.error[0].value and line(db).paid == 0
    at.text_input(key=f"payouts.amount.{pid}.pay").set_value("250,50")
    at.text_input(key="payouts.reference").set_value("п/п 43")
    at.button(key="payouts.submit").click().run()
    assert not at.error and line(db).paid == 250.5

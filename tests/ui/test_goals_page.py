"""Goals page and the compact goals panel (AppTest, widgets by key): add, refuse, delete, both languages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from support.accounts import WON, Account

from data_layer import store
from programme import goals as G
from ui.auth import Principal
from ui.filters import today

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "goals.py")
ALPHA = "=Альфа **жирный**"


@pytest.fixture
def db(tmp_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This month: Alpha (referral) 4 leads, 2 won at 1 000; 2 direct leads."""
    day = today().replace(day=1).isoformat()
    acc = Account()
    acc.partner(ALPHA, "referral")
    acc.lead(day, partner=ALPHA, status=WON, price=1000, n=2)
    acc.lead(day, partner=ALPHA, status="new", n=2)
    acc.lead(day, status="new", n=2)
    acc.build(tmp_db)
    monkeypatch.setenv("PARTNER_ROI_DB", str(tmp_db))
    return tmp_db


def page(state: dict | None = None) -> AppTest:
    """The goals page run on its own (without app.py's sidebar)."""
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def stored(db: Path):
    with store.connect(db, read_only=True) as con:
        return G.list_goals(con)


def test_empty_page_then_add_a_goal(db: Path) -> None:
    at = page()
    assert at.title[0].value == "Цели программы" and not at.error
    assert any("Целей пока нет" in i.value for i in at.info)
    at.selectbox(key="goals.metric").set_value("leads")
    at.text_input(key="goals.target").set_value("6")
    at.text_input(key="goals.who").set_value("anna")
    at.button(key="goals.save").click().run()
    assert not at.exception and not at.error
    goals = stored(db)
    assert goals[["scope", "metric", "op", "target"]].values.tolist() == [["program", "leads", ">=", 6.0]]
    assert goals.iloc[0]["date_from"] == today().replace(day=1)
    assert any("Цель добавлена" in s.value for s in at.success)
    table = at.dataframe[0].value
    assert table.iloc[0]["Сейчас"] == "6" and table.iloc[0]["Статус"] == "достигнута"


def test_percent_metric_is_entered_in_percent_and_partner_scope(db: Path) -> None:
    at = page()
    at.segmented_control(key="goals.scope").set_value("partner").run()
    at.selectbox(key="goals.metric").set_value("conversion").run()
    assert at.selectbox(key="goals.partner").value is not None
    at.text_input(key="goals.target").set_value("40")
    at.button(key="goals.save").click().run()
    assert not at.exception and not at.error
    goal = stored(db).iloc[0]
    assert goal["scope"] == "partner" and goal["partner_name"] == ALPHA and goal["target"] == pytest.approx(0.4)
    table = at.dataframe[0].value
    assert table.iloc[0]["Сейчас"] == "50,0\u00a0%" and table.iloc[0]["Охват"] == f"Партнёр: {ALPHA}"


def test_invalid_goal_is_refused_with_a_sentence(db: Path) -> None:
    at = page()
    at.selectbox(key="goals.metric").set_value("leads")
    at.text_input(key="goals.target").set_value("-3")
    at.button(key="goals.save").click().run()
    assert not at.exception
    assert "не бывает меньше нуля" in at.error[0].value
    assert stored(db).empty
    at.text_input(key="goals.target").set_value("3")
    at.date_input(key="goals.from").set_value(today() + timedelta(days=40))
    at.button(key="goals.save").click().run()
    assert "позже, чем заканчивается" in at.error[0].value and stored(db).empty


def test_delete_a_goal(db: Path) -> None:
    with store.connect(db) as con:
        G.add_goal(con, "program", "revenue", ">=", 10_000, today().replace(day=1), today())
    store.bump_version(db)
    at = page()
    at.button(key="goals.delete").click().run()
    assert not at.exception and stored(db).empty
    assert any("Цель удалена" in s.value for s in at.success)


def test_english_page(db: Path) -> None:
    with store.connect(db) as con:
        G.add_goal(con, "model", "won_deals", ">=", 1000, today().replace(day=1), today() + timedelta(days=30),
                   model="referral")
    store.bump_version(db)
    at = page({"ui.lang": "en"})
    assert at.title[0].value == "Program goals"
    table = at.dataframe[0].value
    assert table.iloc[0]["Status"] == "off track" and table.iloc[0]["Scope"] == "Model: Referral"
    assert any("Won deals" in c.value for c in at.caption)


def _panel_script() -> None:
    import streamlit as st

    from ui import goals_panel

    st.session_state["ui.lang"] = st.session_state.get("lang", "ru")
    goals_panel.render(st.session_state.get("scope", "program"), st.session_state.get("model"),
                       st.session_state.get("partner_id"))


def test_panel_shows_bars_or_a_hint(db: Path) -> None:
    at = AppTest.from_function(_panel_script, default_timeout=60)
    at.run()
    assert not at.exception and "Целей на этот период нет" in at.caption[0].value
    with store.connect(db) as con:
        pid = con.execute("select partner_id from partners").fetchone()[0]
        G.add_goal(con, "partner", "revenue", ">=", 4000, today().replace(day=1), today() + timedelta(days=60),
                   partner_id=pid)
        G.add_goal(con, "program", "leads", ">=", 1, today().replace(day=1), today())
    store.bump_version(db)
    at.session_state["scope"] = "partner"
    at.session_state["partner_id"] = pid
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception and len(at.get("progress")) == 1
    bar = at.get("progress")[0]
    assert bar.value == 50 and "Revenue" in bar.proto.text
    assert any("Now" in c.value for c in at.caption)


def test_viewer_sees_progress_but_no_editor(db: Path) -> None:
    at = page({"auth.principal": Principal("v@acme.ru", "V", "viewer")})
    assert any("Только просмотр" in i.value for i in at.info)
    keys = {b.key for b in at.button} | {b.key for b in at.get("form_submit_button")}
    assert not keys & {"goals.save", "goals.delete"}


def test_signed_in_editor_is_the_audited_name(db: Path) -> None:
    at = page({"auth.principal": Principal("editor@acme.ru", "E", "editor")})
    assert not [w for w in at.text_input if w.key == "goals.who"]
    at.text_input(key="goals.target").set_value("1")
    at.button(key="goals.save").click().run()
    with store.connect(db, read_only=True) as con:
        assert con.execute("select who from audit_log where entity = 'goal'").fetchall() == [("editor@acme.ru",)]

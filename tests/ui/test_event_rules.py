"""Events on the charts through AppTest: a commission-rule change in the audit log is a rule on the trends chart at
its day, a partner's own event shows only on that partner's chart, the events panel lists them, a bad event is
refused with the field named, and a viewer can neither add nor delete."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from streamlit import dataframe_util
from support.app import new_app, run_ok

from data_layer import store, userdata
from ui import auth, filters, writes


def month_start(back: int) -> date:
    """The first day of the month `back` months before this one (the default period is the last twelve)."""
    now = filters.today()
    y, m = divmod(now.year * 12 + now.month - 1 - back, 12)
    return date(y, m + 1, 1)


RULE_DAY = month_start(5) + timedelta(days=14)
PARTNER_DAY = month_start(4) + timedelta(days=9)
ALL_DAY = month_start(3) + timedelta(days=2)


@pytest.fixture
def events_db(app_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The demo with the referral rule's rate changed on RULE_DAY (as the audit log records it), an event of the
    whole programme and one of the top partner only."""
    path = tmp_path / "events.duckdb"
    shutil.copy(app_db, path)
    with store.connect(path) as con:
        rule = con.execute("select rule_id, rate from commission_rules where model = 'referral'").fetchone()
        userdata.update_rule(con, int(rule[0]), rate=round(float(rule[1]) + 0.02, 4))
        con.execute("update audit_log set happened_at = ? where event_id = (select max(event_id) from audit_log)",
                    [datetime.combine(RULE_DAY, datetime.min.time()) + timedelta(hours=11)])
        top, other = (r[0] for r in con.execute(
            "select partner_id from lead_facts where partner_id is not null group by partner_id "
            "order by sum(amount) filter (where is_won) desc nulls last limit 2").fetchall())
        userdata.add_event(con, PARTNER_DAY.strftime("%d.%m.%Y"), "Обучение партнёра", scope="partner", value=top)
        userdata.add_event(con, ALL_DAY.isoformat(), "Вебинар для всех")
    store.bump_version(path)
    monkeypatch.setenv("PARTNER_ROI_DB", str(path))
    return {"path": path, "top": int(top), "other": int(other)}


def event_rows(at) -> list[dict[str, Any]]:
    """The rows of the event rules on the page's one chart that draws events (its data set with tooltip titles)."""
    found = [dataframe_util.convert_arrow_bytes_to_pandas_df(d.data.data) for c in at.get("vega_lite_chart")
             for d in c.proto.datasets]
    marks = [df for df in found if "tip_title" in df.columns]
    assert len(marks) == 1, "one chart on the page draws events"
    return marks[0].to_dict("records")


def test_a_rule_change_is_drawn_on_the_trends_chart_at_its_day(events_db: dict[str, Any]) -> None:
    with store.connect(events_db["path"]) as con:  # a second event on the rule's day shares its mark
        userdata.add_event(con, RULE_DAY.isoformat(), "Письмо партнёрам о новой ставке")
    store.bump_version(events_db["path"])
    at = run_ok(new_app())
    run_ok(at.switch_page("pages/trends.py"))
    rows = event_rows(at)
    by_title = {r["tip_title"]: r for r in rows}
    rule = next(r for t, r in by_title.items() if "Изменено правило комиссии: Реферальная" in t)
    assert str(rule["period"])[:10] == RULE_DAY.isoformat()
    assert rule["tip_detail"].startswith("ставка: ")
    assert "Вебинар для всех" in by_title
    assert "Обучение партнёра" not in by_title, "a partner's event is not on the programme's chart"
    effects = [v for r in rows for k, v in r.items() if k.startswith("effect_")]
    assert any("до:" in e and "95 %" in e for e in effects), effects
    table = next(d.value for d in at.dataframe if "Событие" in d.value.columns)
    drawn = [t for r in rows for t in r["tip_title"].split(" · ")]  # events of one day share a rule
    assert sorted(table["Событие"]) == sorted(drawn) and len(rows) < len(drawn)


def test_a_partner_s_event_shows_only_on_that_partner(events_db: dict[str, Any]) -> None:
    at = run_ok(new_app())
    run_ok(at.switch_page("pages/partners.py"))
    at.session_state["partners.selected"] = events_db["top"]
    run_ok(at)
    titles = {r["tip_title"] for r in event_rows(at)}
    assert {"Обучение партнёра", "Вебинар для всех"} <= titles
    at.session_state["partners.selected"] = events_db["other"]
    run_ok(at)
    titles = {r["tip_title"] for r in event_rows(at)}
    assert "Вебинар для всех" in titles and "Обучение партнёра" not in titles
    run_ok(at.switch_page("pages/overview.py"))
    titles = {r["tip_title"] for r in event_rows(at)}
    assert "Вебинар для всех" in titles and "Обучение партнёра" not in titles


def test_an_editor_adds_an_event_and_a_bad_one_is_refused_naming_the_field(events_db: dict[str, Any]) -> None:
    at = run_ok(new_app())
    run_ok(at.switch_page("pages/trends.py"))
    at.text_input(key="trends.events.day").set_value("31.02.2026")
    at.text_input(key="trends.events.title").set_value("Акция")
    at.button(key="trends.events.add").click().run()
    assert any("Дата события «31.02.2026» не распознана" in e.value for e in at.error)
    with store.connect(events_db["path"], read_only=True) as con:
        assert con.execute("select count(*) from user_events").fetchone()[0] == 2
    at.text_input(key="trends.events.day").set_value(ALL_DAY.strftime("%d.%m.%Y"))
    at.text_input(key="trends.events.title").set_value("Новый прайс")
    at.button(key="trends.events.add").click().run()
    assert not at.exception
    assert any("«Новый прайс» добавлено" in s.value for s in at.success)
    assert "Новый прайс" in {r["tip_title"].split(" · ")[-1] for r in event_rows(at)} | {
        t for r in event_rows(at) for t in r["tip_title"].split(" · ")}
    at.selectbox(key="trends.events.pick").set_value(at.selectbox(key="trends.events.pick").options and
                                                    next(iter(at.selectbox(key="trends.events.pick").proto.options))
                                                    and at.selectbox(key="trends.events.pick").value)
    at.button(key="trends.events.delete").click().run()
    assert any("Событие удалено" in s.value for s in at.success)
    with store.connect(events_db["path"], read_only=True) as con:
        assert con.execute("select count(*) from user_events").fetchone()[0] == 2


def test_a_viewer_can_neither_add_nor_delete(events_db: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "current", lambda: auth.Principal("v@acme.ru", "V", "viewer"))
    at = run_ok(new_app())
    run_ok(at.switch_page("pages/trends.py"))
    keys = {b.key for b in at.button}
    assert not keys & {"trends.events.add", "trends.events.delete"}
    assert any("могут редакторы" in c.value for c in at.caption)
    viewer = auth.Principal("v@acme.ru", "V", "viewer")
    monkeypatch.setattr(auth, "principal", lambda: viewer)  # a write called anyway, outside the page
    with pytest.raises(writes.WriteRefused):
        writes.write(userdata.delete_event, 1)
    with pytest.raises(writes.WriteRefused):
        writes.write(userdata.add_event, "07.12.2026", "Чужое событие")
    with store.connect(events_db["path"], read_only=True) as con:
        assert con.execute("select count(*) from user_events").fetchone()[0] == 2
        assert con.execute("select count(*) from audit_log where action = 'refused'").fetchone()[0] == 2


def test_the_events_speak_english_on_request(events_db: dict[str, Any]) -> None:
    at = run_ok(new_app({"lang": "en"}))
    run_ok(at.switch_page("pages/trends.py"))
    rows = event_rows(at)
    titles = [t for r in rows for t in r["tip_title"].split(" · ")]
    assert any(t.startswith("Commission rule changed: Referral") for t in titles), titles
    assert any("before:" in v or "Too few periods" in v for r in rows for k, v in r.items() if k.startswith("effect_"))
    assert any(e.label.startswith("Events on the chart") for e in at.expander)

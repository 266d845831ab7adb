"""User events (migration 0013_events): Russian and ISO dates, a 1–80 character title, an existing scope; bad input
refused with the field named and nothing saved; every change audited."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from data_layer import store, userdata
from data_layer.userdata import UserDataError


@pytest.fixture
def con(tmp_db: Path):
    """An open connection on a fresh database with one partner (id 1, model referral)."""
    with store.connect(tmp_db) as connection:
        userdata.add_partner(connection, "Альфа", model="referral")
        yield connection


def count(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select count(*) from user_events").fetchone()[0]


def test_russian_and_iso_dates_and_every_scope_are_saved_and_audited(con: duckdb.DuckDBPyConnection) -> None:
    a = userdata.add_event(con, "07.12.2026", "  Вебинар   для партнёров ")
    b = userdata.add_event(con, "2026-03-01", "Новый прайс", scope="model", value="Referral")
    c = userdata.add_event(con, date(2026, 5, 4), "Обучение", scope="partner", value=1)
    rows = userdata.list_events(con)
    assert rows[["id", "day", "title", "scope", "value"]].to_dict("records") == [
        {"id": a, "day": date(2026, 12, 7), "title": "Вебинар для партнёров", "scope": "all", "value": None},
        {"id": c, "day": date(2026, 5, 4), "title": "Обучение", "scope": "partner", "value": "1"},
        {"id": b, "day": date(2026, 3, 1), "title": "Новый прайс", "scope": "model", "value": "referral"},
    ]
    audit = con.execute("select action, entity, entity_key, after from audit_log where entity = 'user_events' "
                        "order by event_id").fetchall()
    assert [r[:3] for r in audit] == [("add", "user_events", str(a)), ("add", "user_events", str(b)),
                                      ("add", "user_events", str(c))]
    assert json.loads(audit[0][3])["title"] == "Вебинар для партнёров"
    userdata.delete_event(con, b)
    assert count(con) == 2
    assert con.execute("select action, entity_key from audit_log order by event_id desc limit 1").fetchone() == (
        "delete", str(b))


@pytest.mark.parametrize(("kwargs", "code", "word_ru", "word_en"), [
    ({"day": "31.02.2026"}, "event.day_bad", "Дата", "date"),
    ({"day": "12/07/2026"}, "event.day_bad", "Дата", "date"),
    ({"day": ""}, "event.day_empty", "дата", "date"),
    ({"title": "   "}, "event.title_empty", "название", "title"),
    ({"title": "я" * 81}, "event.title_long", "Название", "title"),
    ({"scope": "region"}, "event.scope_bad", "охват", "scope"),
    ({"scope": "model", "value": "reseller"}, "event.model_bad", "Модель", "model"),
    ({"scope": "partner", "value": 99}, "event.partner_bad", "Партнёр", "partner"),
    ({"scope": "partner", "value": None}, "event.partner_bad", "Партнёр", "partner"),
])
def test_bad_input_is_refused_with_the_field_named_and_nothing_saved(
        con: duckdb.DuckDBPyConnection, kwargs: dict, code: str, word_ru: str, word_en: str) -> None:
    args = {"day": "07.12.2026", "title": "Акция", "scope": "all", "value": None} | kwargs
    with pytest.raises(UserDataError) as exc:
        userdata.add_event(con, **args)
    assert [p.code for p in exc.value.problems] == [code]
    assert word_ru in exc.value.text("ru") and word_en in exc.value.text("en")
    assert count(con) == 0
    assert con.execute("select count(*) from audit_log where entity = 'user_events'").fetchone()[0] == 0


def test_an_eighty_character_title_is_kept_and_every_bad_field_is_listed(con: duckdb.DuckDBPyConnection) -> None:
    userdata.add_event(con, "01.01.2026", "я" * 80)
    with pytest.raises(UserDataError) as exc:
        userdata.add_event(con, "32.01.2026", "", scope="model", value="x")
    assert [p.code for p in exc.value.problems] == ["event.day_bad", "event.title_empty", "event.model_bad"]
    assert count(con) == 1


def test_deleting_an_unknown_event_is_a_sentence(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(UserDataError) as exc:
        userdata.delete_event(con, 42)
    assert "42" in exc.value.text("ru")

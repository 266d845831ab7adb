"""User events on the charts: add, delete and list the events a user marks (a day, a title, whom it concerns).

An event concerns the whole programme (scope "all"), one partnership model or one partner. Bad input is refused
with one sentence naming the field (`EventProblem`, RU / EN) and nothing is written; every change has an audit row.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, ClassVar

import duckdb
import pandas as pd

from data_layer.userdata.errors import Problem, UserDataError
from data_layer.userdata.messages import extended
from data_layer.userdata.parse import MODELS, is_blank, nulls_as_none
from data_layer.userdata.transaction import ACTOR, atomic, audit

SCOPES = ("all", "model", "partner")
MAX_TITLE = 80
EVENT_COLUMNS = ["id", "day", "title", "scope", "value", "created_by", "created_at"]
_RU_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")

_OWN = {
    "ru": {
        "event.day_empty": "Не указана дата события — введите её, например 07.12.2026.",
        "event.day_bad": "Дата события «{value}» не распознана — введите её как 07.12.2026 или 2026-12-07.",
        "event.title_empty": "Не указано название события — введите короткое название.",
        "event.title_long": "Название события длиннее {limit} символов — сократите его.",
        "event.scope_bad": "Неизвестный охват события «{value}» — выберите: вся программа, модель или партнёр.",
        "event.model_bad": "Модель события «{value}» не найдена — выберите referral, sales или service.",
        "event.partner_bad": "Партнёр события «{value}» не найден — выберите партнёра из списка.",
        "event.unknown": "События номер {event_id} нет — обновите страницу.",
    },
    "en": {
        "event.day_empty": "The event's date is missing: type it, e.g. 07.12.2026.",
        "event.day_bad": "The event's date “{value}” is not understood: type it as 07.12.2026 or 2026-12-07.",
        "event.title_empty": "The event's title is empty: type a short title.",
        "event.title_long": "The event's title is longer than {limit} characters: shorten it.",
        "event.scope_bad": "Unknown event scope “{value}”: choose the whole programme, a model or a partner.",
        "event.model_bad": "The event's model “{value}” is not known: choose referral, sales or service.",
        "event.partner_bad": "The event's partner “{value}” is not known: pick a partner from the list.",
        "event.unknown": "There is no event number {event_id}: reload the page.",
    },
}
MESSAGES = extended(_OWN)


class EventProblem(Problem):
    """A problem of an event's input, worded from this module's sentences."""

    MESSAGES: ClassVar[dict[str, dict[str, str]]] = MESSAGES


def _refuse(code: str, **params: Any) -> UserDataError:
    return UserDataError(EventProblem(code, params))


def event_day(value: object) -> date:
    """An event's day from a date, "07.12.2026" (the Russian way) or "2026-12-07"; refused with the field named."""
    if is_blank(value):
        raise _refuse("event.day_empty")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    ru = _RU_DATE.match(text)
    try:
        if ru:
            return date(int(ru.group(3)), int(ru.group(2)), int(ru.group(1)))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise _refuse("event.day_bad", value=text)


def event_title(value: object) -> str:
    """A title of 1–80 characters (trimmed, inner whitespace collapsed)."""
    text = "" if is_blank(value) else " ".join(str(value).split())
    if not text:
        raise _refuse("event.title_empty")
    if len(text) > MAX_TITLE:
        raise _refuse("event.title_long", limit=MAX_TITLE)
    return text


def event_scope(con: duckdb.DuckDBPyConnection, scope: object, value: object) -> tuple[str, str | None]:
    """(scope, value as stored): "all" has no value, a model its key, a partner its existing partner_id."""
    key = "" if is_blank(scope) else str(scope).strip().lower()
    if key not in SCOPES:
        raise _refuse("event.scope_bad", value="" if is_blank(scope) else scope)
    if key == "all":
        return key, None
    if key == "model":
        model = "" if is_blank(value) else str(value).strip().lower()
        if model not in MODELS:
            raise _refuse("event.model_bad", value="" if is_blank(value) else value)
        return key, model
    try:
        pid = int(str(value).strip())
    except (TypeError, ValueError):
        raise _refuse("event.partner_bad", value="" if is_blank(value) else value) from None
    if not con.execute("select count(*) from partners where partner_id = ?", [pid]).fetchone()[0]:
        raise _refuse("event.partner_bad", value=value)
    return key, str(pid)


def add_event(con: duckdb.DuckDBPyConnection, day: object, title: object, scope: object = "all",
              value: object = None) -> int:
    """Add one event after checking every field; return its id (nothing is written when a field is bad)."""
    problems: list[Problem] = []
    checked: dict[str, Any] = {}
    for name, check in (("day", lambda: event_day(day)), ("title", lambda: event_title(title)),
                        ("scope", lambda: event_scope(con, scope, value))):
        try:
            checked[name] = check()
        except UserDataError as exc:
            problems.extend(exc.problems)
    if problems:
        raise UserDataError(problems)
    kind, key = checked["scope"]
    row = {"day": checked["day"], "title": checked["title"], "scope": kind, "value": key}
    with atomic(con):
        event_id = int(con.execute(
            "insert into user_events (day, title, scope, value, created_by) values (?, ?, ?, ?, ?) returning id",
            [row["day"], row["title"], kind, key, ACTOR.get()]).fetchone()[0])
        audit(con, "add", "user_events", event_id, None, row)
    return event_id


def delete_event(con: duckdb.DuckDBPyConnection, event_id: int) -> None:
    """Delete one event (refused with a sentence when it does not exist)."""
    row = con.execute("select day, title, scope, value from user_events where id = ?", [int(event_id)]).fetchone()
    if row is None:
        raise _refuse("event.unknown", event_id=event_id)
    with atomic(con):
        con.execute("delete from user_events where id = ?", [int(event_id)])
        audit(con, "delete", "user_events", int(event_id), dict(zip(("day", "title", "scope", "value"), row,
                                                                     strict=True)), None)


def list_events(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every user event, newest day first: id, day, title, scope, value, created_by, created_at."""
    df = con.execute("select id, day, title, scope, value, created_by, created_at from user_events "
                     "order by day desc, id desc").df()
    df["day"] = pd.to_datetime(df["day"]).dt.date.astype(object)
    return nulls_as_none(df, ("value", "created_by"))

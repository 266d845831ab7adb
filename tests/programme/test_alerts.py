"""Alert rules and their evaluation on the session's demo database: bad rules refused with the field named and
nothing saved, every change audited, a condition makes one event when it starts and one when it clears, maturing
and incomplete periods never decide, failed sends stay pending."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from data_layer import store
from data_layer.userdata import UserDataError
from data_layer.userdata import alerts as rule_store
from metrics.engine import grouped
from metrics.filters import Filters
from programme import alerts

TELEGRAM = [{"kind": "telegram", "chat_id": "-1001234567890"}]


@pytest.fixture
def db(app_db: Path, tmp_path: Path) -> Path:
    """A writable copy of the demo database (its data end today)."""
    path = tmp_path / "alerts.duckdb"
    shutil.copy(app_db, path)
    store.upgrade(path)
    return path


def rule(**changes: object) -> dict[str, object]:
    """A valid rule: programme leads above a threshold, monthly, to Telegram."""
    return {"name": "Лиды", "metric": "leads", "scope_kind": "all", "condition": "above", "threshold": "0",
            "window_periods": 1, "grain": "month", "channels": TELEGRAM, **changes}


COUNTS = {"alert_rules": "select count(*) from alert_rules", "audit_log": "select count(*) from audit_log"}


def count(con, table: str) -> int:
    return con.execute(COUNTS[table]).fetchone()[0]


@pytest.mark.parametrize(("changes", "field_ru", "field_en"), [
    ({"metric": "no_such_metric"}, "«Показатель»", "“Metric”"),
    ({"metric": "roi_band"}, "«Показатель»", "“Metric”"),
    ({"window_periods": -2}, "«Окно»", "“Window”"),
    ({"window_periods": 0}, "«Окно»", "“Window”"),
    ({"window_periods": "1,5"}, "«Окно»", "“Window”"),
    ({"channels": [{"kind": "telegram", "chat_id": "chat 12"}]}, "«Telegram chat id»", "“Telegram chat id”"),
    ({"channels": [{"kind": "webhook", "url": "ftp://x"}]}, "«Адрес вебхука»", "“Webhook URL”"),
    ({"channels": [{"kind": "webhook", "url": "https://"}]}, "«Адрес вебхука»", "“Webhook URL”"),
    ({"channels": [{"kind": "email", "to": "not-an-address"}]}, "«E-mail»", "“E-mail”"),
    ({"channels": []}, "«Каналы»", "“Channels”"),
    ({"scope_kind": "model", "scope_value": "wholesale"}, "«Модель»", "“Model”"),
    ({"scope_kind": "partner", "scope_value": "Нет такого партнёра"}, "«Партнёр»", "“Partner”"),
    ({"threshold": "двенадцать"}, "«Порог»", "“Threshold”"),
    ({"condition": "sideways"}, "«Условие»", "“Condition”"),
    ({"name": "  "}, "«Название»", "“Name”"),
])
def test_a_bad_rule_is_refused_naming_the_field_and_nothing_is_saved(db: Path, changes, field_ru, field_en) -> None:
    with store.connect(db) as con:
        audits = count(con, "audit_log")
        with pytest.raises(UserDataError) as caught:
            alerts.add_rule(con, rule(**changes))
        assert field_ru in caught.value.text("ru") and field_en in caught.value.text("en")
        assert len(caught.value.problems) == 1, caught.value.text("en")
        assert count(con, "alert_rules") == 0 and count(con, "audit_log") == audits


def test_several_problems_are_all_named_and_an_update_saves_nothing_half(db: Path) -> None:
    with store.connect(db) as con:
        rule_id = alerts.add_rule(con, rule())
        with pytest.raises(UserDataError) as caught:
            alerts.update_rule(con, rule_id, {"name": "Новое имя", "window_periods": 0, "metric": "nope"})
        assert len(caught.value.problems) == 2
        assert rule_store.list_alert_rules(con)["name"].tolist() == ["Лиды"]


def test_russian_numbers_a_partner_by_name_and_every_change_audited(db: Path) -> None:
    with store.connect(db) as con:
        pid, name = con.execute("select partner_id, name from partners order by partner_id limit 1").fetchone()
        rule_id = alerts.add_rule(con, rule(threshold="1 234 567", scope_kind="partner", scope_value=name))
        row = rule_store.list_alert_rules(con).iloc[0]
        assert row["threshold"] == 1234567.0 and row["scope_value"] == str(pid)
        alerts.update_rule(con, rule_id, {"threshold": "12,5", "enabled": False})
        assert rule_store.list_alert_rules(con).iloc[0]["threshold"] == 12.5
        assert alerts.delete_rule(con, rule_id) and not alerts.delete_rule(con, rule_id)
        actions = con.execute("select action from audit_log where entity = 'alert_rules' order by event_id").fetchall()
        assert [a for (a,) in actions] == ["add", "update", "delete"]


def evaluate_and_record(db: Path) -> list[alerts.Transition]:
    with store.connect(db) as con:
        moved, seen = alerts.evaluate(con)
        alerts.record(con, moved, seen)
    return moved


def test_an_alert_starts_once_holds_quietly_and_clears_once(db: Path) -> None:
    with store.connect(db) as con:
        rule_id = alerts.add_rule(con, rule(threshold="0"))
    first = evaluate_and_record(db)
    assert [(t.event, t.reading.scope_key) for t in first] == [("start", "all")]
    assert evaluate_and_record(db) == []  # it holds: nothing new
    with store.connect(db) as con:  # the metric now stays under the line (the data moving, as after a sync)
        con.execute("update alert_rules set threshold = 1e12 where rule_id = ?", [rule_id])
    cleared = evaluate_and_record(db)
    assert [t.event for t in cleared] == ["clear"]
    assert evaluate_and_record(db) == []
    with store.connect(db, read_only=True) as con:
        assert con.execute("select event from alert_events order by event_id").fetchall() == [("start",), ("clear",)]
        assert con.execute("select active from alert_state").fetchall() == [(False,)]


def test_maturing_and_incomplete_periods_never_decide(db: Path) -> None:
    with store.connect(db) as con:
        alerts.add_rule(con, rule(name="каждый партнёр", metric="conversion", scope_kind="partner",
                                  condition="below", threshold="2", window_periods=1, grain="week"))
        alerts.add_rule(con, rule(name="вся программа", metric="won_deals", condition="below", threshold="1e9"))
        _, seen = alerts.evaluate(con)
        assert seen
        today = alerts.account_today(con)
        for r, reading in seen:
            if reading.holds is None:
                continue
            f = Filters(reading.period_from, reading.period_to)
            if reading.scope_key.startswith("partner:"):
                f = Filters(f.date_from, f.date_to, partners=(int(reading.scope_key.split(":")[1]),))
            row = grouped(con, f, (r["grain"],), lite=True).iloc[0]
            assert not row["maturing"] and not row["incomplete"], (r["name"], reading)
            assert reading.period_to < today


def test_a_maturing_month_that_would_fire_does_not(db: Path) -> None:
    """The current and the maturing months show few won deals; only settled ones are read."""
    with store.connect(db) as con:
        f = Filters(alerts.account_today(con).replace(day=1, month=1, year=alerts.account_today(con).year - 1),
                    alerts.account_today(con))
        months = grouped(con, f, ("month",), lite=True)
        young = months[months["maturing"] | months["incomplete"]]
        settled = months[~(months["maturing"] | months["incomplete"])]
        assert not young.empty and not settled.empty
        line = (young["won_deals"].max() + settled["won_deals"].min()) / 2 if \
            young["won_deals"].max() < settled["won_deals"].min() else settled["won_deals"].min()
        alerts.add_rule(con, rule(metric="won_deals", condition="below", threshold=float(line)))
        moved, seen = alerts.evaluate(con)
        assert [r.holds for _, r in seen] == [False] and moved == []


def test_partner_fell_asleep_uses_the_lifecycle(db: Path) -> None:
    with store.connect(db) as con:
        alerts.add_rule(con, rule(name="уснул", metric="", condition="fell_asleep", threshold=None))
        moved, seen = alerts.evaluate(con)
        assert seen and all(r.scope_key.startswith("partner:") for _, r in seen)
        assert all(r.detail["fell"] for r in (t.reading for t in moved))  # only this week's fallers start


def test_a_change_rule_compares_two_windows(db: Path) -> None:
    with store.connect(db) as con:
        alerts.add_rule(con, rule(metric="leads", condition="change_pct", threshold="0,0001", window_periods=2))
        _, seen = alerts.evaluate(con)
        (reading,) = [r for _, r in seen]
        assert reading.detail["previous_to"] < reading.period_from
        assert reading.holds == (abs(reading.detail["change"]) > 0.0001)


def test_a_failed_send_stays_pending_until_one_succeeds(db: Path) -> None:
    with store.connect(db) as con:
        alerts.add_rule(con, rule(channels=[*TELEGRAM, {"kind": "webhook", "url": "http://127.0.0.1:9/hook"}]))
    evaluate_and_record(db)
    with store.connect(db) as con:
        todo = alerts.pending(con)
        assert [(d.channel_key, d.attempt) for d in todo] == [("telegram#1", 1), ("webhook#2", 1)]
        alerts.record_send(con, todo[0], False, "Telegram answered 500")
        alerts.record_send(con, todo[1], True)
        again = alerts.pending(con)
        assert [(d.channel_key, d.attempt) for d in again] == [("telegram#1", 2)]
        alerts.record_send(con, again[0], True)
        assert alerts.pending(con) == []
        history = alerts.send_history(con)
        assert history["result"].tolist() == ["ok", "ok", "failed"]
        assert json.loads(rule_store.list_alert_rules(con).iloc[0]["channels"])[0]["chat_id"] == "-1001234567890"


def test_a_client_metric_gets_a_value(db: Path) -> None:
    """CPA and LTV are left out of the engine's lite frames: a rule on them reads full ones."""
    with store.connect(db) as con:
        alerts.add_rule(con, rule(metric="cpa", condition="above", threshold="0"))
        (reading,) = [r for _, r in alerts.evaluate(con)[1]]
        assert reading.value is not None and reading.value > 0 and reading.holds

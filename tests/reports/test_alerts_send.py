"""`python -m reports alerts` against a fake Telegram server, a webhook receiver (real HTTP on 127.0.0.1) and the
local SMTP server: sent once when a condition starts, not again while it holds, once when it clears; a channel's 500
is retried on the next run and the command still exits 0; the webhook's signature verifies; the secrets never reach
a payload, a line of output or a table; --dry-run sends and changes nothing."""

from __future__ import annotations

import email
import hashlib
import hmac
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import smtp
from support.alert_http import Receiver, serve

from data_layer import store
from data_layer.sync import after
from programme import alerts
from reports import alert_send, channels
from reports.__main__ import main

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

TOKEN = "7000001:AAH-very-secret-bot-token"
HOOK_SECRET = "whsec-do-not-leak-42"
CHAT = "-1001234567890"


@pytest.fixture
def db(app_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "alerts.duckdb"
    shutil.copy(app_db, path)
    store.upgrade(path)
    return path


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Receiver, Receiver, smtp.Inbox]]:
    """Telegram, webhook and SMTP on 127.0.0.1, wired in through the environment like a real deployment."""
    ctl, inbox = smtp.start(auth=False)
    with serve() as telegram, serve() as hook:
        for var, value in {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": telegram.url,
                           "ALERTS_WEBHOOK_SECRET": HOOK_SECRET, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(ctl.port),
                           "SMTP_FROM": "roi@example.ru", "SMTP_STARTTLS": "false",
                           "PARTNER_ROI_DASHBOARD_URL": "https://roi.example.ru"}.items():
            monkeypatch.setenv(var, value)
        yield telegram, hook, inbox
    ctl.stop()


def add_rule(db: Path, hook: Receiver, threshold: str = "0") -> int:
    with store.connect(db) as con:
        return alerts.add_rule(con, {
            "name": "Лиды программы", "metric": "leads", "scope_kind": "all", "condition": "above",
            "threshold": threshold, "window_periods": 1, "grain": "month",
            "channels": [{"kind": "telegram", "chat_id": CHAT}, {"kind": "webhook", "url": hook.url + "/hook"},
                         {"kind": "email", "to": "team@example.ru"}]})


def cli(*args: str) -> int:
    return main(["alerts", *args])


def test_sent_once_quiet_while_it_holds_once_on_clearing(db: Path, servers, capsys) -> None:
    telegram, hook, inbox = servers
    rule_id = add_rule(db, hook)
    assert cli("--db", str(db)) == 0
    assert (len(telegram.requests), len(hook.requests), len(inbox.messages)) == (1, 1, 1)
    sent = telegram.requests[0].json()
    assert sent["chat_id"] == CHAT and "Лиды программы" in sent["text"] and "https://roi.example.ru/trends?" in sent["text"]
    assert telegram.requests[0].path == f"/bot{TOKEN}/sendMessage"
    assert cli("--db", str(db)) == 0  # holds: nothing new
    assert (len(telegram.requests), len(hook.requests), len(inbox.messages)) == (1, 1, 1)
    with store.connect(db) as con:  # the data move under the line
        con.execute("update alert_rules set threshold = 1e12 where rule_id = ?", [rule_id])
    assert cli("--db", str(db)) == 0
    assert (len(telegram.requests), len(hook.requests), len(inbox.messages)) == (2, 2, 2)
    assert [r.json()["event"] for r in hook.requests] == ["start", "clear"]
    assert telegram.requests[1].json()["text"].startswith("Снято")
    out = capsys.readouterr().out
    assert out.count("отправлено") >= 6 and "ошибок 0" in out


def test_a_500_is_retried_on_the_next_run_and_the_command_exits_0(db: Path, servers, capsys) -> None:
    telegram, hook, inbox = servers
    add_rule(db, hook)
    telegram.status = 500
    assert cli("--db", str(db), "--lang", "en") == 0
    assert "Telegram answered 500" in capsys.readouterr().out
    assert (len(hook.requests), len(inbox.messages)) == (1, 1)
    telegram.status = 200
    assert cli("--db", str(db)) == 0
    assert len(telegram.requests) == 2 and (len(hook.requests), len(inbox.messages)) == (1, 1)  # only the failed one
    with store.connect(db, read_only=True) as con:
        rows = con.execute("select channel, result, attempt from alert_sends where channel like 'telegram%' "
                           "order by send_id").fetchall()
    assert rows == [("telegram#1", "failed", 1), ("telegram#1", "ok", 2)]
    assert cli("--db", str(db)) == 0 and len(telegram.requests) == 2


def test_the_sync_step_runs_the_alerts_and_a_failure_does_not_fail_it(db: Path, servers) -> None:
    telegram, hook, _ = servers
    add_rule(db, hook)
    telegram.status = 500
    assert ("reports", "alerts") in after.STEPS
    (result,) = after.run_steps(db, steps=(("reports", "alerts"),))
    assert result.ok and "1" in result.line, result
    assert len(telegram.requests) == 1 and len(hook.requests) == 1


def test_the_webhook_signature_verifies(db: Path, servers) -> None:
    _, hook, _ = servers
    add_rule(db, hook)
    alert_send.run(db)
    (got,) = hook.requests
    header = got.headers[channels.SIGNATURE_HEADER.lower()]
    expected = "sha256=" + hmac.new(HOOK_SECRET.encode(), got.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(header, expected)
    body = got.json()
    assert body["rule"]["metric"] == "leads" and body["scope"]["kind"] == "all" and body["value"] > 0
    assert body["url"].startswith("https://roi.example.ru/trends?period=custom&from=")
    assert body["period"]["from"] and body["period"]["to"]


def test_secrets_never_reach_a_payload_the_output_or_a_table(db: Path, servers, capsys) -> None:
    telegram, hook, inbox = servers
    add_rule(db, hook)
    telegram.status = 401
    cli("--db", str(db))
    cli("--db", str(db), "--dry-run")
    out = capsys.readouterr()
    texts = [out.out, out.err, *(r.body.decode() for r in hook.requests),
             *(r.body.decode() for r in telegram.requests), *(str(m) for m in inbox.messages),
             *(str(dict(r.headers)) for r in hook.requests)]
    with store.connect(db, read_only=True) as con:
        for table in ("alert_rules", "alert_state", "alert_events", "alert_sends", "audit_log", "settings"):
            texts.append(str(con.execute(store.sql_with_names("select * from {t}", t=table)).fetchall()))
    for secret in (TOKEN, HOOK_SECRET, TOKEN.split(":")[1]):
        assert not [t for t in texts if secret in t], secret
    subject = str(email.header.make_header(email.header.decode_header(inbox.messages[0]["Subject"])))
    assert subject == "Оповещение: Лиды программы"


def test_dry_run_prints_what_would_be_sent_and_changes_nothing(db: Path, servers, capsys) -> None:
    telegram, hook, inbox = servers
    add_rule(db, hook)
    with store.connect(db, read_only=True) as con:
        before = con.execute("select (select count(*) from alert_events), (select count(*) from alert_state), "
                             "(select count(*) from alert_sends)").fetchone()
    assert cli("--db", str(db), "--dry-run", "--lang", "en") == 0
    out = capsys.readouterr().out.splitlines()
    assert len([line for line in out if "would be sent" in line]) == 3 and "nothing changed" in out[-1]
    assert not telegram.requests and not hook.requests and not inbox.messages
    with store.connect(db, read_only=True) as con:
        assert con.execute("select (select count(*) from alert_events), (select count(*) from alert_state), "
                           "(select count(*) from alert_sends)").fetchone() == before


def test_a_broken_database_exits_1(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "broken.duckdb"
    bad.write_bytes(b"not a database at all" * 100)
    assert cli("--db", str(bad)) == 1
    assert capsys.readouterr().err.strip()


def test_a_test_send_reaches_the_channel(db: Path, servers) -> None:
    telegram, hook, inbox = servers
    assert alert_send.test_send({"kind": "telegram", "chat_id": CHAT}) is None
    assert alert_send.test_send({"kind": "webhook", "url": hook.url}, "en") is None
    assert alert_send.test_send({"kind": "email", "to": ["a@example.ru"]}) is None
    assert len(telegram.requests) == len(hook.requests) == len(inbox.messages) == 1
    telegram.status = 502
    assert "502" in alert_send.test_send({"kind": "telegram", "chat_id": CHAT}, "en")
    with store.connect(db, read_only=True) as con:
        shown = alert_send.configured(con)
    assert shown["telegram_token"] is True and TOKEN not in str(shown) and HOOK_SECRET not in str(shown)


def test_two_runs_at_once_send_an_event_once(db: Path, servers) -> None:
    telegram, hook, inbox = servers
    add_rule(db, hook)
    runs = [threading.Thread(target=alert_send.run, args=(db,)) for _ in range(2)]
    for t in runs:
        t.start()
    for t in runs:
        t.join()
    assert (len(telegram.requests), len(hook.requests), len(inbox.messages)) == (1, 1, 1)

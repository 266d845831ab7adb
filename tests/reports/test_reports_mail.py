"""SMTP delivery against a local aiosmtpd server: plain, with login, refused connection, bad password."""

from __future__ import annotations

import email
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from support.smtp import PASSWORD, USER, Inbox, free_port, start

from reports import mailer

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Inbox]]:
    ctl, inbox = start(auth=False)
    yield ctl, inbox
    ctl.stop()


@pytest.fixture
def smtp_auth_server() -> Iterator[tuple[Controller, Inbox]]:
    ctl, inbox = start(auth=True)
    yield ctl, inbox
    ctl.stop()


def settings_for(port: int, user: str = "", password: str = "") -> mailer.SmtpSettings:
    """Settings for the local server, without STARTTLS."""
    return mailer.SmtpSettings(host="127.0.0.1", port=port, user=user, password=password,
                               sender="Partner ROI <roi@example.ru>", starttls=False)


def attachment(tmp_path: Path) -> Path:
    """A small file to attach."""
    path = tmp_path / "отчёт.pdf"
    path.write_bytes(b"%PDF-1.4 test")
    return path


def test_send_without_auth(smtp_server, tmp_path: Path) -> None:
    ctl, inbox = smtp_server
    mailer.send(settings_for(ctl.port), ["a@example.ru", "b@example.ru"], "Недельный отчёт", "Тело письма",
                [attachment(tmp_path)])
    assert inbox.envelopes == [["a@example.ru", "b@example.ru"]]
    msg = inbox.messages[0]
    assert str(email.header.make_header(email.header.decode_header(msg["Subject"]))) == "Недельный отчёт"
    parts = [p for p in msg.walk() if p.get_filename()]
    assert parts[0].get_filename() == "отчёт.pdf" and parts[0].get_payload(decode=True) == b"%PDF-1.4 test"


def test_send_with_auth(smtp_auth_server, tmp_path: Path) -> None:
    ctl, inbox = smtp_auth_server
    mailer.send(settings_for(ctl.port, USER, PASSWORD), ["team@example.ru"], "Отчёт", "…", [attachment(tmp_path)])
    assert len(inbox.messages) == 1


def test_wrong_password_is_one_sentence_without_password(smtp_auth_server) -> None:
    ctl, _ = smtp_auth_server
    with pytest.raises(mailer.MailError) as err:
        mailer.send(settings_for(ctl.port, USER, "wrong-secret-1"), ["team@example.ru"], "s", "b", lang="en")
    text = str(err.value)
    assert "SMTP_PASSWORD" in text and "wrong-secret-1" not in text and text.count(". ") == 0


def test_auth_required_but_no_user(smtp_auth_server) -> None:
    ctl, _ = smtp_auth_server
    with pytest.raises(mailer.MailError):
        mailer.send(settings_for(ctl.port), ["team@example.ru"], "s", "b")


def test_connection_refused() -> None:
    with pytest.raises(mailer.MailError, match="SMTP_PORT"):
        mailer.send(settings_for(free_port()), ["team@example.ru"], "s", "b", lang="en")


def test_starttls_missing_is_reported(smtp_server) -> None:
    ctl, _ = smtp_server
    settings = mailer.SmtpSettings(host="127.0.0.1", port=ctl.port, sender="roi@example.ru", starttls=True)
    with pytest.raises(mailer.MailError, match="STARTTLS"):
        mailer.send(settings, ["team@example.ru"], "s", "b", lang="en")


def test_settings_env_wins_over_secrets(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[smtp]\nhost = "toml.example.ru"\nport = 2525\nuser = "u"\npassword = "p-toml"\n'
                       'from = "toml@example.ru"\nstarttls = false\n', encoding="utf-8")
    got = mailer.load_settings({"SMTP_HOST": "env.example.ru"}, secrets)
    assert (got.host, got.port, got.user, got.password, got.sender, got.starttls) == \
        ("env.example.ru", 2525, "u", "p-toml", "toml@example.ru", False)
    assert "p-toml" not in repr(got)


def test_settings_missing_host(tmp_path: Path) -> None:
    with pytest.raises(mailer.MailError, match="SMTP_HOST"):
        mailer.load_settings({}, tmp_path / "none.toml", lang="en")


def test_settings_bad_port(tmp_path: Path) -> None:
    with pytest.raises(mailer.MailError, match="587"):
        mailer.load_settings({"SMTP_HOST": "h", "SMTP_PORT": "abc", "SMTP_FROM": "a@b"}, tmp_path / "x.toml")

"""Send report files by SMTP. Settings: environment (SMTP_*) over .streamlit/secrets.toml [smtp].

Errors come back as ``MailError`` whose message is one sentence saying what failed and what to check;
the password is never part of a message, a log line or ``repr``.
"""

from __future__ import annotations

import mimetypes
import os
import smtplib
import ssl
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from reports.safe import SECRETS_FILE, redact

TIMEOUT_SECONDS = 30.0
KEYS = ("host", "port", "user", "password", "from", "starttls")
TRUE = ("1", "true", "yes", "on", "да")

TEXT = {
    "ru": {
        "no_host": "Не задан SMTP-сервер: укажите SMTP_HOST (или [smtp] host в .streamlit/secrets.toml).",
        "no_from": "Не задан адрес отправителя: укажите SMTP_FROM (или SMTP_USER).",
        "bad_port": "SMTP_PORT «{port}» — не число: укажите номер порта, например 587.",
        "no_to": "Не указан ни один адрес получателя.",
        "refused": "SMTP-сервер {host}:{port} не принимает соединения: проверьте SMTP_HOST и SMTP_PORT.",
        "unreachable": "Не удалось связаться с SMTP-сервером {host}:{port} ({reason}): проверьте адрес и сеть.",
        "timeout": "SMTP-сервер {host}:{port} не ответил за {seconds:.0f} с: проверьте адрес, порт и сеть.",
        "auth": "SMTP-сервер отклонил вход пользователя {user}: проверьте SMTP_USER и SMTP_PASSWORD.",
        "no_auth": "SMTP-сервер не поддерживает вход по паролю: уберите SMTP_USER или включите SMTP_STARTTLS.",
        "tls": "Не удалось включить шифрование (STARTTLS) с {host}:{port}: проверьте SMTP_STARTTLS и порт.",
        "recipients": "SMTP-сервер отклонил адреса получателей ({to}): проверьте адреса.",
        "sender": "SMTP-сервер отклонил адрес отправителя {sender}: проверьте SMTP_FROM.",
        "other": "Письмо не отправлено — SMTP-сервер {host}:{port} ответил ошибкой: {reason}.",
    },
    "en": {
        "no_host": "No SMTP server is set: set SMTP_HOST (or [smtp] host in .streamlit/secrets.toml).",
        "no_from": "No sender address is set: set SMTP_FROM (or SMTP_USER).",
        "bad_port": "SMTP_PORT \"{port}\" is not a number: set a port number such as 587.",
        "no_to": "No recipient address was given.",
        "refused": "The SMTP server {host}:{port} refused the connection: check SMTP_HOST and SMTP_PORT.",
        "unreachable": "Could not reach the SMTP server {host}:{port} ({reason}): check the address and the network.",
        "timeout": "The SMTP server {host}:{port} did not answer within {seconds:.0f} s: check address, port and network.",
        "auth": "The SMTP server rejected the login of user {user}: check SMTP_USER and SMTP_PASSWORD.",
        "no_auth": "The SMTP server does not offer password login: unset SMTP_USER or turn on SMTP_STARTTLS.",
        "tls": "Could not start encryption (STARTTLS) with {host}:{port}: check SMTP_STARTTLS and the port.",
        "recipients": "The SMTP server refused the recipient addresses ({to}): check them.",
        "sender": "The SMTP server refused the sender address {sender}: check SMTP_FROM.",
        "other": "The e-mail was not sent — the SMTP server {host}:{port} answered with an error: {reason}.",
    },
}


class MailError(RuntimeError):
    """Sending failed; the message is one sentence for the user (never holds the password)."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send; `password` is hidden from repr."""

    host: str
    port: int = 587
    user: str = ""
    password: str = field(default="", repr=False)
    sender: str = ""
    starttls: bool = True

    @property
    def implicit_tls(self) -> bool:
        """Port 465 speaks TLS from the first byte (SMTPS) instead of upgrading with STARTTLS."""
        return self.port == 465


def _say(lang: str, key: str, **kwargs: object) -> str:
    return TEXT["en" if lang == "en" else "ru"][key].format(**kwargs)


def _from_secrets(path: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    section = data.get("smtp", {})
    return {k.lower(): str(v) for k, v in section.items()} if isinstance(section, dict) else {}


def raw_settings(env: Mapping[str, str] | None = None, secrets_file: Path | None = None) -> dict[str, str]:
    """SMTP values by key (host, port, user, password, from, starttls); the environment wins."""
    env = os.environ if env is None else env
    values = _from_secrets(secrets_file or SECRETS_FILE)
    for key in KEYS:
        value = env.get(f"SMTP_{key.upper()}")
        if value is not None and value != "":
            values[key] = value
    return values


def load_settings(env: Mapping[str, str] | None = None, secrets_file: Path | None = None,
                  lang: str = "ru") -> SmtpSettings:
    """Settings from the environment and secrets.toml, or MailError saying what is missing."""
    values = raw_settings(env, secrets_file)
    host = values.get("host", "").strip()
    if not host:
        raise MailError(_say(lang, "no_host"))
    starttls = values.get("starttls", "true").strip().lower() in TRUE
    port_text = values.get("port", "").strip() or "587"
    try:
        port = int(port_text)
    except ValueError:
        raise MailError(_say(lang, "bad_port", port=port_text)) from None
    user = values.get("user", "").strip()
    sender = values.get("from", "").strip() or user
    if not sender:
        raise MailError(_say(lang, "no_from"))
    return SmtpSettings(host=host, port=port, user=user, password=values.get("password", ""),
                        sender=sender, starttls=starttls)


def build_message(sender: str, to: Sequence[str], subject: str, body: str,
                  attachments: Sequence[Path]) -> EmailMessage:
    """A plain-text e-mail with the files attached."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, ", ".join(to), subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(body)
    for path in attachments:
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return msg


def _connect(settings: SmtpSettings, timeout: float) -> smtplib.SMTP:
    if settings.implicit_tls:
        return smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout,
                                context=ssl.create_default_context())
    return smtplib.SMTP(settings.host, settings.port, timeout=timeout)


def _deliver(settings: SmtpSettings, msg: EmailMessage, to: Sequence[str], timeout: float,
             lang: str) -> None:
    where = {"host": settings.host, "port": settings.port}
    with _connect(settings, timeout) as smtp:
        smtp.ehlo()
        if settings.starttls and not settings.implicit_tls:
            if not smtp.has_extn("starttls"):
                raise MailError(_say(lang, "tls", **where))
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.user:
            smtp.login(settings.user, settings.password)
        smtp.send_message(msg, from_addr=settings.sender, to_addrs=list(to))


def _explain(exc: BaseException, settings: SmtpSettings, to: Sequence[str], timeout: float, lang: str) -> str:
    where = {"host": settings.host, "port": settings.port}
    if isinstance(exc, ConnectionRefusedError):
        return _say(lang, "refused", **where)
    if isinstance(exc, TimeoutError):
        return _say(lang, "timeout", seconds=timeout, **where)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _say(lang, "auth", user=settings.user)
    if isinstance(exc, smtplib.SMTPNotSupportedError) or (
            isinstance(exc, smtplib.SMTPException) and "AUTH" in str(exc) and "not supported" in str(exc)):
        return _say(lang, "no_auth")
    if isinstance(exc, ssl.SSLError):
        return _say(lang, "tls", **where)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _say(lang, "recipients", to=", ".join(to))
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _say(lang, "sender", sender=settings.sender)
    if isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException):
        return _say(lang, "unreachable", reason=exc.strerror or type(exc).__name__, **where)
    reason = str(exc).strip().rstrip(".") or type(exc).__name__
    return _say(lang, "other", reason=reason, **where)


def send(settings: SmtpSettings, to: Sequence[str], subject: str, body: str,
         attachments: Sequence[Path] = (), timeout: float = TIMEOUT_SECONDS, lang: str = "ru") -> None:
    """Send one e-mail with attachments to all addresses, or raise MailError with a one-sentence reason."""
    to = [a.strip() for a in to if a and a.strip()]
    if not to:
        raise MailError(_say(lang, "no_to"))
    msg = build_message(settings.sender, to, subject, body, attachments)
    try:
        _deliver(settings, msg, to, timeout, lang)
    except MailError:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        secrets = [settings.password] if len(settings.password) >= 4 else []
        raise MailError(redact(_explain(exc, settings, to, timeout, lang), secrets)) from None

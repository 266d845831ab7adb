"""Where an alert goes: e-mail (reports.mailer's SMTP settings), Telegram (Bot API sendMessage) and a webhook (POST
JSON, optionally signed with HMAC-SHA256).

Secrets are read like the SMTP password: the environment over ``.streamlit/secrets.toml`` — TELEGRAM_BOT_TOKEN
(``[telegram] bot_token``) and ALERTS_WEBHOOK_SECRET (``[alerts] webhook_secret``); never from the database, never
in a payload, a message or a log line (every error sentence goes through ``reports.safe.redact``). Not secret:
TELEGRAM_API_BASE (``[telegram] api_base``, default https://api.telegram.org; the tests point it at a local fake)
and PARTNER_ROI_DASHBOARD_URL (``[alerts] dashboard_url``: the base of the links in the messages).
Each sender returns None when delivered, else one short sentence; none raises.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tomllib
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from presentation.links import DEFAULT_BASE_URL
from reports import mailer
from reports.safe import SECRETS_FILE, redact

TIMEOUT_SECONDS = 15.0
TELEGRAM_API = "https://api.telegram.org"
SIGNATURE_HEADER = "X-PartnerROI-Signature"
USER_AGENT = "PartnerROI-alerts/1"

TEXT = {
    "ru": {
        "no_token": "Не задан токен Telegram-бота: укажите TELEGRAM_BOT_TOKEN (или [telegram] bot_token в "
                    ".streamlit/secrets.toml).",
        "status": "{what} ответил {status}: проверьте {check}.",
        "unreachable": "{what} недоступен ({reason}): проверьте адрес и сеть.",
        "telegram": "Telegram", "webhook": "Вебхук", "check.telegram": "токен бота и chat id",
        "check.webhook": "адрес вебхука",
    },
    "en": {
        "no_token": "No Telegram bot token is set: set TELEGRAM_BOT_TOKEN (or [telegram] bot_token in "
                    ".streamlit/secrets.toml).",
        "status": "{what} answered {status}: check {check}.",
        "unreachable": "{what} could not be reached ({reason}): check the address and the network.",
        "telegram": "Telegram", "webhook": "The webhook", "check.telegram": "the bot token and the chat id",
        "check.webhook": "the webhook address",
    },
}


class Unreachable(str):
    """A failure sentence that says the server could not be reached at all (no answer, refused, timed out): the
    run postpones the channel's other sends instead of waiting on each."""

    __slots__ = ()


def _say(lang: str, key: str, **kwargs: object) -> str:
    return TEXT["en" if lang == "en" else "ru"][key].format(**kwargs)


@dataclass(frozen=True)
class ChannelSettings:
    """What the senders need besides a rule's channel; the secrets are hidden from repr."""

    telegram_token: str = field(default="", repr=False)
    telegram_api: str = TELEGRAM_API
    webhook_secret: str = field(default="", repr=False)
    dashboard_url: str = DEFAULT_BASE_URL
    env: Mapping[str, str] | None = field(default=None, repr=False)  # SMTP_* for the e-mails (None: os.environ)
    secrets_file: Path | None = None

    def secrets(self) -> list[str]:
        """The secret values to keep out of every sentence."""
        return [s for s in (self.telegram_token, self.webhook_secret) if len(s) >= 4]


def _section(data: dict[str, Any], name: str) -> dict[str, str]:
    section = data.get(name, {})
    return {k.lower(): str(v) for k, v in section.items()} if isinstance(section, dict) else {}


def load_settings(env: Mapping[str, str] | None = None, secrets_file: Path | None = None,
                  stored: Mapping[str, Any] | None = None) -> ChannelSettings:
    """Channel settings: the environment, then secrets.toml, then (for the two addresses) the `alerts` setting."""
    env = os.environ if env is None else env
    try:
        data = tomllib.loads((secrets_file or SECRETS_FILE).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        data = {}
    telegram, alerts, stored = _section(data, "telegram"), _section(data, "alerts"), dict(stored or {})

    def pick(var: str, section: dict[str, str], key: str, default: str = "") -> str:
        return (env.get(var) or section.get(key) or str(stored.get(key) or "") or default).strip()

    return ChannelSettings(
        telegram_token=pick("TELEGRAM_BOT_TOKEN", telegram, "bot_token"),
        telegram_api=pick("TELEGRAM_API_BASE", telegram, "api_base", TELEGRAM_API).rstrip("/"),
        webhook_secret=(env.get("ALERTS_WEBHOOK_SECRET") or alerts.get("webhook_secret") or "").strip(),
        dashboard_url=pick("PARTNER_ROI_DASHBOARD_URL", alerts, "dashboard_url", DEFAULT_BASE_URL),
        env=env, secrets_file=secrets_file)


def signature(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of the body under the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(url: str, body: bytes, headers: dict[str, str], what: str, lang: str) -> str | None:
    """POST the body; None on a 2xx answer, else one sentence (which never holds the URL: it may carry a token)."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8",
                                              "User-Agent": USER_AGENT, **headers})
    name = _say(lang, what)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # the rule checked: http(s) only
            answer.read()
            return None
    except urllib.error.HTTPError as exc:
        return _say(lang, "status", what=name, status=exc.code, check=_say(lang, f"check.{what}"))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        text = reason if isinstance(reason, str) else getattr(reason, "strerror", None) or type(reason).__name__
        return Unreachable(_say(lang, "unreachable", what=name, reason=text))


def send_telegram(settings: ChannelSettings, chat_id: str, text: str, lang: str = "ru") -> str | None:
    """sendMessage to a chat: None when Telegram accepted it, else a sentence."""
    if not settings.telegram_token:
        return _say(lang, "no_token")
    body = json.dumps({"chat_id": chat_id, "text": text, "disable_web_page_preview": True},
                      ensure_ascii=False).encode()
    url = f"{settings.telegram_api}/bot{settings.telegram_token}/sendMessage"
    return _clean(settings, _post(url, body, {}, "telegram", lang))


def send_webhook(settings: ChannelSettings, url: str, payload: Mapping[str, Any], lang: str = "ru") -> str | None:
    """POST the payload as JSON, signed when a webhook secret is set: None on a 2xx answer, else a sentence."""
    body = json.dumps(payload, ensure_ascii=False, default=str).encode()
    headers = {SIGNATURE_HEADER: signature(settings.webhook_secret, body)} if settings.webhook_secret else {}
    return _clean(settings, _post(url, body, headers, "webhook", lang))


def send_email(settings: ChannelSettings, to: list[str], subject: str, body: str, lang: str = "ru") -> str | None:
    """An e-mail through the SMTP settings (reports.mailer): None when sent, else its sentence."""
    try:
        smtp = mailer.load_settings(settings.env, settings.secrets_file, lang)
        mailer.send(smtp, to, subject, body, lang=lang)
    except mailer.MailError as exc:
        return _clean(settings, str(exc))
    return None


def _clean(settings: ChannelSettings, sentence: str | None) -> str | None:
    """The sentence without any secret this process knows."""
    if sentence is None:
        return None
    clean = redact(redact(sentence, settings.secrets()))
    return Unreachable(clean) if isinstance(sentence, Unreachable) else clean

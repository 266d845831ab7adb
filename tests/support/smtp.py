"""A local SMTP server (aiosmtpd on 127.0.0.1) that keeps what it receives, optionally demanding a login."""

from __future__ import annotations

import email
import socket
from dataclasses import dataclass, field
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "reports@example.ru", "pa55-w0rd-xyz"


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Inbox:
    """aiosmtpd handler that keeps every received message."""

    messages: list[Message] = field(default_factory=list)
    envelopes: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        self.envelopes.append(list(envelope.rcpt_tos))
        return "250 OK"


def check_login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    """Accept only USER / PASSWORD."""
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() \
        and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


def start(auth: bool) -> tuple[Controller, Inbox]:
    """A running local SMTP server (optionally demanding a login)."""
    inbox = Inbox()
    kwargs = {"authenticator": check_login, "auth_required": True, "auth_require_tls": False} if auth else {}
    ctl = Controller(inbox, hostname="127.0.0.1", port=free_port(), **kwargs)
    ctl.start()
    return ctl, inbox

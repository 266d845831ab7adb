"""The Settings page's connection test: ask amoCRM for the account."""

from __future__ import annotations

from data_layer import normalise
from data_layer.client import open_client
from data_layer.config import AmoConfig
from data_layer.errors import AmoError


def test_connection(config: AmoConfig) -> tuple[bool, str, str | None]:
    """Ask amoCRM for the account: (ok, sentence, account name)."""
    try:
        with open_client(config) as client:
            account = client.get("/api/v4/account") or {}
    except AmoError as exc:
        return False, str(exc), None
    name = normalise.as_text(account.get("name"))
    return True, f"Connected to amoCRM account «{name or '?'}».", name


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite its name

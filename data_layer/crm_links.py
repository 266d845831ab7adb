"""Links to amoCRM cards: the one rule for a lead's address, and the account address it hangs off.

A lead's card is ``<base>/leads/detail/<id>``. The base is the connected account's address, resolved as
``data_layer.config`` resolves it (environment > secrets.toml > what the Settings page saved); a database that was
not synced from amoCRM (the demo) has no base, so its lists show lead ids without links.
"""

from __future__ import annotations

import json
import os

import duckdb

from data_layer import config, store
from data_layer.errors import ConfigError


def lead_url(base: str | None, lead_id: int) -> str | None:
    """The amoCRM card of a lead, or None without an account address (the demo)."""
    return f"{base.rstrip('/')}/leads/detail/{int(lead_id)}" if base else None


def _saved_base(con: duckdb.DuckDBPyConnection) -> str | None:
    """The base URL the Settings page saved in this database (None when absent or unreadable)."""
    row = con.execute("select value from settings where key = ?", [config.SETTINGS_KEY]).fetchone()
    try:
        value = json.loads(row[0]) if row else None
    except (TypeError, ValueError):
        return None
    return value.get("base_url") if isinstance(value, dict) else None


def account_base(con: duckdb.DuckDBPyConnection) -> str | None:
    """The amoCRM address lead links point to; None unless the database was synced from a real account."""
    if store.get_meta(con, "source") != "amocrm":
        return None
    # the same precedence as config.load_config, without opening the file again (con is the caller's)
    given = os.environ.get(config.ENV_VARS["base_url"]) or config.read_secrets(config.secrets_file()).get("base_url")
    try:
        return config.normalise_base_url(given or _saved_base(con))
    except ConfigError:  # a malformed address links nowhere rather than somewhere wrong
        return None

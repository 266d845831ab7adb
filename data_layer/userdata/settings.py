"""Settings (JSON values by key) and the margin setting built on them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import duckdb

from data_layer.userdata.errors import Problem, UserDataError, fail
from data_layer.userdata.parse import MODELS, finite_number, is_blank
from data_layer.userdata.transaction import audit


def get_setting(con: duckdb.DuckDBPyConnection, key: str, default: Any = None) -> Any:
    """A setting's JSON value decoded, or default."""
    row = con.execute("select value from settings where key = ?", [key]).fetchone()
    return json.loads(row[0]) if row else default


def set_setting(con: duckdb.DuckDBPyConnection, key: str, value: Any) -> None:
    """Store a setting as JSON (None deletes it)."""
    if is_blank(key):
        raise fail("setting.key")
    audit(con, "set", "settings", key, get_setting(con, key), value)
    if value is None:
        con.execute("delete from settings where key = ?", [key])
        return
    con.execute(
        "insert into settings (key, value) values (?, ?) "
        "on conflict (key) do update set value = excluded.value, updated_at = get_current_timestamp()",
        [key, json.dumps(value, ensure_ascii=False)],
    )


def check_margin(margin: Mapping[str, Any] | None) -> dict[str, Any]:
    """A validated margin setting {"account": fraction or None, "models": {model: fraction}}."""
    margin = margin or {}
    problems: list[Problem] = []

    def fraction(value: object, where: str) -> float | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        number = finite_number(value)
        if number is None or not 0 <= number <= 1:
            problems.append(Problem("margin.bad", {"value": value, "where": where}))
            return None
        return number

    account = fraction(margin.get("account"), "account")
    models: dict[str, float] = {}
    for model, value in (margin.get("models") or {}).items():
        if model not in MODELS:
            problems.append(Problem("model.unknown", {"model": model}))
            continue
        number = fraction(value, model)
        if number is not None:
            models[model] = number
    if problems:
        raise UserDataError(problems)
    return {"account": account, "models": models}


def get_margin(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The margin setting (account-wide and per model); empty means income = revenue."""
    return check_margin(get_setting(con, "margin"))


def set_margin(con: duckdb.DuckDBPyConnection, margin: Mapping[str, Any] | None) -> None:
    """Validate and store the margin setting (None or all-empty clears it)."""
    clean = check_margin(margin)
    set_setting(con, "margin", clean if clean["account"] is not None or clean["models"] else None)

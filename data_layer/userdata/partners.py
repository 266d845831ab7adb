"""Partners: the list, finding one by name or alias, adding, changing and saving an edited partners table."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from data_layer import store
from data_layer.userdata.errors import Problem, UserDataError, collect, fail
from data_layer.userdata.parse import MAX_NAME, is_blank, norm_name, nulls_as_none, to_date, to_model
from data_layer.userdata.transaction import atomic, audit

PARTNER_COLUMNS = ["partner_id", "name", "model", "model_source", "aliases", "manager", "start_date", "active"]


def list_partners(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """All partners by name: partner_id, name, model, model_source, aliases (list), manager, start_date, active."""
    df = con.execute(
        "select partner_id, name, model, model_source, aliases, manager, start_date, active "
        "from partners order by lower(name), partner_id"
    ).df()
    df["aliases"] = df["aliases"].map(lambda a: [] if a is None or is_blank(a) else [str(x) for x in a])
    df["start_date"] = df["start_date"].map(to_date).astype(object)
    return nulls_as_none(df, ("model", "model_source", "manager"))


def partner_keys(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Normalised name or alias -> partner_id (names win over aliases)."""
    keys: dict[str, int] = {}
    for partner_id, _name, aliases in con.execute(
            "select partner_id, name, aliases from partners order by partner_id").fetchall():
        for alias in aliases or []:
            keys.setdefault(norm_name(alias), partner_id)
    for partner_id, name, _ in con.execute(
            "select partner_id, name, aliases from partners order by partner_id desc").fetchall():
        keys[norm_name(name)] = partner_id
    return keys


def find_partner(con: duckdb.DuckDBPyConnection, name: str) -> int | None:
    """partner_id by name or alias (case-insensitive, ё = е), or None."""
    return partner_keys(con).get(norm_name(name)) if not is_blank(name) else None


def partner_names(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    """partner_id -> name of every partner."""
    return dict(con.execute("select partner_id, name from partners").fetchall())


def resolve_partner(row: Mapping[str, Any], names: dict[int, str], keys: dict[str, int],
                    line: int) -> int:
    """A row's partner_id from its partner_id, else its partner name or alias (raise when unknown)."""
    pid = row.get("partner_id")
    if not is_blank(pid):
        try:
            pid = int(pid)
        except (TypeError, ValueError):
            raise fail("partner.unknown", line, partner=pid) from None
        if pid not in names:
            raise fail("partner.unknown_id", line, partner_id=pid)
        return pid
    name = row.get("partner")
    if is_blank(name):
        raise fail("partner.name_empty", line)
    found = keys.get(norm_name(str(name)))
    if found is None:
        raise fail("partner.unknown", line, partner=name)
    return found


def _bool(value: object, line: int | None) -> bool:
    if isinstance(value, bool):
        return value
    if is_blank(value):
        return True
    if str(value).strip().lower() in ("1", "true", "yes", "да"):
        return True
    if str(value).strip().lower() in ("0", "false", "no", "нет"):
        return False
    raise fail("partner.bad_active", line)


def _aliases(value: object) -> list[str]:
    """Aliases from a list or a comma / newline separated string; blanks dropped, order kept, no repeats."""
    if value is None or (not isinstance(value, list | tuple) and is_blank(value)):
        return []
    items = value if isinstance(value, list | tuple) else re.split(r"[,\n;]", str(value))
    out: list[str] = []
    for item in items:
        text = str(item).strip()
        if text and norm_name(text) not in {norm_name(a) for a in out}:
            out.append(text)
    return out


def _check_name(name: object, line: int | None = None) -> str:
    if is_blank(name):
        raise fail("partner.name_empty", line)
    text = str(name).strip()
    if len(text) > MAX_NAME:
        raise fail("partner.name_long", line, name=text[:40] + "…", limit=MAX_NAME)
    return text


def _taken_keys(con: duckdb.DuckDBPyConnection, exclude: int | None) -> dict[str, str]:
    """Normalised names and aliases of all other partners -> their name."""
    taken: dict[str, str] = {}
    for partner_id, name, aliases in con.execute("select partner_id, name, aliases from partners").fetchall():
        if partner_id != exclude:
            for key in [name, *(aliases or [])]:
                taken[norm_name(key)] = name
    return taken


def _check_keys(names: list[str], taken: dict[str, str], line: int | None) -> list[Problem]:
    return [Problem("partner.name_taken", {"name": n, "other": taken[norm_name(n)]}, line)
            for n in names if norm_name(n) in taken]


def _check_new_partner(con: duckdb.DuckDBPyConnection, values: Mapping[str, Any],
                       line: int | None = None) -> tuple[dict[str, Any], list[Problem]]:
    """Validated columns of a partner to add, and the problems found."""
    problems: list[Problem] = []
    clean = collect(problems, _check_name, values.get("name"), line)
    model = collect(problems, to_model, values.get("model"), line)
    start = collect(problems, to_date, values.get("start_date"), line)
    active = collect(problems, _bool, values.get("active"), line)
    aliases = _aliases(values.get("aliases"))
    manager = values.get("manager")
    if clean:
        problems += _check_keys([clean, *aliases], _taken_keys(con, None), line)
    return {"name": clean, "model": model, "aliases": aliases, "start_date": start,
            "manager": None if is_blank(manager) else str(manager).strip(),
            "active": True if active is None else active}, problems


def _insert_partner(con: duckdb.DuckDBPyConnection, v: Mapping[str, Any]) -> int:
    row = con.execute(
        "insert into partners (name, model, model_source, aliases, manager, start_date, active) "
        "values (?, ?, ?, ?, ?, ?, ?) returning partner_id",
        [v["name"], v["model"], "user" if v["model"] else None, v["aliases"], v["manager"], v["start_date"],
         v["active"]],
    ).fetchone()
    audit(con, "add", "partner", row[0], None, {"name": v["name"], "model": v["model"], "aliases": v["aliases"]})
    return int(row[0])


def add_partner(con: duckdb.DuckDBPyConnection, name: str, model: str | None = None,
                aliases: Iterable[str] | str = (), manager: str | None = None,
                start_date: date | str | None = None, active: bool = True) -> int:
    """Add a partner; a model given here is a user's choice (model_source='user'). Returns partner_id."""
    values, problems = _check_new_partner(con, {
        "name": name, "model": model, "aliases": aliases if isinstance(aliases, str) else list(aliases),
        "manager": manager, "start_date": start_date, "active": active})
    if problems:
        raise UserDataError(problems)
    return _insert_partner(con, values)


_PARTNER_FIELDS = ("name", "model", "aliases", "manager", "start_date", "active")
_ATTRIBUTION_FIELDS = {"name", "model", "aliases"}


def _partner_changes(con: duckdb.DuckDBPyConnection, partner_id: int, changes: Mapping[str, Any],
                     line: int | None) -> tuple[dict[str, Any], list[Problem]]:
    """Validated column values for one partner's changes."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "name":
            values[key] = collect(problems, _check_name, value, line)
        elif key == "model":
            values[key] = collect(problems, to_model, value, line)
        elif key == "aliases":
            values[key] = _aliases(value)
        elif key == "manager":
            values[key] = None if is_blank(value) else str(value).strip()
        elif key == "start_date":
            values[key] = collect(problems, to_date, value, line)
        elif key == "active":
            values[key] = collect(problems, _bool, value, line)
        else:
            raise TypeError(f"update_partner got an unknown field {key!r}")
    names = [v for v in [values.get("name"), *values.get("aliases", [])] if v]
    problems += _check_keys(names, _taken_keys(con, partner_id), line)
    return values, problems


def _write_partner(con: duckdb.DuckDBPyConnection, partner_id: int, values: dict[str, Any]) -> None:
    """Update the validated columns of one partner (column names come from _PARTNER_FIELDS only)."""
    cols = [c for c in _PARTNER_FIELDS if c in values]
    sets = [f"{c} = ?" for c in cols] + ["updated_at = current_timestamp"]
    params = [values[c] for c in cols]
    if "model" in values:
        sets.append("model_source = 'user'")
    before = con.execute("select name, model, aliases, manager, start_date, active from partners "
                         "where partner_id = ?", [partner_id]).fetchone()
    assignments = ", ".join(sets)  # "<column> = ?" for columns of _PARTNER_FIELDS only; values are bound
    con.execute("update partners set " + assignments + " where partner_id = ?", [*params, partner_id])  # noqa: S608
    old = dict(zip(("name", "model", "aliases", "manager", "start_date", "active"), before, strict=True))
    audit(con, "update", "partner", partner_id, {c: old[c] for c in cols}, {c: values[c] for c in cols})


def update_partner(con: duckdb.DuckDBPyConnection, partner_id: int, **changes: Any) -> None:
    """Change a partner's name, model, aliases, manager, start_date or active flag.

    Setting the model marks it as the user's (a sync never overwrites it). Changing the name, model or
    aliases re-attributes leads, so lead_facts is rebuilt in the same transaction.
    """
    if partner_id not in partner_names(con):
        raise fail("partner.unknown_id", partner_id=partner_id)
    values, problems = _partner_changes(con, partner_id, changes, None)
    if problems:
        raise UserDataError(problems)
    with atomic(con):
        _write_partner(con, partner_id, values)
        if _ATTRIBUTION_FIELDS & values.keys():
            store.rebuild_facts(con)


def _same(a: object, b: object) -> bool:
    """Editor value a equals stored value b (lists, dates and blanks compared by meaning)."""
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        return _aliases(a) == _aliases(b)
    if is_blank(a) or is_blank(b):
        return is_blank(a) and is_blank(b)
    if isinstance(a, date) or isinstance(b, date):
        try:
            return to_date(a) == to_date(b)
        except UserDataError:
            return False
    return bool(a == b)


def save_partners(con: duckdb.DuckDBPyConnection, edited: pd.DataFrame) -> int:
    """Apply an edited partners table (rows with partner_id update, rows without add); return rows changed.

    Every row is validated first (line = row position + 1); nothing is written when any row is wrong.
    """
    current = list_partners(con).set_index("partner_id")
    problems: list[Problem] = []
    updates: list[tuple[int, dict[str, Any]]] = []
    new_rows: list[tuple[int, dict[str, Any]]] = []
    for line, row in enumerate(edited.to_dict("records"), start=1):
        pid = row.get("partner_id")
        if is_blank(pid):
            if all(is_blank(row.get(c)) or c == "active" for c in _PARTNER_FIELDS):
                continue  # an empty row the editor added
            values, found = _check_new_partner(con, row, line)
            problems += found
            new_rows.append((line, values))
            continue
        pid = int(pid)
        if pid not in current.index:
            problems.append(Problem("partner.unknown_id", {"partner_id": pid}, line))
            continue
        old = current.loc[pid]
        raw = {c: row[c] for c in _PARTNER_FIELDS if c in row and not _same(row[c], old[c])}
        if "aliases" in raw and _same(_aliases(raw["aliases"]), old["aliases"]):
            raw.pop("aliases")
        if raw:
            values, found = _partner_changes(con, pid, raw, line)
            problems += found
            updates.append((pid, values))
    problems += _cross_row_keys(current, updates, new_rows)
    if problems:
        raise UserDataError(problems)
    with atomic(con):
        for pid, values in updates:
            _write_partner(con, pid, values)
        for _, values in new_rows:
            _insert_partner(con, values)
        if new_rows or any(_ATTRIBUTION_FIELDS & v.keys() for _, v in updates):
            store.rebuild_facts(con)
    return len(updates) + len(new_rows)


def _cross_row_keys(current: pd.DataFrame, updates: list[tuple[int, dict[str, Any]]],
                    new_rows: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
    """Names and aliases that two edited rows both claim."""
    owners: dict[str, str] = {}
    problems: list[Problem] = []
    changed = dict(updates)
    for pid, old in current.iterrows():
        values = changed.get(pid, {})
        for key in [values.get("name", old["name"]), *values.get("aliases", old["aliases"])]:
            owners.setdefault(norm_name(key), str(values.get("name", old["name"])))
    for line, values in new_rows:
        name = values.get("name")
        for key in [name, *_aliases(values.get("aliases"))]:
            if is_blank(key):
                continue
            if norm_name(str(key)) in owners:
                problems.append(Problem("partner.name_taken", {"name": key, "other": owners[norm_name(str(key))]},
                                        line))
            else:
                owners[norm_name(str(key))] = str(name)
    return problems

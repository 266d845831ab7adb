"""The cost ledger: reading it, checking rows, and writing them (replace or add per partner x month x category)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from data_layer.userdata.errors import Problem, UserDataError, collect
from data_layer.userdata.parse import is_blank, to_amount, to_category, to_date, to_month
from data_layer.userdata.partners import partner_keys, partner_names, resolve_partner
from data_layer.userdata.transaction import atomic, audit

LEDGER_COLUMNS = ["partner_id", "partner", "month", "category", "amount", "note"]


def read_ledger(con: duckdb.DuckDBPyConnection, partner_ids: Iterable[int] | None = None,
                month_from: date | None = None, month_to: date | None = None) -> pd.DataFrame:
    """Ledger rows with partner names: partner_id, partner, month (date), category, amount (float), note."""
    ids = list(partner_ids) if partner_ids is not None else None
    df = con.execute(
        """
        -- one row per partner x month x category; params: ids (null = all), month_from, month_to
        select l.partner_id, p.name as partner, l.month, l.category, cast(l.amount as double) as amount, l.note
        from cost_ledger l join partners p using (partner_id)
        where ($ids is null or list_contains($ids, l.partner_id))
          and ($month_from is null or l.month >= date_trunc('month', cast($month_from as date)))
          and ($month_to is null or l.month <= cast($month_to as date))
        order by l.month, lower(p.name), l.category
        """,
        {"ids": ids, "month_from": month_from, "month_to": month_to},
    ).df()
    df["month"] = df["month"].map(to_date)
    return df[LEDGER_COLUMNS]


def validate_ledger(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame,
                    lines: Iterable[int] | None = None) -> pd.DataFrame:
    """Check and normalise ledger rows (partner_id or partner name, month, category, amount, note).

    Returns partner_id, month (first day), category, amount, note; raises UserDataError listing every bad
    row (line = the given line numbers, else row position + 1). Duplicate keys are errors.
    """
    names, keys = partner_names(con), partner_keys(con)
    problems: list[Problem] = []
    out: list[dict[str, Any]] = []
    seen: dict[tuple[int, date, str], list[int]] = {}
    line_numbers = list(lines) if lines is not None else range(1, len(rows) + 1)
    for line, row in zip(line_numbers, rows.to_dict("records"), strict=True):
        before = len(problems)
        pid = collect(problems, resolve_partner, row, names, keys, line)
        month = collect(problems, to_month, row.get("month"), line)
        category = collect(problems, to_category, row.get("category"), line)
        amount = collect(problems, to_amount, row.get("amount"), line)
        if pid is not None and month is not None and category is not None:
            seen.setdefault((pid, month, category), []).append(line)  # a bad amount still claims its key
        if len(problems) > before:
            continue
        note = row.get("note")
        out.append({"partner_id": pid, "month": month, "category": category, "amount": amount,
                    "note": None if is_blank(note) else str(note)})
    for (pid, month, category), found in seen.items():
        if len(found) > 1:
            problems.append(Problem("ledger.duplicate", {
                "partner": names[pid], "month": month.strftime("%Y-%m"), "category": category,
                "lines": ", ".join(map(str, found))}, found[0]))
    if problems:
        raise UserDataError(problems)
    return pd.DataFrame(out, columns=["partner_id", "month", "category", "amount", "note"])


_UPSERT = """
-- one row per validated ledger row (registered frame _ledger_rows); a row replaces or adds to its key
insert into cost_ledger (partner_id, month, category, amount, note)
select partner_id, cast(month as date), category, cast(amount as decimal(18, 2)), note from _ledger_rows
on conflict (partner_id, month, category) do update set
    amount = {amount}, note = coalesce(excluded.note, cost_ledger.note), updated_at = get_current_timestamp()
"""
_UPSERT_REPLACE = _UPSERT.replace("{amount}", "excluded.amount")
_UPSERT_ADD = _UPSERT.replace("{amount}", "cost_ledger.amount + excluded.amount")


def insert_ledger(con: duckdb.DuckDBPyConnection, clean: pd.DataFrame, add: bool) -> int:
    """Write already validated rows (`validate_ledger`'s columns); return how many. Run it inside `atomic`.

    Each row replaces the same partner x month x category, or with add=True adds its amount to it; one audit
    row lists them all. Nothing is checked here: the caller validated the rows (this is the upsert that
    upsert_ledger, replace_ledger, apply_scenario and costs_io.import_costs share).
    """
    if clean.empty:
        return 0
    frame = clean.astype({"partner_id": "int64", "amount": "float64"}).astype({"note": "object"})
    con.register("_ledger_rows", frame)
    try:
        con.execute(_UPSERT_ADD if add else _UPSERT_REPLACE)
        audit(con, "add" if add else "upsert", "ledger", None, None, frame)
    finally:
        con.unregister("_ledger_rows")
    return len(frame)


def upsert_ledger(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, add: bool = False) -> int:
    """Validate rows, then write them: each replaces the same partner x month x category (or adds to it)."""
    clean = validate_ledger(con, rows)
    with atomic(con):
        return insert_ledger(con, clean, add)


def replace_ledger(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame,
                   partner_ids: Iterable[int] | None = None, month_from: date | None = None,
                   month_to: date | None = None) -> int:
    """Make the ledger inside a scope (partners x months, None = all) equal to rows; return rows written.

    This is how the ledger editor saves: rows deleted in the editor disappear, edited rows replace.
    """
    clean = validate_ledger(con, rows)
    ids = list(partner_ids) if partner_ids is not None else None
    with atomic(con):
        con.execute(
            """
            delete from cost_ledger
            where ($ids is null or list_contains($ids, partner_id))
              and ($month_from is null or month >= date_trunc('month', cast($month_from as date)))
              and ($month_to is null or month <= cast($month_to as date))
            """,
            {"ids": ids, "month_from": month_from, "month_to": month_to},
        )
        audit(con, "replace_scope", "ledger", None, None,
              {"partner_ids": ids, "month_from": month_from, "month_to": month_to})
        return insert_ledger(con, clean, add=False)


def delete_ledger(con: duckdb.DuckDBPyConnection, keys: Iterable[tuple[int, date | str, str]]) -> int:
    """Delete ledger rows by (partner_id, month, category); return rows deleted."""
    params = [(int(pid), to_month(month), to_category(category)) for pid, month, category in keys]
    if not params:
        return 0
    before = con.execute("select count(*) from cost_ledger").fetchone()[0]
    with atomic(con):
        con.executemany("delete from cost_ledger where partner_id = ? and month = ? and category = ?", params)
        audit(con, "delete", "ledger", None, params, None)
    return before - con.execute("select count(*) from cost_ledger").fetchone()[0]

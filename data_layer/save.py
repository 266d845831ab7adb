"""Write normalised batches into the raw tables: upsert by primary key, replace a lead's child rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from data_layer import store
from data_layer.normalise import Batch

if TYPE_CHECKING:
    import pandas as pd

# Child tables whose rows for a lead are replaced whole whenever that lead is saved again.
LEAD_CHILDREN = ("raw_lead_field_values", "raw_lead_tags", "raw_lead_contacts", "raw_lead_companies")
# Save order: parents before children so a reader never sees children of a missing lead.
TABLE_ORDER = (
    "raw_account", "raw_users", "raw_pipelines", "raw_statuses", "raw_lead_fields", "raw_lead_field_enums",
    "raw_loss_reasons", "raw_sources", "raw_contacts", "raw_companies", "raw_client_keys", "raw_leads",
    *LEAD_CHILDREN, "raw_lead_status_events",
)


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Column names of a table in their declared order."""
    rows = con.execute(
        "select column_name from information_schema.columns where table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def primary_key(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Primary-key columns of a table."""
    row = con.execute(
        "select constraint_column_names from duckdb_constraints() "
        "where table_name = ? and constraint_type = 'PRIMARY KEY'",
        [table],
    ).fetchone()
    return list(row[0]) if row else []


def _frame(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> pd.DataFrame:
    import pandas as pd  # imported on first write: a sync's first requests leave without waiting for it

    cols = table_columns(con, table)
    df = pd.DataFrame.from_records(rows, columns=cols)
    key = [c for c in primary_key(con, table) if c in df.columns]
    df = df.dropna(subset=key) if key else df
    return df.drop_duplicates(subset=key, keep="last") if key else df


def upsert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> int:
    """Insert or replace rows by primary key; return the number written."""
    if not rows:
        return 0
    df = _frame(con, table, rows)
    if df.empty:
        return 0
    con.register("_upsert_df", df)
    try:
        con.execute(store.sql_with_names("insert or replace into {t} by name select * from _upsert_df", t=table))
    finally:
        con.unregister("_upsert_df")
    return len(df)


def _replace_children(con: duckdb.DuckDBPyConnection, lead_ids: list[int]) -> None:
    import pandas as pd

    ids = pd.DataFrame({"lead_id": sorted(set(lead_ids))})
    con.register("_lead_ids_df", ids)
    try:
        for table in LEAD_CHILDREN:
            con.execute(store.sql_with_names(
                "delete from {t} where lead_id in (select lead_id from _lead_ids_df)", t=table))
    finally:
        con.unregister("_lead_ids_df")


def _replace_keys(con: duckdb.DuckDBPyConnection, entities: list[dict]) -> None:
    """Drop the identity keys of contacts / companies saved again (their new keys follow in the same batch)."""
    import pandas as pd

    df = pd.DataFrame.from_records(entities, columns=["entity_type", "entity_id"]).drop_duplicates()
    con.register("_key_entities_df", df)
    try:
        con.execute("delete from raw_client_keys k using _key_entities_df e "
                    "where k.entity_type = e.entity_type and k.entity_id = e.entity_id")
    finally:
        con.unregister("_key_entities_df")


def mark_deleted(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> int:
    """Mark leads deleted (adding a skeleton row for leads never seen alive)."""
    if not rows:
        return 0
    import pandas as pd

    df = pd.DataFrame.from_records(rows, columns=["lead_id", "deleted_at"]).drop_duplicates("lead_id", keep="last")
    con.register("_del_df", df)
    try:
        con.execute(
            "insert into raw_leads (id, is_deleted, deleted_at, updated_at) "
            "select lead_id, true, deleted_at, deleted_at from _del_df "
            "on conflict (id) do update set is_deleted = true, deleted_at = excluded.deleted_at"
        )
    finally:
        con.unregister("_del_df")
    return len(df)


def save_batch(con: duckdb.DuckDBPyConnection, batch: Batch) -> dict[str, int]:
    """Write a whole batch (call inside the caller's transaction); return rows written per table."""
    written: dict[str, int] = {}
    lead_ids = [r["lead_id"] for r in batch.get("_lead_ids", [])]
    if lead_ids:
        _replace_children(con, lead_ids)
    if batch.get("_key_entities"):
        _replace_keys(con, batch["_key_entities"])
    for table in TABLE_ORDER:
        if batch.get(table):
            written[table] = upsert(con, table, batch[table])
    if batch.get("_deleted_leads"):
        written["deleted"] = mark_deleted(con, batch["_deleted_leads"])
    return written

"""Storing what the workers fetched: window by window, each with its sources' checkpoints.

The main thread collects pages and every ``commit_seconds`` writes them together with the sources'
checkpoints (``sync_state`` rows) in one transaction, opening the database only for that write. A SIGKILL
loses at most the uncommitted pages; the next run resumes from the checkpoints and then runs a normal
incremental pass, ending with the same content as an uninterrupted sync.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from data_layer import identity, normalise, save, store
from data_layer.sync.outcome import RunStats
from data_layer.sync.sources import Checkpoint, Item


class Writer:
    """Collects items from the workers and stores them window by window, each with its checkpoint."""

    def __init__(self, db_path: Path, timezone: str, stats: RunStats) -> None:
        self.db_path = db_path
        self.timezone = timezone
        self.stats = stats
        self.pending: list[Item] = []

    def add(self, item: Item) -> None:
        """Queue an item for the next commit."""
        self.pending.append(item)

    def commit(self, extra: Checkpoint | None = None, final: Callable[[duckdb.DuckDBPyConnection], None] | None
               = None) -> None:
        """Write pending items, their checkpoints and ``extra`` in one transaction."""
        items, self.pending = self.pending, []
        if not items and not extra and final is None:
            return
        checkpoint: Checkpoint = {}
        with store.connect(self.db_path) as con:
            con.execute("begin")
            try:
                self._apply(con, items)
                for item in items:
                    checkpoint.update(item.checkpoint)
                checkpoint.update(extra or {})
                write_checkpoint(con, checkpoint)
                if final is not None:
                    final(con)
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
        store.bump_version(self.db_path)
        self.stats.written = True
        for item in items:
            self.stats.records[item.entity] = self.stats.records.get(item.entity, 0) + len(item.records)

    def _apply(self, con: duckdb.DuckDBPyConnection, items: list[Item]) -> None:
        """Store a window: reference lists replaced, entities upserted in one batch, then events.

        Events go last because a lead_deleted event is applied only if the stored lead is not newer.
        """
        by_kind: dict[str, list[dict]] = {}
        for item in items:
            by_kind.setdefault(item.kind, []).extend(item.records)
        batches = [replace_reference(con, kind, by_kind[kind]) for kind in REPLACED if kind in by_kind]
        if by_kind.get("leads"):
            batches.append(normalise.normalise_leads(latest_by_id(by_kind["leads"]), self.timezone))
        if by_kind.get("contacts"):
            batches.append(normalise.normalise_contacts(latest_by_id(by_kind["contacts"])))
        if by_kind.get("companies"):
            batches.append(normalise.normalise_companies(latest_by_id(by_kind["companies"]), inn_field_name(con)))
        if batches:
            save.save_batch(con, normalise.merge(*batches))
        if by_kind.get("events"):
            self._apply_events(con, by_kind["events"])

    def _apply_events(self, con: duckdb.DuckDBPyConnection, records: list[dict]) -> None:
        batch = normalise.normalise_events(records)
        deleted = batch.pop("_deleted_leads", [])
        batch.pop("_restored_leads", None)  # a restored lead comes back through the lead walk
        skeletons = deletion_skeletons(con, deleted)
        if skeletons:
            batch = normalise.merge(batch, normalise.normalise_leads(skeletons, self.timezone))
        save.save_batch(con, batch)


def latest_by_id(records: list[dict]) -> list[dict]:
    """One record per id, the last one fetched (a lead read twice in a window keeps its newest children)."""
    out: dict[Any, dict] = {}
    for rec in records:
        out.pop(rec.get("id"), None)
        out[rec.get("id")] = rec
    return list(out.values())


def inn_field_name(con: duckdb.DuckDBPyConnection) -> str:
    """The company field that holds the INN (setting `inn_field_name`, default «ИНН»)."""
    # read here, not through userdata (which imports pandas): a sync's first requests leave without waiting for it
    row = con.execute("select value from settings where key = 'inn_field_name'").fetchone()
    name = json.loads(row[0]) if row else None
    return name.strip() if isinstance(name, str) and name.strip() else identity.DEFAULT_INN_FIELD


REPLACED = ("account", "users", "pipelines", "lead_fields", "loss_reasons", "sources")


def write_checkpoint(con: duckdb.DuckDBPyConnection, checkpoint: Checkpoint) -> None:
    """Set (or delete, for None) sync_state rows."""
    for key, value in checkpoint.items():
        if value is None:
            con.execute("delete from sync_state where entity = ?", [key])
        else:
            con.execute("insert or replace into sync_state values (?, ?, current_timestamp)", [key, int(value)])


def replace_reference(con: duckdb.DuckDBPyConnection, kind: str, records: list[dict]) -> normalise.Batch:
    """Empty a reference table and return its new rows, so a fresh full sync and an incremental one agree."""
    if kind == "loss_reasons":
        # Keep reasons old leads still point at (they arrive embedded in those leads).
        con.execute("delete from raw_loss_reasons where id not in "
                    "(select loss_reason_id from raw_leads where loss_reason_id is not null)")
        return normalise.normalise_loss_reasons(records)
    for table in REFERENCE_TABLES[kind]:
        con.execute(store.sql_with_names("delete from {t}", t=table))
    if kind == "account":
        return normalise.normalise_account(records[-1]) if records else normalise.new_batch()
    if kind == "sources":
        batch = normalise.new_batch()
        batch["raw_sources"] = [{"id": normalise.as_int(r.get("id")),
                                 "name": normalise.as_text(r.get("name"))} for r in records]
        return batch
    return NORMALISERS[kind](records)


REFERENCE_TABLES = {"account": ["raw_account"], "users": ["raw_users"],
                    "pipelines": ["raw_statuses", "raw_pipelines"],
                    "lead_fields": ["raw_lead_field_enums", "raw_lead_fields"], "sources": ["raw_sources"]}
NORMALISERS: dict[str, Callable[[list[dict]], normalise.Batch]] = {
    "users": normalise.normalise_users, "pipelines": normalise.normalise_pipelines,
    "lead_fields": normalise.normalise_lead_fields,
}


def deletion_skeletons(con: duckdb.DuckDBPyConnection, deleted: list[dict]) -> list[dict]:
    """Lead skeletons for lead_deleted events, unless the stored row is newer (restored) or already deleted."""
    if not deleted:
        return []
    latest: dict[int, int] = {}
    for row in deleted:
        if row.get("lead_id") is not None:
            latest[row["lead_id"]] = max(latest.get(row["lead_id"], 0), row.get("deleted_at") or 0)
    ids = list(latest)
    stored = {r[0]: (r[1], r[2]) for r in con.execute(
        "select id, updated_at, is_deleted from raw_leads where id in (select unnest(?::bigint[]))", [ids]
    ).fetchall()}
    out = []
    for lead_id, at in latest.items():
        updated, is_deleted = stored.get(lead_id, (None, False))
        if lead_id in stored and (is_deleted or (updated is not None and updated > at)):
            continue
        out.append({"id": lead_id, "is_deleted": True, "updated_at": at})
    return out


def prune_unreferenced(con: duckdb.DuckDBPyConnection) -> None:
    """Contacts and companies no stored lead points at any more (a fresh full sync would not have them)."""
    con.execute("delete from raw_contacts where id not in (select contact_id from raw_lead_contacts "
                "where contact_id is not null)")
    con.execute("delete from raw_companies where id not in (select company_id from raw_lead_companies "
                "where company_id is not null)")
    con.execute("delete from raw_client_keys where (entity_type = 'contact' and entity_id not in "
                "(select id from raw_contacts)) or (entity_type = 'company' and entity_id not in "
                "(select id from raw_companies))")

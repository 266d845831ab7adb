"""Writes the demo database: reference tables, every block (record or bulk path), then the user's tables."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from data_layer import normalise, save, store
from data_layer.demo.account import TIMEZONE
from data_layer.demo.api_records import (
    company_records,
    contact_records,
    event_records,
    lead_records,
    no_gc,
    static_records,
)
from data_layer.demo.frames import block_frames
from data_layer.demo.generate import Block, Stats, iter_blocks
from data_layer.demo.plan import Plan, build_plan
from data_layer.demo.user_tables import write_user_data

RECORD_CHUNK = 5_000      # leads per transaction on the record path (the sync's window size)
BULK_THRESHOLD = 100_000  # above this many leads the bulk path is used


def _in_transaction(con: duckdb.DuckDBPyConnection, batch: normalise.Batch) -> dict[str, int]:
    """Save one batch in its own transaction, as the sync saves a window."""
    con.execute("begin")
    try:
        written = save.save_batch(con, batch)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return written


def _save_static(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    """Reference tables through the sync's normalisers (both paths)."""
    rec = static_records(plan)
    sources = normalise.new_batch()
    sources["raw_sources"] = [{"id": s["id"], "name": s["name"]} for s in rec["sources"]]
    _in_transaction(con, normalise.merge(
        normalise.normalise_account(rec["account"]), normalise.normalise_users(rec["users"]),
        normalise.normalise_pipelines(rec["pipelines"]), normalise.normalise_lead_fields(rec["lead_custom_fields"]),
        normalise.normalise_loss_reasons(rec["loss_reasons"]), sources))


def _sub_block(blk: Block, lo: int, hi: int) -> Block:
    """Leads lo..hi of a block with their rows (positions rebased), and contacts / companies lo..hi."""
    def by_lead(rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        r0, r1 = np.searchsorted(rows["pos"], [lo, hi])  # long tables are sorted by lead position
        out = {k: v[r0:r1] for k, v in rows.items()}
        out["pos"] = out["pos"] - lo
        return out

    return Block(leads={k: v[lo:hi] for k, v in blk.leads.items()}, fields=by_lead(blk.fields),
                 tags=by_lead(blk.tags), links=by_lead(blk.links), company_links=by_lead(blk.company_links),
                 events=by_lead(blk.events), contacts={k: v[lo:hi] for k, v in blk.contacts.items()},
                 companies={k: v[lo:hi] for k, v in blk.companies.items()})


def _load_records_block(con: duckdb.DuckDBPyConnection, plan: Plan, blk: Block) -> None:
    """Format a block as API records window by window and save each through normalise + save_batch."""
    size = max(len(blk.leads["lead_id"]), len(blk.contacts["id"]), len(blk.companies["id"]))
    for lo in range(0, size, RECORD_CHUNK):
        part = _sub_block(blk, lo, lo + RECORD_CHUNK)
        _in_transaction(con, normalise.merge(
            normalise.normalise_contacts(contact_records(part)),
            normalise.normalise_companies(company_records(part)),
            normalise.normalise_leads(lead_records(plan, part), TIMEZONE),
            normalise.normalise_events(event_records(part))))


def _insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Append a frame to a raw table by column name."""
    if frame.empty:
        return
    con.register("_demo_frame", frame)
    try:
        # Table names come from block_frames, never from data.
        con.execute(store.sql_with_names("insert into {t} by name select * from _demo_frame", t=table))
    finally:
        con.unregister("_demo_frame")


def _load_bulk_block(con: duckdb.DuckDBPyConnection, blk: Block) -> None:
    """Insert one block's frames in one transaction."""
    con.execute("begin")
    try:
        for table, frame in block_frames(blk).items():
            _insert_frame(con, table, frame)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _remove_db(path: Path) -> None:
    """Delete a database file and its sidecars (.wal, .version)."""
    for p in (path, Path(f"{path}.wal"), store.version_path(path)):
        p.unlink(missing_ok=True)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Row count of a table (names from this module only)."""
    return int(con.execute(store.sql_with_names("select count(*) from {t}", t=table)).fetchone()[0])


def load_demo(db_path: str | Path, n_leads: int = 20000, seed: int = 42, end_date: date | None = None,
              bulk: bool | None = None) -> dict[str, Any]:
    """Rebuild the demo database at db_path from scratch; return counts and seconds.

    Up to BULK_THRESHOLD leads the data goes through the sync's normalise + save code as API records;
    above it (or with bulk=True) the same arrays are inserted as frames. Both give identical tables.
    """
    started = time.perf_counter()
    path = Path(db_path)
    _remove_db(path)
    store.init_db(path)
    plan = build_plan(n_leads, seed, end_date)
    use_bulk = n_leads > BULK_THRESHOLD if bulk is None else bulk
    stats = Stats()
    with store.connect(path) as con, no_gc():
        _save_static(con, plan)
        for blk in iter_blocks(plan, stats):
            if use_bulk:
                _load_bulk_block(con, blk)
            else:
                _load_records_block(con, plan, blk)
        result = write_user_data(con, plan, stats, time.perf_counter() - started)
        counts = {t: _count(con, t) for t in ("raw_leads", "raw_contacts", "raw_companies",
                                               "raw_lead_status_events", "cost_ledger")}
    facts = store.refresh_derived(path)
    return {
        "path": str(path), "mode": "bulk" if use_bulk else "records", "leads": counts["raw_leads"],
        "contacts": counts["raw_contacts"], "companies": counts["raw_companies"],
        "events": counts["raw_lead_status_events"], "lead_facts": facts, **result,
        "seconds": round(time.perf_counter() - started, 2),
    }

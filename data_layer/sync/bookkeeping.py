"""A run's record in the database: its start (one connection) and its end (one transaction).

Start: migrating, refusing or replacing a demo database, recording the run and reading the first pass's
checkpoints share one connection, while the early requests are already out (fetcher.EarlyStart). End: the
last window, the prune, the facts rebuild and the run's row are one transaction in one connection (each
open + close of the file costs ~0.1 s, and all of it sits between the last answer and the exit).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from data_layer import backup, save, store
from data_layer.errors import ConfigError
from data_layer.sync.outcome import SyncResult, now_iso
from data_layer.sync.plan import Known, known_ids, read_state
from data_layer.sync.writer import prune_unreferenced

# Demo data a --replace-demo drops besides the raw tables (settings and the audit log stay): what names the demo's
# partners or deals — their payout history and clawbacks, chart events, alert states and sends.
DEMO_TABLES = ("lead_facts", *store.DERIVED_TABLES, "saved_mapping_preview", "sync_state", "meta",
               "cost_ledger", "commission_rules", "partners", "scenarios", "goals", "payout_events", "payouts",
               "deal_accruals", "deal_accrual_lines", "payout_reversals", "user_events",
               "alert_sends", "alert_events", "alert_state")
# Alert rules are the user's: those on everything, a model or each partner stay, those on one demo partner go.
DEMO_ROWS = ("delete from alert_rules where scope_kind = 'partner' and scope_value is not null",)


def open_run(db_path: Path, replace_demo: bool, full: bool,
             keep_copy: bool = False) -> tuple[int, str, tuple[dict[str, int], Known]]:
    """Copy the file (keep_copy); migrate; refuse or replace a demo database; close runs a crash left open;
    record this run; read the first pass's inputs (sync_state, contact/company ids) — all in one connection."""
    existed = db_path.exists()
    with store.connect(db_path) as con:
        if keep_copy and existed:  # before any write of this run, under its lock
            backup.copy_locked(con, db_path)
        migrated = store.migrate(con)
        source = store.get_meta(con, "source")
        if source == "demo" and not replace_demo:
            raise ConfigError(f"{db_path} holds the demo account; sync into another file (--db) or pass "
                              "--replace-demo to drop the demo data and its partners, costs and rules.")
        con.execute("begin")
        if source == "demo":
            existing = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
            for table in [*save.TABLE_ORDER, *DEMO_TABLES]:
                if table in existing:
                    con.execute(store.sql_with_names("delete from {t}", t=table))
            for statement in DEMO_ROWS:
                con.execute(statement)
        con.execute("update sync_runs set status = 'failed', finished_at = current_timestamp, "
                    "message = 'interrupted' where status = 'running'")
        mode = "full" if full or "leads" not in read_state(con) else "incremental"
        run_id = con.execute("insert into sync_runs (started_at, mode, status, requests, throttled) "
                             "values (current_timestamp, ?, 'running', 0, 0) returning run_id", [mode]).fetchone()[0]
        store.set_meta(con, "last_sync_status", "running")
        con.execute("commit")
        inputs = read_state(con), known_ids(con)
    if migrated:
        store.bump_version(db_path)
    return int(run_id), mode, inputs


def record_finish(con: duckdb.DuckDBPyConnection, run_id: int, result: SyncResult, account_name: str | None) -> None:
    """The run's sync_runs row and the meta keys, inside the caller's transaction."""
    con.execute("update sync_runs set finished_at = current_timestamp, status = ?, requests = ?, "
                "throttled = ?, seconds = ?, message = ? where run_id = ?",
                ["ok" if result.ok else "failed", result.requests, result.throttled, result.seconds,
                 result.message, run_id])
    store.set_meta(con, "source", "amocrm")
    if account_name:
        store.set_meta(con, "account_name", account_name)
    if result.ok:
        store.set_meta(con, "last_sync_at", now_iso())
    store.set_meta(con, "last_sync_status", "ok" if result.ok else f"failed: {result.message}")


def finish_run(db_path: Path, run_id: int, result: SyncResult, account_name: str | None) -> None:
    """Record the end of a run in its own transaction (the failure path)."""
    with store.connect(db_path) as con:
        con.execute("begin")
        record_finish(con, run_id, result, account_name)
        con.execute("commit")
    store.bump_version(db_path)


def last_write(run_id: int, result: Callable[[], SyncResult], account_name: str | None
               ) -> Callable[[duckdb.DuckDBPyConnection], None]:
    """The last pass's final transaction: prune, new partners + facts rebuild, the run's row marked ok."""
    def write(con: duckdb.DuckDBPyConnection) -> None:
        prune_unreferenced(con)
        store.ensure_partners_from_crm(con)
        store.rebuild_facts(con)
        record_finish(con, run_id, result(), account_name)
    return write

"""A sync run's edges: requests leave while the database is prepared, and the run ends in one write.

Start: the reference lists (users, pipelines, fields, loss reasons, sources) and the account do not
depend on anything stored, so the fetcher starts with them at once; the lead, event and contact sources
join it when the plan (read from sync_state) is ready. Migrating, recording the run and reading the
checkpoints share one connection and overlap the first ~0.5 s of the rate budget instead of leaving it
unused. End: the last window, the prune, the facts rebuild and the run's row are one transaction in one
connection (each open + close of the file costs ~0.1 s, and all of it sits between the last answer and
the exit).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from data_layer import save, store
from data_layer.errors import ConfigError
from data_layer.sync import (
    DEMO_TABLES,
    REFERENCE,
    Fetcher,
    Item,
    Known,
    PageWalk,
    Req,
    Source,
    SyncResult,
    _now_iso,
    known_ids,
    prune_unreferenced,
    read_state,
)

if TYPE_CHECKING:
    import duckdb

    from data_layer.client import AmoClient


class AccountSource(Source):
    """GET /api/v4/account once; the body is kept for the time zone and the account name."""

    priority = -1

    def __init__(self, emit: Any) -> None:
        super().__init__(emit)
        self.body: dict | None = None
        self.sent = False
        self.done = threading.Event()

    def ready(self) -> bool:
        return not self.sent

    def claim(self) -> Req | None:
        if self.sent:
            return None
        self.sent = True
        return Req(self, "/api/v4/account", [("with", "datetime_settings")])

    def handle(self, req: Req, body: dict | None) -> None:
        self.body = body or {}
        self.emit(Item("account", [self.body], {}, "reference"))
        self.done.set()

    def finished(self) -> bool:
        return self.body is not None

    def close(self) -> None:
        self.closed = True


class OpenFetcher(Fetcher):
    """A Fetcher whose workers stay up, waiting, until ``add`` hands over the rest of the sources."""

    def __init__(self, client: AmoClient, sources: list[Source], workers: int) -> None:
        super().__init__(client, sources, workers)
        self.sealed = False

    def add(self, sources: list[Source]) -> OpenFetcher:
        """Join the pass's sources; from now on the fetch ends when every source is closed."""
        with self.cv:
            self.sources = sorted([*self.sources, *sources], key=lambda s: s.priority)
            self.sealed = True
            self._close_finished()
            self.cv.notify_all()
        return self

    def _open(self) -> bool:
        return not (self.sealed or self.stopped or self.error is not None)

    def _ready(self) -> bool | None:
        if self._open():
            return any(not s.closed and s.ready() for s in self.sources)
        return super()._ready()

    def finished(self) -> bool:
        with self.cv:
            if self._open():
                return False
        return super().finished()


class EarlyStart:
    """The account and reference sources, fetched before the plan exists; items wait in ``inbox``."""

    def __init__(self, client: AmoClient, workers: int) -> None:
        self.inbox: queue.Queue[Item] = queue.Queue()
        self.account = AccountSource(self.inbox.put)
        reference = [PageWalk(self.inbox.put, kind=kind, entity="reference", path=path, key=key, params=[],
                              limit=limit, priority=0, collect=True) for kind, path, key, limit in REFERENCE]
        self.fetcher = OpenFetcher(client, [self.account, *reference], workers).start()

    def account_body(self) -> dict:
        """Wait for the account (raising the fetch's error if it failed)."""
        while not self.account.done.wait(0.05):
            if self.fetcher.error is not None:
                raise self.fetcher.error
            if self.fetcher.stopped:
                raise RuntimeError("the fetch stopped before the account arrived")
        return self.account.body or {}

    def stop(self, wait: bool = False) -> None:
        """Stop the workers; ``wait``: let the requests in flight end (the run failed before the pass)."""
        self.fetcher.stop()
        if wait:
            self.fetcher.join(timeout=2.0)


def open_run(db_path: Path, replace_demo: bool, full: bool) -> tuple[int, str, tuple[dict[str, int], Known]]:
    """Migrate; refuse or replace a demo database; close runs a crash left open; record this run; read the
    first pass's inputs (sync_state, contact/company ids) — all in one connection."""
    with store.connect(db_path) as con:
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
        store.set_meta(con, "last_sync_at", _now_iso())
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

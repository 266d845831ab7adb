"""The whole sync: one database at a time, passes until no interrupted walk is left, one outcome."""

from __future__ import annotations

import contextlib
import fcntl
import os
import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from data_layer import backup, normalise, store
from data_layer.client import AmoClient, open_client
from data_layer.config import AmoConfig, load_config
from data_layer.errors import AmoError, ConfigError
from data_layer.sync.bookkeeping import finish_run, last_write, open_run
from data_layer.sync.fetcher import EarlyStart, Fetcher
from data_layer.sync.outcome import RunStats, SyncResult
from data_layer.sync.plan import Known, Plan, build_sources, make_plan, pass_inputs
from data_layer.sync.progress import Progress
from data_layer.sync.sources import Item
from data_layer.sync.writer import Writer, prune_unreferenced

DEFAULT_TZ = "Europe/Moscow"


def run_pass(client: AmoClient, config: AmoConfig, writer: Writer, plan: Plan, known: Known, full: bool,
             early: EarlyStart | None, report: Callable[[Fetcher | None], None],
             last: Callable[[duckdb.DuckDBPyConnection], None] | None = None) -> None:
    """Fetch one plan and store it window by window; raise the first fetch error after storing what came.

    ``early`` (first pass: a fetcher.EarlyStart) is already fetching the account and reference lists;
    ``last`` (bookkeeping.last_write) ends the final transaction of the run's last pass."""
    inbox: queue.Queue[Item] = early.inbox if early else queue.Queue()
    if plan.reset:
        inbox.put(Item("reset", [], plan.reset, "reference"))
    sources = build_sources(plan, inbox.put, known, full, with_reference=False)
    fetcher = early.fetcher.add(sources) if early else Fetcher(client, sources, config.workers).start()
    last_commit = time.monotonic()
    try:
        while True:
            with contextlib.suppress(queue.Empty):
                writer.add(inbox.get(timeout=0.1))
            if fetcher.finished() and inbox.empty():
                break
            if time.monotonic() - last_commit >= config.commit_seconds:
                writer.commit()
                last_commit = time.monotonic()
            report(fetcher)
    except BaseException:
        fetcher.stop()
        with contextlib.suppress(Exception):
            writer.commit()  # keep what arrived: every item's checkpoint matches its data
        raise
    fetcher.stop()
    if fetcher.error is not None:
        writer.commit()
        raise fetcher.error
    writer.commit(final=prune_unreferenced if plan.resumed or last is None else last)
    report(fetcher)


@contextlib.contextmanager
def single_sync(db_path: Path) -> Iterator[None]:
    """One sync per database at a time (fcntl lock on <db>.sync.lock, released by the kernel on a kill)."""
    lock_path = store.sidecar(db_path, ".sync.lock")  # resolved: a symlink or `..` path takes the same lock
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ConfigError("Another sync of this database is running; wait for it to finish.") from exc
        yield
    finally:
        os.close(fd)


def sync(db_path: str | Path, config: AmoConfig | None = None, *, full: bool = False,
         client: AmoClient | None = None, progress: Progress | None = None,
         replace_demo: bool = False, keep_copy: bool = False) -> SyncResult:
    """Run one sync (full the first time, incremental later); raise AmoError after recording a failure.

    keep_copy: copy the file (data_layer.backup) in the run's first write connection, before any write."""
    db_path = Path(db_path)
    started = time.monotonic()
    config = config or load_config(db_path)
    with single_sync(db_path):
        own_client = client is None
        client = client or open_client(config)
        early = EarlyStart(client, config.workers)  # account + reference requests overlap the db's opening
        try:
            run_id, mode, inputs = open_run(db_path, replace_demo, full, keep_copy)
        except BaseException:
            early.stop(wait=True)
            if own_client:
                client.close()
            raise
        stats = RunStats(mode=mode, started=started)
        account_name = None
        fetcher_ref: list[Fetcher | None] = [None]

        def report(fetcher: Fetcher | None) -> None:
            fetcher_ref[0] = fetcher or fetcher_ref[0]
            if progress:
                progress.update(fetcher_ref[0], client, stats, "running")

        try:
            account = early.account_body()
            account_name = normalise.as_text(account.get("name"))
            writer = Writer(db_path, _account_timezone(account), stats)
            last = last_write(run_id, lambda: _result(True, stats, client, ""), account_name)
            first = True
            while True:
                state, known = inputs if first else pass_inputs(db_path)
                plan = make_plan(state, full and first, client.server_now() - config.lag, config.overlap)
                run_pass(client, config, writer, plan, known, full and first, early if first else None, report, last)
                first = False
                if not plan.resumed:
                    break
            result = _result(True, stats, client, "")
        except (Exception, KeyboardInterrupt) as exc:
            message = failure_sentence(exc)
            result = _result(False, stats, client, message)
            with contextlib.suppress(Exception):  # never hide the failure behind a second one
                if stats.written:
                    store.refresh_derived(db_path)
                finish_run(db_path, run_id, result, account_name)
            if progress:
                progress.update(fetcher_ref[0], client, stats, "failed", message)
            raise
        finally:
            early.stop()
            if own_client:
                client.close()
        if progress:
            progress.update(fetcher_ref[0], client, stats, "ok", result.summary())
        return result


def recover(db_path: str | Path) -> str | None:
    """Under the sync lock: when the file is damaged and the sync's copy is usable, restore it; the sentence."""
    with single_sync(Path(db_path)):
        try:
            store.check(db_path)
            return None
        except store.DamagedDatabase:
            if not backup.usable(db_path):
                raise
        when = backup.taken_at(db_path)
        return backup.restored_sentence(db_path, backup.restore(db_path), when)


def failure_sentence(exc: BaseException) -> str:
    """The one sentence a failed run reports."""
    if isinstance(exc, KeyboardInterrupt):
        return "The sync was interrupted; the next run resumes where it stopped."
    if isinstance(exc, AmoError | store.StoreError):
        return str(exc)
    return (f"Unexpected error ({type(exc).__name__}: {str(exc)[:200]}); the data stored so far is consistent "
            "and the next run resumes — if it happens again, report it with the sync log.")


def _result(ok: bool, stats: RunStats, client: AmoClient | None, message: str) -> SyncResult:
    requests, throttled = (client.stats.requests, client.stats.throttled) if client else (0, 0)
    return SyncResult(ok, stats.mode, dict(stats.records), requests, throttled,
                      round(time.monotonic() - stats.started, 2), message)


def _account_timezone(account: dict) -> str:
    tz = ((account.get("_embedded") or {}).get("datetime_settings") or {}).get("timezone") or DEFAULT_TZ
    try:
        ZoneInfo(str(tz))
        return str(tz)
    except (KeyError, ValueError):
        return DEFAULT_TZ

"""Cached, read-only access to the database for pages: results keyed by data version and call.

One cache holds results: _result, an st.cache_data entry per (database file, data version, call), a call being its
function's qualified name with its arguments (engine.Call.key), the filters and the what-if scenario among them.
query(), kpi_frame() and a page's prefetch (its calls computed side by side, each result stored under its own call)
all read and fill it; a KPI frame has one call however a page asks for it (_frame).

Two other things are kept, for other jobs: _schema_checked (st.cache_resource) remembers that a file was brought up
to the current schema at a data version — a migration done once, not a result; and the read-only connections (one
per rerun, _RERUN; one idle per file between reruns for a few seconds, _KEPT) — connections, never results.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd
import streamlit as st

from data_layer import store
from metrics import engine
from metrics.filters import Filters

T = TypeVar("T")


def db_path() -> Path:
    """The database the dashboard shows (PARTNER_ROI_DB, default cache/partner_roi.duckdb)."""
    return Path(os.environ.get("PARTNER_ROI_DB", str(store.DEFAULT_DB)))


def version() -> str:
    """Data-version stamp of the database; changes after every write."""
    return store.data_version(db_path())


@st.cache_resource(show_spinner=False)
def _schema_checked(path: str, stamp: str) -> list[str]:
    """Migrations applied to bring the file up to date (checked once per file and data version)."""
    # e.g. 0004 builds the derived fact tables the metric queries read, from the lead_facts already there
    release_reader()
    return store.upgrade(path)


def ensure_schema() -> None:
    """Bring the dashboard's database up to the current schema (a short write, only when something is missing)."""
    path = db_path()
    if path.exists():
        _schema_checked(str(path), version())


# One read-only connection per rerun (opened at the first cache miss, closed when the rerun ends): opening the
# file costs ~20 ms whatever its size, and a cold page misses the cache a dozen times.
_RERUN: ContextVar[dict[str, Any] | None] = ContextVar("partner_roi_rerun_reader", default=None)

# Between reruns the database itself stays open a little (one idle read-only connection per file): DuckDB then
# serves the next rerun's connect from its open instance (~0.1 ms instead of ~20 ms to open and ~10 ms to close
# the file, and the data blocks read stay cached), which is what a user clicking through filters meets. It is
# closed KEEP_SECONDS after the last rerun reading it ended, at once when a writer in another process waits for
# the file (store.write_wanted) or this process writes (store.on_before_write), and when the data version changes.
KEEP_SECONDS = 2.0
_KEEP_LOCK = threading.Lock()
_KEPT: dict[str, dict[str, Any]] = {}  # path -> {"con", "stamp", "active" (reruns reading), "until"}
_REAPER: list[threading.Thread] = []


def _keep_open(path: str) -> None:
    """Hold path's database open until KEEP_SECONDS from now (opened now if needed)."""
    stamp = store.data_version(path)
    with _KEEP_LOCK:
        kept = _KEPT.get(path)
        if kept is not None and kept["stamp"] != stamp:
            _KEPT.pop(path)["con"].close()  # a write replaced the data: the next connection must see it
            kept = None
        if kept is None:
            if store.write_wanted(path):
                return
            try:
                con = duckdb.connect(path, read_only=True)
            except duckdb.Error:
                return  # a writer holds the file: this rerun's own connection will wait for it
            kept = _KEPT[path] = {"con": con, "stamp": stamp, "active": 0}
        kept["active"] += 1  # a rerun reads it now; _rerun_done counts it out
        kept["until"] = time.monotonic() + KEEP_SECONDS
        if not (_REAPER and _REAPER[0].is_alive()):
            _REAPER[:] = [threading.Thread(target=_reap, name="partner-roi-keep-open", daemon=True)]
            _REAPER[0].start()


def _close_kept(path: str | Path | None = None, idle_only: bool = False) -> None:
    """Close the kept connection of path (None: every one); idle_only: only those no rerun has read for
    KEEP_SECONDS, or that a writer wants."""
    with _KEEP_LOCK:
        for key in list(_KEPT):
            same = path is None or os.path.abspath(key) == os.path.abspath(path)
            idle = _KEPT[key]["active"] == 0 and time.monotonic() > _KEPT[key]["until"]
            due = idle or store.write_wanted(key)
            if same and (due or not idle_only):
                _KEPT.pop(key)["con"].close()


def _reap() -> None:
    """Background: close kept connections when idle or wanted by a writer; end when none is left."""
    while True:
        time.sleep(0.2)
        _close_kept(idle_only=True)
        with _KEEP_LOCK:
            if not _KEPT:
                _REAPER.clear()
                return


store.on_before_write(_close_kept)
# Close what is kept before the interpreter shuts down: a DuckDB database torn down during finalisation (its
# connection's last reference dropped by the garbage collector) can abort the process.
atexit.register(_close_kept)


@contextlib.contextmanager
def rerun_reader() -> Iterator[None]:
    """Share one read-only connection among this rerun's uncached queries; close it when the rerun ends."""
    token = _RERUN.set({})
    try:
        yield
    finally:
        release_reader()
        _RERUN.reset(token)


def release_reader() -> None:
    """Close this rerun's shared connection (before a write: DuckDB allows one configuration per file)."""
    held = _RERUN.get()
    if held and held.get("cm") is not None:
        cm = held.pop("cm")
        held.pop("con", None)
        cm.__exit__(None, None, None)
        _rerun_done(held.get("path"))


def _rerun_done(path: str | None) -> None:
    """A rerun stopped reading path: its database stays open KEEP_SECONDS from now."""
    with _KEEP_LOCK:
        kept = _KEPT.get(path) if path else None
        if kept is not None:
            kept["active"] = max(0, kept["active"] - 1)
            kept["until"] = time.monotonic() + KEEP_SECONDS


# DuckDB keeps the blocks it has read in its buffer pool up to memory_limit (default 80 % of RAM). The dashboard
# only reads: 256 MB plus a tenth of the file keeps its process under 500 MB over every page at 1M leads (peak
# 507 -> 463 MiB, docs/performance.md) and leaves a 10M-lead file its working set (its queries as fast as uncapped;
# 256 MB flat made the 10M overview 1.5x slower).
MEMORY_BASE_BYTES = 256 * 2**20


def memory_limit_mb(path: str | Path) -> int:
    """The dashboard's DuckDB memory limit for the database file at path, in MiB."""
    return (MEMORY_BASE_BYTES + Path(path).stat().st_size // 10) // 2**20


# How long a reader lets a waiting writer go first. DuckDB gives the file to one writing process or to readers, so
# with ten sessions reading in turn a writer could wait for all of them (a 2-row import waited 18 s); a reader that
# sees the writer's marker lets it in first, and the writer then holds the file only for its own transaction.
YIELD_SECONDS = 5.0


def _yield_to_writer(path: str) -> None:
    """Wait (at most YIELD_SECONDS) while a writer in another process waits for the file."""
    deadline = time.monotonic() + YIELD_SECONDS
    while store.write_wanted(path) and time.monotonic() < deadline:
        time.sleep(0.05)


@contextlib.contextmanager
def _open_read(path: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to path with the dashboard's memory limit (a waiting writer goes first)."""
    _yield_to_writer(path)
    with store.connect(path, read_only=True) as con:
        con.execute("set memory_limit = ?", [f"{memory_limit_mb(path)}MiB"])
        yield con


def _reader(path: str) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]:
    """This rerun's shared connection to path (opened now if needed), or a connection of its own."""
    held = _RERUN.get()
    if held is None:
        return _open_read(path)
    if held.get("path") != path or held.get("con") is None:
        release_reader()
        _keep_open(path)
        cm = _open_read(path)
        held.update(path=path, cm=cm, con=cm.__enter__())
    return contextlib.nullcontext(held["con"])


# ---------------------------------------------------------------- the one results cache

# Every result a page reads is one st.cache_data entry keyed by (database file, data version, call); a call is keyed
# by its function's qualified name and its arguments (engine.Call.key), which carry the filters and the what-if
# scenario. Entries are shared by every session (eight sessions asking for the same numbers at once compute them
# once) and are not found again once the data version changes; they are dropped after an hour or beyond
# MAX_ENTRIES. A page's batch fills one entry per result (the overview twelve), where it used to fill one with
# all of them: 4096 hold about as many pages as the 512 batch entries did.
MAX_ENTRIES = 4096
# How a key's parts are hashed: a call by its key (a function object has no stable hash of its own); filters by
# their repr, which states every field (dates, tuples of ids and names, the view) at a fraction of the cost of
# hashing the dataclass field by field (a rerun hashes a dozen keys). A scenario is hashed by its content.
HASHED_AS = {engine.Call: engine.Call.key, Filters: repr}
_COMPUTE = object()  # _result's "run the call": no result handed in


@st.cache_data(show_spinner=False, max_entries=MAX_ENTRIES, ttl=3600, hash_funcs=HASHED_AS)
def _result(path: str, stamp: str, call: engine.Call, _given: Any = _COMPUTE) -> Any:
    """call's result on path at data version stamp: computed now, or _given when a batch computed it (prefetch)."""
    if _given is not _COMPUTE:
        return _given
    try:
        with _reader(path) as con:
            return call.run(con)
    finally:
        if store.write_wanted(path):  # a writer waits: let go of the file between queries, not at the rerun's end
            release_reader()
            _close_kept(path, idle_only=True)


def query(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run fn(con, *args, **kwargs) on a short read-only connection; cached until the data changes.

    Arguments must be hashable (Filters is a frozen dataclass). The function's qualified name is part of
    the key, so two functions never share results. What a page's prefetch computed is found there.
    """
    call = engine.Call.of(fn, *args, **kwargs)
    return _result(str(db_path()), version(), _frame_call(call) or call)


def kpi_frame(f: Filters, by: str | tuple[str, ...] = "none", lite: bool = False) -> pd.DataFrame:
    """KPI rows of one frame: the prefetched one, else computed (lite: without client metrics)."""
    return _result(str(db_path()), version(), _frame(f, by, lite))


def _frame(f: Filters, by: str | tuple[str, ...], lite: bool = False, scenario: Any = None) -> engine.Call:
    """The call a KPI frame is stored under, however a page asks for it: engine.grouped(f, dims, lite, scenario)."""
    return engine.Call.of(engine.grouped, f, engine.frame_dims(by), lite=lite, scenario=scenario)


def _frame_call(call: engine.Call) -> engine.Call | None:
    """The frame call of an engine.kpis / engine.grouped call for one frame (by and scenario given by position or
    name), so it finds the frame a page prefetched; None for any other call."""
    if call.name not in (engine.qualified_name(engine.kpis), engine.qualified_name(engine.grouped)):
        return None
    kwargs = dict(call.kwargs)
    if not call.args or len(call.args) > 2 or set(kwargs) - {"by", "scenario"}:
        return None
    by = kwargs.get("by", call.args[1] if len(call.args) > 1 else "none")
    if call.name == engine.qualified_name(engine.kpis) and by not in engine.BY_CHOICES:
        return None  # kpis refuses it: the call itself says why
    try:
        return _frame(call.args[0], by, False, kwargs.get("scenario"))
    except ValueError:
        return None


def prefetch(calls: tuple[engine.Call, ...]) -> None:
    """Compute a page's calls side by side (engine.together: two connections at once) and store each result under
    its own call, where the page's query() and kpi_frame() find it; a batch runs once per data version."""
    path, stamp = str(db_path()), version()
    _result(path, stamp, engine.Call.of(_side_by_side, path, stamp, tuple(calls)))


def prefetch_kpis(requests: tuple[tuple, ...], scenario: Any = None, alongside: tuple[engine.Call, ...] = ()) -> None:
    """Compute these KPI frames (metrics.page_frames; under a what-if scenario, if given) in one query, with the
    page's other calls in `alongside` beside it (prefetch); kpi_frame and query(engine.kpis / engine.grouped, ...)
    then find each frame."""
    prefetch((engine.Call.of(engine.kpis_many, tuple(requests), scenario=scenario), *alongside))


def _side_by_side(con: duckdb.DuckDBPyConnection, path: str, stamp: str, calls: tuple[engine.Call, ...]) -> None:
    """Run calls together on con and store each result under its own call (the batch's own entry holds nothing)."""
    for call, result in zip(calls, engine.together(con, calls), strict=True):
        if call.name == engine.qualified_name(engine.kpis_many):  # one query of frames: each under its own call
            requests, scenario = call.args[0], dict(call.kwargs).get("scenario")
            for request, rows in zip(requests, result, strict=True):
                lite = len(request) > 2 and request[2] == engine.LITE
                _result(path, stamp, _frame(request[0], request[1], lite, scenario), _given=rows)
        else:
            _result(path, stamp, _frame_call(call) or call, _given=result)

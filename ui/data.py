"""Cached, read-only access to the database for pages: results keyed by arguments and data version."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd
import streamlit as st

from data_layer import store, userdata
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
    _release_reader()
    return store.upgrade(path)


def ensure_schema() -> None:
    """Bring the dashboard's database up to the current schema (a short write, only when something is missing)."""
    path = db_path()
    if path.exists():
        _schema_checked(str(path), version())


# One read-only connection per rerun (opened at the first cache miss, closed when the rerun ends): opening the
# file costs ~20 ms whatever its size, and a cold page misses the cache a dozen times. Nobody holds the file
# longer than one rerun, so a sync in another process still gets its turn (store.connect waits for it).
_RERUN: ContextVar[dict[str, Any] | None] = ContextVar("partner_roi_rerun_reader", default=None)


@contextlib.contextmanager
def rerun_reader() -> Iterator[None]:
    """Share one read-only connection among this rerun's uncached queries; close it when the rerun ends."""
    token = _RERUN.set({})
    try:
        yield
    finally:
        _release_reader()
        _RERUN.reset(token)


def _release_reader() -> None:
    """Close this rerun's shared connection (before a write: DuckDB allows one configuration per file)."""
    held = _RERUN.get()
    if held and held.get("cm") is not None:
        cm = held.pop("cm")
        held.pop("con", None)
        cm.__exit__(None, None, None)


def _reader(path: str) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]:
    """This rerun's shared connection to path (opened now if needed), or a connection of its own."""
    held = _RERUN.get()
    if held is None:
        return store.connect(path, read_only=True)
    if held.get("path") != path or held.get("con") is None:
        _release_reader()
        cm = store.connect(path, read_only=True)
        held.update(path=path, cm=cm, con=cm.__enter__())
    return contextlib.nullcontext(held["con"])


@st.cache_data(show_spinner=False, max_entries=512, ttl=3600)
def _cached(path: str, stamp: str, fn_name: str, _fn: Callable[..., Any], args: tuple, kwargs_items: tuple) -> Any:
    with _reader(path) as con:
        return _fn(con, *args, **dict(kwargs_items))


def query(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run fn(con, *args, **kwargs) on a short read-only connection; cached until the data changes.

    Arguments must be hashable (Filters is a frozen dataclass). The function's qualified name is part of
    the key, so two functions never share results. KPI frames this rerun prefetched are served from there.
    """
    path = str(db_path())
    hit = _prefetched(path, fn, args, kwargs)
    if hit is not None:
        return hit
    name = f"{fn.__module__}.{fn.__qualname__}"
    return _cached(path, version(), name, fn, args, tuple(sorted(kwargs.items())))


# KPI frames a page asked for together (metrics.page_frames): one batched query, cached as one entry, then
# served to the page's query(engine.kpis / engine.grouped, f, by=...) calls for this session and data version.
PREFETCH_KEY = "_kpi_prefetch"


def _frame_key(args: tuple, kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    """(filters, dims, lite, scenario) of a kpis / grouped call, else None."""
    if not args or set(kwargs) - {"by", "scenario"} or len(args) > 2:
        return None
    by = kwargs.get("by", args[1] if len(args) > 1 else "none")
    try:
        return (args[0], engine.frame_dims(by), False, kwargs.get("scenario"))
    except ValueError:
        return None


def _request_key(path: str, stamp: str, request: tuple, scenario: Any = None) -> tuple[Any, ...]:
    lite = len(request) > 2 and request[2] == engine.LITE
    return (path, stamp, request[0], engine.frame_dims(request[1]), lite, scenario)


def prefetch_kpis(requests: tuple[tuple, ...], scenario: Any = None) -> None:
    """Compute these KPI frames (under a what-if scenario, if given) in one query; this session's kpi_frame and
    query(engine.kpis / engine.grouped, ...) calls then read them while the data version holds."""
    path, stamp = str(db_path()), version()
    frames = _cached(path, stamp, "metrics.engine.kpis_many", engine.kpis_many, (tuple(requests),),
                     (("scenario", scenario),))
    kept = {k: v for k, v in (st.session_state.get(PREFETCH_KEY) or {}).items() if k[:2] == (path, stamp)}
    kept.update({_request_key(path, stamp, r, scenario): df for r, df in zip(requests, frames, strict=True)})
    st.session_state[PREFETCH_KEY] = kept


def kpi_frame(f: Filters, by: str | tuple[str, ...] = "none", lite: bool = False) -> pd.DataFrame:
    """KPI rows of one frame: the prefetched one, else computed (lite: without client metrics)."""
    request = (f, by, engine.LITE) if lite else (f, by)
    frames = st.session_state.get(PREFETCH_KEY) or {}
    hit = frames.get(_request_key(str(db_path()), version(), request))
    return hit.copy() if hit is not None else query(engine.kpis_many, (request,))[0]


def _prefetched(path: str, fn: Callable[..., Any], args: tuple, kwargs: dict[str, Any]) -> Any:
    if fn not in (engine.kpis, engine.grouped):
        return None
    key = _frame_key(args, kwargs)
    frames = st.session_state.get(PREFETCH_KEY) or {}
    hit = frames.get((path, version(), *key)) if key is not None else None
    return hit.copy() if hit is not None else None


def write(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run fn(con, *args, **kwargs) in one write transaction, then bump the data version."""
    path = db_path()
    _release_reader()
    with store.connect(path) as con, userdata.atomic(con):
        result = fn(con, *args, **kwargs)
    store.bump_version(path)
    return result

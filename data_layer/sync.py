"""`python -m data_layer sync`: amoCRM → DuckDB, incremental, interruption-safe, at the rate limit.

Design (docs/sync.md has the long version):

* **fetch** — worker threads share one RateLimiter. A worker first takes a rate grant, *then* asks the
  most urgent source for a request, so speculative pages are claimed only when they can be sent.
* **sources** — ``KeysetWalk``: an updated_at window walked by keyset (``filter[updated_at][from]`` moves
  to the last row's second; ties re-read) from both ends at once; unlike page numbers it never skips a
  row when leads are edited mid-walk. ``PageWalk``: page numbers, several in flight, for immutable
  events in a fixed created_at window and for reference lists. ``IdBatches``: contacts / companies the
  leads reference, 250 ids per request.
* **write** — the main thread collects pages and every ``commit_seconds`` writes them together with the
  sources' checkpoints (``sync_state`` rows) in one transaction, opening the database only for that
  write. A SIGKILL loses at most the uncommitted pages; the next run resumes from the checkpoints and
  then runs a normal incremental pass, ending with the same content as an uninterrupted sync.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import itertools
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from data_layer import normalise, save, store
from data_layer.client import AmoClient, embedded, has_next, open_client
from data_layer.config import AmoConfig, load_config
from data_layer.errors import AmoError, ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TZ = "Europe/Moscow"
LEADS_WITH = "contacts,loss_reason,source_id"
EVENT_TYPES = ("lead_status_changed", "lead_deleted")
BATCH_IDS = 250
# Reference lists: (kind, path, `_embedded` key, page size); replaced whole on every run.
REFERENCE = (
    ("users", "/api/v4/users", "users", 250),
    ("pipelines", "/api/v4/leads/pipelines", "pipelines", 250),
    ("lead_fields", "/api/v4/leads/custom_fields", "custom_fields", 50),
    ("loss_reasons", "/api/v4/leads/loss_reasons", "loss_reasons", 250),
    ("sources", "/api/v4/sources", "sources", 250),
)
# Progress labels in display order.
ENTITIES = ("reference", "leads", "deleted", "events", "contacts", "companies")
Checkpoint = dict[str, int | None]


# ================================================================ fetch: sources

@dataclass
class Req:
    """One request a source wants sent."""

    source: Source
    path: str
    params: list[tuple[str, Any]]
    tag: Any = None


@dataclass
class Item:
    """Fetched records of one kind plus the checkpoint that is valid once they are stored."""

    kind: str
    records: list[dict] = field(default_factory=list)
    checkpoint: Checkpoint = field(default_factory=dict)
    entity: str = ""


class Source:
    """A stream of requests; every method runs under the fetcher's lock."""

    entity = "reference"
    priority = 9

    def __init__(self, emit: Callable[[Item], None]) -> None:
        self.emit = emit
        self.inflight = 0
        self.records = 0
        self.requests = 0
        self.closed = False

    def ready(self) -> bool:
        """Whether claim() would return a request now."""
        raise NotImplementedError

    def claim(self) -> Req | None:
        """The next request to send now, or None when nothing is ready."""
        raise NotImplementedError

    def handle(self, req: Req, body: dict | None) -> None:
        """Digest one response (None = 204 / empty)."""
        raise NotImplementedError

    def finished(self) -> bool:
        """True when the source will never have another request."""
        raise NotImplementedError

    def close(self) -> None:
        """Called once after finished(): emit the completion checkpoint."""

    def fraction(self) -> float | None:
        """Share of the work done, when it can be estimated."""
        return 1.0 if self.closed else None


def _ts(record: dict) -> int | None:
    return normalise._int(record.get("updated_at"))


class KeysetWalk(Source):
    """An updated_at window [lo, hi] walked by keyset from the bottom (and the top when ``both_ends``).

    Each request asks for the first (last) 250 rows with updated_at >= lo (<= hi); the cursor moves to the
    last row's second, re-reading rows of that second. Rows edited during the walk leave the window
    (their updated_at passes hi) without shifting the rest, so nothing is skipped. When a whole page
    shares one second, that second is paged by id. Checkpoint rows: <key>~to, <key>~asc, <key>~desc.
    """

    def __init__(self, emit: Callable[[Item], None], *, key: str, kind: str, entity: str, path: str,
                 params: list[tuple[str, Any]], lo: int, hi: int, plan_to: int, both_ends: bool,
                 priority: int, on_records: Callable[[list[dict]], None] | None = None,
                 limit: int = 250) -> None:
        super().__init__(emit)
        self.key, self.kind, self.entity, self.path = key, kind, entity, path
        self.list_key = path.rsplit("/", 1)[-1]  # /api/v4/leads -> `_embedded.leads`
        self.base, self.limit, self.priority = params, limit, priority
        self.lo, self.hi, self.plan_to = lo, hi, plan_to
        self.both_ends, self.desc_on = both_ends, False
        self.busy: set[str] = set()
        self.tie: dict[str, Any] | None = None
        self.done = lo > hi
        self.on_records = on_records
        self._first_seen: int | None = None

    def _params(self, lo: int, hi: int, order: str, page: int = 1) -> list[tuple[str, Any]]:
        field_, direction = order.split()
        return [*self.base, ("filter[updated_at][from]", lo), ("filter[updated_at][to]", hi),
                (f"order[{field_}]", direction), ("limit", self.limit), ("page", page)]

    def ready(self) -> bool:
        if self.done:
            return False
        if self.tie is not None:
            return "tie" not in self.busy
        return "asc" not in self.busy or (self.desc_on and "desc" not in self.busy)

    def claim(self) -> Req | None:
        if not self.ready():
            return None
        if self.tie is not None:
            self.busy.add("tie")
            s = self.tie["second"]
            return Req(self, self.path, self._params(s, s, "id asc", self.tie["page"]), ("tie", s, s))
        if "asc" not in self.busy:
            self.busy.add("asc")
            return Req(self, self.path, self._params(self.lo, self.hi, "updated_at asc"), ("asc", self.lo, self.hi))
        if self.desc_on and "desc" not in self.busy:
            self.busy.add("desc")
            return Req(self, self.path, self._params(self.lo, self.hi, "updated_at desc"),
                       ("desc", self.lo, self.hi))
        return None  # only while a tie walk holds the window

    def handle(self, req: Req, body: dict | None) -> None:
        direction, lo, hi = req.tag
        self.busy.discard(direction)
        items = embedded(body, self.list_key)
        if not self.done:
            self._advance(direction, lo, hi, items)
        if items and self.on_records:
            self.on_records(items)
        self.records += len(items)
        self.emit(Item(self.kind, items, self.checkpoint(), self.entity))

    def _advance(self, direction: str, lo: int, hi: int, items: list[dict]) -> None:
        stamps = [t for t in (_ts(x) for x in items) if t is not None]
        full = len(items) >= self.limit
        if direction == "tie":
            if full:
                self.tie["page"] += 1  # type: ignore[index]
            else:
                self._end_tie()
        elif not full:
            self.done = True  # everything in [lo, hi] ⊇ the current window has been read
        elif direction == "asc":
            self._first_seen = min(stamps) if self._first_seen is None and stamps else self._first_seen
            top = max(stamps, default=lo)
            if top <= lo:
                self.tie = {"second": lo, "dir": "asc", "page": 1}
            else:
                self.lo = max(self.lo, top)
                self.desc_on = self.both_ends
        else:
            bottom = min(stamps, default=hi)
            if bottom >= hi:
                self.tie = {"second": hi, "dir": "desc", "page": 1}
            else:
                self.hi = min(self.hi, bottom)
        if self.lo > self.hi:
            self.done = True

    def _end_tie(self) -> None:
        assert self.tie is not None
        if self.tie["dir"] == "asc":
            self.lo = max(self.lo, self.tie["second"] + 1)
        else:
            self.hi = min(self.hi, self.tie["second"] - 1)
        self.tie = None

    def checkpoint(self) -> Checkpoint:
        """Rows that let a later run continue this walk."""
        return {f"{self.key}~to": self.plan_to, f"{self.key}~asc": self.lo, f"{self.key}~desc": self.hi}

    def finished(self) -> bool:
        return self.done and not self.busy

    def close(self) -> None:
        self.closed = True
        self.emit(Item(self.kind, [], {self.key: self.plan_to, f"{self.key}~to": None,
                                       f"{self.key}~asc": None, f"{self.key}~desc": None}, self.entity))

    def fraction(self) -> float | None:
        if self.closed or self.done:
            return 1.0
        start = self._first_seen
        if start is None or self.plan_to <= start:
            return 0.0
        covered = max(0, self.lo - start) + max(0, self.plan_to - self.hi)
        return min(0.99, covered / (self.plan_to - start))


class PageWalk(Source):
    """Page numbers 1..n of one query, up to ``max_inflight`` at once once page 1 came back full.

    Safe for events: they never change, and new ones fall after the window's fixed upper bound. With
    ``collect`` the pages are emitted as one item at the end (reference lists are replaced whole).
    """

    def __init__(self, emit: Callable[[Item], None], *, kind: str, entity: str, path: str, key: str,
                 params: list[tuple[str, Any]], limit: int, priority: int, max_inflight: int = 1,
                 start_page: int = 1, state_key: str | None = None, plan: tuple[int, int] | None = None,
                 collect: bool = False) -> None:
        super().__init__(emit)
        self.kind, self.entity, self.path, self.key = kind, entity, path, key
        self.base, self.limit, self.priority = params, limit, priority
        self.max_inflight = max_inflight
        self.next_page = self.contiguous_from = start_page
        self.contiguous = start_page - 1
        self.end: int | None = None
        self.speculate = False
        self.pages: set[int] = set()
        self.done_pages: set[int] = set()
        self.state_key, self.plan = state_key, plan
        self.collect = collect
        self.collected: list[dict] = []
        self.page_count: int | None = None

    def ready(self) -> bool:
        if self.end is not None and self.next_page > self.end:
            return False
        return not (self.pages and (not self.speculate or len(self.pages) >= self.max_inflight))

    def claim(self) -> Req | None:
        if not self.ready():
            return None
        page = self.next_page
        self.next_page += 1
        self.pages.add(page)
        return Req(self, self.path, [*self.base, ("limit", self.limit), ("page", page)], page)

    def handle(self, req: Req, body: dict | None) -> None:
        page = req.tag
        self.pages.discard(page)
        if self.end is not None and page > self.end:
            return  # a speculative page past the end
        items = embedded(body, self.key)
        if isinstance(body, dict) and isinstance(body.get("_page_count"), int):
            self.page_count = body["_page_count"]
        if has_next(body, len(items), self.limit, page):
            self.speculate = True
        else:
            last = page if items else page - 1
            self.end = last if self.end is None else min(self.end, last)
        self.done_pages.add(page)
        while self.contiguous + 1 in self.done_pages:
            self.contiguous += 1
        self.records += len(items)
        if self.collect:
            self.collected += items
        elif items:
            self.emit(Item(self.kind, items, self.checkpoint(), self.entity))

    def checkpoint(self) -> Checkpoint:
        """Rows that let a later run continue at the first page not yet stored."""
        if not self.state_key or not self.plan:
            return {}
        k = self.state_key
        return {f"{k}~from": self.plan[0], f"{k}~to": self.plan[1], f"{k}~page": self.contiguous}

    def finished(self) -> bool:  # pages still in flight are past the end (no data): the fetch need not wait
        return self.end is not None and self.contiguous >= self.end

    def close(self) -> None:
        self.closed = True
        if self.collect:
            self.emit(Item(self.kind, self.collected, {}, self.entity))
        elif self.state_key and self.plan:
            k = self.state_key
            self.emit(Item(self.kind, [], {k: self.plan[1], f"{k}~from": None, f"{k}~to": None,
                                           f"{k}~page": None}, self.entity))

    def fraction(self) -> float | None:
        if self.closed:
            return 1.0
        if self.page_count:
            return min(0.99, self.contiguous / self.page_count)
        return None


class IdBatches(Source):
    """Contacts or companies by id, ≤ 250 per request, fed by the lead walks (never one request per id)."""

    def __init__(self, emit: Callable[[Item], None], *, kind: str, path: str, key: str, priority: int,
                 feeders: list[Source], known: set[int], completion: Checkpoint) -> None:
        super().__init__(emit)
        self.kind, self.entity, self.path, self.key, self.priority = kind, kind, path, key, priority
        self.feeders = feeders
        self.known = known            # ids not to fetch (already stored and fresh enough)
        self.pending: dict[int, None] = {}
        self.queued = 0
        self.completion = completion

    def add(self, ids: list[int]) -> None:
        """Queue ids not known and not queued yet."""
        for i in ids:
            if i not in self.known:
                self.known.add(i)
                self.pending[i] = None
                self.queued += 1

    def covered(self, ids: list[int]) -> None:
        """Ids another source just stored: no need to fetch them."""
        for i in ids:
            self.known.add(i)
            self.pending.pop(i, None)

    def _feeders_done(self) -> bool:
        return all(f.finished() for f in self.feeders)

    def ready(self) -> bool:
        return len(self.pending) >= BATCH_IDS or bool(self.pending and self._feeders_done())

    def claim(self) -> Req | None:
        if not self.ready():
            return None
        ids = list(itertools.islice(self.pending, BATCH_IDS))
        for i in ids:
            del self.pending[i]
        params = [("filter[id][]", i) for i in ids] + [("limit", BATCH_IDS)]
        return Req(self, self.path, params, ids)

    def handle(self, req: Req, body: dict | None) -> None:
        items = embedded(body, self.key)
        self.records += len(items)
        if items:
            self.emit(Item(self.kind, items, {}, self.entity))

    def finished(self) -> bool:
        return not self.pending and self.inflight == 0 and self._feeders_done()

    def close(self) -> None:
        self.closed = True
        if self.completion:
            self.emit(Item(self.kind, [], dict(self.completion), self.entity))

    def fraction(self) -> float | None:
        if self.closed:
            return 1.0
        return min(0.99, self.records / self.queued) if self.queued else None


# ================================================================ fetch: the worker pool

class Fetcher:
    """Worker threads that feed every source's requests through the shared limiter."""

    def __init__(self, client: AmoClient, sources: list[Source], workers: int) -> None:
        self.client = client
        self.sources = sorted(sources, key=lambda s: s.priority)
        self.workers = max(1, workers)
        self.cv = threading.Condition()
        self.error: BaseException | None = None
        self.stopped = False
        self._threads: list[threading.Thread] = []

    def start(self) -> Fetcher:
        """Start the workers."""
        with self.cv:
            self._close_finished()
        for n in range(self.workers):
            t = threading.Thread(target=self._worker, name=f"amocrm-fetch-{n}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        """Ask the workers to stop after their current request."""
        with self.cv:
            self.stopped = True
            self.cv.notify_all()

    def join(self, timeout: float = 5.0) -> None:
        """Wait for the workers (daemon threads: a stuck request never blocks exit)."""
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    def finished(self) -> bool:
        """Every source finished and closed (or the fetch stopped)."""
        with self.cv:
            return self.stopped or self.error is not None or all(s.closed for s in self.sources)

    def _close_finished(self) -> None:
        for s in self.sources:
            if not s.closed and s.finished():
                s.close()

    def _ready(self) -> bool | None:
        """True when some source can hand out a request, None when the fetch is over."""
        if self.stopped or self.error is not None or all(s.closed for s in self.sources):
            return None
        return any(not s.closed and s.ready() for s in self.sources)

    def _claim(self) -> Req | None:
        for s in self.sources:
            if s.closed:
                continue
            req = s.claim()
            if req is not None:
                s.inflight += 1
                s.requests += 1
                return req
        return None

    def _worker(self) -> None:
        while True:
            with self.cv:
                ready = self._ready()
                while ready is False:
                    self.cv.wait(0.2)
                    ready = self._ready()
                if ready is None:
                    self.cv.notify_all()
                    return
            stamp = self.client.limiter.acquire()
            with self.cv:
                req = None if self.stopped or self.error else self._claim()
            if req is None:
                self.client.limiter.cancel(stamp)
                continue
            try:
                body = self.client.get(req.path, req.params, slot=stamp, not_found_ok=True)
            except BaseException as exc:  # one failure stops the fetch; the writer reports it
                with self.cv:
                    req.source.inflight -= 1
                    self.error = self.error or exc
                    self.cv.notify_all()
                return
            with self.cv:
                req.source.inflight -= 1
                try:
                    req.source.handle(req, body)
                    self._close_finished()
                except BaseException as exc:
                    self.error = self.error or exc
                self.cv.notify_all()

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Per-entity progress: records, requests, fraction, done."""
        out: dict[str, dict[str, Any]] = {}
        with self.cv:
            for s in self.sources:
                e = out.setdefault(s.entity, {"records": 0, "requests": 0, "fractions": [], "done": True})
                e["records"] += s.records
                e["requests"] += s.requests
                e["fractions"].append(s.fraction())
                e["done"] = e["done"] and s.closed
        for e in out.values():
            known = [f for f in e.pop("fractions") if f is not None]
            e["fraction"] = 1.0 if e["done"] else (min(known) if known else None)
        return out


# ================================================================ plan

@dataclass
class Plan:
    """What one pass fetches, derived from sync_state."""

    upper: int
    resumed: bool
    state: dict[str, int]
    walks: dict[str, tuple[int, int, int]] = field(default_factory=dict)   # key -> (lo, hi, plan_to)
    events: tuple[int, int, int] = (0, 0, 1)                                # (from, to, start page)
    contact_modes: dict[str, str] = field(default_factory=dict)             # contacts/companies -> ids|walk
    reset: Checkpoint = field(default_factory=dict)                         # stale plan rows to drop


def read_state(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """All sync_state rows as {entity: watermark}."""
    return {k: int(v) for k, v in con.execute("select entity, watermark from sync_state").fetchall()
            if v is not None}


def _walk_plan(key: str, state: dict[str, int], full: bool, upper: int, overlap: int) -> tuple[tuple, bool]:
    """(lo, hi, plan_to) for a keyset walk, and whether it resumes an interrupted one."""
    if not full and f"{key}~to" in state:
        to = state[f"{key}~to"]
        return (state.get(f"{key}~asc", 0), state.get(f"{key}~desc", to), to), True
    wm = None if full else state.get(key)
    return ((0 if wm is None else max(0, wm - overlap)), upper, upper), False


def make_plan(state: dict[str, int], full: bool, upper: int, overlap: int) -> Plan:
    """Decide windows: resume interrupted walks, otherwise [watermark − overlap, upper] or everything."""
    plan = Plan(upper=upper, resumed=False, state=state)
    if full:
        plan.reset = {k: None for k in state if "~" in k}
    for key in ("leads", "deleted"):
        plan.walks[key], resumed = _walk_plan(key, state, full, upper, overlap)
        plan.resumed |= resumed
    if not full and "events~to" in state:
        plan.events = (state.get("events~from", 0), state["events~to"], max(1, state.get("events~page", 0)))
        plan.resumed = True  # restart one page early: re-reading a page is cheaper than trusting it
    else:
        wm = None if full else state.get("events")
        plan.events = (0 if wm is None else max(0, wm - overlap), upper, 1)
    for kind in ("contacts", "companies"):
        if not full and f"{kind}~asc" in state:
            plan.walks[kind], _ = _walk_plan(kind, state, False, upper, overlap)
            plan.contact_modes[kind], plan.resumed = "walk", True
        elif not full and f"{kind}~to" in state:
            plan.contact_modes[kind], plan.resumed = "ids", True
        elif not full and kind in state:
            plan.walks[kind], _ = _walk_plan(kind, state, False, upper, overlap)
            plan.contact_modes[kind] = "walk"
        else:
            plan.contact_modes[kind] = "ids"
    return plan


def _ids_completion(kind: str, plan: Plan, full: bool) -> Checkpoint:
    """Watermark after fetching every referenced contact by id.

    A fresh by-id pass refetched everything it references, so the upper bound is safe. A resumed one
    may have skipped stale rows stored before it started, so it keeps the older watermark and the next
    pass walks the changes since then.
    """
    resumed = not full and f"{kind}~to" in plan.state
    if not resumed:
        return {kind: plan.upper, f"{kind}~to": None, f"{kind}~base": None}
    base = plan.state.get(f"{kind}~base", -1)
    wm = base if base >= 0 else plan.state[f"{kind}~to"]
    return {kind: wm, f"{kind}~to": None, f"{kind}~base": None}


def _ids_start(kind: str, plan: Plan, full: bool) -> Checkpoint:
    """Plan rows of a by-id pass, written with its first data."""
    if not full and f"{kind}~to" in plan.state:
        return {}
    base = plan.state.get(kind, -1)
    return {f"{kind}~to": plan.upper, f"{kind}~base": base}


# ================================================================ write

@dataclass
class RunStats:
    """What one sync did, for the summary line and sync_runs."""

    mode: str = "incremental"
    records: dict[str, int] = field(default_factory=dict)
    written: bool = False
    started: float = field(default_factory=time.monotonic)


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
            batches.append(normalise.normalise_companies(latest_by_id(by_kind["companies"])))
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
        batch["raw_sources"] = [{"id": normalise._int(r.get("id")), "name": normalise._text(r.get("name"))}
                                for r in records]
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


# ================================================================ one pass

Known = dict[str, tuple[set[int], list[int]]]


def known_ids(con: duckdb.DuckDBPyConnection) -> Known:
    """Per kind: ids stored, and ids referenced by stored leads but missing."""
    out = {}
    for kind, link, col in (("contacts", "raw_lead_contacts", "contact_id"),
                            ("companies", "raw_lead_companies", "company_id")):
        stored = {r[0] for r in con.execute(
            store.sql_with_names("select id from {t}", t=f"raw_{kind}")).fetchall()}
        refs = {r[0] for r in con.execute(store.sql_with_names(
            "select distinct {c} from {t} where {c} is not null", c=col, t=link)).fetchall()}
        out[kind] = (stored, sorted(refs - stored))
    return out


def pass_inputs(db_path: Path) -> tuple[dict[str, int], Known]:
    """sync_state and the contact/company ids, read in one short read-only connection."""
    with store.connect(db_path, read_only=True) as con:
        return read_state(con), known_ids(con)


def build_sources(plan: Plan, emit: Callable[[Item], None], known: Known, full: bool,
                  with_reference: bool) -> list[Source]:
    """Every source of one pass."""
    sources: list[Source] = []
    if with_reference:
        for kind, path, key, limit in REFERENCE:
            sources.append(PageWalk(emit, kind=kind, entity="reference", path=path, key=key, params=[],
                                    limit=limit, priority=0, collect=True))
    batches: dict[str, IdBatches] = {}
    lead_walks: list[Source] = []

    def feed(items: list[dict]) -> None:
        for kind, key in (("contacts", "contacts"), ("companies", "companies")):
            ids = [normalise._int(x.get("id")) for rec in items for x in normalise._embedded(rec, key)]
            batches[kind].add([i for i in ids if i is not None])

    for key, kind, params, prio, both in (("leads", "leads", [("with", LEADS_WITH)], 1, True),
                                          ("deleted", "leads", [("with", "only_deleted")], 2, False)):
        lo, hi, to = plan.walks[key]
        lead_walks.append(KeysetWalk(emit, key=key, kind=kind, entity=key, path="/api/v4/leads", params=params,
                                     lo=lo, hi=hi, plan_to=to, both_ends=both, priority=prio,
                                     on_records=feed if key == "leads" else None))
    for kind in ("contacts", "companies"):
        stored, missing = known[kind]
        mode = plan.contact_modes[kind]
        completion = _ids_completion(kind, plan, full) if mode == "ids" else {}
        batch = IdBatches(emit, kind=kind, path=f"/api/v4/{kind}", key=kind, priority=3, feeders=lead_walks,
                          known=set() if mode == "ids" else set(stored), completion=completion)
        batch.add(missing)
        batches[kind] = batch
        sources.append(batch)
        if mode == "ids":
            start = _ids_start(kind, plan, full)
            if start:
                emit(Item(kind, [], start, kind))
        else:
            lo, hi, to = plan.walks[kind]
            sources.append(KeysetWalk(emit, key=kind, kind=kind, entity=kind, path=f"/api/v4/{kind}", params=[],
                                      lo=lo, hi=hi, plan_to=to, both_ends=False, priority=4,
                                      on_records=lambda items, b=batch: b.covered(
                                          [i for i in (normalise._int(x.get("id")) for x in items) if i])))
    lo, hi, page = plan.events
    params = [*(("filter[type][]", t) for t in EVENT_TYPES), ("filter[entity][]", "lead"),
              ("filter[created_at][from]", lo), ("filter[created_at][to]", hi)]
    sources.append(PageWalk(emit, kind="events", entity="events", path="/api/v4/events", key="events",
                            params=params, limit=100, priority=5, max_inflight=4, start_page=page,
                            state_key="events", plan=(lo, hi)))
    return [*lead_walks, *sources]


def run_pass(client: AmoClient, config: AmoConfig, writer: Writer, plan: Plan, known: Known, full: bool,
             early: Any, report: Callable[[Fetcher | None], None],
             last: Callable[[duckdb.DuckDBPyConnection], None] | None = None) -> None:
    """Fetch one plan and store it window by window; raise the first fetch error after storing what came.

    ``early`` (first pass: a sync_run.EarlyStart) is already fetching the account and reference lists;
    ``last`` (sync_run.last_write) ends the final transaction of the run's last pass."""
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


# ================================================================ the whole sync

@dataclass
class SyncResult:
    """Outcome of one sync run."""

    ok: bool
    mode: str
    records: dict[str, int]
    requests: int
    throttled: int
    seconds: float
    message: str

    def summary(self) -> str:
        """One line: entities, requests, 429s, seconds."""
        parts = [f"{_num(self.records.get(e, 0))} {e}" for e in ENTITIES if e != "reference"]
        head = "Synced" if self.ok else "Sync failed"
        return (f"{head} ({self.mode}): {', '.join(parts)}; {_num(self.requests)} requests, "
                f"{_num(self.throttled)} × 429, {self.seconds:.1f} s." + ("" if self.ok else f" {self.message}"))


def _num(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _account_timezone(account: dict) -> str:
    tz = ((account.get("_embedded") or {}).get("datetime_settings") or {}).get("timezone") or DEFAULT_TZ
    try:
        ZoneInfo(str(tz))
        return str(tz)
    except (KeyError, ValueError):
        return DEFAULT_TZ


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# Demo data a --replace-demo drops besides the raw tables (settings and the audit log stay).
DEMO_TABLES = ("lead_facts", *store.DERIVED_TABLES, "saved_mapping_preview", "sync_state", "meta",
               "cost_ledger", "commission_rules", "partners", "scenarios", "goals", "payout_events", "payouts")


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
         replace_demo: bool = False) -> SyncResult:
    """Run one sync (full the first time, incremental later); raise AmoError after recording a failure."""
    db_path = Path(db_path)
    started = time.monotonic()
    config = config or load_config(db_path)
    with single_sync(db_path):
        own_client = client is None
        client = client or open_client(config)
        from data_layer import sync_run  # it builds on this module's sources

        early = sync_run.EarlyStart(client, config.workers)  # account + reference requests overlap the db's opening
        try:
            run_id, mode, inputs = sync_run.open_run(db_path, replace_demo, full)
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
            account_name = normalise._text(account.get("name"))
            writer = Writer(db_path, _account_timezone(account), stats)
            last = sync_run.last_write(run_id, lambda: _result(True, stats, client, ""), account_name)
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
                sync_run.finish_run(db_path, run_id, result, account_name)
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


# ================================================================ progress

class Progress:
    """Per-entity bars on a terminal, plain lines otherwise, and optionally a JSON file for the app."""

    def __init__(self, stream: Any = None, json_path: Path | None = None, interval: float = 0.5) -> None:
        self.stream = stream
        self.json_path = json_path
        self.tty = bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())
        self.interval = interval
        self.line_interval = interval if self.tty else 5.0  # plain logs get a line every few seconds
        self._last = self._last_line = 0.0
        self._drawn = 0
        self.started_at = _now_iso()

    def update(self, fetcher: Fetcher | None, client: AmoClient, stats: RunStats, status: str,
               message: str | None = None) -> None:
        """Record the current state; draw at most every ``interval`` seconds (always for the final state)."""
        now = time.monotonic()
        if status == "running" and now - self._last < self.interval:
            return
        self._last = now
        entities = fetcher.snapshot() if fetcher else {}
        for name, count in stats.records.items():
            entities.setdefault(name, {"records": 0, "requests": 0, "fraction": None, "done": False})
            entities[name]["stored"] = count
        doc = {"pid": os.getpid(), "status": status, "mode": stats.mode, "started_at": self.started_at,
               "updated_at": _now_iso(), "entities": entities, "requests": client.stats.requests,
               "throttled": client.stats.throttled, "seconds": round(now - stats.started, 1), "message": message}
        if self.json_path:
            write_json_atomic(self.json_path, doc)
        if self.stream is not None and status == "running" and now - self._last_line >= self.line_interval:
            self._last_line = now
            self._draw(entities, doc)

    def _draw(self, entities: dict[str, dict], doc: dict) -> None:
        shown = [(name, entities[name]) for name in ENTITIES if name in entities]
        tail = f"{_num(doc['requests'])} requests, {_num(doc['throttled'])} × 429, {doc['seconds']} s"
        if self.tty:
            lines = [f"{name:<10} {_bar(e.get('fraction'))} {_num(e['records']):>10}" for name, e in shown]
            up = f"\x1b[{self._drawn}F" if self._drawn else ""
            self.stream.write(up + "".join(f"\x1b[2K{line}\n" for line in [*lines, tail]))
            self._drawn = len(lines) + 1
        else:
            parts = [f"{name} {_num(e['records'])}" + (f" ({100 * e['fraction']:.0f} %)"
                                                        if e.get("fraction") is not None else "")
                     for name, e in shown]
            self.stream.write(f"{'; '.join(parts)} — {tail}\n")
        self.stream.flush()


def _bar(fraction: float | None, width: int = 24) -> str:
    """[#####-----]  45 % (dots when the share cannot be estimated)."""
    if fraction is None:
        return f"[{'.' * width}]     "
    done = int(width * fraction)
    return f"[{'#' * done}{'-' * (width - done)}] {100 * fraction:3.0f} %"


def write_json_atomic(path: Path, doc: dict) -> None:
    """Write JSON via a temp file and rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)


# ================================================================ Settings page helpers

def progress_path(db_path: str | Path) -> Path:
    """Where a background sync writes its progress."""
    return store.sidecar(db_path, ".sync-progress.json")


def test_connection(config: AmoConfig) -> tuple[bool, str, str | None]:
    """Ask amoCRM for the account: (ok, sentence, account name)."""
    try:
        with open_client(config) as client:
            account = client.get("/api/v4/account") or {}
    except AmoError as exc:
        return False, str(exc), None
    name = normalise._text(account.get("name"))
    return True, f"Connected to amoCRM account «{name or '?'}».", name


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite its name


def start_background_sync(db_path: str | Path, full: bool = False,
                          replace_demo: bool = False) -> subprocess.Popen:
    """Run the CLI in a detached subprocess writing progress JSON to ``<db>.sync-progress.json``."""
    db_path = Path(db_path)
    current = read_progress(db_path)
    if current and current.get("status") in ("starting", "running") and _alive(current.get("pid")):
        raise ConfigError("A sync of this database is already running.")
    progress = progress_path(db_path)
    write_json_atomic(progress, {"pid": None, "status": "starting", "updated_at": _now_iso(), "entities": {}})
    cmd = [sys.executable, "-m", "data_layer", "sync", "--db", str(db_path.resolve()),
           "--progress-file", str(progress.resolve())]
    if full:
        cmd.append("--full")
    if replace_demo:
        cmd.append("--replace-demo")
    log = open(store.sidecar(db_path, ".sync.log"), "ab")
    try:
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    finally:
        log.close()
    with contextlib.suppress(ValueError, OSError):  # the child may already have written its own progress
        doc = json.loads(progress.read_text(encoding="utf-8"))
        if doc.get("status") == "starting":
            write_json_atomic(progress, {**doc, "pid": proc.pid})
    return proc


def _alive(pid: Any) -> bool:
    """Whether a process runs; a zombie (finished, not yet reaped by the app that started it) does not."""
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        if Path(f"/proc/{int(pid)}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def read_progress(db_path: str | Path) -> dict | None:
    """The last progress of a background sync; a 'running' sync whose process died reads as failed."""
    try:
        doc = json.loads(progress_path(db_path).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    if doc.get("status") in ("starting", "running") and doc.get("pid") and not _alive(doc["pid"]):
        doc["status"] = "failed"
        doc["message"] = ("The sync process stopped before finishing (killed or crashed); start it again — "
                          "it resumes where it stopped.")
    return doc


# ================================================================ CLI

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `python -m data_layer sync`."""
    parser.add_argument("--db", type=Path, default=store.DEFAULT_DB, help="DuckDB file (default %(default)s)")
    parser.add_argument("--full", action="store_true", help="re-read everything (user data is kept)")
    parser.add_argument("--progress-file", type=Path, default=None, help="write progress JSON here")
    parser.add_argument("--replace-demo", action="store_true",
                        help="allow syncing into a database that holds the demo account (drops it)")


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Entry point of the CLI: 0 on success, 1 with a one-sentence reason on failure."""
    with contextlib.suppress(ValueError):  # only possible in the main thread
        signal.signal(signal.SIGTERM, _on_sigterm)
    # A worker about to send should not wait 5 ms per GIL hand-over behind the writer: the rate window is
    # about when requests leave, so senders get the GIL back sooner.
    sys.setswitchinterval(0.001)
    progress = Progress(sys.stderr, args.progress_file)
    try:
        store.check(args.db)  # a damaged file is the reason to give, before any amoCRM setting is looked at
        result = sync(args.db, full=args.full, progress=progress, replace_demo=args.replace_demo)
    except KeyboardInterrupt as exc:
        print(f"Sync stopped: {failure_sentence(exc)}", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("AMOCRM_DEBUG"):
            traceback.print_exc()
        if args.progress_file:
            _mark_failed(args.progress_file, failure_sentence(exc))
        print(f"Sync failed: {failure_sentence(exc)}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0


def _mark_failed(path: Path, message: str) -> None:
    """Make sure the progress file says failed (errors before the first progress update too)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        doc = {}
    doc.update(pid=os.getpid(), status="failed", message=message, updated_at=_now_iso())
    write_json_atomic(path, doc)

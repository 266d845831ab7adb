"""What a sync fetches: the reference lists, and the request streams (sources) of each entity.

``KeysetWalk``: an updated_at window walked by keyset (``filter[updated_at][from]`` moves to the last row's
second; ties re-read) from both ends at once; unlike page numbers it never skips a row when leads are edited
mid-walk. ``PageWalk``: page numbers, several in flight, for immutable events in a fixed created_at window
and for reference lists. ``IdBatches``: contacts / companies the leads reference, 250 ids per request.
``AccountSource``: the account, once. Every source hands its records over as ``Item``s, each with the
checkpoint that is valid once they are stored.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from data_layer import normalise
from data_layer.client import embedded, has_next

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
Checkpoint = dict[str, int | None]


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
    return normalise.as_int(record.get("updated_at"))


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

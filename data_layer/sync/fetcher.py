"""The worker pool that sends the sources' requests, and the early start of a run.

A worker first takes a rate grant, *then* asks the most urgent source for a request, so speculative pages
are claimed only when they can be sent. Start of a run: the reference lists (users, pipelines, fields, loss
reasons, sources) and the account do not depend on anything stored, so the fetcher starts with them at once
(``EarlyStart``); the lead, event and contact sources join it (``OpenFetcher.add``) when the plan (read from
sync_state) is ready, so the database's preparation overlaps the first ~0.5 s of the rate budget instead of
leaving it unused.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

from data_layer.client import AmoClient
from data_layer.sync.sources import REFERENCE, AccountSource, Item, PageWalk, Req, Source


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

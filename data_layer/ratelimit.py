"""Rate limits for amoCRM: the in-process rolling window and one budget per account host for the whole machine.

amoCRM allows 7 requests per second per integration and blocks an account whose clients keep exceeding it
(429s escalate into a 403 that only support lifts, /work/shared/amocrm-api.md §3). Several syncs of one
account can run at once (two database files, the dashboard's background sync beside a cron run), each with
its own client, so an in-process limiter is not enough: ``SharedLimiter`` keeps the account's grants, its
429 pause, its extra margin and its recent 429s in a small JSON file per host (``<rate dir>/<host>.json``)
guarded by ``fcntl.flock``. Every client of that host, in any process, draws from it: one lock + read +
write per grant. A 429 seen by one process pauses and widens the window for all of them, and sustained 429s
across the account (``THROTTLE_LIMIT`` within ``THROTTLE_WINDOW`` seconds) stop every sync.

``RateLimiter`` is the same algorithm in memory, for one process (tests, or when the rate directory cannot
be written).
"""

from __future__ import annotations

import bisect
import collections
import contextlib
import fcntl
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

RATE_DIR_VAR = "PARTNER_ROI_RATE_DIR"
DEFAULT_RATE_DIR = Path(__file__).resolve().parent.parent / "cache" / "rate"
# Sustained 429s across the account (every process): this many within the window stop every sync. amoCRM
# blocks "after too many 429s" without saying how many; the emulator blocks at 30 per minute.
THROTTLE_LIMIT = 10
THROTTLE_WINDOW = 60.0
URGENT_POLL = 0.005  # how often a waiter that lets a retry go first looks again
MAX_PAUSE = 60.0  # a pause or halt further ahead than this comes from a clock step, not from a 429


class Limiter(Protocol):
    """What AmoClient needs from a limiter (RateLimiter in memory, SharedLimiter across processes)."""

    @property
    def span(self) -> float: ...

    def acquire(self, urgent: bool = False) -> float: ...

    def cancel(self, stamp: float) -> None: ...

    def confirm(self, stamp: float) -> float: ...

    def widen(self, seconds: float = 0.05) -> float: ...

    def pause(self, seconds: float) -> None: ...

    def note_429(self) -> bool: ...

    def halted(self) -> bool: ...

    def close(self) -> None: ...


def rate_window(max_rps: float) -> tuple[int, float]:
    """(requests, window seconds) for a rate: floor(rps) per second, or one per 1/rps s below 1 rps."""
    if max_rps >= 1:
        return int(max_rps), 1.0
    return 1, 1.0 / max(max_rps, 0.01)


def _recent(stamps: collections.deque[float], now: float, window: float) -> int:
    """Drop stamps older than the window (in place); return how many remain."""
    while stamps and stamps[0] <= now - window:
        stamps.popleft()
    return len(stamps)


class RateLimiter:
    """At most ``max_requests`` grants in any rolling ``window + margin`` seconds, shared by all threads.

    The margin absorbs the jitter between the grant and the moment the server sees the request, so the
    server never counts more than ``max_requests`` in its own rolling second (7 per 1.07 s ≈ 6.5 rps).
    ``min_interval`` spreads a burst so a leaky-bucket server is happy too. ``pause`` stops everyone
    (after a 429) so one throttled thread does not let the others escalate into a 403 block, and ``widen``
    adds margin when a 429 shows that the link's jitter is larger than assumed; the extra margin decays
    again while no 429 arrives (additive increase, slow decrease back to the base). ``note_429`` counts
    429s; ``THROTTLE_LIMIT`` of them within ``THROTTLE_WINDOW`` halt the limiter (the sync stops).
    """

    MAX_EXTRA_MARGIN = 0.3
    DECAY_STEP, DECAY_EVERY = 0.02, 15.0

    def __init__(self, max_requests: float = 7, window: float = 1.0, margin: float = 0.07,
                 min_interval: float | None = None, clock: Callable[[], float] = time.monotonic,
                 keep_history: bool = False, tolerance: float = 0.005) -> None:
        self.max_requests = max(1, int(max_requests))
        self.span = window + margin
        self.base_span = self.span
        self._widened_at = 0.0
        self.min_interval = self.span / self.max_requests / 2 if min_interval is None else min_interval
        self.tolerance = tolerance
        self._clock = clock
        self._lock = threading.Lock()
        self._log: collections.deque[float] = collections.deque()
        self._paused_until = 0.0
        self._throttled: collections.deque[float] = collections.deque()
        self._halted_until = 0.0
        self._urgent = 0  # retries waiting for a grant: they go first
        self._freed = threading.Event()  # a grant was given back: sleepers look again at once
        self.history: list[float] | None = [] if keep_history else None

    def _wait_needed(self, now: float) -> float:
        if self.span > self.base_span and now - self._widened_at >= self.DECAY_EVERY:
            self.span = max(self.base_span, self.span - self.DECAY_STEP)
            self._widened_at = now
        _recent(self._log, now, self.span)
        wait = self._paused_until - now
        if len(self._log) >= self.max_requests:
            wait = max(wait, self._log[0] + self.span - now)
        if self._log:
            wait = max(wait, self._log[-1] + self.min_interval - now)
        return wait

    def acquire(self, urgent: bool = False) -> float:
        """Block until a request may be sent; return the grant stamp (pass it to cancel if unused).

        ``urgent`` (the retry of a failed request): served before the other waiters of this process.
        """
        with self._lock:
            self._urgent += urgent
        try:
            while True:
                with self._lock:
                    self._freed.clear()
                    now = self._clock()
                    wait = self._wait_needed(now)
                    if wait <= 0 and (urgent or not self._urgent):
                        self._log.append(now)
                        if self.history is not None:
                            self.history.append(now)
                        return now
                self._freed.wait(min(wait, 0.5) if wait > 0 else URGENT_POLL)
        finally:
            with self._lock:
                self._urgent -= urgent

    def cancel(self, stamp: float) -> None:
        """Give back a grant that was not used for a request."""
        with self._lock:
            self._forget(stamp)

    def _forget(self, stamp: float) -> None:
        try:
            self._log.remove(stamp)
            self._freed.set()
            if self.history is not None:
                self.history.remove(stamp)
        except ValueError:
            pass

    def confirm(self, stamp: float) -> float:
        """Call right before sending: a grant that waited too long (a busy CPU, the GIL) is re-taken now.

        The window is about when the server sees requests; a grant used late would bunch with later ones.
        """
        if self._clock() - stamp <= self.tolerance:
            return stamp
        with self._lock:
            self._forget(stamp)
        return self.acquire(urgent=True)  # its request is already claimed: first in line again

    def widen(self, seconds: float = 0.05) -> float:
        """Grow the window (up to MAX_EXTRA_MARGIN more) for the rest of the run; return the new span."""
        with self._lock:
            self.span = min(self.base_span + self.MAX_EXTRA_MARGIN, self.span + seconds)
            self._widened_at = self._clock()
            return self.span

    def pause(self, seconds: float) -> None:
        """Hold every thread for ``seconds`` from now (a 429 arrived)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def note_429(self) -> bool:
        """Count a 429; True (and halted from now on) once they are sustained."""
        with self._lock:
            now = self._clock()
            self._throttled.append(now)
            if _recent(self._throttled, now, THROTTLE_WINDOW) >= THROTTLE_LIMIT:
                self._halted_until = now + THROTTLE_WINDOW
            return self._halted_until > now

    def halted(self) -> bool:
        """Whether sustained 429s stopped this limiter (no request may be sent)."""
        return self._halted_until > self._clock()

    def close(self) -> None:
        """Nothing to release in memory."""


def max_in_window(stamps: list[float], window: float = 1.0) -> int:
    """Largest number of stamps inside any half-open interval of ``window`` seconds."""
    ordered = sorted(stamps)
    best, start = 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


# ---------------------------------------------------------------- the machine-wide budget of one account

@dataclass
class BudgetState:
    """The shared file's content: recent grants and 429s of every process, pause, extra margin, halt."""

    grants: list[float] = field(default_factory=list)
    paused_until: float = 0.0
    extra: float = 0.0
    widened_at: float = 0.0
    throttled: list[float] = field(default_factory=list)
    halted_until: float = 0.0

    @classmethod
    def parse(cls, data: bytes, now: float, span: float) -> BudgetState:
        """Read the file; a damaged one (a writer killed mid-write) holds everyone for one window."""
        if not data.strip():
            return cls()
        try:
            raw = json.loads(data)
            return cls(sorted(float(x) for x in raw["g"]), float(raw["p"]), float(raw["x"]), float(raw["w"]),
                       sorted(float(x) for x in raw["t"]), float(raw["h"]))
        except (ValueError, KeyError, TypeError):
            return cls(paused_until=now + span)

    def dump(self) -> bytes:
        """Compact JSON (floats round-trip exactly, so a grant stamp can be found again to cancel it)."""
        return json.dumps({"g": self.grants, "p": self.paused_until, "x": self.extra, "w": self.widened_at,
                           "t": self.throttled, "h": self.halted_until}, separators=(",", ":")).encode()

    def clean(self, now: float, keep: int) -> None:
        """Forget what no limiter needs any more, and what a clock step put in the future."""
        self.grants = [g for g in self.grants if now - 5.0 < g <= now + 1.0][-keep:]
        self.throttled = [t for t in self.throttled if now - THROTTLE_WINDOW < t <= now + 1.0]
        self.paused_until = min(self.paused_until, now + MAX_PAUSE)
        self.halted_until = min(self.halted_until, now + MAX_PAUSE)


class SharedLimiter:
    """RateLimiter's rules on a file shared by every process that talks to one amoCRM host.

    Stamps are wall-clock seconds (``time.time``: the same in every process). A limiter with a smaller
    ``max_requests`` (a smaller AMOCRM_RATE_SHARE) waits for its own count; the account's total never
    exceeds the largest limit among the processes.
    """

    MAX_EXTRA_MARGIN = RateLimiter.MAX_EXTRA_MARGIN
    DECAY_STEP, DECAY_EVERY = RateLimiter.DECAY_STEP, RateLimiter.DECAY_EVERY

    def __init__(self, path: Path, max_requests: float = 7, window: float = 1.0, margin: float = 0.07,
                 min_interval: float | None = None, clock: Callable[[], float] = time.time,
                 keep_history: bool = False, tolerance: float = 0.005) -> None:
        self.path = Path(path)
        self.max_requests = max(1, int(max_requests))
        self.base_span = window + margin
        self.min_interval = self.base_span / self.max_requests / 2 if min_interval is None else min_interval
        self.tolerance = tolerance
        self._clock = clock
        self._extra = 0.0
        self._halted_until = 0.0
        self._io = threading.Lock()         # one thread of this process in the file at a time
        self._acquiring = threading.Lock()  # one thread of this process polls for a grant; the rest queue
        self._urgent = 0                    # retries polling beside it (they skip the queue and go first)
        self._freed = threading.Event()     # this process gave a grant back: the poller looks again at once
        self._fd: int | None = None
        self._pid = 0
        self.history: list[float] | None = [] if keep_history else None

    @property
    def span(self) -> float:
        """The current window: base plus the account's extra margin as last read."""
        return self.base_span + self._extra

    @contextlib.contextmanager
    def _state(self) -> Iterator[tuple[BudgetState, float]]:
        """Lock the file, read it, yield (state, now), write it back (one pwrite, padded to the old size)."""
        with self._io:
            fd = self._open()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                data = os.pread(fd, 1 << 16, 0)
                now = self._clock()
                state = BudgetState.parse(data, now, self.base_span)
                state.clean(now, max(64, self.max_requests))
                yield state, now
                self._extra, self._halted_until = state.extra, state.halted_until
                out = state.dump()
                if out != data.rstrip():  # one pwrite, padded to the old size: JSON ignores trailing blanks
                    os.pwrite(fd, out + b" " * (len(data) - len(out)), 0)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _open(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # a forked child must not share our lock
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644), os.getpid()
        return self._fd

    def _wait_needed(self, state: BudgetState, now: float) -> float:
        if state.extra > 0 and now - state.widened_at >= self.DECAY_EVERY:
            state.extra, state.widened_at = max(0.0, state.extra - self.DECAY_STEP), now
        span = self.base_span + state.extra
        recent = [g for g in state.grants if g > now - span]
        wait = state.paused_until - now
        if len(recent) >= self.max_requests:
            wait = max(wait, recent[-self.max_requests] + span - now)
        if state.grants:
            wait = max(wait, state.grants[-1] + self.min_interval - now)
        return wait

    def acquire(self, urgent: bool = False) -> float:
        """Block until the account's budget allows a request; return the grant stamp.

        ``urgent`` (the retry of a failed request): skips this process's queue and goes first.
        """
        if not urgent:
            with self._acquiring:
                return self._poll(False)
        with self._io:
            self._urgent += 1
        try:
            return self._poll(True)
        finally:
            with self._io:
                self._urgent -= 1

    def _poll(self, urgent: bool) -> float:
        while True:
            with self._state() as (state, now):
                self._freed.clear()
                if state.halted_until > now:  # sustained 429s: hand back at once, the client raises
                    return now
                wait = self._wait_needed(state, now)
                if wait <= 0 and (urgent or not self._urgent):
                    bisect.insort(state.grants, now)
                    if self.history is not None:
                        self.history.append(now)
                    return now
            self._freed.wait(min(wait, 0.5) if wait > 0 else URGENT_POLL)

    def cancel(self, stamp: float) -> None:
        """Give back a grant that was not used for a request."""
        with self._state() as (state, _):
            self._forget(state, stamp)

    def _forget(self, state: BudgetState, stamp: float) -> None:
        with contextlib.suppress(ValueError):
            state.grants.remove(stamp)
            self._freed.set()
            if self.history is not None:
                self.history.remove(stamp)

    def confirm(self, stamp: float) -> float:
        """Call right before sending: a grant that waited too long is re-taken now (see RateLimiter)."""
        if self._clock() - stamp <= self.tolerance:
            return stamp
        with self._state() as (state, _):
            self._forget(state, stamp)
        return self.acquire(urgent=True)  # its request is already claimed: first in line again

    def widen(self, seconds: float = 0.05) -> float:
        """Grow the account's window (up to MAX_EXTRA_MARGIN more) for every process; return the new span."""
        with self._state() as (state, now):
            state.extra, state.widened_at = min(self.MAX_EXTRA_MARGIN, state.extra + seconds), now
        return self.span

    def pause(self, seconds: float) -> None:
        """Hold every process of this account for ``seconds`` from now (a 429 arrived)."""
        with self._state() as (state, now):
            state.paused_until = max(state.paused_until, now + seconds)

    def note_429(self) -> bool:
        """Record a 429 for the account; True (and every process halted) once they are sustained."""
        with self._state() as (state, now):
            state.throttled.append(now)
            if len(state.throttled) >= THROTTLE_LIMIT:
                state.halted_until = max(state.halted_until, now + THROTTLE_WINDOW)
            return state.halted_until > now

    def halted(self) -> bool:
        """Whether sustained 429s across the account stopped every sync (as of the last file read)."""
        return self._halted_until > self._clock()

    def close(self) -> None:
        """Close the file (reopened on the next use)."""
        with self._io:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None


def rate_dir(env: dict[str, str] | None = None) -> Path:
    """Where the per-account budget files live: PARTNER_ROI_RATE_DIR, else cache/rate in the project."""
    override = (os.environ if env is None else env).get(RATE_DIR_VAR)
    return Path(override) if override else DEFAULT_RATE_DIR


def budget_path(base_url: str, directory: Path | None = None) -> Path:
    """The budget file of an account: named from its host (and port), whatever the database file."""
    parts = urlsplit(base_url if "://" in base_url else "https://" + base_url)
    host = (parts.hostname or "unknown").lower()
    name = f"{host}_{parts.port}" if parts.port else host
    return (directory or rate_dir()) / (re.sub(r"[^a-z0-9._-]", "_", name) + ".json")


def limiter_for(base_url: str, max_rps: float, keep_history: bool = False) -> SharedLimiter | RateLimiter:
    """The account-wide limiter for a host; an in-process one (with a warning) if its file cannot be used."""
    requests, window = rate_window(max_rps)
    limiter = SharedLimiter(budget_path(base_url), requests, window, keep_history=keep_history)
    try:
        limiter.cancel(-1.0)  # open, lock and read once now, so a bad directory shows here
    except OSError as exc:
        print(f"Warning: cannot use the shared rate budget {limiter.path} ({exc.strerror}); this sync "
              f"limits only itself — do not run another sync of this account at the same time.", file=sys.stderr)
        return RateLimiter(requests, window, keep_history=keep_history)
    return limiter

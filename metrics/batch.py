"""Several engine calls side by side: a Call names one computation, together() runs a page's calls on two
connections at once; kpis_with_roi is the partners leaderboard's pair."""

from __future__ import annotations

import contextvars
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from metrics import payback as cohorts
from metrics.costs import Scenario
from metrics.filters import Filters
from metrics.kpi_frames import grouped, kpis, kpis_many
from metrics.ranking import roi_interval
from metrics.views import deals, funnel, partner_vs_direct, quality


def kpis_with_roi(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "partner", n_boot: int = 1000,
                  seed: int = 0, scenario: Scenario | None = None,
                  lite: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(grouped(f, by, lite), roi_interval(f, by)), computed side by side (together): the partners leaderboard
    (lite unless it shows a client metric)."""
    # the ROI intervals (the longer, with their bootstrap) first: they run on con, the KPI rows on its cursor
    intervals, rows = together(con, (Call.of(roi_interval, f, by=by, n_boot=n_boot, seed=seed, scenario=scenario),
                                     Call.of(grouped, f, by=by, scenario=scenario, lite=lite)))
    return rows, intervals


def qualified_name(fn: Callable[..., Any]) -> str:
    """module.qualname of a function: how a call names it (a wrapper made with functools.wraps names the same)."""
    return f"{fn.__module__}.{fn.__qualname__}"


# A query runs mostly on one core (its pipelines are small and follow each other); a page's independent queries
# run side by side on two connections of the same database, the caller's and a cursor of it kept for the next
# page (the cursor binds its own cost inputs once). Only these engine functions may be called.
TOGETHER = frozenset(qualified_name(fn) for fn in (kpis_many, kpis, grouped, roi_interval, deals, funnel, quality,
                                                   partner_vs_direct, cohorts.payback))


@dataclass(frozen=True)
class Call:
    """One engine computation to run later: fn(con, *args, **dict(kwargs)); frozen and hashable, so a cache can key
    on it (key()).

    kwargs are (name, value) pairs, kept sorted by name: the same call written with its keywords in another order is
    equal to it.
    """

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", tuple(self.args))
        object.__setattr__(self, "kwargs", tuple(sorted(self.kwargs, key=lambda item: item[0])))

    @classmethod
    def of(cls, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Call:
        """The call fn(con, *args, **kwargs), written as it would be made."""
        return cls(fn, args, tuple(kwargs.items()))

    @property
    def name(self) -> str:
        """The function's qualified name (module.qualname)."""
        return qualified_name(self.fn)

    def key(self) -> tuple[Any, ...]:
        """(qualified name, args, kwargs): what a cache keys the call on, the same in every process (a function
        object hashes by its address; its name does not change between runs)."""
        return (self.name, self.args, self.kwargs)

    def run(self, con: duckdb.DuckDBPyConnection) -> Any:
        """The call's result on con."""
        return self.fn(con, *self.args, **dict(self.kwargs))


_LANE: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection] = weakref.WeakKeyDictionary()
_LANE_NAME = "partner-roi-lane"
_LANE_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix=_LANE_NAME)


def together(con: duckdb.DuckDBPyConnection, calls: tuple[Call, ...]) -> list[Any]:
    """Run engine calls on con and a second connection at once; results in order.

    Each call takes the connection that comes free first, so the first (the largest, by convention) runs on con
    while the others follow one another beside it.
    """
    unknown = sorted({c.fn.__name__ for c in calls if c.name not in TOGETHER})
    if unknown:
        known = sorted(name.rsplit(".", 1)[-1] for name in TOGETHER)
        raise ValueError(f"together() runs only {', '.join(known)}; not {', '.join(unknown)}")
    pending = iter(enumerate(calls))
    lock = threading.Lock()

    def lane(c: duckdb.DuckDBPyConnection) -> dict[int, Any]:
        done: dict[int, Any] = {}
        while True:
            with lock:
                item = next(pending, None)
            if item is None:
                return done
            i, call = item
            done[i] = call.run(c)

    if len(calls) < 2 or threading.current_thread().name.startswith(_LANE_NAME):
        results = lane(con)  # one call, or called from the pool's thread: waiting on the pool would deadlock
    else:
        # in the caller's context, so what it set there (metrics.query.recording) holds beside it too
        beside = _LANE_POOL.submit(contextvars.copy_context().run, lane, _lane_cursor(con))
        try:
            results = lane(con)
        finally:  # never leave the cursor running when the caller goes on (it may close con)
            done = beside.result()
        results.update(done)
    return [results[i] for i in range(len(calls))]


def _lane_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """con's second connection for together() (closed with con)."""
    cursor = _LANE.get(con)
    if cursor is None:
        cursor = _LANE[con] = con.cursor()
    return cursor

"""Where a filter change's time goes on the overview, server side: wall time per block of the rerun.

`python -m bench.feel_profile [--db PATH] [--repeats N]` (default: the 1M-lead bench database). The overview runs
through app.py in Streamlit's AppTest as bench.pages_bench runs it (scripts compiled once, the router's pages);
the feel benchmark's filter changes are made by setting the widgets' state. Before each timed change every cache
is emptied and the default view computed again, so each change computes its numbers afresh (a cold change, as
the browser benchmark's first change in a new server); the first change also starts with the database file
closed (the user read the page for longer than ui.data.KEEP_SECONDS). Then new sessions' first runs with every
cache warm (the server's part of opening "/"). Blocks are timed by wrapping module
functions in this process (no page or metrics code changes): nested blocks overlap, "calls" counts them, and an
engine function's time is only spent on a cache miss. Prints a table and writes bench/results-feel-profile.json.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import json
import os
import statistics
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from bench.pages_bench import ROOT, _timed_run  # importing it makes AppTest compile scripts once, as a server
from ui import data
from ui.filters import K_MODELS, K_PERIOD

OUT = ROOT / "bench" / "results-feel-profile.json"
# (module, attribute): the blocks a rerun of the overview is made of, outermost first.
BLOCKS = (
    ("ui.data", "rerun_reader"),  # app.main: the whole rerun
    ("ui.filters", "sidebar"), ("ui.layout", "show_freshness"),
    ("ui.data", "prefetch_kpis"), ("ui.layout", "kpi_cards"),
    ("ui.first_screen", "render"), ("ui.first_screen", "models_row"), ("ui.first_screen", "partners_lists"),
    ("ui.goals_panel", "render"), ("ui.charts", "show"), ("ui.charts", "revenue_vs_costs"),
    ("ui.data", "query"), ("ui.data", "kpi_frame"), ("ui.data", "prefetch"),
    ("metrics.engine", "together"), ("metrics.engine", "kpis_many"), ("metrics.engine", "roi_interval"),
)
CHANGES = ((K_PERIOD, "last_month", "period → last month"),
           (K_PERIOD, "last_12m", "cached rerun (the change back to 12 months)"),
           (K_MODELS, ["referral"], "model → referral"))


class Timers:
    """Seconds and calls per block for the current rerun (threads included: engine.together runs two)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def reset(self) -> None:
        """Forget the previous rerun's figures."""
        self.seconds.clear()
        self.calls.clear()

    def add(self, name: str, seconds: float) -> None:
        """Count one call of a block."""
        with self.lock:
            self.seconds[name] += seconds
            self.calls[name] += 1


TIMERS = Timers()


def _timed(name: str, fn: Any) -> Any:
    """fn, timing each call under name (context managers: from entering to leaving)."""
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMERS.add(name, time.perf_counter() - started)

    if name == "ui.data.rerun_reader":  # a context manager: timed from entering to leaving
        @contextlib.contextmanager
        @functools.wraps(fn)
        def around(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                with fn(*args, **kwargs):
                    yield
            finally:
                TIMERS.add(name, time.perf_counter() - started)
        return around
    return call


def install() -> None:
    """Wrap every block (also where a module imported it by name), and Streamlit's dataframe and chart elements."""
    for module, attr in BLOCKS:
        mod = importlib.import_module(module)
        original = getattr(mod, attr)
        wrapper = _timed(f"{module}.{attr}", original)
        for other in [m for name, m in sys.modules.items() if name.split(".")[0] in ("ui", "metrics", "pages")]:
            for key, value in list(vars(other).items()):
                if value is original:
                    setattr(other, key, wrapper)
    for attr in ("dataframe", "altair_chart", "vega_lite_chart", "metric", "markdown"):
        setattr(DeltaGenerator, attr, _timed(f"st.{attr}", getattr(DeltaGenerator, attr)))
        setattr(st, attr, _timed(f"st.{attr}", getattr(st, attr)))


def _app() -> Any:
    """The app in AppTest, after its first run (a new session)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    _timed_run(at)
    return at


def _blocks(walls: list[float], blocks: dict[str, list[float]], calls: dict[str, int]) -> dict[str, Any]:
    """Median rerun and per-block medians, longest first."""
    return {"rerun_median_s": round(statistics.median(walls), 3), "rerun_s": [round(w, 3) for w in walls],
            "blocks": {n: {"median_s": round(statistics.median(v), 3), "calls": calls[n]}
                       for n, v in sorted(blocks.items(), key=lambda kv: -statistics.median(kv[1]))}}


def _keep(blocks: dict[str, list[float]], calls: dict[str, int]) -> None:
    """Add this rerun's block times to blocks."""
    for name in TIMERS.seconds:
        blocks[name].append(TIMERS.seconds[name])
        calls[name] = TIMERS.calls[name]


def new_sessions(repeats: int) -> dict[str, Any]:
    """A new session's first run of the overview, every cache warm (what a browser opening "/" waits for)."""
    walls: list[float] = []
    blocks: dict[str, list[float]] = defaultdict(list)
    calls: dict[str, int] = {}
    for _ in range(repeats):
        TIMERS.reset()
        started = time.perf_counter()
        _app()
        walls.append(time.perf_counter() - started)
        _keep(blocks, calls)
    return _blocks(walls, blocks, calls)


def profile(repeats: int) -> dict[str, Any]:
    """Each change `repeats` times from a freshly computed default view, then new sessions; per block the median
    seconds and calls."""
    at = _app()
    out: dict[str, Any] = {}
    for key, value, label in CHANGES:
        walls: list[float] = []
        blocks: dict[str, list[float]] = defaultdict(list)
        calls: dict[str, int] = {}
        for _ in range(repeats):
            at.session_state[K_PERIOD], at.session_state[K_MODELS] = "last_12m", []
            st.cache_data.clear()
            _timed_run(at)  # the default view computed again: the change below is the first of its values
            _timed_run(at)
            if label == CHANGES[0][2]:
                data._close_kept()  # the user read the page longer than KEEP_SECONDS: the file was let go
            at.session_state[key] = value
            TIMERS.reset()
            walls.append(_timed_run(at))
            _keep(blocks, calls)
        out[label] = _blocks(walls, blocks, calls)
    out["new session, caches warm"] = new_sessions(repeats)
    return out


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, profile, print and save."""
    parser = argparse.ArgumentParser(prog="python -m bench.feel_profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "data" / "demo_1000000.duckdb")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    if not args.db.exists():
        raise SystemExit(f"{args.db} is missing: run `python -m bench.feel_bench` (or `make bench`) first.")
    os.environ["PARTNER_ROI_DB"] = str(args.db)
    install()
    load = os.getloadavg()
    result = {"db": str(args.db), "repeats": args.repeats, "load_before": load, "changes": profile(args.repeats),
              "load_after": os.getloadavg()}
    print(f"overview at {args.db.name}, {args.repeats} repeats, load average {load} → {result['load_after']}")
    for label, r in result["changes"].items():
        print(f"— {label}: rerun median {r['rerun_median_s']} s ({r['rerun_s']})")
        for name, b in r["blocks"].items():
            print(f"   {name:34} {b['median_s']:>7.3f} s  {b['calls']:>4} calls")
    OUT.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

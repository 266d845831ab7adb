"""Server-side rerun time of every dashboard page (`python -m bench.pages_bench [--db PATH] [--runs N]`).

Each page runs through app.py in Streamlit's AppTest (the same script run a browser triggers, minus the
network, and, like the server, compiling each script once): the page's first view in the process (it imports
the page's libraries), a cold run with every cache empty (the first view after a sync), warm reruns, and the
rerun after a filter change (the user switches the period to the previous month, then the view to close
dates: the page's numbers are computed anew, the sidebar's lists stay cached; reruns follow each other within
ui.data.KEEP_SECONDS, so the file is still open, as for a user clicking through filters). Prints a table and writes
bench/results-pages.json. Target (issue 5): ≤ 300 ms per rerun at 1M leads. It also reports the process's peak
resident memory over the tour of every page (VmHWM; issue 4: the dashboard process ≤ 500 MB at 1M leads).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import AppTest, app_test, local_script_runner

from ui import data, navigation
from ui.filters import K_PERIOD, K_VIEW

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("overview", "partners", "models", "trends", "quality", "costs", "what_if", "forecast", "goals",
         "reports", "settings", "settings#mapping")  # page#tab: that tab open (the settings page opens on sync)
OUT = ROOT / "bench" / "results-pages.json"


# A Streamlit server compiles each script once per process (the Runtime's ScriptCache); AppTest makes a new
# cache for every run, which would add compiling app.py and the page (with Streamlit's "magic" AST pass,
# ~25 ms) to every rerun timed here. The bench shares one cache, as the server does.
_SCRIPTS = ScriptCache()
app_test.ScriptCache = local_script_runner.ScriptCache = lambda: _SCRIPTS
app_test.PagesManager = navigation.RouterOnlyPagesManager  # routed by app.py's st.navigation, as on the server


def peak_rss_mib() -> int | None:
    """This process's peak resident memory so far (Linux VmHWM), in MiB; None where /proc is missing."""
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return None
    return next((int(line.split()[1]) // 1024 for line in lines if line.startswith("VmHWM:")), None)


def _timed_run(at: AppTest) -> float:
    started = time.perf_counter()
    at.run()
    if at.exception:
        raise RuntimeError(f"page failed: {[e.value for e in at.exception]}")
    return time.perf_counter() - started


def bench_page(page: str, runs: int) -> dict:
    """Cold (caches cleared) and warm rerun times of one page, in seconds."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()
    name, _, tab = page.partition("#")
    at.switch_page(f"pages/{name}.py")
    if tab:
        from pages import settings as settings_page  # the only page with lazy tabs chosen by key

        at.session_state[settings_page.K_TAB] = settings_page.TEXT["ru"][tab]
    data._close_kept()  # as in a fresh server process: the file is not open yet
    first = _timed_run(at)  # the page's first view in this process: imports its libraries (statsmodels ~1 s)
    st.cache_data.clear()
    data._close_kept()  # a sync needed the file: the dashboard let it go, and opens the new data afresh
    cold = _timed_run(at)  # a running server after a sync: every cache empty, libraries loaded
    warm = [_timed_run(at) for _ in range(runs)]
    changed = []
    for key, value in ((K_PERIOD, "last_month"), (K_VIEW, "close"), (K_PERIOD, "last_12m")):
        at.session_state[key] = value
        changed.append(_timed_run(at))
    return {"first_in_process_s": first, "cold_s": cold, "warm_median_s": statistics.median(warm), "warm_max_s": max(warm), "runs": runs,
            "filter_change_median_s": statistics.median(changed), "filter_change_max_s": max(changed)}


def main() -> None:
    """Run every page and report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "data" / "demo_1000000.duckdb")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not args.db.exists():
        raise SystemExit(f"{args.db} is missing: run `make bench` first (it builds the 1M-lead database).")
    os.environ["PARTNER_ROI_DB"] = str(args.db)
    results = {}
    for page in PAGES:
        results[page] = bench_page(page, args.runs)
        results[page]["peak_rss_mib"] = peak_rss_mib()  # after this page, in the one process touring them all
    print(f"{'page':<16} {'first, ms':>10} {'cold, ms':>10} {'warm rerun, ms':>15} {'filter change, ms (max)':>24}"
          f"  target ≤ 300 ms ({args.db.name})")
    for page, r in results.items():
        print(f"{page:<16} {1000 * r['first_in_process_s']:>10.0f} {1000 * r['cold_s']:>10.0f} "
              f"{1000 * r['warm_median_s']:>15.0f} "
              f"{1000 * r['filter_change_median_s']:>15.0f} ({1000 * r['filter_change_max_s']:.0f})")
    peak = peak_rss_mib()
    print(f"peak RSS of the process over every page: {peak} MiB  target ≤ 500 MB at 1M leads")
    OUT.write_text(json.dumps({"db": str(args.db), "load_avg": os.getloadavg(), "peak_rss_mib": peak,
                               "pages": results}, indent=2))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

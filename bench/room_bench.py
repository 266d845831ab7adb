"""Meeting-room benchmark: N browsers open the same dashboard view at once, beside N opening a minimal page.

Run ``python -m bench.room_bench`` (part of ``make bench``). One headless Chromium (Debian's) opens N tabs, each
in its own browser context (its own Streamlit session), all at the same instant, and times each tab from the
navigation to its first KPI value on screen. The same is done for ``bench/minimal_app.py`` (one ``st.metric``)
served the same way, alternating rounds, so the figure to read is the ratio of the p95s: on 2 cores the browsers
themselves take most of the time. ``--writer`` adds writers during the dashboard's rounds: a full sync from the
local amoCRM emulator into the same database and a 2-row cost import every 2 s (their waits are reported); the
minimal page is then measured with the writers running too.
Prints a table and writes bench/results-room.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, ROOT, streamlit_server

RESULTS = Path(__file__).with_name("results-room.json")
MINIMAL_APP = Path(__file__).with_name("minimal_app.py")
FIRST_KPI = "[data-testid='stMetricValue']"
ERRORS = "[data-testid='stException'], [data-testid='stAlertContentError']"
TIMEOUT_MS = 120_000
IMPORT_PARTNER = "Бенчмарк переговорной"  # created by the first import (--create-partners)


async def _one_tab(browser: Any, url: str, size: dict[str, int]) -> dict[str, Any]:
    """Open url in a fresh context (a new Streamlit session); seconds to the first KPI, and any error shown."""
    context = await browser.new_context(viewport=size, locale="ru-RU")
    try:
        page = await context.new_page()
        start = time.perf_counter()
        await page.goto(url, wait_until="commit")
        await page.wait_for_selector(FIRST_KPI, timeout=TIMEOUT_MS)
        first = time.perf_counter() - start
        errors = await page.locator(ERRORS).count()
        return {"first_kpi_s": first, "errors": errors}
    except Exception as exc:  # a tab that never showed a number is a failure of the run, reported as such
        return {"first_kpi_s": None, "errors": 1, "failure": type(exc).__name__}
    finally:
        await context.close()


async def _round(url: str, sessions: int, size: dict[str, int]) -> list[dict[str, Any]]:
    """One round: a new browser, N tabs opened at the same instant."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            await _one_tab(browser, url, size)  # warm the browser process itself (not a session of the room)
            return list(await asyncio.gather(*(_one_tab(browser, url, size) for _ in range(sessions))))
        finally:
            await browser.close()


def _p95(values: list[float]) -> float:
    """95th percentile (nearest rank) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered) + 0.5) - 1))]


def _summary(tabs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median, p95 and failures of a set of tabs."""
    times = [t["first_kpi_s"] for t in tabs if t["first_kpi_s"] is not None]
    return {"tabs": len(tabs), "failed": len(tabs) - len(times), "errors": sum(t["errors"] for t in tabs),
            "median_s": round(statistics.median(times), 2) if times else None,
            "p95_s": round(_p95(times), 2) if times else None}


@contextlib.contextmanager
def _minimal_server() -> Iterator[str]:
    """Serve bench/minimal_app.py as the dashboard is served (same flags)."""
    with streamlit_server(ROOT / "cache" / "none.duckdb", script=MINIMAL_APP) as url:
        yield url


class Writers:
    """Background writers into the dashboard's database: full emulator syncs in a row, and regular cost imports."""

    def __init__(self, db: Path, tmp: Path, import_every: float) -> None:
        self.db, self.tmp, self.import_every = db, tmp, import_every
        self.import_s: list[float] = []
        self.import_failures: list[str] = []
        self.sync_s: float | None = None
        self.sync_rc: int | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Writers:
        self._threads = [threading.Thread(target=self._sync, daemon=True),
                         threading.Thread(target=self._imports, daemon=True)]
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=300)

    def _sync(self) -> None:
        """Full syncs of a 3 000-lead emulator account at 7 rps, one after another, until stopped."""
        from data_layer.demo import generate_records
        from tests.emulator import Emulator
        from tests.emulator.harness import config_for, env_for

        with Emulator(generate_records(n_leads=3000, seed=7), rate_limit=7, latency=(0.05, 0.05)) as emu:
            emu.warm()
            config = config_for(emu, self.tmp, max_rps=7, workers=8, commit_seconds=2.0)
            args = ["--replace-demo"]
            while not self._stop.is_set():
                start = time.monotonic()
                done = subprocess.run([sys.executable, "-m", "data_layer", "sync", "--db", str(self.db), *args],
                                      cwd=ROOT, env=env_for(config), capture_output=True, text=True)
                self.sync_s, self.sync_rc = time.monotonic() - start, done.returncode
                args = ["--full"]

    def _imports(self) -> None:
        """A 2-row cost import every import_every seconds; each one's wall time (start-up + waiting) is kept."""
        csv = self.tmp / "two_rows.csv"
        month = datetime.now(UTC).strftime("%Y-%m")
        while not self._stop.wait(self.import_every):
            partner = IMPORT_PARTNER
            csv.write_text(f"partner,month,category,amount\n{partner},{month},marketing,1000\n"
                           f"{partner},{month},training,500\n", encoding="utf-8")
            start = time.monotonic()
            done = subprocess.run([sys.executable, "-m", "data_layer", "costs", "import", str(csv), "--db",
                                   str(self.db), "--create-partners"], cwd=ROOT, capture_output=True, text=True)
            self.import_s.append(time.monotonic() - start)
            if done.returncode != 0:
                self.import_failures.append((done.stderr or done.stdout).strip()[-200:])

    def summary(self) -> dict[str, Any]:
        """What the writers did."""
        s = self.import_s
        return {"imports": len(s), "import_failures": self.import_failures[:3],
                "import_median_s": round(statistics.median(s), 2) if s else None,
                "import_max_s": round(max(s), 2) if s else None,
                "last_sync_s": round(self.sync_s, 1) if self.sync_s else None, "last_sync_rc": self.sync_rc}


def _ratio(variant: dict[str, Any], baseline: dict[str, Any]) -> float | None:
    """p95 of a variant over the baseline's p95."""
    if not variant["p95_s"] or not baseline["p95_s"]:
        return None
    return round(variant["p95_s"] / baseline["p95_s"], 2)


def run(sessions: int, rounds: int, writer: bool, size: dict[str, int], db: Path,
        import_every: float = 2.0) -> dict[str, Any]:
    """Alternate minimal and dashboard rounds; return the measurements."""
    out: dict[str, Any] = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "sessions": sessions,
                           "rounds": rounds, "viewport": size, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        copy = tmp / "room.duckdb"
        shutil.copy(db, copy)
        minimal: list[dict[str, Any]] = []
        minimal_busy: list[dict[str, Any]] = []
        idle: list[dict[str, Any]] = []
        busy: list[dict[str, Any]] = []
        with _minimal_server() as min_url, streamlit_server(copy, log=tmp / "server.log") as url:
            asyncio.run(_round(url, 1, size))  # the server's first run imports the page libraries
            for _ in range(rounds):
                minimal += asyncio.run(_round(min_url, sessions, size))
                idle += asyncio.run(_round(url, sessions, size))
            if writer:
                with Writers(copy, tmp, import_every) as w:
                    time.sleep(2.0)  # let the sync start downloading and the imports begin
                    for _ in range(rounds):
                        minimal_busy += asyncio.run(_round(min_url, sessions, size))
                        busy += asyncio.run(_round(url, sessions, size))
                out["writers"] = w.summary()
        # Each variant against the minimal page measured in the same phase (the writers load the machine too).
        out["minimal"], out["dashboard_idle"] = _summary(minimal), _summary(idle)
        out["ratio_idle_p95"] = _ratio(out["dashboard_idle"], out["minimal"])
        if writer:
            out["minimal_writing"], out["dashboard_writing"] = _summary(minimal_busy), _summary(busy)
            out["ratio_writing_p95"] = _ratio(out["dashboard_writing"], out["minimal_writing"])
    return out


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print and save."""
    parser = argparse.ArgumentParser(prog="python -m bench.room_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=10, help="browser sessions opened at once (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per variant (default 3)")
    parser.add_argument("--no-writer", action="store_true", help="skip the rounds with a sync and imports running")
    parser.add_argument("--db", type=Path, default=ROOT / "cache" / "partner_roi.duckdb",
                        help="database to copy and serve (default: the demo database)")
    parser.add_argument("--import-every", type=float, default=2.0, help="seconds between cost imports (default 2)")
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    args = parser.parse_args(argv)
    if not args.db.exists():
        raise SystemExit(f"{args.db} does not exist: run `make run` once or `python -m data_layer demo`.")
    result = run(args.sessions, args.rounds, not args.no_writer, {"width": args.width, "height": args.height},
                 args.db, args.import_every)
    rows = [("minimal page", result["minimal"]), ("dashboard, no writer", result["dashboard_idle"])]
    if "dashboard_writing" in result:
        rows += [("minimal page, writers on", result["minimal_writing"]),
                 ("dashboard, sync + imports", result["dashboard_writing"])]
    print(f"{'variant':28} {'tabs':>5} {'failed':>6} {'median s':>9} {'p95 s':>7}")
    for name, s in rows:
        print(f"{name:28} {s['tabs']:>5} {s['failed']:>6} {s['median_s']!s:>9} {s['p95_s']!s:>7}")
    print(f"p95 ratio to the minimal page: no writer {result['ratio_idle_p95']} (target ≤ 1.3)"
          + (f", writing {result.get('ratio_writing_p95')} (target ≤ 1.6)" if "dashboard_writing" in result else ""))
    if "writers" in result:
        print(f"writers: {result['writers']}")
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

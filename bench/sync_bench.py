"""Sync benchmark: a full sync of demo leads from the local emulator at the real 7 rps, latency and faults.

Run ``python -m bench.sync_bench`` (``make bench-sync``): 50 000 leads at 200 ms latency. The small-account
case (55 minimal requests, 5 % injected faults, 150 ms latency) is ``--small``. The sync runs as the real
CLI in its own process (through bench.sync_trace, which times its phases); the emulator (in this process)
counts every request. ``--runs N`` repeats the case with emulator seeds 1..N (the faults differ per run,
and are the same for the same N on other code). Prints a table of wall time, requests, the floor (the
minimal number of requests ÷ 7), their ratio and the fixed-cost breakdown, the medians, and writes
bench/results-sync.json (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.sync_trace import breakdown
from data_layer import store
from tests.emulator import Emulator
from tests.emulator.harness import PROJECT_ROOT, config_for, env_for
from tests.emulator.server import FAULT_KINDS

RESULTS = Path(__file__).with_name("results-sync.json")
REAL_RPS = 7


def _pages(n: int, size: int) -> int:
    return max(1, math.ceil(n / size))


def minimal_requests(records: dict[str, Any]) -> dict[str, int]:
    """The fewest requests any client needs for a full sync of these records, per entity."""
    leads = records["leads"]
    live = [x for x in leads if not x.get("is_deleted")]
    refs = {k: {int(c["id"]) for x in live for c in (x.get("_embedded") or {}).get(k) or []}
            for k in ("contacts", "companies")}
    existing = {k: {int(c["id"]) for c in records[k]} for k in ("contacts", "companies")}
    events = [e for e in records["events"] if e.get("type") in ("lead_status_changed", "lead_deleted")]
    return {
        "account": 1, "users": _pages(len(records["users"]), 250), "pipelines": 1,
        "custom_fields": _pages(len(records["lead_custom_fields"]), 50), "loss_reasons": 1, "sources": 1,
        "leads": _pages(len(live), 250), "deleted": _pages(len(leads) - len(live), 250),
        "events": _pages(len(events), 100),
        "contacts": _pages(len(refs["contacts"] & existing["contacts"]), 250),
        "companies": _pages(len(refs["companies"] & existing["companies"]), 250),
    }


def _records(n_leads: int, seed: int) -> dict[str, Any]:
    try:
        from data_layer.demo import generate_records
    except ImportError:  # the demo generator is optional for this benchmark
        from tests.emulator import make_records

        return make_records(n_leads, seed=seed)
    return generate_records(n_leads=n_leads, seed=seed)


def run(n_leads: int, latency: float, seed: int, keep_db: Path | None, faults: float = 0.0,
        fault_kinds: tuple[str, ...] = FAULT_KINDS, emu_seed: int = 0, limit: float = 1.15) -> dict[str, Any]:
    """One full sync through the CLI; the measurements as a dict."""
    t = time.monotonic()
    records = _records(n_leads, seed)
    generated = time.monotonic() - t
    minimal = minimal_requests(records)
    with Emulator(records, rate_limit=REAL_RPS, latency=(latency, latency), fault_rate=faults,
                  faults=fault_kinds, seed=emu_seed) as emu, tempfile.TemporaryDirectory() as tmp:
        emu.warm()  # serve pre-rendered JSON so the emulator stamps arrivals on time (its counter is the proof)
        db = keep_db or Path(tmp) / "bench.duckdb"
        trace = Path(tmp) / "trace.json"
        # Production knobs (7 rps, 8 workers, 2 s windows); only the address and token point at the emulator.
        config = config_for(emu, Path(tmp), max_rps=REAL_RPS, workers=8, timeout=30.0, max_retries=6,
                            retry_base=0.5, max_retry_wait=30.0, overlap=300, lag=5, commit_seconds=2.0)
        command = [sys.executable, "-m", "bench.sync_trace", str(trace), "sync", "--db", str(db)]
        load_before = os.getloadavg()[0]
        spawned = time.time()
        start = time.monotonic()
        done = subprocess.run(command, cwd=PROJECT_ROOT, env=env_for(config), capture_output=True, text=True)
        wall = time.monotonic() - start
        exited = time.time()
        if done.returncode != 0:
            raise SystemExit(f"sync failed: {done.stderr.strip().splitlines()[-1:]}")
        with store.connect(db, read_only=True) as con:
            stored = con.execute("select count(*) from raw_leads").fetchone()[0]
        requests = len(emu.arrivals())
        floor = sum(minimal.values()) / REAL_RPS
        return {
            "at": datetime.now(UTC).isoformat(timespec="seconds"), "leads": n_leads, "latency_s": latency,
            "fault_rate": faults, "emulator_seed": emu_seed,
            "stored_leads": stored, "wall_s": round(wall, 2), "requests": requests,
            "minimal_requests": sum(minimal.values()), "minimal_by_entity": minimal,
            "floor_s": round(floor, 2), "ratio": round(wall / floor, 4), "limit": limit,
            "faults_injected": sum(1 for e in emu.api_log() if e.fault and e.fault != "rate"),
            "throttled_429": emu.count(status=429), "max_requests_in_any_second": emu.max_in_window(1.0),
            "breakdown": breakdown(json.loads(trace.read_text(encoding="utf-8")), spawned, exited, REAL_RPS),
            "summary": done.stdout.strip(), "generate_s": round(generated, 1),
            "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            # Other work on the machine stretches start-up and delays deliveries: keep it next to the numbers.
            "load_avg_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        }


COLUMNS = ("wall_s", "floor_s", "ratio", "requests", "faults_injected", "throttled_429",
           "max_requests_in_any_second")
PHASE_COLUMNS = ("interpreter", "imports", "to_first_request", "db_prepare", "fetch", "fetch_paced",
                 "fetch_excess", "commits", "commit_total", "final_commit", "facts_rebuild", "finish_run",
                 "retry_sleep", "pause_429", "exit", "before_fetch", "after_fetch")


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of every numeric column and breakdown phase over the runs."""
    out: dict[str, Any] = {k: round(statistics.median(r[k] for r in runs), 4) for k in COLUMNS}
    out["breakdown"] = {k: round(statistics.median(r["breakdown"][k] for r in runs), 3) for k in PHASE_COLUMNS}
    return out


def table(runs: list[dict[str, Any]], med: dict[str, Any]) -> str:
    """The runs and their median as a plain-text table (one row per run), then the breakdown."""
    rows = [("run", *COLUMNS)] + [(str(r["emulator_seed"]), *(str(r[k]) for k in COLUMNS)) for r in runs]
    rows.append(("median", *(str(med[k]) for k in COLUMNS)))
    rows.append(("phase (s)", *(str(r["emulator_seed"]) for r in runs), "median"))
    rows += [(k, *(str(r["breakdown"][k]) for r in runs), str(med["breakdown"][k])) for k in PHASE_COLUMNS]
    width = max(len(c) for row in rows for c in row) + 1
    return "\n".join("".join(c.rjust(width) if i else c.ljust(22) for i, c in enumerate(row)) for row in rows)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print and save the result."""
    parser = argparse.ArgumentParser(prog="python -m bench.sync_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=None, help="demo leads (50 000; 1 250 with --small)")
    parser.add_argument("--latency", type=float, default=None, help="emulator latency per request, seconds")
    parser.add_argument("--faults", type=float, default=None, help="share of requests answered with a fault")
    parser.add_argument("--fault-kinds", default=",".join(FAULT_KINDS), help="comma-separated emulator faults")
    parser.add_argument("--small", action="store_true",
                        help="the small account: 1 250 leads (55 minimal requests), 5 %% faults, 150 ms")
    parser.add_argument("--runs", type=int, default=1, help="repeat with emulator seeds 1..N; medians reported")
    parser.add_argument("--limit", type=float, default=None, help="ratio target (1.25 small, 1.10 large)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep-db", type=Path, default=None, help="keep the synced database here")
    parser.add_argument("--out", type=Path, default=None, help="results JSON (results-sync[-small].json)")
    args = parser.parse_args(argv)
    small = args.small
    leads = args.leads or (1_250 if small else 50_000)
    latency = args.latency if args.latency is not None else (0.15 if small else 0.2)
    faults = args.faults if args.faults is not None else (0.05 if small else 0.0)
    limit = args.limit or (1.25 if small else 1.10)
    kinds = tuple(k for k in args.fault_kinds.split(",") if k)
    sys.setswitchinterval(0.001)  # the emulator's threads stamp arrivals sooner
    runs = []
    for n in range(1, args.runs + 1):
        runs.append(run(leads, latency, args.seed, args.keep_db, faults, kinds, emu_seed=n, limit=limit))
        print(f"run {n}: {runs[-1]['summary']}", file=sys.stderr)
    med = medians(runs)
    print(f"full sync of {leads:,} leads at {latency * 1000:.0f} ms latency, {100 * faults:.0f} % faults "
          f"({runs[0]['minimal_requests']:,} minimal requests), {len(runs)} run(s):")
    print(table(runs, med))
    print(json.dumps({"median": med}, ensure_ascii=False))
    doc = {"case": {"leads": leads, "latency_s": latency, "fault_rate": faults, "fault_kinds": kinds,
                    "limit": limit}, "median": med, "runs": runs}
    out = args.out or (RESULTS.with_name("results-sync-small.json") if small else RESULTS)
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0 if med["ratio"] <= limit and max(r["max_requests_in_any_second"] for r in runs) <= REAL_RPS else 1


if __name__ == "__main__":
    sys.exit(main())

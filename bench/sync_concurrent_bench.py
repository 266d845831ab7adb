"""Concurrent-sync benchmark: 2 and 3 full syncs of ONE account at once, each its own process and database file.

Run ``python -m bench.sync_concurrent_bench`` (part of ``make bench-sync``). One emulator (in this process,
the real 7-per-rolling-second limit, 200 ms latency, the 403 block after repeated 429s) serves demo leads;
N copies of the real CLI sync them into N files at the same time, drawing from the account's shared rate
budget. Reports, per N: wall time (all started → last finished), requests, the floor (N × the minimal
requests of one sync ÷ 7 per second) and their ratio (target ≤ 1.15), over-limit requests (arrivals that
made some rolling second hold more than 7), 429s and 403s. ``--baseline`` adds a row per N where every
sync has its own budget file: separate limiters, as before the shared budget (the 429 stop then counts per
process too). Prints a table and writes
bench/results-sync-concurrent.json (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.sync_bench import minimal_requests
from data_layer import ratelimit, store
from tests.emulator import Emulator
from tests.emulator.harness import PROJECT_ROOT, cli, config_for, env_for

RESULTS = Path(__file__).with_name("results-sync-concurrent.json")
REAL_RPS = 7
LIMIT = 1.15


def over_limit(arrivals: list[float], limit: int = REAL_RPS, window: float = 1.0) -> int:
    """Arrivals that found ``limit`` or more others in the rolling ``window`` before them (the server's 429 rule)."""
    ordered, start, over = sorted(arrivals), 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        over += end - start + 1 > limit
    return over


def tightest(arrivals: list[float], n: int = REAL_RPS + 1) -> float | None:
    """Shortest time holding ``n`` arrivals (under 1 s for 8 = over the limit; the grants keep ≥ 1.07 s)."""
    ordered = sorted(arrivals)
    spans = [b - a for a, b in zip(ordered, ordered[n - 1:], strict=False)]
    return round(min(spans), 3) if spans else None


def _records(n_leads: int, seed: int) -> dict[str, Any]:
    from data_layer.demo import generate_records

    return generate_records(n_leads=n_leads, seed=seed)


def run(records: dict[str, Any], syncs: int, latency: float, shared: bool = True) -> dict[str, Any]:
    """N CLI syncs of one emulated account at once; the measurements as a dict."""
    minimal = sum(minimal_requests(records).values())
    with Emulator(records, rate_limit=REAL_RPS, latency=(latency, latency)) as emu, \
            tempfile.TemporaryDirectory() as tmp:
        emu.warm()  # pre-rendered JSON: the emulator stamps arrivals on time (its counter is the proof)
        root = Path(tmp)
        # Production knobs (7 rps, 8 workers, 2 s windows); only the address and token point at the emulator.
        config = config_for(emu, root, max_rps=REAL_RPS, workers=8, timeout=30.0, max_retries=6, retry_base=0.5,
                            max_retry_wait=30.0, overlap=300, lag=5, commit_seconds=2.0)
        procs, started = [], time.monotonic()
        for n in range(syncs):
            env = env_for(config)
            env[ratelimit.RATE_DIR_VAR] = str(root / ("rate" if shared else f"rate{n}"))
            procs.append(subprocess.Popen(cli(root / f"sync{n}.duckdb", config), cwd=PROJECT_ROOT, env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        walls, lines, codes = [], [], []
        for proc in procs:
            out, err = proc.communicate()
            walls.append(round(time.monotonic() - started, 2))
            codes.append(proc.returncode)
            lines.append((out.strip() or err.strip()).splitlines()[-1:])
        wall = time.monotonic() - started
        stored = []
        for n, code in enumerate(codes):
            if code == 0:
                with store.connect(root / f"sync{n}.duckdb", read_only=True) as con:
                    stored.append(con.execute("select count(*) from raw_leads").fetchone()[0])
        arrivals = emu.arrivals()
        floor = syncs * minimal / REAL_RPS
        return {
            "syncs": syncs, "budget": "shared" if shared else "one per sync", "ok": codes.count(0),
            "wall_s": round(wall, 2), "sync_walls_s": walls, "requests": len(arrivals),
            "minimal_requests": syncs * minimal, "floor_s": round(floor, 2), "ratio": round(wall / floor, 4),
            "over_limit": over_limit(arrivals), "max_in_any_second": emu.max_in_window(1.0),
            "tightest_8_arrivals_s": tightest(arrivals),
            "throttled_429": emu.count(status=429), "blocked_403": emu.count(status=403),
            "stored_leads": stored, "summaries": lines,
        }


def table(rows: list[dict[str, Any]]) -> str:
    """The results as a text table."""
    head = (f"{'syncs':>5}  {'budget':<22} {'ok':>3} {'wall s':>7} {'floor s':>7} {'ratio':>6} {'requests':>8} "
            f"{'over':>5} {'max/s':>5} {'429':>4} {'403':>4}")
    out = [head, "-" * len(head)]
    for r in rows:
        out.append(f"{r['syncs']:>5}  {r['budget']:<22} {r['ok']:>3} {r['wall_s']:>7.1f} {r['floor_s']:>7.1f} "
                   f"{r['ratio']:>6.3f} {r['requests']:>8} {r['over_limit']:>5} {r['max_in_any_second']:>5} "
                   f"{r['throttled_429']:>4} {r['blocked_403']:>4}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run every case, print the table and save the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.sync_concurrent_bench", description=__doc__)
    parser.add_argument("--leads", type=int, default=5_000, help="demo leads of the one account")
    parser.add_argument("--latency", type=float, default=0.2, help="emulator latency per request, seconds")
    parser.add_argument("--syncs", default="2,3", help="comma-separated numbers of concurrent syncs")
    parser.add_argument("--baseline", action="store_true", help="also run with one budget per sync (before)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sys.setswitchinterval(0.001)  # the emulator's threads stamp arrivals sooner
    records = _records(args.leads, args.seed)
    load_before = os.getloadavg()[0]
    rows = []
    for syncs in (int(x) for x in args.syncs.split(",")):
        for shared in (True, False) if args.baseline else (True,):
            rows.append(run(records, syncs, args.latency, shared))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    print(f"\n{args.leads:,} leads per sync, {args.latency * 1000:.0f} ms latency, target ratio ≤ {LIMIT}\n"
          + table(rows))
    doc = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "leads": args.leads, "latency_s": args.latency,
           "limit": LIMIT, "rows": rows, "python": platform.python_version(), "cpus": os.cpu_count(),
           "load_avg_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
    args.out.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    shared = [r for r in rows if r["budget"] == "shared"]
    good = all(r["ok"] == r["syncs"] and r["blocked_403"] == 0 and r["ratio"] <= LIMIT for r in shared)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())

"""Interleaved A/B timing of the SQL each benchmark page runs, for judging a query change on a noisy machine.

    python -m bench.sql_ab capture A.pkl          # in the old tree (a `git worktree`; copy this file there if
                                                  # it predates it), then in the new one:
    python -m bench.sql_ab capture B.pkl
    python -m bench.sql_ab compare A.pkl B.pkl    # runs A and B alternately, prints medians and B/A

`capture` runs bench.metrics_bench's pages once on the 1M-lead database and records every query text with its
parameters (metrics.query.recording: what the engine executes); `compare` replays both captures on one
connection, alternating which goes first, so both see the same machine load. Only the SQL is timed (no pandas
post-processing).
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from data_layer import store
from metrics import query
from metrics.costs import bind_cost_inputs

Capture = dict[str, list[tuple[str, dict[str, Any]]]]


def capture(out: Path, n_leads: int = 1_000_000) -> Capture:
    """Run every benchmark page once and record the (SQL text, parameters) of each query it runs."""
    from bench.metrics_bench import PAGES, db_path, default_scope

    got: Capture = {}
    with store.connect(db_path(n_leads), read_only=True) as con:
        scope = default_scope(con)
        for page, fn in PAGES.items():
            with query.recording() as ran:
                fn(con, scope)
            got[page] = [(q.text, q.params) for q in ran]
    out.write_bytes(pickle.dumps(got))
    return got


def compare(a: Capture, b: Capture, rounds: int = 11, n_leads: int = 1_000_000) -> list[tuple[str, float, float]]:
    """Median seconds of each page's queries in A and in B (pages both captured), run alternately on one
    connection."""
    from bench.metrics_bench import db_path

    rows = []
    with store.connect(db_path(n_leads), read_only=True) as con:
        bind_cost_inputs(con, None)
        for page in [name for name in a if name in b]:
            times: dict[str, list[float]] = {"a": [], "b": []}
            for i in range(rounds + 1):
                pair = [("a", a[page]), ("b", b[page])]
                for side, queries in pair if i % 2 else pair[::-1]:
                    started = time.perf_counter()
                    for text, params in queries:
                        con.execute(text, params).df()
                    if i:  # the first round warms the caches
                        times[side].append(time.perf_counter() - started)
            rows.append((page, statistics.median(times["a"]), statistics.median(times["b"])))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command line: capture or compare."""
    p = argparse.ArgumentParser(prog="python -m bench.sql_ab", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture", help="record the queries of every benchmark page")
    c.add_argument("out", type=Path)
    d = sub.add_parser("compare", help="time two captures alternately")
    d.add_argument("a", type=Path)
    d.add_argument("b", type=Path)
    d.add_argument("--rounds", type=int, default=11)
    args = p.parse_args(argv)
    if args.cmd == "capture":
        got = capture(args.out)
        print(f"captured {sum(len(q) for q in got.values())} queries of {len(got)} pages -> {args.out}")
        return 0
    rows = compare(pickle.loads(args.a.read_bytes()), pickle.loads(args.b.read_bytes()), args.rounds)
    print(f"{'page':<24} {'A, ms':>8} {'B, ms':>8} {'B/A':>6}")
    for page, ta, tb in rows:
        print(f"{page:<24} {ta * 1000:>8.1f} {tb * 1000:>8.1f} {tb / ta:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

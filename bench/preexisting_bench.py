"""The pre-existing flag's share of a facts rebuild at 1M leads (issue 22: ≤ 15 %).

`python -m bench.preexisting_bench [--leads 1000000] [--runs 3]`: on bench/data's demo database, times each
statement of a whole rebuild (lead_facts, then derived.sql's statements) and reports fact_preexisting's share of it
(the median over runs). The database is rebuilt in a transaction that is rolled back, so it is left as it was.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.metrics_bench import ensure_db
from data_layer import store

FLAG_TABLE = "fact_preexisting"


def rebuild_times(con: object) -> dict[str, float]:
    """Seconds per statement of one rebuild: lead_facts, then each table of derived.sql."""
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    con.execute("create or replace table lead_facts as select * from stg_lead_facts order by created_date, lead_id")
    times["lead_facts"] = time.perf_counter() - t0
    for stmt in con.extract_statements(store.DERIVED_SQL.read_text(encoding="utf-8")):
        name = stmt.query.split("create or replace table", 1)[1].split()[0] if "create or replace table" in \
            stmt.query else "other"
        t0 = time.perf_counter()
        con.execute(stmt)
        times[name] = times.get(name, 0.0) + time.perf_counter() - t0
    return times


def main() -> None:
    """Print each run's total and the flag's share, then the median share."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--leads", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    path, _ = ensure_db(args.leads)
    shares = []
    with store.connect(path) as con:
        counts = con.execute("select (select count(*) from lead_facts), (select count(*) from raw_client_keys), "
                             "(select count(*) from fact_preexisting)").fetchone()
        print(f"{path.name}: {counts[0]} leads, {counts[1]} identity keys, {counts[2]} pre-existing partner leads")
        for run in range(args.runs):
            con.execute("begin")
            times = rebuild_times(con)
            con.execute("rollback")
            total = sum(times.values())
            shares.append(times[FLAG_TABLE] / total)
            print(f"run {run + 1}: rebuild {total:.2f} s, {FLAG_TABLE} {times[FLAG_TABLE]:.2f} s "
                  f"({100 * shares[-1]:.1f} %); " + ", ".join(f"{k} {v:.2f}" for k, v in times.items()))
    print(f"median share of {FLAG_TABLE}: {100 * statistics.median(shares):.1f} % (target ≤ 15 %)")


if __name__ == "__main__":
    main()

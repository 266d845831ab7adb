"""Metrics benchmark: the queries each dashboard page runs, in DuckDB vs the same computations in pandas.

`python -m bench.metrics_bench [--sizes 1000000,10000000] [--runs 15]` (Makefile: `make bench`).
Databases are built once under bench/data/ (git-ignored) with data_layer.demo.load_demo, or — if the demo
generator is not available — with a lead_facts-compatible SQL generator below, and reused afterwards.
Prints a table and writes bench/results.json. The period is the dashboard's default: the last 12 months.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from bench import pandas_twin as twin
from data_layer import store
from metrics import engine, page_frames
from metrics.filters import Filters

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results.json"
TARGETS = {1_000_000: 0.100, 10_000_000: 1.0}  # seconds per page (median)
SPEEDUP_TARGET = 5.0


# ---------------------------------------------------------------- data

def db_path(n: int) -> Path:
    """Bench database file for n leads."""
    return DATA / f"demo_{n}.duckdb"


def ensure_db(n: int, seed: int = 7) -> tuple[Path, str]:
    """Build (or reuse) the n-lead database; return its path and how it was made."""
    path = db_path(n)
    if path.exists():
        store.init_db(path)  # a database built by an older version gets the newer migrations (derived tables)
        with store.connect(path, read_only=True) as con:
            have = con.execute("select count(*) from lead_facts").fetchone()[0]
            src = con.execute("select value from meta where key = 'source'").fetchone()
        if have >= n * 0.9:
            return path, (src[0] if src else "synthetic")
    DATA.mkdir(parents=True, exist_ok=True)
    try:
        from data_layer.demo import load_demo
    except ImportError:
        return synthetic(path, n, seed), "synthetic"
    load_demo(path, n_leads=n, seed=seed)
    return path, "demo"


SYNTH_SETUP = [
    "insert into raw_account values (1, 'Bench', 'bench', 'RUB', 'Europe/Moscow', 'RU')",
    "insert into raw_pipelines values (7112034, 'Продажи', 1, true, false), (7112090, 'Сервис', 2, false, false)",
    """insert into partners (partner_id, name, model, model_source)
       select i, 'Партнёр ' || i, (['referral', 'sales', 'service'])[1 + i % 3], 'user' from range(1, 61) t(i)""",
    """insert into cost_ledger (partner_id, month, category, amount)
       select p, cast(date '2024-01-01' + to_months(m) as date), c, 10000 + (p * 137 + m * 11) % 40000
       from range(1, 61) a(p), range(0, 24) b(m), (values ('marketing'), ('support'), ('bonus')) c(c)""",
    """insert into commission_rules (model, partner_id, kind, rate, tiers, valid_from, valid_to) values
       ('referral', null, 'fixed_per_qualified_lead', 500, null, null, null),
       ('sales', null, 'percent_revenue', 0.1, '[{"up_to": 3000000, "rate": 0.1}, {"up_to": null, "rate": 0.15}]',
        null, null),
       ('service', null, 'fixed_per_deal', 3000, null, null, null),
       (null, 2, 'percent_revenue', 0.08, null, '2024-06-01', null)""",
]
# One row per synthetic lead: 24 months from 2024-01-01, 55 % via 60 partners, 18 % won, 10 % repeat clients.
SYNTH_LEADS = """
insert into lead_facts by name
with r as (
    select i, (hash(i, $seed) % 1000000) / 1e6 as u1, (hash(i * 7 + 3, $seed) % 1000000) / 1e6 as u2,
        (hash(i * 13 + 5, $seed) % 1000000) / 1e6 as u3, ((hash(i, $seed) >> 20) % 1000000) / 1e6 as u4,
        ((hash(i * 7 + 3, $seed) >> 20) % 1000000) / 1e6 as u5
    from range($n) t(i)
),
x as (
    select *, 1704056400 + cast(i * (730 * 86400.0 / $n) as bigint) as c_at,
        case when u1 < 0.45 then null else 1 + cast(floor(u2 * 60) as integer) end as pid,
        case when u4 < 0.18 then 142 when u4 < 0.55 then 143 else 1 end as outcome
    from r
)
select 31000000 + i as lead_id, 'Lead ' || i as lead_name,
    case when u3 < 0.7 then 7112034 else 7112090 end as pipeline_id,
    case when outcome = 1 then 59230004 else outcome end as status_id,
    9043310 as responsible_user_id, c_at as created_at,
    case when outcome <> 1 then c_at + cast(86400 * (1 + u5 * 60) as bigint) end as closed_at,
    cast(timezone('Europe/Moscow', to_timestamp(c_at)) as date) as created_date,
    case when outcome <> 1 then cast(timezone('Europe/Moscow',
        to_timestamp(c_at + cast(86400 * (1 + u5 * 60) as bigint))) as date) end as closed_date,
    case when outcome = 142 then round(20000 + u2 * u5 * 400000) else 0 end as amount,
    outcome = 142 as is_won, outcome = 143 as is_lost, outcome = 142 or u5 < 0.4 as is_qualified,
    case when outcome = 143 then 1 + cast(u3 * 5 as integer) end as loss_reason_id,
    case when outcome = 143 then (['Спам', 'Дубль', 'Дорого', 'Нет ответа'])[1 + cast(u3 * 3.99 as integer)] end
        as loss_reason,
    outcome = 143 and u3 < 0.3 as is_junk,
    x.pid as partner_id, p.name as partner_name,
    case when x.pid is null then 'direct' else coalesce(p.model, 'unassigned') end as model, p.name as partner_label,
    (['yandex', 'google', 'vk', null])[1 + cast(u5 * 3.99 as integer)] as utm_source,
    1 + cast(u1 * 3 as integer) as source_id,
    (['Сайт', 'Звонок', 'Почта', 'Чат'])[1 + cast(u1 * 3.99 as integer)] as source_name,
    case when u2 < 0.1 then 'c' || (44000000 + cast(u3 * $n / 20 as bigint)) else 'c' || (45000000 + i) end
        as client_key,
    u3 < 0.8 as has_phone, u4 < 0.5 as has_email,
    case when outcome = 142 then 1 + u5 * 60 end as close_days
from x left join partners p on p.partner_id = x.pid
order by c_at
"""


def synthetic(path: Path, n: int, seed: int) -> Path:
    """Fallback: a migrated database whose lead_facts holds n generated leads."""
    store.init_db(path)
    with store.connect(path) as con:
        con.execute("begin")
        for stmt in SYNTH_SETUP:
            con.execute(stmt)
        con.execute(SYNTH_LEADS, {"n": n, "seed": seed})
        store.rebuild_derived_tables(con)
        con.execute("insert or replace into meta values ('source', 'synthetic')")
        con.execute("commit")
    store.bump_version(path)
    return path


# ---------------------------------------------------------------- pages (DuckDB)

@dataclass(frozen=True)
class Scope:
    """The filters a page run uses: default period (last 12 months) and the busiest partner."""

    f: Filters
    partner_id: int


def default_scope(con: duckdb.DuckDBPyConnection) -> Scope:
    """Last 12 months of data (the dashboard default) and the partner with most leads."""
    last = con.execute("select max(created_date) from lead_facts").fetchone()[0]
    first = date(last.year - (1 if last.month < 12 else 0), (last.month % 12) + 1, 1)
    pid = con.execute("select partner_id from lead_facts where partner_id is not null "
                      "group by 1 order by count(*) desc limit 1").fetchone()[0]
    return Scope(Filters(first, last), int(pid))


def _partner_f(s: Scope) -> Filters:
    return replace(s.f, partners=(s.partner_id,))


def _partner_frames(s: Scope) -> tuple[page_frames.Request, ...]:
    mine = _partner_f(s)
    return page_frames.partner(mine, mine.previous())


def _one_partner(con: duckdb.DuckDBPyConnection, s: Scope) -> list[Any]:
    """One partner's page: its KPI frames with the funnel, lead quality and deal list beside them."""
    mine = _partner_f(s)
    return engine.together(con, (engine.Call.of(engine.kpis_many, _partner_frames(s)),
                                 *page_frames.partner_extras(mine, s.partner_id)))


# What each dashboard page computes (metrics.page_frames lists its KPI frames and the calls it runs side by side
# with engine.together, as the pages do).
PAGES: dict[str, Callable[[duckdb.DuckDBPyConnection, Scope], list[Any]]] = {
    "overview": lambda con, s: [engine.kpis_many(con, page_frames.overview(s.f, s.f.previous()))],
    # sorted by revenue (the page's default) it needs no client metrics: lite KPI rows beside the ROI intervals
    "partners leaderboard": lambda con, s: [*engine.kpis_with_roi(con, s.f, lite=True)],
    "one partner": _one_partner,
    "model comparison": lambda con, s: engine.together(con, page_frames.models(s.f)),
    "trends": lambda con, s: [engine.kpis_many(con, page_frames.trends(s.f, "month", "model", "revenue"))],
}
# Other states of a page, timed and reported beside the pages (the targets are judged on the pages above).
VARIANTS: dict[str, Callable[[duckdb.DuckDBPyConnection, Scope], list[Any]]] = {
    "leaderboard by LTV": lambda con, s: [*engine.kpis_with_roi(con, s.f)],  # sorted by a client metric
}


# ---------------------------------------------------------------- the same work in pandas (bench.pandas_twin)

PANDAS_PAGES: dict[str, Callable[[twin.Frames, Scope], list[Any]]] = {
    "overview": lambda fr, s: twin.pd_frames(fr, page_frames.overview(s.f, s.f.previous())),
    "partners leaderboard": lambda fr, s: [twin.pandas_kpis(fr, s.f, ("partner",), lite=True), twin.pd_roi_interval(fr, s.f)],
    "one partner": lambda fr, s: [*twin.pd_frames(fr, _partner_frames(s)), twin.pd_partner_commissions(fr, s.f, s.partner_id),
                                  twin.pd_funnel(fr, _partner_f(s)), twin.pd_quality(fr, _partner_f(s))],
    "model comparison": lambda fr, s: [twin.pandas_kpis(fr, s.f, ("model",)), twin.pd_partner_vs_direct(fr, s.f)],
    "trends": lambda fr, s: twin.pd_frames(fr, page_frames.trends(s.f, "month", "model", "revenue")),
}
PANDAS_VARIANTS: dict[str, Callable[[twin.Frames, Scope], list[Any]]] = {
    "leaderboard by LTV": lambda fr, s: [twin.pandas_kpis(fr, s.f, ("partner",)), twin.pd_roi_interval(fr, s.f)],
}


# ---------------------------------------------------------------- timing

def timed(fn: Callable[[], Any], runs: int, warmup: int = 1) -> dict[str, float]:
    """Median and p95 wall seconds of fn over runs (after warm-up runs)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return {"median": statistics.median(times), "p95": float(np.percentile(times, 95)), "runs": runs}


def check_same(con: duckdb.DuckDBPyConnection, fr: twin.Frames, s: Scope) -> float:
    """Largest relative difference between engine and pandas totals, and one partner's funnel and lead quality
    (a sanity check of the comparison)."""
    a = engine.kpis(con, s.f).iloc[0]
    b = twin.pandas_kpis(fr, s.f).iloc[0]
    pairs = [(float(a[col]), float(b[col])) for col in
             ("leads", "won_deals", "revenue", "costs", "costs_commission", "new_clients", "ltv", "roi")]
    mine = _partner_f(s)
    fe, fp = engine.funnel(con, mine), twin.pd_funnel(fr, mine)
    pairs += list(zip(fe["reached"], fp["reached"], strict=True)) + list(zip(fe["leads"], fp["leads"], strict=True))
    qe, qp = engine.quality(con, mine, "none").iloc[0], twin.pd_quality(fr, mine).iloc[0]
    pairs += [(float(qe[c]), float(qp[c])) for c in
              ("leads", "quality_score", "phone_share", "email_share", "qualified_share", "junk_share")]
    return max(abs(x - y) / max(abs(x), 1e-9) for x, y in pairs)


def rss_probe(path: Path) -> int:
    """RSS (bytes) of a fresh process that opened the database and holds every page's results."""
    code = ("import sys; from bench.metrics_bench import hold_results; hold_results(sys.argv[1])")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
                         cwd=HERE.parent)
    return int(out.stdout.strip().splitlines()[-1])


def hold_results(path: str) -> None:
    """Compute every page once, keep the results, print this process's RSS in bytes."""
    with store.connect(path, read_only=True) as con:
        s = default_scope(con)
        kept = [page(con, s) for page in (*PAGES.values(), *VARIANTS.values())]
    rss = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
    print(len(kept))
    print(rss)


def bench_size(n: int, runs: int, pandas_runs: int) -> dict[str, Any]:
    """Time every page at one size in DuckDB and pandas."""
    path, made = ensure_db(n)
    result: dict[str, Any] = {"n_leads": n, "data": made}
    with store.connect(path, read_only=True) as con:
        s = default_scope(con)
        result["period"] = [s.f.date_from.isoformat(), s.f.date_to.isoformat()]
        result["leads_in_db"] = con.execute("select count(*) from lead_facts").fetchone()[0]
        t = time.perf_counter()
        fr = twin.load_frames(con)
        result["pandas_load_seconds"] = time.perf_counter() - t
        result["pandas_matches_engine_rel_diff"] = check_same(con, fr, s)
        for part, pages, twins in (("pages", PAGES, PANDAS_PAGES), ("variants", VARIANTS, PANDAS_VARIANTS)):
            result[part] = {}
            for name, page in pages.items():
                duck = timed(lambda page=page: page(con, s), runs)
                pand = timed(lambda name=name, fr=fr, twins=twins: twins[name](fr, s), pandas_runs)
                result[part][name] = {"duckdb": duck, "pandas": pand, "speedup": pand["median"] / duck["median"]}
        t = time.perf_counter()
        with store.connect(path, read_only=True):
            pass
        result["connect_seconds"] = time.perf_counter() - t
    if n <= 1_000_000:
        result["rss_bytes_holding_results"] = rss_probe(path)
    return result


def report(results: list[dict[str, Any]]) -> str:
    """Human-readable table with targets."""
    lines = [f"{'size':>10}  {'page':22} {'duckdb med':>10} {'p95':>8} {'pandas med':>10} {'speedup':>8}  target"]
    for r in results:
        limit = TARGETS.get(r["n_leads"])
        # a variant (another state of a page) is held to the same targets, marked "+" before its name
        for mark, name, p in [("", *i) for i in r["pages"].items()] + [("+", *i) for i in r.get("variants", {}).items()]:
            ok = limit is None or p["duckdb"]["median"] <= limit
            if r["n_leads"] <= 1_000_000:
                ok = ok and p["speedup"] >= SPEEDUP_TARGET
            lines.append(f"{r['n_leads']:>10,}  {mark + name:22} {p['duckdb']['median'] * 1000:8.1f}ms "
                         f"{p['duckdb']['p95'] * 1000:6.1f}ms {p['pandas']['median'] * 1000:8.1f}ms "
                         f"{p['speedup']:7.1f}x  {'ok' if ok else 'MISSED'}")
        if "rss_bytes_holding_results" in r:
            lines.append(f"{'':>10}  RSS of a process holding every page's results: "
                         f"{r['rss_bytes_holding_results'] / 2**20:.0f} MiB")
        lines.append(f"{'':>10}  data: {r['data']}, period {r['period'][0]}..{r['period'][1]}, pandas vs engine "
                     f"max rel diff {r['pandas_matches_engine_rel_diff']:.2e}")
    return "\n".join(lines)


def _previous_results() -> list[dict[str, Any]]:
    try:
        return list(json.loads(RESULTS.read_text(encoding="utf-8")).get("results", []))
    except (OSError, ValueError):
        return []


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write bench/results.json."""
    p = argparse.ArgumentParser(prog="python -m bench.metrics_bench", description=__doc__)
    p.add_argument("--sizes", default="1000000,10000000")
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--pandas-runs", type=int, default=3)
    args = p.parse_args(argv)
    results = []
    for n in (int(x) for x in args.sizes.split(",")):
        runs = args.runs if n <= 1_000_000 else max(5, args.runs // 3)
        results.append(bench_size(n, runs, args.pandas_runs))
        print(report(results[-1:]), flush=True)
    meta = {"python": platform.python_version(), "duckdb": duckdb.__version__, "pandas": pd.__version__,
            "cpus": os.cpu_count(), "load_avg": os.getloadavg(), "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    for r in results:
        r["meta"] = meta
    done = {r["n_leads"] for r in results}
    kept = [r for r in _previous_results() if r.get("n_leads") not in done]  # other sizes of earlier runs
    merged = sorted(kept + results, key=lambda r: r["n_leads"])
    RESULTS.write_text(json.dumps({"results": merged}, indent=2, default=str), encoding="utf-8")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


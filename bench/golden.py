"""Capture what every page and report computes, and compare it with an earlier capture (restructuring guard).

    python -m bench.golden capture DIR [--db PATH ...]   # pickles each engine call's result under DIR
    python -m bench.golden compare DIR [--db PATH ...]   # recomputes and compares with DIR: values within 1e-9,
                                                         # same dtypes, columns and row order; exit 1 on a difference

A restructuring step must leave every output equal: run `capture` on the code before the first move and `compare`
after each step, on the demo database and on a large one (bench/data/demo_1000000.duckdb when present).
"""

from __future__ import annotations

import argparse
import math
import pickle
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from bench.metrics_bench import PAGES, VARIANTS, Scope, default_scope
from data_layer import store
from metrics import engine, forecast, page_frames, payback
from metrics.costs import Scenario
from programme import weekly

DEFAULT_DBS = (Path("cache/partner_roi.duckdb"), Path("bench/data/demo_1000000.duckdb"))
TOLERANCE = 1e-9
# The forecast fits models by numerical optimisation, which turns DuckDB's parallel-sum noise (~1e-15) into
# ~1e-8 between two runs of the same code on the 1M file.
LOOSE = {"forecast": 1e-6}
# Fields not compared: when a capture was made, and the forecast's raw simulated paths (each path compounds the
# noise above to ~1e-5; the frame's bounds, which summarise them, are compared).
VOLATILE = frozenset({"generated_at", "paths"})

Case = Callable[[duckdb.DuckDBPyConnection, Scope], Any]


def _closed(s: Scope) -> Scope:
    return replace(s, f=replace(s.f, view="close"))


def _referral(s: Scope) -> Scope:
    return replace(s, f=replace(s.f, models=("referral",)))


def _scenario(con: duckdb.DuckDBPyConnection) -> Scenario:
    """A what-if: every rule's rate × 1.25 and the ledger × 0.8 (the what-if page's path through the engine)."""
    rules = con.execute("select * from commission_rules").df()
    rules["rate"] = rules["rate"] * 1.25
    ledger = con.execute("select partner_id, month, category, amount from cost_ledger").df()
    ledger["amount"] = ledger["amount"].astype(float) * 0.8
    return Scenario(ledger=ledger, rules=rules, name="golden")


def _week(con: duckdb.DuckDBPyConnection) -> date:
    last = con.execute("select max(created_date) from lead_facts").fetchone()[0]
    return weekly.last_sunday(last)


# Engine work beside the pages' batches: the calls pages, reports and CLIs make one at a time.
EXTRA: dict[str, Case] = {
    "what-if frames": lambda con, s: engine.kpis_many(con, page_frames.what_if(s.f)),
    "export frames": lambda con, s: engine.kpis_many(con, page_frames.export_view(s.f)),
    "overview extras": lambda con, s: engine.together(con, page_frames.overview_extras(s.f)),
    "monthly by model": lambda con, s: engine.monthly(con, s.f, by="model"),
    "funnel": lambda con, s: engine.funnel(con, s.f),
    "quality": lambda con, s: engine.quality(con, s.f),
    "partner vs direct": lambda con, s: engine.partner_vs_direct(con, s.f),
    "deltas by model": lambda con, s: engine.deltas(con, s.f, by="model"),
    "deals of the busiest partner": lambda con, s: engine.deals(con, s.f, s.partner_id),
    "costs by category": lambda con, s: engine.costs_by_category(con, s.f, by="partner"),
    "commission details": lambda con, s: engine.commission_details(con, s.f),
    "revenue total": lambda con, s: engine.revenue_total(con, s.f),
    "breakeven rate": lambda con, s: engine.breakeven_commission_rate(con, s.f, s.partner_id),
    "roi sensitivity": lambda con, s: engine.roi_sensitivity(con, s.f, [s.partner_id], [0.05, 0.125, 0.3]),
    "what-if scenario by partner": lambda con, s: engine.kpis(con, s.f, "partner", _scenario(con)),
    "what-if scenario by model": lambda con, s: engine.kpis(con, s.f, "model", _scenario(con)),
    "payback": lambda con, s: payback.payback(con, s.f),
    "forecast revenue by model": lambda con, s: forecast.forecast(con, s.f, "revenue", by="model"),
    "weekly pack": lambda con, s: weekly.build_weekly(con, _week(con)),
    "weekly pack, cohort view": lambda con, s: weekly.build_weekly(con, _week(con), view="cohort"),
}


def cases() -> Iterator[tuple[str, Case]]:
    """Every case by name: the pages, their variants and extras, each also in the close-date view and for one model."""
    base = {**PAGES, **VARIANTS, **EXTRA}
    for name, fn in base.items():
        yield name, fn
        yield f"{name} · close view", lambda con, s, fn=fn: fn(con, _closed(s))
        yield f"{name} · referral", lambda con, s, fn=fn: fn(con, _referral(s))


def _key(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)


def differences(a: Any, b: Any, where: str = "", tol: float = TOLERANCE) -> Iterator[str]:
    """Every way b differs from a: type, dtype, columns, index, order, or a value beyond tol (relative)."""
    if isinstance(a, pd.DataFrame):
        if not isinstance(b, pd.DataFrame):
            yield f"{where}: a DataFrame became {type(b).__name__}"
            return
        if list(a.columns) != list(b.columns):
            yield f"{where}: columns {list(a.columns)} → {list(b.columns)}"
            return
        if list(a.dtypes.astype(str)) != list(b.dtypes.astype(str)):
            yield f"{where}: dtypes {dict(a.dtypes.astype(str))} → {dict(b.dtypes.astype(str))}"
        if not a.index.equals(b.index):
            yield f"{where}: index differs"
        for col in a.columns:
            yield from differences(a[col], b[col], f"{where}[{col}]", tol)
        return
    if isinstance(a, pd.Series):
        if not isinstance(b, pd.Series) or len(a) != len(b):
            yield f"{where}: a Series of {len(a)} became {type(b).__name__} of {len(b) if hasattr(b, '__len__') else '?'}"
            return
        if str(a.dtype) != str(b.dtype):
            yield f"{where}: dtype {a.dtype} → {b.dtype}"
        for i, (x, y) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
            for d in differences(x, y, f"{where}#{i}", tol):
                yield d
                return  # one line per column is enough to find it
        return
    if is_dataclass(a) and not isinstance(a, type):
        if type(a) is not type(b):
            yield f"{where}: {type(a).__name__} became {type(b).__name__}"
            return
        for fld in fields(a):
            if fld.name in VOLATILE:
                continue
            yield from differences(getattr(a, fld.name), getattr(b, fld.name), f"{where}.{fld.name}", tol)
        return
    if isinstance(a, dict):
        if not isinstance(b, dict) or list(a) != list(b):
            yield f"{where}: keys {list(a)[:8]} → {list(b)[:8] if isinstance(b, dict) else type(b).__name__}"
            return
        for k in a:
            yield from differences(a[k], b[k], f"{where}[{k!r}]", tol)
        return
    if isinstance(a, list | tuple):
        if not isinstance(b, list | tuple) or len(a) != len(b):
            yield f"{where}: a sequence of {len(a)} became {b!r:.60}"
            return
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from differences(x, y, f"{where}[{i}]", tol)
        return
    if isinstance(a, np.ndarray):
        yield from differences(a.tolist(), np.asarray(b).tolist(), where, tol)
        return
    if _is_number(a) and _is_number(b):
        x, y = float(a), float(b)
        if math.isnan(x) and math.isnan(y):
            return
        if not math.isclose(x, y, rel_tol=tol, abs_tol=tol):
            yield f"{where}: {a!r} → {b!r}"
        return
    if _missing(a) and _missing(b):
        return
    if a != b:
        yield f"{where}: {a!r:.80} → {b!r:.80}"


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def _missing(v: Any) -> bool:
    try:
        return v is None or v is pd.NA or v is pd.NaT or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def plain(value: Any) -> Any:
    """value with every dataclass turned into a dict of its fields plus its class's bare name, so a capture does
    not depend on the module a class lives in (a restructuring moves them)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {"__type__": type(value).__name__,
                **{f.name: plain(getattr(value, f.name)) for f in fields(value) if f.name not in VOLATILE}}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(plain(v) for v in value) if isinstance(value, list) else tuple(plain(v) for v in value)
    return value


def _copy(db: Path, tmp: Path) -> Path:
    # A copy, so a capture never writes (or takes the lock of) the served database.
    out = tmp / db.name
    shutil.copy(db, out)
    store.upgrade(out)  # the code under test may carry a migration the captured file lacks
    return out


def run(mode: str, out: Path, dbs: list[Path]) -> int:
    """Capture into out, or compare with it; print one line per case and return the number of differing cases."""
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for db in dbs:
            if not db.exists():
                print(f"skip {db}: not found")
                continue
            con = duckdb.connect(str(_copy(db, Path(tmp))))
            scope = default_scope(con)
            folder = out / _key(db.stem)
            folder.mkdir(parents=True, exist_ok=True)
            for name, fn in cases():
                got = plain(fn(con, scope))
                path = folder / f"{_key(name)}.pkl"
                if mode == "capture":
                    path.write_bytes(pickle.dumps(got))
                    continue
                tol = next((v for k, v in LOOSE.items() if name.startswith(k)), TOLERANCE)
                found = list(differences(pickle.loads(path.read_bytes()), got, name, tol)) if path.exists() \
                    else [f"{name}: no capture"]
                bad += bool(found)
                print(f"{'DIFF' if found else 'same'}  {db.name}  {name}")
                for line in found[:10]:
                    print(f"      {line}")
            con.close()
    return bad


def main(argv: list[str] | None = None) -> int:
    """Command line: capture or compare."""
    p = argparse.ArgumentParser(prog="python -m bench.golden", description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=("capture", "compare"))
    p.add_argument("dir", type=Path)
    p.add_argument("--db", type=Path, action="append", help="database file (default: demo and the 1M bench file)")
    a = p.parse_args(argv)
    bad = run(a.mode, a.dir, a.db or list(DEFAULT_DBS))
    if a.mode == "compare":
        print(f"{bad} case(s) differ" if bad else "every case is the same")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""Shared helpers of the reports tests: one small demo database per test session (no tests here)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from data_layer import store
from data_layer.demo import load_demo

DEMO_END = date(2025, 6, 30)          # fixed, so every run sees the same data
DEMO_LEADS = 1500
DEMO_SEED = 11
PERIOD = (date(2025, 1, 1), date(2025, 6, 30))
WEEK_ENDING = date(2025, 6, 29)       # a Sunday inside the data
_BUILT: dict[str, Path] = {}

# Partner names that try spreadsheet formulas or markup (written over demo partners in a copy).
EVIL_NAMES = ['=HYPERLINK("http://evil.example","click")', "+79990001122", "-2+3", "@SUM(A1:A9)",
              "\tTabbed", "**Жирный** <b>html</b>"]


def demo_db(base: Path) -> Path:
    """Path of the session's demo database (built on first use under base)."""
    if "demo" not in _BUILT:
        path = base / "reports-demo.duckdb"
        load_demo(path, n_leads=DEMO_LEADS, seed=DEMO_SEED, end_date=DEMO_END)
        _BUILT["demo"] = path
    return _BUILT["demo"]


def evil_db(base: Path) -> Path:
    """A copy of the demo database whose first partners carry formula-like / markup names."""
    if "evil" not in _BUILT:
        src = demo_db(base)
        path = base / "reports-evil.duckdb"
        shutil.copy(src, path)
        with store.connect(path) as con:
            ids = [r[0] for r in con.execute("select partner_id from partners order by partner_id").fetchall()]
            for pid, name in zip(ids, EVIL_NAMES, strict=False):
                con.execute("update partners set name = ? where partner_id = ?", [name, pid])
        store.bump_version(path)  # lead_facts keeps partner_id; names come from the partners table
        _BUILT["evil"] = path
    return _BUILT["evil"]

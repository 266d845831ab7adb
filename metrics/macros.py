"""Python's door to the shared rules of data_layer/macros.sql: the ROI band and the Wilson interval.

The rules are SQL macros every query calls; a Python caller (a what-if table built row by row, a test) evaluates
the very same macros on a small in-memory DuckDB, so there is no second copy of a threshold or a formula to drift.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import duckdb

from data_layer.store import MACROS_SQL

Z95 = 1.959963984540054
_local = threading.local()  # a DuckDB connection is not shared between threads (Streamlit runs one per session)


def _con() -> duckdb.DuckDBPyConnection:
    """This thread's in-memory connection holding the macros."""
    con = getattr(_local, "con", None)
    if con is None:
        con = duckdb.connect(":memory:")
        con.execute(MACROS_SQL.read_text(encoding="utf-8"))
        _local.con = con
    return con


def _value(roi: float | None) -> float | None:
    return None if roi is None or roi != roi else float(roi)  # NaN is "no ROI", as SQL's NULL


@lru_cache(maxsize=4096)
def _band(roi: float | None) -> str:
    return str(_con().execute("select roi_band(cast(? as double))", [roi]).fetchone()[0])


def roi_band(roi: float | None) -> str:
    """ROI band of one value (macro roi_band): excellent, profitable, marginal, loss or n/a."""
    return _band(_value(roi))


@lru_cache(maxsize=4096)
def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion (macros wilson_low / wilson_high); (None, None) without trials."""
    if trials <= 0:
        return None, None
    low, high = _con().execute("select wilson_low(?::double, ?::double, ?::double), "
                               "wilson_high(?::double, ?::double, ?::double)",
                               [successes, trials, z * z] * 2).fetchone()
    return low, high

"""Engine calls on a short read-only connection, and the month most metric tests look at."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from data_layer import store
from metrics import engine
from metrics.filters import Filters

MARCH = Filters(date(2024, 3, 1), date(2024, 3, 31))


def kpis(path: Path, f: Filters = MARCH, by: str = "none", **kw) -> pd.DataFrame:
    """kpis() on a short read-only connection."""
    with store.connect(path, read_only=True) as con:
        return engine.kpis(con, f, by, **kw)


def call(path: Path, fn, *args, **kw):
    """Any engine function on a short read-only connection."""
    with store.connect(path, read_only=True) as con:
        return fn(con, *args, **kw)


def row(df: pd.DataFrame, **keys) -> dict:
    """The single row of df matching keys, as a dict."""
    mask = pd.Series(True, index=df.index)
    for k, v in keys.items():
        mask &= df[k].isna() if v is None else df[k] == v
    hit = df[mask]
    assert len(hit) == 1, f"{len(hit)} rows for {keys}"
    return hit.iloc[0].to_dict()

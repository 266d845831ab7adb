"""Cached, read-only access to the database for pages: results keyed by arguments and data version."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from data_layer import store, userdata

T = TypeVar("T")


def db_path() -> Path:
    """The database the dashboard shows (PARTNER_ROI_DB, default cache/partner_roi.duckdb)."""
    return Path(os.environ.get("PARTNER_ROI_DB", str(store.DEFAULT_DB)))


def version() -> str:
    """Data-version stamp of the database; changes after every write."""
    return store.data_version(db_path())


@st.cache_data(show_spinner=False, max_entries=512, ttl=3600)
def _cached(path: str, stamp: str, fn_name: str, _fn: Callable[..., Any], args: tuple, kwargs_items: tuple) -> Any:
    with store.connect(path, read_only=True) as con:
        return _fn(con, *args, **dict(kwargs_items))


def query(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run fn(con, *args, **kwargs) on a short read-only connection; cached until the data changes.

    Arguments must be hashable (Filters is a frozen dataclass). The function's qualified name is part of
    the key, so two functions never share results.
    """
    path = str(db_path())
    name = f"{fn.__module__}.{fn.__qualname__}"
    return _cached(path, version(), name, fn, args, tuple(sorted(kwargs.items())))


def write(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run fn(con, *args, **kwargs) in one write transaction, then bump the data version."""
    path = db_path()
    with store.connect(path) as con, userdata.atomic(con):
        result = fn(con, *args, **kwargs)
    store.bump_version(path)
    return result

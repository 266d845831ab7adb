"""Shared fixtures: a fresh migrated database file per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_layer import store


@pytest.fixture
def tmp_db(tmp_path: Path) -> Path:
    """Path of a new, migrated, empty database."""
    path = tmp_path / "test.duckdb"
    store.init_db(path)
    return path

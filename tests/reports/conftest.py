"""Fixtures of the report tests: the reports' own small demo database (fixed end date, so every run sees the same
numbers) and, for the weekly pack's goals, the dashboard's demo database."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.demo import app_db  # noqa: F401  (a fixture: pytest finds it by name)
from support.reports import demo_db


@pytest.fixture(scope="session")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reports' demo database (support.reports: 1 500 leads ending 2025-06-30), one per session; read only."""
    return demo_db(tmp_path_factory.getbasetemp())

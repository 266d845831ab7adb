"""Shared fixtures: a fresh migrated database file per test."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import settings
from streamlit.testing.v1 import app_test

from data_layer import ratelimit, store
from ui import navigation

_COUNTER = itertools.count()

# No per-example time limit: this box is shared and noisy, and speed is measured by `make bench`, not by tests.
settings.register_profile("shared-machine", deadline=None)
settings.load_profile("shared-machine")


@pytest.fixture(scope="session")
def _rate_budget_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One temp dir for the whole session's budget dirs."""
    return tmp_path_factory.mktemp("rate")


@pytest.fixture(autouse=True)
def _rate_budget_dir(_rate_budget_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's per-host rate budgets (CLI subprocesses inherit the variable) go to its own temp dir.

    Not cache/rate, and never shared: an emulator port reused by a later test must not inherit a pause.
    """
    monkeypatch.setenv(ratelimit.RATE_DIR_VAR, str(_rate_budget_root / str(next(_COUNTER))))


@pytest.fixture
def tmp_db(tmp_path: Path) -> Path:
    """Path of a new, migrated, empty database."""
    path = tmp_path / "test.duckdb"
    store.init_db(path)
    return path


@pytest.fixture(autouse=True)
def _router_only_in_apptest(monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTest runs app.py as the server does: st.navigation routes, never Streamlit's pages/ file mode."""
    monkeypatch.setattr(app_test, "PagesManager", navigation.RouterOnlyPagesManager)


"""What every test needs: a migrated empty database per test (a copy of one template per session), its own
rate-budget directory, AppTest routed the way the server routes, and the shared machine's hypothesis profile.

The fixtures of one layer live in that folder's conftest.py; builders and helpers in tests/support/."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import settings
from streamlit.testing.v1 import app_test
from support import template

from data_layer import ratelimit
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


@pytest.fixture(autouse=True)
def _no_after_sync_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI syncs in tests skip the after-sync processes (clawbacks, alerts); a test of those sets the variable to 1."""
    monkeypatch.setenv("PARTNER_ROI_AFTER_SYNC", "0")


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's migrated, empty database (store.init_db once): copied by tmp_db, never written."""
    return template.build_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def tmp_db(template_db: Path, tmp_path: Path) -> Path:
    """Path of a new, migrated, empty database: a copy of the session's template (a test of the migrations
    themselves calls store.init_db on a path of its own)."""
    return template.copy_template(template_db, tmp_path / "test.duckdb")


@pytest.fixture(autouse=True)
def _router_only_in_apptest(monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTest runs app.py as the server does: st.navigation routes, never Streamlit's pages/ file mode."""
    monkeypatch.setattr(app_test, "PagesManager", navigation.RouterOnlyPagesManager)


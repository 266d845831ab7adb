"""Fixtures of the dashboard tests (AppTest and browser): one demo database per test session.

The folders whose tests open the dashboard import these fixtures into their conftest.py. The demo data end
today, so the period presets of the sidebar (this month, last 12 months, …) always hold data. Helpers to
import live in support/app.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from data_layer.demo import load_demo
from ui import charts

DEMO_LEADS = 4000
DEMO_SEED = 7
_BUILT: dict[str, Path] = {}


def demo_path(base: Path) -> Path:
    """The session's demo database (built on first use under base, shared by every test module)."""
    if "demo" not in _BUILT:
        path = base / "app-demo.duckdb"
        load_demo(path, n_leads=DEMO_LEADS, seed=DEMO_SEED)
        _BUILT["demo"] = path
    return _BUILT["demo"]


@pytest.fixture(scope="session")
def app_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of the session's demo database."""
    return demo_path(tmp_path_factory.getbasetemp())


@pytest.fixture(autouse=True)
def validate_chart_specs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every chart a page draws in a test is checked against the Vega-Lite schema (skipped in production)."""
    monkeypatch.setattr(charts, "VALIDATE_SPECS", True)


@pytest.fixture
def app_env(app_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The dashboard reads the demo database in this test."""
    monkeypatch.setenv("PARTNER_ROI_DB", str(app_db))
    return app_db

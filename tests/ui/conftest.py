"""Fixtures of the AppTest page tests: the session's demo database, every chart checked against the Vega-Lite
schema, and the small accounts of the costs and what-if pages (a copy of the template database each)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import costs_page, whatif_page
from support.demo import app_db, app_env, validate_chart_specs  # noqa: F401  (fixtures: pytest finds them by name)


@pytest.fixture
def costs_db(tmp_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The dashboard reads support.costs_page's account: Alpha 300 and Beta 400 of costs last month."""
    monkeypatch.setenv("PARTNER_ROI_DB", str(tmp_db))
    return costs_page.build_db(tmp_db)


@pytest.fixture
def whatif_db(tmp_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The dashboard reads support.whatif_page's account: Alpha (ROI 400 %) and Beta (ROI 150 %)."""
    monkeypatch.setenv("PARTNER_ROI_DB", str(tmp_db))
    return whatif_page.build_db(tmp_db)

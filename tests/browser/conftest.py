"""Fixtures of the real-browser tests (Debian's chromium driven by Playwright against `streamlit run`): the
session's demo database, and no test starts without the browser (skipped locally, a failure in CI)."""

from __future__ import annotations

import pytest
from support.browser import require_chromium
from support.demo import app_db  # noqa: F401  (a fixture: pytest finds it by name)


@pytest.fixture(autouse=True)
def _chromium_present() -> None:
    """Skip (or, with CI=true, fail) before a server is started when /usr/bin/chromium is missing."""
    require_chromium()

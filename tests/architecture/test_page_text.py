"""No page's Russian text carries a raw artefact: `None`, `nan`, a brace (raw JSON or an unfilled template), a
docs/ path or a CLI flag (`--`). Every page of the router, every text element, table cell and widget label."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.app import ARTEFACTS, new_app, page_texts, run_ok

PAGES = ("overview", "partners", "models", "trends", "quality", "costs", "what_if", "forecast", "goals", "reports",
         "settings")
@pytest.mark.parametrize("page", PAGES)
def test_no_raw_artefacts_in_the_russian_text(app_env: Path, page: str) -> None:
    at = run_ok(new_app())
    if page != "overview":
        run_ok(at.switch_page(f"pages/{page}.py"))
    bad = sorted({s for s in page_texts(at) if ARTEFACTS.search(s)})
    assert not bad, f"{page}: {bad[:8]}"

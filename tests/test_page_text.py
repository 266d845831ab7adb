"""No page's Russian text carries a raw artefact: `None`, `nan`, a brace (raw JSON or an unfilled template), a
docs/ path or a CLI flag (`--`). Every page of the router, every text element, table cell and widget label."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from app_helpers import new_app, run_ok

pytest_plugins = ("conftest_app",)

PAGES = ("overview", "partners", "models", "trends", "quality", "costs", "what_if", "forecast", "goals", "reports",
         "settings")
ARTEFACTS = re.compile(r"\bNone\b|\bnan\b|\bNaN\b|[{}]|docs/|(?<![\w-])--(?=\w)")
TEXT_KINDS = ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success",
              "exception", "text")


def _widget_texts(at) -> list[str]:
    out = []
    for kind in ("selectbox", "multiselect", "radio", "checkbox", "toggle", "button", "text_input", "number_input",
                 "date_input", "slider", "select_slider", "text_area"):
        for w in getattr(at, kind, []):
            out += [str(getattr(w, "label", "") or ""), str(getattr(w, "help", "") or "")]
            out += [str(o) for o in (getattr(w, "options", None) or [])]
    return out


def _table_texts(at) -> list[str]:
    out = []
    for element in list(at.dataframe) + list(at.table):
        value = getattr(element.value, "data", element.value)
        if isinstance(value, pd.DataFrame):
            out += [str(c) for c in value.columns]
            for col in value.columns:
                if value[col].dtype == object:  # numbers are formatted by the grid; text cells are shown as is
                    out += [str(v) for v in value[col] if v is not None and not (isinstance(v, float) and v != v)]
    return out


def page_texts(at) -> list[str]:
    """Every visible string of a run: text elements, KPI cards, widget labels and options, table text cells."""
    out = []
    for kind in TEXT_KINDS:
        out += [str(getattr(e, "value", "") or "") for e in getattr(at, kind, [])]
    out += [f"{m.label} {m.value} {m.delta or ''}" for m in at.metric]
    return out + _widget_texts(at) + _table_texts(at)


@pytest.mark.parametrize("page", PAGES)
def test_no_raw_artefacts_in_the_russian_text(app_env: Path, page: str) -> None:
    at = run_ok(new_app())
    if page != "overview":
        run_ok(at.switch_page(f"pages/{page}.py"))
    bad = sorted({s for s in page_texts(at) if ARTEFACTS.search(s)})
    assert not bad, f"{page}: {bad[:8]}"

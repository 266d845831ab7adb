"""Helpers of the dashboard tests: open app.py in AppTest with URL parameters, run it, read KPI cards."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
MY_PAGES = ("pages/overview.py", "pages/partners.py", "pages/models.py", "pages/trends.py", "pages/quality.py")


def new_app(query: dict[str, str | list[str]] | None = None) -> AppTest:
    """An AppTest of app.py opened with these URL query parameters (not run yet)."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at


def run_ok(at: AppTest) -> AppTest:
    """Run (or rerun) and fail with the page's own messages if anything went wrong."""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


_BADGE = re.compile(r"\s*:[a-z]+-badge\[[^\]]*\]")


def metric_values(at: AppTest) -> dict[str, str]:
    """KPI cards as {label: value} (a badge in a label, like the overview ROI card's band, left out)."""
    return {_BADGE.sub("", m.label): m.value for m in at.metric}


def url(at: AppTest, key: str) -> list[str]:
    """Values of one URL query parameter after a run ([] when absent)."""
    value = at.query_params.get(key)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


def url_dict(at: AppTest) -> dict[str, list[str]]:
    """The whole URL query as {param: [values]} (what a copied link carries)."""
    return {key: url(at, key) for key in at.query_params}


def frame_with(at: AppTest, *columns: str):
    """The first st.dataframe whose columns include all of these (the underlying frame of a Styler)."""
    for element in at.dataframe:
        value = element.value
        value = getattr(value, "data", value)
        if set(columns) <= set(value.columns):
            return value
    raise AssertionError(f"no table with columns {columns}")


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

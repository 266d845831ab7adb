"""Helpers of the dashboard tests: open app.py in AppTest with URL parameters, run it, read KPI cards."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
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

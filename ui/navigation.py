"""The app's one navigation: Streamlit's pages/ directory mode off, so app.py's st.navigation alone routes.

Streamlit 1.67 serves a main script that has a pages/ folder beside it in its old file-based mode
(`PagesManager.uses_pages_directory`, decided when the process's first session opens) until a run calls
st.navigation. Until then a run lists pages/*.py by file name in the sidebar ("app", "costs", … "what if"),
executes the file a URL names (/partners) without app.py, and answers /what-if (the file is what_if.py) with
"Page not found". That was the first run after every server start, and every run in AppTest. No config
option turns the mode off (client.showSidebarNavigation hides st.navigation's sidebar menu too) and the
folder keeps its name, so the flag st.navigation itself clears on its first call is cleared before any
session opens: app.py does it when `streamlit run app.py` imports the file at start-up to serve its st.App.
tests/browser/test_browser_nav.py fails if a Streamlit upgrade changes this.
"""

from __future__ import annotations

from typing import Any

from streamlit.runtime.pages_manager import PagesManager


def router_only() -> None:
    """Switch Streamlit's pages/ directory mode off in this process, as st.navigation's first call does."""
    PagesManager.uses_pages_directory = False


class RouterOnlyPagesManager(PagesManager):
    """PagesManager for AppTest, which decides the mode afresh before each run: off there as well."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        router_only()

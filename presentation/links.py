"""Dashboard links: the URL parameter names the filters use, and a builder for a link to one filtered view."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

GLOBAL_PARAMS = ("period", "from", "to", "compare", "partner", "model", "pipeline", "source", "view", "lang", "present")
# A page's own parameters (ui.filters.bind_param on that page): the partners page opens one partner with ?selected=
PAGE_PARAMS: dict[str, tuple[str, ...]] = {"partners": ("selected",)}
DEFAULT_BASE_URL = "http://localhost:8501"


def dashboard_url(base: str = DEFAULT_BASE_URL, page: str = "", **params: str | Sequence[str] | None) -> str:
    """A link to `page` with the given filter parameters and the page's own (repeated for lists; None/empty left
    out)."""
    known = {p.replace("-", "_") for p in (*GLOBAL_PARAMS, *PAGE_PARAMS.get(page.strip("/"), ()))}
    unknown = set(params) - known - {"from_"}
    if unknown:
        raise ValueError(f"unknown dashboard URL parameter(s): {sorted(unknown)}")
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = "from" if key == "from_" else key
        values = [value] if isinstance(value, str) else list(value or [])
        pairs += [(name, str(v)) for v in values if str(v) != ""]
    url = base.rstrip("/") + ("/" + page.strip("/") if page else "")
    return url + ("?" + urlencode(pairs) if pairs else "")

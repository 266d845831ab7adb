"""One colour per model on every page, read off the charts Chromium drew: the trends chart's legend, the models
page's bars and the first screen's ROI bars give each model (and direct sales) the same fill, the palette's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.browser import browser, require_chromium, streamlit_server, wait_ready

from presentation import palette
from presentation.i18n import model_label

pytestmark = pytest.mark.browser
TIMEOUT = 120_000  # ms
MODELS = ("referral", "sales", "service", "direct")
FIRST_CHART = "[data-testid='stMain'] .vega-embed"            # querySelector: the page's first chart
ANSWER_CHART = ".st-key-first-answer-models .vega-embed"      # the first screen's models' ROI bars

# Vega draws SVG: a legend entry is a symbol and a label; a mark carries its fields in aria-label ("a: x; b: y").
LEGEND = """(sel) => { const svg = document.querySelector(sel + ' svg');
  const labels = [...svg.querySelectorAll('.role-legend-label text')].map(t => t.textContent);
  const fills = [...svg.querySelectorAll('.role-legend-symbol path')].map(p => p.getAttribute('fill'));
  return labels.map((l, i) => [l, fills[i]]); }"""
MARKS = """(sel) => [...document.querySelector(sel + ' svg').querySelectorAll('path[aria-label], rect[aria-label]')]
  .map(m => [m.getAttribute('aria-label'), m.getAttribute('fill')])"""


@pytest.fixture(scope="module")
def server(app_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    with streamlit_server(app_db, log=tmp_path_factory.mktemp("streamlit-colors") / "server.log") as url:
        yield url


def _open(chrome, url: str, chart: str):
    page = chrome.new_context(viewport={"width": 1440, "height": 900}, locale="ru-RU").new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(url)
    wait_ready(page)
    page.wait_for_selector(f"{chart} svg .role-mark")
    return page


def _bar_fills(marks: list[list[str]], field: str) -> dict[str, str]:
    """Model label → fill of the bars whose aria-label names that model in `field`."""
    out: dict[str, str] = {}
    for label, fill in marks:
        parts = dict(p.split(": ", 1) for p in (label or "").split("; ") if ": " in p)
        if parts.get(field) and fill and fill.startswith("#"):
            out.setdefault(parts[field], fill)
    return out


def test_each_model_has_one_colour_on_trends_models_and_the_first_screen(server: str) -> None:
    expected = {model_label(m, "ru"): palette.model_color(m) for m in MODELS}
    with browser() as chrome:
        trends = _open(chrome, f"{server}/trends", FIRST_CHART)        # by model, the page's default
        legend = dict(trends.evaluate(LEGEND, FIRST_CHART))
        models = _open(chrome, f"{server}/models", FIRST_CHART)
        bars = _bar_fills(models.evaluate(MARKS, FIRST_CHART), "model_label")
        first = _open(chrome, server, ANSWER_CHART)
        roi_bars = _bar_fills(first.evaluate(MARKS, ANSWER_CHART), "label")
    assert {m: legend.get(m) for m in expected} == expected            # every model and direct sales in the legend
    partner_models = {m: c for m, c in expected.items() if m != model_label("direct", "ru")}
    assert bars == partner_models                                       # direct sales has no ROI bar (no costs)
    assert {m: c for m, c in roi_bars.items() if m in expected} == partner_models

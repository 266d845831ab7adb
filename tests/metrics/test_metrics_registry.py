"""Every metric is described and documented; docs/metrics.md is generated from the registry (where each metric is
computed and which tests cover it: tests/architecture/test_metric_coverage.py)."""

from __future__ import annotations

import re

from metrics import glossary
from metrics.registry import METRICS, UNITS


def test_every_metric_has_labels_descriptions_and_a_unit() -> None:
    for m in METRICS.values():
        for text in (m.label_ru, m.label_en, m.description_ru, m.description_en, m.formula):
            assert text.strip() and "\n" not in text, m.name
        assert m.unit in UNITS, m.name


def test_docs_are_generated_from_the_registry() -> None:
    text = glossary.render_markdown()  # once: it scans tests/ for the covering tests
    assert glossary.DOC_PATH.read_text(encoding="utf-8") == text, \
        "docs/metrics.md is stale: run `python -m metrics.glossary`"
    for name in METRICS:
        assert f"`{name}`" in text


def test_glossary_rows_in_both_languages() -> None:
    ru, en = glossary.rows("ru"), glossary.rows("en")
    assert [r["name"] for r in ru] == list(METRICS) == [r["name"] for r in en]
    assert ru[0]["label"] == "Лиды" and en[0]["label"] == "Leads"


def test_the_glossary_links_each_metric_to_a_file_that_exists() -> None:
    text = glossary.render_markdown()
    links = re.findall(r"\]\((\.\./[^)]+)\)", text)
    assert len(links) >= 2 * len(METRICS), "a computed-in link in the table and in the tests section"
    for link in set(links):
        assert (glossary.DOC_PATH.parent / link).resolve().is_file(), link
    assert "[`kpis.sql#rated`](../metrics/sql/kpis.sql)" in text

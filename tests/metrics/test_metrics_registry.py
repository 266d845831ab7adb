"""Every metric is described, tested and documented; docs/metrics.md is generated from the registry."""

from __future__ import annotations

import importlib
from pathlib import Path

from metrics import glossary
from metrics.registry import METRICS, UNITS

TEST_MODULES = ("test_metrics_engine", "test_metrics_costs", "test_metrics_stats", "test_metrics_cli",
                "test_metrics_props")


def covered() -> set[str]:
    """Union of the COVERED sets the metric test modules declare."""
    names: set[str] = set()
    for module in TEST_MODULES:
        names |= importlib.import_module(module).COVERED
    return names


def test_every_metric_has_labels_descriptions_and_a_unit() -> None:
    for m in METRICS.values():
        for text in (m.label_ru, m.label_en, m.description_ru, m.description_en, m.formula):
            assert text.strip() and "\n" not in text, m.name
        assert m.unit in UNITS, m.name


def test_every_metric_is_tested() -> None:
    assert set(METRICS) - covered() == set()


def test_every_test_module_is_listed() -> None:
    here = Path(__file__).parent
    found = {p.stem for p in here.glob("test_metrics_*.py")} - {"test_metrics_registry", "test_metrics_data"}
    assert found == set(TEST_MODULES)


def test_docs_are_generated_from_the_registry() -> None:
    assert glossary.DOC_PATH.read_text(encoding="utf-8") == glossary.render_markdown(), \
        "docs/metrics.md is stale: run `python -m metrics.glossary`"
    for name in METRICS:
        assert f"`{name}`" in glossary.render_markdown()


def test_glossary_rows_in_both_languages() -> None:
    ru, en = glossary.rows("ru"), glossary.rows("en")
    assert [r["name"] for r in ru] == list(METRICS) == [r["name"] for r in en]
    assert ru[0]["label"] == "Лиды" and en[0]["label"] == "Leads"

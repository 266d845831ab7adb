"""The reports page through AppTest (app.py with the session's demo database): downloads by key, statement
builder, weekly pack, preview; RU and EN."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.app import frame_with, new_app, run_ok

from data_layer import store
from metrics import lookups

PAGE = "pages/reports.py"
DOWNLOADS = ("reports.download_csv", "reports.download_xlsx", "reports.download_pdf", "reports.download_table")


def open_page(query: dict[str, str] | None = None):
    """app.py switched to the reports page, run without errors."""
    at = run_ok(new_app(query))
    return run_ok(at.switch_page(PAGE))


def download_keys(at) -> set[str]:
    """Keys of the download buttons on the page (AppTest shows them as generic elements)."""
    keys = set()
    for node in at.get("download_button"):
        proto = getattr(node, "proto", None)
        if proto is not None and proto.id:
            keys.add(proto.id)
    return keys


def has_key(at, key: str) -> bool:
    """Whether a download button with this user key was rendered."""
    return any(key in k for k in download_keys(at))


def test_page_renders_with_view_downloads(app_env: Path) -> None:
    at = open_page()
    assert at.title[0].value == "Отчёты"
    assert at.radio(key="reports.sep").value == ";"
    assert at.selectbox(key="reports.table").value == "kpis"
    for key in DOWNLOADS:
        assert has_key(at, key), key
    kpis = frame_with(at, "Показатель", "Значение")
    assert "Выручка" in set(kpis["Показатель"]) and kpis["Значение"].str.contains("₽").any()


def test_statement_builder(app_env: Path) -> None:
    at = open_page()
    assert not has_key(at, "reports.download_statement_pdf")
    at.selectbox(key="reports.partner").set_value(first_partner_id(app_env))
    run_ok(at)
    assert has_key(at, "reports.download_statement_pdf") and has_key(at, "reports.download_statement_xlsx")
    summary = frame_with(at, "Показатель", "Значение")
    assert "Итого к выплате" in set(summary["Показатель"])


def first_partner_id(db: Path) -> int:
    """partner_id of the first partner in the statement selectbox (the widget's value; it shows names)."""
    with store.connect(db, read_only=True) as con:
        return int(lookups.partners(con)["partner_id"].iloc[0])


def test_weekly_pack_on_request(app_env: Path) -> None:
    at = open_page()
    assert not has_key(at, "reports.download_weekly_pdf")
    at.button(key="reports.weekly_build").click()
    run_ok(at)
    assert has_key(at, "reports.download_weekly_pdf") and has_key(at, "reports.download_weekly_xlsx")
    frame_with(at, "Эта неделя", "Прошлая неделя")
    assert any("python -m reports weekly" in c.value for c in at.code)


def test_preview_charts_toggle(app_env: Path) -> None:
    at = open_page()
    at.toggle(key="reports.preview_charts").set_value(True)
    run_ok(at)
    assert len(at.get("image")) >= 3  # revenue vs costs, ROI by model, ROI by partner


@pytest.mark.parametrize("query", [{"lang": "en"}, {"lang": "en", "present": "1"}])
def test_page_in_english(app_env: Path, query: dict[str, str]) -> None:
    at = open_page(query)
    assert at.title[0].value == "Reports"
    frame_with(at, "Metric", "Value")

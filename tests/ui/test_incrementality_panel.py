"""Credited vs incremental on the dashboard (AppTest, the session's demo): the partner page of the partner whose
revenue is mostly pre-existing shows its incremental figures, the sentence and the list; the leaderboard and the
models page say the same."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from support.app import frame_with, metric_values, new_app, page_texts, run_ok

MOSTLY_PREEXISTING = "ГК «Омега»"  # data_layer.demo.returning


@pytest.fixture
def omega(app_env: Path, app_db: Path) -> int:
    with duckdb.connect(str(app_db), read_only=True) as con:
        return int(con.execute("select partner_id from partners where name = ?", [MOSTLY_PREEXISTING]).fetchone()[0])


def test_partner_page_shows_incremental_figures_and_the_list(omega: int) -> None:
    at = run_ok(new_app({"selected": str(omega)}))
    run_ok(at.switch_page("pages/partners.py"))
    cards = metric_values(at)
    assert {"Зачтённая выручка", "Приростная выручка", "Доля прежних клиентов", "ROI зачтённый",
            "ROI приростный"} <= set(cards)
    assert cards["ROI приростный"].startswith("−") and not cards["ROI зачтённый"].startswith("−")
    assert any("приростный ROI" in w.value and "ниже нуля" in w.value for w in at.warning)
    listed = frame_with(at, "Сделка", "Клиент", "Прежняя заявка", "Её дата", "Почему считается")
    assert len(listed) > 10 and listed["Номер"].str.fullmatch(r"\d+").all()  # the demo: ids, no links
    assert any(s.value.startswith("Сделки с прежними клиентами") for s in at.subheader)


def test_leaderboard_names_the_partner_that_only_looks_profitable(app_env: Path) -> None:
    at = run_ok(new_app())
    run_ok(at.switch_page("pages/partners.py"))
    assert any(MOSTLY_PREEXISTING in w.value and "приростный ROI" in w.value for w in at.warning)
    at.selectbox(key="partners.sort_by").set_value("incremental_roi")
    run_ok(at.run())
    assert frame_with(at, "Приростный ROI") is not None


def test_models_page_compares_credited_and_incremental(app_env: Path) -> None:
    at = run_ok(new_app())
    run_ok(at.switch_page("pages/models.py"))
    table = frame_with(at, "Зачтённая выручка", "Приростная выручка", "ROI приростный")
    assert len(table) == 3  # the three partnership models (direct, the baseline, has none pre-existing)
    assert any("Зачтённое и приростное" in s for s in page_texts(at))


def test_partner_page_in_english(omega: int) -> None:
    at = run_ok(new_app({"selected": str(omega), "lang": "en"}))
    run_ok(at.switch_page("pages/partners.py"))
    assert {"Credited revenue", "Incremental revenue", "Incremental ROI"} <= set(metric_values(at))
    assert frame_with(at, "Deal", "Client", "Earlier lead", "Its date") is not None

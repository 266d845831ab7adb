"""The partners page's lifecycle panel through AppTest: cards per stage, the dormant list sorted by days since the
last lead, the never-started list, the settings' days, Russian by default and English on request."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support.app import frame_with, metric_values, new_app, run_ok

from data_layer import store
from metrics import lifecycle, payback

PID = 9998


@pytest.fixture
def lifecycle_db(app_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo with short lifecycle days (active 1, dormant 3: some partners sleep) and a partner recruited in
    2020 that never brought a lead, its name Markdown-like."""
    path = tmp_path / "lifecycle.duckdb"
    shutil.copy(app_db, path)
    with store.connect(path) as con:
        con.execute("insert into partners (partner_id, name, model, start_date) values (?, '*Спящий* [x](y)', "
                    "'referral', date '2020-01-01')", [PID])
        for key, value in (("lifecycle_active_days", 1), ("lifecycle_dormant_days", 3)):
            con.execute("insert or replace into settings (key, value) values (?, ?)", [key, json.dumps(value)])
    store.bump_version(path)
    monkeypatch.setenv("PARTNER_ROI_DB", str(path))
    return path


def _expected(path: Path):
    with store.connect(path, read_only=True) as con:
        return lifecycle.stages(con, payback.as_of_date(con))


def test_the_panel_shows_stage_counts_and_both_lists(lifecycle_db: Path) -> None:
    at = run_ok(new_app())
    run_ok(at.switch_page("pages/partners.py"))
    expected = _expected(lifecycle_db)
    counts = lifecycle.counts(expected)
    cards = metric_values(at)
    assert cards["Уснул"] == str(counts["dormant"]) and counts["dormant"] > 0
    assert cards["Подключён"] == str(counts["recruited"]) == "1"
    assert cards["Активен"] == str(counts["active"])
    dormant = frame_with(at, "last_lead", "days_since")
    assert list(dormant.columns) == ["partner", "model", "last_lead", "days_since", "leads"]
    assert len(dormant) == counts["dormant"]
    assert list(dormant["days_since"]) == sorted(dormant["days_since"], reverse=True), "longest asleep first"
    assert (dormant["days_since"] >= 3).all()
    never = frame_with(at, "recruited", "days_waiting")
    assert list(never["partner"]) == ["*Спящий* [x](y)"], "a CRM name is data, shown literally"
    assert any("Жизненный цикл партнёров" in h.value for h in at.subheader)
    assert any("лид за 1 дн." in c.value for c in at.caption)


def test_the_panel_in_english(lifecycle_db: Path) -> None:
    at = run_ok(new_app({"lang": "en"}))
    run_ok(at.switch_page("pages/partners.py"))
    cards = metric_values(at)
    assert {"Recruited", "First lead", "First deal", "Active", "Cooling", "Dormant"} <= set(cards)
    assert any("Partner lifecycle" in h.value for h in at.subheader)
    assert frame_with(at, "recruited", "days_waiting")["model"].iloc[0] == "Referral", "the model in words"


def test_the_panel_with_the_default_days_on_the_demo(app_env: Path) -> None:
    at = run_ok(new_app())
    run_ok(at.switch_page("pages/partners.py"))
    assert any("лид за 30 дн." in c.value and "60 дн." in c.value for c in at.caption)
    assert "Уснул" in metric_values(at)

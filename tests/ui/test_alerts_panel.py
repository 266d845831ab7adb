"""The settings page's alerts panel through AppTest: an editor adds a rule typed the Russian way ("12,5") and sees it
listed, a bad rule is refused with the field named and nothing saved, a viewer gets no enabled writing widget, and
the page never shows a secret."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from support.app import metric_values, new_app, run_ok

from data_layer import store
from data_layer.userdata import alerts as rule_store
from pages import settings as settings_page
from presentation import fmt
from programme import alerts
from reports import alert_send
from ui import auth

PAGE = "pages/settings.py"
TOKEN = "7000001:AAH-panel-secret-token"


@pytest.fixture
def alerts_db(app_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "panel.duckdb"
    shutil.copy(app_db, path)
    store.upgrade(path)
    store.bump_version(path)
    monkeypatch.setenv("PARTNER_ROI_DB", str(path))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    return path


def open_alerts(code: str = "ru"):
    at = run_ok(new_app({"lang": code} if code == "en" else None))
    run_ok(at.switch_page(PAGE))
    at.session_state[settings_page.K_TAB] = settings_page.TEXT[code]["alerts"]
    return run_ok(at)


def rules(path: Path):
    with store.connect(path, read_only=True) as con:
        return rule_store.list_alert_rules(con)


def fill(at, **values: object) -> None:
    for key, value in values.items():
        widget = next(w for kind in ("text_input", "selectbox", "number_input", "checkbox")
                      for w in at.get(kind) if w.key == f"settings.alerts_{key}")
        widget.set_value(value)
    run_ok(at)


def test_an_editor_adds_a_rule_typed_the_russian_way_and_sees_it_listed(alerts_db: Path) -> None:
    at = open_alerts()
    assert "Правил пока нет" in " ".join(i.value for i in at.info)
    fill(at, name="Конверсия партнёров", condition="below", metric="conversion", threshold="12,5",
         scope_kind="partner", telegram="-1001234567890")
    at.button(key="settings.alerts_save").click()
    run_ok(at)
    assert [s.value for s in at.success] == ["Правило сохранено."]
    saved = rules(alerts_db)
    assert saved["name"].tolist() == ["Конверсия партнёров"] and saved["threshold"].tolist() == [0.125]
    assert saved["scope_value"].tolist() == [None]  # each partner
    table = next(d.value for d in at.dataframe if "Правило" in d.value.columns)
    assert table["Правило"].tolist() == ["Конверсия партнёров"] and table["Порог"].tolist() == ["12,5\u00a0%"]
    assert at.button(key="settings.alerts_test_telegram")
    page = " ".join(str(e.value) for kind in ("caption", "markdown", "text", "info") for e in at.get(kind))
    assert TOKEN not in page and "задан" in page


def test_a_bad_rule_is_refused_with_the_field_named_and_nothing_saved(alerts_db: Path) -> None:
    at = open_alerts()
    fill(at, name="Плохое", condition="above", metric="leads", threshold="1 234 567", webhook="ftp:/nowhere")
    at.button(key="settings.alerts_save").click()
    at.run()
    assert not at.exception and any("«Адрес вебхука»" in e.value for e in at.error)
    assert rules(alerts_db).empty


def test_an_editor_changes_and_deletes_a_rule(alerts_db: Path) -> None:
    at = open_alerts()
    fill(at, name="Лиды", condition="above", metric="leads", threshold="1 234 567", scope_kind="all",
         email="team@example.ru")
    at.button(key="settings.alerts_save").click()
    run_ok(at)
    rule_id = int(rules(alerts_db)["rule_id"].iloc[0])
    at.selectbox(key="settings.alerts_pick").set_value(rule_id)
    run_ok(at)
    assert at.text_input(key="settings.alerts_threshold").value == "1234567"
    fill(at, threshold="1 000")
    at.button(key="settings.alerts_save").click()
    run_ok(at)
    assert rules(alerts_db)["threshold"].tolist() == [1000.0]
    at.button(key="settings.alerts_delete").click()
    run_ok(at)
    assert rules(alerts_db).empty


def test_a_viewer_sees_the_rules_but_no_enabled_writing_widget(alerts_db: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with store.connect(alerts_db) as con:
        alerts.add_rule(con, {"name": "ROI", "metric": "roi", "scope_kind": "all", "condition": "below",
                              "threshold": "0", "window_periods": 1, "grain": "month",
                              "channels": [{"kind": "telegram", "chat_id": "-100200300"}]})
    store.bump_version(alerts_db)
    monkeypatch.setattr(auth, "current", lambda: auth.Principal("v@acme.ru", "V", "viewer"))
    at = open_alerts("en")
    table = next(d.value for d in at.dataframe if "Rule" in d.value.columns)
    assert table["Rule"].tolist() == ["ROI"]
    writing = [b for b in at.button if b.key and b.key.startswith("settings.alerts_")]
    assert writing and all(b.proto.disabled for b in writing)
    assert all(w.proto.disabled for w in at.text_input if w.key and w.key.startswith("settings.alerts_"))


def test_the_alert_link_opens_the_view_with_the_alerted_value(alerts_db: Path) -> None:
    """A partner's ROI alert links to that partner's page over that period, whose ROI card shows the same value."""
    with store.connect(alerts_db) as con:
        alerts.add_rule(con, {"name": "ROI", "metric": "roi", "scope_kind": "partner", "condition": "below",
                              "threshold": "1000", "window_periods": 1, "grain": "month",
                              "channels": [{"kind": "telegram", "chat_id": "-100200300"}]})
        moved, _ = alerts.evaluate(con)
    reading = next(t.reading for t in moved if t.reading.value is not None)
    event = {"scope_key": reading.scope_key, "period_from": reading.period_from, "period_to": reading.period_to}
    url = alert_send.link(event, {}, "http://x", "ru")
    query = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(urlsplit(url).query).items()}
    at = run_ok(new_app(query))
    run_ok(at.switch_page("pages/partners.py"))
    assert metric_values(at)["ROI"] == fmt.pct(reading.value, "ru")

"""Settings & sync page through AppTest: renders, saves settings atomically, keeps secrets out of the database
and the page, and runs a real background sync against the local amoCRM emulator."""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from pathlib import Path

import pytest
from emulator.data import make_records
from emulator.harness import ENV_NAMES, FAST
from emulator.server import Emulator
from support.app import new_app, run_ok
from support.template import copy_template

from data_layer import store, sync, userdata
from pages import settings as settings_page

PAGE = "pages/settings.py"
SECRET = "SECRET-TOKEN-do-not-leak-42"


@pytest.fixture
def settings_db(app_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo database (these tests write), with no amoCRM settings from outside."""
    path = tmp_path / "settings.duckdb"
    shutil.copy(app_db, path)
    store.bump_version(path)
    for var in [v for v in os.environ if v.startswith("AMOCRM_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("PARTNER_ROI_DB", str(path))
    monkeypatch.setenv("AMOCRM_TOKEN_FILE", str(tmp_path / "amocrm_tokens.json"))
    monkeypatch.setenv("AMOCRM_SECRETS_FILE", "")
    return path


def open_settings(query: dict | None = None, tab: str = "sync"):
    """The settings page with one of its lazy tabs open (only the open tab's section runs)."""
    at = run_ok(new_app(query))
    run_ok(at.switch_page(PAGE))
    return open_tab(at, tab, (query or {}).get("lang", "ru"))


def open_tab(at, tab: str, code: str = "ru"):
    """Open a tab of the settings page by its TEXT key (sync, conn, mapping, calc, glossary, audit, access)."""
    at.session_state[settings_page.K_TAB] = settings_page.TEXT[code][tab]
    return run_ok(at)


def setting(path: Path, key: str):
    with store.connect(path, read_only=True) as con:
        return userdata.get_setting(con, key)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_settings_page_renders_every_section(settings_db: Path, lang: str) -> None:
    at = open_settings({"lang": lang})
    assert at.button(key="settings.sync_now")
    assert not at.get("radio"), "only the open tab runs: the mapping section (and its preview) does not"
    open_tab(at, "conn", lang)
    assert at.button(key="settings.test")
    open_tab(at, "mapping", lang)
    assert at.button(key="settings.apply_mapping") and at.radio(key="settings.mode").value == "field"
    assert at.dataframe, "the mapping preview"
    open_tab(at, "calc", lang)
    assert at.number_input(key="settings.min_leads").value == 30
    open_tab(at, "glossary", lang)
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) > 10, "the glossary, alone"
    where = at.dataframe[0].value.set_index("name").loc["roi", "where"]
    assert where == ("metrics/sql/kpis.sql, block rated" if lang == "en" else "metrics/sql/kpis.sql, блок rated")
    open_tab(at, "audit", lang)
    assert len(at.dataframe) == 1, "the change log, alone"
    open_tab(at, "access", lang)
    labels = {tab.label for tab in at.tabs}
    assert ("Синхронизация" in labels) if lang == "ru" else ("Sync" in labels)


def test_calculation_settings_are_saved_and_invalid_weights_change_nothing(settings_db: Path) -> None:
    at = open_settings(tab="calc")
    at.text_input(key="settings.w_phone").set_value("90")
    at.button(key="settings.calc_save").click()
    at.run()
    assert any("в сумме 100" in e.value for e in at.error), "weights that do not add up to 100 are refused, in Russian"
    assert setting(settings_db, "quality_weights") is None

    at.text_input(key="settings.w_phone").set_value("25")
    at.number_input(key="settings.min_leads").set_value(10)
    at.text_input(key="settings.margin").set_value("40")
    at.button(key="settings.calc_save").click()
    run_ok(at)
    assert setting(settings_db, "min_leads") == 10
    assert setting(settings_db, "margin")["account"] == pytest.approx(0.4)


def test_margins_are_typed_the_russian_way_and_bad_ones_save_nothing(settings_db: Path) -> None:
    """«12,5» is 12.5 % (a number widget read it as 125); «120» and «много» are refused and nothing is saved."""
    at = open_settings(tab="calc")
    at.text_input(key="settings.margin").set_value("12,5")
    at.text_input(key="settings.margin_sales").set_value("33,3 %")
    at.button(key="settings.calc_save").click()
    run_ok(at)
    margin = setting(settings_db, "margin")
    assert margin["account"] == pytest.approx(0.125) and margin["models"] == {"sales": pytest.approx(0.333)}
    for typed, words in (("120", "больше 100"), ("много", "Маржа аккаунта")):
        at.text_input(key="settings.margin").set_value(typed)
        at.button(key="settings.calc_save").click()
        at.run()
        assert at.error and words in at.error[0].value, typed
        assert setting(settings_db, "margin")["account"] == pytest.approx(0.125)


def test_lifecycle_days_are_saved_and_bad_ones_are_refused_saving_nothing(settings_db: Path) -> None:
    """Active / dormant days: whole numbers ≥ 1 with dormant > active; a refusal is a sentence and saves nothing."""
    at = open_settings(tab="calc")
    assert (at.text_input(key="settings.lifecycle_active").value,
            at.text_input(key="settings.lifecycle_dormant").value) == ("30", "60")
    for active, dormant, words in (("0", "60", "не меньше 1"), ("12,5", "60", "целое число"),
                                   ("30", "30", "больше"), ("много", "60", "«Активен»")):
        at.text_input(key="settings.lifecycle_active").set_value(active)
        at.text_input(key="settings.lifecycle_dormant").set_value(dormant)
        at.button(key="settings.calc_save").click()
        at.run()
        assert at.error and words in at.error[0].value, (active, dormant, at.error[0].value)
        assert setting(settings_db, "lifecycle_active_days") is None
        assert setting(settings_db, "min_leads") == 30, "nothing else is saved either"
    at.text_input(key="settings.lifecycle_active").set_value("14")
    at.text_input(key="settings.lifecycle_dormant").set_value("45")
    at.button(key="settings.calc_save").click()
    run_ok(at)
    assert (setting(settings_db, "lifecycle_active_days"), setting(settings_db, "lifecycle_dormant_days")) == (14, 45)
    assert at.text_input(key="settings.lifecycle_active").value == "14"


def test_lifecycle_days_refusal_in_english(settings_db: Path) -> None:
    at = open_settings({"lang": "en"}, tab="calc")
    at.text_input(key="settings.lifecycle_dormant").set_value("20")
    at.button(key="settings.calc_save").click()
    at.run()
    assert at.error and "must be more than the active days (30)" in at.error[0].value
    assert setting(settings_db, "lifecycle_dormant_days") is None


def test_mapping_change_is_previewed_saved_and_recomputes_facts(settings_db: Path) -> None:
    at = open_settings(tab="mapping")
    at.radio(key="settings.mode").set_value("tag")
    run_ok(at)
    at.text_input(key="settings.tag_prefix").set_value("no-such-prefix:")
    run_ok(at)
    at.button(key="settings.apply_mapping").click()
    run_ok(at)
    assert setting(settings_db, "mapping")["mode"] == "tag"
    with store.connect(settings_db, read_only=True) as con:
        models = {r[0] for r in con.execute("select distinct model from lead_facts").fetchall()}
    assert models == {"direct"}, "no lead carries such a tag, so every lead is direct now"


def test_a_saved_token_goes_to_the_token_file_never_the_database_or_the_page(settings_db: Path, tmp_path: Path) -> None:
    at = open_settings(tab="conn")
    at.text_input(key="settings.base_url").set_value("https://acme.amocrm.ru")
    at.text_input(key="settings.token").set_value(SECRET)
    at.button(key="settings.save").click()
    run_ok(at)
    token_file = tmp_path / "amocrm_tokens.json"
    assert SECRET in token_file.read_text(encoding="utf-8")
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    with store.connect(settings_db, read_only=True) as con:
        tables = [r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()]
        for table in tables:
            dump = json.dumps(con.execute(store.sql_with_names("select * from {t}", t=table)).fetchall(), default=str)
            assert SECRET not in dump, f"the token leaked into {table}"
    rendered = " ".join(str(getattr(e, "value", "")) for e in at.main)
    assert SECRET not in rendered
    assert setting(settings_db, "amocrm_connection")["base_url"] == "https://acme.amocrm.ru"


def test_sync_now_runs_in_the_background_and_the_page_keeps_answering(
        app_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template_db: Path) -> None:
    db = tmp_path / "fresh.duckdb"
    copy_template(template_db, db)
    for var in [v for v in os.environ if v.startswith("AMOCRM_")]:
        monkeypatch.delenv(var)
    with Emulator(make_records(80, seed=3), rate_limit=None) as emu:
        monkeypatch.setenv("PARTNER_ROI_DB", str(db))
        monkeypatch.setenv("AMOCRM_BASE_URL", emu.url)
        monkeypatch.setenv("AMOCRM_TOKEN", emu.options.long_lived_token)
        monkeypatch.setenv("AMOCRM_TOKEN_FILE", str(tmp_path / "tokens.json"))
        monkeypatch.setenv("AMOCRM_SECRETS_FILE", "")
        for name, var in ENV_NAMES.items():
            monkeypatch.setenv(var, str(FAST[name]))
        at = open_settings(tab="conn")
        at.button(key="settings.test").click()
        run_ok(at)
        assert any("Connected" in s.value for s in at.success)
        open_tab(at, "sync")
        at.button(key="settings.sync_now").click()
        run_ok(at)
        deadline = time.monotonic() + 120
        while (sync.read_progress(db) or {}).get("status") in (None, "starting", "running"):
            assert time.monotonic() < deadline, "the background sync did not finish"
            run_ok(at)  # the dashboard keeps answering while the sync writes
            time.sleep(0.3)
        assert sync.read_progress(db)["status"] == "ok", sync.read_progress(db)
    with store.connect(db, read_only=True) as con:
        assert con.execute("select count(*) from lead_facts").fetchone()[0] > 0
        assert store.get_meta(con, "source") == "amocrm"
    run_ok(at)


def test_sync_without_an_address_says_so_in_russian(settings_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection that cannot work is one Russian sentence saying what to set, never a traceback."""
    from data_layer import config
    from data_layer.errors import ConfigError

    def unset(self):
        raise ConfigError("The amoCRM address is not set.", ru="Адрес amoCRM не задан: укажите его в настройках.")

    monkeypatch.setattr(config.AmoConfig, "check", unset)
    at = open_settings()
    at.button(key="settings.sync_now").click()
    at.run()
    assert not at.exception and at.error and at.error[0].value.startswith("Адрес amoCRM не задан")


def test_config_errors_have_a_russian_sentence() -> None:
    from data_layer import config
    from data_layer.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        config.normalise_base_url("ftp://x")
    assert caught.value.text("ru").startswith("«ftp://x» — не адрес amoCRM") and "not an amoCRM" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        config.AmoConfig(base_url=None).check()
    assert "Адрес amoCRM не задан" in caught.value.text("ru")

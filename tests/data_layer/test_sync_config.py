"""Where the connection comes from (env > secrets.toml > Settings page) and where secrets may live."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from data_layer import store
from data_layer.config import (
    SETTINGS_KEY,
    AmoConfig,
    forget_credentials,
    load_config,
    normalise_base_url,
    save_connection,
)
from data_layer.errors import ConfigError

SECRETS = """
[amocrm]
base_url = "https://from-secrets.amocrm.ru"
token = "secret-file-token"

[smtp]
host = "smtp.example.ru"
"""


def _secrets(tmp: Path) -> Path:
    path = tmp / "secrets.toml"
    path.write_text(SECRETS, encoding="utf-8")
    return path


def test_precedence_env_then_secrets_then_settings(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    save_connection(db, "from-settings.kommo.com", token="typed-in-settings")
    none = tmp_path / "missing.toml"

    cfg = load_config(db, env={}, secrets_path=none)
    assert (cfg.base_url, cfg.token) == ("https://from-settings.kommo.com", "typed-in-settings")
    assert cfg.origin == {"base_url": "settings", "token": "token file"}

    cfg = load_config(db, env={}, secrets_path=_secrets(tmp_path))
    assert (cfg.base_url, cfg.token) == ("https://from-secrets.amocrm.ru", "secret-file-token")

    env = {"AMOCRM_BASE_URL": "http://127.0.0.1:9/", "AMOCRM_TOKEN": "env-token", "AMOCRM_MAX_RPS": "50"}
    cfg = load_config(db, env=env, secrets_path=_secrets(tmp_path))
    assert (cfg.base_url, cfg.token, cfg.origin["token"]) == ("http://127.0.0.1:9", "env-token", "env")
    assert cfg.auth_mode == "long_lived" and cfg.max_rps == 50  # a local emulator may go faster


def test_rate_above_the_real_limit_is_refused_for_a_real_account(tmp_path: Path) -> None:
    env = {"AMOCRM_BASE_URL": "https://acme.amocrm.ru", "AMOCRM_TOKEN": "x", "AMOCRM_MAX_RPS": "50"}
    assert load_config(tmp_path / "a.duckdb", env=env, secrets_path=tmp_path / "none").max_rps == 7


def test_settings_page_keeps_secrets_out_of_the_database(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    save_connection(db, "https://acme.amocrm.ru/", client_id="cid", client_secret="very-secret",
                    redirect_uri="https://example.com/cb", auth_code="one-time-code")
    with store.connect(db, read_only=True) as con:
        value = con.execute("select value from settings where key = ?", [SETTINGS_KEY]).fetchone()[0]
        everything = str([con.execute(store.sql_with_names("select * from {t}", t=t)).fetchall()
                          for (t,) in con.execute("select table_name from information_schema.tables").fetchall()])
    assert json.loads(value) == {"base_url": "https://acme.amocrm.ru"}
    assert "very-secret" not in everything and "one-time-code" not in everything
    token_file = tmp_path / "amocrm_tokens.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    cfg = load_config(db, env={}, secrets_path=tmp_path / "none")
    assert cfg.auth_mode == "oauth" and cfg.client_secret == "very-secret" and cfg.auth_code == "one-time-code"
    assert "very-secret" not in repr(cfg)
    assert forget_credentials(db) and load_config(db, env={}, secrets_path=tmp_path / "none").auth_mode is None


@pytest.mark.parametrize(("given", "expected"), [
    ("acme.amocrm.ru", "https://acme.amocrm.ru"),
    ("https://acme.kommo.com/", "https://acme.kommo.com"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("  ", None),
])
def test_base_url_is_normalised(given: str, expected: str | None) -> None:
    assert normalise_base_url(given) == expected


def test_bad_inputs_are_sentences(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not an amoCRM address"):
        normalise_base_url("ftp://acme")
    with pytest.raises(ConfigError, match="address is not set"):
        AmoConfig(token="x").check()
    with pytest.raises(ConfigError, match="No amoCRM credentials"):
        AmoConfig(base_url="https://a.amocrm.ru").check()
    with pytest.raises(ConfigError, match="redirect URI"):
        AmoConfig(base_url="https://a.amocrm.ru", client_id="a", client_secret="b").check()
    broken = tmp_path / "secrets.toml"
    broken.write_text("[amocrm\nbase_url = ", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path / "a.duckdb", env={}, secrets_path=broken)
    with pytest.raises(ConfigError, match="AMOCRM_WORKERS"):
        load_config(tmp_path / "a.duckdb", env={"AMOCRM_WORKERS": "many"}, secrets_path=tmp_path / "none")

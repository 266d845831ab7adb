"""Where the amoCRM connection comes from: environment, `.streamlit/secrets.toml`, the Settings page.

Precedence, per value: environment variable > secrets.toml ``[amocrm]`` > what the Settings page saved.
The Settings page saves only the non-secret ``base_url`` in the database (settings key ``amocrm_connection``);
tokens, client secrets and authorization codes typed there go to the token file next to the database
(mode 0600, see ``data_layer.tokens``), never into a table. Secrets never appear in ``repr`` or logs.
"""

from __future__ import annotations

import ipaddress
import json
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from data_layer.errors import ConfigError
from data_layer.tokens import TokenStore

SETTINGS_KEY = "amocrm_connection"
TOKEN_FILE_NAME = "amocrm_tokens.json"
REAL_MAX_RPS = 7.0  # amoCRM's documented limit; higher rates are accepted only for a local emulator
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# AmoConfig field -> environment variable
ENV_VARS = {
    "base_url": "AMOCRM_BASE_URL",
    "token": "AMOCRM_TOKEN",
    "client_id": "AMOCRM_CLIENT_ID",
    "client_secret": "AMOCRM_CLIENT_SECRET",
    "redirect_uri": "AMOCRM_REDIRECT_URI",
    "auth_code": "AMOCRM_AUTH_CODE",
}
SECRET_FIELDS = ("token", "client_secret", "auth_code")

# Tuning knobs (environment only): field -> (variable, type). Tests use them to talk to a fast emulator.
TUNING_VARS: dict[str, tuple[str, type]] = {
    "max_rps": ("AMOCRM_MAX_RPS", float),
    "workers": ("AMOCRM_WORKERS", int),
    "timeout": ("AMOCRM_TIMEOUT", float),
    "max_retries": ("AMOCRM_MAX_RETRIES", int),
    "retry_base": ("AMOCRM_RETRY_BASE", float),
    "max_retry_wait": ("AMOCRM_MAX_RETRY_WAIT", float),
    "overlap": ("AMOCRM_OVERLAP", int),
    "lag": ("AMOCRM_LAG", int),
    "commit_seconds": ("AMOCRM_COMMIT_SECONDS", float),
    "rate_share": ("AMOCRM_RATE_SHARE", float),
}


@dataclass(frozen=True)
class AmoConfig:
    """Everything the client and the sync need; secret fields are hidden from repr."""

    base_url: str | None = None
    token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    redirect_uri: str | None = None
    auth_code: str | None = field(default=None, repr=False)
    token_path: Path = Path("cache") / TOKEN_FILE_NAME
    origin: dict[str, str] = field(default_factory=dict, compare=False)  # field -> env|secrets|settings|token file
    max_rps: float = REAL_MAX_RPS
    workers: int = 8
    timeout: float = 30.0
    max_retries: int = 6
    retry_base: float = 0.5
    max_retry_wait: float = 30.0
    overlap: int = 300        # seconds re-read below the watermark (clock skew, late commits)
    lag: int = 5              # the window's upper bound stays this far behind the server clock
    commit_seconds: float = 2.0
    rate_share: float = 1.0   # part of the account's rate this app may use (other integrations get the rest)

    @property
    def auth_mode(self) -> str | None:
        """'long_lived', 'oauth' or None when nothing usable is configured."""
        if self.token:
            return "long_lived"
        if self.client_id and self.client_secret:
            return "oauth"
        return None

    def check(self) -> AmoConfig:
        """Raise ConfigError with a sentence when the connection cannot work; return self."""
        if not self.base_url:
            raise ConfigError("The amoCRM address is not set: enter it in Settings or set AMOCRM_BASE_URL "
                              "(for example https://yourcompany.amocrm.ru).",
                              ru="Адрес amoCRM не задан: укажите его в настройках, вкладка «Подключение amoCRM» "
                                 "(например, https://yourcompany.amocrm.ru).")
        if self.auth_mode is None:
            raise ConfigError("No amoCRM credentials: paste a long-lived token in Settings (or AMOCRM_TOKEN), "
                              "or set the OAuth client id, secret and redirect URI.",
                              ru="Нет доступа к amoCRM: вставьте долгосрочный токен в настройках, вкладка "
                                 "«Подключение amoCRM», или задайте OAuth: id интеграции, секрет и адрес возврата.")
        if self.auth_mode == "oauth" and not self.redirect_uri:
            raise ConfigError("OAuth needs the redirect URI exactly as it is set in the amoCRM integration.",
                              ru="Для OAuth нужен адрес возврата (redirect URI) точно как в интеграции amoCRM.")
        return self


def normalise_base_url(value: str | None) -> str | None:
    """'acme.amocrm.ru/' -> 'https://acme.amocrm.ru'; any http(s) URL is kept (local emulators too)."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip().rstrip("/")
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"«{value}» is not an amoCRM address; use https://SUBDOMAIN.amocrm.ru "
                          "or https://SUBDOMAIN.kommo.com.",
                          ru=f"«{value}» — не адрес amoCRM; укажите https://ПОДДОМЕН.amocrm.ru "
                             "или https://ПОДДОМЕН.kommo.com.")
    return text


def is_local(url: str | None) -> bool:
    """True for loopback hosts (a local emulator), where a rate above 7 rps is allowed."""
    host = urlsplit(url or "").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_path_for(db_path: str | Path, env: dict[str, str] | None = None) -> Path:
    """The token file lives next to the database (AMOCRM_TOKEN_FILE overrides)."""
    override = (os.environ if env is None else env).get("AMOCRM_TOKEN_FILE")
    return Path(override) if override else Path(db_path).parent / TOKEN_FILE_NAME


def secrets_file(env: dict[str, str] | None = None) -> Path | None:
    """The secrets.toml to read: AMOCRM_SECRETS_FILE, else .streamlit/secrets.toml in the cwd or the project."""
    override = (os.environ if env is None else env).get("AMOCRM_SECRETS_FILE")
    if override is not None:
        return Path(override) if override else None
    for base in (Path.cwd(), PROJECT_ROOT):
        candidate = base / ".streamlit" / "secrets.toml"
        if candidate.is_file():
            return candidate
    return None


def read_secrets(path: Path | None) -> dict[str, str]:
    """The [amocrm] table of a secrets.toml (empty when absent or unreadable)."""
    if path is None or not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc.__class__.__name__}); fix or remove it.") from exc
    section = data.get("amocrm") or {}
    return {k: str(v) for k, v in section.items() if k in ENV_VARS and v not in (None, "")}


def read_settings_base_url(db_path: str | Path) -> str | None:
    """base_url saved by the Settings page (None when the database or the key is missing)."""
    from data_layer import store  # local: config must stay importable without touching the database

    path = Path(db_path)
    if not path.exists():
        return None
    try:
        with store.connect(path, read_only=True, wait=5.0) as con:
            row = con.execute("select value from settings where key = ?", [SETTINGS_KEY]).fetchone()
    except Exception:  # an old or foreign file: the setting simply is not there
        return None
    if not row:
        return None
    try:
        value = json.loads(row[0])
    except (TypeError, ValueError):
        return None
    return value.get("base_url") if isinstance(value, dict) else None


def _tuning(env: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (var, kind) in TUNING_VARS.items():
        raw = env.get(var)
        if raw in (None, ""):
            continue
        try:
            out[name] = kind(raw)
        except ValueError as exc:
            raise ConfigError(f"{var}={raw!r} is not a valid {kind.__name__}.") from exc
    return out


def load_config(db_path: str | Path, env: dict[str, str] | None = None,
                secrets_path: Path | None = None) -> AmoConfig:
    """Resolve the connection for a database: env > secrets.toml > Settings page (token file, settings table)."""
    env = dict(os.environ if env is None else env)
    token_path = token_path_for(db_path, env)
    layers: list[tuple[str, dict[str, str]]] = [
        ("env", {k: env[v] for k, v in ENV_VARS.items() if env.get(v)}),
        ("secrets", read_secrets(secrets_path if secrets_path is not None else secrets_file(env))),
        ("token file", {k: v for k, v in TokenStore(token_path).credentials().items() if k != "base_url"}),
    ]
    values: dict[str, str] = {}
    origin: dict[str, str] = {}
    for layer, data in layers:
        for key, value in data.items():
            if key not in values and value:
                values[key], origin[key] = value, layer
    if "base_url" not in values:
        saved = read_settings_base_url(db_path)
        if saved:
            values["base_url"], origin["base_url"] = saved, "settings"
    values["base_url"] = normalise_base_url(values.get("base_url"))
    config = AmoConfig(token_path=token_path, origin=origin, **values, **_tuning(env))
    if not 0.05 <= config.rate_share <= 1:
        raise ConfigError(f"AMOCRM_RATE_SHARE={config.rate_share:g} is out of range: give the part of the "
                          "account's 7 requests per second this app may use, from 0.05 to 1 (0.5 = half).")
    if config.max_rps > REAL_MAX_RPS and not is_local(config.base_url):
        config = replace(config, max_rps=REAL_MAX_RPS)  # never exceed amoCRM's limit on a real account
    return config


def describe(config: AmoConfig) -> dict[str, Any]:
    """A log- and UI-safe view of the configuration: secrets reduced to 'set' / 'missing'."""
    out: dict[str, Any] = {}
    for f in fields(config):
        value = getattr(config, f.name)
        if f.name in SECRET_FIELDS:
            out[f.name] = "set" if value else "missing"
        elif isinstance(value, Path):
            out[f.name] = str(value)
        else:
            out[f.name] = value
    out["auth_mode"] = config.auth_mode
    return out


def save_connection(db_path: str | Path, base_url: str | None = None, *, token: str | None = None,
                    client_id: str | None = None, client_secret: str | None = None,
                    redirect_uri: str | None = None, auth_code: str | None = None) -> None:
    """Settings page: base_url into the settings table, every credential into the token file (never the DB)."""
    from data_layer import store, userdata  # local: userdata loads pandas, which a sync must not wait for

    creds = {"token": token, "client_id": client_id, "client_secret": client_secret,
             "redirect_uri": redirect_uri, "auth_code": auth_code}
    creds = {k: v.strip() for k, v in creds.items() if isinstance(v, str) and v.strip()}
    if creds:
        TokenStore(token_path_for(db_path)).save_credentials(**creds)
    if base_url is not None:
        url = normalise_base_url(base_url)
        store.init_db(db_path)
        with store.connect(db_path) as con:
            con.execute("begin")
            userdata.set_setting(con, SETTINGS_KEY, {"base_url": url} if url else None)
            con.execute("commit")
        store.bump_version(db_path)


def forget_credentials(db_path: str | Path) -> bool:
    """Settings page 'disconnect': delete the token file; return whether one existed."""
    return TokenStore(token_path_for(db_path)).delete()

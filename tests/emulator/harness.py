"""Helpers the sync tests share: fast test configs, the CLI in a subprocess, whole-table comparisons.

``build_expected`` is the oracle: it turns the emulator's current records straight into rows with
``data_layer.normalise`` + ``data_layer.save`` (no windows, no paging, no sync code), so a synced
database must match it table by table.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from data_layer import normalise, save, store
from data_layer.config import AmoConfig

from .server import Emulator, _render_lead, _skeleton

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RAW_TABLES = ("raw_account", "raw_users", "raw_pipelines", "raw_statuses", "raw_lead_fields",
              "raw_lead_field_enums", "raw_loss_reasons", "raw_sources", "raw_leads", "raw_lead_field_values",
              "raw_lead_tags", "raw_lead_contacts", "raw_lead_companies", "raw_contacts", "raw_companies",
              "raw_client_keys", "raw_lead_status_events")
# Knobs that make a test sync fast against a local emulator (the real defaults are in AmoConfig).
FAST = {"max_rps": 100.0, "workers": 6, "timeout": 3.0, "max_retries": 8, "retry_base": 0.01,
        "max_retry_wait": 0.2, "overlap": 300, "lag": 0, "commit_seconds": 0.2}
ENV_NAMES = {"max_rps": "AMOCRM_MAX_RPS", "workers": "AMOCRM_WORKERS", "timeout": "AMOCRM_TIMEOUT",
             "max_retries": "AMOCRM_MAX_RETRIES", "retry_base": "AMOCRM_RETRY_BASE",
             "max_retry_wait": "AMOCRM_MAX_RETRY_WAIT", "overlap": "AMOCRM_OVERLAP", "lag": "AMOCRM_LAG",
             "commit_seconds": "AMOCRM_COMMIT_SECONDS"}


def config_for(emu: Emulator, tmp: Path, **overrides: Any) -> AmoConfig:
    """A long-lived-token config for the emulator with fast test knobs."""
    values: dict[str, Any] = {"base_url": emu.url, "token": emu.options.long_lived_token,
                              "token_path": tmp / "amocrm_tokens.json", **FAST}
    values.update(overrides)
    return AmoConfig(**values)


def oauth_config(emu: Emulator, tmp: Path, code: str | None = None, **overrides: Any) -> AmoConfig:
    """An OAuth config for the emulator (``code`` = the one-time authorization code)."""
    opts = emu.options
    return config_for(emu, tmp, token=None, client_id=opts.client_id, client_secret=opts.client_secret,
                      redirect_uri=opts.redirect_uri, auth_code=code, **overrides)


def env_for(config: AmoConfig) -> dict[str, str]:
    """Environment for `python -m data_layer sync` in a subprocess with this config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMOCRM_")}
    env.update({"AMOCRM_BASE_URL": config.base_url or "", "AMOCRM_SECRETS_FILE": "",
                "AMOCRM_TOKEN_FILE": str(config.token_path), "PYTHONPATH": str(PROJECT_ROOT)})
    for name, var in (("token", "AMOCRM_TOKEN"), ("client_id", "AMOCRM_CLIENT_ID"),
                      ("client_secret", "AMOCRM_CLIENT_SECRET"), ("redirect_uri", "AMOCRM_REDIRECT_URI"),
                      ("auth_code", "AMOCRM_AUTH_CODE")):
        if getattr(config, name):
            env[var] = str(getattr(config, name))
    for name, var in ENV_NAMES.items():
        env[var] = str(getattr(config, name))
    return env


def cli(db: Path, config: AmoConfig, *args: str) -> list[str]:
    """The sync command line."""
    return [sys.executable, "-m", "data_layer", "sync", "--db", str(db), *args]


def start_cli(db: Path, config: AmoConfig, *args: str) -> subprocess.Popen:
    """Start the CLI in the background."""
    return subprocess.Popen(cli(db, config, *args), cwd=PROJECT_ROOT, env=env_for(config),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_cli(db: Path, config: AmoConfig, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the CLI to the end."""
    return subprocess.run(cli(db, config, *args), cwd=PROJECT_ROOT, env=env_for(config), capture_output=True,
                          text=True, timeout=timeout)


def dump(db: Path, tables: tuple[str, ...] = RAW_TABLES) -> dict[str, list[tuple]]:
    """Every row of the raw tables, sorted."""
    with store.connect(db, read_only=True) as con:
        return {t: con.execute(store.sql_with_names("select * from {t} order by all", t=t)).fetchall()
                for t in tables}


def assert_same(actual: dict[str, list[tuple]], expected: dict[str, list[tuple]]) -> None:
    """Table-by-table equality with a short message naming the first differences."""
    for table in expected:
        a, e = set(actual[table]), set(expected[table])
        if a != e or len(actual[table]) != len(expected[table]):
            extra, missing = sorted(a - e, key=repr)[:3], sorted(e - a, key=repr)[:3]
            raise AssertionError(f"{table}: {len(actual[table])} rows vs {len(expected[table])} expected; "
                                 f"unexpected {extra}; missing {missing}")


def expected_records(emu: Emulator) -> dict[str, Any]:
    """What a complete read of the emulator returns, entity by entity, as the API renders it."""
    with emu._lock:
        leads = list(emu.leads.values())
        live = [_render_lead(x, {"contacts", "loss_reason", "source_id"}) for x in leads if not x.get("is_deleted")]
        trash = [_skeleton(x) for x in leads if x.get("is_deleted")]
        purged: dict[int, int] = {}
        for e in emu.events:
            if e.get("type") == "lead_deleted" and int(e["entity_id"]) not in emu.leads:
                purged[int(e["entity_id"])] = max(purged.get(int(e["entity_id"]), 0), int(e["created_at"]))
        refs = {k: {int(c["id"]) for x in live for c in (x.get("_embedded") or {}).get(k) or []}
                for k in ("contacts", "companies")}
        return {
            "account": emu.account, **{k: list(v) for k, v in emu.reference.items()},
            "leads": live + trash + [{"id": i, "is_deleted": True, "updated_at": t} for i, t in purged.items()],
            "contacts": [c for i, c in emu.contacts.items() if i in refs["contacts"]],
            "companies": [c for i, c in emu.companies.items() if i in refs["companies"]],
            "events": [e for e in emu.events if e.get("type") == "lead_status_changed"
                       and e.get("entity_type", "lead") == "lead"],
        }


def build_expected(emu: Emulator, db: Path) -> dict[str, list[tuple]]:
    """The oracle database for the emulator's current state; returns its dump."""
    rec = expected_records(emu)
    tz = ((rec["account"].get("_embedded") or {}).get("datetime_settings") or {}).get("timezone") or "Europe/Moscow"
    sources = normalise.new_batch()
    sources["raw_sources"] = [{"id": s["id"], "name": s.get("name")} for s in rec["sources"]]
    batch = normalise.merge(
        normalise.normalise_account(rec["account"]), normalise.normalise_users(rec["users"]),
        normalise.normalise_pipelines(rec["pipelines"]), normalise.normalise_lead_fields(rec["lead_custom_fields"]),
        normalise.normalise_loss_reasons(rec["loss_reasons"]), sources,
        normalise.normalise_leads(rec["leads"], tz), normalise.normalise_contacts(rec["contacts"]),
        normalise.normalise_companies(rec["companies"]), normalise.normalise_events(rec["events"]),
    )
    store.init_db(db)
    with store.connect(db) as con:
        con.execute("begin")
        save.save_batch(con, batch)
        con.execute("commit")
    return dump(db)

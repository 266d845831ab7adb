"""Settings-page writes that change how leads are read: mapping, qualification stages, calculation settings.

Each function runs inside the caller's transaction (ui.writes.write) and rebuilds lead_facts there, so the
dashboard never sees a new setting with old derived rows.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import duckdb
import pandas as pd

from data_layer import store, userdata
from data_layer.mapping import MODES
from data_layer.userdata import Problem, UserDataError, extended

WEIGHT_KEYS = ("phone", "email", "qualified")
LIFECYCLE_DAYS = {"lifecycle_active_days": 30, "lifecycle_dormant_days": 60}  # metrics.lifecycle's two settings


_OWN = {
    "en": {
        "settings.mode": "Unknown mapping mode {mode}: choose one of {modes}.",
        "settings.field": "Choose the lead field that holds the partner's name.",
        "settings.tag": "Enter the tag prefix, for example partner: (a tag partner:ACME means partner ACME).",
        "settings.fraction.account": "The account margin must be between 0 % and 100 %.",
        "settings.fraction.model": "The margin of {model} must be between 0 % and 100 %.",
        "settings.min_leads": "The 'too few leads' threshold must be a whole number of at least 1.",
        "settings.weights.negative": "Quality weights cannot be negative.",
        "settings.weights.sum": "Quality weights must add up to 100 (now {total}).",
        "settings.lifecycle_active_days": "The active days (a lead within how many days) must be a whole number of "
                                          "at least 1 (now {value}).",
        "settings.lifecycle_dormant_days": "The dormant days (no lead for how many days) must be a whole number of "
                                           "at least 1 (now {value}).",
        "settings.lifecycle_order": "A partner falls asleep later than it stops being active: the dormant days "
                                    "({dormant}) must be more than the active days ({active}).",
    },
    "ru": {
        "settings.mode": "Неизвестный способ сопоставления {mode}: выберите один из: {modes}.",
        "settings.field": "Выберите поле сделки, в котором записано имя партнёра.",
        "settings.tag": "Введите префикс тега, например partner: (тег partner:ACME означает партнёра ACME).",
        "settings.fraction.account": "Маржа аккаунта — число от 0 до 100 %.",
        "settings.fraction.model": "Маржа модели {model} — число от 0 до 100 %.",
        "settings.min_leads": "Порог «мало лидов» — целое число не меньше 1.",
        "settings.weights.negative": "Веса качества лида не могут быть отрицательными.",
        "settings.weights.sum": "Веса качества лида должны давать в сумме 100 (сейчас {total}).",
        "settings.lifecycle_active_days": "Дней «активен» (лид за сколько последних дней) — целое число не меньше 1 "
                                          "(сейчас {value}).",
        "settings.lifecycle_dormant_days": "Дней до «уснул» (сколько дней без лидов) — целое число не меньше 1 "
                                           "(сейчас {value}).",
        "settings.lifecycle_order": "Партнёр засыпает позже, чем перестаёт быть активным: дней до «уснул» "
                                    "({dormant}) должно быть больше, чем дней «активен» ({active}).",
    },
}
MESSAGES = extended(_OWN)


class SettingsProblem(Problem):
    """A settings value that cannot be used, worded from this module's MESSAGES."""

    MESSAGES: ClassVar[dict[str, dict[str, str]]] = MESSAGES


class SettingsError(UserDataError):
    """A settings value is invalid; `text(lang)` says what to change (str() is the English sentence)."""

    def __init__(self, code: str, **params: Any):
        super().__init__(SettingsProblem(code, params))


def save_mapping(con: duckdb.DuckDBPyConnection, mapping: dict[str, Any],
                 qualification: dict[str, int] | None = None) -> int:
    """Store the attribution mapping (and qualification stages), register partners, rebuild facts."""
    mode = mapping.get("mode")
    if mode not in MODES:
        raise SettingsError("settings.mode", mode=repr(mode), modes=", ".join(MODES))
    if mode == "field" and not str(mapping.get("field") or "").strip():
        raise SettingsError("settings.field")
    if mode == "tag" and not str(mapping.get("tag_prefix") or "").strip():
        raise SettingsError("settings.tag")
    clean = {k: str(v).strip() for k, v in mapping.items() if v is not None and str(v).strip()}
    userdata.set_setting(con, "mapping", clean)
    if qualification is not None:
        userdata.set_setting(con, "qualification_stages",
                             {str(int(p)): int(s) for p, s in qualification.items() if s is not None} or None)
    store.ensure_partners_from_crm(con)
    return store.rebuild_facts(con)


def _fraction(value: Any, model: str | None = None) -> float | None:
    """A margin as a fraction 0…1 (None when not set); the model it belongs to, None for the account's."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    x = float(value)
    if not 0 <= x <= 1:
        raise SettingsError("settings.fraction.model", model=model) if model else SettingsError(
            "settings.fraction.account")
    return x


def check_lifecycle_days(active: object, dormant: object) -> tuple[int, int]:
    """The lifecycle's (active, dormant) days: whole numbers ≥ 1, dormant > active; else SettingsError."""
    for key, value in (("lifecycle_active_days", active), ("lifecycle_dormant_days", dormant)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SettingsError(f"settings.{key}", value=f"{value:g}" if isinstance(value, float) else f"{value}")
    if dormant <= active:  # type: ignore[operator]
        raise SettingsError("settings.lifecycle_order", active=active, dormant=dormant)
    return int(active), int(dormant)  # type: ignore[arg-type]


def save_calculation(con: duckdb.DuckDBPyConnection, min_leads: int, junk_reasons: list[str],
                     weights: dict[str, float], margin: dict[str, Any],
                     lifecycle: tuple[object, object] | None = None) -> int:
    """Store the small-sample threshold, junk reasons, quality weights, margin and (given) the lifecycle's active /
    dormant days; rebuild facts. Everything is checked before anything is written."""
    if not isinstance(min_leads, int) or min_leads < 1:
        raise SettingsError("settings.min_leads")
    days = check_lifecycle_days(*lifecycle) if lifecycle is not None else None
    reasons = [r.strip() for r in junk_reasons if r and r.strip()]
    clean_w = {k: float(weights.get(k, 0) or 0) for k in WEIGHT_KEYS}
    if any(v < 0 or not math.isfinite(v) for v in clean_w.values()):
        raise SettingsError("settings.weights.negative")
    if abs(sum(clean_w.values()) - 100) > 1e-6:
        raise SettingsError("settings.weights.sum", total=f"{sum(clean_w.values()):g}")
    clean_margin = {
        "account": _fraction(margin.get("account")),
        "models": {m: f for m, v in (margin.get("models") or {}).items()
                   if (f := _fraction(v, m)) is not None},
    }
    userdata.set_setting(con, "min_leads", min_leads)
    userdata.set_setting(con, "junk_reasons", reasons)
    userdata.set_setting(con, "quality_weights", clean_w)
    userdata.set_margin(con, clean_margin if clean_margin["account"] is not None or clean_margin["models"] else None)
    if days is not None:
        for key, value in zip(LIFECYCLE_DAYS, days, strict=True):
            userdata.set_setting(con, key, value)
    return store.rebuild_facts(con)


def calculation_settings(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Current calculation settings with their defaults filled in."""
    return {
        "min_leads": int(userdata.get_setting(con, "min_leads", 30)),
        "junk_reasons": list(userdata.get_setting(con, "junk_reasons", ["Спам", "Дубль", "Нецелевой"])),
        "weights": dict(userdata.get_setting(con, "quality_weights", {"phone": 25, "email": 25, "qualified": 50})),
        "margin": userdata.get_margin(con),
        "mapping": userdata.get_setting(con, "mapping", {}) or {},
        "qualification": userdata.get_setting(con, "qualification_stages", {}) or {},
        **{key: userdata.get_setting(con, key, default) for key, default in LIFECYCLE_DAYS.items()},
    }


def sync_runs(con: duckdb.DuckDBPyConnection, limit: int = 20) -> pd.DataFrame:
    """The latest sync runs, newest first."""
    return con.execute(
        "select run_id, started_at, finished_at, mode, status, requests, throttled, seconds, message "
        "from sync_runs order by run_id desc limit ?", [limit]).df()


def audit_log(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pd.DataFrame:
    """The latest changes to user data, newest first."""
    return con.execute(
        "select happened_at, who, action, entity, entity_key, before, after "
        "from audit_log order by event_id desc limit ?", [limit]).df()


def loss_reasons(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Loss reason names known from the CRM, for the junk-list picker."""
    return [r[0] for r in con.execute(
        "select distinct name from raw_loss_reasons where name is not null order by name").fetchall()]

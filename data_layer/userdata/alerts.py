"""Alert rules (migration 0012_alerts): checking one, and adding, changing, deleting and listing them.

A rule is a registry metric over a scope (the whole programme, a model or a partner; a blank value means each
model or partner on its own) under a condition, evaluated over a window of whole weeks or months, and the channels
its alerts go to. The data layer does not know the metric registry (it sits below `metrics`), so the caller passes
the metric names a rule may use (`programme.alerts` passes the registry's). Every problem is one RU / EN sentence
naming the field; nothing is written when any is found; every change leaves an audit-log row.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import duckdb
import pandas as pd

from data_layer.userdata.errors import Problem, UserDataError
from data_layer.userdata.messages import extended
from data_layer.userdata.parse import MAX_NAME, MODELS, is_blank, parse_number_text
from data_layer.userdata.partners import find_partner, partner_names
from data_layer.userdata.transaction import atomic, audit

CONDITIONS = ("below", "above", "change_pct", "anomaly", "fell_asleep")
NEEDS_THRESHOLD = ("below", "above", "change_pct")
SCOPE_KINDS = ("all", "model", "partner")
SCOPE_MODELS = (*MODELS, "direct")
GRAINS = ("month", "week")
CHANNEL_KINDS = ("email", "telegram", "webhook")
MAX_WINDOW = 36
FELL_ASLEEP_METRIC = "lifecycle_stage"  # what a "fell asleep" rule watches (metrics.lifecycle)
RULE_COLUMNS = ["rule_id", "name", "metric", "scope_kind", "scope_value", "condition", "threshold",
                "window_periods", "grain", "channels", "enabled", "created_at", "updated_at"]
FIELDS = ("name", "metric", "scope_kind", "scope_value", "condition", "threshold", "window_periods", "grain",
          "channels", "enabled")

_EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+")
_CHAT_ID = re.compile(r"-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31}")  # a numeric chat id or a public @channel

_OWN: dict[str, dict[str, str]] = {
    "ru": {
        "alert.name": "Поле «Название»: название пустое или длиннее {limit} символов — введите короткое название.",
        "alert.metric": "Поле «Показатель»: показатель «{value}» неизвестен или не подходит для оповещения — "
                        "выберите показатель из списка.",
        "alert.scope_kind": "Поле «Охват»: «{value}» не подходит — выберите «вся программа», «модель» или "
                            "«партнёр».",
        "alert.model": "Поле «Модель»: модель «{value}» неизвестна — выберите referral, sales, service или direct.",
        "alert.partner": "Поле «Партнёр»: партнёр «{value}» не найден — выберите партнёра из списка.",
        "alert.condition": "Поле «Условие»: «{value}» не подходит — выберите «ниже», «выше», «изменение, %», "
                           "«аномалия» или «партнёр уснул».",
        "alert.threshold": "Поле «Порог»: «{value}» — не число; для этого условия порог обязателен, например 12,5.",
        "alert.threshold_pct": "Поле «Порог»: изменение должно быть больше нуля процентов — введите, например, 20.",
        "alert.window": "Поле «Окно»: «{value}» — нужно целое число периодов от 1 до {limit}.",
        "alert.grain": "Поле «Шаг»: «{value}» не подходит — выберите месяц или неделю.",
        "alert.channels": "Поле «Каналы»: укажите хотя бы один канал — e-mail, Telegram или вебхук.",
        "alert.channel_kind": "Поле «Каналы»: вид канала «{value}» неизвестен — выберите email, telegram или "
                              "webhook.",
        "alert.email": "Поле «E-mail»: адрес «{value}» не похож на e-mail — исправьте его.",
        "alert.chat_id": "Поле «Telegram chat id»: «{value}» не похоже на chat id — введите число (например "
                         "-1001234567890) или @имя_канала.",
        "alert.url": "Поле «Адрес вебхука»: «{value}» не похоже на адрес — нужен адрес вида https://host/path.",
        "alert.fell_asleep_scope": "Поле «Охват»: «партнёр уснул» считается по партнёрам — выберите «вся "
                                   "программа», модель или партнёра, а показатель — этап жизненного цикла.",
        "alert.unknown": "Правила оповещения №{rule_id} нет — обновите страницу.",
    },
    "en": {
        "alert.name": "Field “Name”: the name is empty or longer than {limit} characters: type a short name.",
        "alert.metric": "Field “Metric”: the metric “{value}” is unknown or cannot be alerted on: pick one from "
                        "the list.",
        "alert.scope_kind": "Field “Scope”: “{value}” does not fit: choose the whole programme, a model or a "
                            "partner.",
        "alert.model": "Field “Model”: the model “{value}” is unknown: choose referral, sales, service or direct.",
        "alert.partner": "Field “Partner”: partner “{value}” is not known: pick a partner from the list.",
        "alert.condition": "Field “Condition”: “{value}” does not fit: choose below, above, change %, anomaly or "
                           "partner fell asleep.",
        "alert.threshold": "Field “Threshold”: “{value}” is not a number; this condition needs one, e.g. 12.5.",
        "alert.threshold_pct": "Field “Threshold”: a change must be above zero percent: type e.g. 20.",
        "alert.window": "Field “Window”: “{value}” — a whole number of periods from 1 to {limit} is needed.",
        "alert.grain": "Field “Step”: “{value}” does not fit: choose month or week.",
        "alert.channels": "Field “Channels”: give at least one channel: e-mail, Telegram or a webhook.",
        "alert.channel_kind": "Field “Channels”: the channel kind “{value}” is unknown: choose email, telegram or "
                              "webhook.",
        "alert.email": "Field “E-mail”: “{value}” does not look like an e-mail address: fix it.",
        "alert.chat_id": "Field “Telegram chat id”: “{value}” does not look like a chat id: type a number (e.g. "
                         "-1001234567890) or @channel_name.",
        "alert.url": "Field “Webhook URL”: “{value}” does not look like an address: use https://host/path.",
        "alert.fell_asleep_scope": "Field “Scope”: “partner fell asleep” works on partners: choose the whole "
                                   "programme, a model or a partner, and the lifecycle stage as the metric.",
        "alert.unknown": "There is no alert rule number {rule_id}: reload the page.",
    },
}
MESSAGES = extended(_OWN)


class AlertProblem(Problem):
    """A problem of an alert rule, worded from this module's sentences."""

    MESSAGES: ClassVar[Mapping[str, Mapping[str, str]]] = MESSAGES


def _p(code: str, **params: Any) -> AlertProblem:
    return AlertProblem(code, params)


# ---------------------------------------------------------------- checking one rule

def _threshold(value: object, condition: str, problems: list[Problem], percent: bool = False) -> float | None:
    """The threshold as a float (text read as typed: "12,5", "1 234 567"; percent: typed in %, stored as a
    fraction); None where the condition needs none."""
    if condition not in NEEDS_THRESHOLD:
        return None
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and value.strip():
        try:
            number = float(parse_number_text(value, None))
        except UserDataError:
            number = None
    if number is None or not math.isfinite(number):
        problems.append(_p("alert.threshold", value="" if is_blank(value) else value))
        return None
    number = number / 100 if percent else number
    if condition == "change_pct" and number <= 0:
        problems.append(_p("alert.threshold_pct"))
        return None
    return number


def _window(value: object, problems: list[Problem]) -> int | None:
    """A whole number of periods in 1..MAX_WINDOW."""
    try:
        number = float(str(value).strip().replace(",", ".")) if not isinstance(value, int | float) else value
    except ValueError:
        number = None
    if isinstance(value, bool) or number is None or not math.isfinite(number) or number != int(number) \
            or not 1 <= number <= MAX_WINDOW:
        problems.append(_p("alert.window", value="" if is_blank(value) else value, limit=MAX_WINDOW))
        return None
    return int(number)


def _scope(con: duckdb.DuckDBPyConnection, kind: object, value: object,
           problems: list[Problem]) -> tuple[str | None, str | None]:
    """(scope kind, scope value) with a partner named by id, name or alias stored as its id."""
    kind = str(kind or "").strip()
    if kind not in SCOPE_KINDS:
        problems.append(_p("alert.scope_kind", value=kind))
        return None, None
    if kind == "all" or is_blank(value):
        return kind, None
    if kind == "model":
        model = str(value).strip().lower()
        if model not in SCOPE_MODELS:
            problems.append(_p("alert.model", value=value))
            return kind, None
        return kind, model
    text = str(value).strip()
    pid = int(text) if text.isdigit() and int(text) in partner_names(con) else find_partner(con, text)
    if pid is None:
        problems.append(_p("alert.partner", value=value))
        return kind, None
    return kind, str(pid)


def channels_of(value: object) -> list[dict[str, Any]]:
    """A channels value as a list of dicts (JSON text decoded; anything unreadable is an empty list)."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except json.JSONDecodeError:
            return []
    return [dict(c) for c in value] if isinstance(value, list | tuple) and \
        all(isinstance(c, Mapping) for c in value) else []


def valid_url(text: str) -> bool:
    """An http(s) address with a host and no spaces."""
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not re.search(r"\s", text)


def _channel(item: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any] | None:
    """One validated channel: {"kind": "email", "to": [...]}, {"kind": "telegram", "chat_id": ...} or
    {"kind": "webhook", "url": ...}."""
    kind = str(item.get("kind") or "").strip().lower()
    if kind == "email":
        raw = item.get("to") or []
        addresses = [a.strip() for a in (re.split(r"[,;\s]+", raw) if isinstance(raw, str) else raw) if a.strip()]
        bad = [a for a in addresses if not _EMAIL.fullmatch(a)]
        problems.extend(_p("alert.email", value=a) for a in bad or ([] if addresses else [""]))
        return {"kind": kind, "to": addresses} if addresses and not bad else None
    if kind == "telegram":
        chat = str(item.get("chat_id") or "").strip()
        if not _CHAT_ID.fullmatch(chat):
            problems.append(_p("alert.chat_id", value=chat))
            return None
        return {"kind": kind, "chat_id": chat}
    if kind == "webhook":
        url = str(item.get("url") or "").strip()
        if not valid_url(url):
            problems.append(_p("alert.url", value=url))
            return None
        return {"kind": kind, "url": url}
    problems.append(_p("alert.channel_kind", value=kind))
    return None


def check_rule(con: duckdb.DuckDBPyConnection, rule: Mapping[str, Any], metrics: Collection[str]) -> dict[str, Any]:
    """The rule's clean values (FIELDS), or UserDataError with one sentence per problem, each naming its field
    (`threshold_percent`: the threshold was typed in percent)."""
    problems: list[Problem] = []
    name = str(rule.get("name") or "").strip()
    if not name or len(name) > MAX_NAME:
        problems.append(_p("alert.name", limit=MAX_NAME))
    condition = str(rule.get("condition") or "").strip()
    if condition not in CONDITIONS:
        problems.append(_p("alert.condition", value=condition))
    metric = str(rule.get("metric") or "").strip() or (FELL_ASLEEP_METRIC if condition == "fell_asleep" else "")
    if condition == "fell_asleep" and metric != FELL_ASLEEP_METRIC:
        problems.append(_p("alert.fell_asleep_scope"))
    elif condition != "fell_asleep" and metric not in metrics:
        problems.append(_p("alert.metric", value=metric))
    kind, value = _scope(con, rule.get("scope_kind") or "all", rule.get("scope_value"), problems)
    threshold = _threshold(rule.get("threshold"), condition, problems, bool(rule.get("threshold_percent")))
    window = _window(rule.get("window_periods", 1), problems)
    grain = str(rule.get("grain") or "month").strip()
    if grain not in GRAINS:
        problems.append(_p("alert.grain", value=grain))
    raw_channels = rule.get("channels")
    items = channels_of(raw_channels) if not isinstance(raw_channels, list | tuple) else list(raw_channels)
    channels = [c for c in (_channel(i, problems) for i in items if isinstance(i, Mapping)) if c]
    if not items:
        problems.append(_p("alert.channels"))
    if problems:
        raise UserDataError(problems)
    return {"name": name, "metric": metric, "scope_kind": kind, "scope_value": value, "condition": condition,
            "threshold": threshold, "window_periods": window, "grain": grain,
            "channels": json.dumps(channels, ensure_ascii=False), "enabled": bool(rule.get("enabled", True))}


# ---------------------------------------------------------------- writing and reading

def _one(con: duckdb.DuckDBPyConnection, rule_id: int) -> dict[str, Any] | None:
    rows = list_alert_rules(con)
    found = rows[rows["rule_id"] == int(rule_id)]
    return None if found.empty else found.iloc[0].to_dict()


def add_alert_rule(con: duckdb.DuckDBPyConnection, rule: Mapping[str, Any], metrics: Collection[str]) -> int:
    """Check and store a rule; return its rule_id (an audit-log row records it)."""
    clean = check_rule(con, rule, metrics)
    with atomic(con):
        rule_id = int(con.execute(
            "insert into alert_rules (name, metric, scope_kind, scope_value, condition, threshold, window_periods, "
            "grain, channels, enabled) values ($name, $metric, $scope_kind, $scope_value, $condition, $threshold, "
            "$window_periods, $grain, $channels, $enabled) returning rule_id", clean).fetchone()[0])
        audit(con, "add", "alert_rules", rule_id, after=clean)
    return rule_id


def update_alert_rule(con: duckdb.DuckDBPyConnection, rule_id: int, rule: Mapping[str, Any],
                      metrics: Collection[str]) -> None:
    """Replace a rule's fields with checked ones; its state restarts (the condition is judged afresh)."""
    before = _one(con, rule_id)
    if before is None:
        raise UserDataError(_p("alert.unknown", rule_id=rule_id))
    clean = check_rule(con, {**{k: before[k] for k in FIELDS}, **rule}, metrics)
    with atomic(con):
        con.execute("update alert_rules set name = $name, metric = $metric, scope_kind = $scope_kind, "
                    "scope_value = $scope_value, condition = $condition, threshold = $threshold, "
                    "window_periods = $window_periods, grain = $grain, channels = $channels, enabled = $enabled, "
                    "updated_at = current_timestamp where rule_id = $rule_id", {**clean, "rule_id": int(rule_id)})
        if any(clean[k] != before[k] for k in ("metric", "scope_kind", "scope_value", "condition", "threshold",
                                                "window_periods", "grain")):
            con.execute("delete from alert_state where rule_id = ?", [int(rule_id)])
        audit(con, "update", "alert_rules", rule_id, before={k: before[k] for k in FIELDS}, after=clean)


def delete_alert_rule(con: duckdb.DuckDBPyConnection, rule_id: int) -> bool:
    """Delete a rule and its state (its events and sends stay as history); True when it existed."""
    before = _one(con, rule_id)
    if before is None:
        return False
    with atomic(con):
        con.execute("delete from alert_state where rule_id = ?", [int(rule_id)])
        con.execute("delete from alert_rules where rule_id = ?", [int(rule_id)])
        audit(con, "delete", "alert_rules", rule_id, before={k: before[k] for k in FIELDS})
    return True


def list_alert_rules(con: duckdb.DuckDBPyConnection, enabled_only: bool = False) -> pd.DataFrame:
    """Alert rules in the order they were added (RULE_COLUMNS; channels as JSON text)."""
    df = con.execute("select * from alert_rules where enabled or not ? order by rule_id", [enabled_only]).df()
    df = df.reindex(columns=RULE_COLUMNS)
    df["threshold"] = df["threshold"].astype(object).where(df["threshold"].notna(), None)
    df["scope_value"] = df["scope_value"].astype(object).where(df["scope_value"].notna(), None)
    return df

"""Threshold alerts: judge every enabled rule per scope, turn a condition's start and clear into events, and keep
which event still has to reach which channel.

A rule's metric comes from the metrics engine per week or month (cohort view). Maturing and incomplete periods
(metrics.maturity.mature) never decide anything: "below" / "above" read the last `window` settled periods (one
value over all of them), "change_pct" compares them with the `window` settled periods before, "anomaly" is the
trends page's rule (metrics.changes.flag) on the last settled period, "fell_asleep" starts with
metrics.lifecycle.fell_asleep() and clears when the partner has a lead again. A scope without a verdict keeps its
state. A condition that starts makes one "start" event, one that clears one "clear" event; while it holds nothing
is made. Each event goes to each channel of its rule until one attempt succeeds (at most MAX_ATTEMPTS): the
sending itself is reports.alert_send's, which records every attempt here. No HTTP, no Streamlit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd

from data_layer.userdata import alerts as rules
from metrics import changes, lifecycle, lookups
from metrics.engine import CLIENT_METRICS, KPI_COLUMNS, LITE, kpis_many
from metrics.filters import Filters
from metrics.maturity import bucket_end, bucket_start, mature, today
from metrics.registry import METRICS

MAX_ATTEMPTS = 20  # a channel failing this many times for one event is given up on (the history shows it)
HISTORY = changes.WINDOW + 2  # settled periods read beside a rule's own window (the anomaly band's history)
YOUNG = 8  # periods read beyond that: the maturing and incomplete ones at the end never count


def alert_metrics() -> tuple[str, ...]:
    """Registry metrics the engine returns per period as numbers (what a rule may watch), in registry order."""
    return tuple(name for name, m in METRICS.items() if name in KPI_COLUMNS and m.unit != "label")


# ---------------------------------------------------------------- rules (the registry's names passed down)

def add_rule(con: duckdb.DuckDBPyConnection, rule: Mapping[str, Any]) -> int:
    """Check and store an alert rule on a registry metric; return its rule_id."""
    return rules.add_alert_rule(con, rule, alert_metrics())


def update_rule(con: duckdb.DuckDBPyConnection, rule_id: int, rule: Mapping[str, Any]) -> None:
    """Change an alert rule (checked like a new one)."""
    rules.update_alert_rule(con, rule_id, rule, alert_metrics())


def delete_rule(con: duckdb.DuckDBPyConnection, rule_id: int) -> bool:
    """Delete an alert rule and its state; True when it existed."""
    return rules.delete_alert_rule(con, rule_id)


# ---------------------------------------------------------------- readings: a verdict per scope

@dataclass(frozen=True)
class Reading:
    """One scope of a rule this run: whether the condition holds (None: no verdict), the value and its period."""

    scope_key: str
    holds: bool | None
    value: float | None = None
    period_from: date | None = None
    period_to: date | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _back(start: date, grain: str, n: int) -> date:
    """The start of the period n periods before the one starting on `start`."""
    if grain == "week":
        return start - timedelta(weeks=n)
    months = start.year * 12 + start.month - 1 - n
    return date(months // 12, months % 12 + 1, 1)


def _scopes(rule: Mapping[str, Any], f: Filters) -> tuple[Filters, tuple[str, ...], str | None]:
    """The filters, grouping and key column of a rule's scope (key None: one scope)."""
    kind, value, grain = rule["scope_kind"], rule["scope_value"], rule["grain"]
    if kind == "model" and value:
        return Filters(f.date_from, f.date_to, models=(value,)), (grain,), None
    if kind == "partner" and value:
        return Filters(f.date_from, f.date_to, partners=(int(value),)), (grain,), None
    if kind in ("model", "partner"):
        return f, (grain, kind), "model" if kind == "model" else "partner_id"
    return f, (grain,), None


def _key(rule: Mapping[str, Any], row: Mapping[str, Any], col: str | None) -> tuple[str, dict[str, Any]]:
    """A scope's key (all, model:<key>, partner:<id>) and what a message says about it."""
    kind, value = rule["scope_kind"], rule["scope_value"]
    if col == "model" or (kind == "model" and value):
        model = row.get("model") if col else value
        return f"model:{model}", {"model": model}
    if col == "partner_id" or (kind == "partner" and value):
        pid = int(row["partner_id"]) if col else int(value)
        return f"partner:{pid}", {"partner_id": pid, "partner": row.get("partner"), "model": row.get("model")}
    return "all", {}


def _number(value: Any) -> float | None:
    number = changes.number(value)
    return None if number is None or math.isinf(number) else number


def _span(rows: pd.DataFrame, grain: str) -> tuple[date, date]:
    return rows["period"].iloc[0], bucket_end(rows["period"].iloc[-1], grain)


def readings(con: duckdb.DuckDBPyConnection, rule: Mapping[str, Any], as_of: date) -> list[Reading]:
    """Every scope's verdict for one rule as of a day (see the module's docstring)."""
    if rule["condition"] == "fell_asleep":
        return _asleep(con, rule, as_of)
    grain, window, metric = rule["grain"], int(rule["window_periods"]), rule["metric"]
    need = 2 * window if rule["condition"] == "change_pct" else window
    current = bucket_start(as_of, grain)
    # through the current period's last day, so that metrics.maturity marks it incomplete
    f, dims, col = _scopes(rule, Filters(_back(current, grain, need + HISTORY + YOUNG), bucket_end(current, grain)))
    rows = kpis_many(con, ((f, dims, *_lite(metric)),))[0]
    if col == "partner_id":
        rows = rows[rows["partner_id"].notna()]
    groups = [(None, rows)] if col is None else list(rows.groupby(col, sort=True))
    judged: list[tuple[str, dict[str, Any], pd.DataFrame]] = []
    for _, part in groups:
        if part.empty:
            continue
        key, detail = _key(rule, part.iloc[-1].to_dict(), col)
        judged.append((key, detail, part.sort_values("period").reset_index(drop=True)))
    if rule["condition"] == "anomaly":
        return [_anomaly(key, detail, part, metric, grain) for key, detail, part in judged]
    return _windowed(con, rule, judged, f, col)


def _lite(metric: str) -> tuple[str, ...]:
    """A frame's lite flag: the client metrics (CPA, LTV, …) need the full frame, every other metric does not."""
    return () if metric in CLIENT_METRICS else (LITE,)


def _anomaly(key: str, detail: dict[str, Any], part: pd.DataFrame, metric: str, grain: str) -> Reading:
    """The trends page's anomaly rule on the last settled period."""
    values = pd.to_numeric(part[metric], errors="coerce").astype(float)
    flagged = changes.flag(part.assign(value=values), count=METRICS[metric].unit == "count")
    settled = flagged[mature(flagged)]
    if settled.empty or pd.isna(settled["band_low"].iloc[-1]):
        return Reading(key, None, detail=detail)
    last = settled.iloc[-1]
    band = [float(last["band_low"]), float(last["band_high"])]
    return Reading(key, bool(last["is_anomaly"]), _number(last["value"]), last["period"],
                   bucket_end(last["period"], grain), {**detail, "band": band})


def _windowed(con: duckdb.DuckDBPyConnection, rule: Mapping[str, Any],
              judged: list[tuple[str, dict[str, Any], pd.DataFrame]], f: Filters, col: str | None) -> list[Reading]:
    """below / above / change_pct: one value over the last `window` settled periods of each scope (and the
    `window` before them), computed by the engine over their days. Scopes sharing a span share one frame grouped by
    the scope's key, and every frame has the rule's narrowing, so all of them are one engine query."""
    grain, window, cond = rule["grain"], int(rule["window_periods"]), rule["condition"]
    spans: list[tuple[str, dict[str, Any], list[tuple[date, date]]]] = []
    for key, detail, part in judged:
        settled = part[mature(part)].reset_index(drop=True)
        count = 2 * window if cond == "change_pct" else window
        if len(settled) < count:
            spans.append((key, detail, []))
            continue
        tail = settled.tail(count)
        parts = [tail.head(window), tail.tail(window)] if cond == "change_pct" else [tail]
        spans.append((key, detail, [_span(p, grain) for p in parts]))
    unique = sorted({span for _, _, periods in spans for span in periods})
    by = {"partner_id": "partner", "model": "model"}.get(col or "", "none")
    requests = tuple((Filters(lo, hi, models=f.models, partners=f.partners), by, *_lite(rule["metric"]))
                     for lo, hi in unique)
    frames = dict(zip(unique, kpis_many(con, requests), strict=True)) if requests else {}
    return [_verdict(rule, key, detail, periods, [_value(frames[p], rule["metric"], key, col) for p in periods])
            for key, detail, periods in spans]


def _value(frame: pd.DataFrame, metric: str, key: str, col: str | None) -> float | None:
    """One scope's value in a frame over a span (grouped by the scope's key column when the rule has one)."""
    if col is not None:
        value = key.partition(":")[2]
        frame = frame[frame[col].astype(str) == value] if col == "model" else \
            frame[frame["partner_id"].notna() & (frame["partner_id"].astype("Int64").astype(str) == value)]
    return _number(frame[metric].iloc[0]) if len(frame) else None


def _verdict(rule: Mapping[str, Any], key: str, detail: dict[str, Any], periods: list[tuple[date, date]],
             values: list[float | None]) -> Reading:
    """Whether below / above / change_pct holds for a scope's value(s)."""
    if not periods or values[-1] is None:
        return Reading(key, None, detail=detail)
    value, (lo, hi), threshold = values[-1], periods[-1], float(rule["threshold"])
    if rule["condition"] == "below":
        return Reading(key, value < threshold, value, lo, hi, detail)
    if rule["condition"] == "above":
        return Reading(key, value > threshold, value, lo, hi, detail)
    _, rel = changes.change(value, values[0])
    if rel is None:
        return Reading(key, None, value, lo, hi, detail)
    return Reading(key, abs(rel) > threshold, value, lo, hi,
                   {**detail, "previous": values[0], "change": rel, "previous_from": periods[0][0],
                    "previous_to": periods[0][1]})


def _asleep(con: duckdb.DuckDBPyConnection, rule: Mapping[str, Any], as_of: date) -> list[Reading]:
    """fell_asleep: starts for the partners metrics.lifecycle.fell_asleep() names this week, holds while they stay
    dormant, clears when they are not."""
    table = lifecycle.stages(con, as_of)
    fell = set(lifecycle.fell_asleep(con, as_of)["partner_id"].astype(int))
    if rule["scope_kind"] == "model" and rule["scope_value"]:
        table = table[table["model"] == rule["scope_value"]]
    elif rule["scope_kind"] == "partner" and rule["scope_value"]:
        table = table[table["partner_id"] == int(rule["scope_value"])]
    out = []
    for row in table.to_dict("records"):
        pid = int(row["partner_id"])
        detail = {"partner_id": pid, "partner": row["partner"], "model": row["model"],
                  "last_lead_on": row["last_lead_on"], "fell": pid in fell}
        holds = True if pid in fell else row["stage"] == "dormant"
        days = row["days_since_lead"]
        out.append(Reading(f"partner:{pid}", holds, None if pd.isna(days) else float(days),
                           row["last_lead_on"], as_of, detail))
    return out


# ---------------------------------------------------------------- transitions and events

@dataclass(frozen=True)
class Transition:
    """A condition that started or cleared for one scope of one rule in this run."""

    rule: dict[str, Any]
    reading: Reading
    event: str  # start | clear


def account_today(con: duckdb.DuckDBPyConnection) -> date:
    """Today in the account's time zone."""
    return today(lookups.freshness(con).get("timezone") or "Europe/Moscow")


def _state(con: duckdb.DuckDBPyConnection) -> dict[tuple[int, str], bool]:
    return {(int(r), k): bool(a) for r, k, a in con.execute(
        "select rule_id, scope_key, active from alert_state").fetchall()}


def evaluate(con: duckdb.DuckDBPyConnection, as_of: date | None = None) -> tuple[list[Transition], list[tuple]]:
    """(transitions, readings by rule) of every enabled rule as of a day; writes nothing (record() does).

    A new scope whose condition holds starts at once; one whose condition does not hold is only remembered, and a
    fell-asleep rule only starts for partners that fell asleep this week (a long-dormant one never fires)."""
    as_of = as_of or account_today(con)
    state = _state(con)
    transitions: list[Transition] = []
    seen: list[tuple] = []
    for rule in rules.list_alert_rules(con, enabled_only=True).to_dict("records"):
        for reading in readings(con, rule, as_of):
            seen.append((rule, reading))
            active = state.get((int(rule["rule_id"]), reading.scope_key), False)
            starts = reading.holds and not active
            if rule["condition"] == "fell_asleep" and starts and not reading.detail.get("fell", True):
                starts = False
            if starts:
                transitions.append(Transition(rule, reading, "start"))
            elif reading.holds is False and active:
                transitions.append(Transition(rule, reading, "clear"))
    return transitions, seen


def record(con: duckdb.DuckDBPyConnection, transitions: list[Transition], seen: list[tuple]) -> list[int]:
    """Store the run: each scope's state and last value, one event per transition; return the new event ids."""
    moved = {(int(t.rule["rule_id"]), t.reading.scope_key): t.event for t in transitions}
    state = _state(con)
    ids = []
    for rule, reading in seen:
        key = (int(rule["rule_id"]), reading.scope_key)
        if reading.holds is None and key not in moved:
            continue
        active = moved.get(key) == "start" or (key not in moved and state.get(key, False))
        con.execute(
            "insert into alert_state (rule_id, scope_key, active, since, last_value) values (?, ?, ?, "
            "get_current_timestamp(), ?) on conflict (rule_id, scope_key) do update set "
            "since = case when alert_state.active <> excluded.active then get_current_timestamp() "
            "else alert_state.since end, "
            "active = excluded.active, last_value = excluded.last_value, updated_at = get_current_timestamp()",
            [key[0], key[1], active, reading.value])
    for t in transitions:
        r = t.reading
        ids.append(int(con.execute(
            "insert into alert_events (rule_id, scope_key, event, value, threshold, period_from, period_to, detail) "
            "values (?, ?, ?, ?, ?, ?, ?, ?) returning event_id",
            [int(t.rule["rule_id"]), r.scope_key, t.event, r.value, t.rule["threshold"], r.period_from,
             r.period_to, json.dumps(r.detail, ensure_ascii=False, default=str)]).fetchone()[0]))
    return ids


# ---------------------------------------------------------------- deliveries (what still has to be sent)

@dataclass(frozen=True)
class Delivery:
    """One event on one channel of its rule, not delivered yet: the attempt this would be."""

    event: dict[str, Any]
    rule: dict[str, Any]
    channel: dict[str, Any]
    channel_key: str  # email#1, telegram#2, …: the kind and its place in the rule's list
    attempt: int


EVENTS_SQL = """
select e.event_id, e.happened_at, e.rule_id, e.scope_key, e.event, e.value, e.threshold, e.period_from,
       e.period_to, e.detail
from alert_events e join alert_rules r using (rule_id)
where r.enabled
order by e.event_id
"""


def pending(con: duckdb.DuckDBPyConnection) -> list[Delivery]:
    """Every (event, channel) without a successful send and with fewer than MAX_ATTEMPTS attempts, oldest first."""
    by_rule = {int(r["rule_id"]): r for r in rules.list_alert_rules(con, enabled_only=True).to_dict("records")}
    sends = con.execute("select event_id, channel, count(*), bool_or(result = 'ok') from alert_sends "
                        "group by event_id, channel").fetchall()
    done = {(int(e), c): (int(n), bool(ok)) for e, c, n, ok in sends}
    cols = ["event_id", "happened_at", "rule_id", "scope_key", "event", "value", "threshold", "period_from",
            "period_to", "detail"]
    out = []
    for values in con.execute(EVENTS_SQL).fetchall():
        event = dict(zip(cols, values, strict=True))
        event["detail"] = json.loads(event["detail"] or "{}")
        rule = by_rule.get(int(event["rule_id"]))
        if rule is None:
            continue
        for i, channel in enumerate(rules.channels_of(rule["channels"]), start=1):
            key = f"{channel.get('kind')}#{i}"
            attempts, ok = done.get((int(event["event_id"]), key), (0, False))
            if not ok and attempts < MAX_ATTEMPTS:
                out.append(Delivery(event, rule, channel, key, attempts + 1))
    return out


def record_send(con: duckdb.DuckDBPyConnection, delivery: Delivery, ok: bool, error: str | None = None) -> None:
    """One alert_sends row for an attempt (error: one short sentence, already free of secrets)."""
    e = delivery.event
    con.execute("insert into alert_sends (event_id, rule_id, scope_key, channel, event, result, error, attempt) "
                "values (?, ?, ?, ?, ?, ?, ?, ?)",
                [int(e["event_id"]), int(e["rule_id"]), e["scope_key"], delivery.channel_key, e["event"],
                 "ok" if ok else "failed", None if ok else (error or "")[:300], delivery.attempt])


# ---------------------------------------------------------------- what the settings panel lists

def rule_overview(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each rule with how many scopes are active now and its last send (when, channel, result)."""
    return con.execute("""
        select r.rule_id, r.name, r.metric, r.scope_kind, r.scope_value, r.condition, r.threshold,
               r.window_periods, r.grain, r.enabled,
               (select count(*) from alert_state s where s.rule_id = r.rule_id and s.active) as active_scopes,
               (select max(s.updated_at) from alert_state s where s.rule_id = r.rule_id) as checked_at,
               (select max(sent_at) from alert_sends x where x.rule_id = r.rule_id) as last_sent_at,
               (select arg_max(x.result, x.send_id) from alert_sends x where x.rule_id = r.rule_id) as last_result
        from alert_rules r order by r.rule_id
    """).df()


def send_history(con: duckdb.DuckDBPyConnection, limit: int = 50) -> pd.DataFrame:
    """The last sends, newest first: when, rule, scope, channel, event, result, error, attempt."""
    return con.execute("""
        select x.sent_at, x.rule_id, r.name as rule, x.scope_key, x.channel, x.event, x.result, x.error, x.attempt
        from alert_sends x left join alert_rules r using (rule_id)
        order by x.send_id desc limit ?
    """, [int(limit)]).df()

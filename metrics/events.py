"""Events on the charts: programme events read from the audit log and the ledger, the user's events, and the
before / after effect of an event on a metric series.

Programme events: every change of the commission rules (an audit row of the rules table, or a what-if scenario
applied with rules: its day, the rule and what changed) and each cost category's first month in the ledger of the
page's scope (a category that starts with the ledger itself is where the records begin, not an event). User events
come from `user_events` (data_layer.userdata.events). All of them are read-only SQL (metrics/sql/events_*.sql).

The effect (`before_after`): the mean of the N settled periods before an event against the N after it (the period
holding the event belongs to neither, unless the event is on its first day), the difference with a Welch 95 %
interval (metrics.stats); maturing and incomplete periods never count (metrics.maturity.mature), and fewer than two
periods on a side is "too few periods".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from metrics import sql
from metrics.filters import Filters
from metrics.maturity import bucket_end, mature
from metrics.stats import welch_interval

N_PERIODS = 3  # periods on each side of an event by default
MIN_PERIODS = 2  # fewer settled periods than this on a side: too few to tell
COLUMNS = ["day", "kind", "scope", "value", "title", "subject", "change", "id"]
RULE_FIELDS = ("kind", "rate", "tiers", "valid_from", "valid_to", "tier_kind")  # what a change can alter


@dataclass(frozen=True)
class Scope:
    """Whom a chart is about: the whole programme (whole), and/or models and partners.

    An event of the whole programme is always shown; a model's when `whole` or the model is in `models`; a
    partner's when the partner is in `partners`."""

    whole: bool = True
    models: tuple[str, ...] = ()
    partners: tuple[int, ...] = ()

    def shows(self, scope: str, value: object) -> bool:
        """Whether an event of this scope and value belongs on the chart."""
        if scope == "all":
            return True
        if scope == "model":
            return self.whole or value in self.models
        try:
            return int(str(value)) in self.partners
        except (TypeError, ValueError):
            return False


def scope_of(f: Filters, partners: tuple[int, ...] = ()) -> Scope:
    """The scope of a view under its filters: the whole programme unless they narrow it to models or partners (a
    chart split by partner adds its partners)."""
    return Scope(whole=not f.models and not f.partners, models=tuple(f.models),
                 partners=tuple(dict.fromkeys([*f.partners, *partners])))


def events(con: duckdb.DuckDBPyConnection, date_from: date, date_to: date, scope: Scope = Scope()) -> pd.DataFrame:
    """Every event from date_from to date_to of a scope, by day: day, kind (rule / scenario / ledger / user),
    scope, value, title (a user event's), subject and change (dicts the words are built from), id (a user event's)."""
    parts = [rule_changes(con), ledger_firsts(con, scope), user_events(con, date_from, date_to, scope)]
    rows = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else None
    if rows is None:
        return pd.DataFrame(columns=COLUMNS)
    keep = [date_from <= d <= date_to and scope.shows(s, v)
            for d, s, v in zip(rows["day"], rows["scope"], rows["value"], strict=True)]
    order = {"rule": 0, "scenario": 0, "ledger": 1, "user": 2}
    out = rows[keep].assign(_o=lambda r: r["kind"].map(order)).sort_values(["day", "_o"], kind="stable")
    return out.drop(columns="_o").reset_index(drop=True)[COLUMNS]


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS).astype({"day": object})


def user_events(con: duckdb.DuckDBPyConnection, date_from: date, date_to: date, scope: Scope) -> pd.DataFrame:
    """The user's events of the window and scope (events_user.sql)."""
    text = sql.load("events_user")
    found = con.execute(text, sql.params(text, {"date_from": date_from, "date_to": date_to, "whole": scope.whole,
                                                "models": list(scope.models),
                                                "partners": [int(p) for p in scope.partners]})).fetchall()
    return _frame([{"day": _day(d), "kind": "user", "scope": s, "value": v, "title": t, "subject": None,
                    "change": None, "id": int(i)} for i, d, t, s, v in found])


def ledger_firsts(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Each cost category's first month in the scope's ledger, when later than the ledger's own first month."""
    text = sql.load("events_ledger_first")
    found = con.execute(text, sql.params(text, {"whole": scope.whole, "models": list(scope.models),
                                                "partners": [int(p) for p in scope.partners]})).fetchall()
    return _frame([{"day": _day(first), "kind": "ledger", "scope": "all", "value": None, "title": None,
                    "subject": {"category": category}, "change": None, "id": None}
                   for category, first, first_any in found if _day(first) > _day(first_any)])


def rule_changes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One event per rule a change touched (added, changed, deleted) and per scenario applied with rules, on the
    day the audit log recorded it (as stored), with the rule's target and what changed."""
    names = dict(con.execute("select partner_id, name from partners").fetchall())
    known: dict[int, dict[str, Any]] = {}  # rule_id -> its last recorded state (names a deleted rule)
    out: list[dict[str, Any]] = []
    for _, when, action, entity, key, before, after in con.execute(sql.load("events_rule_changes")).fetchall():
        day = _day(when)
        if entity == "scenario":
            out.append({"day": day, "kind": "scenario", "scope": "all", "value": None, "title": None,
                        "subject": {"scenario": key}, "change": {"action": "applied", **_json(after)}, "id": None})
            known.clear()  # the scenario's rules replaced them all, with new ids
            continue
        for rule, change in _diff(action, key, _json(before), _json(after), known):
            out.append(_rule_event(day, rule, change, names))
    return _frame(out)


def _diff(action: str, key: str | None, before: Any, after: Any,
          known: dict[int, dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(rule, change) pairs of one audit row, updating `known` (the rules' last recorded states)."""
    if action == "delete":
        rule = known.pop(int(key), {"rule_id": int(key)}) if key is not None else {}
        return [(rule, {"action": "deleted"})]
    if action == "add":
        rows = after if isinstance(after, list) else []
        for row in rows:
            row["rule_id"] = int(key) if key is not None else row.get("rule_id")
            known[row["rule_id"]] = row
        return [(row, {"action": "added"}) for row in rows]
    old = {int(r["rule_id"]): r for r in before or [] if r.get("rule_id") is not None}
    new_rows = after if isinstance(after, list) else []
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    kept = set()
    for row in new_rows:
        rid = row.get("rule_id")
        if rid is None or int(rid) not in old:
            pairs.append((row, {"action": "added"}))
            continue
        kept.add(int(rid))
        fields = {f: [old[int(rid)].get(f), row.get(f)] for f in RULE_FIELDS
                  if _same(old[int(rid)].get(f), row.get(f)) is False}
        if fields or _target(old[int(rid)]) != _target(row):
            pairs.append((row, {"action": "changed", "fields": fields}))
    pairs += [(rule, {"action": "deleted"}) for rid, rule in old.items() if rid not in kept]
    known.clear()
    known.update({int(r["rule_id"]): r for r in new_rows if r.get("rule_id") is not None})
    return pairs


def _same(a: Any, b: Any) -> bool:
    """Whether two recorded values are the same (blank = blank, 0.1 = 0.10, '2025-01-01' = a date)."""
    def norm(v: Any) -> Any:
        if _blank(v):
            return None
        if isinstance(v, int | float) and not isinstance(v, bool):
            return round(float(v), 9)
        return str(v)[:10] if isinstance(v, date | datetime) or (isinstance(v, str) and len(v) >= 10
                                                                  and v[4:5] == "-") else str(v)
    return norm(a) == norm(b)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value == ""


def _target(rule: Mapping[str, Any]) -> tuple[str | None, int | None]:
    """A recorded rule's (model, partner_id), blanks as None (the log writes a blank as null or NaN)."""
    model, pid = rule.get("model"), rule.get("partner_id")
    return None if _blank(model) else str(model), None if _blank(pid) else int(pid)


def _rule_event(day: date, rule: Mapping[str, Any], change: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    model, pid = _target(rule)
    subject = {"model": model, "partner_id": pid, "partner": names.get(pid) if pid is not None else None,
               "kind": rule.get("kind"), "rate": rule.get("rate"), "valid_from": rule.get("valid_from")}
    scope, value = ("partner", str(pid)) if pid is not None else ("model", model) if model else ("all", None)
    return {"day": day, "kind": "rule", "scope": scope, "value": value, "title": None, "subject": subject,
            "change": change, "id": None}


def _json(text: str | None) -> Any:
    return json.loads(text) if text else None


def _day(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else pd.Timestamp(value).date()


# ---------- before / after ----------

@dataclass(frozen=True)
class Effect:
    """An event's effect on a series: the settled periods' values on each side, their means and the difference
    (after − before) with its Welch 95 % interval; too_few when a side has fewer than MIN_PERIODS periods."""

    before: tuple[float, ...]
    after: tuple[float, ...]
    mean_before: float | None
    mean_after: float | None
    diff: float | None
    low: float | None
    high: float | None

    @property
    def too_few(self) -> bool:
        """Fewer than MIN_PERIODS settled periods on one side: no difference is read."""
        return min(len(self.before), len(self.after)) < MIN_PERIODS


def before_after(points: pd.DataFrame, day: date, unit: str, n: int = N_PERIODS, value: str = "value") -> Effect:
    """The effect of an event on `day` on one series: points has period (a period's first day), the value column and
    optionally maturing / incomplete flags (those periods never count); unit: month, week or quarter."""
    rows = points[mature(points) & points[value].notna()]
    starts = [pd.Timestamp(p).date() for p in rows["period"]]
    values = rows[value].astype(float).to_numpy()
    ordered = sorted(zip(starts, values, strict=True))
    before = [v for p, v in ordered if bucket_end(p, unit) < day][-n:] if n > 0 else []
    after = [v for p, v in ordered if p >= day][:n] if n > 0 else []
    mean_b = float(np.mean(before)) if before else None
    mean_a = float(np.mean(after)) if after else None
    if min(len(before), len(after)) < MIN_PERIODS:
        return Effect(tuple(before), tuple(after), mean_b, mean_a, None, None, None)
    w = welch_interval(before, after)
    return Effect(tuple(before), tuple(after), mean_b, mean_a, w.diff, w.low, w.high)

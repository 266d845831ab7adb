"""Commission rules: tiers, checking a rules table, and writing rules (add, change, delete, replace all)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from data_layer.userdata.errors import Problem, UserDataError, collect, fail
from data_layer.userdata.parse import (
    finite_number,
    is_blank,
    nulls_as_none,
    parse_number_text,
    to_date,
    to_model,
)
from data_layer.userdata.partners import partner_keys, partner_names, resolve_partner
from data_layer.userdata.transaction import atomic, audit

KINDS = ("percent_revenue", "fixed_per_deal", "fixed_per_qualified_lead")
RULE_COLUMNS = ["rule_id", "model", "partner_id", "partner", "kind", "rate", "tiers", "valid_from", "valid_to",
                "tier_kind"]
# How a percent rule's monthly tiers apply (metrics-spec): each band's rate on the revenue inside it, like tax
# brackets (the default), or the highest band reached sets the rate of the whole month's revenue.
TIER_KINDS = ("marginal", "whole")


def parse_tiers(value: object, line: int | None = None) -> list[dict[str, float | None]] | None:
    """Validated tiers from JSON text or a list; None when blank.

    Tiers are monthly-revenue bands: `up_to` strictly increasing and positive, the last one null,
    every rate a fraction in [0, 1].
    """
    if value is None or (not isinstance(value, list | tuple) and is_blank(value)):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise fail("tiers.json", line, detail=exc.msg) from None
    if not isinstance(value, list | tuple) or not all(isinstance(t, Mapping) for t in value):
        raise fail("tiers.shape", line)
    if not value:
        raise fail("tiers.empty", line)
    return _check_tiers(list(value), line)


def _check_tiers(tiers: list[Mapping[str, Any]], line: int | None) -> list[dict[str, float | None]]:
    problems: list[Problem] = []
    out: list[dict[str, float | None]] = []
    previous = 0.0
    for n, tier in enumerate(tiers, start=1):
        if set(tier) - {"up_to", "rate"} or "rate" not in tier:
            raise fail("tiers.shape", line)
        rate = finite_number(tier["rate"])
        if rate is None or not 0 <= rate <= 1:
            problems.append(Problem("tiers.rate", {"n": n, "value": tier["rate"]}, line))
        up_to = tier.get("up_to")
        last = n == len(tiers)
        if (up_to is None) != last:
            problems.append(Problem("tiers.last", {}, line))
        elif up_to is not None:
            bound = finite_number(up_to)
            if bound is None or bound <= 0:
                problems.append(Problem("tiers.up_to", {"n": n, "value": up_to}, line))
            elif bound <= previous:
                problems.append(Problem("tiers.order", {"n": n, "value": up_to}, line))
            else:
                previous = bound
        out.append({"up_to": None if up_to is None else finite_number(up_to), "rate": rate})
    if problems:
        unique = {p.text(): p for p in problems}
        raise UserDataError(list(unique.values()))
    return out


def tiers_json(tiers: list[dict[str, float | None]] | None) -> str | None:
    """Canonical JSON text of validated tiers (None stays None)."""
    return None if tiers is None else json.dumps(tiers)


def list_rules(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Commission rules, model rules first: rule_id, model, partner_id, partner, kind, rate, tiers (JSON text),
    valid_from, valid_to."""
    df = con.execute(
        """
        select r.rule_id, r.model, r.partner_id, p.name as partner, r.kind, r.rate, r.tiers,
               r.valid_from, r.valid_to, coalesce(r.tier_kind, 'marginal') as tier_kind
        from commission_rules r left join partners p using (partner_id)
        order by r.partner_id is not null, r.model, lower(p.name), r.kind, r.valid_from nulls first, r.rule_id
        """
    ).df()
    for col in ("valid_from", "valid_to"):
        df[col] = df[col].map(to_date).astype(object)
    df["partner_id"] = df["partner_id"].astype("Int64")
    return nulls_as_none(df, ("model", "partner", "tiers", "valid_from", "valid_to"))[RULE_COLUMNS]


def _check_rule(row: Mapping[str, Any], names: dict[int, str], keys: dict[str, int],
                line: int | None) -> dict[str, Any]:
    """One validated rule row (raises with all its problems)."""
    problems: list[Problem] = []
    model = collect(problems, to_model, row.get("model"), line)
    pid = None
    if not is_blank(row.get("partner_id")) or not is_blank(row.get("partner")):
        pid = collect(problems, resolve_partner, row, names, keys, line or 0)
        if pid is None and not problems:
            problems.append(Problem("partner.unknown", {"partner": row.get("partner")}, line))
    if (model is None) == (pid is None) and not problems:
        problems.append(Problem("rule.target", {}, line))
    kind = str(row.get("kind") or "").strip()
    if kind not in KINDS:
        problems.append(Problem("rule.kind", {"value": row.get("kind")}, line))
    tiers = collect(problems, parse_tiers, row.get("tiers"), line)
    rate = _rule_rate(row.get("rate"), kind, tiers, line, problems)
    if tiers is not None and kind in KINDS and kind != "percent_revenue":
        problems.append(Problem("rule.tiers_kind", {}, line))
    tier_kind = tier_kind_of(row.get("tier_kind"))
    if tier_kind not in TIER_KINDS:
        problems.append(Problem("rule.tier_kind", {"value": row.get("tier_kind")}, line))
    valid_from = collect(problems, to_date, row.get("valid_from"), line)
    valid_to = collect(problems, to_date, row.get("valid_to"), line)
    if valid_from and valid_to and valid_from > valid_to:
        problems.append(Problem("rule.dates", {"valid_from": valid_from, "valid_to": valid_to}, line))
    if problems:
        raise UserDataError(problems)
    rule_id = row.get("rule_id")
    return {"rule_id": None if is_blank(rule_id) else int(rule_id), "model": model, "partner_id": pid,
            "kind": kind, "rate": rate, "tiers": tiers_json(tiers), "valid_from": valid_from,
            "valid_to": valid_to, "tier_kind": tier_kind}


def tier_kind_of(value: object) -> str:
    """A rule's tier kind as stored: blank (a rule or scenario from before tier kinds) means marginal."""
    return TIER_KINDS[0] if is_blank(value) else str(value).strip().lower()


def _rule_rate(value: object, kind: str, tiers: list[dict[str, Any]] | None, line: int | None,
               problems: list[Problem]) -> float:
    """The rule's rate; with tiers and no rate, the first tier's rate."""
    if is_blank(value):
        if tiers:
            return float(tiers[0]["rate"] or 0.0)
        problems.append(Problem("rule.rate_bad", {"value": ""}, line))
        return 0.0
    try:
        rate = float(parse_number_text(value, line) if isinstance(value, str) else value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        problems.append(Problem("rule.rate_bad", {"value": value}, line))
        return 0.0
    if not math.isfinite(rate):
        problems.append(Problem("rule.rate_bad", {"value": value}, line))
    elif rate < 0:
        problems.append(Problem("rule.rate_negative", {"value": value}, line))
    elif kind == "percent_revenue" and rate > 1:
        problems.append(Problem("rule.rate_percent", {"value": f"{rate * 100:g} %"}, line))
    return rate


def _overlaps(rules: list[tuple[int, dict[str, Any]]], names: dict[int, str]) -> list[Problem]:
    """Rules of the same target and kind whose validity periods overlap."""
    problems: list[Problem] = []
    for i, (line_a, a) in enumerate(rules):
        for line_b, b in rules[i + 1:]:
            if (a["model"], a["partner_id"], a["kind"]) != (b["model"], b["partner_id"], b["kind"]):
                continue
            start = max(a["valid_from"] or date.min, b["valid_from"] or date.min)
            end = min(a["valid_to"] or date.max, b["valid_to"] or date.max)
            if start <= end:
                target = a["model"] or names.get(a["partner_id"], str(a["partner_id"]))
                problems.append(Problem("rule.overlap", {"kind": a["kind"], "target": target,
                                                         "lines": f"{line_a}, {line_b}"}, line_b))
    return problems


def validate_rules(con: duckdb.DuckDBPyConnection, rules: pd.DataFrame) -> pd.DataFrame:
    """Check and normalise a whole rules table (as the editor holds it); raise listing every bad row."""
    names, keys = partner_names(con), partner_keys(con)
    problems: list[Problem] = []
    good: list[tuple[int, dict[str, Any]]] = []
    for line, row in enumerate(rules.to_dict("records"), start=1):
        if all(is_blank(row.get(c)) for c in ("model", "partner_id", "partner", "kind", "rate", "tiers")):
            continue  # an empty row the editor added
        checked = collect(problems, _check_rule, row, names, keys, line)
        if checked is not None:
            good.append((line, checked))
    problems += _overlaps(good, names)
    if problems:
        raise UserDataError(problems)
    cols = [c for c in RULE_COLUMNS if c != "partner"]
    return pd.DataFrame([r for _, r in good], columns=cols)


def insert_rules(con: duckdb.DuckDBPyConnection, clean: pd.DataFrame) -> list[int]:
    """Insert validated rules (`validate_rules`' columns, rule_id kept where given); return their rule_ids.

    No audit row: replace_rules, add_rule and apply_scenario write their own around it."""
    ids = []
    for record in clean.to_dict("records"):
        row = {k: None if is_blank(v) else v for k, v in record.items()}
        params = [row["model"], None if row["partner_id"] is None else int(row["partner_id"]), row["kind"],
                  float(row["rate"]), row["tiers"], to_date(row["valid_from"]), to_date(row["valid_to"]),
                  tier_kind_of(row.get("tier_kind"))]
        if row.get("rule_id") is not None:
            con.execute("insert into commission_rules (rule_id, model, partner_id, kind, rate, tiers, valid_from, "
                        "valid_to, tier_kind) values (?, ?, ?, ?, ?, ?, ?, ?, ?)", [int(row["rule_id"]), *params])
            ids.append(int(row["rule_id"]))
        else:
            ids.append(int(con.execute(
                "insert into commission_rules (model, partner_id, kind, rate, tiers, valid_from, valid_to, "
                "tier_kind) values (?, ?, ?, ?, ?, ?, ?, ?) returning rule_id", params).fetchone()[0]))
    return ids


def replace_rules(con: duckdb.DuckDBPyConnection, rules: pd.DataFrame) -> int:
    """Make commission_rules equal to the edited table (rule_id kept where given); return the rule count."""
    clean = validate_rules(con, rules)
    known = {r[0] for r in con.execute("select rule_id from commission_rules").fetchall()}
    clean["rule_id"] = [rid if rid in known else None for rid in clean["rule_id"]]
    with atomic(con):
        before = list_rules(con)
        con.execute("delete from commission_rules")
        insert_rules(con, clean)
        _advance_rule_sequence(con)
        audit(con, "replace", "commission_rules", None, before, clean)
    return len(clean)


def _advance_rule_sequence(con: duckdb.DuckDBPyConnection) -> None:
    """Keep the sequence ahead of ids inserted explicitly."""
    top = con.execute("select coalesce(max(rule_id), 0) from commission_rules").fetchone()[0]
    while con.execute("select nextval('commission_rules_seq')").fetchone()[0] < top:
        pass


def add_rule(con: duckdb.DuckDBPyConnection, kind: str, rate: float | None = None, model: str | None = None,
             partner_id: int | None = None, tiers: object = None, valid_from: date | str | None = None,
             valid_to: date | str | None = None, tier_kind: str | None = None) -> int:
    """Add one commission rule (per model, or per partner as an override); return its rule_id."""
    row = {"model": model, "partner_id": partner_id, "kind": kind, "rate": rate, "tiers": tiers,
           "valid_from": valid_from, "valid_to": valid_to, "tier_kind": tier_kind}
    current = list_rules(con)
    validate_rules(con, pd.concat([current, pd.DataFrame([row])], ignore_index=True))
    clean = validate_rules(con, pd.DataFrame([row]))
    with atomic(con):
        rule_id = insert_rules(con, clean)[0]
        audit(con, "add", "commission_rules", rule_id, None, clean)
        return rule_id


def update_rule(con: duckdb.DuckDBPyConnection, rule_id: int, **changes: Any) -> None:
    """Change fields of one rule (model, partner_id, kind, rate, tiers, valid_from, valid_to, tier_kind)."""
    current = list_rules(con)
    if rule_id not in set(current["rule_id"]):
        raise KeyError(f"no commission rule {rule_id}")
    mask = current["rule_id"] == rule_id
    for key, value in changes.items():
        if key not in RULE_COLUMNS or key in ("rule_id", "partner"):
            raise TypeError(f"update_rule got an unknown field {key!r}")
        current[key] = current[key].astype(object)
        current.loc[mask, key] = [value]
    current["partner"] = None
    replace_rules(con, current)


def delete_rule(con: duckdb.DuckDBPyConnection, rule_id: int) -> bool:
    """Delete one rule; True when it existed."""
    found = con.execute("select count(*) from commission_rules where rule_id = ?", [rule_id]).fetchone()[0]
    if found:
        with atomic(con):
            con.execute("delete from commission_rules where rule_id = ?", [rule_id])
            audit(con, "delete", "commission_rules", rule_id)
    return bool(found)

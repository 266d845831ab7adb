"""What-if scenarios: their inputs, checking, saving, loading, deleting and applying them to the real tables."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from data_layer.userdata.errors import fail
from data_layer.userdata.ledger import insert_ledger, validate_ledger
from data_layer.userdata.parse import MAX_NAME, is_blank, to_date, to_month
from data_layer.userdata.partners import partner_names
from data_layer.userdata.rules import RULE_COLUMNS, insert_rules, validate_rules
from data_layer.userdata.settings import check_margin, set_margin
from data_layer.userdata.transaction import atomic, audit


@dataclass
class ScenarioInputs:
    """Edited cost inputs of a what-if scenario; None means "as in the real data".

    ledger: partner_id, month, category, amount — rows that replace the same partner x month x category;
    rules: a whole commission-rules table (replaces all rules); margin: the margin setting.
    """

    ledger: pd.DataFrame | None = None
    rules: pd.DataFrame | None = None
    margin: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        """JSON-ready dict."""
        ledger = None if self.ledger is None else [
            {"partner_id": int(r["partner_id"]), "month": to_month(r["month"]).isoformat(),
             "category": r["category"], "amount": float(r["amount"])}
            for r in self.ledger.to_dict("records")]
        rules = None if self.rules is None else [
            {k: _json_value(r.get(k)) for k in RULE_COLUMNS if k != "partner"}
            for r in self.rules.to_dict("records")]
        return {"version": 1, "ledger": ledger, "rules": rules, "margin": self.margin, "meta": self.meta}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ScenarioInputs:
        """Inverse of to_payload."""
        ledger = payload.get("ledger")
        rules = payload.get("rules")
        ledger_df = None if ledger is None else pd.DataFrame(
            ledger, columns=["partner_id", "month", "category", "amount"])
        if ledger_df is not None:
            ledger_df["month"] = ledger_df["month"].map(to_month).astype(object)
        rules_df = None if rules is None else pd.DataFrame(
            rules, columns=[c for c in RULE_COLUMNS if c != "partner"])
        if rules_df is not None:
            for col in ("valid_from", "valid_to"):
                rules_df[col] = rules_df[col].map(to_date).astype(object)
        return cls(ledger_df, rules_df, payload.get("margin"), dict(payload.get("meta") or {}))


def _json_value(value: object) -> Any:
    if is_blank(value):
        return None
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return value.item()  # type: ignore[union-attr]
    return value


def check_scenario(con: duckdb.DuckDBPyConnection, inputs: ScenarioInputs) -> ScenarioInputs:
    """Validated, normalised scenario inputs (raises UserDataError listing every problem)."""
    ledger = None
    if inputs.ledger is not None:
        ledger = validate_ledger(con, inputs.ledger)[["partner_id", "month", "category", "amount"]]
    rules = None if inputs.rules is None else validate_rules(con, inputs.rules)
    margin = None if inputs.margin is None else check_margin(inputs.margin)
    return ScenarioInputs(ledger, rules, margin, dict(inputs.meta))


def _check_scenario_name(name: object) -> str:
    if is_blank(name):
        raise fail("scenario.name_empty")
    text = str(name).strip()
    if len(text) > MAX_NAME:
        raise fail("scenario.name_long", limit=MAX_NAME)
    return text


def save_scenario(con: duckdb.DuckDBPyConnection, name: str, inputs: ScenarioInputs,
                  overwrite: bool = False) -> int:
    """Save the scenario under a name; return its scenario_id."""
    clean_name = _check_scenario_name(name)
    payload = json.dumps(check_scenario(con, inputs).to_payload(), ensure_ascii=False)
    row = con.execute("select scenario_id from scenarios where name = ?", [clean_name]).fetchone()
    if row and not overwrite:
        raise fail("scenario.exists", name=clean_name)
    audit(con, "save", "scenario", clean_name)
    if row:
        con.execute("update scenarios set payload = ?, created_at = current_timestamp where scenario_id = ?",
                    [payload, row[0]])
        return int(row[0])
    return int(con.execute("insert into scenarios (name, payload) values (?, ?) returning scenario_id",
                           [clean_name, payload]).fetchone()[0])


def list_scenarios(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Saved scenarios, newest first: scenario_id, name, created_at."""
    return con.execute("select scenario_id, name, created_at from scenarios order by created_at desc, name").df()


def load_scenario(con: duckdb.DuckDBPyConnection, name: str) -> ScenarioInputs:
    """A saved scenario's inputs by name."""
    row = con.execute("select payload from scenarios where name = ?", [str(name).strip()]).fetchone()
    if not row:
        raise fail("scenario.unknown", name=name)
    try:
        inputs = ScenarioInputs.from_payload(json.loads(row[0]))
    except (ValueError, TypeError, KeyError) as exc:
        raise fail("scenario.payload", name=name, detail=type(exc).__name__) from exc
    if inputs.rules is not None:  # editors show partners by name
        names = partner_names(con)
        inputs.rules["partner"] = [None if is_blank(p) else names.get(int(p)) for p in inputs.rules["partner_id"]]
    return inputs


def delete_scenario(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Delete a saved scenario; True when it existed."""
    found = con.execute("select count(*) from scenarios where name = ?", [name]).fetchone()[0]
    if found:
        with atomic(con):
            con.execute("delete from scenarios where name = ?", [name])
            audit(con, "delete", "scenario", name)
    return bool(found)


def apply_scenario(con: duckdb.DuckDBPyConnection, inputs: ScenarioInputs) -> dict[str, int]:
    """Write a scenario into the real tables in one transaction: ledger rows replace the same keys,
    rules replace all rules, margin replaces the margin setting. Returns what changed."""
    clean = check_scenario(con, inputs)
    done = {"ledger_rows": 0, "rules": 0, "margin": 0}
    with atomic(con):
        if clean.ledger is not None:
            done["ledger_rows"] = insert_ledger(con, clean.ledger.assign(note=None), add=False)
        if clean.rules is not None:
            con.execute("delete from commission_rules")
            insert_rules(con, clean.rules.assign(rule_id=None))
            done["rules"] = len(clean.rules)
        if clean.margin is not None:
            set_margin(con, clean.margin)
            done["margin"] = 1
        audit(con, "apply", "scenario", inputs.meta.get("name"), None, done)
    return done

"""Cost inputs of the metrics: settings, the ledger and commission rules, and what-if scenarios.

The KPI SQL never reads ``cost_ledger`` or ``commission_rules`` directly: it reads named relations that
:func:`bind_cost_inputs` (re)binds on the connection before every query (temp views and registered tables, so a
read-only connection can hold them; docs/sql.md and ``python -m metrics.sql inputs`` describe each):

* ``m_ledger_src`` / ``m_rules_src``: views over the tables (bind_*_actual.sql) or over a scenario's DataFrames,
  registered as ``m_ledger_df`` / ``m_rules_df`` (bind_*_scenario.sql);
* ``m_ledger`` / ``m_rules``: the typed views every cost query reads (bind_ledger.sql, bind_rules.sql);
* ``m_rule_spans`` / ``m_tier_rates``: the results of rule_spans.sql / tier_rates.sql over ``m_rules``, registered
  as Arrow tables and cached per fingerprint of their inputs (:func:`bind_rule_structure`).

Actuals and a scenario go through the same typed views, so a scenario is recomputed exactly the way actuals are.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from data_layer.admin import LIFECYCLE_DAYS, SettingsError, check_lifecycle_days
from metrics import sql
from metrics.filters import ALL_MODELS, FilterError

LEDGER_CATEGORIES = ("commission", "bonus", "marketing", "training", "support", "other")
RULE_KINDS = ("percent_revenue", "fixed_per_deal", "fixed_per_qualified_lead")
LEDGER_COLUMNS = ("partner_id", "month", "category", "amount")
RULE_COLUMNS = ("rule_id", "model", "partner_id", "kind", "rate", "tiers", "valid_from", "valid_to", "tier_kind")
# How a percent rule's monthly tiers apply: each band's rate on the revenue inside it (the default), or the highest
# band reached sets the rate of the whole month's revenue.
TIER_KINDS = ("marginal", "whole")
DEFAULT_MIN_LEADS = 30
DEFAULT_JUNK = ("Спам", "Дубль", "Нецелевой")
DEFAULT_WEIGHTS = (("phone", 25.0), ("email", 25.0), ("qualified", 50.0))
# lifecycle (metrics.lifecycle): active with a lead within 30 days, dormant with none within 60; the defaults live
# with the settings page's check of them (data_layer.admin)
DEFAULT_ACTIVE_DAYS = LIFECYCLE_DAYS["lifecycle_active_days"]
DEFAULT_DORMANT_DAYS = LIFECYCLE_DAYS["lifecycle_dormant_days"]

@dataclass(frozen=True)
class MetricSettings:
    """The settings metrics read, in one place: min_leads, margins, junk reasons, quality weights, lifecycle days."""

    min_leads: int = DEFAULT_MIN_LEADS
    margin_account: float | None = None
    margin_models: tuple[tuple[str, float], ...] = ()
    junk_reasons: tuple[str, ...] = DEFAULT_JUNK
    quality_weights: tuple[tuple[str, float], ...] = DEFAULT_WEIGHTS
    lifecycle_active_days: int = DEFAULT_ACTIVE_DAYS
    lifecycle_dormant_days: int = DEFAULT_DORMANT_DAYS

    def margin_of(self, model: str) -> float | None:
        """Gross margin applied to a model's revenue (its own, else the account's, else None)."""
        return dict(self.margin_models).get(model, self.margin_account)

    def weight(self, component: str) -> float:
        """Quality-score weight of one component (phone, email, qualified)."""
        return dict(self.quality_weights).get(component, 0.0)


@dataclass(frozen=True, eq=False)
class Scenario:
    """What-if cost inputs (ledger, rules, margin); a field left None keeps the actual value."""

    # ledger: DataFrame(partner_id, month, category, amount) replacing the whole ledger;
    # rules: DataFrame shaped like commission_rules replacing all rules;
    # margin: dict like the `margin` setting ({"account": fraction | None, "models": {model: fraction}}).

    ledger: pd.DataFrame | None = None
    rules: pd.DataFrame | None = None
    margin: Mapping[str, Any] | None = None
    name: str = field(default="")

    def key(self) -> str:
        """Content hash: equal inputs give equal keys (used for caching and equality)."""
        h = hashlib.sha256(self.name.encode())
        for frame in (self.ledger, self.rules):
            h.update(b"|" if frame is None else frame.to_csv(index=False).encode())
        h.update(json.dumps(self.margin, sort_keys=True, default=str).encode())
        return h.hexdigest()

    def __hash__(self) -> int:
        return hash(self.key())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scenario) and self.key() == other.key()


def _json(value: str | None, default: Any) -> Any:
    if value is None:
        return default
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return default


def _fraction(value: Any) -> float | None:
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def parse_margin(raw: Any) -> tuple[float | None, tuple[tuple[str, float], ...]]:
    """Account margin and per-model margins from a `margin` setting value (bad parts ignored)."""
    if not isinstance(raw, Mapping):
        return None, ()
    models = raw.get("models") if isinstance(raw.get("models"), Mapping) else {}
    pairs = tuple(sorted((m, v) for m, v in ((m, _fraction(x)) for m, x in models.items())
                         if m in ALL_MODELS and v is not None))
    return _fraction(raw.get("account")), pairs


# The data under a read-only connection cannot change while it is open: DuckDB lets no writer in meanwhile, and
# this process closes its kept readers before it writes (ui.data). Such a connection reads the settings once and
# trusts its bound cost inputs without re-checking the rules' fingerprint (~1 ms each per query otherwise).
_READ_ONLY: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, bool] = weakref.WeakKeyDictionary()
_SETTINGS: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, dict[str, Any]] = weakref.WeakKeyDictionary()


def is_read_only(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether con was opened read-only (asked once per connection)."""
    known = _READ_ONLY.get(con)
    if known is None:
        known = con.execute("select current_setting('access_mode')").fetchone()[0] == "read_only"
        _READ_ONLY[con] = known
    return known


def raw_settings(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The settings table as parsed JSON values (once per read-only connection)."""
    raw = _SETTINGS.get(con)
    if raw is None:
        raw = {k: _json(v, None) for k, v in con.execute(sql.load("settings")).fetchall()}
        if is_read_only(con):
            _SETTINGS[con] = raw
    return raw


def load_settings(con: duckdb.DuckDBPyConnection, scenario: Scenario | None = None) -> MetricSettings:
    """Read the metric settings (defaults per metrics-spec when absent); a scenario's margin wins."""
    raw = raw_settings(con)
    min_leads = raw.get("min_leads")
    min_leads = int(min_leads) if isinstance(min_leads, (int, float)) and min_leads >= 0 else DEFAULT_MIN_LEADS
    margin = scenario.margin if scenario is not None and scenario.margin is not None else raw.get("margin")
    account, models = parse_margin(margin)
    junk = raw.get("junk_reasons")
    junk = tuple(str(x) for x in junk) if isinstance(junk, list) else DEFAULT_JUNK
    weights = raw.get("quality_weights")
    if isinstance(weights, Mapping):
        weights = tuple((k, float(_fraction(weights.get(k)) or 0.0)) for k, _ in DEFAULT_WEIGHTS)
    else:
        weights = DEFAULT_WEIGHTS
    active, dormant = lifecycle_days(raw.get("lifecycle_active_days"), raw.get("lifecycle_dormant_days"))
    return MetricSettings(min_leads, account, models, junk, weights, active, dormant)


def lifecycle_days(active: Any, dormant: Any) -> tuple[int, int]:
    """The lifecycle's (active, dormant) days from stored values: whole numbers ≥ 1 with dormant > active, else
    the defaults (both, so a bad pair never mixes with a default)."""
    try:  # the settings page's own check (data_layer.admin): one rule for what a valid pair is
        return check_lifecycle_days(active, dormant)
    except SettingsError:
        return DEFAULT_ACTIVE_DAYS, DEFAULT_DORMANT_DAYS


def _check_columns(frame: pd.DataFrame, required: tuple[str, ...], what: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise FilterError(f"The scenario's {what} lacks column(s) {', '.join(missing)}.")


def scenario_ledger(frame: pd.DataFrame) -> pd.DataFrame:
    """A scenario ledger checked and reduced to the columns the metrics read."""
    _check_columns(frame, LEDGER_COLUMNS, "ledger")
    bad = sorted(set(frame["category"].dropna()) - set(LEDGER_CATEGORIES))
    if bad:
        raise FilterError(f"Unknown cost categories {', '.join(map(str, bad))}: use {', '.join(LEDGER_CATEGORIES)}.")
    return frame.loc[:, list(LEDGER_COLUMNS)].reset_index(drop=True)


def check_tiers(tiers: Any) -> list[dict[str, float | None]]:
    """Parse a tiers JSON value; raise FilterError with a sentence when it is malformed."""
    data = json.loads(tiers) if isinstance(tiers, str) else tiers
    if not isinstance(data, list) or not data:
        raise FilterError("Commission tiers must be a non-empty list of {\"up_to\": money or null, \"rate\": fraction}.")
    out = []
    for tier in data:
        if not isinstance(tier, Mapping) or _fraction(tier.get("rate")) is None:
            raise FilterError(f"Commission tier {tier!r} needs a numeric rate.")
        out.append({"up_to": _fraction(tier.get("up_to")), "rate": _fraction(tier.get("rate"))})
    return out


def scenario_rules(frame: pd.DataFrame) -> pd.DataFrame:
    """Scenario commission rules checked, with optional columns added and rule ids filled."""
    _check_columns(frame, ("kind", "rate"), "rules")
    rules = frame.copy()
    for col in RULE_COLUMNS:
        if col not in rules.columns:
            rules[col] = None
    bad = sorted(set(rules["kind"].dropna()) - set(RULE_KINDS))
    if bad:
        raise FilterError(f"Unknown rule kinds {', '.join(map(str, bad))}: use {', '.join(RULE_KINDS)}.")
    if rules["rule_id"].isna().any():
        rules["rule_id"] = range(1, len(rules) + 1)
    rules["tier_kind"] = [TIER_KINDS[0] if _blank(k) else str(k).strip() for k in rules["tier_kind"]]
    bad = sorted(set(rules["tier_kind"]) - set(TIER_KINDS))
    if bad:
        raise FilterError(f"Unknown tier kinds {', '.join(bad)}: use {', '.join(TIER_KINDS)}.")
    rules["tiers"] = [None if _blank(t) else json.dumps(check_tiers(t)) for t in rules["tiers"]]
    return rules.loc[:, list(RULE_COLUMNS)].astype(object).reset_index(drop=True)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or (isinstance(value, str) and not value.strip())


# Connections whose m_ledger / m_rules are the views of the actual tables, with the rule fingerprint their rule
# structure was bound for: a page's next query on the same connection skips re-creating the same views.
_BOUND_ACTUAL: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, str] = weakref.WeakKeyDictionary()


def bind_cost_inputs(con: duckdb.DuckDBPyConnection, scenario: Scenario | None = None) -> None:
    """Bind m_ledger, m_rules and the rule structure on this connection: the tables, or a scenario's."""
    actual = scenario is None or (scenario.ledger is None and scenario.rules is None)
    if actual and _still_bound(con):
        return
    _BOUND_ACTUAL.pop(con, None)
    if scenario is not None and scenario.ledger is not None:
        con.register("m_ledger_df", scenario_ledger(scenario.ledger))
        con.execute(sql.load("bind_ledger_scenario"))
    else:
        con.execute(sql.load("bind_ledger_actual"))
    con.execute(sql.load("bind_ledger"))
    if scenario is not None and scenario.rules is not None:
        con.register("m_rules_df", scenario_rules(scenario.rules))
        con.execute(sql.load("bind_rules_scenario"))
    else:
        con.execute(sql.load("bind_rules_actual"))
    con.execute(sql.load("bind_rules"))
    key = bind_rule_structure(con)
    if actual:
        _BOUND_ACTUAL[con] = key


# The rule structure (rule_spans.sql) depends on the rules and partners' models only, and the tiered rules'
# monthly rates (tier_rates.sql) on those and fact_partner_days: none on filters. They are computed once per
# distinct input (a fingerprint of rules, models and partner revenue days, so a rule edited inside an open
# transaction, a scenario's rules or a sync get their own entry) and bound to each query as small Arrow tables,
# so the metric queries do not plan the rule chain and the tiers' base again and again.
RULE_STRUCTURE = ("rule_spans", "tier_rates")
RULE_CACHE_SIZE = 32
_RULE_CACHE: dict[str, dict[str, Any]] = {}
_RULE_LOCK = threading.Lock()


def _still_bound(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this connection's views of the actual tables and its rule structure are in place and current.

    The views read the tables live; the rule structure is current while its inputs' fingerprint is the one it was
    bound for (a rule edited or facts rebuilt since, or a rolled-back transaction that dropped the views, means
    binding again).
    """
    bound = _BOUND_ACTUAL.get(con)
    if bound is None:
        return False
    if is_read_only(con):
        return True
    try:
        return con.execute(sql.load("rule_inputs_key")).fetchone()[0] == bound
    except duckdb.CatalogException:
        return False


def bind_rule_structure(con: duckdb.DuckDBPyConnection) -> str:
    """Bind m_rule_spans and m_tier_rates for the rules bound as m_rules (cached by their inputs); return the
    inputs' fingerprint."""
    key = con.execute(sql.load("rule_inputs_key")).fetchone()[0]
    with _RULE_LOCK:
        tables = _RULE_CACHE.get(key)
    if tables is None:
        tables = {name: con.execute(sql.load(name)).to_arrow_table() for name in RULE_STRUCTURE}
        with _RULE_LOCK:
            while len(_RULE_CACHE) >= RULE_CACHE_SIZE:  # oldest first (dicts keep insertion order)
                _RULE_CACHE.pop(next(iter(_RULE_CACHE)))
            _RULE_CACHE[key] = tables
    for name, table in tables.items():
        con.register(f"m_{name}", table)
    return key


def bound_ledger(con: duckdb.DuckDBPyConnection, scenario: Scenario | None = None) -> pd.DataFrame:
    """The ledger metrics use (actual or the scenario's), in the shape a Scenario takes."""
    bind_cost_inputs(con, scenario)
    return con.execute(sql.load("bound_ledger")).df()


def bound_rules(con: duckdb.DuckDBPyConnection, scenario: Scenario | None = None) -> pd.DataFrame:
    """The commission rules metrics use (actual or the scenario's), in the shape a Scenario takes."""
    bind_cost_inputs(con, scenario)
    return con.execute(sql.load("bound_rules")).df()

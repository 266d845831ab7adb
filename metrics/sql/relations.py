"""The named input relations the metric queries read besides the database's tables, and how each is built.

They are temp views / registered tables on the query's connection (the dashboard's connection is read-only), bound
before a query runs, never hidden: `python -m metrics.sql inputs` lists them, docs/sql.md describes them, and
`python -m metrics.sql show NAME --runnable` prints the statements that build them over the actual tables.

* m_ledger_src / m_ledger, m_rules_src / m_rules: views over cost_ledger / commission_rules (or over a what-if
  scenario's DataFrames, registered as m_ledger_df / m_rules_df): metrics.costs.bind_cost_inputs.
* m_rule_spans, m_tier_rates: the results of rule_spans.sql / tier_rates.sql, registered as Arrow tables and
  cached per fingerprint of their inputs (rule_inputs_key.sql): metrics.costs.bind_rule_structure.
* m_close_curve: the result of close_curve.sql, registered likewise per data version: metrics.maturity.bind_curve.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from metrics import sql


@dataclass(frozen=True)
class Relation:
    """One input relation: its name, columns, what a row is, where it comes from and who binds it."""

    name: str
    columns: str
    row: str
    source: str
    bound_by: str
    kind: str  # "view": the statement file creates it; "table": a query whose result is registered under name
    query: str  # the .sql file (without extension) that builds it
    reads: tuple[str, ...] = ()  # the input relations it is built from


RELATIONS: tuple[Relation, ...] = (
    Relation("m_ledger_src", "partner_id, month, category, amount",
             "one cost-ledger row (partner x month x category)",
             "table cost_ledger (bind_ledger_actual.sql); what-if: the scenario's ledger DataFrame registered as "
             "m_ledger_df (bind_ledger_scenario.sql)", "metrics.costs.bind_cost_inputs", "view",
             "bind_ledger_actual"),
    Relation("m_ledger", "partner_id integer, month date (first day), category varchar, amount double",
             "one ledger row, typed, the month truncated to its first day", "m_ledger_src (bind_ledger.sql)",
             "metrics.costs.bind_cost_inputs", "view", "bind_ledger", ("m_ledger_src",)),
    Relation("m_rules_src", "rule_id, model, partner_id, kind, rate, tiers, valid_from, valid_to, tier_kind",
             "one commission rule",
             "table commission_rules (bind_rules_actual.sql); what-if: the scenario's rules DataFrame registered as "
             "m_rules_df (bind_rules_scenario.sql)", "metrics.costs.bind_cost_inputs", "view", "bind_rules_actual"),
    Relation("m_rules", "rule_id, model, partner_id, kind, rate, tiers, tier_kind ('marginal' | 'whole'), "
             "valid_from, valid_to", "one commission rule, typed", "m_rules_src (bind_rules.sql)",
             "metrics.costs.bind_cost_inputs", "view", "bind_rules", ("m_rules_src",)),
    Relation("m_rule_spans", "partner_id, rule_id, kind, rate, span_from, span_to",
             "the days one rule rewards one partner (a partner's own rules in force replace its model's)",
             "rule_spans.sql over m_rules and partners; cached per rule_inputs_key.sql fingerprint",
             "metrics.costs.bind_rule_structure (from bind_cost_inputs)", "table", "rule_spans", ("m_rules",)),
    Relation("m_tier_rates", "partner_id, rule_id, month, base, eff_rate",
             "a tiered percent rule's effective rate for one partner and month (from every won deal of the month)",
             "tier_rates.sql over m_rules, partners and fact_partner_days; cached with m_rule_spans",
             "metrics.costs.bind_rule_structure (from bind_cost_inputs)", "table", "tier_rates", ("m_rules",)),
    Relation("m_close_curve", "pipeline_id (null = all pipelines), day, share, deals, as_of",
             "the share of won deals closing within `day` days of creation",
             "close_curve.sql over fact_won_deals and fact_lead_days_partner; cached per close_curve_key.sql "
             "fingerprint", "metrics.maturity.bind_curve", "table", "close_curve"),
)
BY_NAME = {r.name: r for r in RELATIONS}
_NAME = re.compile(r"\bm_[a-z_]+\b")


def read_by(text: str) -> tuple[Relation, ...]:
    """The input relations a query text reads, with those they are built from, in binding order."""
    code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    wanted = {name for name in _NAME.findall(code) if name in BY_NAME}
    for rel in reversed(RELATIONS):  # a relation's sources come before it
        if rel.name in wanted:
            wanted.update(rel.reads)
    return tuple(r for r in RELATIONS if r.name in wanted)


def statement(rel: Relation) -> str:
    """The SQL statement that builds rel over the actual tables, as the engine binds it (no parameters)."""
    text = sql.load(rel.query).rstrip()
    if rel.kind == "view":
        return text + "\n;"
    return f"create or replace temp table {rel.name} as\n{text}\n;"

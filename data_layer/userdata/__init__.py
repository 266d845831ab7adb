"""User data on an open connection: partners, cost ledger, commission rules, settings, what-if scenarios.

Every function takes a DuckDB connection and does one small unit of work. Writes validate everything first
and raise `UserDataError` (a ValueError) listing every problem as a sentence in Russian and English; nothing
is written when validation fails. Callers own the transaction (``ui.writes.write`` or the CLI); functions that
write several statements wrap them in `atomic`, which starts a transaction only when none is open.

Import from here (``from data_layer.userdata import ...``); the modules behind it:
messages (every sentence), errors (Problem, UserDataError), transaction (atomic, audit, ACTOR), parse (values),
partners, ledger, rules, settings, scenarios, scenario_math (what-if maths on frames), events (chart events).
"""

from __future__ import annotations

from data_layer.userdata.errors import Problem, UserDataError, fail
from data_layer.userdata.events import EVENT_COLUMNS, SCOPES, add_event, delete_event, list_events
from data_layer.userdata.ledger import (
    LEDGER_COLUMNS,
    delete_ledger,
    insert_ledger,
    read_ledger,
    replace_ledger,
    upsert_ledger,
    validate_ledger,
)
from data_layer.userdata.messages import MESSAGES, extended
from data_layer.userdata.parse import (
    CATEGORIES,
    CATEGORY_LABELS,
    MAX_AMOUNT,
    MAX_NAME,
    MODELS,
    is_blank,
    norm_name,
    to_amount,
    to_category,
    to_date,
    to_model,
    to_month,
)
from data_layer.userdata.partners import (
    PARTNER_COLUMNS,
    add_partner,
    find_partner,
    list_partners,
    partner_keys,
    save_partners,
    update_partner,
)
from data_layer.userdata.rules import (
    KINDS,
    RULE_COLUMNS,
    TIER_KINDS,
    add_rule,
    delete_rule,
    insert_rules,
    list_rules,
    parse_tiers,
    replace_rules,
    tier_kind_of,
    tiers_json,
    update_rule,
    validate_rules,
)
from data_layer.userdata.scenario_math import (
    RULE_EDIT_COLUMNS,
    SCENARIO_LEDGER_COLUMNS,
    combine_overrides,
    ledger_for_totals,
    merge_ledger,
    period_totals,
    rules_from_percent,
    rules_in_percent,
    same_rules,
    set_percent_rate,
)
from data_layer.userdata.scenarios import (
    ScenarioInputs,
    apply_scenario,
    check_scenario,
    delete_scenario,
    list_scenarios,
    load_scenario,
    save_scenario,
)
from data_layer.userdata.settings import check_margin, get_margin, get_setting, set_margin, set_setting
from data_layer.userdata.transaction import ACTOR, atomic, audit

__all__ = [
    "ACTOR", "CATEGORIES", "CATEGORY_LABELS", "KINDS", "LEDGER_COLUMNS", "MAX_AMOUNT", "MAX_NAME", "MESSAGES",
    "MODELS", "PARTNER_COLUMNS", "RULE_COLUMNS", "RULE_EDIT_COLUMNS", "SCENARIO_LEDGER_COLUMNS", "TIER_KINDS",
    "Problem", "ScenarioInputs", "UserDataError", "add_partner", "add_rule", "apply_scenario", "atomic",
    "audit", "check_margin", "check_scenario", "combine_overrides", "delete_ledger", "delete_rule",
    "delete_scenario", "extended", "fail", "find_partner", "get_margin", "get_setting", "insert_ledger", "insert_rules",
    "is_blank", "ledger_for_totals", "list_partners", "list_rules", "list_scenarios", "load_scenario",
    "merge_ledger", "norm_name", "parse_tiers", "partner_keys", "period_totals", "read_ledger",
    "replace_ledger", "replace_rules", "rules_from_percent", "rules_in_percent", "same_rules",
    "save_partners", "save_scenario", "set_margin", "set_percent_rate", "set_setting", "tier_kind_of",
    "tiers_json", "to_amount", "to_category", "to_date", "to_model", "to_month", "update_partner",
    "update_rule", "upsert_ledger", "validate_ledger", "validate_rules",
]
__all__ += ["EVENT_COLUMNS", "SCOPES", "add_event", "delete_event", "list_events"]

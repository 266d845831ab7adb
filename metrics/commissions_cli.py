"""`python -m metrics commissions --db PATH --from YYYY-MM-DD --to YYYY-MM-DD [--partner NAME ...] [--view
cohort|close] [--format json|csv|table]`: how the computed commissions came about, one row per partner × rule that
rewarded something in the period (engine.commission_details), with the rule's tier kind."""

from __future__ import annotations

import argparse
from typing import Any

from data_layer import store
from metrics import engine
from metrics.filters import Filters

FIELDS = ("partner", "model", "rule_id", "rule_scope", "kind", "rate", "tiers", "tier_kind", "valid_from",
          "valid_to", "events", "revenue", "base", "effective_rate", "amount", "first_month", "last_month")


def add_parser(sub: Any, date_type: Any) -> None:
    """The `commissions` subcommand (sub: argparse subparsers; date_type: the CLI's date parser)."""
    p = sub.add_parser(
        "commissions", help="Computed commissions per partner and rule, with how tiers applied.",
        description="Computed commissions per partner and commission rule for a period: the rule (kind, rate, "
                    "tiers and tier_kind: marginal = each band's rate on the revenue inside it, whole = the highest "
                    "band reached on the whole month's revenue), its events, revenue, effective rate and amount.")
    p.add_argument("--db", required=True, help="DuckDB file (e.g. cache/partner_roi.duckdb)")
    p.add_argument("--from", dest="date_from", required=True, type=date_type, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", required=True, type=date_type, help="last day (inclusive), YYYY-MM-DD")
    p.add_argument("--partner", action="append", default=[], help="partner name (repeatable)")
    p.add_argument("--view", default="cohort", choices=("cohort", "close"))
    p.add_argument("--format", default="table", choices=("json", "csv", "table"))


def rows(args: argparse.Namespace, partner_ids: Any, clean: Any) -> list[dict[str, Any]]:
    """The commission rows the arguments ask for (partner_ids, clean: the CLI's name resolver and JSON cleaner)."""
    store.upgrade(args.db)  # a database of an older version gets tier_kind first
    with store.connect(args.db, read_only=True) as con:
        f = Filters(args.date_from, args.date_to, partners=partner_ids(con, args.partner), view=args.view)
        df = engine.commission_details(con, f)
    return [{k: clean(r.get(k)) for k in FIELDS} for r in df.to_dict("records")]

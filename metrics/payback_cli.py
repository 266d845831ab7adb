"""`python -m metrics payback [--model M | --partner NAME|ID] [--curve] [--format json|csv|table]`: payback month
of acquisition cohorts (leads by the month they were created), one row per cohort, or the month-by-month curve."""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from data_layer import store
from metrics import payback
from metrics.filters import Filters

MONTH_FIELDS = ("model", "cohort", "age", "leads", "won_leads", "cum_income", "cum_costs", "cumulative",
                "payback_month", "status")
CURVE_FIELDS = ("model", "cohort", "m", "income", "commission", "ledger", "costs", "cumulative")


def add_parser(sub: Any, date_type: Any) -> None:
    """The `payback` subcommand of the metrics CLI (sub: argparse subparsers; date_type: the CLI's date parser)."""
    p = sub.add_parser(
        "payback", help="Payback month of acquisition cohorts of a model or one partner.",
        description="Payback month of acquisition cohorts: the leads of every partnership model (or of one model, "
                    "or one partner) created in each month of the period's last 12 months, with the first month "
                    "since acquisition whose cumulative income minus costs (commissions by the rules and the cohort "
                    "month's ledger) is >= 0; status paid_back, not_yet, too_young or no_costs (see docs/metrics.md).")
    p.add_argument("--db", required=True, help="DuckDB file (e.g. cache/partner_roi.duckdb)")
    p.add_argument("--from", dest="date_from", type=date_type, help="first day, YYYY-MM-DD (default: 11 months "
                   "before the data's as-of month)")
    p.add_argument("--to", dest="date_to", type=date_type, help="last day, YYYY-MM-DD (default: the data's as-of "
                   "day, its latest lead or deal close)")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--model", choices=payback.PARTNER_MODELS, help="one partnership model (default: every model)")
    who.add_argument("--partner", help="one partner, by name, alias or id")
    p.add_argument("--curve", action="store_true", help="print cumulative income − costs per cohort and month since "
                   "acquisition instead of one row per cohort")
    p.add_argument("--format", default="table", choices=("json", "csv", "table"))


def _period(con: Any, args: argparse.Namespace) -> Filters | None:
    """The period the arguments name, defaulting to the 12 months up to the data's as-of day."""
    as_of = payback.as_of_date(con)
    if as_of is None:
        return None
    end = args.date_to or as_of
    start = args.date_from or payback.months_back(end, payback.COHORTS - 1)
    return Filters(start, end)


def partner_id(con: Any, text: str, by_name: Any) -> int:
    """A partner's id from its id or its name / alias (by_name: the CLI's resolver, raising its error)."""
    if text.strip().isdigit():
        pid = int(text)
        if con.execute("select count(*) from partners where partner_id = ?", [pid]).fetchone()[0]:
            return pid
    return by_name(con, [text])[0]


def _cell(value: Any, key: str) -> Any:
    """A value as the CLI prints it: cohorts as YYYY-MM, missing payback months as None."""
    if key == "cohort":
        return value.strftime("%Y-%m")
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    return value


def rows(args: argparse.Namespace, by_name: Any, clean: Any) -> list[dict[str, Any]]:
    """The rows `payback` prints (by_name: the CLI's partner resolver; clean: its JSON-safe scalar)."""
    store.upgrade(args.db)  # a database of an older version gets its missing tables first
    with store.connect(args.db, read_only=True) as con:
        f = _period(con, args)
        if f is None:
            return []
        pid = partner_id(con, args.partner, by_name) if args.partner else None
        curve, months = payback.payback(con, f, model=args.model, partner_id=pid)
    frame, fields = (curve, CURVE_FIELDS) if args.curve else (months, MONTH_FIELDS)
    return [{k: clean(_cell(r[k], k)) for k in fields} for r in frame.to_dict("records")]

"""`python -m metrics deals --partner NAME|ID|direct [--from --to] [--status won|lost|open|all|...] [--view]
[--format json|csv|table]`: the leads / deals behind a partner's numbers (metrics.drill), one row each."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

import pandas as pd

from data_layer import crm_links, store
from metrics import drill, payback, payback_cli
from metrics.filters import Filters

# the keys of one row, in order (docs/metrics.md lists them from this parser's description)
FIELDS = ("lead_id", "name", "status", "stage", "pipeline", "amount", "created", "closed", "partner", "partner_id",
          "model", "client", "commission", "preexisting", "url")
DESCRIPTION = (
    "The leads or deals behind a partner's numbers, for a period: with --status won (the default) the won deals "
    "the `won_deals` and `revenue` figures count, leads every lead of the period (`leads`), qualified / lost / "
    "open those leads in that state, all both. One row per lead, newest first, with the keys " + ", ".join(FIELDS)
    + ": status is won, lost or open; created / closed are dates (YYYY-MM-DD, the account's time zone); amount the "
    "deal's amount; commission what the commission rules give for it; preexisting true when the client was ours "
    "already (an open, won or direct lead within preexisting_window_days before: credited, not incremental; "
    "--pre-existing lists only those); url the amoCRM card "
    "(<base>/leads/detail/<id>) when the database is synced from a real account, else null (the demo).")


def add_parser(sub: Any, date_type: Any) -> None:
    """The `deals` subcommand (sub: argparse subparsers; date_type: the CLI's date parser)."""
    p = sub.add_parser("deals", help="The leads / deals behind a partner's numbers.", description=DESCRIPTION)
    p.add_argument("--db", default=str(store.DEFAULT_DB), help=f"DuckDB file (default {store.DEFAULT_DB})")
    p.add_argument("--partner", required=True, help="partner name, alias or id; `direct` for the leads without one")
    p.add_argument("--from", dest="date_from", type=date_type, help="first day, YYYY-MM-DD (default: January 1 of "
                   "--to's year)")
    p.add_argument("--to", dest="date_to", type=date_type, help="last day (inclusive), YYYY-MM-DD (default: the "
                   "data's as-of day, its latest lead or deal close)")
    p.add_argument("--status", default="won", choices=tuple(drill.STATUSES))
    p.add_argument("--pre-existing", dest="pre_existing", action="store_true",
                   help="only the deals of clients who were ours already (credited to the partner, not incremental)")
    p.add_argument("--view", default="cohort", choices=("cohort", "close"))
    p.add_argument("--format", default="table", choices=("json", "csv", "table"))


def _period(con: Any, args: argparse.Namespace) -> Filters:
    """The period the arguments name; the default ends on the data's as-of day (today without data)."""
    end = args.date_to or payback.as_of_date(con) or date.today()
    return Filters(args.date_from or date(end.year, 1, 1), end, view=args.view)


def rows(args: argparse.Namespace, by_name: Any, clean: Any) -> list[dict[str, Any]]:
    """The rows `deals` prints (by_name: the CLI's partner resolver; clean: its JSON-safe scalar)."""
    store.upgrade(args.db)  # a database of an older version gets its missing tables first
    with store.connect(args.db, read_only=True) as con:
        f = _period(con, args)
        who = drill.DIRECT if args.partner.strip().lower() == drill.DIRECT \
            else payback_cli.partner_id(con, args.partner, by_name)
        found = drill.deal_list(con, drill.narrow(f, partner=who, status=args.status,
                                                          pre_existing=True if args.pre_existing else None))
        base = crm_links.account_base(con)
    out = []
    for r in found.to_dict("records"):
        rec = {"lead_id": r["lead_id"], "name": r["lead_name"], "status": drill.state(r["is_won"], r["is_lost"]), "stage": r["stage"],
               "pipeline": r["pipeline"], "amount": r["amount"], "created": r["created_date"],
               "closed": r["closed_date"], "partner": r["partner"], "partner_id": r["partner_id"],
               "model": r["model"], "client": r["client"], "commission": r["commission"],
               "preexisting": bool(r["preexisting"]), "url": crm_links.lead_url(base, r["lead_id"])}
        out.append({k: clean(_day(v)) for k, v in rec.items()})
    return out



def _day(value: Any) -> Any:
    """A timestamp as its date (the list's dates are days)."""
    return value.date() if isinstance(value, pd.Timestamp) else value

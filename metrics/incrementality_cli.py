"""`python -m metrics incrementality [--by partner|model] [--from --to] [--format json|csv|table]`: credited and
incremental revenue and ROI (with their 95 % intervals) per partner or model, and the pre-existing share."""

from __future__ import annotations

import argparse
from typing import Any

from data_layer import store
from metrics import incrementality, payback
from metrics.filters import Filters


def add_parser(sub: Any, date_type: Any) -> None:
    """The `incrementality` subcommand of the metrics CLI (sub: argparse subparsers; date_type: its date parser)."""
    p = sub.add_parser(
        "incrementality", help="Credited vs incremental revenue and ROI per partner or model.",
        description="Credited and incremental figures per partner (direct last) or model: a partner's won deal "
                    "whose client had an open, won or direct lead in the 180 days (setting preexisting_window_days) "
                    "before the partner's lead is credited but not incremental (see docs/metrics.md). Keys "
                    "(JSON / CSV / table): partner_id, partner, model (--by partner) or model (--by model); "
                    f"{', '.join(incrementality.COLUMNS)}. preexisting_share = pre-existing deals' revenue / "
                    "revenue; incremental_roi = (income of the deals not pre-existing - costs) / costs, costs with "
                    "the commissions of every deal; *_low / *_high: the 95 % bootstrap interval of ROI's rule; "
                    "incremental_loss: incremental_roi < 0 while roi > 0.")
    p.add_argument("--db", required=True, help="DuckDB file (e.g. cache/partner_roi.duckdb)")
    p.add_argument("--from", dest="date_from", type=date_type, help="first day, YYYY-MM-DD (default: 12 months "
                   "before --to)")
    p.add_argument("--to", dest="date_to", type=date_type, help="last day, YYYY-MM-DD (default: the data's as-of "
                   "day, its latest lead or deal close)")
    p.add_argument("--by", default="partner", choices=incrementality.BY)
    p.add_argument("--view", default="cohort", choices=("cohort", "close"))
    p.add_argument("--format", default="table", choices=("json", "csv", "table"))


def _period(con: Any, args: argparse.Namespace) -> Filters | None:
    """The period the arguments name; by default the 12 months up to the data's as-of day."""
    end = args.date_to or payback.as_of_date(con)
    if end is None:
        return None
    start = args.date_from or payback.months_back(end, 11)
    return Filters(start, end, view=args.view)


def rows(args: argparse.Namespace, clean: Any) -> list[dict[str, Any]]:
    """The rows `incrementality` prints (clean: the CLI's JSON-safe scalar): the group's keys, then COLUMNS."""
    store.upgrade(args.db)  # a database of an older version gets its missing tables first
    with store.connect(args.db, read_only=True) as con:
        f = _period(con, args)
        if f is None:
            return []
        df = incrementality.incrementality(con, f, by=args.by)
    keys = ["partner_id", "partner", "model"] if args.by == "partner" else ["model"]
    return [{k: clean(r[k]) for k in (*keys, *incrementality.COLUMNS)} for r in df.to_dict("records")]

"""`python -m data_layer demo`: its options and the one summary line it prints."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from data_layer import store
from data_layer.demo.later import add_history
from data_layer.demo.load import load_demo
from data_layer.sync import after


def _date_arg(text: str) -> date:
    """argparse type for YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _positive(text: str) -> int:
    """argparse type for a positive integer."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `python -m data_layer demo`."""
    parser.add_argument("--db", type=Path, default=store.DEFAULT_DB, help="database file (rebuilt from scratch)")
    parser.add_argument("--leads", type=_positive, default=20000, help="number of leads (default 20000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--end-date", type=_date_arg, default=None,
                        help="last day of the data, YYYY-MM-DD (default today)")


def run(args: argparse.Namespace) -> int:
    """Build the demo database, add its payout history (unless after-sync steps are off), print one summary line."""
    result = load_demo(args.db, n_leads=args.leads, seed=args.seed, end_date=args.end_date)
    history = ""
    if after.enabled():
        started = time.perf_counter()
        for line in add_history(args.db):
            print(line, file=sys.stderr)
        history = f" + payout history {time.perf_counter() - started:.1f} s"
    print(f"demo: {result['leads']} leads, {result['partners']} partners, {result['seconds']:.1f} s "
          f"({result['mode']}){history} -> {result['path']}")
    return 0

"""`python -m programme clawbacks [--db FILE] [--after-sync] [--dry-run]`: reverse the commission of accrued
deals that left "won", were deleted or lost price; one line per reversal (and per re-accrual), then a summary.

Exit codes: 0 done (nothing to do included); 1 the database cannot be used (one sentence on stderr).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import duckdb

from data_layer import store
from programme import clawbacks

TEXT = {
    "ru": {"no_db": "Базы данных {path} нет: укажите файл базы в --db.",
           "summary": "Сторно: {rev}, повторных начислений: {acc}{dry}.", "dry": " (пробный запуск, ничего не записано)",
           "failed": "Сторно не выполнено — база {path} недоступна: {detail}"},
    "en": {"no_db": "There is no database file {path}: give the database file in --db.",
           "summary": "Clawbacks: {rev} reversals, {acc} accruals{dry}.", "dry": " (dry run: nothing written)",
           "failed": "Clawbacks were not run: the database {path} cannot be used: {detail}"},
}


def parser() -> argparse.ArgumentParser:
    """The command line: one sub-command, clawbacks."""
    p = argparse.ArgumentParser(prog="python -m programme", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("clawbacks", help="Reverse commission of accrued deals that changed since accrual.")
    c.add_argument("--db", type=Path, default=None,
                   help="database file (default PARTNER_ROI_DB or cache/partner_roi.duckdb)")
    c.add_argument("--after-sync", action="store_true", help="started by a sync (data_layer.sync.after)")
    c.add_argument("--dry-run", action="store_true", help="print what would be written, write nothing")
    c.add_argument("--lang", choices=("ru", "en"), default="en", help="message language (default en)")
    return p


def clawbacks_command(args: argparse.Namespace) -> int:
    """Run the clawback step once against args.db (in one transaction; rolled back on --dry-run)."""
    path = path_of(args)
    if not path.is_file():
        print(TEXT[args.lang]["no_db"].format(path=path), file=sys.stderr)
        return 1
    store.upgrade(path)
    with store.connect(path) as con:
        con.execute("begin")
        done = clawbacks.run(con)
        con.execute("rollback" if args.dry_run else "commit")
    if done and not args.dry_run:
        store.bump_version(path)
    for ch in done:
        print(clawbacks.change_line(ch))
    rev = sum(1 for ch in done if ch.reason)
    dry = TEXT[args.lang]["dry"] if args.dry_run else ""
    print(TEXT[args.lang]["summary"].format(rev=rev, acc=len(done) - rev, dry=dry))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse and run; a file that is not a database is one sentence and exit 1."""
    args = parser().parse_args(argv)
    try:
        return clawbacks_command(args)
    except store.DamagedDatabase as exc:
        print(exc.text(args.lang), file=sys.stderr)
        return 1
    except duckdb.Error as exc:  # e.g. a file locked by a writer for longer than store.connect waits
        detail = (str(exc).splitlines() or [""])[0]
        print(TEXT[args.lang]["failed"].format(path=path_of(args), detail=detail), file=sys.stderr)
        return 1


def path_of(args: argparse.Namespace) -> Path:
    """The database path the command uses."""
    return Path(args.db or os.environ.get("PARTNER_ROI_DB") or store.DEFAULT_DB)


if __name__ == "__main__":
    sys.exit(main())

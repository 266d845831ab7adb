"""`python -m programme clawbacks [--db FILE] [--after-sync] [--dry-run]`: reverse the commission of accrued
deals that left "won", were deleted or lost price; one line per reversal (and per re-accrual), then a summary.
`python -m programme demo-history [--db FILE]`: a demo database's payout history (programme.demo_history),
its later deal changes (data_layer.demo.later) and their clawbacks.

Exit codes: 0 done (nothing to do included); 1 the database cannot be used (one sentence on stderr).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import duckdb

from data_layer import store
from data_layer.demo import later
from programme import clawbacks, demo_history

TEXT = {
    "ru": {"no_db": "Базы данных {path} нет: укажите файл базы в --db.",
           "summary": "Сторно: {rev}, повторных начислений: {acc}{dry}.", "dry": " (пробный запуск, ничего не записано)",
           "failed": "Сторно не выполнено — база {path} недоступна: {detail}",
           "not_demo": "{path} — не демо-база: историю выплат создаёт только `python -m data_layer demo`.",
           "history": "Демо-история выплат: месяцы {months}, строк {lines}, утверждено {approved}, выплачено {paid}; "
                      "изменённых сделок {changed}, сторно {rev}.",
           "history_kept": "Демо-история выплат уже есть — ничего не записано."},
    "en": {"no_db": "There is no database file {path}: give the database file in --db.",
           "summary": "Clawbacks: {rev} reversals, {acc} accruals{dry}.", "dry": " (dry run: nothing written)",
           "failed": "Clawbacks were not run: the database {path} cannot be used: {detail}",
           "not_demo": "{path} is not a demo database: only `python -m data_layer demo` gets a payout history.",
           "history": "Demo payout history: months {months}, {lines} lines, {approved} approved, {paid} paid; "
                      "{changed} deals changed later, {rev} reversals.",
           "history_kept": "The demo payout history is already there: nothing written."},
}


def parser() -> argparse.ArgumentParser:
    """The command line: sub-commands clawbacks and demo-history."""
    p = argparse.ArgumentParser(prog="python -m programme", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("clawbacks", help="Reverse commission of accrued deals that changed since accrual.")
    c.add_argument("--db", type=Path, default=None,
                   help="database file (default PARTNER_ROI_DB or cache/partner_roi.duckdb)")
    c.add_argument("--after-sync", action="store_true", help="started by a sync (data_layer.sync.after)")
    c.add_argument("--dry-run", action="store_true", help="print what would be written, write nothing")
    c.add_argument("--lang", choices=("ru", "en"), default="en", help="message language (default en)")
    h = sub.add_parser("demo-history", help="Accrue, approve and pay a demo database's last finished months.")
    h.add_argument("--db", type=Path, default=None,
                   help="database file (default PARTNER_ROI_DB or cache/partner_roi.duckdb)")
    h.add_argument("--after-sync", action="store_true", help="started by the demo build (data_layer.sync.after)")
    h.add_argument("--lang", choices=("ru", "en"), default="en", help="message language (default en)")
    return p


def demo_history_command(args: argparse.Namespace) -> int:
    """The demo's payout history, then its later deal changes and the clawback step, in one process (each
    once); a file that is not a demo database is one sentence and exit 1."""
    path, text = path_of(args), TEXT[args.lang]
    if not path.is_file():
        print(text["no_db"].format(path=path), file=sys.stderr)
        return 1
    store.upgrade(path)
    with store.connect(path) as con:
        try:
            done = demo_history.run(con)
        except demo_history.NotDemo:
            print(text["not_demo"].format(path=path), file=sys.stderr)
            return 1
    changed = later.apply_later_changes(path)  # commits and rebuilds derived facts itself
    with store.connect(path) as con:
        con.execute("begin")
        reversals = clawbacks.run(con)
        con.execute("commit")
    if not (done.lines or changed or reversals):
        print(text["history_kept"])
        return 0
    store.bump_version(path)
    months = ", ".join(f"{m:%Y-%m}" for m in done.months)
    print(text["history"].format(months=months, lines=done.lines, approved=done.approved, paid=done.paid,
                                 changed=len(changed), rev=sum(1 for ch in reversals if ch.reason)))
    return 0


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
        return demo_history_command(args) if args.command == "demo-history" else clawbacks_command(args)
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

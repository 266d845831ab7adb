"""`python -m metrics.sql list | inputs [NAME] | show NAME [...]`: the metric SQL as the pages run it.

* ``list``: every query with a one-line description.
* ``inputs [NAME]``: the named input relations (m_ledger, m_rules, m_rule_spans, ...): what each is, where it
  comes from, who binds it; with NAME only those that query reads.
* ``show NAME [--by ...] [--from YYYY-MM-DD --to YYYY-MM-DD] [--partner ID ...] [--model M ...] [--pipeline ID ...]
  [--source S ...] [--close-view] [--db PATH] [--runnable]``: runs the engine call of a page on the database with
  those filters, recording what it executes (metrics.query.recording: the same render path, not a copy), and
  prints the rendered SQL, its template inputs and its bound parameters. ``--runnable`` prints a script for the
  ``duckdb`` CLI on the database file instead: the cost-input statements, then PREPARE of the query and EXECUTE
  with the values (literals only in that EXECUTE, never in the query text).

Errors (unknown query, grouping or input, a bad date, a missing database) are one sentence on stderr and exit
code 2.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import duckdb

from data_layer import store
from metrics import drill, engine, maturity, payback, query, sql
from metrics.filters import FilterError, Filters
from metrics.sql import relations

PageCall = Callable[[duckdb.DuckDBPyConnection, Filters, str | None], Any]


def _one(values: tuple[Any, ...]) -> Any:
    return values[0] if values else None


def _maturity(con: duckdb.DuckDBPyConnection, f: Filters, by: str | None) -> Any:
    dims = query.frame_dims(by or "none")
    part = engine.grouped(con, f, dims)
    # the tests' reference path: the shortfalls from maturity.sql instead of the young leads in memory
    return maturity.annotate(con, [(f, dims)], [part], maturity.direct_shortfalls)


# The engine call behind each metric query a page runs (by: None when the query does not group).
PAGE_CALLS: dict[str, tuple[bool, PageCall]] = {
    "kpis": (True, lambda con, f, by: engine.kpis(con, f, by or "none")),
    "monthly": (True, lambda con, f, by: engine.monthly(con, f, by or "none")),
    "roi_units": (True, lambda con, f, by: engine.roi_interval(con, f, by or "partner")),
    "quality": (True, lambda con, f, by: engine.quality(con, f, by or "partner")),
    "maturity": (True, _maturity),
    "funnel": (False, lambda con, f, by: engine.funnel(con, f)),
    "partner_vs_direct": (False, lambda con, f, by: engine.partner_vs_direct(con, f)),
    "deals": (False, lambda con, f, by: engine.deals(con, f, _one(f.partners))),
    "deal_list": (False, lambda con, f, by: drill.deal_list(con, drill.narrow(f, status="leads"))),
    "commission_details": (False, lambda con, f, by: engine.commission_details(con, f)),
    "revenue_total": (False, lambda con, f, by: engine.revenue_total(con, f)),
    "payback": (False, lambda con, f, by: payback.curves(con, f, _one(f.models), _one(f.partners))),
}


class UsageError(Exception):
    """A user error: the message is printed as is."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message[0].upper()}{message[1:]} (see python -m metrics.sql --help).")


def build_parser() -> argparse.ArgumentParser:
    """The command line: list, inputs, show."""
    p = _Parser(prog="python -m metrics.sql", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    sub.add_parser("list", help="every query with a one-line description")
    i = sub.add_parser("inputs", help="the named input relations (all, or those query NAME reads)")
    i.add_argument("name", nargs="?")
    s = sub.add_parser("show", help="the SQL a page runs for these filters, with its parameters")
    s.add_argument("name")
    s.add_argument("--by", help=f"grouping: {', '.join(query.BY_CHOICES)} (queries that group)")
    s.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD (default: January 1 of --to's year)")
    s.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD (default: the data's last day)")
    s.add_argument("--partner", action="append", default=[], type=int, help="partner id (repeatable)")
    s.add_argument("--model", action="append", default=[], help="partnership model (repeatable)")
    s.add_argument("--pipeline", action="append", default=[], type=int, help="pipeline id (repeatable)")
    s.add_argument("--source", action="append", default=[], help="UTM source or amoCRM source (repeatable)")
    s.add_argument("--close-view", action="store_true", help="the close-date view (default: cohort)")
    s.add_argument("--db", type=Path, default=store.DEFAULT_DB, help=f"DuckDB file (default {store.DEFAULT_DB})")
    s.add_argument("--runnable", action="store_true", help="a script for the duckdb CLI, values bound by EXECUTE")
    return p


def _date(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a date: write it as YYYY-MM-DD.") from None


def _known(name: str) -> str:
    if name not in sql.names():
        raise UsageError(f"Unknown query {name!r}: `python -m metrics.sql list` names them.")
    return name


def run_list() -> str:
    """Each query with the first sentence of its header comment."""
    width = max(map(len, sql.names()))
    lines = []
    for name in sql.names():
        text = sql.description(name)
        first = text.split(". ")[0].rstrip(".")
        lines.append(f"{name:<{width}}  {first[:110] + '…' if len(first) > 110 else first}")
    return "\n".join(lines)


def run_inputs(name: str | None) -> str:
    """The input relations (those query `name` reads, with name), one paragraph each."""
    rels = relations.RELATIONS
    if name is not None:
        _known(name)
        rels = relations.read_by(sql.render(name, sql.full_inputs(name)))
        if not rels:
            return f"{name} reads no input relation, only the database's tables."
    return "\n\n".join(f"{r.name}: {r.row}.\n  columns:  {r.columns}\n  source:   {r.source}\n"
                       f"  bound by: {r.bound_by}" for r in rels)


def _filters(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> Filters:
    date_to = _date(args.date_to, "--to") or payback.as_of_date(con) or date.today()
    date_from = _date(args.date_from, "--from") or date(date_to.year, 1, 1)
    return Filters(date_from, date_to, tuple(args.partner), tuple(args.model), tuple(args.pipeline),
                   tuple(args.source), "close" if args.close_view else "cohort")


def recorded(con: duckdb.DuckDBPyConnection, name: str, f: Filters, by: str | None) -> list[query.Prepared]:
    """The queries `name` the page's engine call runs for f grouped by `by` (recorded as executed)."""
    groups, call = PAGE_CALLS[name]
    if by is not None and not groups:
        raise UsageError(f"{name} does not group: drop --by.")
    if by is not None and by not in query.BY_CHOICES:
        raise UsageError(f"Unknown grouping {by!r}: use one of {', '.join(query.BY_CHOICES)}.")
    with query.recording() as ran:
        call(con, f, by)
    return [q for q in ran if q.name == name]


def literal(value: Any) -> str:
    """A parameter value as a DuckDB SQL literal (only for the printed EXECUTE)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):  # through text: the exact double, inf and nan included
        return f"cast('{value!r}' as double)" if math.isfinite(value) else f"cast('{value}' as double)"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(str(k))}: {literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def _inputs_line(q: query.Prepared) -> str:
    parts = []
    for key, value in sql.check_inputs(q.inputs):
        if isinstance(value, tuple) and value and isinstance(value[0], tuple):
            value = "{" + ", ".join(f"{k}: {v}" for k, v in value) + "}"
        elif isinstance(value, tuple):
            value = ", ".join(value)
        parts.append(f"{key}={str(value).lower() if isinstance(value, bool) else value}")
    return "-- template inputs: " + "; ".join(parts)


def shown(q: query.Prepared) -> str:
    """The rendered text, its template inputs and its bound parameters (as comments)."""
    params = [f"--   ${k} = {literal(v)}" for k, v in sorted(q.params.items())]
    return "\n".join([_inputs_line(q), q.text.rstrip(), "-- bound parameters:", *(params or ["--   (none)"])])


def runnable(q: query.Prepared, db: Path) -> str:
    """A script for `duckdb -readonly DB`: the cost inputs the query reads, then PREPARE and EXECUTE."""
    rels = relations.read_by(q.text)
    head = [f"-- {q.name} as a page runs it; paste into: duckdb -readonly {db}", _inputs_line(q)]
    if rels:
        head.append("-- Input relations (docs/sql.md), built over the actual tables as the engine binds them:")
    body = [f"-- {r.name}: {r.row} ({r.bound_by})\n{relations.statement(r)}" for r in rels]
    args = ", ".join(f"{k} := {literal(v)}" for k, v in sorted(q.params.items()))
    tail = [f"-- The query; its values are bound by EXECUTE, never written into its text.\nprepare {q.name} as\n"
            f"{q.text.rstrip()}\n;", f"execute {q.name}({args});" if args else f"execute {q.name};"]
    return "\n".join(head) + "\n" + "\n".join([*body, *tail]) + "\n"


def run_show(args: argparse.Namespace) -> str:
    """The show command's output."""
    name = _known(args.name)
    if name not in PAGE_CALLS:
        return _fixed(name, args)
    if not args.db.exists():
        raise UsageError(f"Database {args.db} does not exist: run `make run` or `python -m data_layer demo`.")
    with store.connect(args.db, read_only=True) as con:
        f = _filters(args, con)
        found = recorded(con, name, f, args.by)
    if not found:
        return f"-- {name}: the page runs no such query for these filters (e.g. a period with no young cohort)."
    pick = (lambda q: runnable(q, args.db)) if args.runnable else shown
    return "\n\n".join(pick(q) for q in found)


def _fixed(name: str, args: argparse.Namespace) -> str:
    """A query with no template inputs: its text as written, and who binds its parameters."""
    try:
        text = sql.load(name)
    except sql.TemplateInputError:
        raise UsageError(f"{name} is not run by a page on its own: see the query it is part of.") from None
    names = sorted(sql.param_names(text))
    if args.runnable and names:
        raise UsageError(f"{name}'s parameters ({', '.join(names)}) are bound by its caller in metrics: "
                         "show prints it, --runnable only the page queries.")
    if args.runnable:
        return runnable(query.Prepared(name, {}, text, {}), args.db)
    note = f"-- parameters, bound by the caller: {', '.join('$' + n for n in names)}" if names \
        else "-- no parameters"
    return f"{text.rstrip()}\n{note}"


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
        if args.cmd == "list":
            out = run_list()
        elif args.cmd == "inputs":
            out = run_inputs(args.name)
        else:
            out = run_show(args)
    except (UsageError, FilterError, sql.TemplateInputError, store.StoreError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

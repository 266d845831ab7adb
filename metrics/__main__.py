"""`python -m metrics kpis --db PATH --from YYYY-MM-DD --to YYYY-MM-DD [...]`: KPIs as JSON, CSV or a table.

Errors (unknown partner or model, a bad or reversed date, a missing database) are one sentence on stderr
and exit code 2; nothing is printed on stdout then.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd

from data_layer import store
from data_layer.textguard import neutralise
from metrics import commissions_cli, deals_cli, engine, incrementality_cli, leaderboard, payback_cli, pooling
from metrics.filters import ALL_MODELS, FilterError, Filters

BY = ("none", "partner", "model", "month", "week", "quarter", "pipeline", "source")
FIELDS = ("leads", "qualified_leads", "won_deals", "conversion", "conversion_low", "conversion_high", "revenue",
          "avg_check", "revenue_share", "costs", "income", "profit", "roi", "roi_band", "new_clients", "cpa", "ltv",
          "time_to_close_days",
          # metrics.maturity: a cohort-view period whose deals are still closing, its projection at maturity (80 %)
          "maturity", "maturing", "incomplete", "projected_won_deals", "projected_won_deals_low",
          "projected_won_deals_high", "projected_revenue", "projected_revenue_low", "projected_revenue_high")
# with --by partner: the raw ROI interval and the partially pooled estimates beside the raw ones (metrics.pooling)
POOLED_FIELDS = ("roi_low", "roi_high", *pooling.POOLED_COLUMNS)
KEYS = {"none": [], "partner": ["partner", "model"], "model": ["model"], "month": ["month"], "week": ["week"],
        "quarter": ["quarter"], "pipeline": ["pipeline"], "source": ["source"]}


class CliError(Exception):
    """A user error: the message is printed as is."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write it as YYYY-MM-DD.") from None


def build_parser() -> argparse.ArgumentParser:
    """Argument parser of the metrics CLI."""
    parser = argparse.ArgumentParser(prog="python -m metrics", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    k = sub.add_parser("kpis", help="KPIs for a period, optionally per partner, model or month.")
    k.add_argument("--db", required=True, help="DuckDB file (e.g. cache/partner_roi.duckdb)")
    k.add_argument("--from", dest="date_from", required=True, type=_date, help="first day, YYYY-MM-DD")
    k.add_argument("--to", dest="date_to", required=True, type=_date, help="last day (inclusive), YYYY-MM-DD")
    k.add_argument("--partner", action="append", default=[], help="partner name (repeatable)")
    k.add_argument("--model", action="append", default=[], help=f"one of {', '.join(ALL_MODELS)} (repeatable)")
    k.add_argument("--pipeline", action="append", default=[], type=int, help="pipeline id (repeatable)")
    k.add_argument("--source", action="append", default=[], help="UTM source or amoCRM source (repeatable)")
    k.add_argument("--by", default="none", choices=BY)
    k.add_argument("--view", default="cohort", choices=("cohort", "close"))
    k.add_argument("--format", default="table", choices=("json", "csv", "table"))
    payback_cli.add_parser(sub, _date)
    commissions_cli.add_parser(sub, _date)
    incrementality_cli.add_parser(sub, _date)
    deals_cli.add_parser(sub, _date)
    return parser


def _norm(name: str) -> str:
    return name.replace("Ё", "Е").replace("ё", "е").strip().lower()


def _partner_ids(con: Any, names: list[str]) -> tuple[int, ...]:
    """Partner ids for names or aliases (case-insensitive, ё = е); CliError naming the unknown ones."""
    known: dict[str, int] = {}
    for pid, name, aliases in con.execute("select partner_id, name, aliases from partners").fetchall():
        for key in [name, *(aliases or [])]:
            known.setdefault(_norm(key), pid)
    missing = [n for n in names if _norm(n) not in known]
    if missing:
        listed = ", ".join(sorted(con.execute("select name from partners").fetchnumpy()["name"].tolist())[:20])
        raise CliError(f"Unknown partner(s): {', '.join(missing)}. Known partners: {listed or 'none'}.")
    return tuple(dict.fromkeys(known[_norm(n)] for n in names))


def _clean(value: Any) -> Any:
    """A JSON-safe scalar: NaN/NA -> None, numpy numbers -> Python numbers, dates -> ISO text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, date):
        return value.isoformat()
    return value


def records(df: pd.DataFrame, by: str) -> list[dict[str, Any]]:
    """Rows as the CLI prints them: group key(s) then FIELDS."""
    out = []
    for r in df.to_dict("records"):
        rec: dict[str, Any] = {}
        if by in ("month", "week", "quarter"):
            p = r["period"]
            rec[by] = p.strftime("%Y-%m") if by == "month" else p.isoformat()
        elif by == "pipeline":
            rec["pipeline"] = r["pipeline"] if r["pipeline"] is not None else r["pipeline_id"]
        else:
            rec.update({k: r[k] for k in KEYS[by]})
        rec.update({k: r[k] for k in FIELDS})
        rec.update({k: r[k] for k in POOLED_FIELDS if k in r})
        if not pd.isna(r.get("won_closed")):  # close view: the win rate of the leads closed, with its counts
            rec.update({k: r[k] for k in engine.CLOSE_COLUMNS})
        out.append({k: _clean(v) for k, v in rec.items()})
    return out


def render(rows: list[dict[str, Any]], fmt: str) -> str:
    """Rows as JSON, CSV or an aligned text table."""
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2, allow_nan=False)
    if not rows:
        return "" if fmt == "csv" else "(no rows)"
    rows = [{k: ", ".join(v) if isinstance(v, list) else v for k, v in r.items()} for r in rows]  # lists as text
    cols = list(rows[0].keys())
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
        writer.writeheader()
        writer.writerows({c: neutralise(v) for c, v in r.items()} for r in rows)  # CRM names are data, never formulas
        return buf.getvalue().rstrip("\n")
    cells = [[_cell(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _cell(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.4f}".rstrip("0").rstrip(".") if abs(v) < 10 else f"{v:,.0f}"
    return str(v)


def run_kpis(args: argparse.Namespace) -> str:
    """Compute the KPIs the arguments ask for and render them."""
    bad = [m for m in args.model if m not in ALL_MODELS]
    if bad:
        raise CliError(f"Unknown model(s): {', '.join(bad)}. Use {', '.join(ALL_MODELS)}.")
    try:
        store.upgrade(args.db)  # a database of an older version gets its missing tables first
        with store.connect(args.db, read_only=True) as con:
            f = Filters(args.date_from, args.date_to, partners=_partner_ids(con, args.partner),
                        models=tuple(args.model), pipelines=tuple(args.pipeline), sources=tuple(args.source),
                        view=args.view)
            # by partner: with ROI intervals and the pooled estimates, as the leaderboard shows them
            df = leaderboard.partner_rows(con, f) if args.by == "partner" else engine.kpis(con, f, by=args.by)
            kinds = tier_kinds(engine.commission_details(con, f), args.by) if args.by in TIER_KIND_BY else None
    except store.StoreError as exc:
        raise CliError(str(exc)) from None
    rows = records(df, args.by)
    if kinds is not None:  # which tier kind (marginal / whole) the tiered rules behind each row's commission used
        keys = df["partner_id"] if args.by == "partner" else df["model"] if args.by == "model" else [None] * len(df)
        for rec, key in zip(rows, keys, strict=True):
            rec["tier_kinds"] = kinds.get(None if pd.isna(key) else key, [])
    return render(rows, args.format)


TIER_KIND_BY = ("none", "partner", "model")


def tier_kinds(details: pd.DataFrame, by: str) -> dict[Any, list[str]]:
    """The tier kinds of the tiered rules that earned commission, per partner id / model (None: the whole scope)."""
    tiered = details[details["tier_kind"].notna() & (details["amount"].fillna(0) != 0)]
    if by == "none":
        return {None: sorted(set(tiered["tier_kind"]))}
    column = "partner_id" if by == "partner" else "model"
    return {k: sorted(set(g["tier_kind"])) for k, g in tiered.groupby(column)}


def _rendered(make: Callable[[], list[dict[str, Any]]], fmt: str) -> str:
    """make()'s rows rendered in fmt; a database the store cannot use is the CLI's one sentence."""
    try:
        return render(make(), fmt)
    except store.StoreError as exc:
        raise CliError(str(exc)) from None


def run_payback(args: argparse.Namespace) -> str:
    """Compute the payback months (or curves) the arguments ask for and render them."""
    return _rendered(lambda: payback_cli.rows(args, _partner_ids, _clean), args.format)


def run_commissions(args: argparse.Namespace) -> str:
    """The computed commissions per partner and rule (with the tier kind) the arguments ask for, rendered."""
    return _rendered(lambda: commissions_cli.rows(args, _partner_ids, _clean), args.format)


def run_incrementality(args: argparse.Namespace) -> str:
    """Credited and incremental figures per partner or model, rendered."""
    return _rendered(lambda: incrementality_cli.rows(args, _clean), args.format)


def run_deals(args: argparse.Namespace) -> str:
    """The leads / deals behind a partner's numbers (metrics.drill) the arguments ask for, rendered."""
    return _rendered(lambda: deals_cli.rows(args, _partner_ids, _clean), args.format)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "payback":
            print(run_payback(args))
        elif args.command == "commissions":
            print(run_commissions(args))
        elif args.command == "incrementality":
            print(run_incrementality(args))
        elif args.command == "deals":
            print(run_deals(args))
        else:
            print(run_kpis(args))
    except (CliError, FilterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A demo database's payout history: its last finished months accrued and approved; the older ones paid, the latest
paid for every other partner (even ids) and awaiting payment for the rest.

Run by `python -m data_layer demo` (as `python -m programme demo-history --db FILE`) before the demo's "later CRM
changes" and the clawback step, so the payouts panel and statements open on a realistic history. Only on a file
whose meta ``source`` is ``demo``; once: a file that already has payout lines is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from data_layer import store
from data_layer.userdata import atomic
from programme import payout_views, payouts
from programme.goals import account_today

WHO = "demo"       # the audit log's "who" of the demo's history
MONTHS = 3         # finished months with payout lines
PAY_DAY = 10       # paid on this day of the month after the line's month


class NotDemo(ValueError):
    """The file is not a demo database: its payout history is the user's, never generated."""


@dataclass(frozen=True)
class History:
    """What one run wrote: the months, and how many lines were accrued, approved and paid."""

    months: tuple[date, ...]
    lines: int
    approved: int
    paid: int


def history_months(until: date, n: int = MONTHS) -> list[date]:
    """The n finished months before until's month, oldest first."""
    first = until.replace(day=1)
    out = []
    for _ in range(n):
        first = (first - date.resolution).replace(day=1)
        out.append(first)
    return out[::-1]


def data_end(con: duckdb.DuckDBPyConnection) -> date:
    """The demo's last day (meta demo_end_date, written by the demo build), else the account's today."""
    text = store.get_meta(con, "demo_end_date")
    return date.fromisoformat(text) if text else account_today(con)


def _settle(con: duckdb.DuckDBPyConnection, month: date, latest: bool, until: date) -> tuple[int, int]:
    """Approve every line of a month in full and pay it on PAY_DAY of the next month (not after until); of the
    latest month only the lines of partners with even ids are paid (the others show "to pay")."""
    paid_on = min((payouts.month_end(month) + date.resolution).replace(day=PAY_DAY), until)
    approved = paid = 0
    for row in payout_views.lines(con, (month, month)).to_dict("records"):
        if row["pending"] >= 0.01:
            payouts.approve(con, int(row["payout_id"]), float(row["pending"]), WHO)
            approved += 1
        to_pay = payouts.get_line(con, int(row["payout_id"])).to_pay
        if (not latest or int(row["partner_id"]) % 2 == 0) and to_pay >= 0.01:
            payouts.pay(con, int(row["payout_id"]), to_pay, paid_on, f"demo {month:%Y-%m}", WHO)
            paid += 1
    return approved, paid


def run(con: duckdb.DuckDBPyConnection, until: date | None = None) -> History:
    """Accrue, approve and pay the finished months before until (the demo's end) as the module says; once."""
    if store.get_meta(con, "source") != "demo":
        raise NotDemo("not a demo database")
    until = until or data_end(con)
    months = history_months(until)
    if con.execute("select count(*) from payouts").fetchone()[0]:
        return History(tuple(months), 0, 0, 0)
    lines = approved = paid = 0
    with atomic(con):
        for i, month in enumerate(months):
            report = payouts.accrue(con, month, WHO)
            lines += int(report["payout_id"].notna().sum())
            a, p = _settle(con, month, i == len(months) - 1, until)
            approved, paid = approved + a, paid + p
    return History(tuple(months), lines, approved, paid)

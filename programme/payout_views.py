"""Read views of payout lines: lines with partner and payment info, events, owed vs paid, one partner's statement.

Split from ``programme.payouts`` (which owns the lines' rules and actions); these only read.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from metrics.filters import Filters
from programme.payouts import Period, month_start


def _period_args(period: Period | None) -> list:
    """Bind values for LINES_SQL: month from, month to, partners list or null, models list or null."""
    if period is None:
        return [None, None, None, None]
    if isinstance(period, Filters):
        lo, hi = period.date_from, period.date_to
        partners = list(period.partners) or None
        models = list(period.models) or None
    else:
        lo, hi = period
        partners = models = None
    return [month_start(lo), month_start(hi), partners, models]


LINES_SQL = """
select l.payout_id, l.partner_id, p.name as partner_name, coalesce(p.model, 'unassigned') as model, l.month,
       l.accrued, l.approved, round(l.accrued - l.approved, 2) as pending, l.paid,
       round(l.approved - l.paid, 2) as to_pay, round(l.accrued - l.paid, 2) as owed, l.status,
       (select max(e.paid_on) from payout_events e where e.payout_id = l.payout_id and e.action = 'pay') as last_paid_on,
       (select string_agg(e.reference, ', ' order by e.event_id) from payout_events e
         where e.payout_id = l.payout_id and e.action = 'pay' and e.reference is not null) as references,
       l.updated_at
from payouts l left join partners p on p.partner_id = l.partner_id
where ($1::date is null or l.month >= $1) and ($2::date is null or l.month <= $2)
  and ($3::integer[] is null or list_contains($3, l.partner_id))
  and ($4::varchar[] is null or list_contains($4, coalesce(p.model, 'unassigned')))
  and ($5::integer is null or l.partner_id = $5)
order by l.month, lower(p.name), l.partner_id
"""


def lines(con: duckdb.DuckDBPyConnection, period: Period | None = None, partner_id: int | None = None) -> pd.DataFrame:
    """Payout lines with partner name and model, pending, to_pay, owed, last payment date and references."""
    args = [*_period_args(period), None if partner_id is None else int(partner_id)]
    return con.execute(LINES_SQL, args).df()


def events(con: duckdb.DuckDBPyConnection, payout_id: int | None = None) -> pd.DataFrame:
    """The event history of one line (or of all lines), oldest first."""
    return con.execute(
        "select event_id, payout_id, happened_at, who, action, amount, paid_on, reference, reason "
        "from payout_events where ?::integer is null or payout_id = ? order by event_id",
        [payout_id, payout_id],
    ).df()


OWED_COLUMNS = ["partner_id", "partner_name", "model", "accrued", "approved", "pending", "paid", "to_pay", "owed"]


def owed_vs_paid(con: duckdb.DuckDBPyConnection, period: Period | None = None) -> pd.DataFrame:
    """Per partner over the months of a period: accrued, approved, pending, paid, to_pay, owed (= accrued − paid)."""
    frame = lines(con, period)
    frame = frame[frame["status"] != "reversed"] if len(frame) else frame
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in OWED_COLUMNS}).astype(
            {"partner_id": "int64", "partner_name": "object", "model": "object"})
    sums = frame.groupby(["partner_id", "partner_name", "model"], as_index=False, dropna=False)[
        ["accrued", "approved", "pending", "paid", "to_pay", "owed"]].sum()
    return sums[OWED_COLUMNS].round(2).sort_values("owed", ascending=False, kind="stable").reset_index(drop=True)


STATEMENT_COLUMNS = ["month", "accrued", "approved", "paid", "owed", "status", "last_paid_on", "references"]


def statement(con: duckdb.DuckDBPyConnection, partner_id: int, period: Period | None = None) -> pd.DataFrame:
    """One partner's payout lines for a statement: month, accrued, approved, paid, owed, status, payment info."""
    return lines(con, period, partner_id)[STATEMENT_COLUMNS].reset_index(drop=True)

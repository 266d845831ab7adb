"""Clawbacks: after a sync, reverse the commission of accrued deals that left "won", were deleted or lost price.

``run`` compares every deal recorded on an open payout line (``programme.accrual``) with what it earns now and
writes one dated reversal per drop (reason reopened / lost / deleted / price_drop / rule_change) or one accrual
per rise (a deal won again, a price raise); the line follows (``payouts.deal_effect``): the unpaid part comes off
it, money already paid is *withheld* — the partner's balance goes negative and carries into the next statement
until later accruals cover it. Running it twice writes nothing new. See docs/goals-payouts.md, "Clawbacks".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd

from programme import accrual, payouts

WHO = "clawbacks"  # the audit log's "who" of the after-sync step


def run(con: duckdb.DuckDBPyConnection, today: date | None = None, who: str = WHO) -> list[accrual.Change]:
    """Follow every open payout line's deals to their current commission; the changes written, in order."""
    return payouts.follow_deals(con, None, who, source="sync", today=today)


REVERSALS_SQL = """
select r.reversal_id, r.reversed_at, r.statement_month, r.lead_id, coalesce(f.lead_name, raw.name) as lead_name,
       r.partner_id, p.name as partner_name, r.accrual_month, r.payout_id, r.reason, r.amount_before,
       r.amount_after, r.amount, r.price_before, r.price_after, r.taken_from_line, r.withheld
from payout_reversals r
left join partners p on p.partner_id = r.partner_id
left join lead_facts f on f.lead_id = r.lead_id
left join raw_leads raw on raw.id = r.lead_id
where ($1::integer is null or r.partner_id = $1)
  and ($2::date is null or r.statement_month >= $2) and ($3::date is null or r.statement_month <= $3)
order by r.reversed_at, r.reversal_id
"""


def reversals(con: duckdb.DuckDBPyConnection, partner_id: int | None = None, date_from: date | None = None,
              date_to: date | None = None) -> pd.DataFrame:
    """Reversals (one partner's or all) whose statement month falls in [date_from, date_to], oldest first."""
    lo = None if date_from is None else date_from.replace(day=1)
    return con.execute(REVERSALS_SQL, [None if partner_id is None else int(partner_id), lo, date_to]).df()


BALANCE_SQL = """
select coalesce((select sum(accrued - paid) from payouts
                 where partner_id = $1 and ($2::date is null or month <= $2)), 0)
     - coalesce((select sum(withheld) from payout_reversals
                 where partner_id = $1 and ($2::date is null or statement_month <= $2)), 0)
"""


def balance(con: duckdb.DuckDBPyConnection, partner_id: int, upto: date | None = None) -> float:
    """What we owe a partner (negative: what the partner owes us) over lines and reversals up to a day."""
    return round(float(con.execute(BALANCE_SQL, [int(partner_id), upto]).fetchone()[0]), 2) + 0.0


@dataclass(frozen=True)
class Balances:
    """A partner's balance carried into a period, and at its end."""

    carried: float
    closing: float


def period_balances(con: duckdb.DuckDBPyConnection, partner_id: int, date_from: date, date_to: date) -> Balances:
    """The balance carried from before date_from's month and the balance at date_to."""
    before = date_from.replace(day=1) - timedelta(days=1)
    return Balances(balance(con, partner_id, before), balance(con, partner_id, date_to))


BALANCES_SQL = """
with ids as (select partner_id from payouts union select partner_id from payout_reversals),
lines as (
    select partner_id,
           sum(accrued - paid) filter (where $1::date is not null and month < $1) as before_lines,
           sum(accrued - paid) filter (where $2::date is null or month <= $2) as upto_lines
    from payouts group by partner_id
), kept as (
    select partner_id,
           sum(withheld) filter (where $1::date is not null and statement_month < $1) as before_kept,
           sum(withheld) filter (where $2::date is null or statement_month <= $2) as upto_kept
    from payout_reversals group by partner_id
)
select ids.partner_id,
       round(coalesce(before_lines, 0) - coalesce(before_kept, 0), 2) as carried,
       round(coalesce(upto_lines, 0) - coalesce(upto_kept, 0), 2) as closing
from ids left join lines using (partner_id) left join kept using (partner_id)
order by ids.partner_id
"""


def balances(con: duckdb.DuckDBPyConnection, date_from: date | None = None,
             date_to: date | None = None) -> pd.DataFrame:
    """Every partner with a payout line or a reversal: balance carried into date_from's month (0 without
    date_from) and closing balance at date_to (now without it): partner_id, carried, closing."""
    lo = None if date_from is None else date_from.replace(day=1)
    return con.execute(BALANCES_SQL, [lo, date_to]).df()


def change_line(ch: accrual.Change) -> str:
    """One printed line per change: reversal or accrual, deal, partner, amounts."""
    kind = f"reversal ({ch.reason})" if ch.reason else "accrual"
    return (f"{kind}: deal {ch.lead_id}, partner {ch.partner_id}: {ch.before:.2f} → {ch.after:.2f} "
            f"({ch.delta:+.2f})")

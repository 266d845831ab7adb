"""Clawbacks: after a sync, reverse the commission of accrued deals that left "won", were deleted or lost price.

``run`` compares every deal recorded on an open payout line (``programme.accrual``) with what it earns now and
writes one dated reversal per drop (reason reopened / lost / deleted / price_drop / rule_change) or one accrual
per rise (a deal won again, a price raise); the line follows (``payouts.deal_effect``): the unpaid part comes off
it, money already paid is *withheld* — the partner's balance goes negative and carries into the next statement
until later accruals cover it. Running it twice writes nothing new. See docs/goals-payouts.md, "Clawbacks".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from data_layer.userdata import atomic
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


WITHHELD_REF = "clawback: withheld"  # reference of a 'pay' event that nets a withheld amount against a line

# One home of the balance rule. Per partner up to a day ($2; carried: before the month of $1): Σ lines of months up
# to it (accrued − paid), − Σ withheld by reversals landing up to it, + Σ of those netted against lines of months up to
# it (a netting is a 'pay' event: it lowers the line's unpaid amount and the debt alike, so the balance keeps).
BALANCES_SQL = """
with lines as (
    select partner_id, month, accrued - paid as owed,
           coalesce((select sum(e.amount) from payout_events e where e.payout_id = p.payout_id
                     and e.action = 'pay' and e.reference = $4), 0) as netted
    from payouts p
), ids as (select partner_id from payouts union select partner_id from payout_reversals),
l as (
    select partner_id,
           sum(owed + netted) filter (where $1::date is not null and month < $1) as before_lines,
           sum(owed + netted) filter (where $2::date is null or month <= $2) as upto_lines
    from lines group by partner_id
), kept as (
    select partner_id,
           sum(withheld) filter (where $1::date is not null and statement_month < $1) as before_kept,
           sum(withheld) filter (where $2::date is null or statement_month <= $2) as upto_kept
    from payout_reversals group by partner_id
)
select ids.partner_id,
       round(coalesce(before_lines, 0) - coalesce(before_kept, 0), 2) as carried,
       round(coalesce(upto_lines, 0) - coalesce(upto_kept, 0), 2) as closing
from ids left join l using (partner_id) left join kept using (partner_id)
where $3::integer is null or ids.partner_id = $3
order by ids.partner_id
"""


def balances(con: duckdb.DuckDBPyConnection, date_from: date | None = None, date_to: date | None = None,
             partner_id: int | None = None) -> pd.DataFrame:
    """Every partner with a payout line or a reversal (or one): balance carried into date_from's month (0 without
    date_from) and closing balance at date_to (now without it): partner_id, carried, closing."""
    lo = None if date_from is None else date_from.replace(day=1)
    pid = None if partner_id is None else int(partner_id)
    return con.execute(BALANCES_SQL, [lo, date_to, pid, WITHHELD_REF]).df()


def balance(con: duckdb.DuckDBPyConnection, partner_id: int, upto: date | None = None) -> float:
    """What we owe a partner (negative: what the partner owes us) over lines and reversals up to a day."""
    row = balances(con, None, upto, partner_id)
    return round(float(row["closing"].iloc[0]), 2) + 0.0 if len(row) else 0.0


@dataclass(frozen=True)
class Balances:
    """A partner's balance carried into a period, and at its end."""

    carried: float
    closing: float


def period_balances(con: duckdb.DuckDBPyConnection, partner_id: int, date_from: date, date_to: date) -> Balances:
    """The balance carried from before date_from's month and the balance at date_to."""
    row = balances(con, date_from, date_to, partner_id)
    if row.empty:
        return Balances(0.0, 0.0)
    return Balances(float(row["carried"].iloc[0]) + 0.0, float(row["closing"].iloc[0]) + 0.0)


# ---------- withholding a debt from a later payout ----------

MESSAGES = {
    "ru": {"nothing_owed": "Партнёр ничего не должен по сторно — удерживать нечего.",
           "over": "Удержать можно не больше {limit}: это меньшее из долга партнёра и утверждённой невыплаченной "
                   "суммы строки №{payout_id}."},
    "en": {"nothing_owed": "The partner owes nothing from reversals: there is nothing to withhold.",
           "over": "Withhold at most {limit}: the smaller of the partner's debt and line {payout_id}'s approved, "
                   "unpaid amount."},
}


class ClawbackError(ValueError):
    """A refused withholding; ``text(lang)`` says what is wrong and what to do."""

    def __init__(self, code: str, **params: object) -> None:
        self.code, self.params = code, params
        super().__init__(self.text("en"))

    def text(self, lang: str = "en") -> str:
        """The sentence in a language (ru, en)."""
        params = {k: payouts.amount_text(v, lang) if isinstance(v, float) else v for k, v in self.params.items()}
        return MESSAGES["ru" if lang == "ru" else "en"][self.code].format(**params)


OUTSTANDING_SQL = """
select coalesce((select sum(withheld) from payout_reversals where partner_id = $1), 0)
     - coalesce((select sum(e.amount) from payout_events e join payouts p on p.payout_id = e.payout_id
                 where p.partner_id = $1 and e.action = 'pay' and e.reference = $2), 0)
"""


def outstanding(con: duckdb.DuckDBPyConnection, partner_id: int) -> float:
    """Paid commission a partner still owes back from reversals (withheld, not yet netted against a payout)."""
    return round(float(con.execute(OUTSTANDING_SQL, [int(partner_id), WITHHELD_REF]).fetchone()[0]), 2) + 0.0


def withhold_limit(con: duckdb.DuckDBPyConnection, payout_id: int) -> float:
    """The most that can be withheld on a line: its approved, unpaid amount, capped by its partner's debt."""
    line = payouts.get_line(con, payout_id)
    return max(0.0, round(min(line.to_pay, outstanding(con, line.partner_id)), 2))


def withhold(con: duckdb.DuckDBPyConnection, payout_id: int, amount: float, paid_on: date, who: str) -> payouts.Line:
    """Net part of a partner's debt against a line's approved, unpaid amount: recorded as a payment (reference
    ``clawback: withheld``), so the line closes and the debt shrinks by the same amount; the balance keeps."""
    value = payouts.cents(amount)
    with atomic(con):
        line = payouts.get_line(con, payout_id)
        owed = outstanding(con, line.partner_id)
        if owed < 0.01:
            raise ClawbackError("nothing_owed")
        limit = max(0.0, round(min(line.to_pay, owed), 2))
        if value > limit + payouts.EPS:
            raise ClawbackError("over", limit=limit, payout_id=payout_id)
        return payouts.pay(con, payout_id, value, paid_on, WITHHELD_REF, who)


def change_line(ch: accrual.Change) -> str:
    """One printed line per change: reversal or accrual, deal, partner, amounts."""
    kind = f"reversal ({ch.reason})" if ch.reason else "accrual"
    return (f"{kind}: deal {ch.lead_id}, partner {ch.partner_id}: {ch.before:.2f} → {ch.after:.2f} "
            f"({ch.delta:+.2f})")

"""Per-deal accruals: what commission each won deal put on its payout line, and how that follows the deal.

A payout line (partner × month) is *tracked* once its deals' commissions are recorded in ``deal_accruals``
(a snapshot: at ``payouts.accrue`` for a new line, or ``backfill`` for a line accrued before migration 0011).
From then on ``follow_month`` compares each recorded deal with what it earns now by the rules (the engine's
deal list, close-date view) and writes one row per change: an increase is a ``deal_accruals`` row, a decrease
a dated ``payout_reversals`` row with its reason; the line itself is moved by the ``effect`` callback the caller
gives (``programme.payouts`` owns the line's arithmetic). Running it again with nothing changed writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd

from metrics.filters import Filters
from metrics.query import scope_run  # the engine's deal list: the commission rules have one home

EPS = 0.005  # half a kopeck
REASONS = ("reopened", "lost", "deleted", "price_drop", "rule_change")
# effect(payout_id, delta, reason text) moves a line by a deal's change; returns (taken from the line, withheld).
Effect = Callable[[int, float, str], tuple[float, float]]


@dataclass(frozen=True)
class TrackedLine:
    """An open payout line of a month and whether its deals are recorded yet."""

    payout_id: int
    partner_id: int
    tracked: bool


@dataclass(frozen=True)
class Change:
    """One deal whose commission differs from its recorded net accrual (reason None = an increase)."""

    lead_id: int
    partner_id: int
    before: float
    after: float
    price_before: float | None
    price_after: float | None
    status_after: int | None
    reason: str | None

    @property
    def delta(self) -> float:
        """After − before, in kopecks."""
        return round(self.after - self.before, 2)


def month_bounds(month: date) -> tuple[date, date]:
    """First and last day of a month."""
    start = month.replace(day=1)
    return start, (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def current_deals(con: duckdb.DuckDBPyConnection, month: date, partner_ids: Iterable[int]) -> pd.DataFrame:
    """What each lead of the partners earns for the month by the rules (close-date view: won deals closed in it,
    qualified leads created in it — the same rows and sum as the month's computed commission): lead_id,
    partner_id, commission, price, status_id, is_won, is_lost; only rows that earn something."""
    ids = tuple(sorted({int(p) for p in partner_ids}))
    cols = ["lead_id", "partner_id", "commission", "price", "status_id", "is_won", "is_lost"]
    if not ids:
        return pd.DataFrame(columns=cols)
    start, end = month_bounds(month)
    f = Filters(start, end, partners=ids, view="close")
    deals = scope_run(con, "deals", [(f, ())], inputs={"won_only": False})
    deals = deals[deals["partner_id"].notna()]
    out = pd.DataFrame({"lead_id": deals["lead_id"].astype("int64"), "partner_id": deals["partner_id"].astype("int64"),
                        "commission": deals["commission"].astype(float).round(2),
                        "price": deals["amount"].astype(float), "status_id": deals["status_id"].astype("Int64"),
                        "is_won": deals["is_won"].astype(bool), "is_lost": deals["is_lost"].astype(bool)})
    return out[out["commission"] >= 0.01][cols].reset_index(drop=True)


RECORDED_SQL = """
with acc as (
    select lead_id, partner_id, sum(amount) as accrued, arg_max(price, accrual_id) as price,
           arg_max(status_id, accrual_id) as status_id
    from deal_accruals where month = $1 and list_contains($2, partner_id) group by all
), rev as (
    select lead_id, partner_id, sum(amount) as reversed, arg_max(price_after, reversal_id) as price_after,
           max(reversal_id) as last_rev
    from payout_reversals where accrual_month = $1 and list_contains($2, partner_id) group by all
)
select acc.lead_id, acc.partner_id, round(acc.accrued - coalesce(rev.reversed, 0), 2) as net, acc.price,
       acc.status_id
from acc left join rev using (lead_id, partner_id)
"""


def recorded(con: duckdb.DuckDBPyConnection, month: date, partner_ids: Iterable[int]) -> pd.DataFrame:
    """Net recorded accrual per deal of the month (Σ accruals − Σ reversals): lead_id, partner_id, net, and the
    price and stage of its last accrual."""
    ids = sorted({int(p) for p in partner_ids})
    return con.execute(RECORDED_SQL, [month.replace(day=1), ids]).df()


STATE_SQL = """
select r.id as lead_id, coalesce(r.is_deleted, false) as is_deleted, f.lead_id is not null as in_facts,
       coalesce(f.is_lost, false) as is_lost, r.status_id
from (select unnest($1::bigint[]) as id) q
left join raw_leads r on r.id = q.id
left join lead_facts f on f.lead_id = q.id
"""


WON = 142  # amoCRM's "won" stage in every pipeline


def _reason(state: dict | None, was: dict | None, now: dict | None) -> str:
    """Why a deal earns less than recorded: deleted, lost, reopened (left won or its month), price_drop, or
    rule_change (a rule or a tier moved: another deal of the month changed, a rule was edited)."""
    if now is None:
        if state is None or state["is_deleted"] or not state["in_facts"]:
            return "deleted"
        return "lost" if state["is_lost"] else "reopened"
    if was is not None and _int(was["status_id"]) == WON and not now["is_won"]:
        return "lost" if now["is_lost"] else "reopened"
    before, after = (None if was is None else _num(was["price"])), _num(now["price"])
    return "price_drop" if before is not None and after is not None and after < before - EPS else "rule_change"


def changes(con: duckdb.DuckDBPyConnection, month: date, partner_ids: Iterable[int]) -> list[Change]:
    """Deals of the month whose current commission differs from their recorded net accrual, by lead id."""
    ids = list(partner_ids)
    now = {(r["lead_id"], r["partner_id"]): r for r in current_deals(con, month, ids).to_dict("records")}
    was = {(r["lead_id"], r["partner_id"]): r for r in recorded(con, month, ids).to_dict("records")}
    keys = sorted(set(now) | set(was))
    gone = [int(k[0]) for k in keys if k not in now]
    states = {int(r["lead_id"]): r for r in con.execute(STATE_SQL, [gone]).df().to_dict("records")} if gone else {}
    out = []
    for key in keys:
        w, n = was.get(key), now.get(key)
        before = round(float(w["net"]), 2) if w else 0.0
        after = float(n["commission"]) if n else 0.0
        if abs(after - before) < 0.01:
            continue
        state = states.get(int(key[0]))
        status = n["status_id"] if n else (state or {}).get("status_id")
        reason = None if after > before else _reason(state, w, n)
        out.append(Change(int(key[0]), int(key[1]), before, after, _num(w["price"]) if w else None,
                          _num(n["price"]) if n else None, _int(status), reason))
    return out


def _num(x: object) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def _int(x: object) -> int | None:
    return None if x is None or pd.isna(x) else int(x)


# ---------- writing ----------

def add_accrual(con: duckdb.DuckDBPyConnection, month: date, lead_id: int, partner_id: int, amount: float,
                price: float | None, status_id: int | None, source: str) -> None:
    """Record that a deal accrued an amount on the month's line."""
    con.execute("insert into deal_accruals (lead_id, partner_id, month, amount, price, status_id, source) "
                "values (?, ?, ?, ?, ?, ?, ?)",
                [lead_id, partner_id, month.replace(day=1), round(amount, 2), price, status_id, source])


def add_reversal(con: duckdb.DuckDBPyConnection, month: date, change: Change, payout_id: int,
                 taken: float, withheld: float, today: date, who: str) -> None:
    """Record one dated reversal of a deal's commission, landing in the statement of today's month."""
    con.execute(
        "insert into payout_reversals (statement_month, lead_id, partner_id, accrual_month, payout_id, reason, "
        "amount_before, amount_after, amount, price_before, price_after, taken_from_line, withheld, who) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [today.replace(day=1), change.lead_id, change.partner_id, month.replace(day=1), payout_id, change.reason,
         change.before, change.after, -change.delta, change.price_before, change.price_after, taken, withheld, who])


def snapshot(con: duckdb.DuckDBPyConnection, month: date, lines: list[TrackedLine], source: str) -> int:
    """Record the current deal commissions of untracked lines and mark them tracked; the number of deals."""
    if not lines:
        return 0
    deals = current_deals(con, month, [ln.partner_id for ln in lines])
    for r in deals.to_dict("records"):
        add_accrual(con, month, r["lead_id"], r["partner_id"], r["commission"], r["price"], _int(r["status_id"]),
                    source)
    con.executemany("insert into deal_accrual_lines (payout_id, source) values (?, ?) on conflict do nothing",
                    [[ln.payout_id, source] for ln in lines])
    return len(deals)


def reason_text(change: Change) -> str:
    """The reason kept on the line's event: which deal, why, from what to what."""
    why = change.reason or "earns more"
    return f"deal {change.lead_id} {why}: commission {change.before:.2f} → {change.after:.2f}"


def follow(con: duckdb.DuckDBPyConnection, month: date, lines: list[TrackedLine], effect: Effect, today: date,
           who: str, source: str = "sync") -> list[Change]:
    """Write each tracked line's deal changes (accrual rows, dated reversals) and move the line through effect."""
    by_partner = {ln.partner_id: ln for ln in lines if ln.tracked}
    done = changes(con, month, by_partner) if by_partner else []
    for ch in done:
        line = by_partner[ch.partner_id]
        taken, withheld = effect(line.payout_id, ch.delta, reason_text(ch))
        if ch.delta > 0:
            add_accrual(con, month, ch.lead_id, ch.partner_id, ch.delta, ch.price_after, ch.status_after, source)
        else:
            add_reversal(con, month, ch, line.payout_id, taken, withheld, today, who)
    return done


OPEN_LINES_SQL = """
select p.month, p.payout_id, p.partner_id, t.payout_id is not null as tracked
from payouts p left join deal_accrual_lines t on t.payout_id = p.payout_id
where p.status <> 'reversed' and ($1::date is null or p.month = $1)
order by p.month, p.partner_id
"""


def open_lines(con: duckdb.DuckDBPyConnection, month: date | None = None) -> dict[date, list[TrackedLine]]:
    """Open payout lines (all months, or one) grouped by month, with whether each is tracked."""
    rows = con.execute(OPEN_LINES_SQL, [None if month is None else month.replace(day=1)]).fetchall()
    out: dict[date, list[TrackedLine]] = {}
    for m, pid, partner, tracked in rows:
        out.setdefault(m, []).append(TrackedLine(int(pid), int(partner), bool(tracked)))
    return out

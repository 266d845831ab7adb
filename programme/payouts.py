"""Commission payouts: one line per partner × month moving accrued → approved → paid (or reversed).

Every change is an event in ``payout_events`` and a row in ``audit_log``; the amounts on a line are always
the replay of its events (``replay``), so nothing is edited silently. Read views: ``programme.payout_views``. Invariants on every line:
``0 ≤ paid ≤ approved ≤ accrued`` and ``pending = accrued − approved``. See docs/goals-payouts.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from functools import partial

import duckdb
import pandas as pd

from data_layer.userdata import atomic, audit
from metrics import engine  # the engine owns commission rules
from metrics.filters import Filters
from programme import accrual
from programme.goals import account_today

AUTO_REF = "recalculation"   # reference of a 'reverse' event written by accrue(), not by a person
EPS = 0.005                  # half a kopeck: amounts are kept in cents
STATUSES = ("accrued", "approved", "paid", "reversed")
Period = Filters | tuple[date, date]


# code -> sentence (what is wrong, what to do); parameters are formatted in with str.format.
MESSAGES: dict[str, dict[str, str]] = {
    "ru": {
        "not_number": "«{value}» — не сумма: введите число.",
        "not_positive": "Сумма должна быть не меньше 0,01 — введите положительную сумму.",
        "no_who": "Укажите, кто выполняет действие (имя для журнала изменений), и повторите.",
        "no_line": "Строки выплаты №{payout_id} нет — обновите страницу и выберите строку.",
        "reversed": "Строка выплаты №{payout_id} сторнирована и закрыта — с ней больше ничего нельзя сделать.",
        "approve_over_pending": "По строке №{payout_id} ждёт утверждения только {pending} — утвердите "
                                "не больше этой суммы.",
        "pay_over_approved": "По строке №{payout_id} утверждено и не выплачено только {to_pay} — выплатите "
                             "не больше или сначала утвердите ещё.",
        "no_paid_on": "Укажите дату выплаты и повторите.",
        "no_reason": "Укажите причину сторно и повторите.",
        "reverse_over_unpaid": "По строке №{payout_id} не выплачено только {unpaid}: выплаченное сторнировать "
                               "нельзя — сторнируйте не больше, а остаток удержите с партнёра.",
        "negative_due": "Сумма к начислению отрицательная — комиссии и бонусы не бывают меньше нуля.",
    },
    "en": {
        "not_number": "“{value}” is not an amount: enter a number.",
        "not_positive": "The amount must be at least 0.01: enter a positive amount.",
        "no_who": "Say who does this (a name for the audit log), then try again.",
        "no_line": "There is no payout line {payout_id}: reload the page and pick a line.",
        "reversed": "Payout line {payout_id} was reversed and is closed: nothing more can be done with it.",
        "approve_over_pending": "Only {pending} of line {payout_id} awaits approval: approve at most that.",
        "pay_over_approved": "Only {to_pay} of line {payout_id} is approved and unpaid: pay at most that, "
                             "or approve more first.",
        "no_paid_on": "Give the payment date (paid on), then try again.",
        "no_reason": "Say why the amount is reversed (a reason is required), then try again.",
        "reverse_over_unpaid": "Only {unpaid} of line {payout_id} is unpaid: money already paid cannot be "
                               "reversed; reverse at most that and recover the rest from the partner.",
        "negative_due": "A due amount is negative: commissions and bonuses cannot be below zero.",
    },
}


class PayoutError(ValueError):
    """An illegal payout action; ``text(lang)`` says what is wrong and what to do."""

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        self.params = params
        super().__init__(self.text("en"))

    def text(self, lang: str = "en") -> str:
        """The sentence in a language (ru, en)."""
        params = {k: amount_text(v, lang) if isinstance(v, float) else v for k, v in self.params.items()}
        return MESSAGES.get(lang, MESSAGES["en"])[self.code].format(**params)


def amount_text(x: float, lang: str = "en") -> str:
    """An amount with two decimals for a message: 1 234,50 (ru), 1,234.50 (en)."""
    text = f"{x:,.2f}"
    return text.replace(",", "\u00a0").replace(".", ",") if lang == "ru" else text


@dataclass(frozen=True)
class Line:
    """One payout line as stored."""

    payout_id: int
    partner_id: int
    month: date
    accrued: float
    approved: float
    paid: float
    status: str

    @property
    def pending(self) -> float:
        """Accrued but not yet approved."""
        return round(self.accrued - self.approved, 2)

    @property
    def to_pay(self) -> float:
        """Approved but not yet paid."""
        return round(self.approved - self.paid, 2)

    @property
    def unpaid(self) -> float:
        """Accrued but not yet paid (what a reversal may still take back)."""
        return round(self.accrued - self.paid, 2)

    def as_dict(self) -> dict:
        """The line as plain values for the audit log."""
        return {**asdict(self), "month": self.month.isoformat()}


# ---------- small helpers ----------

def cents(x: float) -> float:
    """An amount rounded to kopecks (raises PayoutError when it is not a finite number)."""
    try:
        value = float(x)
    except (TypeError, ValueError):
        raise PayoutError("not_number", value=x) from None
    if not math.isfinite(value):
        raise PayoutError("not_number", value=x)
    return round(value, 2) + 0.0


def _positive(x: float, action: str) -> float:
    value = cents(x)
    if value < 0.01:
        raise PayoutError("not_positive", action=action, amount=value)
    return value


def _who(who: str | None) -> str:
    text = (who or "").strip()
    if not text:
        raise PayoutError("no_who")
    return text


def month_start(d: date) -> date:
    """First day of the month of a date."""
    return d.replace(day=1)


def month_end(d: date) -> date:
    """Last day of the month of a date."""
    return (month_start(d) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def derive_status(accrued: float, approved: float, paid: float, reversed_: bool = False) -> str:
    """Status from amounts: something to approve → accrued; to pay → approved; else paid; reversed is final."""
    if reversed_:
        return "reversed"
    if accrued < EPS or approved < accrued - EPS:
        return "accrued"
    if paid < approved - EPS:
        return "approved"
    return "paid"


# ---------- reading lines ----------

LINE_SQL = "select payout_id, partner_id, month, accrued, approved, paid, status from payouts where payout_id = ?"
LINE_BY_MONTH_SQL = """
select payout_id, partner_id, month, accrued, approved, paid, status from payouts where partner_id = ? and month = ?
"""


def _line(row: tuple | None) -> Line | None:
    if row is None:
        return None
    pid, partner, month, accrued, approved, paid, status = row
    return Line(int(pid), int(partner), month, float(accrued), float(approved), float(paid), status)


def get_line(con: duckdb.DuckDBPyConnection, payout_id: int) -> Line:
    """The stored line (PayoutError when there is none)."""
    line = _line(con.execute(LINE_SQL, [int(payout_id)]).fetchone())
    if line is None:
        raise PayoutError("no_line", payout_id=payout_id)
    return line


def find_line(con: duckdb.DuckDBPyConnection, partner_id: int, month: date) -> Line | None:
    """The line of a partner for a month, if any."""
    return _line(con.execute(LINE_BY_MONTH_SQL, [int(partner_id), month_start(month)]).fetchone())


# ---------- recording one change ----------

def _record(con: duckdb.DuckDBPyConnection, before: Line | None, after: Line, action: str, amount: float,
            who: str, paid_on: date | None = None, reference: str | None = None,
            reason: str | None = None) -> Line:
    """Store the new amounts, append the event and the audit row; return the stored line."""
    if before is None:
        pid = con.execute(
            "insert into payouts (partner_id, month, accrued, approved, paid, status) values (?, ?, ?, ?, ?, ?) "
            "returning payout_id",
            [after.partner_id, after.month, after.accrued, after.approved, after.paid, after.status],
        ).fetchone()[0]
        after = replace(after, payout_id=int(pid))
    else:
        con.execute(
            "update payouts set accrued = ?, approved = ?, paid = ?, status = ?, updated_at = current_timestamp "
            "where payout_id = ?",
            [after.accrued, after.approved, after.paid, after.status, after.payout_id],
        )
    con.execute(
        "insert into payout_events (payout_id, who, action, amount, paid_on, reference, reason) "
        "values (?, ?, ?, ?, ?, ?, ?)",
        [after.payout_id, who, action, amount, paid_on, reference, reason],
    )
    audit(con, action, "payout", after.payout_id, before=before.as_dict() if before else None,
          after=after.as_dict(), who=who)
    return after


def _apply(line: Line, action: str, amount: float, manual: bool = False) -> Line:
    """Amounts after one event (the same arithmetic replay() uses)."""
    accrued, approved, paid = line.accrued, line.approved, line.paid
    if action == "accrue":
        accrued = round(accrued + amount, 2)
    elif action == "approve":
        approved = round(approved + amount, 2)
    elif action == "pay":
        paid = round(paid + amount, 2)
    else:  # reverse: take from pending first, then from approved
        accrued = round(accrued - amount, 2)
        approved = min(approved, accrued)
    closed = line.status == "reversed" or (manual and accrued < EPS and paid < EPS)
    return replace(line, accrued=accrued + 0.0, approved=approved + 0.0, paid=paid + 0.0,
                   status=derive_status(accrued, approved, paid, closed))


def _open_line(con: duckdb.DuckDBPyConnection, payout_id: int, action: str) -> Line:
    line = get_line(con, payout_id)
    if line.status == "reversed":
        raise PayoutError("reversed", payout_id=payout_id, action=action)
    return line


# ---------- actions ----------

def approve(con: duckdb.DuckDBPyConnection, payout_id: int, amount: float, who: str) -> Line:
    """Approve part or all of the pending amount of a line."""
    who, amount = _who(who), _positive(amount, "approve")
    with atomic(con):
        line = _open_line(con, payout_id, "approve")
        if amount > line.pending + EPS:
            raise PayoutError("approve_over_pending", payout_id=payout_id, amount=amount, pending=line.pending)
        return _record(con, line, _apply(line, "approve", amount), "approve", amount, who)


def pay(con: duckdb.DuckDBPyConnection, payout_id: int, amount: float, paid_on: date, reference: str | None,
        who: str) -> Line:
    """Record a payment of part or all of the approved, unpaid amount of a line."""
    who, amount = _who(who), _positive(amount, "pay")
    if not isinstance(paid_on, date) or isinstance(paid_on, datetime):
        raise PayoutError("no_paid_on")
    with atomic(con):
        line = _open_line(con, payout_id, "pay")
        if amount > line.to_pay + EPS:
            raise PayoutError("pay_over_approved", payout_id=payout_id, amount=amount, to_pay=line.to_pay)
        ref = (reference or "").strip() or None
        return _record(con, line, _apply(line, "pay", amount), "pay", amount, who, paid_on=paid_on, reference=ref)


def reverse(con: duckdb.DuckDBPyConnection, payout_id: int, amount: float, reason: str, who: str) -> Line:
    """Take back part or all of the unpaid amount of a line, with a reason; a full reversal closes the line."""
    who, amount = _who(who), _positive(amount, "reverse")
    reason = (reason or "").strip()
    if not reason:
        raise PayoutError("no_reason")
    with atomic(con):
        line = _open_line(con, payout_id, "reverse")
        if amount > line.unpaid + EPS:
            raise PayoutError("reverse_over_unpaid", payout_id=payout_id, amount=amount, unpaid=line.unpaid)
        return _record(con, line, _apply(line, "reverse", amount, manual=True), "reverse", amount, who,
                       reason=reason)


# ---------- accrual from commissions ----------

LEDGER_DUE_SQL = """
select partner_id,
       coalesce(sum(amount) filter (where category = 'commission'), 0)::double as ledger_commission,
       coalesce(sum(amount) filter (where category = 'bonus'), 0)::double as ledger_bonus
from cost_ledger
where month = ? and category in ('commission', 'bonus')
group by partner_id
"""

# Σ accrue − Σ automatic reversals − Σ clawback amounts withheld (already paid, owed back) per line of a month:
# what accrue() and the clawbacks recorded from the computation so far.
BASE_SQL = """
select p.partner_id,
       coalesce(sum(e.amount) filter (where e.action = 'accrue'), 0)
     - coalesce(sum(e.amount) filter (where e.action = 'reverse' and e.reference = ?), 0)
     - coalesce(max(w.withheld), 0) as base
from payouts p left join payout_events e on e.payout_id = p.payout_id
left join (select payout_id, sum(withheld) as withheld from payout_reversals group by payout_id) w
       on w.payout_id = p.payout_id
where p.month = ?
group by p.partner_id
"""


def computed_commission(con: duckdb.DuckDBPyConnection, month: date) -> pd.DataFrame:
    """Commission by rules per partner for deals closed (and leads created) in the month: partner_id, amount."""
    start = month_start(month)
    details = engine.commission_details(con, Filters(start, month_end(start), view="close"))
    frame = details.dropna(subset=["partner_id"])[["partner_id", "amount"]]
    frame = frame.groupby("partner_id", as_index=False)["amount"].sum()
    return frame.astype({"partner_id": "int64", "amount": "float64"})


def due_amounts(con: duckdb.DuckDBPyConnection, month: date) -> pd.DataFrame:
    """What each partner is due for a month: computed commission + ledger commission + ledger bonus."""
    start = month_start(month)
    ledger = con.execute(LEDGER_DUE_SQL, [start]).df()
    computed = computed_commission(con, start).rename(columns={"amount": "computed_commission"})
    frame = ledger.merge(computed, on="partner_id", how="outer").fillna(0.0)
    frame["partner_id"] = frame["partner_id"].astype("int64")
    frame["due"] = (frame["computed_commission"] + frame["ledger_commission"] + frame["ledger_bonus"]).round(2)
    cols = ["partner_id", "computed_commission", "ledger_commission", "ledger_bonus", "due"]
    return frame[cols].sort_values("partner_id").reset_index(drop=True)


def _accrue_one(con: duckdb.DuckDBPyConnection, partner_id: int, start: date, due: float, base: float,
                who: str) -> dict:
    """Bring one line to the due amount; return a report row."""
    line = find_line(con, partner_id, start)
    row = {"partner_id": partner_id, "month": start, "due": due, "before": line.accrued if line else 0.0,
           "action": "unchanged", "overpaid": 0.0}
    if line is not None and line.status == "reversed":
        row.update(payout_id=line.payout_id, after=line.accrued, action="closed")
        return row
    delta = round(due - base, 2)
    if line is None and delta < 0.01:
        row.update(payout_id=None, after=0.0)
        return row
    if delta >= 0.01:
        current = line or Line(0, partner_id, start, 0.0, 0.0, 0.0, "accrued")
        line = _record(con, line, _apply(current, "accrue", delta), "accrue", delta, who,
                       reason=f"due for {start:%Y-%m}: {due:.2f}")
        row["action"] = "accrued"
    elif delta <= -0.01:
        take = min(-delta, line.unpaid)
        row["overpaid"] = round(-delta - take, 2)
        if take >= 0.01:
            line = _record(con, line, _apply(line, "reverse", take), "reverse", take, who, reference=AUTO_REF,
                           reason=f"commission for {start:%Y-%m} recalculated to {due:.2f} (was {base:.2f})")
            row["action"] = "reversed"
    row.update(payout_id=line.payout_id, after=line.accrued)
    return row


def accrue(con: duckdb.DuckDBPyConnection, month: date, who: str,
           due: Mapping[int, float] | None = None) -> pd.DataFrame:
    """Create or update the lines of a month so each accrued amount follows what the partner is due.

    ``due`` (partner_id → amount) overrides the computation (tests, imports). An increase adds pending;
    a decrease is a 'reverse' event (reference ``recalculation``) taking pending first, then approved;
    money already paid is never reversed — the excess is reported in ``overpaid``. Lines a person reversed
    are closed and skipped. Per-deal records (``programme.accrual``) go first: the month's tracked lines follow their
    deals (clawbacks), and a line the month gets for the first time has its deals recorded after it is set. Returns one row per partner: partner_id, month, payout_id, due, before, after,
    action (accrued | reversed | unchanged | closed), overpaid.
    """
    who = _who(who)
    start = month_start(month)
    if due is None:
        due = dict(due_amounts(con, start)[["partner_id", "due"]].itertuples(index=False, name=None))
    targets = {int(k): cents(v) for k, v in due.items()}
    if any(v < 0 for v in targets.values()):
        raise PayoutError("negative_due")
    with atomic(con):
        follow_deals(con, start, who, source="accrue")  # deal changes first: then due − base is what is left
        bases = dict(con.execute(BASE_SQL, [AUTO_REF, start]).fetchall())
        partners = sorted(set(targets) | {int(p) for p in bases})
        rows = [_accrue_one(con, p, start, targets.get(p, 0.0), round(float(bases.get(p, 0.0)), 2), who)
                for p in partners]
        lines_now = accrual.open_lines(con, start).get(start, [])
        accrual.snapshot(con, start, [ln for ln in lines_now if not ln.tracked], "accrue")
    cols = ["partner_id", "month", "payout_id", "due", "before", "after", "action", "overpaid"]
    return pd.DataFrame(rows, columns=cols).astype({"payout_id": "Int64"})


# ---------- per-deal changes (clawbacks) ----------

def deal_effect(con: duckdb.DuckDBPyConnection, payout_id: int, delta: float, reason: str,
                who: str) -> tuple[float, float]:
    """Move a line by one deal's commission change: + accrues; − reverses the unpaid part (an automatic
    reversal, so accrue() keeps it) and returns the rest as withheld (paid money the partner owes back)."""
    line = get_line(con, payout_id)
    if delta >= 0.01:
        _record(con, line, _apply(line, "accrue", delta), "accrue", delta, who, reason=reason)
        return 0.0, 0.0
    take = round(min(-delta, line.unpaid), 2)
    if take >= 0.01:
        _record(con, line, _apply(line, "reverse", take), "reverse", take, who, reference=AUTO_REF, reason=reason)
    return max(take, 0.0), round(-delta - max(take, 0.0), 2)


def _effect_on(con: duckdb.DuckDBPyConnection, who: str, payout_id: int, delta: float,
               reason: str) -> tuple[float, float]:
    return deal_effect(con, payout_id, delta, reason, who)


def follow_deals(con: duckdb.DuckDBPyConnection, month: date | None, who: str, source: str = "sync",
                 today: date | None = None) -> list[accrual.Change]:
    """Bring the tracked open lines (one month or all) to their deals' current commissions; untracked lines
    accrued before migration 0011 get a ``backfill`` snapshot first. Returns the changes written."""
    today = today or account_today(con)
    done: list[accrual.Change] = []
    with atomic(con):
        for m, group in accrual.open_lines(con, month).items():
            if source == "sync":
                accrual.snapshot(con, m, [ln for ln in group if not ln.tracked], "backfill")
            effect = partial(_effect_on, con, who)
            done += accrual.follow(con, m, group, effect, today, who, source)
    return done


# ---------- reconciliation ----------

def replay(events: pd.DataFrame) -> dict[str, float]:
    """Amounts a line must hold after its events, in order: accrued, approved, paid."""
    line = Line(0, 0, date(2000, 1, 1), 0.0, 0.0, 0.0, "accrued")
    for action, amount in events[["action", "amount"]].itertuples(index=False, name=None):
        line = _apply(line, action, float(amount))
    return {"accrued": line.accrued, "approved": line.approved, "paid": line.paid}


def reconcile(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Lines that break a rule (amounts ≠ replay of events, paid > approved, approved > accrued); empty = all fine."""
    stored = con.execute("select payout_id, accrued, approved, paid from payouts order by payout_id").df()
    events = con.execute("select payout_id, action, amount from payout_events order by event_id").df()
    problems = []
    for rec in stored.to_dict("records"):
        expect = replay(events[events["payout_id"] == rec["payout_id"]])
        issues = [f"{k} {rec[k]} ≠ events {v}" for k, v in expect.items() if abs(rec[k] - v) > EPS]
        if rec["paid"] > rec["approved"] + EPS:
            issues.append("paid > approved")
        if rec["approved"] > rec["accrued"] + EPS:
            issues.append("approved > accrued")
        if issues:
            problems.append({"payout_id": rec["payout_id"], "problem": "; ".join(issues)})
    return pd.DataFrame(problems, columns=["payout_id", "problem"])

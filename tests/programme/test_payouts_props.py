"""Property tests: random action sequences never break the payout invariants or the event history."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_layer import store
from programme import payouts as P

MONTHS = (date(2024, 5, 1), date(2024, 6, 1))
PARTNERS = (1, 2)
cents = st.integers(min_value=0, max_value=300_000).map(lambda c: c / 100)
dues = st.dictionaries(st.sampled_from(PARTNERS), cents, min_size=1)

# A person's amount: a fixed one, or one sized against the line so boundaries are hit often.
size = st.one_of(st.sampled_from(["limit", "half", "over", "accrued"]), st.sampled_from(["limit", "half"]), cents)
accrue_step = st.tuples(st.just("accrue"), st.sampled_from(MONTHS), dues)
# People act on one line: approve, then pay, then reverse, each maybe skipped (so payments happen often).
maybe = st.one_of(st.none(), size)
person_step = st.tuples(st.just("people"), st.integers(0, 1), maybe, maybe, maybe)
action = st.one_of(accrue_step, person_step, person_step)


@dataclass
class Oracle:
    """An independent model of one line: what must be legal, and the amounts after it."""

    accrued: float = 0.0
    approved: float = 0.0
    paid: float = 0.0
    closed: bool = False

    def limit(self, kind: str) -> float:
        """The most a person may approve, pay or reverse now."""
        return round({"approve": self.accrued - self.approved, "pay": self.approved - self.paid,
                      "reverse": self.accrued - self.paid}[kind], 2)

    def allows(self, kind: str, amount: float) -> bool:
        """Whether a person's action must be accepted."""
        return not self.closed and amount >= 0.01 and amount <= self.limit(kind) + 1e-9

    def amount(self, kind: str, size: float | str) -> float:
        """A concrete amount for a size."""
        if isinstance(size, float):
            return size
        limit = self.limit(kind)
        return {"limit": limit, "half": round(limit / 2, 2), "over": round(limit + 0.01, 2),
                "accrued": self.accrued}[size]


@pytest.fixture(scope="module")
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    """One in-memory migrated database for the module (emptied before each example)."""
    con = duckdb.connect()
    store.migrate(con)
    con.execute("insert into partners (name, model) values ('Альфа', 'referral'), ('Бета', 'sales')")
    yield con
    con.close()


def _empty(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("payout_events", "payouts", "audit_log"):
        con.execute(store.sql_with_names("delete from {t}", t=table))


def _state(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("select * exclude (updated_at) from payouts order by payout_id").fetchall()


def _check_invariants(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute("select accrued, approved, paid, status from payouts").fetchall()
    for accrued, approved, paid, status in rows:
        assert -P.EPS <= paid <= approved + P.EPS <= accrued + 2 * P.EPS
        assert status == P.derive_status(accrued, approved, paid, status == "reversed")
    n_events = con.execute("select count(*) from payout_events").fetchone()[0]
    n_audit = con.execute("select count(*) from audit_log where entity = 'payout'").fetchone()[0]
    assert n_events == n_audit
    assert P.reconcile(con).empty
    totals = con.execute(
        "select coalesce(sum(paid), 0), (select coalesce(sum(amount), 0) from payout_events where action = 'pay') "
        "from payouts").fetchone()
    assert abs(totals[0] - totals[1]) < P.EPS


def _run_person_action(con, kind: str, pick: int, size: float | str, oracles: dict) -> None:
    ids = [r[0] for r in con.execute("select payout_id from payouts order by payout_id").fetchall()]
    if not ids:
        return
    pid = ids[pick % len(ids)]
    oracle = oracles[pid]
    amount = oracle.amount(kind, size)
    before, paid_before = _state(con), P.get_line(con, pid).paid
    try:
        if kind == "approve":
            P.approve(con, pid, amount, "tester")
        elif kind == "pay":
            P.pay(con, pid, amount, date(2024, 7, 1), "ref", "tester")
        else:
            P.reverse(con, pid, amount, "property test", "tester")
    except P.PayoutError:
        assert not oracle.allows(kind, amount), f"{kind} {amount} refused on {oracle}"
        assert _state(con) == before  # a refused action changes nothing
        return
    assert oracle.allows(kind, amount), f"{kind} {amount} accepted on {oracle}"
    _oracle_apply(oracle, kind, amount)
    line = P.get_line(con, pid)
    assert (line.accrued, line.approved, line.paid) == pytest.approx((oracle.accrued, oracle.approved, oracle.paid))
    assert line.paid >= paid_before  # money paid never goes back
    assert (line.status == "reversed") == oracle.closed


def _oracle_apply(oracle: Oracle, kind: str, amount: float) -> None:
    if kind == "approve":
        oracle.approved = round(oracle.approved + amount, 2)
    elif kind == "pay":
        oracle.paid = round(oracle.paid + amount, 2)
    else:
        oracle.accrued = round(oracle.accrued - amount, 2)
        oracle.approved = min(oracle.approved, oracle.accrued)
        oracle.closed = oracle.accrued < P.EPS and oracle.paid < P.EPS


def _run_accrue(con, month: date, due: dict[int, float], oracles: dict) -> None:
    report = P.accrue(con, month, "tester", due=due)
    for row in report.to_dict("records"):
        if pd.isna(row["payout_id"]):
            assert row["after"] == 0
            continue
        pid = int(row["payout_id"])
        oracle = oracles.setdefault(pid, Oracle())
        line = P.get_line(con, pid)
        if oracle.closed:
            assert row["action"] == "closed" and line.accrued == oracle.accrued
            continue
        # accrued follows the due amount except where money already paid or a person's deduction holds it
        assert line.accrued >= line.paid - P.EPS
        assert row["overpaid"] == pytest.approx(max(0.0, round(line.accrued - row["due"] + _deducted(con, pid), 2)))
        oracle.accrued, oracle.approved = line.accrued, min(oracle.approved, line.accrued)
        assert line.approved == pytest.approx(oracle.approved)


def _deducted(con: duckdb.DuckDBPyConnection, payout_id: int) -> float:
    """Amount reversed by people (not by recalculation) on a line."""
    return con.execute(
        "select coalesce(sum(amount), 0) from payout_events where payout_id = ? and action = 'reverse' "
        "and reference is distinct from ?", [payout_id, P.AUTO_REF]).fetchone()[0]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dues, st.lists(action, min_size=3, max_size=8))
def test_random_action_sequences_keep_the_invariants(db, first_due, actions) -> None:
    _empty(db)
    oracles: dict[int, Oracle] = {}
    for kind, *args in [("accrue", MONTHS[0], first_due), *actions]:
        if kind == "accrue":
            month, due = args
            _run_accrue(db, month, due, oracles)
            continue
        pick, *sizes = args
        for person_kind, amount in zip(("approve", "pay", "reverse"), sizes, strict=True):
            if amount is not None:
                _run_person_action(db, person_kind, pick, amount, oracles)
    _check_invariants(db)

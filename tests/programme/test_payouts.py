"""Payouts: accrual follows the due amount, approve/pay/reverse rules, events and audit rows, read views."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import duckdb
import pandas as pd
import pytest

from data_layer import store
from metrics.filters import Filters
from programme import payout_views as V
from programme import payouts as P

MAY = date(2024, 5, 1)
JUNE = date(2024, 6, 1)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory migrated database with two partners."""
    db = duckdb.connect()
    store.migrate(db)
    db.execute("insert into partners (name, model) values ('=HYPERLINK(\"x\")', 'referral'), ('Бета', 'sales')")
    yield db
    db.close()


def line_of(con: duckdb.DuckDBPyConnection, partner_id: int = 1, month: date = MAY) -> P.Line:
    """The stored line of a partner and month (it must exist)."""
    line = P.find_line(con, partner_id, month)
    assert line is not None
    return line


def test_accrue_creates_lines_and_is_idempotent(con) -> None:
    report = P.accrue(con, date(2024, 5, 17), "anna", due={1: 1000, 2: 250.5})
    assert list(report["action"]) == ["accrued", "accrued"]
    assert line_of(con).accrued == 1000 and line_of(con).month == MAY and line_of(con).status == "accrued"
    again = P.accrue(con, MAY, "anna", due={1: 1000, 2: 250.5})
    assert list(again["action"]) == ["unchanged", "unchanged"]
    assert len(V.events(con)) == 2


def test_zero_due_creates_no_line(con) -> None:
    report = P.accrue(con, MAY, "anna", due={1: 0})
    assert report["action"].tolist() == ["unchanged"] and P.find_line(con, 1, MAY) is None


def test_increase_after_approval_creates_more_pending(con) -> None:
    P.accrue(con, MAY, "anna", due={1: 1000})
    line = P.approve(con, line_of(con).payout_id, 1000, "boris")
    assert line.status == "approved" and line.pending == 0
    P.accrue(con, MAY, "anna", due={1: 1300})
    line = line_of(con)
    assert (line.accrued, line.approved, line.pending, line.status) == (1300, 1000, 300, "accrued")


def test_decrease_takes_pending_first_then_approved_with_a_reason(con) -> None:
    P.accrue(con, MAY, "anna", due={1: 1000})
    pid = line_of(con).payout_id
    P.approve(con, pid, 800, "boris")
    P.accrue(con, MAY, "anna", due={1: 900})  # 100 of pending goes
    assert (line_of(con).accrued, line_of(con).approved) == (900, 800)
    report = P.accrue(con, MAY, "anna", due={1: 500})  # a won deal was lost: below approved
    assert report["action"].tolist() == ["reversed"]
    assert (line_of(con).accrued, line_of(con).approved) == (500, 500)
    last = V.events(con, pid).iloc[-1]
    assert last["action"] == "reverse" and last["reference"] == P.AUTO_REF and "500.00" in last["reason"]


def test_decrease_below_paid_is_reported_as_overpaid_never_unpaid(con) -> None:
    P.accrue(con, MAY, "anna", due={1: 1000})
    pid = line_of(con).payout_id
    P.approve(con, pid, 1000, "boris")
    P.pay(con, pid, 700, JUNE, "п/п 15", "vera")
    report = P.accrue(con, MAY, "anna", due={1: 400})
    assert report.iloc[0]["overpaid"] == 300
    line = line_of(con)
    assert (line.accrued, line.approved, line.paid, line.status) == (700, 700, 700, "paid")
    again = P.accrue(con, MAY, "anna", due={1: 400})  # nothing more to take back, still reported
    assert again.iloc[0]["action"] == "unchanged" and again.iloc[0]["overpaid"] == 300
    P.accrue(con, MAY, "anna", due={1: 900})  # the deal came back: 200 more than paid is pending again
    assert (line_of(con).accrued, line_of(con).pending) == (900, 200)


def test_approve_and_pay_move_the_status(con) -> None:
    P.accrue(con, MAY, "anna", due={1: 1000})
    pid = line_of(con).payout_id
    assert P.approve(con, pid, 400, "boris").status == "accrued"
    assert P.approve(con, pid, 600, "boris").status == "approved"
    assert P.pay(con, pid, 999.99, JUNE, None, "vera").status == "approved"
    line = P.pay(con, pid, 0.01, JUNE, "ref-2", "vera")
    assert (line.paid, line.status) == (1000, "paid")


@pytest.mark.parametrize(("action", "code"), [
    (lambda con, pid: P.approve(con, pid, 1000.01, "b"), "approve_over_pending"),
    (lambda con, pid: P.pay(con, pid, 1, JUNE, None, "b"), "pay_over_approved"),
    (lambda con, pid: P.reverse(con, pid, 1000.01, "r", "b"), "reverse_over_unpaid"),
    (lambda con, pid: P.reverse(con, pid, 10, "  ", "b"), "no_reason"),
    (lambda con, pid: P.approve(con, pid, 0, "b"), "not_positive"),
    (lambda con, pid: P.approve(con, pid, float("nan"), "b"), "not_number"),
    (lambda con, pid: P.approve(con, pid, 10, ""), "no_who"),
    (lambda con, pid: P.pay(con, pid, 10, "2024-06-01", None, "b"), "no_paid_on"),
    (lambda con, pid: P.approve(con, 999, 10, "b"), "no_line"),
])
def test_illegal_actions_raise_a_sentence_and_change_nothing(con, action, code) -> None:
    P.accrue(con, MAY, "anna", due={1: 1000})
    pid = line_of(con).payout_id
    before, n_events, n_audit = line_of(con), len(V.events(con)), _audit_count(con)
    with pytest.raises(P.PayoutError) as info:
        action(con, pid)
    assert info.value.code == code and isinstance(info.value, ValueError)
    assert info.value.text("ru") and info.value.text("en").endswith(".")
    assert line_of(con) == before and len(V.events(con)) == n_events and _audit_count(con) == n_audit


def test_paying_more_than_approved_is_refused(con) -> None:
    P.accrue(con, MAY, "anna", due={1: 1000})
    pid = line_of(con).payout_id
    P.approve(con, pid, 300, "boris")
    with pytest.raises(P.PayoutError, match="approved and unpaid"):
        P.pay(con, pid, 300.01, JUNE, None, "vera")


def test_full_manual_reversal_closes_the_line_for_good(con) -> None:
    P.accrue(con, MAY, "anna", due={1: 1000})
    pid = line_of(con).payout_id
    P.approve(con, pid, 500, "boris")
    line = P.reverse(con, pid, 1000, "партнёр нарушил условия", "boris")
    assert (line.accrued, line.approved, line.status) == (0, 0, "reversed")
    for act in (lambda: P.approve(con, pid, 1, "b"), lambda: P.pay(con, pid, 1, JUNE, None, "b"),
                lambda: P.reverse(con, pid, 1, "x", "b")):
        with pytest.raises(P.PayoutError, match="reversed and is closed"):
            act()
    report = P.accrue(con, MAY, "anna", due={1: 1500})
    assert report.iloc[0]["action"] == "closed" and line_of(con).accrued == 0


def test_partial_manual_reversal_is_not_undone_by_the_next_accrual(con) -> None:
    P.accrue(con, MAY, "anna", due={1: 1000})
    pid = line_of(con).payout_id
    P.reverse(con, pid, 200, "штраф за дубли", "boris")
    assert P.accrue(con, MAY, "anna", due={1: 1000}).iloc[0]["action"] == "unchanged"
    assert line_of(con).accrued == 800
    P.accrue(con, MAY, "anna", due={1: 600})  # the due falls by 400: the deduction stays
    assert line_of(con).accrued == 400


def test_every_action_is_an_event_and_an_audit_row(con) -> None:
    P.accrue(con, MAY, "anna", due={1: 1000})
    pid = line_of(con).payout_id
    P.approve(con, pid, 1000, "boris")
    P.pay(con, pid, 400, JUNE, "п/п 7", "vera")
    P.reverse(con, pid, 100, "возврат клиента", "boris")
    ev = V.events(con, pid)
    assert ev["action"].tolist() == ["accrue", "approve", "pay", "reverse"]
    assert ev["who"].tolist() == ["anna", "boris", "vera", "boris"]
    assert ev.iloc[2]["paid_on"].date() == JUNE and ev.iloc[2]["reference"] == "п/п 7"
    audit = con.execute(
        "select who, action, entity, entity_key, before, after from audit_log where entity = 'payout' "
        "order by event_id").df()
    assert audit["action"].tolist() == ["accrue", "approve", "pay", "reverse"]
    assert set(audit["entity_key"]) == {str(pid)} and pd.isna(audit.iloc[0]["before"])
    before, after = json.loads(audit.iloc[3]["before"]), json.loads(audit.iloc[3]["after"])
    assert (before["accrued"], after["accrued"], after["approved"], after["paid"]) == (1000, 900, 900, 400)
    assert after["month"] == "2024-05-01"
    assert P.reconcile(con).empty


def test_reconcile_finds_a_silent_edit(con) -> None:
    P.accrue(con, MAY, "anna", due={1: 1000})
    con.execute("update payouts set approved = 50")
    problems = P.reconcile(con)
    assert len(problems) == 1 and "approved" in problems.iloc[0]["problem"]


def test_actions_join_an_open_transaction(con) -> None:
    P.accrue(con, MAY, "anna", due={1: 1000})
    pid = line_of(con).payout_id
    con.execute("begin")
    P.approve(con, pid, 10, "boris")
    con.execute("rollback")
    assert line_of(con).approved == 0 and len(V.events(con)) == 1


def test_owed_vs_paid_and_statement(con) -> None:
    P.accrue(con, MAY, "anna", due={1: 1000, 2: 300})
    P.accrue(con, JUNE, "anna", due={1: 500})
    may1 = line_of(con).payout_id
    P.approve(con, may1, 1000, "boris")
    P.pay(con, may1, 600, JUNE, "п/п 1", "vera")
    P.reverse(con, line_of(con, 2).payout_id, 300, "отказ", "boris")
    table = V.owed_vs_paid(con, (MAY, date(2024, 6, 30))).set_index("partner_id")
    assert table.loc[1, ["accrued", "approved", "pending", "paid", "to_pay", "owed"]].tolist() == [
        1500, 1000, 500, 600, 400, 900]
    assert 2 not in table.index  # fully reversed lines owe nothing
    only_may = V.owed_vs_paid(con, Filters(MAY, date(2024, 5, 31), partners=(1,)))
    assert only_may["accrued"].tolist() == [1000]
    assert V.owed_vs_paid(con, Filters(MAY, date(2024, 5, 31), models=("sales",))).empty
    stmt = V.statement(con, 1, (MAY, JUNE))
    assert list(stmt.columns) == V.STATEMENT_COLUMNS and len(stmt) == 2
    assert stmt.iloc[0]["references"] == "п/п 1" and stmt.iloc[0]["owed"] == 400


def test_messages_exist_in_both_languages() -> None:
    assert set(P.MESSAGES["ru"]) == set(P.MESSAGES["en"])
    err = P.PayoutError("pay_over_approved", payout_id=3, amount=5.0, to_pay=1234.5)
    assert "1\u00a0234,50" in err.text("ru") and "1,234.50" in err.text("en")


def _audit_count(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select count(*) from audit_log").fetchone()[0]

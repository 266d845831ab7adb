"""Clawbacks: a deal that leaves "won", is deleted or loses price after its commission was accrued gets one dated
reversal; paid money is withheld (negative balance); the step is idempotent; accrued − reversed = what the current
deals earn, after any sequence of edits (hypothesis)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.clawbacks import MAY, PARTNER, TODAY, build

from data_layer import store
from programme import accrual, clawbacks, payout_views, payouts

ROOT = Path(__file__).resolve().parents[2]
MID_MAY = int(datetime(2025, 5, 15, 12, tzinfo=ZoneInfo("Europe/Moscow")).timestamp())


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo account (300 leads) with May 2025 accrued, partner 12's May line approved and paid."""
    return build(tmp_path_factory.mktemp("clawbacks") / "base.duckdb")


@pytest.fixture
def con(base_db: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A writable copy of the base database."""
    path = tmp_path / "db.duckdb"
    shutil.copy(base_db, path)
    with store.connect(path) as c:
        yield c


def deals_of(con: duckdb.DuckDBPyConnection, partner_id: int = PARTNER) -> list[int]:
    """The partner's won deals closed in May, by id."""
    return [r[0] for r in con.execute(
        "select lead_id from lead_facts where partner_id = ? and is_won and date_trunc('month', closed_date) = ? "
        "order by lead_id", [partner_id, MAY]).fetchall()]


def edit(con: duckdb.DuckDBPyConnection, lead_id: int, op: str) -> None:
    """Change one lead the way a sync would bring it: win (in May) / reopen / lose / delete / price up / down."""
    sql, args = {
        "win": ("update raw_leads set status_id = 142, closed_at = ?, is_deleted = false where id = ?", [MID_MAY]),
        "reopen": ("update raw_leads set status_id = (select min(status_id) from raw_statuses s where s.pipeline_id "
                   "= raw_leads.pipeline_id and s.status_id not in (142, 143)), is_deleted = false where id = ?", []),
        "lose": ("update raw_leads set status_id = 143, is_deleted = false where id = ?", []),
        "delete": ("update raw_leads set is_deleted = true where id = ?", []),
        "price_up": ("update raw_leads set price = price * 3 / 2, price_minor = price_minor * 1.5 where id = ?", []),
        "price_down": ("update raw_leads set price = price / 2, price_minor = price_minor / 2 where id = ?", []),
    }[op]
    con.execute(sql, [*args, lead_id])


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """What a sync does after writing raw rows."""
    store.rebuild_facts(con)


def net_by_deal(con: duckdb.DuckDBPyConnection) -> dict[tuple[int, int], float]:
    """Σ accrued − Σ reversed per (deal, partner) of May."""
    partners = [ln.partner_id for ln in accrual.open_lines(con, MAY)[MAY]]
    frame = accrual.recorded(con, MAY, partners)
    return {(int(r.lead_id), int(r.partner_id)): round(float(r.net), 2) for r in frame.itertuples() if abs(r.net) >= 0.01}


def earned_by_deal(con: duckdb.DuckDBPyConnection) -> dict[tuple[int, int], float]:
    """What each lead earns for May now by the rules."""
    partners = [ln.partner_id for ln in accrual.open_lines(con, MAY)[MAY]]
    frame = accrual.current_deals(con, MAY, partners)
    return {(int(r.lead_id), int(r.partner_id)): float(r.commission) for r in frame.itertuples()}


def counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    """Rows in deal_accruals, payout_reversals, payout_events."""
    return con.execute("select (select count(*) from deal_accruals), (select count(*) from payout_reversals), "
                       "(select count(*) from payout_events)").fetchone()  # type: ignore[return-value]


def test_accrue_records_each_deal_of_the_month(con: duckdb.DuckDBPyConnection) -> None:
    recorded = net_by_deal(con)
    assert recorded == earned_by_deal(con) and recorded
    computed = payouts.computed_commission(con, MAY).set_index("partner_id")["amount"]
    for partner, amount in computed.items():
        assert round(sum(v for (_, p), v in recorded.items() if p == partner), 2) == round(float(amount), 2)
    assert clawbacks.run(con, TODAY) == []  # nothing changed since the accrual


def test_a_reopened_paid_deal_is_reversed_once_and_withheld(con: duckdb.DuckDBPyConnection) -> None:
    deal = deals_of(con)[0]
    before = clawbacks.balance(con, PARTNER)
    edit(con, deal, "reopen")
    rebuild(con)
    done = clawbacks.run(con, TODAY)
    mine = [c for c in done if c.lead_id == deal]
    assert len(mine) == 1 and mine[0].reason == "reopened" and mine[0].after == 0
    rev = clawbacks.reversals(con, PARTNER)
    row = rev[rev["lead_id"] == deal].iloc[0]
    assert row["statement_month"].date() == date(2025, 7, 1) and row["accrual_month"].date() == MAY
    assert row["withheld"] == pytest.approx(row["amount"]) and row["taken_from_line"] == 0  # the line was paid
    assert clawbacks.balance(con, PARTNER) < 0 <= before + 0.01
    assert clawbacks.run(con, TODAY) == []  # idempotent
    assert payouts.reconcile(con).empty
    report = payouts.accrue(con, MAY, "anna")  # the manual recalculation agrees: nothing more to reverse
    mine = report[report["partner_id"] == PARTNER].iloc[0]
    assert mine["action"] == "unchanged" and mine["overpaid"] == 0


def test_the_carried_balance_goes_into_the_next_statement(con: duckdb.DuckDBPyConnection) -> None:
    deal = deals_of(con)[0]
    edit(con, deal, "delete")
    rebuild(con)
    clawbacks.run(con, TODAY)
    july = clawbacks.period_balances(con, PARTNER, date(2025, 7, 1), date(2025, 7, 31))
    august = clawbacks.period_balances(con, PARTNER, date(2025, 8, 1), date(2025, 8, 31))
    assert july.carried == pytest.approx(0) and july.closing < 0
    assert august.carried == pytest.approx(july.closing)
    assert clawbacks.reversals(con, PARTNER)["reason"].tolist()[0] == "deleted"


def test_unpaid_commission_comes_off_the_line(con: duckdb.DuckDBPyConnection) -> None:
    other = next(ln for ln in accrual.open_lines(con, MAY)[MAY] if ln.partner_id == 11)  # sales, unpaid
    deal = deals_of(con, 11)[0]
    line = payouts.get_line(con, other.payout_id)
    edit(con, deal, "lose")
    rebuild(con)
    clawbacks.run(con, TODAY)
    after = payouts.get_line(con, other.payout_id)
    row = clawbacks.reversals(con, other.partner_id).iloc[0]
    assert row["withheld"] == 0 and after.accrued == pytest.approx(line.accrued - row["amount"])


def test_a_price_drop_and_a_win_again(con: duckdb.DuckDBPyConnection) -> None:
    deal = deals_of(con)[0]
    edit(con, deal, "price_down")
    rebuild(con)
    first = [c for c in clawbacks.run(con, TODAY) if c.lead_id == deal]
    assert first[0].reason == "price_drop" and first[0].after > 0
    edit(con, deal, "price_up")
    edit(con, deal, "price_up")
    rebuild(con)
    again = [c for c in clawbacks.run(con, TODAY) if c.lead_id == deal]
    assert again[0].reason is None and again[0].delta > 0  # accrues again
    assert net_by_deal(con) == earned_by_deal(con)


OPS = ("win", "reopen", "lose", "delete", "price_up", "price_down", "run", "accrue")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 5)), min_size=1, max_size=7))
def test_accrued_minus_reversed_is_what_the_deals_earn(con: duckdb.DuckDBPyConnection,
                                                       steps: list[tuple[str, int]]) -> None:
    # the partner's two paid May deals, one unpaid May deal of partner 11, and three other leads (they may be won into May)
    others = con.execute("select lead_id from lead_facts where partner_id in (?, 10) and not is_won order by lead_id "
                         "limit 3", [PARTNER]).fetchall()
    pool = [(d,) for d in deals_of(con) + deals_of(con, 11)] + others
    con.execute("begin")
    try:
        for op, i in [*steps, ("run", 0)]:
            if op in ("run", "accrue"):  # the after-sync step, or a manager's recalculation of May
                rebuild(con)
                if op == "run":
                    clawbacks.run(con, TODAY)
                else:
                    payouts.accrue(con, MAY, "anna")
                assert net_by_deal(con) == earned_by_deal(con)
            else:
                edit(con, pool[i % len(pool)][0], op)
        before = counts(con)
        assert clawbacks.run(con, TODAY) == [] and counts(con) == before  # running twice writes nothing
        assert payouts.reconcile(con).empty
        bases = dict(con.execute(payouts.BASE_SQL, [payouts.AUTO_REF, MAY]).fetchall())
        due = payouts.due_amounts(con, MAY).set_index("partner_id")["due"]
        for partner, base in bases.items():  # what the line recorded = what the partner is due now
            assert round(float(base), 2) == pytest.approx(float(due.get(partner, 0.0)), abs=0.011)
    finally:
        con.execute("rollback")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "programme", "clawbacks", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_cli_prints_one_line_per_reversal_and_dry_run_writes_nothing(base_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "cli.duckdb"
    shutil.copy(base_db, path)
    with store.connect(path) as c:
        deal = deals_of(c)[0]
        edit(c, deal, "lose")
        rebuild(c)
    dry = _cli("--db", str(path), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"reversal (lost): deal {deal}" in dry.stdout and "dry run" in dry.stdout
    with store.connect(path, read_only=True) as c:
        assert c.execute("select count(*) from payout_reversals").fetchone()[0] == 0
    done = _cli("--db", str(path), "--after-sync")
    assert done.returncode == 0 and f"reversal (lost): deal {deal}" in done.stdout
    again = _cli("--db", str(path))
    assert again.stdout.strip().splitlines() == ["Clawbacks: 0 reversals, 0 accruals."]


def test_cli_bad_db_is_one_sentence_and_exit_1(tmp_path: Path) -> None:
    junk = tmp_path / "notes.duckdb"
    junk.write_text("not a database", encoding="utf-8")
    for path in (junk, tmp_path / "missing.duckdb"):
        done = _cli("--db", str(path))
        assert done.returncode == 1 and done.stdout == ""
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in done.stderr
    assert not (tmp_path / "missing.duckdb").exists()


def test_a_debt_is_withheld_from_a_later_line_and_the_balance_keeps(con: duckdb.DuckDBPyConnection) -> None:
    edit(con, deals_of(con)[0], "lose")
    rebuild(con)
    clawbacks.run(con, TODAY)
    owed = clawbacks.outstanding(con, PARTNER)
    assert owed > 0
    june = date(2025, 6, 1)
    payouts.accrue(con, june, "anna", due={PARTNER: round(owed + 1000, 2)})
    line = payouts.find_line(con, PARTNER, june)
    assert line is not None
    payouts.approve(con, line.payout_id, line.accrued, "boris")
    before = clawbacks.balance(con, PARTNER)
    assert clawbacks.withhold_limit(con, line.payout_id) == pytest.approx(owed)
    with pytest.raises(clawbacks.ClawbackError) as refused:
        clawbacks.withhold(con, line.payout_id, owed + 1, TODAY, "boris")
    assert "не больше" in refused.value.text("ru")
    after = clawbacks.withhold(con, line.payout_id, owed, TODAY, "boris")
    assert after.to_pay == pytest.approx(1000) and clawbacks.outstanding(con, PARTNER) == 0
    assert clawbacks.balance(con, PARTNER) == pytest.approx(before) == pytest.approx(1000)
    assert payout_views.events(con, line.payout_id)["reference"].iloc[-1] == clawbacks.WITHHELD_REF
    with pytest.raises(clawbacks.ClawbackError) as nothing:
        clawbacks.withhold(con, line.payout_id, 1, TODAY, "boris")
    assert nothing.value.code == "nothing_owed" and payouts.reconcile(con).empty

"""The demo's payout history: months accrued, approved and paid, three later deal changes, dated clawbacks, one
negative balance; idempotent; the KPIs differ from the plain demo only by what the three deals imply."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from data_layer import demo, store
from data_layer.demo import later
from metrics import engine
from metrics.filters import Filters
from programme import __main__ as cli
from programme import clawbacks, demo_history, payouts

END = date(2025, 6, 30)
ARGS = ["--leads", "2000", "--seed", "42", "--end-date", END.isoformat()]
WRITTEN = ("payouts", "payout_events", "payout_reversals", "deal_accruals", "audit_log", "raw_lead_status_events")


def _build(path: Path, steps: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m data_layer demo` with the payout history on or off."""
    monkeypatch.setenv("PARTNER_ROI_AFTER_SYNC", "1" if steps else "0")
    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    assert demo.run(parser.parse_args(["--db", str(path), *ARGS])) == 0


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the demo with its payout history, the same demo without it)."""
    base = tmp_path_factory.mktemp("demo_history")
    with pytest.MonkeyPatch.context() as mp:
        _build(base / "history.duckdb", True, mp)
        _build(base / "plain.duckdb", False, mp)
    return base / "history.duckdb", base / "plain.duckdb"


def _counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(store.sql_with_names("select count(*) from {t}", t=t)).fetchone()[0] for t in WRITTEN}


def test_the_demo_has_paid_history_reversals_and_a_negative_balance(built: tuple[Path, Path]) -> None:
    path, _ = built
    with duckdb.connect(str(path), read_only=True) as con:
        months = [m for (m,) in con.execute("select distinct month from payouts order by 1").fetchall()]
        assert months == [date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1)]
        status = dict(con.execute("select status, count(*) from payouts group by 1").fetchall())
        assert status.get("paid", 0) > 0 and status.get("approved", 0) > 0 and "accrued" not in status
        rev = clawbacks.reversals(con)
        assert len(rev) == 3 and set(rev["reason"]) == {"reopened", "lost", "price_drop"}
        assert rev["partner_id"].nunique() == 3
        withheld = rev[rev["withheld"] > 0]
        assert withheld["reason"].tolist() == ["reopened"]
        negative = clawbacks.balances(con).query("closing < 0")
        assert negative["partner_id"].tolist() == withheld["partner_id"].tolist()
        assert payouts.reconcile(con).empty
        assert store.get_meta(con, later.DONE_KEY).count(":") == 3


def test_running_the_steps_again_writes_nothing(built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = built
    before = _counts(path)
    monkeypatch.setenv("PARTNER_ROI_AFTER_SYNC", "1")
    assert later.add_history(path) == []
    assert _counts(path) == before


# Account-wide columns a partner's row shares with every other: its share of the total and the maturity curve
# (with what it projects) are drawn from all deals, so three changed deals move them for everyone.
ACCOUNT_WIDE = ("revenue_share", "maturity", "projected_")


def _kpis_and_facts(path: Path, f: Filters) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as con:
        return (engine.kpis(con, f, by="partner").set_index("partner_id").sort_index(), engine.kpis(con, f),
                con.execute("select lead_id, status_id, is_won, amount from lead_facts order by 1").df())


def test_kpis_differ_from_the_plain_demo_only_by_the_three_deals(built: tuple[Path, Path]) -> None:
    path, plain = built
    f = Filters(date(2024, 7, 1), END)
    with duckdb.connect(str(path), read_only=True) as con:
        changed = dict(con.execute("select lead_id, partner_id from payout_reversals").fetchall())
    after, total_after, facts_after = _kpis_and_facts(path, f)
    before, total_before, facts_before = _kpis_and_facts(plain, f)
    diff = facts_after.merge(facts_before, on="lead_id", suffixes=("", "_was"))
    moved = diff[(diff["status_id"] != diff["status_id_was"]) | (diff["amount"] != diff["amount_was"])]
    assert sorted(moved["lead_id"]) == sorted(changed)
    others = [p for p in before.index if p not in set(changed.values())]
    own = [c for c in before.columns if not c.startswith(ACCOUNT_WIDE)]
    pd.testing.assert_frame_equal(after.loc[others, own], before.loc[others, own])
    # won revenue falls by the two lost deals' amounts and the price cut, nothing else
    lost_revenue = float((moved["amount_was"] * moved["is_won_was"] - moved["amount"] * moved["is_won"]).sum())
    assert lost_revenue > 0
    assert float(total_before["revenue"].iloc[0] - total_after["revenue"].iloc[0]) == pytest.approx(lost_revenue)
    assert int(total_before["won_deals"].iloc[0] - total_after["won_deals"].iloc[0]) == 2


def test_demo_history_refuses_a_database_that_is_not_a_demo(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "crm.duckdb"
    store.init_db(path)
    assert cli.main(["demo-history", "--db", str(path)]) == 1
    assert "not a demo database" in capsys.readouterr().err
    with store.connect(path) as con, pytest.raises(demo_history.NotDemo):
        demo_history.run(con)


def test_history_months_are_the_finished_months_before_the_end() -> None:
    assert demo_history.history_months(date(2025, 1, 15)) == [date(2024, 10, 1), date(2024, 11, 1),
                                                             date(2024, 12, 1)]

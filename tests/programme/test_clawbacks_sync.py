"""Against the emulator: a sync that reopens a won deal whose commission was approved leaves a reversal row, written
by the after-sync step of the real CLI sync (PARTNER_ROI_AFTER_SYNC=1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from emulator import Emulator, make_records
from emulator.harness import config_for, run_cli

from data_layer import store
from programme import clawbacks, payouts


def test_a_sync_that_reopens_an_approved_deal_writes_a_reversal(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_ROI_AFTER_SYNC", "1")
    db = tmp_path / "a.duckdb"
    with Emulator(make_records(60), rate_limit=None) as emu:
        config = config_for(emu, tmp_path)
        first = run_cli(db, config)
        assert first.returncode == 0, first.stderr
        assert "after sync: programme clawbacks — ok: Clawbacks: 0 reversals, 0 accruals." in first.stderr
        with store.connect(db) as con:
            lead_id, partner_id, month, amount, pipeline = con.execute(
                "select lead_id, partner_id, date_trunc('month', closed_date)::date, amount, pipeline_id "
                "from lead_facts where is_won and partner_id is not null order by closed_date desc limit 1").fetchone()
            # the rule is the deal's partner's own: the newest won deal's partner may be of any model (a rule on
            # one model left it without commission on some days, and the test without a line)
            con.execute("insert into commission_rules (partner_id, kind, rate, valid_from) "
                        "values (?, 'percent_revenue', 0.1, date '2020-01-01')", [partner_id])
            report = payouts.accrue(con, month, "anna")
            line = payouts.find_line(con, partner_id, month)
            assert line is not None and line.accrued >= round(amount * 0.1, 2), report.to_dict("records")
            payouts.approve(con, line.payout_id, line.accrued, "boris")
            open_status = con.execute("select min(status_id) from raw_statuses where pipeline_id = ? "
                                      "and status_id not in (142, 143)", [pipeline]).fetchone()[0]
        emu.move_lead(int(lead_id), int(open_status))
        second = run_cli(db, config)
    assert second.returncode == 0, second.stderr
    assert "after sync: programme clawbacks — ok: Clawbacks: 1 reversals, 0 accruals." in second.stderr
    with store.connect(db, read_only=True) as con:
        rev = clawbacks.reversals(con, partner_id)
        after = payouts.get_line(con, line.payout_id)
    assert rev["lead_id"].tolist() == [lead_id] and rev["reason"].tolist() == ["reopened"]
    assert rev["amount"].iloc[0] == pytest.approx(round(amount * 0.1, 2))
    assert rev["taken_from_line"].iloc[0] == pytest.approx(rev["amount"].iloc[0])  # approved, unpaid: off the line
    assert after.accrued == pytest.approx(line.accrued - rev["amount"].iloc[0]) and after.approved == after.accrued

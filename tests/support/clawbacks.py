"""A small demo account with May 2025 accrued and one partner's May line paid: the clawback tests' database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from data_layer import store
from data_layer.demo import load_demo
from programme import clawbacks, payouts

MAY = date(2025, 5, 1)
TODAY = date(2025, 7, 3)   # reversals written "today" land in the July 2025 statement
PARTNER = 12               # a sales partner (10 % up to 1 M a month, 15 % above) with two deals closed in May


def build(path: Path) -> Path:
    """Build the account at path: 300 demo leads, May accrued for every partner, partner 12's line approved and paid."""
    load_demo(path, n_leads=300, seed=7)
    store.upgrade(path)
    with store.connect(path) as con:
        payouts.accrue(con, MAY, "anna")
        line = payouts.find_line(con, PARTNER, MAY)
        assert line is not None and line.accrued > 0
        payouts.approve(con, line.payout_id, line.accrued, "boris")
        payouts.pay(con, line.payout_id, line.accrued, date(2025, 6, 5), "pp-17", "boris")
    return path


def reopen_first_deal(path: Path) -> int:
    """Reopen the partner's first May deal, rebuild the facts and run the clawback step; the deal's id."""
    with store.connect(path) as con:
        deal = con.execute(
            "select min(lead_id) from lead_facts where partner_id = ? and is_won and date_trunc('month', closed_date) = ?",
            [PARTNER, MAY]).fetchone()[0]
        con.execute("update raw_leads set status_id = (select min(status_id) from raw_statuses s where s.pipeline_id "
                    "= raw_leads.pipeline_id and s.status_id not in (142, 143)) where id = ?", [deal])
        store.rebuild_facts(con)
        clawbacks.run(con, TODAY)
    store.bump_version(path)
    return int(deal)

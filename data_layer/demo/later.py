"""The demo's "later CRM changes": after its payout history is written, 2–3 accrued won deals change in amoCRM.

One deal on a fully paid line is reopened (so the clawback withholds paid money and its partner's balance goes
negative), one is lost (142 → 143), one has its price lowered (those two on lines not yet paid, so they come off
the line); all of different partners and each at one flat rate, so no other deal's commission moves. Each change is written to the raw tables as a
sync would see it (lead row and a status event), then derived facts are rebuilt. Called by `python -m programme
demo-history` (which the demo build starts as a process: data_layer never imports programme) between the payout
history and the clawback step; once (meta ``demo_later_changes``).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from data_layer import store
from data_layer.demo.user_tables import OVERRIDE_RATE, SALES_TIERS
from data_layer.sync import after

WON, LOST = 142, 143
PRICE_FACTOR = 0.6   # a lowered price keeps 60 % of the deal
DONE_KEY = "demo_later_changes"
HISTORY_STEP = ("programme", "demo-history")  # the payout history, then these changes and their clawbacks

# Won deals on the demo's payout lines, largest commission first, with whether the line is fully paid and what the
# partner is owed over all its lines (a reopened deal on a paid line bigger than that leaves a negative balance).
CANDIDATES_SQL = """
with owed as (select partner_id, sum(accrued - paid) as owed from payouts group by partner_id)
select d.lead_id, d.partner_id, d.amount, p.paid >= p.accrued - 0.005 and p.paid > 0 as paid_line, o.owed, d.price
from deal_accruals d
join payouts p on p.partner_id = d.partner_id and p.month = d.month
join owed o on o.partner_id = d.partner_id
join raw_leads l on l.id = d.lead_id
where d.status_id = ? and d.amount >= 1 and l.status_id = ? and not coalesce(l.is_deleted, false) and l.price > 0
order by d.amount desc, d.lead_id
"""

# The stage a won deal came from (its last move into 142), to reopen it there.
BACK_STAGE_SQL = """
select status_before, pipeline_before from raw_lead_status_events
where lead_id = ? and status_after = ? order by created_at desc, id desc limit 1
"""


def _flat(row: tuple) -> bool:
    """Whether a deal earned one flat rate (its month below the sales tier, or the override): changing it moves
    no other deal's commission, so the demo shows one reversal per change rather than a tier's ripple."""
    amount, price = float(row[2]), float(row[5] or 0)
    return any(abs(amount - price * rate) < 0.01 for rate in (SALES_TIERS[0]["rate"], OVERRIDE_RATE))


def pick(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    """(lead_id, change) for up to three deals of different partners: reopened, lost, price_drop."""
    rows = con.execute(CANDIDATES_SQL, [WON, WON]).fetchall()
    rows = [r for r in rows if _flat(r)] or rows
    chosen: list[tuple[int, str]] = []
    partners: set[int] = set()
    reopen = next((r for r in rows if r[3] and r[2] > r[4] + 0.01), None)
    if reopen is not None:
        chosen.append((int(reopen[0]), "reopened"))
        partners.add(int(reopen[1]))
    for change in ("lost", "price_drop"):  # preferably on lines not yet paid: taken from the line, not withheld
        rest = [r for r in rows if int(r[1]) not in partners]
        row = next((r for r in rest if not r[3]), rest[0] if rest else None)
        if row is not None:
            chosen.append((int(row[0]), change))
            partners.add(int(row[1]))
    return chosen


def _change(con: duckdb.DuckDBPyConnection, lead_id: int, change: str, at: int) -> None:
    """Write one change to the lead row (and a status event when the stage moves)."""
    if change == "price_drop":
        con.execute("update raw_leads set price = round(price * ?), price_minor = round(price * ?), updated_at = ? "
                    "where id = ?", [PRICE_FACTOR, PRICE_FACTOR, at, lead_id])
        return
    pipeline = con.execute("select pipeline_id from raw_leads where id = ?", [lead_id]).fetchone()[0]
    if change == "reopened":
        back = con.execute(BACK_STAGE_SQL, [lead_id, WON]).fetchone()
        status = int(back[0]) if back and back[0] not in (None, WON, LOST) else None
        if status is None:  # no stage history: the pipeline's first open stage
            status = con.execute("select status_id from raw_statuses where pipeline_id = ? and status_id not in "
                                 "(?, ?) order by sort limit 1", [pipeline, WON, LOST]).fetchone()[0]
        con.execute("update raw_leads set status_id = ?, closed_at = null, updated_at = ? where id = ?",
                    [status, at, lead_id])
    else:
        status = LOST
        con.execute("update raw_leads set status_id = ?, closed_at = ?, updated_at = ? where id = ?",
                    [LOST, at, at, lead_id])
    con.execute("insert into raw_lead_status_events (id, lead_id, created_at, created_by, pipeline_before, "
                "status_before, pipeline_after, status_after) values (?, ?, ?, 0, ?, ?, ?, ?)",
                [f"demo-later-{lead_id}", lead_id, at, pipeline, WON, pipeline, status])


def apply_later_changes(path: str | Path) -> list[tuple[int, str]]:
    """Change the picked deals of a demo database once and rebuild derived facts; the (lead_id, change) written."""
    with store.connect(path) as con:
        if store.get_meta(con, "source") != "demo" or store.get_meta(con, DONE_KEY) is not None:
            return []
        con.execute("begin")
        try:
            chosen = pick(con)
            at = int(time.time())  # "later": the moment of the build, after every accrual
            for lead_id, change in chosen:
                _change(con, lead_id, change, at)
            store.set_meta(con, DONE_KEY, ",".join(f"{lead}:{change}" for lead, change in chosen))
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    if chosen:
        store.refresh_derived(path)
    return chosen


def add_history(path: str | Path) -> list[str]:
    """Run `python -m programme demo-history` (history, these changes, clawbacks); one line if it fails (the build
    itself stands)."""
    return [f"demo payout history: {r.step} failed: {r.line}" for r in after.run_steps(path, (HISTORY_STEP,))
            if not r.ok]

"""The vectorised core: generates the demo one block of leads at a time; every random number is drawn here."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from data_layer.demo.account import LEAD_ID_BASE, REGULAR
from data_layer.demo.cast import NP, P_MODEL, SERVICE_PIPELINE_SHARE
from data_layer.demo.clients import (
    State,
    company_links,
    contact_links,
    draw_clients,
    new_companies,
    new_contacts,
    update_pool,
)
from data_layer.demo.lead_details import (
    field_rows,
    finish_leads,
    lost_depth,
    pick,
    responsible_users,
    stage_events,
    tag_rows,
)
from data_layer.demo.plan import MONTHS, Plan
from data_layer.demo.returning import phone_of


@dataclass
class Block:
    """One block of generated leads and what belongs to them, as arrays."""

    leads: dict[str, np.ndarray]
    fields: dict[str, np.ndarray]          # one row per custom-field value, sorted by lead
    tags: dict[str, np.ndarray]            # one row per lead tag, sorted by lead
    links: dict[str, np.ndarray]           # lead -> contact (is_main), sorted by lead
    company_links: dict[str, np.ndarray]   # lead -> company
    events: dict[str, np.ndarray]          # lead_status_changed
    contacts: dict[str, np.ndarray]        # contacts created in this block
    companies: dict[str, np.ndarray]


@dataclass
class Stats:
    """Partner x month aggregates the cost ledger is calibrated on (row 0 = direct)."""

    leads: np.ndarray = field(default_factory=lambda: np.zeros((NP + 1, MONTHS)))
    qualified: np.ndarray = field(default_factory=lambda: np.zeros((NP + 1, MONTHS)))
    revenue: np.ndarray = field(default_factory=lambda: np.zeros((NP + 1, MONTHS)))          # by created month
    revenue_closed: np.ndarray = field(default_factory=lambda: np.zeros((NP + 1, MONTHS)))   # by closed month

    def add(self, plan: Plan, blk: Block) -> None:
        """Accumulate one block."""
        ld = blk.leads
        alive = ~ld["is_deleted"]
        p, m = ld["partner"], plan.month_of(ld["created_at"])
        won = ld["status_id"] == 142
        np.add.at(self.leads, (p[alive], m[alive]), 1)
        np.add.at(self.qualified, (p[alive & ld["qualified"]], m[alive & ld["qualified"]]), 1)
        np.add.at(self.revenue, (p[won], m[won]), ld["price_minor"][won])
        mc = plan.month_of(ld["close_ts"][won])
        np.add.at(self.revenue_closed, (p[won], mc), ld["price_minor"][won])


# Rows of the per-lead uniform matrix, in the fixed order they are drawn.
U_ROWS = ("time", "id", "partner", "repeat", "outcome", "contact", "second", "company", "phone", "phone2",
          "email", "name", "name2", "company_name", "pipeline", "incoming", "depth", "price_has", "price_frac",
          "kopecks", "reason", "source", "utm", "utm_kind", "responsible", "delete", "delete_delay", "src",
          "repeat_partner", "junk_close", "second_phone", "second_email", "vip", "contact_age", "contact_touch")
Z_ROWS = ("close", "price")


def _draw_block(plan: Plan, b: int, state: State) -> Block:
    """Generate block b (leads b*GEN_BLOCK ...) and advance the state; the only place that draws numbers."""
    lo, hi = plan.block_range(b)
    rng = np.random.default_rng([plan.seed, b])
    u = dict(zip(U_ROWS, rng.random((len(U_ROWS), hi - lo)), strict=True))
    z = dict(zip(Z_ROWS, rng.standard_normal((len(Z_ROWS), hi - lo)), strict=True))
    idx = np.arange(lo, hi)
    # Creation times: stratified over the intensity curve, so ids grow with time.
    created = np.floor(np.interp((idx + u["time"]) / plan.n, plan.grid_cdf, plan.grid_ts)).astype(np.int64)
    created = np.minimum(created, plan.horizon_ts - 1)
    month = plan.month_of(created)
    leads = {"lead_id": LEAD_ID_BASE + 3 * idx + (u["id"] * 3).astype(np.int64), "created_at": created,
             "month": month, "partner": pick(plan.partner_cum[month], u["partner"])}
    has_contact, new_main, b2b = draw_clients(plan, state, u, z, leads)
    pipe = (u["pipeline"] < SERVICE_PIPELINE_SHARE[P_MODEL[leads["partner"]]]).astype(np.int64)
    k, outcome = REGULAR[pipe], leads["outcome"]
    start = np.where(u["incoming"] < np.where(leads["partner"] > 0, 0.45, 0.35), 0, 1)
    depth = np.select([outcome == 0, outcome == 2], [k, start], lost_depth(pipe, u["depth"]))
    leads.update(pipe=pipe, start=start, responsible=responsible_users(pipe, month, u["responsible"]))
    events = stage_events(plan, rng, leads, depth, np.where(outcome == 0, k + 1, k + 2))
    finish_leads(plan, u, z, leads)
    second = has_contact & (u["second"] < 0.08)
    contacts = new_contacts(plan, state, u, leads, new_main, second)
    contacts["phone_of"] = phone_of(state.direct_pool, leads, contacts, new_main)
    companies = new_companies(plan, u, leads, b2b)
    update_pool(state, leads)
    return Block(leads=leads, fields=field_rows(leads), tags=tag_rows(leads),
                 links=contact_links(leads, second), company_links=company_links(leads), events=events,
                 contacts=contacts, companies=companies)


def iter_blocks(plan: Plan, stats: Stats | None = None) -> Iterator[Block]:
    """Generate the blocks in order (each depends on the state the previous ones left)."""
    state = State()
    for b in range(plan.blocks):
        blk = _draw_block(plan, b, state)
        if stats is not None:
            stats.add(plan, blk)
        yield blk

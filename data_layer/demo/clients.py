"""The leads' clients: outcomes and close times, new contacts and companies, repeat purchases by won clients."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from data_layer.demo.account import COMPANY_ID_BASE, CONTACT_ID_BASE
from data_layer.demo.cast import (
    CLOSE_MEDIAN_DAYS,
    COMPANY_NAMES,
    P_CONV,
    P_EMAIL,
    P_JUNK,
    P_MODEL,
    P_PHONE,
    P_SPIKE,
    PERSON_NAMES,
)
from data_layer.demo.plan import MONTHS, Plan
from data_layer.demo.returning import DirectPool

REPEAT_RATE = 0.06        # share of leads that are a known client coming back (~15 % of clients buy again)
REPEAT_WIN = 0.55


@dataclass
class State:
    """What one block hands to the next: id counters and the pool of won clients for repeat purchases."""

    next_contact: int = 0
    next_company: int = 0
    pool_contact: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pool_company: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pool_partner: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    direct_pool: DirectPool = field(default_factory=DirectPool)  # direct clients a partner lead may bring back


def _close_seconds(outcome: np.ndarray, model: np.ndarray, repeat: np.ndarray, z: np.ndarray,
                   u: np.ndarray) -> np.ndarray:
    """Time from creation to closing: won 3-90 days (longer for bigger models), lost 1-60, junk < 3."""
    won_median = np.where(repeat, 8.0, CLOSE_MEDIAN_DAYS[model])
    won = np.clip(won_median * np.exp(0.6 * z), 3, 90)
    lost = np.clip(9.0 * np.exp(0.8 * z), 1, 60)
    junk = 0.02 + 2.5 * u ** 2
    days = np.select([outcome == 0, outcome == 1], [won, lost], junk)
    return (days * 86400).astype(np.int64)


def draw_clients(plan: Plan, state: State, u: dict[str, np.ndarray], z: dict[str, np.ndarray],
                 leads: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Outcomes, clients and closing times; repeat leads reuse an earlier won client.

    Adds outcome (0 won, 1 lost, 2 junk), repeat, contact, company, close_ts and closed to `leads` (and may
    move a repeat lead to its client's partner or to direct). Returns (has_contact, new main contact, new
    company) masks.
    """
    partner, month, created = leads["partner"], leads["month"], leads["created_at"]
    repeat = u["repeat"] < REPEAT_RATE * np.minimum(1.0, month / 4)
    # First-time leads are decided first: repeat leads draw their client among the won ones.
    spike = P_SPIKE[partner] & (month >= MONTHS - 2)
    junk_p = np.where(spike, 2 * P_JUNK[partner], P_JUNK[partner])
    conv_p = np.where(spike, P_CONV[partner] / 2, P_CONV[partner])
    outcome = np.where(u["outcome"] < junk_p, 2, np.where(u["outcome"] < junk_p + conv_p, 0, 1))
    close_ts = created + _close_seconds(outcome, P_MODEL[partner], repeat, z["close"], u["junk_close"])
    has_contact = ~((outcome == 2) & (u["contact"] < 0.35))
    new_main = ~repeat & has_contact
    contact = np.full(len(partner), -1, dtype=np.int64)
    company = np.full(len(partner), -1, dtype=np.int64)
    contact[new_main] = _take_ids(state, "contact", int(new_main.sum()))
    b2b = new_main & (u["company"] < np.where(P_MODEL[partner] >= 2, 0.5, 0.3))
    company[b2b] = _take_ids(state, "company", int(b2b.sum()))
    repeat = _resolve_repeats(plan, state, u, repeat, outcome, close_ts < plan.horizon_ts, month,
                              (contact, company, partner))
    fallback = ~repeat & (contact < 0) & has_contact & ~new_main  # a repeat lead with no earlier client
    contact[fallback] = _take_ids(state, "contact", int(fallback.sum()))
    outcome = np.where(repeat, np.where(u["outcome"] < REPEAT_WIN, 0, 1), outcome)
    close_ts = created + _close_seconds(outcome, P_MODEL[partner], repeat, z["close"], u["junk_close"])
    leads.update(outcome=outcome, repeat=repeat, contact=contact, company=company, close_ts=close_ts,
                 closed=close_ts < plan.horizon_ts)
    return has_contact, new_main | fallback, b2b


def _take_ids(state: State, kind: str, count: int) -> np.ndarray:
    """Next `count` contact or company ids (sequential, with the gaps a shared id space has)."""
    if kind == "contact":
        first, state.next_contact = state.next_contact, state.next_contact + count
        return CONTACT_ID_BASE + 2 * np.arange(first, first + count, dtype=np.int64)
    first, state.next_company = state.next_company, state.next_company + count
    return COMPANY_ID_BASE + 3 * np.arange(first, first + count, dtype=np.int64)


def _resolve_repeats(plan: Plan, state: State, u: dict[str, np.ndarray], repeat: np.ndarray,
                     outcome: np.ndarray, closed: np.ndarray, month: np.ndarray,
                     targets: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Give each repeat lead an earlier won client (from earlier blocks or earlier in this one).

    Half of the repeat purchases come back through the same partner (while it still works), the rest
    directly. Repeat leads with no earlier client become first-time leads. `targets` (contact, company,
    partner) are updated in place; returns the final repeat mask.
    """
    contact, company, partner = targets
    cand = np.flatnonzero(~repeat & (outcome == 0) & closed)
    pool_n = len(state.pool_contact)
    total = pool_n + np.searchsorted(cand, np.arange(len(repeat)))
    repeat = repeat & (total > 0)
    r = np.floor(u["src"] * total).astype(np.int64)
    rows = np.flatnonzero(repeat)
    from_pool = r[rows] < pool_n
    src_contact = np.empty(len(rows), dtype=np.int64)
    src_company = np.empty(len(rows), dtype=np.int64)
    src_partner = np.empty(len(rows), dtype=np.int64)
    pr = r[rows][from_pool]
    src_contact[from_pool], src_company[from_pool] = state.pool_contact[pr], state.pool_company[pr]
    src_partner[from_pool] = state.pool_partner[pr]
    br = cand[r[rows][~from_pool] - pool_n]
    src_contact[~from_pool], src_company[~from_pool], src_partner[~from_pool] = (
        contact[br], company[br], partner[br])
    contact[rows], company[rows] = src_contact, src_company
    same = (u["repeat_partner"][rows] < 0.5) & plan.active[month[rows], src_partner]
    partner[rows] = np.where(same, src_partner, 0)
    return repeat


def update_pool(state: State, leads: dict[str, np.ndarray]) -> None:
    """Add this block's won first-time clients to the pool repeat purchases draw from."""
    won = ~leads["repeat"] & (leads["status_id"] == 142) & (leads["contact"] >= 0)
    state.pool_contact = np.concatenate([state.pool_contact, leads["contact"][won]])
    state.pool_company = np.concatenate([state.pool_company, leads["company"][won]])
    state.pool_partner = np.concatenate([state.pool_partner, leads["partner"][won]])


def new_contacts(plan: Plan, state: State, u: dict[str, np.ndarray], leads: dict[str, np.ndarray],
                 new_main: np.ndarray, second: np.ndarray) -> dict[str, np.ndarray]:
    """Contacts created in this block: main contacts of first-time leads, then second contacts."""
    p = leads["partner"]
    junk = leads["outcome"] == 2
    main_rows, second_rows = np.flatnonzero(new_main), np.flatnonzero(second)
    phone_p = P_PHONE[p] * np.where(junk, 0.6, 1.0)
    main_phone = (u["phone"] < phone_p).astype(np.int64) * (1 + (u["phone2"] < 0.12))
    main_email = (u["email"] < P_EMAIL[p]).astype(np.int64)
    second_ids = _take_ids(state, "contact", len(second_rows))
    leads["second_contact"] = np.full(len(p), -1, dtype=np.int64)
    leads["second_contact"][second_rows] = second_ids
    rows = np.concatenate([main_rows, second_rows])
    is_main = np.arange(len(rows)) < len(main_rows)
    name_u = np.where(is_main, u["name"][rows], u["name2"][rows])
    created = leads["created_at"][rows] - (u["contact_age"][rows] * 900).astype(np.int64)
    touched = leads["created_at"][rows] + (u["contact_touch"][rows] * 3 * 86400).astype(np.int64)
    return {
        "id": np.concatenate([leads["contact"][main_rows], second_ids]),
        "name_idx": (name_u * len(PERSON_NAMES)).astype(np.int64),
        "responsible": leads["responsible"][rows],
        "created_at": created,
        "updated_at": np.minimum(touched, plan.horizon_ts - 1),
        "phone_count": np.where(is_main, main_phone[rows], (u["second_phone"][rows] < 0.7).astype(np.int64)),
        "email_count": np.where(is_main, main_email[rows], (u["second_email"][rows] < 0.5).astype(np.int64)),
    }


def contact_links(leads: dict[str, np.ndarray], second: np.ndarray) -> dict[str, np.ndarray]:
    """Lead -> contact rows (main first), sorted by lead."""
    main_rows, second_rows = np.flatnonzero(leads["contact"] >= 0), np.flatnonzero(second)
    pos = np.concatenate([main_rows, second_rows])
    cid = np.concatenate([leads["contact"][main_rows], leads["second_contact"][second_rows]])
    is_main = np.concatenate([np.ones(len(main_rows), bool), np.zeros(len(second_rows), bool)])
    order = np.lexsort((~is_main, pos))
    return {"pos": pos[order], "contact_id": cid[order], "is_main": is_main[order]}


def company_links(leads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Lead -> company rows (at most one company per lead)."""
    pos = np.flatnonzero(leads["company"] >= 0)
    return {"pos": pos, "company_id": leads["company"][pos]}


def new_companies(plan: Plan, u: dict[str, np.ndarray], leads: dict[str, np.ndarray],
                  b2b: np.ndarray) -> dict[str, np.ndarray]:
    """Companies created in this block (one per first-time B2B lead)."""
    rows = np.flatnonzero(b2b)
    cid = leads["company"][rows]
    created = leads["created_at"][rows] - (u["contact_age"][rows] * 1200).astype(np.int64)
    return {"id": cid, "name_idx": cid % len(COMPANY_NAMES), "responsible": leads["responsible"][rows],
            "created_at": created,
            "updated_at": np.minimum(created + (u["contact_touch"][rows] * 86400).astype(np.int64),
                                     plan.horizon_ts - 1)}

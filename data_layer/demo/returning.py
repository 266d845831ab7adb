"""Clients who came direct and return through a partner: a partner lead's new contact carries the number of a
direct client's contact (in another format), so the facts rebuild finds the lead pre-existing by phone.

Nothing is drawn here (the choice is a function of ids and dates): leads, amounts and every credited total stay
as they were; only which number a new contact carries changes.
"""

from __future__ import annotations

import numpy as np

from data_layer.demo.cast import P_SLUG

RETURN_EVERY = 25                     # ~4 % of every partner's first-time leads are direct clients returning
MOSTLY_PREEXISTING = "omega-group"    # this partner's clients were nearly all ours already
WINDOW_DAYS = 170                     # the direct lead lies 1..170 days before (inside the 180-day default)
KEEP_DAYS = 200                       # how far back the pool of direct leads reaches
_OMEGA = int(np.flatnonzero(P_SLUG == MOSTLY_PREEXISTING)[0])


class DirectPool:
    """Recent direct leads whose main contact has a phone: their creation time and the number (contact id) used."""

    def __init__(self) -> None:
        self.ts = np.zeros(0, dtype=np.int64)
        self.phone_of = np.zeros(0, dtype=np.int64)

    def extend(self, ts: np.ndarray, phone_of: np.ndarray, block_start: int) -> None:
        """Add a block's direct leads (creation times grow block by block); drop those out of the block's reach."""
        keep = self.ts >= block_start - KEEP_DAYS * 86400
        self.ts = np.concatenate([self.ts[keep], ts])
        self.phone_of = np.concatenate([self.phone_of[keep], phone_of])


def phone_of(pool: DirectPool, leads: dict[str, np.ndarray], contacts: dict[str, np.ndarray],
             new_main: np.ndarray) -> np.ndarray:
    """Per new contact of the block, the contact id whose number it carries (its own, or a direct client's)."""
    rows = np.flatnonzero(new_main)                 # the first len(rows) contacts are these leads' main ones
    n = len(rows)
    out = contacts["id"].copy()
    has_phone = contacts["phone_count"][:n] > 0
    partner, created, lead_id = leads["partner"][rows], leads["created_at"][rows], leads["lead_id"][rows]
    direct = (partner == 0) & has_phone
    # this block's direct leads count for its own later partner leads too (creation times grow with the index)
    pool.extend(created[direct], out[:n][direct], int(leads["created_at"][0]) if len(leads["created_at"]) else 0)
    pick = (partner > 0) & has_phone & ((partner == _OMEGA) | (lead_id // 3 % RETURN_EVERY == 0))
    j = np.searchsorted(pool.ts, created - 86400) - 1 - lead_id % 5
    ok = pick & (j >= 0)
    ok[ok] &= pool.ts[j[ok]] >= created[ok] - WINDOW_DAYS * 86400
    out[:n][ok] = pool.phone_of[j[ok]]
    return out

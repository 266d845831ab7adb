"""The window plan: what one pass fetches, read from sync_state, and the sources that fetch it.

Each pass resumes the walks an interrupted run left (their ``~to``/``~asc``/``~desc``/``~page`` rows) or
plans [watermark − overlap, upper] (everything on a full run); a run repeats passes while one resumed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from data_layer import normalise, store
from data_layer.sync.sources import (
    EVENT_TYPES,
    LEADS_WITH,
    REFERENCE,
    Checkpoint,
    IdBatches,
    Item,
    KeysetWalk,
    PageWalk,
    Source,
)


@dataclass
class Plan:
    """What one pass fetches, derived from sync_state."""

    upper: int
    resumed: bool
    state: dict[str, int]
    walks: dict[str, tuple[int, int, int]] = field(default_factory=dict)   # key -> (lo, hi, plan_to)
    events: tuple[int, int, int] = (0, 0, 1)                                # (from, to, start page)
    contact_modes: dict[str, str] = field(default_factory=dict)             # contacts/companies -> ids|walk
    reset: Checkpoint = field(default_factory=dict)                         # stale plan rows to drop


def read_state(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """All sync_state rows as {entity: watermark}."""
    return {k: int(v) for k, v in con.execute("select entity, watermark from sync_state").fetchall()
            if v is not None}


def _walk_plan(key: str, state: dict[str, int], full: bool, upper: int, overlap: int) -> tuple[tuple, bool]:
    """(lo, hi, plan_to) for a keyset walk, and whether it resumes an interrupted one."""
    if not full and f"{key}~to" in state:
        to = state[f"{key}~to"]
        return (state.get(f"{key}~asc", 0), state.get(f"{key}~desc", to), to), True
    wm = None if full else state.get(key)
    return ((0 if wm is None else max(0, wm - overlap)), upper, upper), False


def make_plan(state: dict[str, int], full: bool, upper: int, overlap: int) -> Plan:
    """Decide windows: resume interrupted walks, otherwise [watermark − overlap, upper] or everything."""
    plan = Plan(upper=upper, resumed=False, state=state)
    if full:
        plan.reset = {k: None for k in state if "~" in k}
    for key in ("leads", "deleted"):
        plan.walks[key], resumed = _walk_plan(key, state, full, upper, overlap)
        plan.resumed |= resumed
    if not full and "events~to" in state:
        plan.events = (state.get("events~from", 0), state["events~to"], max(1, state.get("events~page", 0)))
        plan.resumed = True  # restart one page early: re-reading a page is cheaper than trusting it
    else:
        wm = None if full else state.get("events")
        plan.events = (0 if wm is None else max(0, wm - overlap), upper, 1)
    for kind in ("contacts", "companies"):
        if not full and f"{kind}~asc" in state:
            plan.walks[kind], _ = _walk_plan(kind, state, False, upper, overlap)
            plan.contact_modes[kind], plan.resumed = "walk", True
        elif not full and f"{kind}~to" in state:
            plan.contact_modes[kind], plan.resumed = "ids", True
        elif not full and kind in state:
            plan.walks[kind], _ = _walk_plan(kind, state, False, upper, overlap)
            plan.contact_modes[kind] = "walk"
        else:
            plan.contact_modes[kind] = "ids"
    return plan


def _ids_completion(kind: str, plan: Plan, full: bool) -> Checkpoint:
    """Watermark after fetching every referenced contact by id.

    A fresh by-id pass refetched everything it references, so the upper bound is safe. A resumed one
    may have skipped stale rows stored before it started, so it keeps the older watermark and the next
    pass walks the changes since then.
    """
    resumed = not full and f"{kind}~to" in plan.state
    if not resumed:
        return {kind: plan.upper, f"{kind}~to": None, f"{kind}~base": None}
    base = plan.state.get(f"{kind}~base", -1)
    wm = base if base >= 0 else plan.state[f"{kind}~to"]
    return {kind: wm, f"{kind}~to": None, f"{kind}~base": None}


def _ids_start(kind: str, plan: Plan, full: bool) -> Checkpoint:
    """Plan rows of a by-id pass, written with its first data."""
    if not full and f"{kind}~to" in plan.state:
        return {}
    base = plan.state.get(kind, -1)
    return {f"{kind}~to": plan.upper, f"{kind}~base": base}


Known = dict[str, tuple[set[int], list[int]]]


def known_ids(con: duckdb.DuckDBPyConnection) -> Known:
    """Per kind: ids stored, and ids referenced by stored leads but missing."""
    out = {}
    for kind, link, col in (("contacts", "raw_lead_contacts", "contact_id"),
                            ("companies", "raw_lead_companies", "company_id")):
        stored = {r[0] for r in con.execute(
            store.sql_with_names("select id from {t}", t=f"raw_{kind}")).fetchall()}
        refs = {r[0] for r in con.execute(store.sql_with_names(
            "select distinct {c} from {t} where {c} is not null", c=col, t=link)).fetchall()}
        out[kind] = (stored, sorted(refs - stored))
    return out


def pass_inputs(db_path: Path) -> tuple[dict[str, int], Known]:
    """sync_state and the contact/company ids, read in one short read-only connection."""
    with store.connect(db_path, read_only=True) as con:
        return read_state(con), known_ids(con)


def build_sources(plan: Plan, emit: Callable[[Item], None], known: Known, full: bool,
                  with_reference: bool) -> list[Source]:
    """Every source of one pass."""
    sources: list[Source] = []
    if with_reference:
        for kind, path, key, limit in REFERENCE:
            sources.append(PageWalk(emit, kind=kind, entity="reference", path=path, key=key, params=[],
                                    limit=limit, priority=0, collect=True))
    batches: dict[str, IdBatches] = {}
    lead_walks: list[Source] = []

    def feed(items: list[dict]) -> None:
        for kind, key in (("contacts", "contacts"), ("companies", "companies")):
            ids = [normalise.as_int(x.get("id")) for rec in items for x in normalise.embedded_list(rec, key)]
            batches[kind].add([i for i in ids if i is not None])

    for key, kind, params, prio, both in (("leads", "leads", [("with", LEADS_WITH)], 1, True),
                                          ("deleted", "leads", [("with", "only_deleted")], 2, False)):
        lo, hi, to = plan.walks[key]
        lead_walks.append(KeysetWalk(emit, key=key, kind=kind, entity=key, path="/api/v4/leads", params=params,
                                     lo=lo, hi=hi, plan_to=to, both_ends=both, priority=prio,
                                     on_records=feed if key == "leads" else None))
    for kind in ("contacts", "companies"):
        stored, missing = known[kind]
        mode = plan.contact_modes[kind]
        completion = _ids_completion(kind, plan, full) if mode == "ids" else {}
        batch = IdBatches(emit, kind=kind, path=f"/api/v4/{kind}", key=kind, priority=3, feeders=lead_walks,
                          known=set() if mode == "ids" else set(stored), completion=completion)
        batch.add(missing)
        batches[kind] = batch
        sources.append(batch)
        if mode == "ids":
            start = _ids_start(kind, plan, full)
            if start:
                emit(Item(kind, [], start, kind))
        else:
            lo, hi, to = plan.walks[kind]
            sources.append(KeysetWalk(emit, key=kind, kind=kind, entity=kind, path=f"/api/v4/{kind}", params=[],
                                      lo=lo, hi=hi, plan_to=to, both_ends=False, priority=4,
                                      on_records=lambda items, b=batch: b.covered(
                                          [i for i in (normalise.as_int(x.get("id")) for x in items) if i])))
    lo, hi, page = plan.events
    params = [*(("filter[type][]", t) for t in EVENT_TYPES), ("filter[entity][]", "lead"),
              ("filter[created_at][from]", lo), ("filter[created_at][to]", hi)]
    sources.append(PageWalk(emit, kind="events", entity="events", path="/api/v4/events", key="events",
                            params=params, limit=100, priority=5, max_inflight=4, start_page=page,
                            state_key="events", plan=(lo, hi)))
    return [*lead_walks, *sources]

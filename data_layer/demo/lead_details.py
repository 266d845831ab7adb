"""Each lead's path and details: stage changes, current stage, price, loss reason, source, title, fields, tags."""

from __future__ import annotations

import numpy as np

from data_layer.demo.account import (
    CLIENT_REPEAT,
    DIRECT_UTM,
    DIRECT_UTM_CUM,
    DUPLICATE_REASON,
    F_CLIENT,
    F_MODEL,
    F_PARTNER,
    F_UTM_CAMPAIGN,
    F_UTM_MEDIUM,
    F_UTM_SOURCE,
    FIELD_INDEX,
    JUNK_IDS,
    LEAD_TITLES,
    LEAVER_MONTHS,
    LOST_DEPTH,
    MODEL_LABELS,
    NONJUNK_CUM,
    NONJUNK_IDS,
    PARTNER_ENUM_BASE,
    PARTNER_TAG_BASE,
    PIPELINE_IDS,
    REGULAR,
    SALES_NEWCOMER,
    SALES_SLOTS,
    SERVICE_USERS,
    SRC_CABINET,
    SRC_CALL,
    SRC_SITE,
    SRC_TG,
    SRC_WA,
    STATIC_TAGS,
    STATUS,
    TAG_CALL,
    TAG_REPEAT,
    TAG_SITE,
    TAG_VIP,
)
from data_layer.demo.cast import COMPANY_NAMES, P_CHECK, P_HAS_CRM_MODEL, P_JUNK_CUM, P_NAME, P_SLUG, SPECS
from data_layer.demo.plan import Plan


def pick(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index drawn from cumulative weights (rows of cum per element, or one shared row)."""
    if cum.ndim == 1:
        return np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)
    return np.minimum((u[:, None] >= cum).sum(axis=1), cum.shape[1] - 1)


def lost_depth(pipe: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Regular stage (1-based position) where a lost lead stopped."""
    out = np.empty(len(pipe), dtype=np.int64)
    for p, k in enumerate(REGULAR):
        mask = pipe == p
        out[mask] = 1 + pick(np.cumsum(LOST_DEPTH[int(k)]), u[mask])
    return out


def responsible_users(pipe: np.ndarray, month: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Responsible manager: sales team for «Продажи» (one leaver replaced), engineers for «Сервис»."""
    sales = SALES_SLOTS[(u * len(SALES_SLOTS)).astype(np.int64)]
    sales = np.where((sales == SALES_SLOTS[-1]) & (month >= LEAVER_MONTHS), SALES_NEWCOMER, sales)
    service = SERVICE_USERS[(u * len(SERVICE_USERS)).astype(np.int64)]
    return np.where(pipe == 1, service, sales)


def stage_events(plan: Plan, rng: np.random.Generator, leads: dict[str, np.ndarray], depth: np.ndarray,
                 final: np.ndarray) -> dict[str, np.ndarray]:
    """Stage changes along each lead's path; transitions after the horizon have not happened yet."""
    start, created, close_ts = leads["start"], leads["created_at"], leads["close_ts"]
    steps = depth - start + 1
    pos = np.repeat(np.arange(len(start)), steps)
    first = np.cumsum(steps) - steps
    seq = np.arange(len(pos)) - first[pos]
    last = seq == steps[pos] - 1
    frac = np.where(last, 1.0, (seq + 0.15 + 0.7 * rng.random(len(pos))) / steps[pos])
    ts = created[pos] + np.floor((close_ts - created)[pos] * frac).astype(np.int64)
    robot = rng.random(len(pos)) < 0.2
    millis = rng.integers(0, 1000, len(pos))
    salt = rng.integers(0, 1 << 30, len(pos))
    keep = ts < plan.horizon_ts
    pipe = leads["pipe"][pos]
    before = STATUS[pipe, start[pos] + seq]
    after = STATUS[pipe, np.where(last, final[pos], start[pos] + seq + 1)]
    ev = {"pos": pos, "seq": seq, "created_at": ts, "pipeline": PIPELINE_IDS[pipe], "status_before": before,
          "status_after": after, "created_by": np.where(robot, 0, leads["responsible"][pos]),
          "millis": millis, "salt": salt}
    ev = {key: val[keep] for key, val in ev.items()}
    ev["id"] = event_ids(ev["created_at"], ev["millis"], ev["salt"], leads["lead_id"][ev["pos"]], ev["seq"])
    leads["steps_done"] = np.bincount(ev["pos"], minlength=len(start))
    leads["last_event_ts"] = np.zeros(len(start), dtype=np.int64)
    np.maximum.at(leads["last_event_ts"], ev["pos"], ev["created_at"])
    leads["final"], leads["depth"] = final, depth
    return ev


CROCKFORD = np.frombuffer(b"0123456789abcdefghjkmnpqrstvwxyz", dtype=np.uint8)


def _base32(values: np.ndarray, width: int) -> np.ndarray:
    """Crockford base32 digits (lower case) of unsigned integers, most significant first."""
    shifts = 5 * np.arange(width - 1, -1, -1, dtype=np.uint64)
    digits = (values.astype(np.uint64)[:, None] >> shifts) & np.uint64(31)
    return CROCKFORD[digits.astype(np.int64)]


def event_ids(created_at: np.ndarray, millis: np.ndarray, salt: np.ndarray, lead_id: np.ndarray,
              seq: np.ndarray) -> np.ndarray:
    """ULID-like event ids: 48-bit millisecond time, 30 random bits, 50 bits of (lead, step) for uniqueness."""
    if len(created_at) == 0:
        return np.zeros(0, dtype=object)
    time_part = _base32(created_at * 1000 + millis, 10)
    rand_part = _base32(salt, 6)
    unique_part = _base32(lead_id * 8 + seq, 10)
    chars = np.concatenate([time_part, rand_part, unique_part], axis=1).astype(np.uint8)
    return chars.view("S26").ravel().astype("U26").astype(object)


def finish_leads(plan: Plan, u: dict[str, np.ndarray], z: dict[str, np.ndarray],
                 leads: dict[str, np.ndarray]) -> None:
    """Current stage, prices, loss reasons, sources, deletion and bookkeeping columns of each lead."""
    closed, outcome, pipe = leads["closed"], leads["outcome"], leads["pipe"]
    pos_now = np.where(closed, leads["final"], leads["start"] + leads["steps_done"])
    leads["status_id"] = STATUS[pipe, pos_now]
    leads["pipeline_id"] = PIPELINE_IDS[pipe]
    reached = np.where(closed, leads["depth"], pos_now)
    leads["qualified"] = (leads["status_id"] == 142) | (reached >= 2)
    leads["closed_at"] = np.where(closed, leads["close_ts"], -1)
    leads["updated_at"] = np.where(closed, leads["close_ts"], np.maximum(leads["created_at"],
                                                                           leads["last_event_ts"]))
    _prices(u, z, leads)
    lost = closed & (outcome == 1)
    junk = closed & (outcome == 2)
    junk_reason = JUNK_IDS[pick(P_JUNK_CUM[leads["partner"]], u["reason"])]
    leads["loss_reason_id"] = np.select([lost, junk],
                                        [NONJUNK_IDS[pick(NONJUNK_CUM, u["reason"])], junk_reason], -1)
    leads["source_id"] = _sources(u, leads)
    leads["created_by"] = np.where(leads["start"] == 0, 0, leads["responsible"])
    deleted_at = leads["close_ts"] + (u["delete_delay"] * 5 * 86400).astype(np.int64)
    leads["is_deleted"] = ((leads["loss_reason_id"] == DUPLICATE_REASON) & (u["delete"] < 0.2)
                           & (deleted_at < plan.horizon_ts))
    leads["deleted_at"] = np.where(leads["is_deleted"], deleted_at, -1)
    leads["updated_at"] = np.where(leads["is_deleted"], deleted_at, leads["updated_at"])
    leads["utm"] = _utm_choice(u, leads)
    leads["name"] = _lead_names(leads)


def _prices(u: dict[str, np.ndarray], z: dict[str, np.ndarray], leads: dict[str, np.ndarray]) -> None:
    """Deal amounts: won deals always, open and lost ones sometimes carry an estimate; some have kopecks."""
    check = P_CHECK[leads["partner"]] * np.where(leads["repeat"], 0.8, 1.0)
    amount = np.maximum(1000.0, np.round(check * np.exp(0.55 * z["price"] - 0.15125) / 100) * 100)
    kopecks = 1 + np.floor(u["kopecks"] * 99)
    amount = np.where(u["price_frac"] < 0.08, np.round(amount + kopecks / 100, 2), amount)
    won = leads["closed"] & (leads["outcome"] == 0)
    estimate = np.where(leads["closed"], np.where(leads["outcome"] == 1, 0.4, 0.0), 0.7)
    has = won | (u["price_has"] < estimate)
    leads["price_minor"] = np.where(has, amount, 0.0)
    leads["price"] = np.floor(leads["price_minor"]).astype(np.int64)
    leads["vip"] = won & (u["vip"] < 0.05)


def _sources(u: dict[str, np.ndarray], leads: dict[str, np.ndarray]) -> np.ndarray:
    """amoCRM source: forms and chats for leads that arrive as incoming, calls or the partner cabinet otherwise."""
    us = u["source"]
    incoming = np.select([us < 0.7, us < 0.9], [SRC_SITE, SRC_TG], SRC_WA)
    partner_manual = np.select([us < 0.35, us < 0.6], [SRC_CABINET, SRC_CALL], -1)
    direct_manual = np.where(us < 0.4, SRC_CALL, -1)
    manual = np.where(leads["partner"] > 0, partner_manual, direct_manual)
    return np.where(leads["start"] == 0, incoming, manual)


def _utm_choice(u: dict[str, np.ndarray], leads: dict[str, np.ndarray]) -> np.ndarray:
    """UTM tags: -1 none, 0 the partner's own link, 1 + i the i-th direct campaign."""
    partner_utm = (leads["partner"] > 0) & (u["utm"] < 0.55)
    direct_utm = (leads["partner"] == 0) & (leads["start"] == 0) & (u["utm"] < 0.85)
    return np.select([partner_utm, direct_utm], [0, 1 + pick(DIRECT_UTM_CUM, u["utm_kind"])], -1)


def _lead_names(leads: dict[str, np.ndarray]) -> np.ndarray:
    """Lead titles as managers write them: channel, then the client's company or the lead number."""
    titles = [LEAD_TITLES[s] if s in LEAD_TITLES else LEAD_TITLES[0] for s in leads["source_id"].tolist()]
    names = []
    for title, rep, comp, lid in zip(titles, leads["repeat"].tolist(), leads["company"].tolist(),
                                     leads["lead_id"].tolist(), strict=True):
        title = "Повторная продажа" if rep else title
        names.append(f"{title}: {COMPANY_NAMES[comp % len(COMPANY_NAMES)]}" if comp >= 0 else f"{title} #{lid}")
    return np.array(names, dtype=object)


def field_rows(leads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Custom-field values, one row each: (pos, field_id, value, enum_id or -1), sorted by lead then field."""
    p = leads["partner"]
    parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
    rows = np.flatnonzero(p > 0)
    parts.append((rows, F_PARTNER, P_NAME[p[rows]], PARTNER_ENUM_BASE + p[rows] - 1))
    crm = np.array([None, *[s.crm_model for s in SPECS]], dtype=object)
    rows = np.flatnonzero(P_HAS_CRM_MODEL[p])
    labels = np.array([MODEL_LABELS[c][1] for c in crm[p[rows]]], dtype=object)
    enums = np.array([MODEL_LABELS[c][0] for c in crm[p[rows]]], dtype=np.int64)
    parts.append((rows, F_MODEL, labels, enums))
    rows = np.flatnonzero(leads["repeat"])
    parts.append((rows, F_CLIENT, np.full(len(rows), CLIENT_REPEAT[1], dtype=object),
                  np.full(len(rows), CLIENT_REPEAT[0])))
    utm = leads["utm"]
    direct = np.array(DIRECT_UTM, dtype=object)
    has_campaign = np.array([True, *[c is not None for _, _, c in DIRECT_UTM]])
    for col, fid in enumerate((F_UTM_SOURCE, F_UTM_MEDIUM, F_UTM_CAMPAIGN)):
        partner_rows = np.flatnonzero(utm == 0)
        slug = P_SLUG[p[partner_rows]]
        partner_vals = [slug, np.full(len(slug), "partner", dtype=object),
                        np.array(["ref_" + s for s in slug], dtype=object)][col]
        direct_rows = np.flatnonzero(utm > 0)
        direct_vals = direct[utm[direct_rows] - 1, col]
        keep = has_campaign[utm[direct_rows]] if col == 2 else np.ones(len(direct_rows), bool)
        rows = np.concatenate([partner_rows, direct_rows[keep]])
        vals = np.concatenate([partner_vals, direct_vals[keep]])
        parts.append((rows, fid, vals, np.full(len(rows), -1)))
    pos = np.concatenate([r for r, _, _, _ in parts])
    fid = np.concatenate([np.full(len(r), f, dtype=np.int64) for r, f, _, _ in parts])
    order = np.lexsort((np.array([FIELD_INDEX[f] for f in fid.tolist()], dtype=np.int64), pos))
    return {"pos": pos[order], "field_id": fid[order],
            "value": np.concatenate([v for _, _, v, _ in parts]).astype(object)[order],
            "enum_id": np.concatenate([e for _, _, _, e in parts]).astype(np.int64)[order]}


def tag_rows(leads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Lead tags, one row each: (pos, tag_id), sorted by lead. Partner leads carry «partner:<name>»."""
    src, p = leads["source_id"], leads["partner"]
    parts = [(np.flatnonzero(p > 0), PARTNER_TAG_BASE + p[p > 0] - 1),
             (np.flatnonzero(src == SRC_SITE), None), (np.flatnonzero(src == SRC_CALL), None),
             (np.flatnonzero(leads["repeat"]), None), (np.flatnonzero(leads["vip"]), None)]
    static = [None, TAG_SITE, TAG_CALL, TAG_REPEAT, TAG_VIP]
    pos = np.concatenate([r for r, _ in parts])
    tag = np.concatenate([t if t is not None else np.full(len(r), static[i], dtype=np.int64)
                          for i, (r, t) in enumerate(parts)])
    order = np.lexsort((np.arange(len(pos)), pos))
    return {"pos": pos[order], "tag_id": tag[order].astype(np.int64)}


def tag_table() -> dict[int, tuple[str, str | None]]:
    """Every tag the demo uses: id -> (name, colour)."""
    tags = {t[0]: (t[1], t[2]) for t in STATIC_TAGS}
    tags.update({PARTNER_TAG_BASE + i: (f"partner:{s.name}", "C8E6FF") for i, s in enumerate(SPECS)})
    return tags

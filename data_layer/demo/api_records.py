"""amoCRM API v4 records of the demo: reference entities, then each block's leads, contacts, companies, events."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from datetime import date
from typing import Any

import numpy as np

from data_layer.demo.account import (
    ACCOUNT_ID,
    ACCOUNT_NAME,
    ADMIN_ID,
    BASE_URL,
    CLIENT_ENUMS,
    COMPANY_INN_FIELD,
    CONTACT_EMAIL_FIELD,
    CONTACT_PHONE_FIELD,
    F_CLIENT,
    F_MODEL,
    F_PARTNER,
    FIELD_INDEX,
    FIELDS,
    LOSS_REASONS,
    MAIN_PIPELINE,
    MODEL_LABELS,
    PARTNER_ENUM_BASE,
    PIPELINES,
    SOURCE_NAMES,
    SOURCES,
    SRC_SITE,
    SUBDOMAIN,
    TIMEZONE,
    USERS,
)
from data_layer.demo.cast import COMPANY_NAMES, PERSON_NAMES, SPECS
from data_layer.demo.generate import Block, iter_blocks
from data_layer.demo.lead_details import event_ids, tag_table
from data_layer.demo.plan import Plan, build_plan


def _link(path: str) -> dict[str, dict[str, str]]:
    """HAL `_links` block of one entity."""
    return {"self": {"href": f"{BASE_URL}/api/v4/{path}"}}


def _account_record(plan: Plan) -> dict[str, Any]:
    """GET /api/v4/account?with=datetime_settings."""
    created = plan.start_ts - 3 * 365 * 86400
    return {
        "id": ACCOUNT_ID, "name": ACCOUNT_NAME, "subdomain": SUBDOMAIN, "created_at": created,
        "created_by": ADMIN_ID, "updated_at": plan.start_ts, "updated_by": ADMIN_ID,
        "current_user_id": ADMIN_ID, "country": "RU", "currency": "RUB", "currency_symbol": "₽",
        "customers_mode": "disabled", "is_unsorted_on": True, "is_loss_reason_enabled": True,
        "is_helpbot_enabled": False, "is_technical_account": False, "contact_name_display_order": 1,
        "mobile_feature_version": 0, "_links": _link("account"),
        "_embedded": {"datetime_settings": {
            "date_pattern": "d.m.Y H:i", "short_date_pattern": "d.m.Y", "short_time_pattern": "H:i",
            "date_format": "d.m.Y", "time_format": "H:i", "timezone": TIMEZONE, "timezone_offset": "+03:00"}},
    }


def _user_records() -> list[dict[str, Any]]:
    """GET /api/v4/users."""
    return [{
        "id": uid, "name": name, "email": email, "lang": "ru",
        "rights": {"leads": {"view": "A", "edit": "A", "add": "A", "delete": "A", "export": "A"},
                   "is_admin": role == "admin", "is_free": False, "is_active": active, "group_id": None,
                   "role_id": None},
        "_links": _link(f"users/{uid}"),
    } for uid, name, email, active, role in USERS]


def _pipeline_records() -> list[dict[str, Any]]:
    """GET /api/v4/leads/pipelines: each pipeline with its statuses, 142/143 in every one."""
    out = []
    for pid, name, sort, is_main, statuses in PIPELINES:
        rows = [(sid, sname, 10 * (i + 1), color, 1 if i == 0 else 0, i > 0)
                for i, (sid, sname, color) in enumerate(statuses)]
        rows += [(142, "Успешно реализовано", 10000, "#CCFF66", 0, False),
                 (143, "Закрыто и не реализовано", 11000, "#D5D8DB", 0, False)]
        out.append({
            "id": pid, "name": name, "sort": sort, "is_main": is_main, "is_unsorted_on": True,
            "is_archive": False, "account_id": ACCOUNT_ID, "_links": _link(f"leads/pipelines/{pid}"),
            "_embedded": {"statuses": [{
                "id": sid, "name": sname, "sort": ssort, "is_editable": editable, "pipeline_id": pid,
                "color": color, "type": stype, "account_id": ACCOUNT_ID,
                "_links": _link(f"leads/pipelines/{pid}/statuses/{sid}"),
            } for sid, sname, ssort, color, stype, editable in rows]},
        })
    return out


def _field_enums(fid: int) -> list[dict[str, Any]] | None:
    """Enums of a select field (None for other types)."""
    if fid == F_PARTNER:
        pairs = [(PARTNER_ENUM_BASE + i, s.name) for i, s in enumerate(SPECS)]
    elif fid == F_MODEL:
        pairs = list(MODEL_LABELS.values())
    elif fid == F_CLIENT:
        pairs = CLIENT_ENUMS
    else:
        return None
    return [{"id": eid, "value": value, "sort": 500 + i, "code": None} for i, (eid, value) in enumerate(pairs)]


def _lead_field_records() -> list[dict[str, Any]]:
    """GET /api/v4/leads/custom_fields: «Партнёр», «Модель партнёрства», «Тип клиента», predefined UTM fields."""
    return [{
        "id": fid, "name": name, "code": code, "sort": sort, "type": ftype, "entity_type": "leads",
        "is_predefined": code is not None, "is_deletable": code is None, "is_api_only": False,
        "group_id": None, "required_statuses": [], "enums": _field_enums(fid), "remind": None,
        "currency": None, "hidden_statuses": [], "chained_lists": None, "tracking_callback": None,
        "search_in": None, "triggers": [], "account_id": ACCOUNT_ID,
        "_links": _link(f"leads/custom_fields/{fid}"),
    } for fid, name, code, ftype, sort in FIELDS]


def _loss_reason_record(reason_id: int, plan: Plan) -> dict[str, Any]:
    """One loss reason as GET /api/v4/leads/loss_reasons (and `_embedded.loss_reason[0]`) sends it."""
    i = [r[0] for r in LOSS_REASONS].index(reason_id)
    created = plan.start_ts - 400 * 86400
    return {"id": reason_id, "name": LOSS_REASONS[i][1], "sort": 10000 + 10 * i, "created_at": created,
            "updated_at": created, "_links": _link(f"leads/loss_reasons/{reason_id}")}


def _source_records() -> list[dict[str, Any]]:
    """GET /api/v4/sources: the integration's sources."""
    return [{"id": sid, "name": name, "pipeline_id": MAIN_PIPELINE, "external_id": f"demo-{code}",
             "default": sid == SRC_SITE, "origin_code": code, "services": [], "_links": _link(f"sources/{sid}")}
            for sid, name, code in SOURCES]


def static_records(plan: Plan) -> dict[str, Any]:
    """Reference entities: account, users, pipelines, lead fields, loss reasons, sources."""
    return {"account": _account_record(plan), "users": _user_records(), "pipelines": _pipeline_records(),
            "lead_custom_fields": _lead_field_records(),
            "loss_reasons": [_loss_reason_record(r[0], plan) for r in LOSS_REASONS],
            "sources": _source_records()}


def _by_pos(rows: dict[str, np.ndarray], size: int) -> list[list[int]]:
    """Row numbers of a long table grouped by lead position."""
    out: list[list[int]] = [[] for _ in range(size)]
    for row, pos in enumerate(rows["pos"].tolist()):
        out[pos].append(row)
    return out


def _cf_value(fid: int, value: str, enum_id: int) -> dict[str, Any]:
    """One custom_fields_values entry with a single value."""
    f = FIELDS[FIELD_INDEX[fid]]
    val: dict[str, Any] = {"value": value}
    if f[3] == "select":
        val.update({"enum_id": enum_id, "enum_code": None})
    return {"field_id": fid, "field_name": f[1], "field_code": f[2], "field_type": f[3], "values": [val]}


def lead_records(plan: Plan, blk: Block) -> list[dict[str, Any]]:
    """GET /api/v4/leads?with=contacts,loss_reason,source_id,source — the block's leads."""
    ld = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in blk.leads.items()}
    m = len(ld["lead_id"])
    fields, tags = _by_pos(blk.fields, m), _by_pos(blk.tags, m)
    links, comps = _by_pos(blk.links, m), _by_pos(blk.company_links, m)
    fv = {k: v.tolist() for k, v in blk.fields.items()}
    tg, ln, cl = blk.tags["tag_id"].tolist(), blk.links, blk.company_links["company_id"].tolist()
    ln_id, ln_main = ln["contact_id"].tolist(), ln["is_main"].tolist()
    tag_names = tag_table()
    out = []
    for i in range(m):
        lid = ld["lead_id"][i]
        closed = ld["closed_at"][i] >= 0
        emb: dict[str, Any] = {
            "tags": [{"id": tg[r], "name": tag_names[tg[r]][0], "color": tag_names[tg[r]][1]} for r in tags[i]],
            "companies": [{"id": cl[r], "_links": _link(f"companies/{cl[r]}")} for r in comps[i]],
            "contacts": [{"id": ln_id[r], "is_main": ln_main[r], "_links": _link(f"contacts/{ln_id[r]}")}
                         for r in links[i]],
        }
        if ld["loss_reason_id"][i] >= 0:
            emb["loss_reason"] = [_loss_reason_record(ld["loss_reason_id"][i], plan)]
        if ld["source_id"][i] >= 0:
            emb["source"] = {"id": ld["source_id"][i], "name": SOURCE_NAMES[ld["source_id"][i]]}
        cfv = [_cf_value(fv["field_id"][r], fv["value"][r], fv["enum_id"][r]) for r in fields[i]]
        out.append({
            "id": lid, "name": ld["name"][i], "price": ld["price"][i],
            "price_with_minor_units": ld["price_minor"][i], "responsible_user_id": ld["responsible"][i],
            "group_id": 0, "status_id": ld["status_id"][i], "pipeline_id": ld["pipeline_id"][i],
            "loss_reason_id": ld["loss_reason_id"][i] if ld["loss_reason_id"][i] >= 0 else None,
            "source_id": ld["source_id"][i] if ld["source_id"][i] >= 0 else None,
            "created_by": ld["created_by"][i], "updated_by": ld["responsible"][i],
            "created_at": ld["created_at"][i], "updated_at": ld["updated_at"][i],
            "closed_at": ld["closed_at"][i] if closed else None,
            "closest_task_at": None if closed else plan.horizon_ts + (lid % 5) * 86400,
            "is_deleted": ld["is_deleted"][i], "custom_fields_values": cfv or None, "score": None,
            "account_id": ACCOUNT_ID, "labor_cost": None, "is_price_computed": False,
            "_links": _link(f"leads/{lid}"), "_embedded": emb,
        })
    return out


TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r",
                     "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"],
                    strict=True))
MAIL_DOMAINS = ("mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru")


PHONE_FORMATS = ("+7 (9{a}) {b}-{c}-{d}", "8 9{a} {b} {c} {d}", "+79{a}{b}{c}{d}", "8 (9{a}) {b}-{c}{d}")


def _phone(cid: int, k: int, style: int = 0) -> str:
    """A made-up Russian mobile number, fixed per contact, written in one of the ways people type them."""
    x = (cid * 2654435761 + k * 40503) % 10**9
    return PHONE_FORMATS[style % len(PHONE_FORMATS)].format(
        a=f"{x // 10**7 % 100:02d}", b=f"{x // 10**4 % 1000:03d}", c=f"{x // 100 % 100:02d}", d=f"{x % 100:02d}")


def _inn(cid: int) -> str:
    """A made-up 10-digit INN, fixed per company (every other one typed with spaces)."""
    x = f"{(cid * 2654435761) % (9 * 10**9) + 10**9}"
    return f"{x[:4]} {x[4:]}" if cid // 3 % 2 else x


def _email(cid: int, first: str, last: str) -> str:
    """A made-up e-mail address, fixed per contact."""
    latin = "".join(TRANSLIT.get(ch, ch) for ch in f"{first[0]}.{last}".lower())
    return f"{latin}{cid % 9973}@{MAIL_DOMAINS[cid % len(MAIL_DOMAINS)]}"


def contact_fields(cid: int, first: str, last: str, phones: int, emails: int,
                   number_of: int | None = None) -> list[dict[str, Any]] | None:
    """PHONE / EMAIL multitext values of a contact (None when it has neither).

    Its first number is contact ``number_of``'s (a direct client coming back under a new contact), in this
    contact's own format."""
    out = []
    if phones:
        owner = [cid if number_of is None else number_of, cid]
        out.append({"field_id": CONTACT_PHONE_FIELD, "field_name": "Телефон", "field_code": "PHONE",
                    "field_type": "multitext", "values": [
                        {"value": _phone(owner[k], k, cid // 2), "enum_id": 1180011 + k,
                         "enum_code": ("WORK", "MOB")[k]} for k in range(phones)]})
    if emails:
        out.append({"field_id": CONTACT_EMAIL_FIELD, "field_name": "Email", "field_code": "EMAIL",
                    "field_type": "multitext",
                    "values": [{"value": _email(cid, first, last), "enum_id": 1180021, "enum_code": "WORK"}]})
    return out or None


def company_fields(cid: int) -> list[dict[str, Any]] | None:
    """The INN field of a company (two in three companies have it filled)."""
    if cid // 3 % 3 == 2:
        return None
    return [{"field_id": COMPANY_INN_FIELD, "field_name": "ИНН", "field_code": None, "field_type": "text",
             "values": [{"value": _inn(cid)}]}]


def contact_records(blk: Block) -> list[dict[str, Any]]:
    """GET /api/v4/contacts — the contacts created in the block."""
    c = {k: v.tolist() for k, v in blk.contacts.items()}
    out = []
    for i, cid in enumerate(c["id"]):
        first, last = PERSON_NAMES[c["name_idx"][i]]
        resp = c["responsible"][i]
        out.append({
            "id": cid, "name": f"{first} {last}", "first_name": first, "last_name": last,
            "responsible_user_id": resp, "group_id": 0, "created_by": resp, "updated_by": resp,
            "created_at": c["created_at"][i], "updated_at": c["updated_at"][i], "closest_task_at": None,
            "is_deleted": False, "is_unsorted": False,
            "custom_fields_values": contact_fields(cid, first, last, c["phone_count"][i], c["email_count"][i],
                                                   c["phone_of"][i]),
            "account_id": ACCOUNT_ID, "_links": _link(f"contacts/{cid}"),
            "_embedded": {"tags": [], "companies": []},
        })
    return out


def company_records(blk: Block) -> list[dict[str, Any]]:
    """GET /api/v4/companies — the companies created in the block."""
    c = {k: v.tolist() for k, v in blk.companies.items()}
    return [{
        "id": cid, "name": COMPANY_NAMES[c["name_idx"][i]], "responsible_user_id": c["responsible"][i],
        "group_id": 0, "created_by": c["responsible"][i], "updated_by": c["responsible"][i],
        "created_at": c["created_at"][i], "updated_at": c["updated_at"][i], "closest_task_at": None,
        "custom_fields_values": company_fields(cid), "is_deleted": False, "account_id": ACCOUNT_ID,
        "_links": _link(f"companies/{cid}"), "_embedded": {"tags": []},
    } for i, cid in enumerate(c["id"])]


def _event_record(eid: str, etype: str, lead_id: int, created_by: int, created_at: int,
                  before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, Any]:
    """One GET /api/v4/events entry about a lead."""
    return {"id": eid, "type": etype, "entity_id": lead_id, "entity_type": "lead", "created_by": created_by,
            "created_at": created_at, "value_after": after, "value_before": before, "account_id": ACCOUNT_ID,
            "_links": _link(f"events/{eid}"),
            "_embedded": {"entity": {"id": lead_id, "_links": _link(f"leads/{lead_id}")}}}


def event_records(blk: Block) -> list[dict[str, Any]]:
    """lead_status_changed events of the block, then lead_deleted events of its deleted leads."""
    ev = {k: v.tolist() for k, v in blk.events.items()}
    lead_ids = blk.leads["lead_id"].tolist()
    out = [_event_record(ev["id"][i], "lead_status_changed", lead_ids[pos], ev["created_by"][i],
                         ev["created_at"][i],
                         [{"lead_status": {"id": ev["status_before"][i], "pipeline_id": ev["pipeline"][i]}}],
                         [{"lead_status": {"id": ev["status_after"][i], "pipeline_id": ev["pipeline"][i]}}])
           for i, pos in enumerate(ev["pos"])]
    rows = np.flatnonzero(blk.leads["is_deleted"])
    lid, at = blk.leads["lead_id"][rows], blk.leads["deleted_at"][rows]
    ids = event_ids(at, lid % 1000, (lid * 2654435761) % (1 << 30), lid, np.full(len(rows), 7))
    resp = blk.leads["responsible"][rows].tolist()
    out += [_event_record(eid, "lead_deleted", lead, who, ts, [], [])
            for eid, lead, who, ts in zip(ids.tolist(), lid.tolist(), resp, at.tolist(), strict=True)]
    return out


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: millions of small record dicts make it rescan for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def generate_records(n_leads: int = 20000, seed: int = 42,
                     end_date: date | None = None) -> dict[str, list[dict] | dict]:
    """The whole demo account as amoCRM API v4 records (the bodies' `_embedded` lists), deterministic."""
    plan = build_plan(n_leads, seed, end_date)
    out: dict[str, Any] = {**static_records(plan), "leads": [], "contacts": [], "companies": [], "events": []}
    with no_gc():
        for blk in iter_blocks(plan):
            out["leads"] += lead_records(plan, blk)
            out["contacts"] += contact_records(blk)
            out["companies"] += company_records(blk)
            out["events"] += event_records(blk)
    return out

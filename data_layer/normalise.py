"""Turn amoCRM API v4 records (dicts as the API sends them) into rows of the raw tables.

Every function is pure: records in, ``Batch`` out (table name -> list of row dicts). Missing or
malformed fields become nulls instead of errors; one bad record never stops a page.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from data_layer import identity

Batch = dict[str, list[dict[str, Any]]]
MAX_TEXT = 4000  # CRM strings can be huge; analytics never needs more than this
DATE_TYPES = {"date", "birthday"}


def new_batch() -> Batch:
    """An empty batch that creates table lists on first use."""
    return defaultdict(list)


def merge(*batches: Batch) -> Batch:
    """Concatenate batches table by table."""
    out = new_batch()
    for b in batches:
        for table, rows in b.items():
            out[table].extend(rows)
    return out


def as_int(v: Any) -> int | None:
    """An API value as an int (a number or numeric string); None for None, booleans, what int() refuses."""
    try:
        return None if v is None or isinstance(v, bool) else int(v)
    except (TypeError, ValueError):
        return None


def _float(v: Any) -> float | None:
    try:
        return None if v is None or isinstance(v, bool) else float(v)
    except (TypeError, ValueError):
        return None


def as_text(v: Any) -> str | None:
    """An API value as text (objects and lists as JSON), cut at MAX_TEXT; None stays None."""
    if v is None:
        return None
    if not isinstance(v, str):
        v = json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v)
    return v[:MAX_TEXT]


def embedded_list(rec: dict, key: str) -> list[dict]:
    """The objects under a record's `_embedded.<key>` (a single object as a one-item list)."""
    emb = rec.get("_embedded") or {}
    val = emb.get(key) if isinstance(emb, dict) else None
    if isinstance(val, dict):
        return [val]
    return [x for x in (val or []) if isinstance(x, dict)]


def normalise_account(rec: dict) -> Batch:
    """GET /api/v4/account?with=datetime_settings -> raw_account."""
    dts = (rec.get("_embedded") or {}).get("datetime_settings") or {}
    b = new_batch()
    b["raw_account"].append({
        "id": as_int(rec.get("id")), "name": as_text(rec.get("name")),
        "subdomain": as_text(rec.get("subdomain")),
        "currency": as_text(rec.get("currency")), "timezone": as_text(dts.get("timezone")),
        "country": as_text(rec.get("country")),
    })
    return b


def normalise_users(records: list[dict]) -> Batch:
    """GET /api/v4/users -> raw_users."""
    b = new_batch()
    for r in records:
        rights = r.get("rights") or {}
        b["raw_users"].append({
            "id": as_int(r.get("id")), "name": as_text(r.get("name")), "email": as_text(r.get("email")),
            "is_active": rights.get("is_active", True) if isinstance(rights, dict) else True,
        })
    return b


def normalise_pipelines(records: list[dict]) -> Batch:
    """GET /api/v4/leads/pipelines -> raw_pipelines + raw_statuses (key: pipeline + status)."""
    b = new_batch()
    for p in records:
        pid = as_int(p.get("id"))
        b["raw_pipelines"].append({
            "id": pid, "name": as_text(p.get("name")), "sort": as_int(p.get("sort")),
            "is_main": bool(p.get("is_main")), "is_archive": bool(p.get("is_archive")),
        })
        for s in embedded_list(p, "statuses"):
            b["raw_statuses"].append({
                "pipeline_id": as_int(s.get("pipeline_id")) or pid, "status_id": as_int(s.get("id")),
                "name": as_text(s.get("name")), "sort": as_int(s.get("sort")), "type": as_int(s.get("type")),
                "color": as_text(s.get("color")),
            })
    return b


def normalise_lead_fields(records: list[dict]) -> Batch:
    """GET /api/v4/leads/custom_fields -> raw_lead_fields + raw_lead_field_enums."""
    b = new_batch()
    for f in records:
        fid = as_int(f.get("id"))
        b["raw_lead_fields"].append({
            "id": fid, "name": as_text(f.get("name")), "code": as_text(f.get("code")),
            "type": as_text(f.get("type")), "sort": as_int(f.get("sort")),
        })
        for e in f.get("enums") or []:
            if isinstance(e, dict):
                b["raw_lead_field_enums"].append({
                    "field_id": fid, "enum_id": as_int(e.get("id")), "value": as_text(e.get("value")),
                    "sort": as_int(e.get("sort")),
                })
    return b


def normalise_loss_reasons(records: list[dict]) -> Batch:
    """GET /api/v4/leads/loss_reasons (or embedded ones) -> raw_loss_reasons."""
    b = new_batch()
    for r in records:
        b["raw_loss_reasons"].append({"id": as_int(r.get("id")), "name": as_text(r.get("name")),
                                      "sort": as_int(r.get("sort"))})
    return b


def _field_value(field_type: str | None, value: Any, tz: ZoneInfo) -> str | None:
    """A custom-field value as text; `date` fields (local midnight timestamps) as ISO dates in the account zone."""
    if field_type in DATE_TYPES:
        ts = as_int(value)
        if ts is not None:
            return datetime.fromtimestamp(ts, tz).date().isoformat()
    if field_type == "date_time":
        ts = as_int(value)
        if ts is not None:
            return datetime.fromtimestamp(ts, tz).isoformat()
    return as_text(value)


def normalise_leads(records: list[dict], timezone: str = "Europe/Moscow") -> Batch:
    """GET /api/v4/leads?with=contacts,loss_reason,source_id -> raw_leads and its child tables."""
    tz = ZoneInfo(timezone or "Europe/Moscow")
    b = new_batch()
    for r in records:
        lid = as_int(r.get("id"))
        if lid is None:
            continue
        b["raw_leads"].append({
            "id": lid, "name": as_text(r.get("name")), "price": as_int(r.get("price")),
            "price_minor": _float(r.get("price_with_minor_units")),
            "responsible_user_id": as_int(r.get("responsible_user_id")),
            "group_id": as_int(r.get("group_id")),
            "status_id": as_int(r.get("status_id")), "pipeline_id": as_int(r.get("pipeline_id")),
            "loss_reason_id": as_int(r.get("loss_reason_id")), "source_id": as_int(r.get("source_id")),
            "created_by": as_int(r.get("created_by")), "updated_by": as_int(r.get("updated_by")),
            "created_at": as_int(r.get("created_at")), "updated_at": as_int(r.get("updated_at")),
            "closed_at": as_int(r.get("closed_at")), "is_deleted": bool(r.get("is_deleted")),
            "deleted_at": as_int(r.get("updated_at")) if r.get("is_deleted") else None,
        })
        b["_lead_ids"].append({"lead_id": lid})
        for cf in r.get("custom_fields_values") or []:
            if not isinstance(cf, dict):
                continue
            ftype = as_text(cf.get("field_type"))
            for idx, v in enumerate(cf.get("values") or []):
                v = v if isinstance(v, dict) else {"value": v}
                b["raw_lead_field_values"].append({
                    "lead_id": lid, "field_id": as_int(cf.get("field_id")), "value_idx": idx,
                    "field_name": as_text(cf.get("field_name")), "field_code": as_text(cf.get("field_code")),
                    "field_type": ftype, "value": _field_value(ftype, v.get("value"), tz),
                    "enum_id": as_int(v.get("enum_id")),
                })
        for t in embedded_list(r, "tags"):
            b["raw_lead_tags"].append({"lead_id": lid, "tag_id": as_int(t.get("id")), "name": as_text(t.get("name"))})
        for c in embedded_list(r, "contacts"):
            b["raw_lead_contacts"].append({"lead_id": lid, "contact_id": as_int(c.get("id")),
                                           "is_main": bool(c.get("is_main"))})
        for c in embedded_list(r, "companies"):
            b["raw_lead_companies"].append({"lead_id": lid, "company_id": as_int(c.get("id"))})
        for lr in embedded_list(r, "loss_reason"):
            b["raw_loss_reasons"].extend(normalise_loss_reasons([lr])["raw_loss_reasons"])
        src = (r.get("_embedded") or {}).get("source")
        if isinstance(src, dict) and as_int(src.get("id")) is not None:
            b["raw_sources"].append({"id": as_int(src.get("id")), "name": as_text(src.get("name"))})
    return b


def _count_values(rec: dict, code: str) -> int:
    n = 0
    for cf in rec.get("custom_fields_values") or []:
        if isinstance(cf, dict) and str(cf.get("field_code") or "").upper() == code:
            n += sum(1 for v in cf.get("values") or [] if isinstance(v, dict) and str(v.get("value") or "").strip())
    return n


def _identity(b: Batch, entity_type: str, entity_id: int | None, keys: list[dict]) -> None:
    """The entity's identity keys, replacing the ones stored for it (``_key_entities``)."""
    if entity_id is not None:
        b["_key_entities"].append({"entity_type": entity_type, "entity_id": entity_id})
        b["raw_client_keys"].extend(keys)


def normalise_contacts(records: list[dict]) -> Batch:
    """GET /api/v4/contacts -> raw_contacts (phone and e-mail counted, never copied) + raw_client_keys (digests)."""
    b = new_batch()
    for r in records:
        cid = as_int(r.get("id"))
        _identity(b, "contact", cid, identity.contact_keys(r, cid) if cid is not None else [])
        b["raw_contacts"].append({
            "id": as_int(r.get("id")), "name": as_text(r.get("name")),
            "responsible_user_id": as_int(r.get("responsible_user_id")),
            "created_at": as_int(r.get("created_at")), "updated_at": as_int(r.get("updated_at")),
            "phone_count": _count_values(r, "PHONE"), "email_count": _count_values(r, "EMAIL"),
            "is_deleted": bool(r.get("is_deleted")),
        })
    return b


def normalise_companies(records: list[dict], inn_field: str = identity.DEFAULT_INN_FIELD) -> Batch:
    """GET /api/v4/companies -> raw_companies + raw_client_keys (the INN of the field named ``inn_field``)."""
    b = new_batch()
    for r in records:
        cid = as_int(r.get("id"))
        _identity(b, "company", cid, identity.company_keys(r, cid, inn_field) if cid is not None else [])
        b["raw_companies"].append({
            "id": as_int(r.get("id")), "name": as_text(r.get("name")),
            "created_at": as_int(r.get("created_at")), "updated_at": as_int(r.get("updated_at")),
            "is_deleted": bool(r.get("is_deleted")),
        })
    return b


def _lead_status(values: Any) -> tuple[int | None, int | None]:
    for v in values or []:
        if isinstance(v, dict) and isinstance(v.get("lead_status"), dict):
            s = v["lead_status"]
            return as_int(s.get("pipeline_id")), as_int(s.get("id"))
    return None, None


def normalise_events(records: list[dict]) -> Batch:
    """GET /api/v4/events -> raw_lead_status_events, plus `_deleted_leads` for lead_deleted events."""
    b = new_batch()
    for e in records:
        etype = e.get("type")
        lead_id = as_int(e.get("entity_id"))
        if e.get("entity_type") not in (None, "lead") or lead_id is None:
            continue
        if etype == "lead_status_changed":
            pb, sb = _lead_status(e.get("value_before"))
            pa, sa = _lead_status(e.get("value_after"))
            b["raw_lead_status_events"].append({
                "id": as_text(e.get("id")), "lead_id": lead_id, "created_at": as_int(e.get("created_at")),
                "created_by": as_int(e.get("created_by")), "pipeline_before": pb, "status_before": sb,
                "pipeline_after": pa, "status_after": sa,
            })
        elif etype == "lead_deleted":
            b["_deleted_leads"].append({"lead_id": lead_id, "deleted_at": as_int(e.get("created_at"))})
        elif etype == "lead_restored":
            b["_restored_leads"].append({"lead_id": lead_id})
    return b


def now_ts() -> int:
    """Current Unix time in seconds."""
    return int(datetime.now(UTC).timestamp())

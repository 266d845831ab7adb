"""A small, deterministic amoCRM account as API v4 records (same keys as data_layer.demo.generate_records).

Covers what the sync must survive: deleted leads with their lead_deleted events, null
custom_fields_values, more than 50 custom fields (two definition pages), contacts shared by leads,
companies (with an INN field), contacts' phones / e-mails, events of other types, and (``quirks=True``) malformed
values: unknown field types, huge strings, emoji, numbers as strings, missing fields, malformed INNs.
"""

from __future__ import annotations

import random
from typing import Any

ACCOUNT_ID = 777001
PIPELINES = {5001: [50011, 50012, 50013, 50014], 5002: [50021, 50022]}
F_PARTNER, F_MODEL, F_UTM, F_DATE = 9001, 9002, 9003, 9004
PARTNERS = ["Альфа Консалт", "Бета-Сервис", "Гамма Трейд", "Дельта 😀 Групп"]
MODELS = {"referral": "Реферальная", "sales": "Продажи", "service": "Сервисная"}
LOSS = [(301, "Дорого"), (302, "Спам"), (303, "Дубль")]


def _account() -> dict[str, Any]:
    return {"id": ACCOUNT_ID, "name": "Тестовый аккаунт", "subdomain": "emu", "currency": "RUB", "country": "RU",
            "_embedded": {"datetime_settings": {"timezone": "Europe/Moscow", "timezone_offset": "+03:00"}}}


def _pipelines() -> list[dict[str, Any]]:
    out = []
    for n, (pid, stages) in enumerate(PIPELINES.items()):
        statuses = [{"id": sid, "name": f"Этап {i}", "sort": 10 * (i + 1), "pipeline_id": pid,
                     "type": 1 if i == 0 else 0, "color": "#99ccff"} for i, sid in enumerate(stages)]
        statuses += [{"id": 142, "name": "Успешно реализовано", "sort": 10000, "pipeline_id": pid, "type": 0},
                     {"id": 143, "name": "Закрыто и не реализовано", "sort": 11000, "pipeline_id": pid, "type": 0}]
        out.append({"id": pid, "name": f"Воронка {n + 1}", "sort": n, "is_main": n == 0, "is_archive": False,
                    "_embedded": {"statuses": statuses}})
    return out


def _fields() -> list[dict[str, Any]]:
    fields = [
        {"id": F_PARTNER, "name": "Партнёр", "code": None, "type": "select", "sort": 1,
         "enums": [{"id": 9100 + i, "value": p, "sort": i} for i, p in enumerate(PARTNERS)]},
        {"id": F_MODEL, "name": "Модель партнёрства", "code": None, "type": "select", "sort": 2,
         "enums": [{"id": 9200 + i, "value": v, "sort": i} for i, v in enumerate(MODELS.values())]},
        {"id": F_UTM, "name": "utm_source", "code": "UTM_SOURCE", "type": "tracking_data", "sort": 3},
        {"id": F_DATE, "name": "Дата замера", "code": None, "type": "date", "sort": 4},
    ]
    # Filler fields push the definitions past one 50-per-page response.
    fields += [{"id": 9500 + i, "name": f"Поле {i}", "code": None, "type": "text", "sort": 10 + i}
               for i in range(55)]
    return fields


def _event(eid: str, etype: str, lead_id: int, at: int, before: list, after: list) -> dict[str, Any]:
    return {"id": eid, "type": etype, "entity_id": lead_id, "entity_type": "lead", "created_by": 0,
            "created_at": at, "value_before": before, "value_after": after, "account_id": ACCOUNT_ID}


def _status_events(rng: random.Random, lead: dict[str, Any], end: int) -> list[dict[str, Any]]:
    pid = lead["pipeline_id"]
    path = PIPELINES[pid][: rng.randint(1, len(PIPELINES[pid]))] + [lead["status_id"]]
    t = lead["created_at"]
    out = []
    for k, (a, b) in enumerate(zip(path, path[1:], strict=False)):
        t = min(end, t + rng.randint(600, 86400 * 5))
        out.append(_event(f"ev{lead['id']}x{k:02d}", "lead_status_changed", lead["id"], t,
                          [{"lead_status": {"id": a, "pipeline_id": pid}}],
                          [{"lead_status": {"id": b, "pipeline_id": pid}}]))
    return out


def _custom_values(rng: random.Random, i: int, quirks: bool) -> list[dict[str, Any]] | None:
    if i % 7 == 0:
        return None  # the API sends null, not []
    values = []
    if i % 3:
        p = PARTNERS[i % len(PARTNERS)]
        values.append({"field_id": F_PARTNER, "field_name": "Партнёр", "field_code": None, "field_type": "select",
                       "values": [{"value": p, "enum_id": 9100 + i % len(PARTNERS)}]})
        label = list(MODELS.values())[i % 3]
        values.append({"field_id": F_MODEL, "field_name": "Модель партнёрства", "field_code": None,
                       "field_type": "select", "values": [{"value": label, "enum_id": 9200 + i % 3}]})
    values.append({"field_id": F_UTM, "field_name": "utm_source", "field_code": "UTM_SOURCE",
                   "field_type": "tracking_data", "values": [{"value": rng.choice(["yandex", "google", "vk"])}]})
    if i % 5 == 0:
        values.append({"field_id": F_DATE, "field_name": "Дата замера", "field_code": None, "field_type": "date",
                       "values": [{"value": 1717707600 + 86400 * (i % 30)}]})
    if quirks and i % 4 == 0:
        values.append({"field_id": 9999, "field_name": "Новый тип 🚀", "field_code": None,
                       "field_type": "fancy_future_type", "values": [{"value": {"nested": [1, 2, {"x": "😀"}]}}]})
        values.append({"field_id": 9500, "field_name": "Поле 0", "field_code": None, "field_type": "text",
                       "values": ["bare string value", {"value": None}]})
    return values


def _lead(rng: random.Random, i: int, lead_id: int, start: int, end: int, quirks: bool,
          contacts: list[int], companies: list[int]) -> dict[str, Any]:
    created = rng.randint(start, end - 86400)
    pid = 5001 if i % 4 else 5002
    status = rng.choice([*PIPELINES[pid][1:], 142, 143])
    lead: dict[str, Any] = {
        "id": lead_id, "name": f"Сделка №{i}", "price": rng.randint(0, 500) * 1000,
        "responsible_user_id": 100 + i % 3, "group_id": 0, "status_id": status, "pipeline_id": pid,
        "loss_reason_id": LOSS[i % 3][0] if status == 143 else None, "source_id": 401 if i % 2 else None,
        "created_by": 0, "updated_by": 100, "created_at": created, "updated_at": rng.randint(created, end),
        "closed_at": created + 86400 if status in (142, 143) else None, "is_deleted": False,
        "custom_fields_values": _custom_values(rng, i, quirks), "account_id": ACCOUNT_ID,
        "_embedded": {
            "tags": [{"id": 700 + i % 3, "name": ["сайт", "звонок", "partner:Альфа Консалт"][i % 3], "color": None}],
            "contacts": [{"id": c, "is_main": k == 0} for k, c in enumerate(contacts)],
            "companies": [{"id": c} for c in companies],
        },
    }
    if status == 143:
        lead["_embedded"]["loss_reason"] = [{"id": LOSS[i % 3][0], "name": LOSS[i % 3][1], "sort": i % 3}]
    if quirks:
        _add_quirks(lead, i)
    return lead


def _add_quirks(lead: dict[str, Any], i: int) -> None:
    if i % 5 == 1:
        lead["name"] = "Огромная заявка " + "Ж😀" * 60_000  # far beyond anything analytics needs
    if i % 5 == 2:
        del lead["name"], lead["price"]  # missing fields become nulls
    if i % 5 == 3:
        lead["price"] = str(lead["price"])  # numbers as strings
        lead["price_with_minor_units"] = "1234.5"
    if i % 5 == 4:
        lead["unexpected_field"] = {"what": ["ever"]}
        lead["_embedded"]["tags"].append({"id": 799, "name": "эмодзи 🎉", "color": "FFC8C8"})


def _contact(cid: int, i: int, t: int) -> dict[str, Any]:
    cf = []
    if i % 3:
        cf.append({"field_id": 801, "field_name": "Телефон", "field_code": "PHONE", "field_type": "multitext",
                   "values": [{"value": f"+7 900 000-{i:04d}", "enum_code": "WORK"}]})
    if i % 2:
        cf.append({"field_id": 802, "field_name": "Email", "field_code": "EMAIL", "field_type": "multitext",
                   "values": [{"value": f"c{i}@example.ru", "enum_code": "WORK"}]})
    return {"id": cid, "name": f"Контакт {i}", "responsible_user_id": 100, "created_at": t, "updated_at": t + i,
            "is_deleted": False, "custom_fields_values": cf or None, "account_id": ACCOUNT_ID}


def _company(cid: int, k: int, t: int, quirks: bool) -> dict[str, Any]:
    """A company; most carry an INN field (in mixed spellings), with ``quirks`` some malformed ones."""
    cf = []
    if k % 3 != 2:
        inn = f"77070{k:05d}" if k % 2 else f"7707 0{k:04d}-"
        if quirks and k % 5 == 3:
            inn = ["ИНН не указан", "123", 0][k % 3]
        cf.append({"field_id": 811, "field_name": "ИНН", "field_code": None, "field_type": "text",
                   "values": [{"value": inn}]})
    return {"id": cid, "name": f"ООО «Компания {k}»", "created_at": t, "updated_at": t + k, "is_deleted": False,
            "custom_fields_values": cf or None, "account_id": ACCOUNT_ID}


def make_records(n_leads: int = 60, seed: int = 1, quirks: bool = False, end: int = 1_760_000_000,
                 days: int = 400, deleted_every: int = 9, same_second: int = 0) -> dict[str, Any]:
    """The account as records; ``same_second`` leads share one updated_at (a bulk edit)."""
    rng = random.Random(seed)
    start = end - days * 86400
    n_contacts = max(1, int(n_leads * 0.8))
    contact_ids = [60_000_000 + k for k in range(n_contacts)]
    company_ids = [70_000_000 + k for k in range(max(1, n_leads // 5))]
    leads, events = [], []
    for i in range(n_leads):
        lead_contacts = [contact_ids[i % n_contacts]] + ([contact_ids[(i * 7) % n_contacts]] if i % 6 == 0 else [])
        lead_companies = [company_ids[i % len(company_ids)]] if i % 4 == 0 else []
        lead = _lead(rng, i, 30_000_000 + i, start, end, quirks, sorted(set(lead_contacts)), lead_companies)
        if i < same_second:
            lead["updated_at"] = end - 3600
        events += _status_events(rng, lead, end)
        if deleted_every and i % deleted_every == deleted_every - 1:
            lead["is_deleted"] = True
            lead["updated_at"] = max(lead["updated_at"], lead["created_at"] + 3600)
            events.append(_event(f"del{lead['id']}", "lead_deleted", lead["id"], lead["updated_at"], [], []))
        if i % 10 == 0:  # noise the sync must filter out
            events.append(_event(f"add{lead['id']}", "lead_added", lead["id"], lead["created_at"], [], []))
        leads.append(lead)
    return {
        "account": _account(),
        "users": [{"id": 100 + k, "name": f"Менеджер {k}", "email": f"m{k}@example.ru",
                   "rights": {"is_active": k != 2}} for k in range(3)],
        "pipelines": _pipelines(),
        "lead_custom_fields": _fields(),
        "loss_reasons": [{"id": lid, "name": name, "sort": k} for k, (lid, name) in enumerate(LOSS)],
        "sources": [{"id": 401, "name": "Сайт"}],
        "leads": leads,
        "contacts": [_contact(cid, k, start) for k, cid in enumerate(contact_ids)],
        "companies": [_company(cid, k, start, quirks) for k, cid in enumerate(company_ids)],
        "events": events,
    }

"""A synced account of small client stories for the pre-existing-client tests (data layer, metrics, pages).

Each client is its own story: an earlier lead and a partner lead created at T; PRE_EXISTING says which partner
leads are pre-existing and through which earlier lead. Every deal is 100 000.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emulator import Emulator, make_records
from emulator.data import F_PARTNER
from emulator.harness import build_expected, config_for

from data_layer import store, sync

DAY = 86400
END = 1_760_000_000
T = END - 5 * DAY  # when each story's partner lead is created
PIPE, OPEN = 5001, 50012


def lead(lead_id: int, created: int, status: int, partner: str | None, contacts: tuple[int, ...] = (),
          companies: tuple[int, ...] = ()) -> dict[str, Any]:
    cf = None
    if partner:
        cf = [{"field_id": F_PARTNER, "field_name": "Партнёр", "field_code": None, "field_type": "select",
               "values": [{"value": partner}]}]
    return {"id": lead_id, "name": f"Сделка {lead_id}", "price": 100_000, "responsible_user_id": 100, "group_id": 0,
            "status_id": status, "pipeline_id": PIPE, "loss_reason_id": None, "created_by": 0, "updated_by": 0,
            "created_at": created, "updated_at": created + 2 * DAY,
            "closed_at": created + 2 * DAY if status in (142, 143) else None, "is_deleted": False,
            "custom_fields_values": cf, "account_id": 777001,
            "_embedded": {"tags": [], "contacts": [{"id": c, "is_main": k == 0} for k, c in enumerate(contacts)],
                          "companies": [{"id": c} for c in companies]}}


def contact(cid: int, phone: Any = None, email: Any = None) -> dict[str, Any]:
    cf = []
    if phone is not None:
        cf.append({"field_id": 801, "field_code": "PHONE", "field_type": "multitext", "values": [{"value": phone}]})
    if email is not None:
        cf.append({"field_id": 802, "field_code": "EMAIL", "field_type": "multitext", "values": [{"value": email}]})
    return {"id": cid, "name": f"Контакт {cid}", "created_at": T - 400 * DAY, "updated_at": T - 400 * DAY,
            "custom_fields_values": cf or None}


def company(cid: int, inn: Any, field: str = "ИНН") -> dict[str, Any]:
    return {"id": cid, "name": f"ООО {cid}", "created_at": T - 400 * DAY, "updated_at": T - 400 * DAY,
            "custom_fields_values": [{"field_id": 811, "field_name": field, "values": [{"value": inn}]}]}


# story -> (earlier leads, the partner lead); lead ids 1xx are earlier, 9xx the partner leads
STORIES = {
    "direct_won_10_days": ([lead(101, T - 10 * DAY, 142, None, (1,))], lead(901, T, OPEN, "Альфа", (1,))),
    "direct_won_200_days": ([lead(102, T - 200 * DAY, 142, None, (2,))], lead(902, T, 142, "Альфа", (2,))),
    "phone_other_format": ([lead(103, T - 30 * DAY, 142, None, (31,))], lead(903, T, 142, "Альфа", (32,))),
    "email_case": ([lead(104, T - 30 * DAY, 143, None, (41,))], lead(904, T, 142, "Альфа", (42,))),
    "inn": ([lead(105, T - 20 * DAY, 142, None, (), (51,))], lead(905, T, 142, "Бета", (), (52,))),
    "company_other_contact": ([lead(106, T - 15 * DAY, OPEN, None, (61,), (60,))],
                              lead(906, T, 142, "Бета", (62,), (60,))),
    "malformed_phone": ([lead(107, T - 5 * DAY, 142, None, (71,))], lead(907, T, 142, "Бета", (72,))),
    "malformed_inn": ([lead(108, T - 5 * DAY, 142, None, (), (81,))], lead(908, T, 142, "Бета", (), (82,))),
    "other_partner_lost": ([lead(109, T - 20 * DAY, 143, "Бета", (9,))], lead(909, T, 142, "Альфа", (9,))),
    "other_partner_open": ([lead(110, T - 20 * DAY, OPEN, "Бета", (10,))], lead(910, T, 142, "Альфа", (10,))),
}
PRE_EXISTING = {901: 101, 903: 103, 904: 104, 905: 105, 906: 106, 910: 110}
CONTACTS = [contact(1), contact(2), contact(31, phone="+7 916 123-45-67"), contact(32, phone="8 (916) 1234567"),
            contact(41, email="  Ivan.Petrov@Example.RU"), contact(42, email="ivan.petrov@example.ru"),
            contact(61), contact(62), contact(71, phone="123"), contact(72, phone="12-3"),
            contact(9), contact(10)]
COMPANIES = [company(51, "7707083893"), company(52, " 7707 083-893 "), company(60, None),
             company(81, "ИНН не указан"), company(82, "ИНН не указан")]


def stories_records() -> dict[str, Any]:
    rec = make_records(4, end=END, deleted_every=0)
    leads = [x for earlier, partner_lead in STORIES.values() for x in (*earlier, partner_lead)]
    return {**rec, "leads": leads, "contacts": CONTACTS, "companies": COMPANIES, "events": []}




def synced_db(tmp: Path, records: dict[str, Any] | None = None) -> tuple[Path, dict[str, list[tuple]]]:
    """Sync the stories from the emulator into tmp/a.duckdb; return it and the oracle's dump of the raw tables."""
    with Emulator(records or stories_records(), rate_limit=None) as emu:
        result = sync.sync(tmp / "a.duckdb", config_for(emu, tmp))
        expected = build_expected(emu, tmp / "expected.duckdb")
    assert result.ok, result  # malformed phones and INNs never fail a sync
    return tmp / "a.duckdb", expected


def add_costs(db: Path, amounts: dict[str, float], month: str = "2025-10-01") -> None:
    """Marketing ledger costs per partner name in one month."""
    with store.connect(db) as con:
        for name, amount in amounts.items():
            con.execute("insert into cost_ledger (partner_id, month, category, amount) select partner_id, ?, "
                        "'marketing', ? from partners where name = ?", [month, amount, name])

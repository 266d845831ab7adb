"""Pre-existing partner leads (metrics-spec "Credit and incrementality"), synced from the emulator end to end.

Each client below is its own story; the sync fetches the contacts' phones / e-mails and the companies' INNs, and
the facts rebuild flags the partner leads whose client had an open, won or direct lead in the 180 days before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from emulator import Emulator, make_records
from emulator.data import F_PARTNER
from emulator.harness import assert_same, build_expected, config_for, dump

from data_layer import store, sync

DAY = 86400
END = 1_760_000_000
T = END - 5 * DAY  # when each story's partner lead is created
PIPE, OPEN = 5001, 50012


def _lead(lead_id: int, created: int, status: int, partner: str | None, contacts: tuple[int, ...] = (),
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


def _contact(cid: int, phone: Any = None, email: Any = None) -> dict[str, Any]:
    cf = []
    if phone is not None:
        cf.append({"field_id": 801, "field_code": "PHONE", "field_type": "multitext", "values": [{"value": phone}]})
    if email is not None:
        cf.append({"field_id": 802, "field_code": "EMAIL", "field_type": "multitext", "values": [{"value": email}]})
    return {"id": cid, "name": f"Контакт {cid}", "created_at": T - 400 * DAY, "updated_at": T - 400 * DAY,
            "custom_fields_values": cf or None}


def _company(cid: int, inn: Any, field: str = "ИНН") -> dict[str, Any]:
    return {"id": cid, "name": f"ООО {cid}", "created_at": T - 400 * DAY, "updated_at": T - 400 * DAY,
            "custom_fields_values": [{"field_id": 811, "field_name": field, "values": [{"value": inn}]}]}


# story -> (earlier leads, the partner lead); lead ids 1xx are earlier, 9xx the partner leads
STORIES = {
    "direct_won_10_days": ([_lead(101, T - 10 * DAY, 142, None, (1,))], _lead(901, T, OPEN, "Альфа", (1,))),
    "direct_won_200_days": ([_lead(102, T - 200 * DAY, 142, None, (2,))], _lead(902, T, 142, "Альфа", (2,))),
    "phone_other_format": ([_lead(103, T - 30 * DAY, 142, None, (31,))], _lead(903, T, 142, "Альфа", (32,))),
    "email_case": ([_lead(104, T - 30 * DAY, 143, None, (41,))], _lead(904, T, 142, "Альфа", (42,))),
    "inn": ([_lead(105, T - 20 * DAY, 142, None, (), (51,))], _lead(905, T, 142, "Бета", (), (52,))),
    "company_other_contact": ([_lead(106, T - 15 * DAY, OPEN, None, (61,), (60,))],
                              _lead(906, T, 142, "Бета", (62,), (60,))),
    "malformed_phone": ([_lead(107, T - 5 * DAY, 142, None, (71,))], _lead(907, T, 142, "Бета", (72,))),
    "malformed_inn": ([_lead(108, T - 5 * DAY, 142, None, (), (81,))], _lead(908, T, 142, "Бета", (), (82,))),
    "other_partner_lost": ([_lead(109, T - 20 * DAY, 143, "Бета", (9,))], _lead(909, T, 142, "Альфа", (9,))),
    "other_partner_open": ([_lead(110, T - 20 * DAY, OPEN, "Бета", (10,))], _lead(910, T, 142, "Альфа", (10,))),
}
PRE_EXISTING = {901: 101, 903: 103, 904: 104, 905: 105, 906: 106, 910: 110}
CONTACTS = [_contact(1), _contact(2), _contact(31, phone="+7 916 123-45-67"), _contact(32, phone="8 (916) 1234567"),
            _contact(41, email="  Ivan.Petrov@Example.RU"), _contact(42, email="ivan.petrov@example.ru"),
            _contact(61), _contact(62), _contact(71, phone="123"), _contact(72, phone="12-3"),
            _contact(9), _contact(10)]
COMPANIES = [_company(51, "7707083893"), _company(52, " 7707 083-893 "), _company(60, None),
             _company(81, "ИНН не указан"), _company(82, "ИНН не указан")]


def _records() -> dict[str, Any]:
    rec = make_records(4, end=END, deleted_every=0)
    leads = [x for earlier, lead in STORIES.values() for x in (*earlier, lead)]
    return {**rec, "leads": leads, "contacts": CONTACTS, "companies": COMPANIES, "events": []}


def _flags(db: Path) -> dict[int, int]:
    with store.connect(db, read_only=True) as con:
        return dict(con.execute("select lead_id, earlier_lead_id from fact_preexisting").fetchall())


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[tuple]]]:
    tmp = tmp_path_factory.mktemp("pre")
    with Emulator(_records(), rate_limit=None) as emu:
        result = sync.sync(tmp / "a.duckdb", config_for(emu, tmp))
        expected = build_expected(emu, tmp / "expected.duckdb")
    assert result.ok  # malformed phones and INNs never fail a sync
    return tmp / "a.duckdb", expected


def test_identity_keys_match_the_oracle(synced: tuple[Path, dict]) -> None:
    db, expected = synced
    assert_same(dump(db), expected)


def test_preexisting_leads_and_their_earlier_leads(synced: tuple[Path, dict]) -> None:
    assert _flags(synced[0]) == PRE_EXISTING


def test_won_deals_carry_the_flag(synced: tuple[Path, dict]) -> None:
    with store.connect(synced[0], read_only=True) as con:
        rows = dict(con.execute("select lead_id, preexisting from fact_won_deals where lead_id > 900").fetchall())
    assert rows == {902: False, 903: True, 904: True, 905: True, 906: True, 907: False, 908: False, 909: False,
                    910: True}


def test_malformed_values_leave_no_key(synced: tuple[Path, dict]) -> None:
    with store.connect(synced[0], read_only=True) as con:
        keyed = {r[0] for r in con.execute("select entity_id from raw_client_keys").fetchall()}
    assert keyed == {31, 32, 41, 42, 51, 52}


def test_match_kinds(synced: tuple[Path, dict]) -> None:
    with store.connect(synced[0], read_only=True) as con:
        kinds = dict(con.execute("select lead_id, match_kind from fact_preexisting").fetchall())
    assert kinds == {901: "contact", 903: "phone", 904: "email", 905: "inn", 906: "company", 910: "contact"}


def test_window_is_a_setting(synced: tuple[Path, dict], tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    db.write_bytes(synced[0].read_bytes())
    with store.connect(db) as con:
        con.execute("insert or replace into settings (key, value) values ('preexisting_window_days', ?)",
                    [json.dumps(250)])
        store.rebuild_facts(con)
    assert _flags(db) == {**PRE_EXISTING, 902: 102}


def test_inn_field_by_name(tmp_path: Path) -> None:
    rec = _records()
    rec["companies"] = [_company(51, "7707083893", "Налоговый номер"), _company(52, "7707083893", "Налоговый номер"),
                        *COMPANIES[2:]]
    with Emulator(rec, rate_limit=None) as emu:
        config = config_for(emu, tmp_path)
        sync.sync(tmp_path / "a.duckdb", config)
        assert 905 not in _flags(tmp_path / "a.duckdb")  # the default «ИНН» field is absent
        with store.connect(tmp_path / "a.duckdb") as con:
            con.execute("insert into settings (key, value) values ('inn_field_name', ?)", [json.dumps("налоговый номер")])
        emu.update_company(51, name="ООО 51")  # a change the next incremental sync fetches
        emu.update_company(52, name="ООО 52")
        sync.sync(tmp_path / "a.duckdb", config)
    assert _flags(tmp_path / "a.duckdb")[905] == 105

"""Pre-existing partner leads (metrics-spec "Credit and incrementality"), synced from the emulator end to end.

Each client below is its own story; the sync fetches the contacts' phones / e-mails and the companies' INNs, and
the facts rebuild flags the partner leads whose client had an open, won or direct lead in the 180 days before.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from emulator import Emulator
from emulator.harness import assert_same, config_for, dump
from support.preexisting import COMPANIES, PRE_EXISTING, company, stories_records, synced_db

from data_layer import store, sync


def _flags(db: Path) -> dict[int, int]:
    with store.connect(db, read_only=True) as con:
        return dict(con.execute("select lead_id, earlier_lead_id from fact_preexisting").fetchall())


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[tuple]]]:
    return synced_db(tmp_path_factory.mktemp("pre"))


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
    rec = stories_records()
    rec["companies"] = [company(51, "7707083893", "Налоговый номер"), company(52, "7707083893", "Налоговый номер"),
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

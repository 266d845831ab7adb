"""Exact content: a full sync, an incremental one after edits, and --full, each compared table by table."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from emulator import Emulator, make_records
from emulator.harness import assert_same, build_expected, config_for, dump
from support.template import copy_template

from data_layer import store, sync
from data_layer.errors import ConfigError


def _sync(emu: Emulator, tmp: Path, db: Path, **kwargs: object) -> sync.SyncResult:
    return sync.sync(db, config_for(emu, tmp), **kwargs)


def _mutate(emu: Emulator) -> None:
    """Edits, a stage move, a trash deletion, a purge, a new lead, contact and company changes."""
    ids = sorted(i for i, x in emu.leads.items() if not x.get("is_deleted"))
    emu.update_lead(ids[0], name="Переименована 🚀", price=999)
    emu.move_lead(ids[1], 142)
    emu.delete_lead(ids[2])
    emu.delete_lead(ids[3], purge=True)
    new = copy.deepcopy(emu.leads[ids[4]])
    new.update(id=39_999_999, name="Новая сделка", custom_fields_values=None)
    new["_embedded"]["contacts"] = [{"id": 68_888_888, "is_main": True}]
    emu.contacts[68_888_888] = {"id": 68_888_888, "name": "Новый контакт", "created_at": emu.now(),
                                "custom_fields_values": None}
    emu.add_lead(new)
    lead5 = emu.leads[ids[5]]
    emu.update_lead(ids[5], _embedded={**lead5["_embedded"], "tags": [], "contacts": []})  # unlinks its contact
    some_contact = next(iter(emu.contacts))
    emu.update_contact(some_contact, custom_fields_values=[
        {"field_code": "PHONE", "values": [{"value": "+7 999"}, {"value": "+7 998"}]}])
    if emu.companies:
        emu.update_company(next(iter(emu.companies)), name="ООО «Переименована»")
    emu.reference["users"].append({"id": 999, "name": "Новый менеджер", "rights": {"is_active": True}})
    emu.reference["pipelines"][0]["name"] = "Основная воронка (новое имя)"


@pytest.mark.parametrize("quirks", [False, True], ids=["plain", "quirks"])
def test_full_sync_matches_oracle(tmp_path: Path, quirks: bool) -> None:
    with Emulator(make_records(120, quirks=quirks), rate_limit=None) as emu:
        result = _sync(emu, tmp_path, tmp_path / "a.duckdb")
        expected = build_expected(emu, tmp_path / "expected.duckdb")
    assert result.ok and result.mode == "full"
    assert_same(dump(tmp_path / "a.duckdb"), expected)


def test_full_sync_of_demo_records(tmp_path: Path) -> None:
    demo = pytest.importorskip("data_layer.demo")
    with Emulator(demo.generate_records(n_leads=400, seed=7), rate_limit=None) as emu:
        _sync(emu, tmp_path, tmp_path / "a.duckdb")
        expected = build_expected(emu, tmp_path / "expected.duckdb")
    assert_same(dump(tmp_path / "a.duckdb"), expected)
    with store.connect(tmp_path / "a.duckdb", read_only=True) as con:
        assert con.execute("select count(*) from lead_facts").fetchone()[0] > 300
        assert con.execute("select count(*) from partners").fetchone()[0] > 0
        assert con.execute("select count(*) from commission_rules").fetchone()[0] == 0


def test_incremental_equals_fresh_full_sync(tmp_path: Path) -> None:
    with Emulator(make_records(150, quirks=True), rate_limit=None) as emu:
        db = tmp_path / "a.duckdb"
        _sync(emu, tmp_path, db)
        emu.reset_log()
        _mutate(emu)
        result = _sync(emu, tmp_path, db)
        incremental_requests = emu.count(path_prefix="/api/v4/leads")
        _sync(emu, tmp_path, tmp_path / "fresh.duckdb")
        expected = build_expected(emu, tmp_path / "expected.duckdb")
    assert result.mode == "incremental"
    assert incremental_requests <= 8  # a few windows, not the whole account again
    assert_same(dump(db), dump(tmp_path / "fresh.duckdb"))
    assert_same(dump(db), expected)


def test_bulk_edit_in_one_second_is_paged_by_id(tmp_path: Path) -> None:
    # 600 leads share one updated_at: more than a page, so the keyset walk must page that second by id.
    with Emulator(make_records(700, same_second=600, deleted_every=0), rate_limit=None) as emu:
        _sync(emu, tmp_path, tmp_path / "a.duckdb")
        expected = build_expected(emu, tmp_path / "expected.duckdb")
        tie_pages = [e for e in emu.api_log() if "order[id]=asc" in e.query.replace("%5B", "[").replace("%5D", "]")]
    assert_same(dump(tmp_path / "a.duckdb"), expected)
    assert len(tie_pages) >= 3


def test_full_resync_keeps_user_data_and_bookkeeping(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    with Emulator(make_records(80), rate_limit=None) as emu:
        _sync(emu, tmp_path, db)
        with store.connect(db) as con:
            con.execute("insert into partners (name, model, model_source) values ('Ручной партнёр', 'sales', 'user')")
            con.execute("insert into settings (key, value) values ('min_leads', '10')")
            con.execute("insert into cost_ledger (partner_id, month, category, amount) "
                        "select partner_id, date '2025-01-01', 'bonus', 100 from partners where name = 'Ручной партнёр'")
        result = _sync(emu, tmp_path, db, full=True)
        expected = build_expected(emu, tmp_path / "expected.duckdb")
    assert result.mode == "full"
    assert_same(dump(db), expected)
    with store.connect(db, read_only=True) as con:
        assert con.execute("select model from partners where name = 'Ручной партнёр'").fetchone() == ("sales",)
        assert con.execute("select count(*) from cost_ledger").fetchone()[0] == 1
        assert con.execute("select value from settings where key = 'min_leads'").fetchone() == ("10",)
        meta = dict(con.execute("select key, value from meta").fetchall())
        runs = con.execute("select mode, status, requests > 0 from sync_runs order by run_id").fetchall()
        state = {k for (k,) in con.execute("select entity from sync_state").fetchall()}
    assert meta["source"] == "amocrm" and meta["account_name"] == "Тестовый аккаунт"
    assert meta["last_sync_status"] == "ok" and meta["last_sync_at"]
    assert runs == [("full", "ok", True), ("full", "ok", True)]
    assert state == {"leads", "deleted", "events", "contacts", "companies"}  # no plan rows left behind


def test_demo_database_is_not_overwritten_without_consent(tmp_path: Path, template_db: Path) -> None:
    db = tmp_path / "demo.duckdb"
    copy_template(template_db, db)
    with store.connect(db) as con:
        store.set_meta(con, "source", "demo")
        con.execute("insert into partners (name) values ('Демо-партнёр')")
        channels = '[{"kind": "webhook", "url": "http://127.0.0.1:9/"}]'
        for kind, value in (("partner", "1"), ("partner", None), ("all", None)):
            con.execute("insert into alert_rules (name, metric, scope_kind, scope_value, condition, threshold, "
                        "window_periods, grain, channels) values (?, 'roi', ?, ?, 'below', 0, 1, 'month', ?)",
                        [f"{kind} {value}", kind, value, channels])
        con.execute("insert into alert_state (rule_id, scope_key, active) select rule_id, 'partner:1', true "
                    "from alert_rules limit 1")
        con.execute("insert into user_events (day, title, scope) values (current_date, 'Демо-акция', 'all')")
    with Emulator(make_records(30), rate_limit=None) as emu:
        with pytest.raises(ConfigError, match="demo"):
            _sync(emu, tmp_path, db)
        _sync(emu, tmp_path, db, replace_demo=True)
        expected = build_expected(emu, tmp_path / "expected.duckdb")
    assert_same(dump(db), expected)
    with store.connect(db, read_only=True) as con:
        assert con.execute("select count(*) from partners where name = 'Демо-партнёр'").fetchone()[0] == 0
        assert store.get_meta(con, "source") == "amocrm"
        # rules on one demo partner go with it, the user's other rules stay; the demo's states and events go
        assert con.execute("select name from alert_rules order by name").fetchall() == [("all None",),
                                                                                        ("partner None",)]
        assert con.execute("select (select count(*) from alert_state) + (select count(*) from user_events)"
                           ).fetchone() == (0,)

"""Store: migrations, short-lived connections under a foreign lock, version stamp, attribution, facts."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from data_layer import normalise as n
from data_layer import save, store

PIPELINES = [{
    "id": 1, "name": "Продажи", "sort": 1, "is_main": True, "_embedded": {"statuses": [
        {"id": 10, "name": "Неразобранное", "sort": 10, "type": 1, "pipeline_id": 1},
        {"id": 11, "name": "Первичный контакт", "sort": 20, "type": 0, "pipeline_id": 1},
        {"id": 12, "name": "Замер", "sort": 30, "type": 0, "pipeline_id": 1},
        {"id": 13, "name": "Договор", "sort": 40, "type": 0, "pipeline_id": 1},
        {"id": 142, "name": "Успешно", "sort": 10000, "type": 0, "pipeline_id": 1},
        {"id": 143, "name": "Закрыто", "sort": 11000, "type": 0, "pipeline_id": 1},
    ]}}, {
    "id": 2, "name": "Сервис", "sort": 2, "_embedded": {"statuses": [
        {"id": 20, "name": "В работе", "sort": 20, "type": 0, "pipeline_id": 2},
        {"id": 142, "name": "Успешно", "sort": 10000, "type": 0, "pipeline_id": 2},
        {"id": 143, "name": "Закрыто", "sort": 11000, "type": 0, "pipeline_id": 2},
    ]}},
]
ACCOUNT = {"id": 1, "name": "Тест", "currency": "RUB", "_embedded": {"datetime_settings": {"timezone": "Europe/Moscow"}}}
MSK_MIDNIGHT_2024_06_07 = 1717707600  # 2024-06-07 00:00 Europe/Moscow = 2024-06-06 21:00 UTC


def lead(lead_id: int, status: int = 11, pipeline: int = 1, partner: str | None = None,
         model: str | None = None, tags: tuple[str, ...] = (), utm: str | None = None, **extra) -> dict:
    """An API-shaped lead record."""
    cfv = []
    if partner is not None:
        cfv.append({"field_id": 501, "field_name": "Партнёр", "field_type": "text", "values": [{"value": partner}]})
    if model is not None:
        cfv.append({"field_id": 502, "field_name": "Модель партнерства", "field_type": "select",
                    "values": [{"value": model, "enum_id": 1}]})
    if utm is not None:
        cfv.append({"field_id": 503, "field_name": "utm_source", "field_code": "UTM_SOURCE",
                    "field_type": "tracking_data", "values": [{"value": utm}]})
    rec = {"id": lead_id, "name": f"Сделка {lead_id}", "price": 1000, "status_id": status, "pipeline_id": pipeline,
           "created_at": MSK_MIDNIGHT_2024_06_07, "updated_at": MSK_MIDNIGHT_2024_06_07 + 10,
           "custom_fields_values": cfv or None,
           "_embedded": {"tags": [{"id": 900 + i, "name": t} for i, t in enumerate(tags)]}}
    rec.update(extra)
    return rec


def load(path: Path, leads: list[dict], events: list[dict] | None = None) -> None:
    """Save records through the sync's normalise/save code and rebuild derived tables."""
    with store.connect(path) as con:
        con.execute("begin")
        save.save_batch(con, n.merge(n.normalise_account(ACCOUNT), n.normalise_pipelines(PIPELINES),
                                     n.normalise_leads(leads), n.normalise_events(events or [])))
        con.execute("commit")
    store.refresh_derived(path)


def facts(path: Path) -> dict[int, dict]:
    """lead_facts as {lead_id: row dict}."""
    with store.connect(path, read_only=True) as con:
        df = con.execute("select * from lead_facts").df()
    return {int(r["lead_id"]): r for r in df.to_dict("records")}


def test_migrations_are_recorded_and_idempotent(tmp_db: Path) -> None:
    assert store.init_db(tmp_db) == []
    with store.connect(tmp_db, read_only=True) as con:
        assert store.applied_migrations(con) == [name for name, _ in store.MIGRATIONS]


def test_read_only_connect_to_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(store.StoreError, match="make run"), store.connect(tmp_path / "nope.duckdb", read_only=True):
        pass


def test_version_stamp_changes_on_every_write(tmp_db: Path) -> None:
    first = store.data_version(tmp_db)
    second = store.bump_version(tmp_db)
    assert first and second != first and store.data_version(tmp_db) == second


def test_reader_waits_for_a_foreign_writer_instead_of_failing(tmp_db: Path) -> None:
    # Another process holds the write lock for ~1.5 s; our read-only open must wait, not raise.
    holder = textwrap.dedent(f"""
        import duckdb, time, sys
        con = duckdb.connect({str(tmp_db)!r})
        print("locked", flush=True)
        time.sleep(1.5)
        con.close()
    """)
    proc = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    started = time.monotonic()
    with store.connect(tmp_db, read_only=True) as con:
        assert con.execute("select count(*) from partners").fetchone()[0] == 0
    proc.wait(timeout=30)
    assert proc.returncode == 0
    assert time.monotonic() - started > 0.5  # it really waited for the lock


def test_field_attribution_matches_yo_and_case(tmp_db: Path) -> None:
    load(tmp_db, [lead(1, partner="ООО Ёлка"), lead(2, partner="ооо елка"), lead(3)])
    rows = facts(tmp_db)
    assert rows[1]["partner_id"] == rows[2]["partner_id"] is not None
    assert rows[3]["model"] == "direct" and pd.isna(rows[3]["partner_id"])


def test_crm_model_fills_only_empty_models(tmp_db: Path) -> None:
    load(tmp_db, [lead(1, partner="Альфа", model="Реферальная программа"),
                  lead(2, partner="Бета", model="Партнёрство на основе услуг")])
    with store.connect(tmp_db) as con:
        con.execute("update partners set model = 'sales', model_source = 'user' where name = 'Альфа'")
    store.bump_version(tmp_db)
    load(tmp_db, [lead(3, partner="Альфа", model="Реферальная программа"),
                  lead(4, partner="Гамма", model="Продажи (реселлер)")])
    with store.connect(tmp_db, read_only=True) as con:
        models = dict(con.execute("select name, model from partners").fetchall())
    assert models == {"Альфа": "sales", "Бета": "service", "Гамма": "sales"}


def test_tag_and_utm_mappings(tmp_db: Path) -> None:
    with store.connect(tmp_db) as con:
        con.execute("insert into settings (key, value) values ('mapping', ?)",
                    [json.dumps({"mode": "tag", "tag_prefix": "partner:"})])
    load(tmp_db, [lead(1, tags=("partner:ACME", "vip")), lead(2, tags=("vip",))])
    rows = facts(tmp_db)
    assert rows[1]["partner_name"] == "ACME" and rows[2]["model"] == "direct"

    with store.connect(tmp_db) as con:
        con.execute("update settings set value = ? where key = 'mapping'", [json.dumps({"mode": "utm"})])
        con.execute("update partners set aliases = ['acme_utm'] where name = 'ACME'")
    load(tmp_db, [lead(3, utm="ACME_UTM"), lead(4, utm="yandex")])
    rows = facts(tmp_db)
    assert rows[3]["partner_name"] == "ACME"
    assert rows[4]["model"] == "direct"  # a UTM source never creates a partner by itself
    with store.connect(tmp_db, read_only=True) as con:
        assert con.execute("select count(*) from partners").fetchone()[0] == 1


def test_qualification_by_history_current_stage_and_setting(tmp_db: Path) -> None:
    events = [{"id": "e1", "type": "lead_status_changed", "entity_id": 2, "entity_type": "lead", "created_at": 1,
               "value_before": [{"lead_status": {"id": 12, "pipeline_id": 1}}],
               "value_after": [{"lead_status": {"id": 143, "pipeline_id": 1}}]}]
    load(tmp_db, [lead(1, status=11), lead(2, status=143), lead(3, status=12), lead(4, status=142),
                  lead(5, status=143), lead(6, status=20, pipeline=2)], events)
    rows = facts(tmp_db)
    qualified = {k for k, r in rows.items() if r["is_qualified"]}
    # default qualification stage = second regular stage (12); the service pipeline has one regular stage
    assert qualified == {2, 3, 4}
    with store.connect(tmp_db) as con:
        con.execute("insert into settings (key, value) values ('qualification_stages', ?)", [json.dumps({"1": 13})])
    store.refresh_derived(tmp_db)
    assert {k for k, r in facts(tmp_db).items() if r["is_qualified"]} == {4}


def test_dates_in_account_time_zone_and_amount(tmp_db: Path) -> None:
    load(tmp_db, [lead(1, price=None, price_with_minor_units=1234.5), lead(2, price=None)])
    rows = facts(tmp_db)
    assert str(rows[1]["created_date"])[:10] == "2024-06-07"  # UTC would say 2024-06-06
    assert rows[1]["amount"] == 1234.5 and rows[2]["amount"] == 0.0


def test_deleted_leads_leave_facts_and_children_are_replaced(tmp_db: Path) -> None:
    load(tmp_db, [lead(1, partner="Альфа", tags=("a", "b")), lead(2)])
    load(tmp_db, [lead(1, partner="Альфа", tags=("a",))],
         [{"id": "d1", "type": "lead_deleted", "entity_id": 2, "entity_type": "lead", "created_at": 5}])
    assert set(facts(tmp_db)) == {1}
    with store.connect(tmp_db, read_only=True) as con:
        assert con.execute("select count(*) from raw_lead_tags where lead_id = 1").fetchone()[0] == 1


def test_client_key_prefers_main_contact_then_company(tmp_db: Path) -> None:
    load(tmp_db, [
        lead(1, _embedded={"tags": [], "contacts": [{"id": 7, "is_main": False}, {"id": 8, "is_main": True}]}),
        lead(2, _embedded={"tags": [], "companies": [{"id": 55}]}),
        lead(3),
    ])
    rows = facts(tmp_db)
    assert [rows[i]["client_key"] for i in (1, 2, 3)] == ["c8", "co55", "l3"]


def test_malformed_records_do_not_stop_a_page(tmp_db: Path) -> None:
    weird = lead(1, name="🚀" * 10000, custom_fields_values=[
        {"field_id": 9, "field_name": "x", "field_type": "unknown_type", "values": [{"value": {"nested": [1, 2]}}]},
        "garbage", {"field_id": 10, "values": None}])
    load(tmp_db, [weird, {"no_id": True}, lead(2, price="not a number")])
    rows = facts(tmp_db)
    assert set(rows) == {1, 2} and len(rows[1]["lead_name"]) == n.MAX_TEXT and rows[2]["amount"] == 0.0


def test_upgrade_adds_only_what_an_older_database_lacks(tmp_db: Path) -> None:
    """A file built before migration 0004 gets its fact tables; an up-to-date file is not written at all."""
    with store.connect(tmp_db) as con:
        con.execute("drop table fact_won_deals")
        con.execute("delete from schema_migrations where name = '0004_derived_tables'")
    before = store.data_version(tmp_db)
    assert store.upgrade(tmp_db) == ["0004_derived_tables"]
    with store.connect(tmp_db, read_only=True) as con:
        assert con.execute("select count(*) from fact_won_deals").fetchone() == (0,)
    stamp = store.data_version(tmp_db)
    assert stamp != before
    assert store.upgrade(tmp_db) == [] and store.data_version(tmp_db) == stamp
    assert store.upgrade(tmp_db.with_name("missing.duckdb")) == []


def test_a_database_of_version_0004_gets_the_deal_list_columns_and_field_counts(tmp_db: Path) -> None:
    """Migration 0005 rebuilds the fact tables: deal lists and the field list read columns 0004 lacked."""
    with store.connect(tmp_db) as con:
        con.execute("create or replace table fact_won_deals as select lead_id, partner_id, model, pipeline_id, "
                    "utm_source, source_name, created_date, closed_date, amount, close_days, is_qualified, "
                    "0::bigint as client, 0::bigint as client_deals, 0.0 as client_revenue from fact_won_deals")
        con.execute("drop table fact_field_fill")
        con.execute("delete from schema_migrations where name = '0005_deal_list_columns'")
    assert store.upgrade(tmp_db) == ["0005_deal_list_columns"]
    with store.connect(tmp_db, read_only=True) as con:
        columns = {r[0] for r in con.execute("describe fact_won_deals").fetchall()}
        assert {"lead_name", "status_id", "is_lost", "loss_reason", "client_key", "partner_name"} <= columns
        assert con.execute("select count(*) from fact_field_fill").fetchone() == (0,)


def test_a_database_of_version_0006_gets_the_lead_quality_counts(tmp_db: Path) -> None:
    """Migration 0007 rebuilds the fact tables: lead quality reads phone / e-mail counts and lost-lead days."""
    with store.connect(tmp_db) as con:
        con.execute("alter table fact_lead_days_partner drop column with_phone")
        con.execute("drop table fact_lost_days")
        con.execute("delete from schema_migrations where name = '0007_quality_days'")
    assert store.upgrade(tmp_db) == ["0007_quality_days"]
    with store.connect(tmp_db, read_only=True) as con:
        columns = {r[0] for r in con.execute("describe fact_lead_days_partner").fetchall()}
        assert {"with_phone", "with_email"} <= columns
        assert con.execute("select count(*) from fact_lost_days").fetchone() == (0,)


def test_the_derived_table_list_is_what_derived_sql_creates(tmp_db: Path) -> None:
    """A --replace-demo empties every derived table (bookkeeping.DEMO_TABLES): the list must not miss a new one."""
    with store.connect(tmp_db, read_only=True) as con:
        facts = {r[0] for r in con.execute("select table_name from information_schema.tables "
                                           "where table_name like 'fact\\_%' escape '\\'").fetchall()}
    assert facts == set(store.DERIVED_TABLES) and "fact_field_fill" in facts
    from data_layer.sync import bookkeeping
    assert set(store.DERIVED_TABLES) <= set(bookkeeping.DEMO_TABLES)

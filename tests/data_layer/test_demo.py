"""Demo account: API-shaped records, determinism, bulk path == record path, realistic content, CLI."""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb
import pytest

from data_layer import demo, store

END = date(2025, 6, 30)
ULID = re.compile(r"^[0-9a-hjkmnp-tv-z]{26}$")
LEAD_KEYS = {"id", "name", "price", "price_with_minor_units", "responsible_user_id", "group_id", "status_id",
             "pipeline_id", "loss_reason_id", "source_id", "created_by", "updated_by", "created_at", "updated_at",
             "closed_at", "closest_task_at", "is_deleted", "custom_fields_values", "score", "account_id",
             "_links", "_embedded"}
EVENT_KEYS = {"id", "type", "entity_id", "entity_type", "created_by", "created_at", "value_after",
              "value_before", "account_id", "_links", "_embedded"}
# Columns that record when a row was written, not what it says.
WRITE_TIME_COLUMNS = {"updated_at", "created_at", "applied_at", "happened_at", "started_at", "finished_at", "seconds", "message"}


@pytest.fixture(scope="module")
def records() -> dict:
    """A small demo account as API records."""
    return demo.generate_records(1000, seed=3, end_date=END)


@pytest.fixture(scope="module")
def default_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The demo at its default size (record path), loaded once for the content tests."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    return path, demo.load_demo(path, end_date=END)


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of one read-only query."""
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


# ---------------------------------------------------------------- record shapes

def test_reference_records_match_the_api(records: dict) -> None:
    acc = records["account"]
    assert acc["_embedded"]["datetime_settings"]["timezone"] == "Europe/Moscow"
    assert acc["currency"] == "RUB" and isinstance(acc["id"], int)
    assert all({"id", "name", "pipeline_id", "external_id"} <= s.keys() for s in records["sources"])
    assert len(records["pipelines"]) == 2
    main = [p for p in records["pipelines"] if p["is_main"]]
    assert [p["name"] for p in main] == ["Продажи"]
    for p in records["pipelines"]:
        statuses = p["_embedded"]["statuses"]
        ids = [s["id"] for s in statuses]
        assert 142 in ids and 143 in ids
        assert [s["type"] for s in statuses].count(1) == 1
        assert all(s["pipeline_id"] == p["id"] for s in statuses)
        regular = [s for s in statuses if s["type"] == 0 and s["id"] not in (142, 143)]
        assert 2 <= len(regular) <= 5
    fields = {f["name"]: f for f in records["lead_custom_fields"]}
    partner_names = [e["value"] for e in fields["Партнёр"]["enums"]]
    assert fields["Партнёр"]["type"] == "select" and len(partner_names) == 25
    assert {e["value"] for e in fields["Модель партнёрства"]["enums"]} == {"Реферальная", "Продажи", "Услуги/сервис"}
    assert any(f["code"] == "UTM_SOURCE" and f["type"] == "tracking_data" for f in records["lead_custom_fields"])
    assert any(ch in name for name in partner_names for ch in "<=")
    reasons = {r["name"] for r in records["loss_reasons"]}
    assert {"Спам", "Дубль", "Нецелевой"} <= reasons
    assert all(isinstance(u["rights"]["is_active"], bool) for u in records["users"])


def test_lead_records_match_the_api(records: dict) -> None:
    leads = records["leads"]
    assert len(leads) == 1000
    fractional = 0
    for lead in leads:
        assert LEAD_KEYS <= lead.keys()
        cfv = lead["custom_fields_values"]
        assert cfv is None or (isinstance(cfv, list) and cfv)
        for cf in cfv or []:
            assert {"field_id", "field_name", "field_code", "field_type", "values"} <= cf.keys()
            assert cf["values"] and all("value" in v for v in cf["values"])
        emb = lead["_embedded"]
        assert isinstance(emb["tags"], list) and isinstance(emb["companies"], list)
        assert all({"id", "is_main"} <= c.keys() for c in emb["contacts"])
        assert sum(c["is_main"] for c in emb["contacts"]) <= 1 and len(emb["companies"]) <= 1
        lost_with_reason = lead["status_id"] == 143
        assert ("loss_reason" in emb) == lost_with_reason
        if lost_with_reason:
            assert emb["loss_reason"][0]["id"] == lead["loss_reason_id"]
        assert (lead["closed_at"] is None) == (lead["status_id"] not in (142, 143))
        assert isinstance(lead["price"], int) and lead["price"] == int(lead["price_with_minor_units"])
        fractional += lead["price_with_minor_units"] != lead["price"]
        if lead["status_id"] == 142:
            assert 3 * 86400 <= lead["closed_at"] - lead["created_at"] <= 90 * 86400
    assert fractional > 0
    assert any(lead["custom_fields_values"] is None for lead in leads)
    assert any(lead["source_id"] is not None for lead in leads)
    assert any(lead["closed_at"] is None for lead in leads)  # open leads in the last months


def test_contact_records_have_phone_and_email_counts(records: dict) -> None:
    codes = []
    for c in records["contacts"]:
        cf = c["custom_fields_values"]
        assert cf is None or cf
        found = {f["field_code"]: f for f in cf or []}
        for f in found.values():
            assert f["field_type"] == "multitext"
            assert all({"value", "enum_id", "enum_code"} <= v.keys() for v in f["values"])
        codes.append(set(found))
    assert any(s == {"PHONE", "EMAIL"} for s in codes)
    assert any("PHONE" not in s for s in codes) and any("EMAIL" not in s for s in codes)
    linked = {c["id"] for lead in records["leads"] for c in lead["_embedded"]["contacts"]}
    assert linked <= {c["id"] for c in records["contacts"]}


def test_events_follow_each_lead_to_its_stage(records: dict) -> None:
    events = records["events"]
    ids = [e["id"] for e in events]
    assert all(isinstance(i, str) and ULID.match(i) for i in ids) and len(set(ids)) == len(ids)
    by_lead: dict[int, list[dict]] = defaultdict(list)
    deleted_events = set()
    for e in events:
        assert EVENT_KEYS <= e.keys() and e["entity_type"] == "lead"
        if e["type"] == "lead_deleted":
            deleted_events.add(e["entity_id"])
            continue
        assert e["type"] == "lead_status_changed"
        for side in ("value_before", "value_after"):
            assert len(e[side]) == 1 and set(e[side][0]["lead_status"]) == {"id", "pipeline_id"}
        by_lead[e["entity_id"]].append(e)
    statuses = {p["id"]: [s["id"] for s in p["_embedded"]["statuses"]] for p in records["pipelines"]}
    for lead in records["leads"]:
        chain = sorted(by_lead.get(lead["id"], []), key=lambda e: (e["created_at"], e["id"]))
        if not chain:
            assert lead["status_id"] in statuses[lead["pipeline_id"]][:2]  # still where it was created
            continue
        assert chain[0]["value_before"][0]["lead_status"]["id"] in statuses[lead["pipeline_id"]][:2]
        for a, b in zip(chain, chain[1:], strict=False):
            assert a["value_after"] == b["value_before"]
        assert chain[-1]["value_after"][0]["lead_status"] == {"id": lead["status_id"],
                                                               "pipeline_id": lead["pipeline_id"]}
        assert lead["created_at"] <= chain[0]["created_at"] and chain[-1]["created_at"] <= lead["updated_at"]
    assert deleted_events and deleted_events == {lead["id"] for lead in records["leads"] if lead["is_deleted"]}


def test_records_are_deterministic() -> None:
    a = demo.generate_records(400, seed=11, end_date=END)
    assert a == demo.generate_records(400, seed=11, end_date=END)
    assert a["leads"] != demo.generate_records(400, seed=12, end_date=END)["leads"]
    assert json.dumps(a, ensure_ascii=False)  # plain JSON types only


# ---------------------------------------------------------------- bulk path == record path

def _table_rows(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows (write-time columns left out), sorted."""
    out = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [r[0] for r in con.execute("select table_name from duckdb_tables() order by 1").fetchall()]
        for t in tables:
            cols = [r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_name = ? order by ordinal_position",
                [t]).fetchall()]
            keep = [c for c in cols if c not in WRITE_TIME_COLUMNS or t.startswith("raw_")]
            if t in ("meta", "sync_runs", "schema_migrations") or not keep:
                continue
            out[t] = con.execute(store.sql_with_names("select {c} from {t} order by all", c=keep, t=t)).fetchall()
    return out


def test_bulk_path_gives_the_same_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo.plan, "GEN_BLOCK", 400)  # several blocks: ids and repeat clients carry across them
    a = demo.load_demo(tmp_path / "records.duckdb", 1000, seed=5, end_date=END, bulk=False)
    b = demo.load_demo(tmp_path / "bulk.duckdb", 1000, seed=5, end_date=END, bulk=True)
    assert (a["mode"], b["mode"]) == ("records", "bulk")
    rows_a, rows_b = _table_rows(tmp_path / "records.duckdb"), _table_rows(tmp_path / "bulk.duckdb")
    assert rows_a.keys() == rows_b.keys() and {"raw_leads", "lead_facts", "cost_ledger"} <= rows_a.keys()
    for table in rows_a:
        assert rows_a[table] == rows_b[table], table
    assert len(rows_a["lead_facts"]) > 950 and len(rows_a["raw_lead_status_events"]) > 1000


# ---------------------------------------------------------------- content of the default demo

def test_default_load_succeeds(default_db: tuple[Path, dict]) -> None:
    path, result = default_db
    assert result["mode"] == "records" and result["leads"] == 20000 and result["partners"] == 25
    facts = query(path, "select count(*) from lead_facts")[0][0]
    alive = query(path, "select count(*) from raw_leads where not is_deleted")[0][0]
    assert facts == alive == result["lead_facts"] and 19000 < facts < 20000
    assert dict(query(path, "select key, value from meta"))["source"] == "demo"
    assert query(path, "select value from settings where key = 'min_leads'") == [("30",)]
    assert (path.parent / "demo.duckdb.version").exists()
    # the shipped rules have been in force since the data begin: no "new rule" event on the day of the build
    days = query(path, "select distinct happened_at::date from audit_log where entity = 'commission_rules'")
    assert days == [(query(path, "select min(valid_from) from commission_rules")[0][0],)]


def test_partners_models_and_sizes(default_db: tuple[Path, dict]) -> None:
    path, _ = default_db
    partners = query(path, "select name, model, model_source, manager, start_date, aliases from partners")
    assert len(partners) == 25
    assert {p[1] for p in partners} == {"referral", "sales", "service"}
    assert sum(p[2] == "user" for p in partners) == 3 and all(p[3] and p[4] and p[5] for p in partners)
    yearly = query(path, """
        select p.name, count(f.lead_id) from partners p
        left join lead_facts f on f.partner_id = p.partner_id and f.created_date > date '2024-06-30'
        group by p.name""")
    tiny = [name for name, n in yearly if 0 < n < 30]
    assert 3 <= len(tiny) <= 6, yearly
    first_seen = query(path, "select partner_id, min(created_date) from lead_facts where partner_id is not null "
                             "group by 1 having min(created_date) >= date '2025-02-01'")
    assert len(first_seen) >= 2  # new partners appear only in the last months
    direct = query(path, "select avg((model = 'direct')::int) from lead_facts")[0][0]
    assert 0.35 <= direct <= 0.45
    conv = [r[0] for r in query(path, "select avg(is_won::int) from lead_facts where partner_id is not null "
                                      "group by partner_id having count(*) >= 100")]
    assert min(conv) < 0.08 and max(conv) > 0.3
    checks = dict(query(path, "select model, avg(amount) from lead_facts where is_won group by 1"))
    assert checks["referral"] < checks["sales"] < checks["service"]


def test_seasonality_trend_and_open_leads(default_db: tuple[Path, dict]) -> None:
    path, _ = default_db
    monthly = dict(query(path, "select strftime(created_date, '%Y-%m'), count(*) from lead_facts group by 1"))
    assert len(monthly) == 24
    assert monthly["2024-12"] > monthly["2024-07"] * 1.3 and monthly["2024-03"] > monthly["2024-01"]
    assert monthly["2024-12"] > monthly["2023-12"]  # mild upward trend
    open_last = query(path, "select count(*) from lead_facts where not is_won and not is_lost "
                            "and created_date >= date '2025-05-01'")[0][0]
    assert open_last > 50


def test_junk_is_concentrated_and_clients_come_back(default_db: tuple[Path, dict]) -> None:
    path, _ = default_db
    reasons = {r[0] for r in query(path, "select loss_reason from lead_facts where is_junk")}
    assert reasons == {"Спам", "Дубль", "Нецелевой"}
    shares = sorted(r[0] for r in query(path, "select avg(is_junk::int) from lead_facts "
                                              "where partner_id is not null group by partner_id having count(*) > 100"))
    assert shares[-1] > 0.2 and shares[0] < 0.05
    repeat = query(path, "select avg((n >= 2)::int) from (select client_key, count(*) n from lead_facts "
                         "where is_won group by 1)")[0][0]
    assert 0.08 <= repeat <= 0.25
    quality = query(path, "select avg(has_phone::int), avg(has_email::int) from lead_facts")[0]
    assert 0.6 < quality[0] < 0.97 and 0.4 < quality[1] < 0.85


def test_costs_cover_every_partner_without_double_commission(default_db: tuple[Path, dict]) -> None:
    path, _ = default_db
    uncovered = query(path, "select name from partners where partner_id not in (select partner_id from cost_ledger)")
    assert uncovered == []
    categories = {r[0] for r in query(path, "select distinct category from cost_ledger")}
    assert categories == {"commission", "bonus", "marketing", "training", "support", "other"}
    rules = query(path, "select model, partner_id, kind, rate, tiers from commission_rules order by rule_id")
    assert [r[2] for r in rules] == ["fixed_per_qualified_lead", "percent_revenue", "percent_revenue"]
    assert [t["rate"] for t in json.loads(rules[1][4])] == [0.10, 0.15]
    with_rule = query(path, """
        select count(*) from cost_ledger l join partners p using (partner_id)
        where l.category = 'commission' and (p.model in ('referral', 'sales') or p.partner_id = ?)""",
                      [rules[2][1]])[0][0]
    assert with_rule == 0


def test_roi_spread(default_db: tuple[Path, dict]) -> None:
    """Revenue against ledger + an estimate of rule commissions: clearly negative to above 200 %."""
    path, _ = default_db
    roi = dict(query(path, """
        with f as (select partner_id, sum(case when is_won then amount else 0 end) rev,
                          sum(is_qualified::int) q from lead_facts where partner_id is not null group by 1),
        l as (select partner_id, sum(amount)::double as ledger from cost_ledger group by 1),
        c as (select p.name, f.rev, l.ledger + case p.model when 'referral' then 1500 * f.q
                                                           when 'sales' then 0.1 * f.rev else 0 end as total
              from partners p join f using (partner_id) join l using (partner_id))
        select name, (rev - total) / total from c"""))
    assert min(roi.values()) < -0.4 and max(roi.values()) > 2.0
    assert roi["Лидогенератор Про"] < 0 < roi["ООО Альфа-Интеграция"]


# ---------------------------------------------------------------- CLI

def test_cli_rebuilds_over_an_old_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cli.duckdb"
    for junk in (path, Path(f"{path}.wal"), Path(f"{path}.version")):
        junk.write_bytes(b"not a database")
    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    args = parser.parse_args(["--db", str(path), "--leads", "300", "--seed", "1", "--end-date", "2025-06-30"])
    assert demo.run(args) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("demo: 300 leads, 25 partners") and str(path) in out
    assert query(path, "select count(*) from raw_leads")[0][0] == 300
    with pytest.raises(SystemExit):
        parser.parse_args(["--end-date", "30.06.2025"])


def test_a_demo_built_today_has_nothing_after_its_build_time() -> None:
    """Regression (issue 19): the demo's horizon was the next midnight, so leads, closes and stage changes were
    dated later today; built now, its last lead, close, update and event are at or before the build instant."""
    import time

    before = int(time.time())
    records = demo.generate_records(3000, seed=1)
    after = int(time.time())
    stamps = [x["created_at"] for x in records["leads"]] + [x["closed_at"] or 0 for x in records["leads"]]
    stamps += [x["updated_at"] for x in records["leads"]] + [e["created_at"] for e in records["events"]]
    assert max(stamps) <= after
    assert max(x["created_at"] for x in records["leads"]) > before - 3 * 86400  # the data still runs up to now


def test_the_build_instant_cuts_the_grid_without_piling_leads_up_at_it() -> None:
    """Leads that today's remaining hours would have had are spread over the past, not stacked on the cut."""
    import numpy as np

    noon = demo.midnight_ts(END) + 12 * 3600
    plan = demo.Plan(5000, 1, END, now_ts=noon)
    assert plan.horizon_ts == noon and plan.grid_ts[-1] == noon and plan.grid_cdf[-1] == 1.0
    assert np.all(np.diff(plan.grid_cdf) >= 0)


# ---------------------------------------------------------------- pre-existing clients

def test_phones_come_in_mixed_formats(records: dict) -> None:
    from data_layer.identity import normalise_phone

    phones = [v["value"] for c in records["contacts"] for f in c["custom_fields_values"] or []
              if f["field_code"] == "PHONE" for v in f["values"]]
    assert {p[:2] for p in phones} >= {"+7", "8 "} and any(p.isdigit() is False and "(" in p for p in phones)
    assert all(normalise_phone(p) is not None for p in phones)
    inns = [f["values"][0]["value"] for c in records["companies"] for f in c["custom_fields_values"] or []]
    assert inns and any(" " in x for x in inns)


def test_direct_clients_return_through_partners(default_db: tuple[Path, dict]) -> None:
    path, _ = default_db
    share = dict(query(path, "select partner_name, sum(amount) filter (where preexisting) / sum(amount) "
                             "from fact_won_deals where partner_id is not null group by 1"))
    assert share["ГК «Омега»"] > 0.6  # a partner whose revenue is mostly pre-existing
    others = [v or 0 for k, v in share.items() if k != "ГК «Омега»"]
    assert 0 < sorted(others)[len(others) // 2] < 0.2  # the rest: some clients came direct first
    kinds = dict(query(path, "select match_kind, count(*) from fact_preexisting group by 1"))
    assert kinds.get("phone", 0) > 100  # a new contact with a direct client's number, in another format
    direct_before = query(path, "select count(*) from fact_preexisting x join lead_facts e "
                                "on e.lead_id = x.earlier_lead_id where e.partner_id is null")[0][0]
    assert direct_before > 0.6 * sum(kinds.values())

"""User data: partners, ledger, commission rules (tiers, rates), settings, scenarios — validation and writes."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from data_layer import store, userdata
from data_layer.userdata import ScenarioInputs, UserDataError, scenarios


@pytest.fixture
def con(tmp_db: Path):
    """An open connection on a fresh database with two partners (ids 1 and 2)."""
    with store.connect(tmp_db) as connection:
        userdata.add_partner(connection, "Альфа", model="referral", aliases=["alpha"])
        userdata.add_partner(connection, "Бёта")
        yield connection


def codes(exc: pytest.ExceptionInfo) -> list[tuple[str, int | None]]:
    return [(p.code, p.line) for p in exc.value.problems]


def rule(**kw: object) -> dict:
    base = {"model": None, "partner_id": None, "kind": "percent_revenue", "rate": 0.1, "tiers": None,
            "valid_from": None, "valid_to": None}
    return base | kw


# ---------------------------------------------------------------- partners

def test_partner_model_set_by_user_is_marked_and_survives_a_sync(con: duckdb.DuckDBPyConnection) -> None:
    userdata.update_partner(con, 2, model="sales", manager="Ирина", start_date="2024-02-01", active=False)
    row = userdata.list_partners(con).set_index("partner_id").loc[2]
    assert (row["model"], row["model_source"], row["manager"], row["start_date"], row["active"]) == (
        "sales", "user", "Ирина", date(2024, 2, 1), False)
    store.ensure_partners_from_crm(con)
    assert userdata.list_partners(con).set_index("partner_id").loc[2, "model"] == "sales"


def test_partner_lookup_by_alias_case_and_yo(con: duckdb.DuckDBPyConnection) -> None:
    assert userdata.find_partner(con, " ALPHA ") == 1
    assert userdata.find_partner(con, "бета") == 2
    assert userdata.find_partner(con, "Гамма") is None


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"name": ""}, "partner.name_empty"),
    ({"name": "x" * 201}, "partner.name_long"),
    ({"name": "АЛЬФА"}, "partner.name_taken"),
    ({"name": "Гамма", "aliases": ["Бета"]}, "partner.name_taken"),
    ({"name": "Гамма", "model": "affiliate"}, "model.unknown"),
    ({"name": "Гамма", "start_date": "31.01.2024"}, "date.bad"),
])
def test_add_partner_rejects(con: duckdb.DuckDBPyConnection, kwargs: dict, code: str) -> None:
    with pytest.raises(UserDataError) as err:
        userdata.add_partner(con, **kwargs)
    assert [p.code for p in err.value.problems] == [code]
    assert len(userdata.list_partners(con)) == 2


def test_update_partner_alias_clash_and_unknown(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(UserDataError) as err:
        userdata.update_partner(con, 2, aliases="alpha")
    assert codes(err) == [("partner.name_taken", None)]
    with pytest.raises(UserDataError):
        userdata.update_partner(con, 99, model="sales")


def test_save_partners_from_an_edited_table(con: duckdb.DuckDBPyConnection) -> None:
    table = userdata.list_partners(con)
    table.loc[table["partner_id"] == 2, "model"] = "service"
    table.loc[table["partner_id"] == 1, "aliases"] = pd.Series([["alpha", "альфа-групп"]], index=[0])
    table = pd.concat([table, pd.DataFrame([{"name": "Гамма", "model": "sales", "active": True}])],
                      ignore_index=True)
    assert userdata.save_partners(con, table) == 3
    out = userdata.list_partners(con).set_index("name")
    assert out.loc["Бёта", "model"] == "service" and out.loc["Бёта", "model_source"] == "user"
    assert out.loc["Альфа", "aliases"] == ["alpha", "альфа-групп"]
    assert out.loc["Гамма", "model"] == "sales"
    assert userdata.save_partners(con, userdata.list_partners(con)) == 0  # unchanged table: nothing to do


def test_save_partners_lists_every_bad_row_and_writes_nothing(con: duckdb.DuckDBPyConnection) -> None:
    table = userdata.list_partners(con)
    table["model"] = table["model"].astype(object)
    table.loc[0, "model"] = "bogus"
    table = pd.concat([table, pd.DataFrame([{"name": "alpha"}, {"name": "Дельта", "start_date": "вчера"}])],
                      ignore_index=True)
    before = userdata.list_partners(con)
    with pytest.raises(UserDataError) as err:
        userdata.save_partners(con, table)
    assert codes(err) == [("model.unknown", 1), ("partner.name_taken", 3), ("date.bad", 4)]
    pd.testing.assert_frame_equal(userdata.list_partners(con), before)


# ---------------------------------------------------------------- ledger

def test_ledger_upsert_replace_scope_and_delete(con: duckdb.DuckDBPyConnection) -> None:
    rows = pd.DataFrame([
        {"partner_id": 1, "month": date(2024, 1, 1), "category": "bonus", "amount": 10.0},
        {"partner_id": 1, "month": "2024-02", "category": "marketing", "amount": 20.0},
        {"partner": "бета", "month": "2024-01", "category": "обучение", "amount": 30.0, "note": "курс"},
    ])
    assert userdata.upsert_ledger(con, rows) == 3
    df = userdata.read_ledger(con)
    assert df.columns.tolist() == userdata.LEDGER_COLUMNS
    assert df["amount"].sum() == 60.0 and set(df["partner"]) == {"Альфа", "Бёта"}
    assert userdata.read_ledger(con, partner_ids=[1], month_from=date(2024, 2, 10))["amount"].tolist() == [20.0]
    # replace partner 1's January..February: the editor deleted the bonus row and changed marketing
    edited = pd.DataFrame([{"partner_id": 1, "month": date(2024, 2, 1), "category": "marketing", "amount": 25}])
    userdata.replace_ledger(con, edited, partner_ids=[1], month_from=date(2024, 1, 1), month_to=date(2024, 2, 1))
    assert sorted(userdata.read_ledger(con)["amount"]) == [25.0, 30.0]
    assert userdata.delete_ledger(con, [(2, "2024-01", "training")]) == 1
    assert userdata.read_ledger(con)["amount"].tolist() == [25.0]


@pytest.mark.parametrize(("row", "code"), [
    ({"partner_id": 9, "month": "2024-01", "category": "bonus", "amount": 1}, "partner.unknown_id"),
    ({"partner": "Нет", "month": "2024-01", "category": "bonus", "amount": 1}, "partner.unknown"),
    ({"partner_id": 1, "month": "2024-00", "category": "bonus", "amount": 1}, "month.bad"),
    ({"partner_id": 1, "month": None, "category": "bonus", "amount": 1}, "month.empty"),
    ({"partner_id": 1, "month": "2024-01", "category": "travel", "amount": 1}, "category.unknown"),
    ({"partner_id": 1, "month": "2024-01", "category": "bonus", "amount": -1}, "amount.negative"),
    ({"partner_id": 1, "month": "2024-01", "category": "bonus", "amount": math.nan}, "amount.empty"),
    ({"partner_id": 1, "month": "2024-01", "category": "bonus", "amount": math.inf}, "amount.not_finite"),
    ({"partner_id": 1, "month": "2024-01", "category": "bonus", "amount": "abc"}, "amount.not_number"),
    ({"partner_id": 1, "month": "2024-01", "category": "bonus", "amount": True}, "amount.not_number"),
])
def test_ledger_rejects(con: duckdb.DuckDBPyConnection, row: dict, code: str) -> None:
    with pytest.raises(UserDataError) as err:
        userdata.upsert_ledger(con, pd.DataFrame([row]))
    assert codes(err) == [(code, 1)]
    assert userdata.read_ledger(con).empty


def test_ledger_duplicates_in_one_save(con: duckdb.DuckDBPyConnection) -> None:
    rows = pd.DataFrame([{"partner_id": 1, "month": "2024-01", "category": "bonus", "amount": 1},
                         {"partner": "alpha", "month": date(2024, 1, 1), "category": "Бонус", "amount": 2}])
    with pytest.raises(UserDataError) as err:
        userdata.upsert_ledger(con, rows)
    assert codes(err) == [("ledger.duplicate", 1)]
    assert "1, 2" in err.value.text("ru")


# ---------------------------------------------------------------- commission rules and tiers

GOOD_TIERS = '[{"up_to": 1000000, "rate": 0.10}, {"up_to": null, "rate": 0.15}]'


@pytest.mark.parametrize(("tiers", "expected"), [
    (GOOD_TIERS, [{"up_to": 1000000.0, "rate": 0.1}, {"up_to": None, "rate": 0.15}]),
    ([{"up_to": None, "rate": 0.2}], [{"up_to": None, "rate": 0.2}]),
    ([{"up_to": 10, "rate": 0}, {"up_to": 20, "rate": 1}, {"up_to": None, "rate": 0.5}],
     [{"up_to": 10.0, "rate": 0.0}, {"up_to": 20.0, "rate": 1.0}, {"up_to": None, "rate": 0.5}]),
    (None, None), ("", None),
])
def test_tiers_accepted(tiers: object, expected: object) -> None:
    assert userdata.parse_tiers(tiers) == expected


@pytest.mark.parametrize(("tiers", "codes_expected"), [
    ("[{", ["tiers.json"]),
    ("{}", ["tiers.shape"]),
    ("[1, 2]", ["tiers.shape"]),
    ("[]", ["tiers.empty"]),
    ('[{"up_to": null}]', ["tiers.shape"]),
    ('[{"up_to": null, "rate": 0.1, "extra": 1}]', ["tiers.shape"]),
    ('[{"up_to": null, "rate": 1.5}]', ["tiers.rate"]),
    ('[{"up_to": null, "rate": -0.1}]', ["tiers.rate"]),
    ('[{"up_to": null, "rate": "10%"}]', ["tiers.rate"]),
    ('[{"up_to": 100, "rate": 0.1}]', ["tiers.last"]),
    ('[{"up_to": null, "rate": 0.1}, {"up_to": null, "rate": 0.2}]', ["tiers.last"]),
    ('[{"up_to": 200, "rate": 0.1}, {"up_to": 100, "rate": 0.1}, {"up_to": null, "rate": 0.2}]', ["tiers.order"]),
    ('[{"up_to": 100, "rate": 0.1}, {"up_to": 100, "rate": 0.1}, {"up_to": null, "rate": 0.2}]', ["tiers.order"]),
    ('[{"up_to": -5, "rate": 0.1}, {"up_to": null, "rate": 0.2}]', ["tiers.up_to"]),
    ('[{"up_to": 100, "rate": 2}, {"up_to": 50, "rate": 0.2}, {"up_to": null, "rate": 0.1}]',
     ["tiers.rate", "tiers.order"]),
])
def test_tiers_rejected(tiers: str, codes_expected: list[str]) -> None:
    with pytest.raises(UserDataError) as err:
        userdata.parse_tiers(tiers)
    assert [p.code for p in err.value.problems] == codes_expected
    assert all(err.value.text(lang) for lang in ("ru", "en"))


def test_rules_crud_and_partner_override(con: duckdb.DuckDBPyConnection) -> None:
    first = userdata.add_rule(con, "percent_revenue", model="referral", tiers=GOOD_TIERS)
    second = userdata.add_rule(con, "fixed_per_qualified_lead", rate=500, model="referral")
    third = userdata.add_rule(con, "percent_revenue", rate=0.05, partner_id=1, valid_from="2024-01-01")
    rules = userdata.list_rules(con).set_index("rule_id")
    assert rules.loc[first, "rate"] == 0.1 and json.loads(rules.loc[first, "tiers"])[1]["up_to"] is None
    assert rules.loc[third, "partner"] == "Альфа" and rules.loc[third, "valid_from"] == date(2024, 1, 1)
    userdata.update_rule(con, second, rate=750)
    assert userdata.list_rules(con).set_index("rule_id").loc[second, "rate"] == 750
    assert userdata.delete_rule(con, third) and not userdata.delete_rule(con, third)
    assert len(userdata.list_rules(con)) == 2


@pytest.mark.parametrize(("row", "code"), [
    (rule(), "rule.target"),
    (rule(model="referral", partner_id=1), "rule.target"),
    (rule(model="affiliate"), "model.unknown"),
    (rule(partner_id=42), "partner.unknown_id"),
    (rule(model="sales", kind="per_click"), "rule.kind"),
    (rule(model="sales", rate=1.5), "rule.rate_percent"),
    (rule(model="sales", rate=-0.1), "rule.rate_negative"),
    (rule(model="sales", rate=math.nan), "rule.rate_bad"),
    (rule(model="sales", rate=math.inf), "rule.rate_bad"),
    (rule(model="sales", rate=None), "rule.rate_bad"),
    (rule(model="sales", rate="abc"), "rule.rate_bad"),
    (rule(model="sales", kind="fixed_per_deal", rate=1000, tiers=GOOD_TIERS), "rule.tiers_kind"),
    (rule(model="sales", valid_from="2024-05-01", valid_to="2024-01-01"), "rule.dates"),
    (rule(model="sales", tiers='[{"up_to": 5, "rate": 0.1}]'), "tiers.last"),
])
def test_rule_rejects(con: duckdb.DuckDBPyConnection, row: dict, code: str) -> None:
    with pytest.raises(UserDataError) as err:
        userdata.replace_rules(con, pd.DataFrame([row]))
    assert [p.code for p in err.value.problems] == [code]
    assert all(p.line == 1 for p in err.value.problems)
    assert userdata.list_rules(con).empty


def test_fixed_rules_may_exceed_one_and_overlaps_are_rejected(con: duckdb.DuckDBPyConnection) -> None:
    ok = pd.DataFrame([rule(model="sales", kind="fixed_per_deal", rate=5000),
                       rule(model="sales", rate=0.1, valid_to="2024-06-30"),
                       rule(model="sales", rate=0.12, valid_from="2024-07-01")])
    assert userdata.replace_rules(con, ok) == 3
    bad = pd.concat([ok, pd.DataFrame([rule(model="sales", rate=0.2, valid_from="2024-06-01",
                                            valid_to="2024-08-01")])], ignore_index=True)
    with pytest.raises(UserDataError) as err:
        userdata.replace_rules(con, bad)
    assert codes(err) == [("rule.overlap", 4), ("rule.overlap", 4)]
    assert len(userdata.list_rules(con)) == 3


def test_replace_rules_keeps_ids_and_skips_blank_editor_rows(con: duckdb.DuckDBPyConnection) -> None:
    userdata.add_rule(con, "percent_revenue", rate=0.1, model="referral")
    table = userdata.list_rules(con)
    table = pd.concat([table, pd.DataFrame([{"kind": None}]),
                       pd.DataFrame([rule(partner_id=2, rate=0.2)])], ignore_index=True)
    assert userdata.replace_rules(con, table) == 2
    ids = userdata.list_rules(con)["rule_id"].tolist()
    assert ids[0] == table.loc[0, "rule_id"] and len(set(ids)) == 2
    userdata.add_rule(con, "fixed_per_deal", rate=1, model="service")  # the sequence stays ahead of kept ids
    # a blank cell of the edited table (NaN) is null in the audit row's JSON, never the non-JSON token NaN
    rows = con.execute("select before, after from audit_log where entity = 'commission_rules'").fetchall()
    texts = [t for row in rows for t in row if t]
    assert texts and not any("NaN" in t for t in texts)
    for text in texts:
        json.loads(text, parse_constant=lambda token: pytest.fail(f"non-JSON {token} in the audit log"))


# ---------------------------------------------------------------- settings and margin

def test_settings_roundtrip_and_margin_validation(con: duckdb.DuckDBPyConnection) -> None:
    assert userdata.get_setting(con, "min_leads", 30) == 30
    userdata.set_setting(con, "junk_reasons", ["Спам"])
    assert userdata.get_setting(con, "junk_reasons") == ["Спам"]
    userdata.set_margin(con, {"account": 0.5, "models": {"sales": 0.3}})
    assert userdata.get_margin(con) == {"account": 0.5, "models": {"sales": 0.3}}
    for bad in ({"account": 1.5}, {"account": -0.1}, {"models": {"sales": math.nan}}, {"models": {"x": 0.1}},
                {"account": "half"}):
        with pytest.raises(UserDataError):
            userdata.set_margin(con, bad)
    assert userdata.get_margin(con)["account"] == 0.5
    userdata.set_margin(con, None)
    assert userdata.get_setting(con, "margin") is None


# ---------------------------------------------------------------- scenarios

def scenario() -> ScenarioInputs:
    return ScenarioInputs(
        ledger=pd.DataFrame([{"partner_id": 1, "month": "2024-01", "category": "marketing", "amount": 900.0}]),
        rules=pd.DataFrame([rule(model="referral", rate=0.08), rule(partner_id=2, kind="fixed_per_deal",
                                                                    rate=300)]),
        margin={"account": 0.4}, meta={"name": "cut", "date_from": "2024-01-01"})


def test_scenario_save_list_load_overwrite_delete(con: duckdb.DuckDBPyConnection) -> None:
    sid = userdata.save_scenario(con, " Cut referral ", scenario())
    assert userdata.list_scenarios(con)["name"].tolist() == ["Cut referral"]
    loaded = userdata.load_scenario(con, "Cut referral")
    assert loaded.ledger.to_dict("records") == [
        {"partner_id": 1, "month": date(2024, 1, 1), "category": "marketing", "amount": 900.0}]
    assert loaded.rules["rate"].tolist() == [0.08, 300.0] and loaded.margin == {"account": 0.4, "models": {}}
    assert loaded.meta["date_from"] == "2024-01-01"
    with pytest.raises(UserDataError) as err:
        userdata.save_scenario(con, "Cut referral", scenario())
    assert codes(err) == [("scenario.exists", None)]
    assert userdata.save_scenario(con, "Cut referral", ScenarioInputs(margin={"account": 0.2}), overwrite=True) == sid
    assert userdata.load_scenario(con, "Cut referral").ledger is None
    assert userdata.delete_scenario(con, "Cut referral") and userdata.list_scenarios(con).empty
    with pytest.raises(UserDataError):
        userdata.load_scenario(con, "Cut referral")
    with pytest.raises(UserDataError):
        userdata.save_scenario(con, "  ", scenario())


def test_scenario_with_bad_inputs_is_not_saved(con: duckdb.DuckDBPyConnection) -> None:
    bad = scenario()
    bad.rules.loc[0, "rate"] = 1.2
    with pytest.raises(UserDataError) as err:
        userdata.save_scenario(con, "bad", bad)
    assert codes(err) == [("rule.rate_percent", 1)]
    assert userdata.list_scenarios(con).empty


def test_apply_scenario_writes_ledger_rules_margin(con: duckdb.DuckDBPyConnection) -> None:
    userdata.upsert_ledger(con, pd.DataFrame([
        {"partner_id": 1, "month": "2024-01", "category": "marketing", "amount": 100},
        {"partner_id": 2, "month": "2024-01", "category": "bonus", "amount": 50}]))
    userdata.add_rule(con, "percent_revenue", rate=0.1, model="referral")
    done = userdata.apply_scenario(con, scenario())
    assert done == {"ledger_rows": 1, "rules": 2, "margin": 1}
    assert sorted(userdata.read_ledger(con)["amount"]) == [50.0, 900.0]
    assert sorted(userdata.list_rules(con)["rate"]) == [0.08, 300.0]
    assert userdata.get_margin(con)["account"] == 0.4
    assert con.execute("select count(*) from audit_log where entity = 'scenario' and action = 'apply'"
                       ).fetchone()[0] == 1


def test_apply_scenario_is_one_transaction(con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    userdata.add_rule(con, "percent_revenue", rate=0.1, model="referral")
    before = (userdata.read_ledger(con), userdata.list_rules(con), userdata.get_margin(con))

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("crash between writes")

    monkeypatch.setattr(scenarios, "set_margin", boom)  # where apply_scenario looks it up
    with pytest.raises(RuntimeError):
        userdata.apply_scenario(con, scenario())
    pd.testing.assert_frame_equal(userdata.read_ledger(con), before[0])
    pd.testing.assert_frame_equal(userdata.list_rules(con), before[1])


def test_atomic_joins_an_open_transaction(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("begin")
    with userdata.atomic(con):
        userdata.add_partner(con, "Гамма")
    con.execute("rollback")
    assert "Гамма" not in userdata.list_partners(con)["name"].tolist()


def test_errors_speak_both_languages() -> None:
    err = UserDataError([userdata.Problem("amount.negative", {"value": -1}, 3),
                         userdata.Problem("month.bad", {"value": "x"}, 2)])
    assert err.lines("ru")[0].startswith("строка 2:")
    assert err.text("en").startswith("2 problems found")
    assert str(err) == err.text("en")
    assert isinstance(err, ValueError)


WRITES = ("add_partner", "update_partner", "save_partners", "insert_ledger", "upsert_ledger", "replace_ledger",
          "delete_ledger", "insert_rules", "add_rule", "update_rule", "delete_rule", "replace_rules", "set_setting",
          "set_margin", "save_scenario", "delete_scenario", "apply_scenario")


def test_writes_keep_their_package_name() -> None:
    """ui.auth.WRITE_NEEDS and the audit log's refused rows name a write data_layer.userdata.<name> (ui.auth.write_name),
    wherever in the package the function lives."""
    from ui.auth import write_name

    for name in WRITES:
        fn = getattr(userdata, name)
        assert fn.__module__.startswith("data_layer.userdata."), name  # it lives in a job module
        assert write_name(fn) == f"data_layer.userdata.{name}", name

"""Costs & commissions page (AppTest, widgets by key): ledger editor, upload with every error listed, partners,
commission rules, computed commissions; writes go through one transaction, bad edits change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from support.costs_page import ALPHA, APP, BETA, PAGE, app, edits, errors, last_month

from data_layer import store, userdata


def ledger(path: Path) -> list[tuple]:
    with store.connect(path, read_only=True) as con:
        df = userdata.read_ledger(con)
    return sorted((r.partner, r.category, r.amount) for r in df.itertuples())


def snapshot(path: Path) -> tuple:
    with store.connect(path, read_only=True) as con:
        return (con.execute("select * exclude (updated_at) from cost_ledger order by all").fetchall(),
                con.execute("select * exclude (updated_at, created_at) from partners order by all").fetchall(),
                con.execute("select * from commission_rules order by all").fetchall())


def test_page_shows_costs_by_category_and_names_literally(costs_db: Path) -> None:
    at = app()
    assert not at.error, errors(at)
    assert at.title[0].value == "Затраты и комиссии"
    assert any("Всего затрат за период: 1\u00a0000\u00a0₽" in c.value for c in at.caption)  # 300 + 400 + 300
    rows = at.data_editor(key="costs.editor").value
    assert sorted(rows["partner"]) == sorted([ALPHA, BETA])
    table = next(f.value for f in at.dataframe if "Доля" in f.value.columns)
    assert "Комиссия по правилам" in table["Категория"].tolist()
    shares = [float(v.replace("\u00a0%", "").replace(",", ".")) for v in table["Доля"]]
    assert shares == sorted(shares, reverse=True)  # largest first, like the chart beside it
    partners = at.data_editor(key="costs.partners").value
    assert sorted(partners["name"]) == sorted([ALPHA, BETA])
    assert at.data_editor(key="costs.rules").value["rate"].tolist() == ["10\u00a0%"]   # a decimal comma in Russian


def test_ledger_edit_is_saved(costs_db: Path) -> None:
    at = app()
    first = at.data_editor(key="costs.editor").value
    row = int(first.index[first["partner"] == ALPHA][0])
    at = app({"costs.editor": edits({row: {"amount": "450"}},
                                    [{"partner": BETA, "month": last_month().isoformat(), "category": "bonus",
                                      "amount": "50,00"}])})
    at.button(key="costs.ledger_save").click().run()
    assert not at.error, errors(at)
    assert any("Сохранено" in s.value for s in at.success)
    assert ledger(costs_db) == [(ALPHA, "marketing", 450.0), (BETA, "bonus", 50.0), (BETA, "support", 400.0)]
    assert amounts(at, "costs.editor.1") == [450.0, 50.0, 400.0]  # the editor starts afresh


def test_ledger_delete_row_removes_it(costs_db: Path) -> None:
    at = app()
    rows = at.data_editor(key="costs.editor").value
    row = int(rows.index[rows["partner"] == BETA][0])
    at = app({"costs.editor": edits(deleted=[row])})
    at.button(key="costs.ledger_save").click().run()
    assert ledger(costs_db) == [(ALPHA, "marketing", 300.0)]


def amounts(at, key: str) -> list[float]:
    """The ledger editor's amount cells (text, the UI language's way) as numbers."""
    return [float(v.replace("\u00a0", "").replace(" ", "").replace(",", "."))
            for v in at.data_editor(key=key).value["amount"]]


def test_ledger_amounts_are_typed_the_russian_way(costs_db: Path) -> None:
    """«12,5» is 12.5 and «1 234,5» 1234.5 (Streamlit's number cells made the first 125)."""
    at = app()
    assert at.data_editor(key="costs.editor").value["amount"].tolist() == ["300,00", "400,00"]
    at = app({"costs.editor": edits({0: {"amount": "12,5"}, 1: {"amount": "1 234,5"}})})
    at.button(key="costs.ledger_save").click().run()
    assert not at.error, errors(at)
    assert sorted(a for _, _, a in ledger(costs_db)) == [12.5, 1234.5]


def test_unreadable_ledger_amounts_are_listed_and_nothing_is_saved(costs_db: Path) -> None:
    before = snapshot(costs_db)
    at = app({"costs.editor": edits({0: {"amount": "-5"}, 1: {"amount": "1.000"}})})
    at.button(key="costs.ledger_save").click().run()
    text = errors(at)
    assert "Ничего не сохранено" in text and "строка 1" in text and "отрицательная" in text
    assert "строка 2" in text and "неоднозначно" in text
    assert snapshot(costs_db) == before


def test_an_added_row_without_an_amount_is_refused_not_zero(costs_db: Path) -> None:
    before = snapshot(costs_db)
    at = app({"costs.editor": edits({}, [{"partner": ALPHA, "month": last_month().isoformat(), "category": "bonus",
                                          "amount": None}])})
    at.button(key="costs.ledger_save").click().run()
    assert "Ничего не сохранено" in errors(at) and "строка 3" in errors(at)
    assert snapshot(costs_db) == before


def test_bad_ledger_edit_lists_every_row_and_changes_nothing(costs_db: Path) -> None:
    before = snapshot(costs_db)
    at = app({"costs.editor": edits({},
                                    [{"partner": None, "month": last_month().isoformat(), "category": "bonus",
                                      "amount": "1"},
                                     {"partner": ALPHA, "month": last_month().isoformat(), "category": "marketing",
                                      "amount": "2"}])})
    at.button(key="costs.ledger_save").click().run()
    text = errors(at)
    assert "строка 3" in text and "Не указано имя партнёра" in text
    assert "встречается несколько раз" in text                # row 4 repeats row 1's key
    assert snapshot(costs_db) == before


def test_upload_with_errors_lists_lines_and_imports_nothing(costs_db: Path) -> None:
    before = snapshot(costs_db)
    at = app()
    bad = "partner;month;category;amount\n=Alpha;2024-13;bonus;10\nНет такого;2024-01;bonus;-1\n".encode()
    at.file_uploader(key="costs.upload").set_value(("costs.csv", bad, "text/csv"))
    at.run()
    text = errors(at)
    assert "строка 2" in text and "строка 3" in text and "Файл не импортирован" in text
    assert not [b for b in at.button if b.key == "costs.import"]
    assert snapshot(costs_db) == before


def test_upload_preview_then_import_is_idempotent(costs_db: Path) -> None:
    month = last_month().strftime("%Y-%m")
    data = f"partner;month;category;amount\n'=Alpha;{month};маркетинг;1\u00a0000,50\nГамма;{month};bonus;7\n".encode()
    at = app()
    at.file_uploader(key="costs.upload").set_value(("costs.csv", data, "text/csv"))
    at.checkbox(key="costs.create_partners").check()
    at.run()
    assert not at.error, errors(at)
    assert any("Предпросмотр: 2 строк" in m.value for m in at.markdown)
    at.button(key="costs.import").click().run()
    assert any("Импортировано строк: 2" in s.value for s in at.success)
    expected = [(ALPHA, "marketing", 1000.5), (BETA, "support", 400.0), ("Гамма", "bonus", 7.0)]
    assert ledger(costs_db) == expected
    at.file_uploader(key="costs.upload.1").set_value(("costs.csv", data, "text/csv"))
    at.checkbox(key="costs.create_partners").check()
    at.run()
    at.button(key="costs.import").click().run()
    assert ledger(costs_db) == expected                               # importing twice does not double


def test_export_offers_a_download(costs_db: Path) -> None:
    at = app()
    assert at.radio(key="costs.export_format").value == "csv"
    at.radio(key="costs.export_format").set_value("xlsx").run()
    assert not at.error, errors(at)
    assert any(getattr(b, "key", None) == "costs.download" for b in at.get("download_button"))


def test_partner_model_edit_marks_it_as_users(costs_db: Path) -> None:
    at = app()
    partners = at.data_editor(key="costs.partners").value
    row = int(partners.index[partners["name"] == BETA][0])
    at = app({"costs.partners": edits({row: {"model": "service", "aliases": "beta, бета"}})})
    at.button(key="costs.partners_save").click().run()
    assert not at.error, errors(at)
    with store.connect(costs_db, read_only=True) as con:
        p = userdata.list_partners(con).set_index("name").loc[BETA]
    assert (p["model"], p["model_source"], p["aliases"]) == ("service", "user", ["beta", "бета"])


def test_partner_alias_clash_is_rejected(costs_db: Path) -> None:
    before = snapshot(costs_db)
    at = app()
    partners = at.data_editor(key="costs.partners").value
    row = int(partners.index[partners["name"] == BETA][0])
    at = app({"costs.partners": edits({row: {"aliases": "=alpha"}})})
    at.button(key="costs.partners_save").click().run()
    assert "уже занят" in errors(at)
    assert snapshot(costs_db) == before


@pytest.mark.parametrize(("state", "words"), [
    ({"costs.rules": edits({0: {"rate": "150"}})}, "больше 100"),
    ({"costs.rules": edits({0: {"rate": "-5"}})}, "отрицательное"),
    ({"costs.rules.tier_rows.0": edits(added=[{"up_to": "100", "rate": "10"}])}, "«И выше» (или пусто)"),
    ({"costs.rules": edits({0: {"model": None}})}, "либо модель, либо партнёр"),
])
def test_bad_rule_edit_is_rejected(costs_db: Path, state: dict, words: str) -> None:
    before = snapshot(costs_db)
    at = app(state)
    save = at.button(key="costs.rules_save")
    if not save.disabled:  # a mistyped number is refused at once (Save disabled), the rest when saving
        save.click().run()
    assert words in errors(at)
    assert snapshot(costs_db) == before


def test_rule_tiers_are_saved_from_rows(costs_db: Path) -> None:
    at = app({"costs.rules.tier_rows.0": edits(added=[{"up_to": "1 000", "rate": "12,5"},
                                                      {"up_to": "и выше", "rate": "20"}]),
              "costs.rules.tier_kind.0": "whole"})
    at.button(key="costs.rules_save").click().run()
    assert not at.error, errors(at)
    with store.connect(costs_db, read_only=True) as con:
        rule = userdata.list_rules(con).iloc[0]
    assert json.loads(rule["tiers"]) == [{"up_to": 1000.0, "rate": 0.125}, {"up_to": None, "rate": 0.2}]
    assert rule["tier_kind"] == "whole"


def test_rule_edit_changes_computed_commission(costs_db: Path) -> None:
    at = app({"costs.rules": edits({0: {"rate": "12"}},
                                   [{"partner": BETA, "kind": "fixed_per_deal", "rate": "100"}])})
    at.button(key="costs.rules_save").click().run()
    assert not at.error, errors(at)
    with store.connect(costs_db, read_only=True) as con:
        rules = userdata.list_rules(con)
    assert sorted(rules["rate"]) == [0.12, 100.0]
    details = next(f.value for f in at.dataframe if "Как посчитано" in f.value.columns).set_index("Партнёр")
    assert details.loc[ALPHA, "Комиссия"] == "360,00\u00a0₽"
    assert details.loc[ALPHA, "Как посчитано"] == "3\u00a0000,00\u00a0₽ × 12,00\u00a0% = 360,00\u00a0₽"
    assert details.loc[BETA, "Как посчитано"] == "2 × 100,00\u00a0₽ = 200,00\u00a0₽"


def test_english(costs_db: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=120).switch_page(PAGE)
    at.query_params["lang"] = "en"
    at.run()
    assert not at.error, errors(at)
    assert at.title[0].value == "Costs & commissions"


def test_viewer_can_look_and_export_but_not_edit(costs_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import auth

    monkeypatch.setattr(auth, "current", lambda: auth.Principal("v@example.com", "V", "viewer"))
    at = app()
    assert not at.error, errors(at)
    keys = {b.key for b in at.button}
    assert not keys & {"costs.ledger_save", "costs.partners_save", "costs.rules_save", "costs.import"}
    assert not [u for u in at.get("file_uploader")]
    assert any(getattr(b, "key", None) == "costs.download" for b in at.get("download_button"))
    assert amounts(at, "costs.editor") == [300.0, 400.0]

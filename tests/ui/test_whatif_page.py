"""What-if page (AppTest, widgets by key): scenario edits recompute ROI, bad inputs are rejected, nothing is
written until an explicit apply, two sessions never see each other's edits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.whatif_page import ALPHA, BETA, app, errors, open_tab, partner_table, roi, snapshot

from data_layer import store, userdata


def test_starts_from_actuals_with_names_shown_literally(whatif_db: Path) -> None:
    at = app()
    assert roi(at, ALPHA) == ("400,0\u00a0%", "400,0\u00a0%")
    assert roi(at, BETA) == ("150,0\u00a0%", "150,0\u00a0%")
    assert any("совпадает с фактом" in c.value for c in at.caption)
    costs = at.data_editor(key="what_if.costs").value
    assert costs["partner"].tolist() == [ALPHA, BETA]
    assert costs.loc[costs["partner"] == ALPHA, "marketing"].item() == "300,00"   # kopecks always, comma
    assert at.data_editor(key="what_if.rules").value["rate"].tolist() == ["10\u00a0%"]


def test_editing_a_commission_rate_changes_roi(whatif_db: Path) -> None:
    before = snapshot(whatif_db)
    at = app()
    at.selectbox(key="what_if.rate_target").set_value("model:referral")
    at.text_input(key="what_if.rate").set_value("30")
    at.button(key="what_if.rate_set").click().run()
    assert not at.exception
    assert roi(at, ALPHA) == ("400,0\u00a0%", "150,0\u00a0%")       # commission 900, costs 1 200
    assert roi(at, BETA) == ("150,0\u00a0%", "150,0\u00a0%")
    assert partner_table(at).loc[ALPHA, "ROI: Δ"] == "\u2212250,0\u00a0п.\u00a0п."
    assert at.data_editor(key="what_if.rules.1").value["rate"].tolist() == ["30\u00a0%"]
    assert snapshot(whatif_db) == before                                   # nothing written


def test_partner_rate_overrides_its_model(whatif_db: Path) -> None:
    at = app()
    with store.connect(whatif_db, read_only=True) as con:
        beta = userdata.find_partner(con, BETA)
    at.selectbox(key="what_if.rate_target").set_value(f"partner:{beta}")
    at.text_input(key="what_if.rate").set_value("5")
    at.button(key="what_if.rate_set").click().run()
    rules = at.data_editor(key="what_if.rules.1").value
    assert rules["partner"].tolist()[-1] == BETA and rules["rate"].tolist()[-1] == "5\u00a0%"
    assert roi(at, BETA) == ("150,0\u00a0%", "122,2\u00a0%")       # costs 400 + 50


@pytest.mark.parametrize(("value", "words"), [("150", "больше 100"), ("-5", "отрицательное"),
                                              ("100,01", "больше 100"), ("1e12", "больше 100"),
                                              ("десять", "не число"), ("1.000", "неоднозначно")])
def test_invalid_rate_is_refused_never_flipped(whatif_db: Path, value: str, words: str) -> None:
    at = app()
    at.text_input(key="what_if.rate").set_value(value)
    at.button(key="what_if.rate_set").click().run()
    refused = errors(at)
    assert any(words in e and "Ставка, %" in e for e in refused), refused
    assert roi(at, ALPHA) == ("400,0\u00a0%", "400,0\u00a0%")          # nothing applied
    assert at.data_editor(key="what_if.rules").value["rate"].tolist() == ["10\u00a0%"]


def test_rules_editor_percent_over_100_is_rejected(whatif_db: Path) -> None:
    at = app({"what_if.rules": {"edited_rows": {0: {"rate": "120"}}, "added_rows": [], "deleted_rows": []}})
    assert any("Правило 1, ставка: 120 % больше 100" in e for e in errors(at)), errors(at)


def test_editing_ledger_totals_changes_costs_and_roi(whatif_db: Path) -> None:
    at = app({"what_if.costs": {"edited_rows": {1: {"support": "1000"}}, "added_rows": [], "deleted_rows": []}})
    assert roi(at, BETA) == ("150,0\u00a0%", "0,0\u00a0%")          # (1 000 − 1 000) / 1 000
    assert partner_table(at).loc[BETA, "Затраты: сценарий"] == "1\u00a0000\u00a0₽"


@pytest.mark.parametrize(("value", "words"), [("-10", "Сумма -10 отрицательная — затраты вводятся положительными"),
                                              ("−10", "отрицательная"), (None, "Не указана сумма"),
                                              ("12,345", "больше двух знаков"), ("abc", "не число")])
def test_invalid_cost_is_refused_and_nothing_is_recomputed(whatif_db: Path, value: str | None, words: str) -> None:
    before = snapshot(whatif_db)
    at = app({"what_if.costs": {"edited_rows": {0: {"marketing": value}}, "added_rows": [], "deleted_rows": []}})
    assert any(words in e and "Alpha, Маркетинг" in e for e in errors(at)), errors(at)
    assert not [f for f in at.dataframe if "ROI: сценарий" in f.value.columns]  # no results from bad inputs
    assert not at.metric                                                       # nor a ROI card
    assert snapshot(whatif_db) == before


def test_margin_changes_income_and_roi(whatif_db: Path) -> None:
    at = app()
    at.text_input(key="what_if.margin").set_value("50").run()
    # Alpha: income 1 500, costs 600 -> 150 %; Beta: income 500, costs 400 -> 25 %
    assert roi(at, ALPHA) == ("400,0\u00a0%", "150,0\u00a0%")
    assert roi(at, BETA) == ("150,0\u00a0%", "25,0\u00a0%")


def test_save_reopen_compare_then_apply_only_after_confirmation(whatif_db: Path) -> None:
    before = snapshot(whatif_db)
    at = app()
    at.selectbox(key="what_if.rate_target").set_value("model:referral")
    at.text_input(key="what_if.rate").set_value("30")
    at.button(key="what_if.rate_set").click().run()
    at.text_input(key="what_if.name").set_value("Реферальная 30 %")
    at.button(key="what_if.save").click().run()
    assert any("сохранён" in s.value for s in at.success)
    assert snapshot(whatif_db)[:3] == before[:3]                           # saving writes only the scenario
    # a fresh session reopens it by name
    other = app()
    other.selectbox(key="what_if.open").set_value("Реферальная 30 %")
    other.button(key="what_if.load").click().run()
    assert roi(other, ALPHA) == ("400,0\u00a0%", "150,0\u00a0%")
    open_tab(other, "Сравнить сценарии")
    other.selectbox(key="what_if.compare_b").set_value("Реферальная 30 %").run()
    assert not other.exception
    compared = next(d.value for d in other.dataframe if "ROI · Реферальная 30 %" in d.value.columns)
    assert compared.set_index("Модель").loc["Реферальная", "ROI · Реферальная 30 %"] == "150,0\u00a0%"
    assert compared.set_index("Модель").loc["Реферальная", "ROI · Факт"] == "400,0\u00a0%"
    assert other.button(key="what_if.apply").disabled               # no apply without confirmation
    other.checkbox(key="what_if.confirm").check().run()
    other.button(key="what_if.apply").click().run()
    assert any("применён" in s.value for s in other.success)
    with store.connect(whatif_db, read_only=True) as con:
        assert userdata.list_rules(con)["rate"].tolist() == [0.3]
    open_tab(other, "По партнёрам")
    assert roi(other, ALPHA) == ("150,0\u00a0%", "150,0\u00a0%")   # the applied scenario is now the actual


def test_two_sessions_never_share_edits(whatif_db: Path) -> None:
    first, second = app(), app()
    first.selectbox(key="what_if.rate_target").set_value("model:referral")
    first.text_input(key="what_if.rate").set_value("50")
    first.button(key="what_if.rate_set").click().run()
    second.run()
    assert roi(first, ALPHA)[1] == "66,7\u00a0%"
    assert roi(second, ALPHA) == ("400,0\u00a0%", "400,0\u00a0%")


def test_english(whatif_db: Path) -> None:
    at = app(lang="en")
    assert at.title[0].value == "What-if"


def test_breakeven_and_sensitivity(whatif_db: Path) -> None:
    at = open_tab(app(), "Точка безубыточности и чувствительность к комиссии")
    table = next(d.value for d in at.dataframe if "Безубыточная ставка" in d.value.columns).set_index("Партнёр")
    # Alpha: income 3 000, other costs 300 -> ROI 0 at 90 %; it pays 10 % now
    assert table.loc[ALPHA, "Безубыточная ставка"] == "90,0\u00a0%"
    assert table.loc[ALPHA, "Ставка сейчас"] == "10,0\u00a0%"
    assert table.loc[ALPHA, "Запас"] == "+80,0\u00a0п.\u00a0п."
    assert table.loc[BETA, "Безубыточная ставка"] == "60,0\u00a0%"      # (1 000 − 400) / 1 000
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert any(layer["encoding"]["x"].get("title") == "Ставка комиссии, % выручки"
               for spec in specs for layer in spec.get("layer", []) if "x" in layer.get("encoding", {}))


def test_reallocation_needs_clear_intervals(whatif_db: Path) -> None:
    at = open_tab(app(), "Перераспределение бюджета")
    assert any("уверенно" in i.value for i in at.info)                  # a handful of leads proves nothing


def test_viewer_can_play_but_not_apply(whatif_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import auth

    monkeypatch.setattr(auth, "current", lambda: auth.Principal("v@example.com", "V", "viewer"))
    at = app()
    at.selectbox(key="what_if.rate_target").set_value("model:referral")
    at.text_input(key="what_if.rate").set_value("30")
    at.button(key="what_if.rate_set").click().run()
    assert roi(at, ALPHA) == ("400,0\u00a0%", "150,0\u00a0%")
    assert not [b for b in at.button if b.key == "what_if.apply"]
    assert not [c for c in at.checkbox if c.key == "what_if.confirm"]

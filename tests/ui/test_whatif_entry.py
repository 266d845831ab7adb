"""What-if number entry and the result panel (AppTest, widgets by key): "12,5" is 12.5 % in Russian, a thousands
space or exponent is read, a negative is refused with a sentence and nothing is applied, tiers are edited as rows,
and the page shows no raw value (None, nan, JSON, dot decimals)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from support.app import frame_with
from support.whatif_page import ALPHA, BETA, app, errors, roi, snapshot

from data_layer import store, userdata

TIERS = "what_if.rules.tier_rows.0"   # the tier rows of rule 1 (Alpha's model, referral)


def panel(at: AppTest) -> pd.DataFrame:
    """The result panel's table: Показатель -> Факт, Сценарий, Изменение."""
    return frame_with(at, "Показатель", "Изменение").set_index("Показатель")


def said(at: AppTest, words: str) -> bool:
    """Whether some caption says these words."""
    return any(words in c.value for c in at.caption)


def edits(**rows: dict) -> dict:
    """A data_editor's state with these edited rows ({row: {column: text}})."""
    return {"edited_rows": {int(k[1:]): v for k, v in rows.items()}, "added_rows": [], "deleted_rows": []}


def rows_state(*rows: dict[str, str]) -> dict:
    """A data_editor's state that adds these rows."""
    return {"edited_rows": {}, "added_rows": list(rows), "deleted_rows": []}


def test_a_russian_decimal_comma_is_a_decimal_comma(whatif_db: Path) -> None:
    at = app()
    at.selectbox(key="what_if.rate_target").set_value("model:referral")
    at.text_input(key="what_if.rate").set_value("12,5").run()        # Enter applies, no button needed
    assert roi(at, ALPHA) == ("400,0\u00a0%", "344,4\u00a0%")          # commission 375 (12.5 %), not 125 %
    assert at.data_editor(key="what_if.rules.1").value["rate"].tolist() == ["12,5\u00a0%"]
    assert at.metric[0].value == "272,1\u00a0%"          # the panel's ROI card: all partners, 4 000 / 1 075 − 1
    table = panel(at)
    assert table.loc["Затраты", "Изменение"] == "+75\u00a0₽"            # 375 − 300 commission
    assert table.loc["Прибыль", "Сценарий"] == "2\u00a0925\u00a0₽"      # 4 000 − 1 075


@pytest.mark.parametrize("typed", ["1 000", "1\u00a0000", "1000,00", "1e3", "1 000,00 ₽", "1\u202f000"])
def test_costs_take_thousands_spaces_exponents_and_the_rouble_sign(whatif_db: Path, typed: str) -> None:
    at = app({"what_if.costs": edits(r1={"support": typed})})
    assert roi(at, BETA) == ("150,0\u00a0%", "0,0\u00a0%")             # (1 000 − 1 000) / 1 000
    assert panel(at).loc["Затраты", "Изменение"] == "+600\u00a0₽"


def test_a_negative_cost_is_refused_and_nothing_is_applied(whatif_db: Path) -> None:
    before = snapshot(whatif_db)
    at = app({"what_if.costs": edits(r1={"support": "-1 000"})})
    assert any("Beta **bold**, Поддержка: Сумма -1 000 отрицательная — затраты вводятся положительными числами."
               in e for e in errors(at)), errors(at)
    assert not at.metric and not [b for b in at.button if b.key == "what_if.apply"]
    assert at.button(key="what_if.save").disabled
    assert snapshot(whatif_db) == before


def test_english_reads_a_decimal_point_and_refuses_a_comma(whatif_db: Path) -> None:
    at = app(lang="en")
    at.text_input(key="what_if.rate").set_value("12.5").run()
    assert at.metric[0].value == "272.1%"
    at.text_input(key="what_if.rate").set_value("12,5").run()
    assert any("does not read in English notation" in e for e in errors(at)), errors(at)
    assert at.data_editor(key="what_if.rules.1").value["rate"].tolist() == ["12.5\u00a0%"]  # unchanged


@pytest.mark.parametrize(("kind", "expected"), [("marginal", "275,0\u00a0%"), ("whole", "233,3\u00a0%")])
def test_tiers_are_edited_as_rows(whatif_db: Path, kind: str, expected: str) -> None:
    # Alpha's revenue 3 000 in one month: marginal 10 % of 1 000 + 20 % of 2 000 = 500; whole 20 % of 3 000 = 600
    at = app({TIERS: rows_state({"up_to": "1 000", "rate": "10"}, {"up_to": "и выше", "rate": "20"}),
              "what_if.rules.tier_kind.0": kind})
    assert not errors(at), errors(at)
    assert roi(at, ALPHA)[1] == expected
    assert said(at, "Ступени правила: до 1\u00a0000\u00a0₽ — 10\u00a0%, выше — 20\u00a0%")


def test_tier_rows_sort_by_threshold(whatif_db: Path) -> None:
    at = app({TIERS: rows_state({"up_to": "и выше", "rate": "20"}, {"up_to": "1 000", "rate": "10"})})
    assert roi(at, ALPHA)[1] == "275,0\u00a0%"
    assert said(at, "Ступени правила: до 1\u00a0000\u00a0₽ — 10\u00a0%, выше — 20\u00a0%")


@pytest.mark.parametrize(("rows", "words"), [
    (({"up_to": "1 000", "rate": "10"}, {"up_to": "2 000", "rate": "20"}), "«И выше» (или пусто) бывает ровно у одной"),
    (({"up_to": "1 000", "rate": "-5"}, {"up_to": "и выше", "rate": "20"}), "Ступень 1, Ставка, %: -5 — отрицательное"),
    (({"up_to": "1 000", "rate": "10"}, {"up_to": "1 000", "rate": "15"}, {"up_to": "", "rate": "20"}),
     "Граница 1 000 ₽ встречается дважды"),
    (({"up_to": "1,000.5", "rate": "10"}, {"up_to": "и выше", "rate": "20"}), "не читается"),
])
def test_bad_tier_rows_are_refused_with_a_sentence(whatif_db: Path, rows: tuple, words: str) -> None:
    at = app({TIERS: rows_state(*rows)})
    assert any(words in e for e in errors(at)), errors(at)
    assert not at.metric


def test_partner_target_shows_its_break_even_rate(whatif_db: Path) -> None:
    with store.connect(whatif_db, read_only=True) as con:
        alpha = userdata.find_partner(con, ALPHA)
    at = app()
    at.selectbox(key="what_if.rate_target").set_value(f"partner:{alpha}").run()
    words = " ".join(c.value for c in at.caption).replace("\\", "").replace("\u2060", "")
    assert "Безубыточная ставка для «=Alpha»: 90,0\u00a0% (сейчас 10,0\u00a0%, запас +80,0\u00a0п.\u00a0п.)" in words
    at.selectbox(key="what_if.rate_target").set_value("model:referral").run()
    words = " ".join(c.value for c in at.caption)
    assert "Модель «Реферальная»: в плюсе (ROI ≥ 0) 1 из 1 партнёров, по факту 1." in words


HIDDEN = ["rule_id", "tiers", "tier_kind"]  # the rules table keeps them for the tier editor below it
RAW = re.compile(r"\bNone\b|\bnan\b|[{}]|up_to|\d\.\d")  # a Python or JSON value, a dot decimal (Russian)


def page_texts(at: AppTest) -> list[str]:
    """Every text the page shows: Markdown, captions, alerts, widget labels and every table or editor cell."""
    texts = [e.value for kind in ("markdown", "caption", "error", "info", "warning", "success")
             for e in at.get(kind)]
    texts += [w.label for kind in ("text_input", "selectbox", "radio", "checkbox", "button") for w in at.get(kind)]
    texts += [str(o) for w in at.selectbox for o in w.options]
    editors = {e.key for e in at.data_editor}
    for frame in [f for f in at.dataframe if f.key not in editors]:
        value = getattr(frame.value, "data", frame.value)
        texts += [str(c) for c in value.columns] + [str(v) for v in value.to_numpy().ravel() if isinstance(v, str)]
    for editor in at.data_editor:  # headers are column_config labels; hidden columns are not shown
        value = editor.value.drop(columns=HIDDEN, errors="ignore")
        texts += [str(v) for v in value.to_numpy().ravel() if isinstance(v, str)]
    return texts


def test_no_raw_values_on_the_russian_page(whatif_db: Path) -> None:
    with store.connect(whatif_db) as con:  # a rule with tiers, a partner rule with no model: the old None / JSON cells
        userdata.replace_rules(con, pd.DataFrame([
            {"model": "referral", "kind": "percent_revenue", "rate": 0.1,
             "tiers": '[{"up_to": 1000, "rate": 0.1}, {"up_to": null, "rate": 0.125}]'},
            {"partner": BETA, "kind": "fixed_per_deal", "rate": 100.5}]))
    at = app()
    shown = page_texts(at)
    assert len(shown) > 50
    bad = [t for t in shown if RAW.search(t)]
    assert not bad, bad
    rates = at.data_editor(key="what_if.rules").value["rate"].tolist()
    assert rates == ["10\u00a0%", "100,50\u00a0₽"]

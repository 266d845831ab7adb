"""Issue 20 item 9 on the pages (AppTest): a value far outside the account's history is written only after a
warning that names the effect and a ticked confirmation — the ledger editor, the cost upload, the goal form."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from support.costs_page import ALPHA, BETA, app, edits, errors, last_month

from data_layer import store, userdata
from programme import goals as G
from ui.filters import today

GOALS = str(Path(__file__).resolve().parents[2] / "pages" / "goals.py")
TRILLION = 1_000_000_000_000.0


def ledger(path: Path) -> list[tuple]:
    with store.connect(path, read_only=True) as con:
        return sorted((r.partner, r.month.strftime("%Y-%m"), r.category, r.amount)
                      for r in userdata.read_ledger(con).itertuples())


def ledger_writes(path: Path) -> int:
    with store.connect(path, read_only=True) as con:
        return con.execute("select count(*) from audit_log where entity = 'ledger'").fetchone()[0]


def warnings(at: AppTest) -> str:
    """Warning texts as read on screen: Markdown escapes, word joiners and non-breaking spaces removed."""
    text = re.sub(r"\\(.)", r"\1", "\n".join(w.value for w in at.warning))
    return text.replace("\u00a0", " ").replace("\u2060", "")


def boxes(at: AppTest, prefix: str) -> list:
    return [c for c in at.checkbox if (c.key or "").startswith(prefix)]


def added_row(month: str, amount: float) -> dict:
    return edits(added=[{"partner": BETA, "month": month, "category": "bonus", "amount": amount}])


def test_trillion_ledger_line_asks_naming_the_ratio_then_writes_once(costs_db: Path) -> None:
    before, writes = ledger(costs_db), ledger_writes(costs_db)
    at = app({"costs.editor": added_row(last_month().isoformat(), TRILLION)})
    assert not warnings(at)                                        # nothing is said before a save
    at.button(key="costs.ledger_save").click().run()
    assert not at.error, errors(at)
    text = warnings(at)
    assert "Ничего не записано" in text
    assert "строка 3: Сумма 1 000 000 000 000 ₽ — это в 1 428 571 429 раз больше всех затрат за последний год " \
           "журнала (700 ₽)" in text
    assert "в 250 000 000 раз больше выручки за последний год данных (4 000 ₽)" in text
    assert ledger(costs_db) == before and ledger_writes(costs_db) == writes
    at.button(key="costs.ledger_save").click().run()               # saving again without the tick: still nothing
    assert ledger(costs_db) == before and warnings(at)
    [box] = boxes(at, "costs.ledger.confirm.")
    box.check().run()                                              # the tick alone writes nothing
    assert ledger(costs_db) == before
    at.button(key="costs.ledger_save").click().run()
    assert any("Сохранено: 3" in s.value for s in at.success), errors(at)
    assert (BETA, last_month().strftime("%Y-%m"), "bonus", TRILLION) in ledger(costs_db)
    assert ledger_writes(costs_db) == writes + 2                         # one save: its scope replaced, its rows upserted
    assert not warnings(at) and not boxes(at, "costs.ledger.confirm.")


def test_ordinary_ledger_line_is_saved_at_once(costs_db: Path) -> None:
    at = app({"costs.editor": added_row(last_month().isoformat(), 12_500.5)})
    at.button(key="costs.ledger_save").click().run()
    assert not warnings(at) and any("Сохранено: 3" in s.value for s in at.success)


def test_cost_month_five_years_ahead_asks(costs_db: Path) -> None:
    far = date(today().year + 5, today().month, 1)
    before = ledger(costs_db)
    at = app({"costs.editor": added_row(far.isoformat(), 50.0)})
    at.button(key="costs.ledger_save").click().run()
    # the demo's data end last month, so the current month is the latest month the account has seen
    assert f"Месяц {far:%Y-%m} — на 5 лет позже текущего месяца ({today():%Y-%m})" in warnings(at)
    assert ledger(costs_db) == before


def test_a_tick_does_not_confirm_an_edited_line(costs_db: Path) -> None:
    at = app({"costs.editor": added_row(last_month().isoformat(), TRILLION)})
    at.button(key="costs.ledger_save").click().run()
    boxes(at, "costs.ledger.confirm.")[0].check().run()
    at.session_state["costs.editor"] = added_row(last_month().isoformat(), 2 * TRILLION)
    at.button(key="costs.ledger_save").click().run()
    assert "2 000 000 000 000" in warnings(at)
    assert (BETA, last_month().strftime("%Y-%m"), "bonus", 2 * TRILLION) not in ledger(costs_db)


def test_upload_of_a_month_far_ahead_asks(costs_db: Path) -> None:
    n = today().year * 12 + today().month - 1 + 19          # 19 months ahead: inside the import window
    far = date(n // 12, n % 12 + 1, 1)
    data = f"partner;month;category;amount\n'{ALPHA};{far:%Y-%m};bonus;10\n".encode()
    before = ledger(costs_db)
    at = app()
    at.file_uploader(key="costs.upload").set_value(("costs.csv", data, "text/csv"))
    at.run()
    assert f"Месяц {far:%Y-%m} — на 1 год и 7 месяцев позже текущего месяца" in warnings(at)
    at.button(key="costs.import").click().run()
    assert ledger(costs_db) == before


# ---------------------------------------------------------------- goals

def goals_page() -> AppTest:
    at = AppTest.from_file(GOALS, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def stored_goals(path: Path) -> list[tuple]:
    with store.connect(path, read_only=True) as con:
        return [(r.metric, r.target) for r in G.list_goals(con).itertuples()]


def test_goal_of_a_trillion_leads_typed_russian_style_asks_then_adds_once(costs_db: Path) -> None:
    at = goals_page()
    at.text_input(key="goals.target").set_value("1 000 000 000 000")
    at.button(key="goals.save").click().run()
    assert not at.error, errors(at)
    text = warnings(at)
    assert "Цель 1 000 000 000 000 — это в 200 000 000 000 раз выше рекордного месяца (5," in text, text
    assert stored_goals(costs_db) == []
    at.button(key="goals.save").click().run()                      # no tick: nothing
    assert stored_goals(costs_db) == []
    [box] = boxes(at, "goals.add.confirm.")
    box.check()
    at.button(key="goals.save").click().run()                      # a form sends the tick with the submit
    assert any("Цель добавлена" in s.value for s in at.success), errors(at)
    assert stored_goals(costs_db) == [("leads", TRILLION)]


def test_goal_typed_with_a_decimal_comma_is_added_at_once(costs_db: Path) -> None:
    at = goals_page()
    at.selectbox(key="goals.metric").set_value("conversion").run()
    at.text_input(key="goals.target").set_value("12,5")
    at.button(key="goals.save").click().run()
    assert not at.error and not warnings(at), errors(at)
    assert stored_goals(costs_db) == [("conversion", pytest.approx(0.125))]


def test_goal_starting_years_ahead_asks(costs_db: Path) -> None:
    at = goals_page()
    at.text_input(key="goals.target").set_value("5")
    start = date(date.today().year + 4, 1, 1)
    at.date_input(key="goals.from").set_value(start)
    at.date_input(key="goals.to").set_value(date(start.year, 1, 31))
    at.button(key="goals.save").click().run()
    assert f"Период цели начинается в {start:%Y-%m} — на " in warnings(at)
    assert stored_goals(costs_db) == []


def test_goal_target_that_is_not_a_number_gets_a_sentence(costs_db: Path) -> None:
    at = goals_page()
    at.text_input(key="goals.target").set_value("1 00 0")
    at.button(key="goals.save").click().run()
    assert "не число" in errors(at) and stored_goals(costs_db) == []

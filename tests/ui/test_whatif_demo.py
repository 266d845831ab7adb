"""What-if on the demo account (the session's shared demo database): budget reallocation backed by ROI
intervals, put into the scenario without touching the ledger; every tab renders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data_layer import store

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TABS = ("По партнёрам", "По моделям", "Точка безубыточности и чувствительность к комиссии",
        "Перераспределение бюджета", "Сравнить сценарии")


def what_if() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("pages/what_if.py").run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    return at


def tab(at: AppTest, label: str) -> AppTest:
    at.session_state["what_if.view"] = label
    at.run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    return at


def ledger_total(path: Path) -> float:
    with store.connect(path, read_only=True) as con:
        return float(con.execute("select sum(amount) from cost_ledger").fetchone()[0])


@pytest.mark.parametrize("label", TABS)
def test_every_tab_renders_on_the_demo(app_env: Path, label: str) -> None:
    tab(what_if(), label)


def test_reallocation_suggestion_goes_into_the_scenario_only(app_env: Path) -> None:
    before = ledger_total(app_env)
    at = tab(what_if(), "Перераспределение бюджета")
    assert any("постоянную отдачу" in w.value for w in at.warning)
    plan = next(d.value for d in at.dataframe if "Изменение бюджета" in d.value.columns)
    roles = set(plan["Роль"])
    assert roles == {"отдаёт", "получает"}
    effect = next(m.value for m in at.markdown if "Ожидаемый прирост прибыли" in m.value)
    assert re.search(r"от .+ до .+ по интервалам ROI", effect)
    at.button(key="what_if.realloc_add").click().run()
    tab(at, "По партнёрам")
    table = next(d.value for d in at.dataframe if "Затраты: Δ" in d.value.columns).set_index("Партнёр")
    donors = plan.loc[plan["Роль"] == "отдаёт", "Партнёр"].tolist()
    assert all(table.loc[d, "Затраты: Δ"].startswith("\u2212") for d in donors)
    assert ledger_total(app_env) == before

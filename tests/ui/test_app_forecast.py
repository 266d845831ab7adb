"""The forecast & planning page through AppTest (app.py on the session's demo database): widgets by key,
backtest and method beside each forecast, pipeline and plan sections, English, empty data, saving a plan."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.app import frame_with, new_app, run_ok, url

from data_layer import store

PAGE = "pages/forecast.py"


def open_page(query: dict[str, str] | None = None):
    """app.py switched to the forecast page, run without errors."""
    at = run_ok(new_app(query))
    return run_ok(at.switch_page(PAGE))


def captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def show(at, section: str):
    """Switch the page to one of its sections (forecast, pipeline, plan)."""
    at.segmented_control(key="forecast.section").set_value(section)
    return run_ok(at)


def test_page_shows_forecast_backtest_pipeline_and_plan(app_env: Path) -> None:
    at = open_page()
    assert at.title[0].value == "Прогноз и план"
    assert at.segmented_control(key="forecast.section").value == "forecast"
    assert at.selectbox(key="forecast.metric").value == "revenue"
    assert at.segmented_control(key="forecast.grain").value == "month"
    assert at.slider(key="forecast.horizon").value == 6
    assert "Итого за 6 мес." in [m.label for m in at.metric]
    text = captions(at)
    assert "Проверка на истории" in text and "Метод:" in text
    assert "80 %:" in text and "95 %:" in text
    assert at.get("vega_lite_chart"), "the forecast chart"
    show(at, "pipeline")
    assert "Ожидаемая выручка" in [m.label for m in at.metric]
    assert len(frame_with(at, "Этап", "Вероятность выигрыша", "Закрытых с этапа")) > 0
    assert url(at, "fc_section") == ["pipeline"]
    show(at, "plan")
    assert "Лиды растут пропорционально бюджету" in captions(at)
    plan = frame_with(at, "Бюджет", "Выручка", "Выручка · 95 %", "ROI · 80 %")
    assert list(plan["Группа"])[-1] == "Всего"


def test_selectors_by_key_change_the_forecast_and_travel_in_the_url(app_env: Path) -> None:
    at = open_page()
    at.selectbox(key="forecast.metric").set_value("roi")
    at.segmented_control(key="forecast.by").set_value("model")
    run_ok(at)
    roi_cards = [m for m in at.metric if m.label.startswith("ROI за")]
    assert len(roi_cards) >= 3, "one ROI forecast per model"
    assert "Доход:" in captions(at) and "Затраты:" in captions(at)
    assert url(at, "fc_metric") == ["roi"] and url(at, "fc_by") == ["model"]
    at.segmented_control(key="forecast.grain").set_value("week")
    run_ok(at)
    assert at.slider(key="forecast.horizon").value == 12
    assert any(m.label == "ROI за 12 нед." for m in at.metric)


def test_pipeline_and_plan_selectors(app_env: Path) -> None:
    at = show(open_page(), "pipeline")
    at.segmented_control(key="forecast.pipeline_by").set_value("partner")
    run_ok(at)
    assert len(frame_with(at, "Группа", "P10", "P90")) > 3
    at = show(at, "plan")
    at.segmented_control(key="forecast.plan_mode").set_value("roi")
    run_ok(at)
    assert at.text_input(key="forecast.plan_total").value.replace("\u00a0", " ").endswith(" 000,00")
    assert "Вероятность достичь цели" in captions(at) or at.warning
    at.segmented_control(key="forecast.plan_mode").set_value("revenue")
    run_ok(at)
    assert "Вероятность достичь цели" in captions(at)


def test_page_in_english(app_env: Path) -> None:
    at = open_page({"lang": "en"})
    assert "Backtest" in captions(at)
    assert "Leads scale with the budget" in captions(show(at, "plan"))
    assert any(m.label == "Expected revenue" for m in show(at, "pipeline").metric)


def test_empty_data_gives_a_sentence(app_env: Path) -> None:
    at = open_page({"period": "custom", "from": "2001-01-01", "to": "2001-12-31"})
    assert "Нет ни одного завершённого периода" in " ".join(i.value for i in at.info)
    at = show(at, "pipeline")
    assert "Открытых сделок для этих фильтров нет" in " ".join(i.value for i in at.info)


def test_saving_a_plan_writes_a_scenario(app_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "plan.duckdb"
    shutil.copy(app_db, db)
    monkeypatch.setenv("PARTNER_ROI_DB", str(db))
    at = open_page({"fc_section": "plan"})
    at.text_input(key="forecast.plan_name").set_value("План на квартал")
    at.button(key="forecast.plan_save").click()
    run_ok(at)
    assert any("План на квартал" in s.value for s in at.success)
    with store.connect(db, read_only=True) as con:
        names = [r[0] for r in con.execute("select name from scenarios").fetchall()]
    assert "План на квартал" in names
    at.text_input(key="forecast.plan_name").set_value("План на квартал")
    at.button(key="forecast.plan_save").click()
    at.run()
    assert at.error and "уже есть" in at.error[0].value


def plan_budget(at) -> str:
    """The «Всего» row's budget in the plan's projection table."""
    plan = frame_with(at, "Бюджет", "Выручка", "ROI · 80 %")
    return plan[plan["Группа"] == "Всего"]["Бюджет"].iloc[0].replace("\u00a0", " ")


def test_plan_targets_are_read_the_russian_way(app_env: Path) -> None:
    """«1 234 567» is a million and more and «12,5» a ROI of 12.5 %: never 125 or a dropped group separator."""
    at = show(open_page(), "plan")
    at.segmented_control(key="forecast.plan_mode").set_value("roi")
    run_ok(at)
    at.text_input(key="forecast.plan_total").set_value("1 234 567")
    at.text_input(key="forecast.plan_target_roi").set_value("12,5")
    run_ok(at)
    assert not at.error
    assert plan_budget(at) in ("1 234 567 ₽", "1 234 567,00 ₽") or at.warning
    at.segmented_control(key="forecast.plan_mode").set_value("revenue")
    run_ok(at)
    at.text_input(key="forecast.plan_target").set_value("2 500 000,50 ₽")
    run_ok(at)
    assert not at.error and "Вероятность достичь цели" in captions(at)


@pytest.mark.parametrize("typed", ["много", "-5 000", "1e12x"])
def test_a_refused_plan_input_says_why_and_draws_no_plan(app_env: Path, typed: str) -> None:
    at = show(open_page(), "plan")
    at.segmented_control(key="forecast.plan_mode").set_value("roi")
    run_ok(at)
    at.text_input(key="forecast.plan_total").set_value(typed)
    at.run()
    assert at.error and "Общий бюджет квартала" in at.error[0].value
    assert not [d for d in at.dataframe if "ROI · 80 %" in d.value.columns], "no plan from a misread number"

"""The dashboard through AppTest (app.py with the session's demo database): every page renders, widgets by
key, filters change the numbers and travel in the URL, language and meeting mode, errors become sentences."""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from support.app import MY_PAGES, frame_with, metric_values, new_app, run_ok, url, url_dict

from metrics import engine

# ---------- every page ----------


@pytest.mark.parametrize("page", MY_PAGES)
def test_every_page_renders_without_errors(app_env: Path, page: str) -> None:
    at = run_ok(new_app())
    run_ok(at.switch_page(page))
    assert at.title, "each page has a title"
    assert at.sidebar.selectbox(key="filters.period").value == "last_12m"


@pytest.mark.parametrize("page", MY_PAGES)
def test_every_page_renders_in_english_and_meeting_mode(app_env: Path, page: str) -> None:
    at = run_ok(new_app({"lang": "en", "present": "1"}))
    run_ok(at.switch_page(page))
    assert at.toggle(key="app.lang").value is True
    assert at.toggle(key="app.present").value is True


# ---------- overview ----------


def test_overview_shows_six_kpi_cards_with_deltas(app_env: Path) -> None:
    at = run_ok(new_app())
    cards = metric_values(at)
    assert list(cards) == ["Лиды", "Сделки", "Конверсия", "Выручка", "Затраты", "ROI"]
    assert at.get("vega_lite_chart"), "the revenue vs costs chart"
    assert cards["Выручка"].endswith("₽")
    assert cards["Конверсия"].endswith("\u00a0%")
    assert all(m.delta for m in at.metric[:4]), "deltas against the comparison period"
    assert at.title[0].value == "Обзор"


@pytest.mark.parametrize("page", ["overview", "trends"])
def test_a_page_gets_its_kpi_frames_from_one_batched_query(app_env: Path, page: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's number blocks come from its prefetched frames (metrics.page_frames), one query per page."""
    batches: list[int] = []
    real = engine.kpis_many

    @functools.wraps(real)  # a stand-in for the engine function carries its name (engine.together runs only those)
    def counting(con, requests, scenario=None):
        batches.append(len(requests))
        return real(con, requests, scenario)

    def single(*args, **kwargs):
        raise AssertionError("a KPI frame was computed on its own")

    monkeypatch.setattr(engine, "kpis_many", counting)
    monkeypatch.setattr(engine, "kpis", single)
    monkeypatch.setattr(engine, "grouped", single)
    st.cache_data.clear()
    at = new_app()
    run_ok(at)
    if page != "overview":
        at.switch_page(f"pages/{page}.py")
        batches.clear()
        run_ok(at)
    assert batches and batches[0] >= 3, batches
    assert metric_values(at) if page == "overview" else len(at.dataframe) > 0


def test_overview_computes_no_client_metric(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its cards show no CPA / LTV / days to close: every frame of its one query is lite (no distinct-client work,
    no median)."""
    asked: list[tuple] = []
    real = engine.kpis_many

    @functools.wraps(real)
    def recording(con, requests, scenario=None):
        asked.extend(requests)
        return real(con, requests, scenario)

    monkeypatch.setattr(engine, "kpis_many", recording)
    st.cache_data.clear()
    at = run_ok(new_app())
    assert len(metric_values(at)) == 6 and asked
    assert all(len(r) > 2 and r[2] == engine.LITE for r in asked), asked


def test_changing_a_filter_changes_the_numbers(app_env: Path) -> None:
    at = run_ok(new_app())
    before = metric_values(at)["Лиды"]
    at.sidebar.multiselect(key="filters.models").set_value(["referral"])
    run_ok(at)
    after = metric_values(at)["Лиды"]
    assert before != after
    assert url(at, "model") == ["referral"]
    at.sidebar.selectbox(key="filters.period").set_value("last_month")
    run_ok(at)
    assert metric_values(at)["Лиды"] != after
    assert url(at, "period") == ["last_month"]


def test_url_reopens_the_same_view(app_env: Path) -> None:
    at = run_ok(new_app())
    at.sidebar.selectbox(key="filters.period").set_value("this_quarter")
    at.sidebar.multiselect(key="filters.models").set_value(["sales", "service"])
    at.sidebar.segmented_control(key="filters.view").set_value("close")
    run_ok(at)
    numbers = metric_values(at)
    shared = url_dict(at)
    assert shared["period"] == ["this_quarter"] and shared["model"] == ["sales", "service"]
    again = run_ok(new_app(shared))
    assert metric_values(again) == numbers
    assert again.sidebar.multiselect(key="filters.models").value == ["sales", "service"]
    assert again.sidebar.segmented_control(key="filters.view").value == "close"


def test_custom_period_and_comparison_from_the_url(app_env: Path) -> None:
    at = run_ok(new_app({"period": "custom", "from": "2000-01-01", "to": "2000-03-31", "compare": "year"}))
    assert at.sidebar.date_input(key="filters.dates").value == (date(2000, 1, 1), date(2000, 3, 31))
    assert at.sidebar.selectbox(key="filters.compare").value == "year"
    assert not at.metric, "no KPI cards for an empty result"
    assert any("Нет лидов" in i.value for i in at.info), "an empty result is a sentence"


@pytest.mark.parametrize("page", MY_PAGES)
def test_an_empty_result_is_a_sentence_on_every_page(app_env: Path, page: str) -> None:
    at = run_ok(new_app({"period": "custom", "from": "2001-01-01", "to": "2001-01-31"}))
    run_ok(at.switch_page(page))
    assert any("Нет лидов" in i.value for i in at.info), [i.value for i in at.info]
    assert not at.get("vega_lite_chart"), "no empty chart"


def test_bad_url_values_fall_back_to_defaults(app_env: Path) -> None:
    at = run_ok(new_app({"period": "forever", "partner": ["x", "99999"], "model": "bogus", "view": "?"}))
    assert at.sidebar.selectbox(key="filters.period").value == "last_12m"
    assert at.sidebar.multiselect(key="filters.partners").value == []
    assert at.sidebar.multiselect(key="filters.models").value == []
    assert len(at.metric) == 6


def test_reset_button_restores_the_default_view(app_env: Path) -> None:
    at = run_ok(new_app({"period": "last_month", "model": "referral"}))
    at.sidebar.button(key="filters.reset").click()
    run_ok(at)
    assert at.sidebar.selectbox(key="filters.period").value == "last_12m"
    assert at.sidebar.multiselect(key="filters.models").value == []
    assert "period" not in at.query_params and "model" not in at.query_params


def test_language_switch_by_url_and_toggle(app_env: Path) -> None:
    at = run_ok(new_app({"lang": "en"}))
    assert at.title[0].value == "Overview"
    assert "Leads" in metric_values(at)
    at.toggle(key="app.lang").set_value(False)
    run_ok(at)
    assert at.title[0].value == "Обзор"
    assert "lang" not in at.query_params


def test_meeting_mode_shows_large_cards(app_env: Path) -> None:
    at = run_ok(new_app({"present": "1"}))
    assert not at.metric, "meeting mode draws its own large cards"
    titles = [t.value for t in at.title]
    assert any(v.endswith("₽") for v in titles), titles
    assert any(v.endswith("\u00a0%") for v in titles), titles
    at.toggle(key="app.present").set_value(False)
    run_ok(at)
    assert len(at.metric) == 6
    assert "present" not in at.query_params


def test_filters_survive_a_page_switch(app_env: Path) -> None:
    at = run_ok(new_app())
    at.sidebar.multiselect(key="filters.models").set_value(["service"])
    run_ok(at)
    run_ok(at.switch_page("pages/models.py"))
    assert at.sidebar.multiselect(key="filters.models").value == ["service"]
    assert [s.value for s in at.subheader][0] == "Сервисная"


# ---------- partners ----------


def test_partner_page_opens_from_the_url_and_goes_back(app_env: Path, app_db: Path) -> None:
    at = run_ok(new_app())
    run_ok(at.switch_page("pages/partners.py"))
    assert at.selectbox(key="partners.selected").value is None
    table = frame_with(at, "Место")
    pid = at.session_state["partners._order"][0]
    at.selectbox(key="partners.selected").set_value(pid)
    run_ok(at)
    assert url(at, "selected") == [str(pid)]
    labels = [m.label for m in at.metric]
    assert labels[:6] == ["Лиды", "Сделки", "Конверсия", "Выручка", "Затраты", "ROI"], "the partner's KPI cards"
    assert "Качество лида" in labels
    assert frame_with(at, "Сделка", "Этап", "Сумма") is not None, "the partner's deals"
    assert table is not None
    at.button(key="partners.back").click()
    run_ok(at)
    assert at.selectbox(key="partners.selected").value is None
    assert "selected" not in at.query_params


def test_a_partner_page_runs_its_queries_side_by_side_once(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """KPI frames, funnel, lead quality and deals: one engine.together batch; the sections read its results."""
    batches: list[tuple[str, ...]] = []
    calls: list[str] = []
    real_together = engine.together

    def counting_together(con, batch):
        batches.append(tuple(call.fn.__name__ for call in batch))
        return real_together(con, batch)

    def counted(real):
        @functools.wraps(real)
        def wrapper(*args, **kwargs):
            calls.append(real.__name__)
            return real(*args, **kwargs)
        return wrapper

    frames: list[tuple] = []
    real_many = engine.kpis_many

    @functools.wraps(real_many)
    def recording_many(con, requests, scenario=None):
        frames.append(requests)
        return real_many(con, requests, scenario)

    for name in ("funnel", "quality", "deals"):
        monkeypatch.setattr(engine, name, counted(getattr(engine, name)))
    monkeypatch.setattr(engine, "together", counting_together)
    monkeypatch.setattr(engine, "kpis_many", recording_many)
    st.cache_data.clear()
    at = run_ok(new_app({"selected": "2"}))
    frames.clear()
    run_ok(at.switch_page("pages/partners.py"))
    assert ("kpis_many", "funnel", "quality", "deals") in batches
    assert sorted(calls) == ["deals", "funnel", "quality"], "each computed once, inside the batch"
    # one KPI query for the cards, the costs by category and the trend; no client metric is shown: all lite
    assert len(frames) == 1 and all(len(r) > 2 and r[2] == engine.LITE for r in frames[0]), frames
    assert frame_with(at, "Сделка", "Этап", "Сумма") is not None and "Качество лида" in [m.label for m in at.metric]


def test_partner_link_reopens_the_partner(app_env: Path) -> None:
    at = run_ok(new_app({"selected": "2"}))
    run_ok(at.switch_page("pages/partners.py"))
    assert at.selectbox(key="partners.selected").value == 2
    assert at.header, "the partner's name as the page header"


def test_leaderboard_sorts_by_any_metric_and_by_lower_bound(app_env: Path) -> None:
    at = run_ok(new_app())
    run_ok(at.switch_page("pages/partners.py"))
    at.selectbox(key="partners.sort_by").set_value("conversion")
    at.toggle(key="partners.by_lower").set_value(True)
    run_ok(at)
    frame = frame_with(at, "Место", "Отметка")
    ranked = frame[frame["Место"].notna()]
    places = [int(v) for v in ranked["Место"]]
    assert places[0] == 1 and places == sorted(places), "best first (ties share a place)"
    flags = frame["Отметка"].tolist()
    few_at = [i for i, f in enumerate(flags) if f == "мало лидов"]
    assert all(i >= len(ranked) for i in few_at), "partners with too few leads are never ranked"
    assert flags[-1] == "база сравнения", "direct sales last, as the baseline"


def test_leaderboard_computes_client_metrics_only_when_sorted_by_one(app_env: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # the default sort (revenue) needs no CPA / LTV / days to close: the KPI query skips that work (lite)
    from metrics import leaderboard
    asked: list[bool] = []
    real = leaderboard.kpis_with_roi

    def spy(*args, **kwargs):
        asked.append(kwargs.get("lite", False))
        return real(*args, **kwargs)

    monkeypatch.setattr(leaderboard, "kpis_with_roi", spy)  # where the leaderboard's rows look it up
    st.cache_data.clear()  # the leaderboard's rows are cached as one result (metrics.leaderboard.partner_rows)
    at = run_ok(new_app())
    run_ok(at.switch_page("pages/partners.py"))
    assert asked == [True]
    at.selectbox(key="partners.sort_by").set_value("ltv")
    run_ok(at)
    assert asked == [True, False]
    frame = frame_with(at, "Место", "LTV")
    partners = frame[frame["Место"].notna()]
    assert len(partners) and partners["LTV"].notna().all(), "LTV of every ranked partner"
    assert list(partners["LTV"]) == sorted(partners["LTV"], reverse=True), "best LTV first"


# ---------- models, trends, quality ----------


def test_models_page_compares_models_with_direct(app_env: Path) -> None:
    at = run_ok(new_app())
    run_ok(at.switch_page("pages/models.py"))
    heads = [s.value for s in at.subheader]
    for label in ("Реферальная", "Продажи (реселлеры)", "Сервисная", "Прямые продажи"):
        assert label in heads
    at.selectbox(key="models.metric").set_value("cpa")
    run_ok(at)
    assert "CPA по моделям" in [s.value for s in at.subheader]
    assert "Партнёры в целом и прямые продажи" in [s.value for s in at.subheader]
    vs = frame_with(at, "Сегмент", "95 % интервал")
    segments = list(vs["Сегмент"])
    assert "Все партнёры" in segments and segments[-1] == "Прямые продажи"
    direct = vs[vs["Сегмент"] == "Прямые продажи"].iloc[0]
    assert direct["Разница, п. п."] == direct["Разница, %"] == "база", "direct is the baseline"
    assert any(v.startswith(("+", "−")) for v in vs["Разница, п. п."]), "the others differ from it"
    assert all("–" in v for v in vs["95 % интервал"]), "every segment with leads has an interval"


def test_trends_by_partner_and_week(app_env: Path) -> None:
    at = run_ok(new_app())
    run_ok(at.switch_page("pages/trends.py"))
    at.segmented_control(key="trends.by").set_value("partner")
    at.segmented_control(key="trends.grain").set_value("week")
    run_ok(at)
    chosen = at.multiselect(key="trends.partners").value
    assert 1 <= len(chosen) <= 5
    kpi = frame_with(at, "Показатель", "Значение", "Тренд", "Что делать")
    assert len(kpi) >= 5


def test_quality_page_by_partner_and_model(app_env: Path) -> None:
    at = run_ok(new_app())
    run_ok(at.switch_page("pages/quality.py"))
    assert [m.label for m in at.metric] == ["Качество лида", "Доля мусора", "Лид → квалифицирован"]
    table = frame_with(at, "Партнёр", "Доля мусора")
    assert "база сравнения" in table["Выборка"].tolist()
    at.segmented_control(key="quality.by").set_value("model")
    at.selectbox(key="quality.sort_by").set_value("junk_share")
    run_ok(at)
    by_model = frame_with(at, "Модель", "Доля мусора")
    assert "Прямые продажи" in by_model["Модель"].tolist()


# ---------- errors ----------


def test_missing_database_is_a_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_ROI_DB", str(tmp_path / "nope.duckdb"))
    at = new_app()
    at.run()
    assert not at.exception
    assert any("make run" in i.value for i in at.info)


def test_a_failing_page_shows_a_sentence_not_a_traceback(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(con, f, by="none", scenario=None) -> pd.DataFrame:
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "kpis", broken)
    broken_many = functools.wraps(engine.kpis_many)(lambda con, requests, scenario=None: broken(con, None))
    monkeypatch.setattr(engine, "kpis_many", broken_many)
    st.cache_data.clear()  # the page's KPI frames may be cached by an earlier test
    at = new_app()
    at.run()
    assert not at.exception
    assert at.error and "Страница не смогла построиться" in at.error[0].value
    assert "boom" not in at.error[0].value


def test_a_database_of_an_older_version_is_migrated_when_the_dashboard_opens(
        app_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: a database built before the derived fact tables existed (migration 0004) must not break pages."""
    import shutil

    import duckdb

    from data_layer import store

    old = tmp_path / "old.duckdb"
    shutil.copy(app_db, old)
    con = duckdb.connect(str(old))
    for table in ("fact_won_deals", "fact_partner_days", "fact_lead_days", "fact_lead_days_partner",
                  "fact_lead_stage", "fact_sources"):
        con.execute(store.sql_with_names("drop table {t}", t=table))
    con.execute("delete from schema_migrations where name = '0004_derived_tables'")
    con.close()
    store.bump_version(old)
    monkeypatch.setenv("PARTNER_ROI_DB", str(old))
    at = run_ok(new_app())
    assert metric_values(at)["Лиды"]
    with store.connect(old, read_only=True) as con:
        assert "0004_derived_tables" in store.applied_migrations(con)
        assert con.execute("select count(*) from fact_won_deals").fetchone()[0] > 0


def test_a_rerun_opens_the_database_once(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening the file costs ~20 ms: a cold rerun shares one read-only connection among its uncached queries."""
    from data_layer import store

    opened: list[bool] = []
    real = store.connect

    def counting(path, read_only=False, wait=store.LOCK_WAIT_SECONDS):
        opened.append(read_only)
        return real(path, read_only=read_only, wait=wait)

    run_ok(new_app())  # schema checked, caches warm
    st.cache_data.clear()
    monkeypatch.setattr(store, "connect", counting)
    at = run_ok(new_app())
    assert metric_values(at)["Лиды"]
    assert opened == [True], opened


def test_the_leaderboard_opens_on_how_many_partners_earn_their_cost(app_env: Path) -> None:
    """Four cards before the table, counted by the first screen's rule (metrics.verdict) over the table's rows."""
    from data_layer import store
    from metrics import leaderboard, verdict
    from metrics.filters import Filters

    at = run_ok(new_app())
    run_ok(at.switch_page("pages/partners.py"))
    cards = metric_values(at)
    board = frame_with(at, "Партнёр", "Выручка")
    dates = at.sidebar.date_input(key="filters.dates").value
    with store.connect(app_env, read_only=True) as con:
        rows = leaderboard.partner_rows(con, Filters(*dates), lite=True)
    partners = rows[rows["partner_id"].notna()]
    counts = verdict.verdict(partners).value_counts()
    assert cards["Партнёров за период"] == str(len(partners))
    assert len(board) == len(rows), "the table lists the same rows the cards count (and direct sales)"
    assert cards["Окупают затраты"] == str(counts.get(verdict.EARNS, 0))
    assert cards["Убыточны"] == str(counts.get(verdict.LOSES, 0))
    assert cards["Пока неясно"] == str(counts.get(verdict.UNCLEAR, 0))
    assert int(cards["Окупают затраты"]) > 0 and int(cards["Убыточны"]) > 0, "the demo has both kinds"

"""Drill-through in the dashboard (ui.drill): a leaderboard row or a KPI card opens exactly the deals behind it, in
one dialog, with downloads whose CRM text is neutralised."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from support.app import frame_with, new_app, run_ok

from data_layer import store
from metrics import drill, engine
from metrics.filters import Filters
from reports import deal_list

PERIOD = {"period": "custom", "from": "2026-01-01", "to": "2026-12-07"}
F = Filters(date(2026, 1, 1), date(2026, 12, 7))


def _dialog_table(at) -> pd.DataFrame:
    """The drill dialog's list (the dialog's st.dataframe: its columns are presentation.deals.COLUMNS)."""
    found = _dialog_tables(at)
    assert len(found) == 1, "the dialog is open, once"
    return found[0]


def _dialog_tables(at) -> list[pd.DataFrame]:
    values = [getattr(d.value, "data", d.value) for d in at.dataframe]
    return [v for v in values if {"lead_id", "stage", "commission", "client"} <= set(v.columns)]


def _select_row(at, key: str, row: int):
    at.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    return run_ok(at)


def test_selecting_a_leaderboard_row_opens_exactly_that_partner_s_deals(app_env: Path, app_db: Path) -> None:
    at = run_ok(new_app(PERIOD))
    run_ok(at.switch_page("pages/partners.py"))
    assert not _dialog_tables(at), "no dialog before a click"
    order = at.session_state["partners._order"]
    row = 1
    pid = order[row]
    _select_row(at, "partners.table", row)
    shown = _dialog_table(at)
    with store.connect(app_db, read_only=True) as con:
        card = engine.kpis(con, Filters(F.date_from, F.date_to, partners=(pid,)), "none").iloc[0]
        name = con.execute("select name from partners where partner_id = ?", [pid]).fetchone()[0]
    assert len(shown) == int(card["won_deals"]) > 0
    assert set(shown["partner"]) == {name}
    assert any(name in s.value for s in at.subheader), "the dialog names the partner"
    assert any(f"Сделок: {int(card['won_deals'])}" in m.value for m in at.markdown)
    assert at.button(key="drill.action") is not None
    run_ok(at)  # an unrelated rerun with the row still selected does not reopen the list
    assert not _dialog_tables(at)


def test_the_dialog_s_button_opens_the_partner_s_page(app_env: Path) -> None:
    at = run_ok(new_app(PERIOD))
    run_ok(at.switch_page("pages/partners.py"))
    pid = at.session_state["partners._order"][0]
    _select_row(at, "partners.table", 0)
    at.button(key="drill.action").click()
    run_ok(at)
    assert at.selectbox(key="partners.selected").value == pid


@pytest.mark.parametrize(("card", "metric"), [(0, "leads"), (1, "won_deals")])
def test_a_kpi_card_s_list_has_the_card_s_count(app_env: Path, app_db: Path, card: int, metric: str) -> None:
    at = run_ok(new_app(PERIOD))
    with store.connect(app_db, read_only=True) as con:
        want = int(engine.kpis(con, F, "none").iloc[0][metric])
    at.button(key=f"overview.kpi.{card}.drill").click()
    run_ok(at)
    assert len(_dialog_table(at)) == want
    assert not at.warning, "the list agrees with the card"


def test_cards_that_count_nothing_have_no_button(app_env: Path) -> None:
    at = run_ok(new_app(PERIOD))
    keys = {b.key for b in at.button}
    assert {"overview.kpi.0.drill", "overview.kpi.1.drill", "overview.kpi.2.drill", "overview.kpi.3.drill"} <= keys
    assert not {"overview.kpi.4.drill", "overview.kpi.5.drill"} & keys  # costs, ROI


def test_the_download_neutralises_a_formula_named_deal(app_db: Path) -> None:
    with store.connect(app_db, read_only=True) as con:
        rows = drill.deal_list(con, drill.narrow(F, status="won")).head(3).copy()
    rows.loc[0, "lead_name"] = '=HYPERLINK("http://evil.example","click")'
    text = deal_list.file(rows, None, "ru", "Сделки", "RUB", "csv").decode("utf-8-sig")
    assert "'=HYPERLINK(" in text and "\n=HYPERLINK" not in text and ";=HYPERLINK" not in text
    assert "Ссылка в amoCRM" not in text  # the demo has no links
    linked = deal_list.file(rows, "https://acme.amocrm.ru", "ru", "Сделки", "RUB", "csv").decode("utf-8-sig")
    assert f"https://acme.amocrm.ru/leads/detail/{int(rows.loc[1, 'lead_id'])}" in linked
    assert deal_list.file(rows, None, "en", "Deals", "RUB", "xlsx")[:2] == b"PK"


def test_a_models_table_cell_and_a_segment_row_open_their_lists(app_env: Path, app_db: Path) -> None:
    at = run_ok(new_app(PERIOD))
    run_ok(at.switch_page("pages/models.py"))
    with store.connect(app_db, read_only=True) as con:
        by_model = engine.kpis(con, F, "model").set_index("model")
        partners = engine.kpis(con, Filters(F.date_from, F.date_to, models=drill.PARTNER_MODELS), "none").iloc[0]
    table = frame_with(at, "Показатель")
    row = list(table["Показатель"]).index("Сделки")
    at.session_state["models.table"] = {"selection": {"rows": [], "columns": [], "cells": [[row, "Реферальная"]]}}
    run_ok(at)
    assert len(_dialog_table(at)) == int(by_model.loc["referral", "won_deals"])
    run_ok(at)
    at.session_state["models.vs_direct"] = {"selection": {"rows": [3], "columns": [], "cells": []}}  # all partners
    run_ok(at)
    assert len(_dialog_table(at)) == int(partners["leads"])
    at.button(key="models.card.service.drill").click()
    run_ok(at)
    assert len(_dialog_table(at)) == int(by_model.loc["service", "won_deals"])


def test_a_chart_bar_and_a_trend_point_open_their_period_s_deals(app_env: Path, app_db: Path) -> None:
    with store.connect(app_db, read_only=True) as con:
        by_month = engine.grouped(con, F, ("month", "model")).assign(period=lambda d: pd.to_datetime(d["period"]))
    march = by_month[by_month["period"] == "2026-03-01"]
    at = run_ok(new_app(PERIOD))
    ms = int(pd.Timestamp("2026-03-01").value // 1_000_000)  # Vega sends a date field as epoch milliseconds
    at.session_state["overview.chart"] = {"selection": {"drill": [{"period": ms}]}}
    run_ok(at)
    assert len(_dialog_table(at)) == int(march["won_deals"].sum())
    assert not at.warning
    run_ok(at.switch_page("pages/trends.py"))
    at.selectbox(key="trends.metric").set_value("won_deals")
    run_ok(at)
    at.session_state["trends.chart"] = {"selection": {"drill": [{"period": "2026-03-01T00:00:00",
                                                                  "series": "Реферальная"}]}}
    run_ok(at)
    assert len(_dialog_table(at)) == int(march.loc[march["model"] == "referral", "won_deals"].iloc[0])
    assert not at.warning

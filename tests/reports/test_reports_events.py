"""The view's PDF draws the same events as the dashboard's charts: dashed rules with titles on revenue and costs."""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from support.reports import PERIOD

from data_layer import store, userdata
from metrics.filters import Filters
from reports import charts, exports, view_data

F = Filters(*PERIOD)


@pytest.fixture
def with_events(db: Path, tmp_path: Path) -> view_data.ViewData:
    """The reports' demo with an event of the whole programme and one of a single partner inside the period."""
    path = tmp_path / "events.duckdb"
    shutil.copy(db, path)
    day = date(PERIOD[0].year, PERIOD[0].month, 1)
    with store.connect(path) as con:
        userdata.add_event(con, day.replace(day=10), "Вебинар для всех")
        pid = con.execute("select min(partner_id) from partners").fetchone()[0]
        userdata.add_event(con, day.replace(day=12), "Только один партнёр", scope="partner", value=pid)
        return view_data.collect(con, F)


def test_the_pdf_chart_draws_the_view_s_events(with_events: view_data.ViewData) -> None:
    assert list(with_events.events["title"]) == ["Вебинар для всех"], "a partner's event is not the programme's"
    spec = charts.revenue_costs(with_events.monthly, "ru", "₽", events=with_events.events).to_dict()
    labels = [r["label"] for values in spec["datasets"].values() for r in values if "label" in r]
    assert labels == ["Вебинар для всех"]
    month = next(r["month"] for values in spec["datasets"].values() for r in values if "label" in r)
    assert month in [r["month"] for values in spec["datasets"].values() for r in values if "amount" in r]
    blob = exports.render(with_events, "pdf", "ru")
    assert sum(len(p.images) for p in PdfReader(io.BytesIO(blob)).pages) >= 3

"""Exports carry the screens' honesty (issue 20, item 8): the "мало лидов" mark where metrics flag too_few, the
leaderboard's intervals, unfinished / maturing months, the dashboard's colours, and one header — period, comparison,
filters, data freshness in the account's time zone — equal to the dashboard's freshness line."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from support.reports import PERIOD, WEEK_ENDING

from data_layer import store, userdata
from metrics.engine import kpis
from metrics.filters import Filters
from presentation import palette
from presentation.freshness import freshness_line
from reports import charts, exports, statement, view_data, view_tables, weekly
from ui import layout

F = Filters(*PERIOD)
TZ = "Asia/Yekaterinburg"          # UTC+5: two hours ahead of Moscow, so a Moscow or UTC clock shows up
SYNCED_UTC = "2025-06-30T05:45:00+00:00"
SYNCED_LOCAL = "30 июн. 2025, 10:45"  # the same moment on a clock in Yekaterinburg
FEW = "мало лидов"


def pdf_text(blob: bytes) -> str:
    """All text of a PDF, non-breaking and narrow spaces as plain spaces."""
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(blob)).pages)
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def plain(text: str) -> str:
    """Text with non-breaking and narrow spaces as plain spaces (babel writes both)."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.fixture(scope="module")
def ekb(db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo whose account lives in Yekaterinburg, last synced at a known moment; min_leads 10, so some
    partners are flagged too_few and some are not."""
    path = tmp_path_factory.mktemp("ekb") / "ekb.duckdb"
    shutil.copy(db, path)
    with store.connect(path) as con:
        con.execute("update raw_account set timezone = ?", [TZ])
        con.execute("update meta set value = ? where key = 'last_sync_at'", [SYNCED_UTC])
        userdata.set_setting(con, "min_leads", 10)
    return path


@pytest.fixture(scope="module")
def data(ekb: Path) -> view_data.ViewData:
    with store.connect(ekb, read_only=True) as con:
        return view_data.collect(con, F, "year")


def _rows(text: str, name: str) -> list[str]:
    """The PDF text lines that start with a name."""
    return [line for line in text.splitlines() if line.startswith(name)]


def _short(names: pd.Series) -> list[str]:
    """Names short enough not to wrap in the PDF's partner column (a wrapped row has no one line to check)."""
    return [n for n in names if len(n) <= 16]


# ---------- the "мало лидов" mark ----------

def test_pdf_marks_a_small_partner_and_ranks_none_without_the_mark(data: view_data.ViewData) -> None:
    """A partner metrics flag too_few carries "мало лидов" on its row beside its band; one with enough leads does not."""
    partners = data.partners[data.partners["partner_id"].notna()]
    few = partners[partners["too_few"].astype(bool) & (partners["leads"] > 0)]
    enough = partners[~partners["too_few"].astype(bool)]
    assert len(few) and len(enough), "min_leads 10 splits the demo's partners"
    text = pdf_text(exports.render(data, "pdf", "ru"))
    bands = ("очень эффективна", "прибыльна", "на грани", "убыточна")
    for name in _short(few["partner"]):
        lines = [line for line in _rows(text, name) if any(b in line for b in bands)]
        assert lines and all(FEW in line for line in lines), (name, lines)
    for name in _short(enough["partner"]):
        assert all(FEW not in line for line in _rows(text, name)), name
    small = _short(few.loc[few["roi_band"] == "profitable", "partner"])
    assert small, "a small profitable partner: the issue's case"
    for name in small:  # never "прибыльна" for it without the mark
        assert all(FEW in line for line in _rows(text, name) if "прибыльна" in line)


def test_spreadsheets_carry_the_mark_and_the_leaderboard_intervals(data: view_data.ViewData) -> None:
    ws = load_workbook(io.BytesIO(exports.render(data, "xlsx", "ru")))["Партнёры"]
    head = [c.value for c in ws[1]]
    rows = {r[0]: dict(zip(head, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)}
    for _, p in data.partners[data.partners["partner_id"].notna()].iterrows():
        row = rows[p["partner"]]
        assert (row["Выборка"] == FEW) == (bool(p["too_few"]) and p["leads"] > 0), p["partner"]
        if pd.notna(p["roi_low"]):
            assert row["ROI, нижняя граница"] == pytest.approx(p["roi_low"])
            assert row["ROI, нижняя граница"] <= row["ROI"] <= row["ROI, верхняя граница"]
        if row["Конверсия"] is not None:  # no lead, no conversion
            assert row["Конверсия, нижняя граница"] <= row["Конверсия"] <= row["Конверсия, верхняя граница"]
    assert any(isinstance(r["ROI (с учётом размера выборки)"], float) for r in rows.values())
    blob = exports.render(data, "csv", "ru").decode("utf-8-sig")
    assert f";{FEW};" in blob


# ---------- text cells: exact in XLSX, guarded in CSV ----------

def test_xlsx_text_is_exact_and_csv_keeps_the_guard(data: view_data.ViewData) -> None:
    name = "=Формула Роста"
    assert name in set(data.partners["partner"].dropna()), "the demo's formula-like partner name"
    ws = load_workbook(io.BytesIO(exports.render(data, "xlsx", "ru")))["Партнёры"]
    cell = next(c for c in ws["A"][1:] if isinstance(c.value, str) and "Формула" in c.value)
    assert cell.value == name and cell.data_type == "s"  # no apostrophe in the value, never a formula
    text = exports.render(data, "csv", "ru").decode("utf-8-sig")
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=";") if r and "Формула" in r[0]]
    assert rows and all(r[0] == "'" + name for r in rows)


# ---------- unfinished and maturing periods ----------

def test_the_unfinished_month_is_marked_in_the_sheet_the_pdf_and_the_chart(data: view_data.ViewData) -> None:
    last = data.monthly.iloc[-1]
    assert bool(last["incomplete"]), "the demo's last month ends on the as-of date"
    ws = load_workbook(io.BytesIO(exports.render(data, "xlsx", "ru")))["По месяцам"]
    head = [c.value for c in ws[1]]
    status = [r[head.index("Статус")] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert status[-1] == "текущий месяц не закончен" and not any(status[:-2])
    assert ws["A2"].number_format == "mmm yyyy"
    line = next(line for line in pdf_text(exports.render(data, "pdf", "ru")).splitlines()
                if line.startswith("июнь 2025"))
    assert "текущий месяц не закончен" in line
    spec = charts.revenue_costs(data.monthly, "ru").to_dict()
    bars = pd.DataFrame(spec["datasets"][spec["layer"][0]["data"]["name"]])
    assert bars.loc[bars["month"] == "июнь 2025", "pale"].all() and not bars.loc[bars["month"] == "янв. 2025",
                                                                                  "pale"].any()


# ---------- one header, the account's clock ----------

def test_header_is_the_dashboard_s_freshness_line_in_the_account_zone(data: view_data.ViewData) -> None:
    """Old code wrote the UTC sync time (05:45) and the server's zone; the UI shows 10:45 in Yekaterinburg."""
    line = freshness_line(data.freshness, "ru")
    assert line == layout.freshness_line(data.freshness)  # the dashboard's own caption text
    assert SYNCED_LOCAL in plain(line) and TZ in line
    head = dict(view_data.header_lines(data, "ru"))
    assert head["Источник данных"] == line
    assert data.generated_at.utcoffset() == timedelta(hours=5)
    made = data.generated_at.astimezone(ZoneInfo(TZ)).strftime("%H:%M")
    assert head["Сформировано"].endswith(made)
    assert head["Сравнивать с"].startswith("тем же периодом год назад") and "2024" in head["Сравнивать с"]
    assert head["Сделки"] == "по дате создания лида" and head["Партнёры"] == "все"
    text = pdf_text(exports.render(data, "pdf", "ru"))
    assert SYNCED_LOCAL in text and TZ in text and "05:45" not in text
    cover = load_workbook(io.BytesIO(exports.render(data, "xlsx", "ru"))).worksheets[0]
    assert line in {c.value for c in cover["B"]}
    first = exports.render(data, "csv", "ru").decode("utf-8-sig").split("\r\n\r\n")[0]
    assert f"Источник данных;{line}" in first and "Сравнивать с;" in first


def test_the_header_names_the_filters(ekb: Path) -> None:
    with store.connect(ekb, read_only=True) as con:
        narrowed = view_data.collect(con, Filters(*PERIOD, models=("referral",), view="close"))
    head = dict(view_data.header_lines(narrowed, "ru"))
    assert head["Модели"] == "Реферальная" and head["Сделки"] == "по дате закрытия"
    assert head["Сравнивать с"].startswith("предыдущим периодом той же длины")


def test_kpi_list_carries_the_comparison_period(ekb: Path, data: view_data.ViewData) -> None:
    with store.connect(ekb, read_only=True) as con:
        before = kpis(con, Filters(PERIOD[0].replace(year=2024), PERIOD[1].replace(year=2024)))
    table = view_tables.tables(data, "ru")["kpis"].frame.set_index("metric")
    assert table.at["Лиды", "before"] == before["leads"].iloc[0]


def test_weekly_pack_and_statement_use_the_same_header(ekb: Path) -> None:
    with store.connect(ekb, read_only=True) as con:
        pack = weekly.build_weekly(con, WEEK_ENDING)
        state = statement.collect(con, F, 1)
    line = freshness_line(pack.freshness, "ru")
    assert SYNCED_LOCAL in plain(line)
    for blob in (weekly.weekly_pdf(pack, "ru"), statement.statement_pdf(state, "ru")):
        assert SYNCED_LOCAL in pdf_text(blob) and TZ in pdf_text(blob)
    _, body = weekly.email_text(pack, "ru")
    assert f"Источник данных: {line}" in body and "Партнёры: все" in body
    sheets = load_workbook(io.BytesIO(weekly.weekly_xlsx(pack, "ru")))
    assert line in {c.value for c in sheets.worksheets[0]["B"]}
    for table in (weekly.movers_table(pack, "ru"), weekly.bands_table(pack, "ru")):
        few = pack.movers if table.key == "movers" else pack.bands
        assert list(table.frame["sample"]) == [FEW if bool(x) else "" for x in few["too_few"]]


def test_weekly_cohort_pack_says_the_week_is_maturing(ekb: Path) -> None:
    with store.connect(ekb, read_only=True) as con:
        pack = weekly.build_weekly(con, WEEK_ENDING, view="cohort")
    if not weekly.week_maturing(pack):
        pytest.skip("the demo's week has matured")
    _, body = weekly.email_text(pack, "ru")
    assert "Неделя ещё созревает" in body and "Неделя ещё созревает" in pdf_text(weekly.weekly_pdf(pack, "ru"))
    assert "созревает: сделки ещё закрываются" in set(weekly.series_table(pack, "ru").frame["status"])


# ---------- the dashboard's colours ----------

def test_charts_use_the_dashboard_s_model_and_band_colours(data: view_data.ViewData) -> None:
    models = data.models.assign(label=data.models["model"])
    spec = charts.model_roi(models, "label", "ROI").to_dict()
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    assert scale["range"] == [palette.MODEL_COLORS[m] for m in scale["domain"]]
    partners = data.partners[data.partners["partner_id"].notna()].assign(label=lambda d: d["partner"])
    bands = charts.roi_bars(partners, "label", "ROI", "ru").to_dict()["encoding"]["color"]["scale"]["range"]
    assert bands == [palette.BAND_COLORS[b] for b in palette.BANDS]
    assert charts.PALETTE is palette.PALETTE and charts.BAND_COLORS is palette.BAND_COLORS

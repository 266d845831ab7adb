"""Exports of a view on a small demo database: numbers read back equal metrics.kpis, Cyrillic, injection."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from support.reports import EVIL_NAMES, PERIOD, evil_db

from data_layer import store
from metrics.engine import kpis
from metrics.filters import Filters
from presentation import fmt, periods
from reports import csvout, exports, view_data, view_tables
from reports.safe import neutralise
from reports.text import metric_label

F = Filters(*PERIOD)


@pytest.fixture(scope="module")
def expected(db: Path) -> dict[str, pd.DataFrame]:
    """metrics.kpis for the same filters: the numbers every export must show."""
    with store.connect(db, read_only=True) as con:
        return {"total": kpis(con, F), "partners": kpis(con, F, by="partner"), "models": kpis(con, F, by="model"),
                "monthly": kpis(con, F, by="month")}


@pytest.fixture(scope="module")
def data(db: Path) -> view_data.ViewData:
    with store.connect(db, read_only=True) as con:
        return view_data.collect(con, F)


def pdf_text(blob: bytes) -> str:
    """All text of a PDF with non-breaking spaces as plain spaces."""
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(blob)).pages).replace("\u00a0", " ")


def squeeze(text: str) -> str:
    """Text without any whitespace (table cells wrap long names anywhere)."""
    return "".join(text.split())


def csv_sections(blob: bytes, sep: str = ";") -> dict[str, list[list[str]]]:
    """Sections of a multi-table CSV: title line -> rows (header first)."""
    assert blob.startswith(b"\xef\xbb\xbf")
    out: dict[str, list[list[str]]] = {}
    for chunk in blob.decode("utf-8-sig").split("\r\n\r\n"):
        rows = list(csv.reader(io.StringIO(chunk), delimiter=sep))
        out[rows[0][0]] = rows[1:]
    return out


def ru_number(text: str) -> float:
    """A number written with a decimal comma."""
    return float(text.replace(",", "."))


def test_xlsx_holds_kpis_of_metrics(data: view_data.ViewData, expected: dict[str, pd.DataFrame]) -> None:
    wb = load_workbook(io.BytesIO(exports.render(data, "xlsx", "ru")))
    assert wb.sheetnames == ["Эффективность партнёров", "Показатели", "Партнёры", "Модели", "Затраты", "По месяцам"]
    kpi = {r[0].value: r[1] for r in wb["Показатели"].iter_rows(min_row=2)}
    total = expected["total"].iloc[0]
    assert kpi[metric_label("leads", "ru")].value == total["leads"]
    assert kpi[metric_label("revenue", "ru")].value == pytest.approx(total["revenue"])
    assert kpi[metric_label("roi", "ru")].value == pytest.approx(total["roi"])
    assert kpi[metric_label("roi", "ru")].number_format == "0.0%"
    assert "₽" in kpi[metric_label("revenue", "ru")].number_format


def test_xlsx_partner_rows_match(data: view_data.ViewData, expected: dict[str, pd.DataFrame]) -> None:
    ws = load_workbook(io.BytesIO(exports.render(data, "xlsx", "ru")))["Партнёры"]
    header = [c.value for c in ws[1]]
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)}
    partners = expected["partners"][expected["partners"]["partner_id"].notna()]
    assert len(rows) == len(expected["partners"])  # partners + the direct baseline row
    for _, p in partners.iterrows():
        row = rows[p["partner"]]  # the demo's "=Формула Роста" is the exact text of a string cell in XLSX
        assert row[metric_label("leads", "ru")] == p["leads"]
        assert row[metric_label("revenue", "ru")] == pytest.approx(p["revenue"])
        roi = row[metric_label("roi", "ru")]
        assert (roi is None and pd.isna(p["roi"])) or roi == pytest.approx(p["roi"])


def test_xlsx_english_headers(data: view_data.ViewData) -> None:
    wb = load_workbook(io.BytesIO(exports.render(data, "xlsx", "en")))
    assert "Partners" in wb.sheetnames
    header = [c.value for c in wb["Partners"][1]]
    assert header[:3] == ["Partner", "Model", metric_label("leads", "en")] and "Revenue" in header


def test_csv_sections_and_numbers(data: view_data.ViewData, expected: dict[str, pd.DataFrame]) -> None:
    sections = csv_sections(exports.render(data, "csv", "ru"))
    # the header section (period, filters, freshness) first, then the five tables
    assert list(sections) == ["Эффективность партнёров", "Показатели", "Партнёры", "Модели", "Затраты", "По месяцам"]
    head, *rows = sections["Партнёры"]
    assert head[0] == "Партнёр" and "Выручка, ₽" in head and "Конверсия, %" in head
    by_name = {r[0]: r for r in rows}
    p = expected["partners"].dropna(subset=["partner_id"]).iloc[0]
    row = by_name[neutralise(p["partner"])]
    assert int(row[head.index("Лиды")]) == p["leads"]
    assert ru_number(row[head.index("Выручка, ₽")]) == pytest.approx(p["revenue"], abs=0.01)
    assert ru_number(row[head.index("Конверсия, %")]) == pytest.approx(p["conversion"] * 100, abs=0.01)


def test_csv_comma_variant(db: Path) -> None:
    with store.connect(db, read_only=True) as con:
        blob = exports.export_table(con, F, "monthly", "en", sep=",")
    rows = list(csv.reader(io.StringIO(blob.decode("utf-8-sig"))))
    assert rows[0][0] == "Month" and len(rows) == 1 + 6
    assert "." in rows[1][rows[0].index("Revenue, ₽")] or rows[1][rows[0].index("Revenue, ₽")].isdigit()


@pytest.mark.parametrize("table", view_tables.TABLES)
def test_every_table_exports(data: view_data.ViewData, table: str) -> None:
    blob = csvout.to_csv(view_tables.tables(data, "ru")[table])
    rows = list(csv.reader(io.StringIO(blob.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) >= 2 and all(len(r) == len(rows[0]) for r in rows)


def test_pdf_text_has_numbers_period_and_cyrillic(data: view_data.ViewData, expected: dict[str, pd.DataFrame]) -> None:
    text = pdf_text(exports.render(data, "pdf", "ru"))
    total = expected["total"].iloc[0]
    assert "Эффективность партнёров" in text and periods.period_text(F, "ru").replace("\u00a0", " ") in text
    assert fmt.money(total["revenue"], "ru").replace("\u00a0", " ") in text
    assert fmt.pct(total["roi"], "ru").replace("\u00a0", " ") in text
    assert "Демо-данные" in text and "Сформировано" in text
    for name in expected["partners"]["partner"].dropna():
        assert squeeze(name) in squeeze(text)


@pytest.fixture(scope="module")
def evil(tmp_path_factory: pytest.TempPathFactory) -> view_data.ViewData:
    with store.connect(evil_db(tmp_path_factory.getbasetemp()), read_only=True) as con:
        return view_data.collect(con, F)


def test_pdf_english_charts_and_literal_markup(evil: view_data.ViewData) -> None:
    blob = exports.render(evil, "pdf", "en")
    reader = PdfReader(io.BytesIO(blob))
    assert sum(len(p.images) for p in reader.pages) >= 3  # revenue vs costs, ROI by model, ROI by partner
    text = pdf_text(blob)
    assert "Partner performance" in text and "Revenue" in text and "Demo data" in text
    flat = squeeze(text)
    assert squeeze("**Жирный** <b>html</b>") in flat and '=HYPERLINK("http://evil.example","click")' in flat


def test_injection_neutralised_in_csv(evil: view_data.ViewData) -> None:
    rows = csv_sections(exports.render(evil, "csv", "ru"))["Партнёры"][1:]
    names = {r[0] for r in rows}
    for name in EVIL_NAMES[:5]:
        assert "'" + name in names and name not in names
    assert "**Жирный** <b>html</b>" in names
    profit_col = csv_sections(exports.render(evil, "csv", "ru"))["Партнёры"][0].index("Прибыль, ₽")
    assert any(r[profit_col].startswith("-") for r in rows)  # negative numbers are not touched


def test_injection_neutralised_in_xlsx(evil: view_data.ViewData) -> None:
    ws = load_workbook(io.BytesIO(exports.render(evil, "xlsx", "ru")))["Партнёры"]
    cells = {c.value: c for c in ws["A"][1:]}
    for name in EVIL_NAMES[:5]:
        cell = cells[name]  # the exact text as a string cell: no apostrophe, never a formula
        assert cell.data_type == "s"
    numbers = [c for c in ws["K"][1:] if isinstance(c.value, (int, float)) and c.value < 0]
    assert numbers and all(c.data_type == "n" for c in numbers)


def test_no_secret_in_exports(data: view_data.ViewData, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", "s3cret-in-env")
    blobs = [exports.render(data, fmt_, "ru") for fmt_ in ("csv", "xlsx")]
    assert all(b"s3cret-in-env" not in b for b in blobs)


def test_unknown_format_and_table(db: Path) -> None:
    with store.connect(db, read_only=True) as con, pytest.raises(ValueError, match="csv, xlsx or pdf"):
        exports.export_view(con, F, "doc", "ru")  # type: ignore[arg-type]
    with store.connect(db, read_only=True) as con, pytest.raises(ValueError, match="kpis"):
        exports.export_table(con, F, "secrets")


def test_exports_carry_the_screen_s_honesty(db: Path, tmp_path: Path) -> None:
    """Issues 19/20: the exported month table marks the unfinished and the maturing months (with the projection and its
    interval), and the partner table carries the conversion interval and the pooled estimate beside the raw one."""
    import shutil
    from datetime import timedelta

    from data_layer import userdata

    copy = tmp_path / "young.duckdb"
    shutil.copy(db, copy)
    with store.connect(copy) as con:  # a strict maturity threshold: the recent months of this small demo mature late
        userdata.set_setting(con, "maturity_threshold", 0.999)
    with store.connect(copy, read_only=True) as con:
        end = con.execute("select max(created_date) from lead_facts").fetchone()[0]
        recent = view_data.collect(con, Filters(end.replace(day=1) - timedelta(days=150), end))
    month = view_tables.tables(recent, "ru")["monthly"].frame
    assert month["status"].iloc[-1] == "текущий месяц не закончен"
    maturing = month[month["status"] == "созревает: сделки ещё закрываются"]
    assert len(maturing) >= 1 and (maturing["projected_revenue"] >= maturing["revenue"]).all()
    assert month.loc[month["status"] == "", "projected_revenue"].isna().all()
    assert (maturing["projected_revenue_low"] <= maturing["projected_revenue"]).all()  # with its 80 % interval
    assert (maturing["projected_revenue"] <= maturing["projected_revenue_high"]).all()
    assert "Прогноз выручки, от (80 %)" in pdf_text(exports.render(recent, "pdf", "ru"))
    partners = view_tables.tables(recent, "ru")["partners"].frame
    rows = partners[partners["conversion_pooled"].notna()]
    assert len(rows) > 3 and (rows["conversion_low"] <= rows["conversion"]).all()
    assert ((rows["conversion_pooled"] - rows["conversion"]).abs() > 1e-9).any()  # small partners are pulled in

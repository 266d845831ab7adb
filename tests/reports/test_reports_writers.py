"""Writers on plain tables: CSV (BOM, separators, decimal comma), XLSX formats, PDF text, injection safety."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from reports import csvout, safe, xlsx
from reports.pdf import ReportPDF
from reports.table import Table

EVIL = ["=HYPERLINK(\"http://x\",\"click\")", "+7 999", "-1+1", "@SUM(A1)", "\tTab", "\rCR", "  =1+1", "＝1"]


def sample(names: list[str] | None = None) -> Table:
    """A small partners table with Cyrillic names, money, percent and integer columns."""
    names = names or ["ООО «Ромашка»", "Альфа-Консалт"]
    frame = pd.DataFrame({
        "partner": names,
        "leads": [500 + i for i in range(len(names))],
        "revenue": [50000.5 + i for i in range(len(names))],
        "conversion": [0.205 for _ in names],
    })
    return Table("partners", "Партнёры", frame,
                 kinds={"partner": "text", "leads": "int", "revenue": "money", "conversion": "pct"},
                 labels={"partner": "Партнёр", "leads": "Лиды", "revenue": "Выручка", "conversion": "Конверсия"})


def read_csv(data: bytes, sep: str) -> list[list[str]]:
    """Rows of a CSV file written by csvout."""
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=sep))


@pytest.mark.parametrize("value", EVIL)
def test_neutralise_prefixes_formula_like_text(value: str) -> None:
    assert safe.neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["ООО Ромашка", "a=b", "", "1-2", "Tom@mail"])
def test_neutralise_leaves_plain_text(value: str) -> None:
    assert safe.neutralise(value) == value


def test_neutralise_leaves_numbers() -> None:
    assert safe.neutralise(-5) == -5 and safe.neutralise(-1.5) == -1.5 and safe.neutralise(None) is None


def test_csv_russian_excel_defaults() -> None:
    rows = read_csv(csvout.to_csv(sample()), ";")
    assert rows[0] == ["Партнёр", "Лиды", "Выручка, ₽", "Конверсия, %"]
    assert rows[1] == ["ООО «Ромашка»", "500", "50000,5", "20,5"]


def test_csv_comma_separator_uses_decimal_point() -> None:
    rows = read_csv(csvout.to_csv(sample(), sep=","), ",")
    assert rows[1] == ["ООО «Ромашка»", "500", "50000.5", "20.5"]


def test_csv_rejects_same_separator_and_decimal() -> None:
    with pytest.raises(ValueError, match="separator"):
        csvout.to_csv(sample(), sep=",", decimal=",")


def test_csv_neutralises_injection_only_in_text() -> None:
    table = sample(EVIL)
    table.frame["leads"] = -3  # a negative number stays a number
    rows = read_csv(csvout.to_csv(table), ";")
    assert [r[0] for r in rows[1:]] == ["'" + v for v in EVIL]
    assert {r[1] for r in rows[1:]} == {"-3"}


def test_csv_many_has_titles() -> None:
    text = csvout.to_csv_many([sample(), sample()]).decode("utf-8-sig")
    assert text.count("Партнёры\r\n") == 2 and text.count("\ufeff") == 0


def test_xlsx_formats_and_values() -> None:
    data = xlsx.workbook([sample()], title="Отчёт", info=[("Период", "1–30 июн. 2024")])
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Отчёт", "Партнёры"]
    ws = wb["Партнёры"]
    assert [c.value for c in ws[1]] == ["Партнёр", "Лиды", "Выручка", "Конверсия"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold
    assert ws["A2"].value == "ООО «Ромашка»" and ws["B2"].value == 500 and ws["C2"].value == 50000.5
    assert ws["D2"].value == pytest.approx(0.205) and ws["D2"].number_format == "0.0%"
    assert "₽" in ws["C2"].number_format and ws["B2"].number_format == "#,##0"
    assert ws.column_dimensions["A"].width >= len("ООО «Ромашка»")
    assert wb["Отчёт"]["B3"].value == "1–30 июн. 2024"


def test_xlsx_injection_is_text_never_formula() -> None:
    table = sample(EVIL)
    table.frame["revenue"] = -100.0
    wb = load_workbook(io.BytesIO(xlsx.workbook([table])))
    ws = wb.active
    cells = [ws.cell(row=r, column=1) for r in range(2, len(EVIL) + 2)]
    # a string cell never runs, so the text is exact (no CSV apostrophe); XML reads a bare CR back as LF
    assert [c.value for c in cells] == [v.replace("\r", "\n") for v in EVIL]
    assert all(c.data_type == "s" for c in cells)
    assert all(c.quotePrefix for c in cells)  # Excel keeps it text when someone edits the cell
    assert ws["C2"].value == -100 and ws["C2"].data_type == "n"


def test_xlsx_sheet_titles_valid_and_unique() -> None:
    used: set[str] = set()
    names = [xlsx.sheet_title("Затраты/категории: [март]*" * 3, used) for _ in range(3)]
    assert len(set(names)) == 3 and all(len(n) <= 31 and "/" not in n for n in names)


def test_pdf_cyrillic_and_markup_literal() -> None:
    doc = ReportPDF("Отчёт «Партнёры»", "ru")
    doc.heading("**жирный** <b>html</b> # заголовок")
    doc.table_rows(["Партнёр", "Выручка"], [["<i>ООО</i> __Ромашка__", "1\u00a0234\u00a0₽"]], align=["L", "R"])
    text = PdfReader(io.BytesIO(doc.render())).pages[0].extract_text()
    assert "**жирный** <b>html</b> # заголовок" in text
    assert "<i>ООО</i> __Ромашка__" in text
    assert "1 234 ₽" in text.replace("\u00a0", " ")


def test_pdf_embeds_bundled_font() -> None:
    reader = PdfReader(io.BytesIO(ReportPDF("Тест", "ru").render()))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    names = [str(f.get_object()["/BaseFont"]) for f in fonts.values()]
    assert any("DejaVu" in n for n in names)


def test_redact_hides_secrets() -> None:
    assert safe.redact("login failed for s3cr3t-pass", ["s3cr3t-pass"]) == "login failed for ***"


def test_known_secrets_reads_env_and_toml(tmp_path, monkeypatch) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[smtp]\npassword = "toml-secret"\nhost = "smtp.example.ru"\n', encoding="utf-8")
    monkeypatch.setenv("SMTP_PASSWORD", "env-secret")
    found = safe.known_secrets(secrets)
    assert "toml-secret" in found and "env-secret" in found and "smtp.example.ru" not in found

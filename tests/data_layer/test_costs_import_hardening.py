"""Issue 24 (items 3, 5a): a cost file can neither crash nor stall the import, nor be silently misread.

Non-finite and huge amounts, XLSX "bombs" (caps lowered through the settings to keep the tests fast),
long refusals, grouped amounts and the declared number format, implausible months, amounts far outside the
account's history (confirmation first), and the one formula guard of the ledger export.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from support.accounts import Account
from support.costs_io import cli, xlsx_bytes
from support.template import copy_template

from data_layer import costs_io, costs_limits, costs_read, plausibility, store, userdata

HEADER = "partner,month,category,amount\n"
MONTH = "2025-03"


@pytest.fixture
def db(tmp_db: Path) -> Path:
    """Partners Альфа (alias alpha) and Бета, an empty ledger, no leads."""
    with store.connect(tmp_db) as con:
        userdata.add_partner(con, "Альфа", aliases=["alpha"])
        userdata.add_partner(con, "Бета")
    return tmp_db


def do_import(path: Path, data: bytes, name: str = "costs.csv", **kwargs: object) -> costs_io.ImportResult:
    with store.connect(path) as con:
        return costs_io.import_file(con, data, name, **kwargs)


def refusal(path: Path, data: bytes, name: str = "costs.csv", **kwargs: object) -> costs_io.CostsFileError:
    with pytest.raises(costs_io.CostsFileError) as err:
        do_import(path, data, name, **kwargs)
    return err.value


def codes(err: userdata.UserDataError) -> list[tuple[str, int | None]]:
    return [(p.code, p.line) for p in err.problems]


def ledger_rows(path: Path) -> int:
    with store.connect(path, read_only=True) as con:
        return con.execute("select count(*) from cost_ledger").fetchone()[0]


def amounts(path: Path) -> list[float]:
    with store.connect(path, read_only=True) as con:
        return [r[0] for r in con.execute("select amount::double from cost_ledger order by all").fetchall()]


def set_settings(path: Path, **values: object) -> None:
    with store.connect(path) as con:
        for key, value in values.items():
            userdata.set_setting(con, key, value)


def patch_sheet(data: bytes, old: bytes, new: bytes) -> bytes:
    """The XLSX with one piece of the first sheet's XML replaced (values openpyxl itself never writes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert old in body
                body = body.replace(old, new)
            dst.writestr(info, body)
    return out.getvalue()


PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
    'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
    '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="costs" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.'
    'org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
}


def bomb_xlsx(rows: int, path: Path | None = None) -> bytes:
    """A small compressed XLSX with `rows` identical bad data rows, its sheet XML streamed into the zip."""
    def cell(ref: str, text: str) -> str:
        return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'

    header = "".join(cell(f"{c}1", h) for c, h in zip("ABCD", ("partner", "month", "category", "amount"),
                                                        strict=True))
    target = path or io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, body in PARTS.items():
            archive.writestr(name, body)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.'
                        b'org/spreadsheetml/2006/main"><sheetData>' + f'<row r="1">{header}</row>'.encode())
            chunk = []
            for n in range(2, rows + 2):
                chunk.append(f'<row r="{n}">{cell(f"A{n}", "alpha")}{cell(f"B{n}", "1900-01")}'
                             f'{cell(f"C{n}", "bonus")}{cell(f"D{n}", "x")}</row>')
                if len(chunk) == 10_000:
                    sheet.write("".join(chunk).encode())
                    chunk = []
            sheet.write("".join(chunk).encode() + b"</sheetData></worksheet>")
    return b"" if path else target.getvalue()


# ---------------------------------------------------------------- non-finite and huge amounts

def test_xlsx_amount_1e308_is_refused_with_its_line(db: Path) -> None:
    data = xlsx_bytes([["partner", "month", "category", "amount"], ["alpha", MONTH, "bonus", 1e308],
                       ["Бета", MONTH, "bonus", 10]])
    err = refusal(db, data, "costs.xlsx")  # was an OverflowError traceback
    assert codes(err) == [("amount.too_big", 2)]
    assert "строка 2" in err.text("ru") and "1e+308" in err.text("ru")
    assert ledger_rows(db) == 0


def test_every_non_finite_or_huge_amount_is_refused_with_its_line(db: Path) -> None:
    """Number cells openpyxl itself never writes (1e309 reads as inf) and text cells, in one file."""
    texts = ["1e308", "1e99999", "inf", "nan", "-Infinity", "1e-9"]
    rows = [["partner", "month", "category", "amount"]]
    rows += [["alpha", f"2025-{m:02d}", "bonus", 11111.25 + m] for m in (1, 2, 3)]
    rows += [["Бета", f"2025-{m:02d}", "bonus", text] for m, text in enumerate(texts, start=1)]
    data = xlsx_bytes(rows)
    for m, xml in ((1, b"1e309"), (2, b"-1e309"), (3, b"1E+300")):
        data = patch_sheet(data, f"<v>{11111.25 + m}</v>".encode(), b"<v>" + xml + b"</v>")
    err = refusal(db, data, "costs.xlsx")
    assert codes(err) == [("amount.not_finite", 2), ("amount.not_finite", 3), ("amount.too_big", 4),
                          ("amount.too_big", 5), ("amount.too_big", 6), ("amount.not_finite", 7),
                          ("amount.not_finite", 8), ("amount.not_finite", 9), ("amount.decimals", 10)]
    text = err.text("ru")
    assert all(t in text for t in texts) and "Traceback" not in text
    assert ledger_rows(db) == 0


def test_xlsx_nan_cell_openpyxl_cannot_cast_is_a_sentence_not_a_traceback(db: Path) -> None:
    data = patch_sheet(xlsx_bytes([["partner", "month", "category", "amount"], ["alpha", MONTH, "bonus", 12345.5]]),
                       b"<v>12345.5</v>", b"<v>NaN</v>")
    err = refusal(db, data, "costs.xlsx")
    assert codes(err) == [("file.xlsx_row", None)]
    assert "после строки 1" in err.text("ru") and "{" not in err.text("en")


# ---------------------------------------------------------------- caps: size and rows, while streaming

def test_xlsx_row_cap_refuses_while_streaming(db: Path) -> None:
    set_settings(db, costs_import_max_rows=1000)
    err = refusal(db, bomb_xlsx(5000), "costs.xlsx")
    assert codes(err) == [("file.too_many_rows", None)]
    assert "больше 1\u00a0000 строк" in err.text("ru") and "costs_import_max_rows" in err.text("ru")


def test_xlsx_sheet_is_not_parsed_whole_on_open(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """openpyxl sizes a read-only sheet on open and, with no <dimension>, parses all of it to do so."""
    from openpyxl.worksheet import _read_only

    def sizing_scan(self: object) -> None:
        raise AssertionError("the whole sheet was parsed before its first row")

    monkeypatch.setattr(_read_only.ReadOnlyWorksheet, "_get_size", sizing_scan)
    set_settings(db, costs_import_max_rows=10)
    assert codes(refusal(db, bomb_xlsx(50), "costs.xlsx")) == [("file.too_many_rows", None)]
    do_import(db, xlsx_bytes([["partner", "month", "category", "amount"], ["alpha", MONTH, "bonus", 5]]),
              "costs.xlsx")
    assert amounts(db) == [5.0]


def test_csv_row_cap(db: Path) -> None:
    set_settings(db, costs_import_max_rows=10)
    rows = "".join(f"alpha,2025-{m:02d},bonus,1\n" for m in range(1, 13))
    assert codes(refusal(db, (HEADER + rows).encode())) == [("file.too_many_rows", None)]
    set_settings(db, costs_import_max_rows=12)
    assert do_import(db, (HEADER + rows).encode()).rows == 12


def test_unpacked_size_cap_triggers_before_any_row_is_read(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = bomb_xlsx(3000)
    assert len(data) < 64 * 1024  # small compressed ...
    set_settings(db, costs_import_max_mb=0.1)  # ... but far more than 100 KB unpacked

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("the workbook was opened although its unpacked size is over the cap")

    monkeypatch.setattr(openpyxl, "load_workbook", no_parsing)
    err = refusal(db, data, "costs.xlsx")
    assert codes(err) == [("file.unpacked_too_big", None)]
    assert "costs_import_max_mb" in err.text("ru")


def test_csv_larger_than_the_uncompressed_cap_is_refused(db: Path) -> None:
    set_settings(db, costs_import_max_mb=0.01)
    rows = "".join(f"alpha,2025-{1 + n % 12:02d},bonus,{n}\n" for n in range(2000))
    assert codes(refusal(db, (HEADER + rows).encode())) == [("file.too_big", None)]


def test_bad_settings_fall_back_to_defaults(db: Path) -> None:
    set_settings(db, costs_import_max_rows="много", costs_import_max_mb=-3, costs_years_after_today=None)
    with store.connect(db, read_only=True) as con:
        assert costs_limits.load_limits(con) == costs_limits.ImportLimits()


# ---------------------------------------------------------------- long refusals

def test_refusal_with_3000_bad_lines_lists_20_and_counts_the_rest(db: Path) -> None:
    rows = "".join(f"Партнёр {n},2025-01,bonus,x{n}\n" for n in range(3000))
    err = refusal(db, (HEADER + rows).encode(), create_partners=True)
    assert len(err.problems) == 3000  # every problem is kept for callers ...
    ru = err.text("ru").splitlines()
    assert ru[0].startswith("Найдено ошибок: 3000")
    assert len(ru) == 1 + 20 + 1 and ru[1].startswith("строка 2:") and ru[20].startswith("строка 21:")
    assert ru[-1] == "…и ещё 2\u00a0980 строк."  # ... but only 20 are spelled out
    assert err.lines("en")[-1] == "… and 2\u00a0980 more lines."


def test_3000_repeats_of_one_row_stay_one_short_sentence(db: Path) -> None:
    err = refusal(db, (HEADER + "alpha,2025-01,bonus,1\n" * 3000).encode())
    assert codes(err) == [("import.duplicate", 2)]
    assert "(строки 2, 3, 4," in err.text("ru") and ", 21, … 3001)" in err.text("ru")
    assert len(err.text("ru")) < 300


def test_short_list_counts_lines_not_problems(db: Path) -> None:
    rows = "".join(f"Гамма{n},2025-01,bonus,-1\n" for n in range(22))  # two problems on each line
    lines = refusal(db, (HEADER + rows).encode()).lines("ru")
    assert len(lines) == 2 * 20 + 1 and lines[-1] == "…и ещё 2 строки."


# ---------------------------------------------------------------- grouped amounts and the number format

@pytest.mark.parametrize("text", ["12,500", "1.000", "1.000.000", "999,999"])
def test_grouped_amounts_are_ambiguous_unless_declared(db: Path, text: str) -> None:
    err = refusal(db, f'partner;month;category;amount\nalpha;{MONTH};bonus;"{text}"\n'.encode())
    assert codes(err) == [("amount.grouping", 2)]
    assert "укажите формат чисел" in err.text("ru")


@pytest.mark.parametrize(("fmt", "expected"), [("comma", [12.5, 1000.0, 1234567.5]),
                                               ("point", [1.0, 12500.0, 1234567.5])])
def test_declared_number_format_reads_grouped_amounts(db: Path, fmt: str, expected: list[float]) -> None:
    third = "1.234.567,50" if fmt == "comma" else "1,234,567.50"
    data = (f'partner;month;category;amount\nalpha;{MONTH};bonus;"12,500"\nБета;{MONTH};bonus;1.000\n'
            f'alpha;2025-04;bonus;"{third}"\n').encode()
    do_import(db, data, number_format=fmt)
    assert sorted(amounts(db)) == sorted(expected)


def test_declared_format_refuses_the_other_convention(db: Path) -> None:
    err = refusal(db, f"partner;month;category;amount\nalpha;{MONTH};bonus;12.5\n".encode(), number_format="comma")
    assert codes(err) == [("amount.format", 2)]
    assert "1.234,50" in err.text("ru")


def test_spaces_group_thousands_and_exponents_read_exactly(db: Path) -> None:
    data = (f"partner;month;category;amount\nalpha;{MONTH};bonus;1 234 567,50\n"
            f"Бета;{MONTH};bonus;12\u00a0500\nБета;2025-04;bonus;1\u2009000\u202f000\n"
            f"alpha;2025-04;bonus;1e5\nalpha;2025-05;bonus;1,5e3\n").encode()
    do_import(db, data)
    assert amounts(db) == [1500.0, 12500.0, 100000.0, 1000000.0, 1234567.5]
    err = refusal(db, f"partner;month;category;amount\nalpha;{MONTH};bonus;12 34\n".encode())
    assert codes(err) == [("amount.groups", 2)]  # was read as 1234
    err = refusal(db, f"partner;month;category;amount\nalpha;{MONTH};bonus;1.000e3\n".encode())
    assert codes(err) == [("amount.grouping", 2)]  # an exponent never hides an ambiguous mantissa


def test_cli_decimal_flag(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "costs.csv"
    path.write_bytes(f'partner,month,category,amount\nalpha,{MONTH},bonus,"12,500"\n'.encode())
    assert cli("import", str(path), "--db", str(db), "--lang", "ru") == 1
    assert "неоднозначна" in capsys.readouterr().err
    assert cli("import", str(path), "--db", str(db), "--decimal", "point") == 0
    assert amounts(db) == [12500.0]
    assert cli("import", str(path), "--db", str(db), "--decimal", "comma") == 0  # the same row, replaced
    assert amounts(db) == [12.5]


# ---------------------------------------------------------------- the month window

@pytest.mark.parametrize("month", ["1900-01", "2100-01", "4677-01", "9999-12"])
def test_implausible_months_are_refused(db: Path, month: str) -> None:
    err = refusal(db, (HEADER + f"alpha,{MONTH},bonus,1\nБета,{month},bonus,1\n").encode())
    assert codes(err) == [("month.window", 3)]
    assert month in err.text("ru") and "проверьте год" in err.text("ru")


def test_xlsx_date_cells_are_checked_too(db: Path) -> None:
    data = xlsx_bytes([["partner", "month", "category", "amount"], ["alpha", date(1901, 5, 3), "bonus", 1]])
    assert codes(refusal(db, data, "costs.xlsx")) == [("month.window", 2)]


def test_window_follows_the_first_lead_and_the_settings(tmp_db: Path) -> None:
    acc = Account()
    acc.partner("Альфа", "referral")
    acc.lead("2015-06-10", partner="Альфа")
    acc.build(tmp_db)
    today = date.today()
    with store.connect(tmp_db, read_only=True) as con:
        first, last = costs_limits.month_window(con, costs_limits.load_limits(con))
    assert first == date(2010, 6, 1) and last == date(today.year + 2, today.month, 1)
    do_import(tmp_db, (HEADER + "Альфа,2010-06,bonus,1\n").encode(), confirmed=True)  # 5 years early: asked
    assert codes(refusal(tmp_db, (HEADER + "Альфа,2010-05,bonus,1\n").encode())) == [("month.window", 2)]
    set_settings(tmp_db, costs_years_before_first_lead=10, costs_years_after_today=80)
    do_import(tmp_db, (HEADER + "Альфа,2005-06,bonus,1\nАльфа,2100-01,bonus,1\n").encode(), confirmed=True)


# ---------------------------------------------------------------- amounts far outside the account's history

def seed_history(path: Path) -> None:
    """A ledger of 1 000 a month over a year: largest month 1 000, a year 12 000."""
    rows = "".join(f"alpha,2024-{m:02d},marketing,1000\n" for m in range(1, 13))
    do_import(path, (HEADER + rows).encode())


def test_far_outside_amount_needs_confirmation_and_nothing_is_written_without_it(db: Path) -> None:
    seed_history(db)
    before = ledger_rows(db)
    data = (HEADER + f"alpha,{MONTH},bonus,500\nБета,{MONTH},bonus,120000000\n").encode()
    with pytest.raises(costs_limits.ConfirmationNeeded) as err:
        do_import(db, data)
    assert ledger_rows(db) == before
    assert codes(err.value) == [("amount.implausible", 3)]
    ru = err.value.text("ru")
    assert "это в 10\u00a0000 раз больше всех затрат за последний год журнала (12\u00a0000\u00a0₽)" in ru
    assert "в 120\u00a0000 раз больше самого затратного месяца (1\u00a0000\u00a0₽)" in ru
    assert "Ничего не записано" in ru and "{" not in err.value.text("en")
    with store.connect(db, read_only=True) as con:  # the preview says it without raising
        parsed = costs_io.parse_costs(con, data, "costs.csv")
    assert [(p.code, p.line) for p in parsed.warnings] == [("amount.implausible", 3)]
    do_import(db, data, confirmed=True)
    assert ledger_rows(db) == before + 2
    do_import(db, (HEADER + "alpha,2025-05,bonus,12000000000\n").encode())  # 100 x the new largest month: fine


def test_empty_ledger_uses_an_absolute_threshold(db: Path) -> None:
    with pytest.raises(costs_limits.ConfirmationNeeded) as err:
        do_import(db, (HEADER + f"alpha,{MONTH},bonus,200000000\n").encode())
    assert codes(err.value) == [("amount.implausible_empty", 2)]
    assert ledger_rows(db) == 0
    do_import(db, (HEADER + f"alpha,{MONTH},bonus,90000000\n").encode())


def test_rule_is_one_reusable_function(db: Path) -> None:
    seed_history(db)
    rows = pd.DataFrame({"amount": [5.0, 100_001.0], "line": [None, 7]})
    with store.connect(db, read_only=True) as con:
        found = plausibility.implausible_amounts(con, rows)
    assert [(p.code, p.line) for p in found] == [("amount.implausible", 7)]
    assert "в 100 раз больше самого затратного месяца" in found[0].text("ru")


def test_cli_confirm_large(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    seed_history(db)
    before = ledger_rows(db)
    path = tmp_path / "costs.csv"
    path.write_bytes((HEADER + f"alpha,{MONTH},bonus,50000000\n").encode())
    assert cli("import", str(path), "--db", str(db), "--lang", "ru") == 3
    err = capsys.readouterr().err
    assert "строка 2:" in err and "--confirm-large" in err
    assert ledger_rows(db) == before
    assert cli("import", str(path), "--db", str(db), "--confirm-large") == 0
    assert ledger_rows(db) == before + 1


# ---------------------------------------------------------------- one formula guard in the ledger export

FULL_WIDTH = ["\uff1dHYPERLINK(\"http://x\")", "\uff0b7 Партнёр", "\uff0dминус", "\uff20home"]


def seed_names(path: Path, names: list[str]) -> None:
    with store.connect(path) as con:
        for n, name in enumerate(names, start=1):
            userdata.add_partner(con, name)
            userdata.upsert_ledger(con, pd.DataFrame([{"partner": name, "month": f"2025-{n:02d}",
                                                       "category": "other", "amount": n, "note": name}]))


@pytest.mark.parametrize("excel", [False, True])
def test_full_width_formulas_are_neutralised_in_the_ledger_csv(db: Path, tmp_path: Path, excel: bool,
                                                                template_db: Path) -> None:
    seed_names(db, FULL_WIDTH)
    with store.connect(db, read_only=True) as con:
        text = costs_io.export_csv(con, excel=excel).decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(text), delimiter=";" if excel else ",") for c in row]
    for name in FULL_WIDTH:
        assert cells.count("'" + name) == 2  # partner and note
        assert name not in cells
    fresh = tmp_path / "fresh.duckdb"
    copy_template(template_db, fresh)
    do_import(fresh, text.encode(), create_partners=True)  # the importer drops the quote again
    with store.connect(fresh, read_only=True) as con:
        assert sorted(userdata.list_partners(con)["name"]) == sorted(FULL_WIDTH)


def test_ledger_xlsx_has_exact_text_cells_without_apostrophe(db: Path) -> None:
    seed_names(db, ["=Формула Роста", "\uff1dHYPERLINK(\"http://x\")"])
    with store.connect(db, read_only=True) as con:
        sheet = openpyxl.load_workbook(io.BytesIO(costs_io.export_xlsx(con))).worksheets[0]
    cells = {c.value: c for c in sheet["A"][1:]}
    assert set(cells) == {"=Формула Роста", "\uff1dHYPERLINK(\"http://x\")"}
    assert all(c.data_type == "s" for c in cells.values())
    notes = {c.value: c for c in sheet["E"][1:]}
    assert notes["=Формула Роста"].data_type == "s"


def test_reports_and_ledger_share_the_guard() -> None:
    from data_layer import textguard
    from reports import safe

    assert safe.neutralise is textguard.neutralise is costs_io.neutralise
    assert costs_read.CostsFileError is costs_io.CostsFileError

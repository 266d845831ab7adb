"""Cost ledger import / export: every bad input listed by line, all or nothing, idempotent, round trip."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.costs_io import cli, xlsx_bytes
from support.template import copy_template

from data_layer import costs_io, store, userdata

HEADER = "partner,month,category,amount\n"


@pytest.fixture
def db(tmp_db: Path) -> Path:
    """A database with partners Альфа (alias alpha) and Бета."""
    with store.connect(tmp_db) as con:
        userdata.add_partner(con, "Альфа", model="referral", aliases=["alpha"])
        userdata.add_partner(con, "Бёта", model="sales")
    return tmp_db


def ledger(path: Path) -> list[tuple]:
    """The whole ledger as (partner, YYYY-MM, category, amount) sorted."""
    with store.connect(path) as con:
        df = userdata.read_ledger(con)
    return sorted((r.partner, r.month.strftime("%Y-%m"), r.category, r.amount) for r in df.itertuples())


def snapshot(path: Path) -> tuple:
    """Everything an import may touch."""
    with store.connect(path) as con:
        return (con.execute("select * from cost_ledger order by all").fetchall(),
                con.execute("select partner_id, name from partners order by all").fetchall())


def do_import(path: Path, data: bytes, name: str = "costs.csv", create: bool = False,
              add: bool = False) -> costs_io.ImportResult:
    with store.connect(path) as con:
        return costs_io.import_file(con, data, name, create, add)


# ---------------------------------------------------------------- bad input: every case, every line

BAD = [
    ("empty file", b"", "costs.csv", [("file.empty", None)]),
    ("only a BOM and blank lines", b"\xef\xbb\xbf\n\n", "costs.csv", [("file.empty", None)]),
    ("header only", HEADER.encode(), "costs.csv", [("file.no_rows", 1)]),
    ("missing column", b"partner,month,category\nalpha,2024-01,bonus\n", "costs.csv", [("header.missing", 1)]),
    ("unknown column", (HEADER.strip() + ",vat\nalpha,2024-01,bonus,1,2\n").encode(), "costs.csv",
     [("header.unknown", 1)]),
    ("repeated column", b"partner,month,category,amount,amount\nalpha,2024-01,bonus,1,1\n", "costs.csv",
     [("header.duplicate", 1)]),
    ("unknown partner", (HEADER + "Гамма,2024-01,bonus,10\n").encode(), "costs.csv",
     [("import.partner_unknown", 2)]),
    ("empty partner", (HEADER + ",2024-01,bonus,10\n").encode(), "costs.csv", [("partner.name_empty", 2)]),
    ("month 13", (HEADER + "alpha,2024-13,bonus,10\n").encode(), "costs.csv", [("month.bad", 2)]),
    ("month as dd.mm", (HEADER + "alpha,01.2024,bonus,10\n").encode(), "costs.csv", [("month.bad", 2)]),
    ("month as text", (HEADER + "alpha,январь,bonus,10\n").encode(), "costs.csv", [("month.bad", 2)]),
    ("month missing", (HEADER + "alpha,,bonus,10\n").encode(), "costs.csv", [("month.empty", 2)]),
    ("amount text", (HEADER + "alpha,2024-01,bonus,десять\n").encode(), "costs.csv", [("amount.not_number", 2)]),
    ("amount negative", (HEADER + "alpha,2024-01,bonus,-5\n").encode(), "costs.csv", [("amount.negative", 2)]),
    ("amount NaN", (HEADER + "alpha,2024-01,bonus,NaN\n").encode(), "costs.csv", [("amount.not_finite", 2)]),
    ("amount inf", (HEADER + "alpha,2024-01,bonus,inf\n").encode(), "costs.csv", [("amount.not_finite", 2)]),
    ("amount -infinity", (HEADER + "alpha,2024-01,bonus,-Infinity\n").encode(), "costs.csv",
     [("amount.not_finite", 2)]),
    ("amount missing", (HEADER + "alpha,2024-01,bonus,\n").encode(), "costs.csv", [("amount.empty", 2)]),
    ("amount three decimals", (HEADER + "alpha,2024-01,bonus,1234.567\n").encode(), "costs.csv",
     [("amount.decimals", 2)]),
    ("amount maybe grouped", (HEADER + "alpha,2024-01,bonus,1.234\n").encode(), "costs.csv",
     [("amount.grouping", 2)]),
    ("amount dot and comma", b"partner;month;category;amount\nalpha;2024-01;bonus;1.234,50\n", "costs.csv",
     [("amount.ambiguous", 2)]),
    ("amount huge", (HEADER + "alpha,2024-01,bonus,1e20\n").encode(), "costs.csv", [("amount.too_big", 2)]),
    ("unknown category", (HEADER + "alpha,2024-01,рекламa,10\n").encode(), "costs.csv",
     [("category.unknown", 2)]),
    ("duplicate rows", (HEADER + "alpha,2024-01,bonus,10\nalpha,2024-01,bonus,20\n").encode(), "costs.csv",
     [("import.duplicate", 2)]),
    ("duplicate through alias, case and Russian label",
     (HEADER + "АЛЬФА,2024-01,bonus,10\nalpha,2024-01,Бонус,20\n").encode(), "costs.csv",
     [("import.duplicate", 2)]),
    ("extra values", (HEADER + "alpha,2024-01,bonus,1,5\n").encode(), "costs.csv", [("row.extra", 2)]),
    ("windows-1251", (HEADER + "Альфа,2024-01,bonus,10\n").encode("cp1251"), "costs.csv",
     [("file.encoding", 2)]),
    ("utf-16", (HEADER + "alpha,2024-01,bonus,10\n").encode("utf-16"), "costs.csv", [("file.utf16", 1)]),
    ("xlsx named .csv", xlsx_bytes([["partner", "month", "category", "amount"]]), "costs.csv",
     [("file.binary", 1)]),
    ("wrong extension", (HEADER + "alpha,2024-01,bonus,10\n").encode(), "costs.txt", [("file.type", None)]),
    ("broken xlsx", b"PK\x03\x04 not really a zip", "costs.xlsx", [("file.xlsx", None)]),
    ("xlsx negative amount", xlsx_bytes([["partner", "month", "category", "amount"],
                                         ["alpha", "2024-01", "bonus", -3]]), "costs.xlsx",
     [("amount.negative", 2)]),
    ("xlsx nan amount", xlsx_bytes([["partner", "month", "category", "amount"],
                                    ["alpha", "2024-01", "bonus", "nan"]]), "costs.xlsx",
     [("amount.not_finite", 2)]),
]


@pytest.mark.parametrize(("data", "name", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_rejected_with_its_line_and_nothing_is_written(db: Path, data: bytes, name: str,
                                                                    expected: list) -> None:
    before = snapshot(db)
    with pytest.raises(costs_io.CostsFileError) as err:
        do_import(db, data, name, create=False)
    found = [(p.code, p.line) for p in err.value.problems]
    assert found == expected
    for lang in ("ru", "en"):
        text = err.value.text(lang)
        assert text and "{" not in text
    assert snapshot(db) == before


def test_every_bad_row_is_listed_and_good_rows_are_not_written(db: Path) -> None:
    data = (HEADER + "alpha,2024-01,bonus,10\n"      # 2 good
            "alpha,2024-13,bonus,10\n"               # 3 month
            "Бета,2024-02,marketing,5\n"             # 4 good (ё = е)
            "Гамма,2024-02,support,-1\n"             # 5 partner + amount
            "\n"                                     # 6 blank: skipped
            "alpha,2024-03,прочее,abc\n").encode()   # 7 amount
    before = snapshot(db)
    with pytest.raises(costs_io.CostsFileError) as err:
        do_import(db, data, create=False)
    assert [(p.code, p.line) for p in err.value.problems] == [
        ("month.bad", 3), ("import.partner_unknown", 5), ("amount.negative", 5), ("amount.not_number", 7)]
    assert err.value.text("ru").splitlines()[0].startswith("Найдено ошибок: 4")
    assert snapshot(db) == before


def test_create_partners_is_all_or_nothing_too(db: Path) -> None:
    data = (HEADER + "Гамма,2024-01,bonus,10\nДельта,2024-01,bonus,-1\n").encode()
    before = snapshot(db)
    with pytest.raises(costs_io.CostsFileError):
        do_import(db, data, create=True)
    assert snapshot(db) == before


def test_failure_inside_the_write_rolls_back(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure after partners were created (e.g. the disk) leaves the database as it was."""
    def boom(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(costs_io, "insert_ledger", boom)
    before = snapshot(db)
    with pytest.raises(RuntimeError):
        do_import(db, (HEADER + "Гамма,2024-01,bonus,10\n").encode(), create=True)
    assert snapshot(db) == before


# ---------------------------------------------------------------- good input variants

def test_bom_semicolon_decimal_comma_nbsp_and_russian_labels(db: Path) -> None:
    data = ("\ufeffпартнёр;месяц;категория;сумма\n"
            "альфа;2024-01;Маркетинг;1\u00a0234,50\n"
            "БЕТА;2024-01;комиссия;12 000\n"
            "alpha;2024-02;обучение;\"7 000,5\"\n"
            "Бёта;2024-02;поддержка;1\u202f000\n"
            "Бета;2024-03;прочее;0\n").encode()
    result = do_import(db, data)
    assert result.rows == 5
    assert ledger(db) == [
        ("Альфа", "2024-01", "marketing", 1234.5), ("Альфа", "2024-02", "training", 7000.5),
        ("Бёта", "2024-01", "commission", 12000.0), ("Бёта", "2024-02", "support", 1000.0),
        ("Бёта", "2024-03", "other", 0.0)]


def test_comma_csv_with_quoted_decimal_comma_and_crlf(db: Path) -> None:
    data = b'partner,month,category,amount\r\nalpha,2024-01,bonus,"1 500,25"\r\nalpha,2024-02,bonus,99.9\r\n'
    do_import(db, data)
    assert ledger(db) == [("Альфа", "2024-01", "bonus", 1500.25), ("Альфа", "2024-02", "bonus", 99.9)]


def test_reimport_replaces_and_add_adds(db: Path) -> None:
    data = (HEADER + "alpha,2024-01,bonus,100\nБета,2024-01,marketing,50\n").encode()
    do_import(db, data)
    do_import(db, data)
    assert ledger(db) == [("Альфа", "2024-01", "bonus", 100.0), ("Бёта", "2024-01", "marketing", 50.0)]
    do_import(db, data, add=True)
    assert ledger(db) == [("Альфа", "2024-01", "bonus", 200.0), ("Бёта", "2024-01", "marketing", 100.0)]


def test_reimport_keeps_rows_not_in_the_file(db: Path) -> None:
    do_import(db, (HEADER + "alpha,2024-01,bonus,100\n").encode())
    do_import(db, (HEADER + "alpha,2024-02,bonus,7\n").encode())
    assert ledger(db) == [("Альфа", "2024-01", "bonus", 100.0), ("Альфа", "2024-02", "bonus", 7.0)]


def test_create_partners_creates_each_new_name_once(db: Path) -> None:
    data = (HEADER + "Гамма,2024-01,bonus,10\nгамма,2024-02,bonus,20\nalpha,2024-01,bonus,1\n").encode()
    result = do_import(db, data, create=True)
    assert result.created_partners == ("Гамма",)
    with store.connect(db) as con:
        partners = userdata.list_partners(con)
    assert sorted(partners["name"]) == ["Альфа", "Бёта", "Гамма"]
    assert ledger(db) == [("Альфа", "2024-01", "bonus", 1.0), ("Гамма", "2024-01", "bonus", 10.0),
                          ("Гамма", "2024-02", "bonus", 20.0)]


def test_xlsx_import_with_date_cells_numbers_and_russian_header(db: Path) -> None:
    data = xlsx_bytes([
        ["Партнёр", "Месяц", "Категория", "Сумма", "Комментарий"],
        ["alpha", datetime(2024, 1, 1), "бонус", 1500],
        [None, None, None, None],
        ["Бета", "2024-02", "marketing", 0.1 + 0.2, "акция"],
        ["Бета", date(2024, 3, 15), "support", "2 000,5"],
    ])
    result = do_import(db, data, "costs.xlsx")
    assert result.rows == 3
    assert ledger(db) == [("Альфа", "2024-01", "bonus", 1500.0), ("Бёта", "2024-02", "marketing", 0.3),
                          ("Бёта", "2024-03", "support", 2000.5)]


def test_preview_parse_writes_nothing(db: Path) -> None:
    with store.connect(db) as con:
        parsed = costs_io.parse_costs(con, (HEADER + "Гамма,2024-01,bonus,10\n").encode(), "a.csv", True)
    assert parsed.new_partners == ["Гамма"] and parsed.total == 10.0
    assert parsed.rows["line"].tolist() == [2]
    assert snapshot(db)[1] == [(1, "Альфа"), (2, "Бёта")]


@settings(max_examples=60, deadline=None)
@given(cents=st.integers(min_value=0, max_value=10**13), sep=st.sampled_from([" ", "\u00a0", "\u202f", ""]),
       comma=st.booleans())
def test_amount_text_formats_parse_exactly(cents: int, sep: str, comma: bool) -> None:
    value = Decimal(cents) / 100
    whole, frac = f"{value:.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    text = sep.join(groups) + ("," if comma else ".") + frac
    assert userdata.to_amount(text, decimals=2) == float(value)


# ---------------------------------------------------------------- export and round trip

def seed_ledger(path: Path) -> None:
    """Partners whose names would run as formulas in a spreadsheet, plus ordinary ones."""
    with store.connect(path) as con:
        for name in ("=HYPERLINK(\"http://x\")", "+7 Партнёр", "-минус", "@home"):
            userdata.add_partner(con, name)
    rows = [("alpha", "2024-01", "bonus", "1234.5"), ("Бета", "2024-02", "marketing", "0.01"),
            ("'=HYPERLINK(\"http://x\")", "2024-01", "other", "10"), ("'+7 Партнёр", "2024-01", "other", "20"),
            ("'-минус", "2024-03", "training", "30"), ("'@home", "2024-04", "support", "1000000")]
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";")
    writer.writerow(["partner", "month", "category", "amount"])
    writer.writerows(rows)
    do_import(path, buf.getvalue().encode())


@pytest.mark.parametrize(("name", "excel"), [("out.csv", False), ("out.csv", True), ("out.xlsx", False)])
def test_export_round_trip(db: Path, tmp_path: Path, name: str, excel: bool, template_db: Path) -> None:
    seed_ledger(db)
    with store.connect(db, read_only=True) as con:
        data = costs_io.export_bytes(con, name, excel)
    fresh = tmp_path / "fresh.duckdb"
    copy_template(template_db, fresh)
    do_import(fresh, data, name, create=True)
    assert ledger(fresh) == ledger(db)


def test_export_neutralises_formulas(db: Path) -> None:
    seed_ledger(db)
    with store.connect(db, read_only=True) as con:
        plain = costs_io.export_csv(con).decode("utf-8")
        excel = costs_io.export_csv(con, excel=True)
        book = openpyxl.load_workbook(io.BytesIO(costs_io.export_xlsx(con)))
    names = [line.split(",")[0] for line in plain.splitlines()[1:]]
    for cell in names:
        assert not cell.lstrip('"').startswith(("=", "+", "-", "@"))
    assert "'=HYPERLINK" in plain and "'+7 Партнёр" in plain and "'-минус" in plain and "'@home" in plain
    assert excel.startswith(b"\xef\xbb\xbf") and b";" in excel.splitlines()[0]
    assert "1234,50" in excel.decode("utf-8-sig") and "1234.50" in plain
    sheet = book.worksheets[0]
    partner_cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "s" for c in partner_cells)  # a string cell never runs: the exact name, no quote
    assert "=HYPERLINK(\"http://x\")" in {c.value for c in partner_cells}
    assert not any(str(c.value).startswith("'") for c in partner_cells)


# ---------------------------------------------------------------- CLI

def test_cli_import_ok_and_bump_version(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "costs.csv"
    path.write_bytes((HEADER + "alpha,2024-01,bonus,10\n").encode())
    stamp = store.data_version(db)
    assert cli("import", str(path), "--db", str(db)) == 0
    assert "1" in capsys.readouterr().out
    assert store.data_version(db) != stamp
    assert ledger(db) == [("Альфа", "2024-01", "bonus", 10.0)]


def test_cli_import_bad_file_lists_lines_and_exits_nonzero(db: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "costs.csv"
    path.write_bytes((HEADER + "alpha,2024-01,bonus,x\nГамма,2024-01,bonus,1\n").encode())
    before = snapshot(db)
    assert cli("import", str(path), "--db", str(db), "--lang", "en") == 1
    err = capsys.readouterr().err
    assert "line 2:" in err and "line 3:" in err
    assert snapshot(db) == before
    assert cli("import", str(path), "--db", str(db), "--lang", "ru") == 1
    assert "строка 3:" in capsys.readouterr().err


def test_cli_create_partners_add_and_export(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "costs.csv"
    path.write_bytes((HEADER + "Гамма,2024-01,bonus,10\n").encode())
    assert cli("import", str(path), "--db", str(db)) == 1
    assert cli("import", str(path), "--db", str(db), "--create-partners") == 0
    assert cli("import", str(path), "--db", str(db), "--add") == 0
    assert ledger(db) == [("Гамма", "2024-01", "bonus", 20.0)]
    out = tmp_path / "out.xlsx"
    assert cli("export", str(out), "--db", str(db)) == 0
    sheet = openpyxl.load_workbook(out).worksheets[0]
    assert [c.value for c in sheet[2]] == ["Гамма", "2024-01", "bonus", 20]
    assert cli("export", str(tmp_path / "out.csv"), "--db", str(db), "--excel") == 0
    assert (tmp_path / "out.csv").read_bytes().startswith(b"\xef\xbb\xbfpartner;month;category;amount")


def test_cli_missing_file_or_database(tmp_path: Path, db: Path) -> None:
    assert cli("import", str(tmp_path / "nope.csv"), "--db", str(db)) == 2
    assert cli("import", str(tmp_path / "nope.csv"), "--db", str(tmp_path / "nope.duckdb")) == 2
    assert cli("export", str(tmp_path / "x.csv"), "--db", str(tmp_path / "nope.duckdb")) == 2
    assert cli("export", str(tmp_path / "x.pdf"), "--db", str(db)) == 1


def test_python_dash_m_entry_point(db: Path, tmp_path: Path) -> None:
    """`python -m data_layer costs ...` dispatches here (needs the other sub-command modules to import)."""
    pytest.importorskip("data_layer.demo")
    pytest.importorskip("data_layer.sync")
    path = tmp_path / "costs.csv"
    path.write_bytes((HEADER + "alpha,2024-01,bonus,x\n").encode())
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-m", "data_layer", "costs", "import", str(path), "--db", str(db),
                           "--lang", "en"], cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "line 2:" in proc.stderr
    path.write_bytes((HEADER + "alpha,2024-01,bonus,5\n").encode())
    proc = subprocess.run([sys.executable, "-m", "data_layer", "costs", "import", str(path), "--db", str(db)],
                          cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert ledger(db) == [("Альфа", "2024-01", "bonus", 5.0)]


def test_export_frame_columns_and_note(db: Path) -> None:
    with store.connect(db) as con:
        userdata.upsert_ledger(con, pd.DataFrame([{"partner": "alpha", "month": "2024-01", "category": "bonus",
                                                   "amount": 5, "note": "=cmd"}]))
        frame = costs_io.export_frame(con)
    assert list(frame.columns) == ["partner", "month", "category", "amount", "note"]
    assert frame.loc[0, "note"] == "'=cmd"

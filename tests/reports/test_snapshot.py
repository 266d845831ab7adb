"""Snapshot: every file matches docs/snapshot-schema.md, reads back with DuckDB and pandas, XLSX is inert."""

from __future__ import annotations

import argparse
import json
import re
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
from support.accounts import WON, Account
from support.template import copy_template

from data_layer import store
from programme import payouts as P
from reports import snapshot

DOC = Path(__file__).resolve().parents[2] / "docs" / "snapshot-schema.md"
TABLES = ("partners", "kpis_partner_month", "kpis_model_month", "costs_category_month", "payouts")
EVIL = ("=HYPERLINK(\"http://x\")", "+7 Партнёр", "-минус", "@sum")
PANDAS_TYPES = {"INTEGER": "Int32", "BIGINT": "Int64", "DOUBLE": "float64", "VARCHAR": "string",
                "BOOLEAN": "boolean"}


def doc_schemas() -> dict[str, list[tuple[str, str]]]:
    """Tables of the doc: `## name` followed by a | column | type | meaning | table."""
    schemas: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            head = re.match(r"^## (\w+)$", line)
            current = head.group(1) if head else None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if current and len(cells) == 3 and cells[0] not in ("column", "---") and not cells[0].startswith("-"):
            schemas.setdefault(current, []).append((cells[0], cells[1]))
    return schemas


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory, template_db: Path) -> tuple[Path, list[Path]]:
    """A small account (partners with formula-like names, costs, a rule, payout lines) and its snapshot."""
    root = tmp_path_factory.mktemp("snap")
    path = root / "db.duckdb"
    copy_template(template_db, path)
    acc = Account()
    for name, model in zip(EVIL, ("referral", "sales", "service", None), strict=True):
        acc.partner(name, model)
    acc.lead("2024-03-10", partner=EVIL[0], status=WON, price=1000, n=2)
    acc.lead("2024-04-02", partner=EVIL[1], status=WON, price=5000)
    acc.lead("2024-04-03", partner=EVIL[2], status="new", n=3)
    acc.lead("2024-04-04", status=WON, price=700)
    acc.cost(EVIL[0], "2024-03", "marketing", 310)
    acc.cost(EVIL[1], "2024-04", "bonus", 600)
    acc.rule("percent_revenue", 0.1, model="sales")
    acc.build(path)
    with store.connect(path) as con:
        ids = dict(con.execute("select name, partner_id from partners").fetchall())
        P.accrue(con, date(2024, 4, 1), "anna")
        line = P.find_line(con, ids[EVIL[1]], date(2024, 4, 1))
        P.approve(con, line.payout_id, line.accrued, "boris")
        P.pay(con, line.payout_id, 100, date(2024, 5, 3), "=cmd|' /C calc'!A0", "vera")
    with store.connect(path, read_only=True) as con:
        paths = snapshot.write_snapshot(con, root / "out", date(2024, 3, 15), date(2024, 4, 30))
    return root / "out", paths


def test_files_written(snap) -> None:
    out, paths = snap
    names = {p.name for p in paths}
    assert names == {f"{t}.{ext}" for t in TABLES for ext in ("parquet", "csv")} | {
        "payouts_month_end.xlsx", "manifest.json"}
    assert all(p.parent == out and p.exists() for p in paths)
    assert not list(out.glob(".*tmp"))


def test_code_and_doc_describe_the_same_tables() -> None:
    assert doc_schemas() == snapshot.SCHEMAS


@pytest.mark.parametrize("table", TABLES)
def test_parquet_matches_the_doc_in_duckdb_and_pandas(snap, table) -> None:
    out, _ = snap
    expected = doc_schemas()[table]
    con = duckdb.connect()
    got = con.execute("describe select * from read_parquet(?)", [str(out / f"{table}.parquet")]).fetchall()
    assert [(r[0], r[1]) for r in got] == expected
    frame = pd.read_parquet(out / f"{table}.parquet")
    assert list(frame.columns) == [c for c, _ in expected]


@pytest.mark.parametrize("table", TABLES)
def test_csv_matches_the_doc_and_the_parquet(snap, table) -> None:
    out, _ = snap
    expected = doc_schemas()[table]
    raw = (out / f"{table}.csv").read_bytes()
    assert raw.startswith("\ufeff".encode()) and b"\r\n" in raw
    con = duckdb.connect()
    typed = con.execute("select * from read_csv(?, header = true, columns = ?, auto_detect = false)",
                        [str(out / f"{table}.csv"), dict(expected)]).df()
    parquet = con.execute("select * from read_parquet(?)", [str(out / f"{table}.parquet")]).df()
    assert list(typed.columns) == [c for c, _ in expected] and len(typed) == len(parquet)
    text_cols = [c for c, t in expected if t == "VARCHAR"]
    other = [c for c, _ in expected if c not in text_cols]
    pd.testing.assert_frame_equal(typed[other], parquet[other], check_dtype=False)
    for col in text_cols:  # CSV text equals the raw text, with a ' before formula-like values
        for csv_value, raw_value in zip(typed[col], parquet[col], strict=True):
            if pd.isna(raw_value):
                assert pd.isna(csv_value)
            else:
                assert csv_value == (("'" + raw_value) if raw_value[:1] in "=+-@" else raw_value)
    dtypes = {c: PANDAS_TYPES[t] for c, t in expected if t in PANDAS_TYPES}
    dates = [c for c, t in expected if t in ("DATE", "TIMESTAMP")]
    frame = pd.read_csv(out / f"{table}.csv", encoding="utf-8-sig", dtype=dtypes, parse_dates=dates,
                        true_values=["true"], false_values=["false"], keep_default_na=False, na_values=[""])
    assert list(frame.columns) == [c for c, _ in expected] and len(frame) == len(parquet)


def test_contents(snap) -> None:
    out, _ = snap
    con = duckdb.connect()

    def q(sql: str, name: str) -> list[tuple]:
        return con.execute(sql.replace("T", "read_parquet(?)"), [str(out / f"{name}.parquet")]).fetchall()

    assert sorted(r[0] for r in q("select name from T", "partners")) == sorted(EVIL)
    months = q("select month, period_from, period_to, sum(leads) from T group by all order by 1", "kpis_partner_month")
    assert months == [(date(2024, 3, 1), date(2024, 3, 15), date(2024, 3, 31), 0),
                      (date(2024, 4, 1), date(2024, 4, 1), date(2024, 4, 30), 5)]
    direct = q("select leads, revenue from T where partner_id is null and month = date '2024-04-01'",
               "kpis_partner_month")
    assert direct == [(1, 700.0)]
    model = q("select model, revenue, costs_commission from T where month = date '2024-04-01' and model = 'sales'",
              "kpis_model_month")
    assert model == [("sales", 5000.0, 500.0)]
    costs = q("select partner, category, amount from T order by month, partner, category", "costs_category_month")
    assert (EVIL[0], "marketing", pytest.approx(170.0)) in costs  # 17 of 31 March days
    assert (EVIL[1], "bonus", 600.0) in costs and (EVIL[1], "computed_commission", 500.0) in costs
    totals = con.execute(
        "select k.costs, (select sum(amount) from read_parquet($2) c where c.month = k.month "
        "and c.partner_id = k.partner_id) from read_parquet($1) k where k.costs > 0",
        [str(out / "kpis_partner_month.parquet"), str(out / "costs_category_month.parquet")]).fetchall()
    assert totals and all(a == pytest.approx(b) for a, b in totals)
    pays = q("select partner, accrued, approved, paid, to_pay, status, last_paid_on, payment_refs from T", "payouts")
    assert pays == [(EVIL[1], 1100.0, 1100.0, 100.0, 1000.0, "approved", date(2024, 5, 3),
                     "=cmd|' /C calc'!A0")]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["date_from"] == "2024-03-15" and manifest["rows"]["payouts"] == 1
    assert manifest["schema_version"] == snapshot.SCHEMA_VERSION


def test_xlsx_neutralises_formula_text(snap) -> None:
    out, _ = snap
    wb = openpyxl.load_workbook(out / "payouts_month_end.xlsx")
    ws = wb.worksheets[1]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["№ партнёра", "Партнёр", "Месяц начисления"]
    row = [c for c in ws[2]]
    values = dict(zip(header, (c.value for c in row), strict=True))
    assert values["Партнёр"] == EVIL[1] and values["Платёжные документы"] == "=cmd|' /C calc'!A0"  # exact text
    assert values["К оплате"] == 1000 and values["Месяц начисления"].date() == date(2024, 4, 1)
    for sheet in wb.worksheets:
        for cells in sheet.iter_rows():
            for cell in cells:
                assert cell.data_type != "f"
                if isinstance(cell.value, str):
                    assert cell.data_type == "s"
    assert ws.max_row == 2


def test_empty_database_gives_typed_empty_files(tmp_db: Path, tmp_path: Path) -> None:
    with store.connect(tmp_db, read_only=True) as con:
        paths = snapshot.write_snapshot(con, tmp_path / "empty")
    con = duckdb.connect()
    for table in TABLES:
        got = con.execute("describe select * from read_parquet(?)", [str(tmp_path / "empty" / f"{table}.parquet")])
        assert [(r[0], r[1]) for r in got.fetchall()] == doc_schemas()[table]
    assert len(paths) == 12


def test_cli(snap, tmp_path: Path) -> None:
    out, _ = snap
    parser = argparse.ArgumentParser()
    snapshot.add_arguments(parser)
    db = out.parent / "db.duckdb"
    args = parser.parse_args(["--db", str(db), "--out", str(tmp_path / "cli"), "--from", "2024-04-01",
                              "--to", "2024-04-30", "--lang", "en"])
    assert snapshot.run(args) == 0
    wb = openpyxl.load_workbook(tmp_path / "cli" / "payouts_month_end.xlsx")
    assert wb.worksheets[1].cell(1, 2).value == "Partner"
    missing = parser.parse_args(["--db", str(tmp_path / "nope.duckdb"), "--out", str(tmp_path / "x")])
    assert snapshot.run(missing) == 1
    with pytest.raises(SystemExit):
        parser.parse_args(["--out", "x", "--from", "15.04.2024"])

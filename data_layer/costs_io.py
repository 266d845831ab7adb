"""Cost ledger import and export (CSV / XLSX): `python -m data_layer costs {import,export} FILE`.

One parser serves the CLI and the upload widget: `parse_costs` reads the file, checks every row and raises
`CostsFileError` listing every bad line; `import_costs` writes all rows in one transaction (a row replaces the
same partner x month x category, or adds to it with ``add=True``). Nothing is written when any row is bad.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from data_layer import store
from data_layer.userdata import (
    MESSAGES,
    Problem,
    UserDataError,
    add_partner,
    atomic,
    fail,
    is_blank,
    norm_name,
    partner_keys,
    read_ledger,
    to_amount,
    to_category,
    to_month,
)
from data_layer.userdata import _insert_ledger as insert_ledger_rows  # shared upsert, same transaction

COLUMNS = ("partner", "month", "category", "amount")
OPTIONAL = ("note",)
HEADER_ALIASES = {
    "partner": "partner", "партнер": "partner", "партнёр": "partner",
    "month": "month", "месяц": "month",
    "category": "category", "категория": "category",
    "amount": "amount", "сумма": "amount",
    "note": "note", "комментарий": "note", "примечание": "note",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_BYTES = 20 * 1024 * 1024
EXTENSIONS = (".csv", ".xlsx")

MESSAGES["ru"].update({
    "file.type": "Файл «{name}» не CSV и не XLSX — сохраните таблицу как .csv (UTF-8) или .xlsx.",
    "file.empty": "Файл пустой — в нём должна быть строка заголовка partner,month,category,amount и "
                  "строки затрат.",
    "file.no_rows": "В файле только заголовок — добавьте строки затрат под ним.",
    "file.too_big": "Файл больше {limit} МБ — разбейте его на части.",
    "file.encoding": "Строка не в кодировке UTF-8 (похоже на Windows-1251) — сохраните файл как «CSV UTF-8».",
    "file.utf16": "Файл в кодировке UTF-16 — сохраните его как «CSV UTF-8».",
    "file.binary": "Файл не текстовый (возможно, это Excel с расширением .csv) — сохраните как CSV UTF-8 "
                   "или загрузите как .xlsx.",
    "file.xlsx": "Файл XLSX не читается ({detail}) — откройте его в Excel и сохраните заново.",
    "file.csv": "Файл CSV не читается ({detail}) — проверьте кавычки в строке.",
    "header.missing": "Нет столбцов: {columns} — заголовок должен быть partner,month,category,amount "
                      "(или партнёр, месяц, категория, сумма).",
    "header.unknown": "Неизвестные столбцы: {columns} — оставьте только partner, month, category, amount "
                      "и, при желании, note.",
    "header.duplicate": "Столбец «{column}» указан дважды — оставьте один.",
    "row.extra": "В строке {n} значений, а столбцов {m} — уберите лишние значения или заключите текст "
                 "с разделителем в кавычки.",
    "import.partner_unknown": "Партнёр «{partner}» не найден — добавьте его в справочник партнёров или "
                              "разрешите создание новых партнёров (--create-partners).",
    "import.duplicate": "Партнёр «{partner}», {month}, {category} встречается несколько раз (строки {lines}) — "
                        "оставьте одну строку или сложите суммы.",
})
MESSAGES["en"].update({
    "file.type": "The file “{name}” is neither CSV nor XLSX: save the table as .csv (UTF-8) or .xlsx.",
    "file.empty": "The file is empty: it needs the header partner,month,category,amount and cost rows.",
    "file.no_rows": "The file has only a header: add cost rows below it.",
    "file.too_big": "The file is larger than {limit} MB: split it.",
    "file.encoding": "The line is not UTF-8 (looks like Windows-1251): save the file as “CSV UTF-8”.",
    "file.utf16": "The file is UTF-16: save it as “CSV UTF-8”.",
    "file.binary": "The file is not text (maybe an Excel file named .csv): save it as CSV UTF-8 or upload "
                   "it as .xlsx.",
    "file.xlsx": "The XLSX file cannot be read ({detail}): open it in Excel and save it again.",
    "file.csv": "The CSV file cannot be read ({detail}): check the quotes on that line.",
    "header.missing": "Missing columns: {columns}: the header must be partner,month,category,amount.",
    "header.unknown": "Unknown columns: {columns}: keep only partner, month, category, amount and optionally "
                      "note.",
    "header.duplicate": "The column “{column}” appears twice: keep one.",
    "row.extra": "The line has {n} values but there are {m} columns: remove the extra values or quote text "
                 "that contains the delimiter.",
    "import.partner_unknown": "Partner “{partner}” is not known: add it to the partners list or allow "
                              "creating new partners (--create-partners).",
    "import.duplicate": "Partner “{partner}”, {month}, {category} appears more than once (lines {lines}): "
                        "keep one row or add the amounts up.",
})


class CostsFileError(UserDataError):
    """A cost file cannot be imported; `problems` lists every bad line (nothing was written)."""


@dataclass
class ParsedCosts:
    """Checked rows of a cost file: partner_id (None = a partner to create), partner, month, category,
    amount, note, line; plus the names of partners the import will create."""

    rows: pd.DataFrame
    new_partners: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        """Sum of the amounts in the file."""
        return float(self.rows["amount"].sum()) if not self.rows.empty else 0.0


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote."""

    rows: int
    created_partners: tuple[str, ...]
    total: float


# ---------------------------------------------------------------- reading the file

def _decode(data: bytes) -> str:
    """UTF-8 text (BOM dropped); raise listing every line that is not UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CostsFileError(Problem("file.utf16", {}, 1))
    if data.startswith(b"PK\x03\x04") or b"\x00" in data[:4096]:
        raise CostsFileError(Problem("file.binary", {}, 1))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        bad = []
        for n, raw in enumerate(data.split(b"\n"), start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                bad.append(Problem("file.encoding", {}, n))
        raise CostsFileError(bad) from None


def _delimiter(text: str) -> str:
    """The delimiter the header line uses: ';', ',' or a tab (the most frequent outside quotes)."""
    header = re.sub(r'"[^"]*"', "", text.split("\n", 1)[0])
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    """(line number, cells) of every CSV record, header included."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: list[tuple[int, list[Any]]] = []
    start = 1
    try:
        for cells in reader:
            rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise CostsFileError(Problem("file.csv", {"detail": str(exc)}, reader.line_num)) from None
    return rows


def _xlsx_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    """(row number, cells) of the first sheet; formulas give their last computed values."""
    import openpyxl  # heavy import, only for XLSX

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise CostsFileError(Problem("file.xlsx", {"detail": type(exc).__name__}, None)) from None
    try:
        sheet = book.worksheets[0]
        return [(n, list(cells)) for n, cells in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        book.close()


def read_rows(data: bytes, filename: str) -> list[tuple[int, list[Any]]]:
    """(line, cells) of a CSV or the first XLSX sheet, header first, blank lines dropped."""
    suffix = Path(filename).suffix.lower()
    if suffix not in EXTENSIONS:
        raise CostsFileError(Problem("file.type", {"name": Path(filename).name}))
    if not data or not data.strip(b"\xef\xbb\xbf \t\r\n"):
        raise CostsFileError(Problem("file.empty"))
    if len(data) > MAX_BYTES:
        raise CostsFileError(Problem("file.too_big", {"limit": MAX_BYTES // 2**20}))
    rows = _xlsx_rows(data) if suffix == ".xlsx" else _csv_rows(data)
    rows = [(n, cells) for n, cells in rows if not all(is_blank(c) for c in cells)]
    if not rows:
        raise CostsFileError(Problem("file.empty"))
    return rows


def _header(line: int, cells: list[Any]) -> list[str | None]:
    """Column key per header cell (None for trailing blank cells); raise on missing / unknown / repeated."""
    keys: list[str | None] = []
    unknown: list[str] = []
    problems: list[Problem] = []
    for cell in cells:
        if is_blank(cell):
            keys.append(None)
            continue
        key = HEADER_ALIASES.get(norm_name(str(cell)).strip('"\ufeff'))
        if key is None:
            unknown.append(str(cell).strip())
        elif key in keys:
            problems.append(Problem("header.duplicate", {"column": str(cell).strip()}, line))
        keys.append(key)
    missing = [c for c in COLUMNS if c not in keys]
    if missing:
        problems.append(Problem("header.missing", {"columns": ", ".join(missing)}, line))
    if unknown:
        problems.append(Problem("header.unknown", {"columns": ", ".join(unknown)}, line))
    if problems:
        raise CostsFileError(problems)
    return keys


# ---------------------------------------------------------------- checking rows

def unneutralise(text: str) -> str:
    """Undo the export's formula guard: a leading quote before = + - @ is dropped."""
    return text[1:] if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START else text


def neutralise(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cell_amount(value: object, line: int) -> float:
    """Amount from a text or numeric cell; numeric cells may carry float noise below a cent."""
    if isinstance(value, float) and not isinstance(value, bool):
        if abs(value * 100 - round(value * 100)) > 1e-6 * max(1.0, abs(value)):
            raise fail("amount.decimals", line, value=value)
        return to_amount(round(value, 2), line)
    return to_amount(value if not isinstance(value, str) else value.strip(), line, decimals=2)


def _cell_month(value: object, line: int) -> date:
    """Month from 'YYYY-MM' text or a date cell."""
    if isinstance(value, datetime | date):
        return to_month(value, line)
    return to_month(str(value).strip() if not is_blank(value) else None, line)


def _record(line: int, keys: list[str | None], cells: list[Any]) -> dict[str, Any]:
    """Raw values by column key; raise when the line has more values than columns."""
    extra = [c for c in cells[len(keys):] if not is_blank(c)]
    if extra:
        raise fail("row.extra", line, n=len(cells), m=len([k for k in keys if k]))
    record = {k: (cells[i] if i < len(cells) else None) for i, k in enumerate(keys) if k}
    if isinstance(record.get("partner"), str):
        record["partner"] = unneutralise(record["partner"].strip())
    return record


def _check_row(line: int, record: dict[str, Any], keys: dict[str, int], create: bool,
               problems: list[Problem]) -> dict[str, Any]:
    """One checked row (`ok` False after adding its problems to the list; parsed parts are kept)."""
    before = len(problems)
    name = record.get("partner")
    pid = None
    if is_blank(name):
        problems.append(Problem("partner.name_empty", {}, line))
    else:
        name = str(name).strip()
        pid = keys.get(norm_name(name))
        if pid is None and not create:
            problems.append(Problem("import.partner_unknown", {"partner": name}, line))
        elif pid is None and len(name) > 200:
            problems.append(Problem("partner.name_long", {"name": name[:40] + "…", "limit": 200}, line))
    month = _try(problems, _cell_month, record.get("month"), line)
    category = _try(problems, to_category, record.get("category"), line)
    amount = _try(problems, _cell_amount, record.get("amount"), line)
    note = record.get("note")
    return {"partner_id": pid, "partner": None if is_blank(name) else name, "month": month, "category": category,
            "amount": amount, "note": None if is_blank(note) else unneutralise(str(note).strip()), "line": line,
            "ok": len(problems) == before}


def _try(problems: list[Problem], fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except UserDataError as exc:
        problems.extend(exc.problems)
        return None


def _duplicates(rows: list[dict[str, Any]]) -> list[Problem]:
    """Rows that share partner x month x category (a new partner is keyed by its normalised name); rows
    with a bad amount count too, rows whose key is incomplete do not."""
    seen: dict[tuple[Any, date, str], list[dict[str, Any]]] = {}
    for row in rows:
        if row["partner"] is None or row["month"] is None or row["category"] is None:
            continue
        who = row["partner_id"] if row["partner_id"] is not None else "new:" + norm_name(row["partner"])
        seen.setdefault((who, row["month"], row["category"]), []).append(row)
    return [Problem("import.duplicate", {"partner": group[0]["partner"], "month": group[0]["month"].strftime("%Y-%m"),
                                         "category": group[0]["category"],
                                         "lines": ", ".join(str(r["line"]) for r in group)}, group[0]["line"])
            for group in seen.values() if len(group) > 1]


def check_rows(rows: list[tuple[int, list[Any]]], keys: dict[str, int],
               create_partners: bool = False) -> ParsedCosts:
    """Check header and data rows against the known partner keys; raise listing every bad line."""
    header_line, header_cells = rows[0]
    columns = _header(header_line, header_cells)
    if len(rows) == 1:
        raise CostsFileError(Problem("file.no_rows", {}, header_line))
    problems: list[Problem] = []
    checked_rows: list[dict[str, Any]] = []
    for line, cells in rows[1:]:
        try:
            record = _record(line, columns, list(cells))
        except UserDataError as exc:
            problems.extend(exc.problems)
            continue
        checked_rows.append(_check_row(line, record, keys, create_partners, problems))
    problems += _duplicates(checked_rows)
    if problems:
        raise CostsFileError(problems)
    good = [{k: v for k, v in r.items() if k != "ok"} for r in checked_rows]
    new: dict[str, str] = {}
    for row in good:
        if row["partner_id"] is None:
            new.setdefault(norm_name(row["partner"]), row["partner"])  # the first spelling wins
    frame = pd.DataFrame(good, columns=["partner_id", "partner", "month", "category", "amount", "note", "line"])
    frame["partner_id"] = frame["partner_id"].astype("Int64")
    return ParsedCosts(frame, sorted(new.values(), key=norm_name))


def parse_costs(con: duckdb.DuckDBPyConnection, data: bytes, filename: str,
                create_partners: bool = False) -> ParsedCosts:
    """Read and check a cost file (CSV or XLSX) against the partners in the database; nothing is written."""
    return check_rows(read_rows(data, filename), partner_keys(con), create_partners)


# ---------------------------------------------------------------- writing

def import_costs(con: duckdb.DuckDBPyConnection, parsed: ParsedCosts, add: bool = False) -> ImportResult:
    """Create the new partners and write every row in one transaction (replace, or add with add=True)."""
    with atomic(con):
        created: dict[str, int] = {}
        for name in parsed.new_partners:
            created[norm_name(name)] = add_partner(con, name)
        rows = parsed.rows.copy()
        missing = rows["partner_id"].isna()
        rows.loc[missing, "partner_id"] = [created[norm_name(n)] for n in rows.loc[missing, "partner"]]
        insert_ledger_rows(con, rows[["partner_id", "month", "category", "amount", "note"]], add)
        if created:
            store.rebuild_facts(con)  # a new partner may match leads' labels or aliases
    return ImportResult(len(rows), tuple(parsed.new_partners), parsed.total)


def import_file(con: duckdb.DuckDBPyConnection, data: bytes, filename: str, create_partners: bool = False,
                add: bool = False) -> ImportResult:
    """Parse, check and import a cost file in one transaction (all rows or none)."""
    with atomic(con):
        parsed = parse_costs(con, data, filename, create_partners)
        return import_costs(con, parsed, add)


def export_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The ledger as the import reads it: partner, month (YYYY-MM), category, amount[, note], names guarded."""
    ledger = read_ledger(con)
    out = pd.DataFrame({
        "partner": ledger["partner"].map(neutralise),
        "month": ledger["month"].map(lambda d: d.strftime("%Y-%m")),
        "category": ledger["category"],
        "amount": ledger["amount"].astype(float),
    })
    if ledger["note"].notna().any():
        out["note"] = ledger["note"].map(lambda v: None if is_blank(v) else neutralise(v))
    return out


def _amount_text(amount: float, decimal_comma: bool) -> str:
    text = f"{amount:.2f}".removesuffix(".00")
    return text.replace(".", ",") if decimal_comma else text


def export_csv(con: duckdb.DuckDBPyConnection, excel: bool = False) -> bytes:
    """CSV bytes: plain UTF-8 with ',' — or with excel=True UTF-8 BOM, ';' and decimal comma (Excel RU)."""
    frame = export_frame(con)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";" if excel else ",", lineterminator="\r\n" if excel else "\n")
    writer.writerow(list(frame.columns))
    for row in frame.itertuples(index=False):
        values = list(row)
        values[3] = _amount_text(values[3], excel)
        writer.writerow(["" if is_blank(v) else v for v in values])
    return (("\ufeff" if excel else "") + buffer.getvalue()).encode("utf-8")


def export_xlsx(con: duckdb.DuckDBPyConnection) -> bytes:
    """XLSX bytes: one sheet with the ledger; months as text, amounts as numbers."""
    import openpyxl

    frame = export_frame(con)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "costs"
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append([None if is_blank(v) else v for v in row])
    for cell in sheet["B"][1:]:
        cell.number_format = "@"
    for cell in sheet["D"][1:]:
        cell.number_format = "#,##0.00"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_bytes(con: duckdb.DuckDBPyConnection, filename: str, excel: bool = False) -> bytes:
    """Ledger export in the format the file name asks for (.csv or .xlsx)."""
    suffix = Path(filename).suffix.lower()
    if suffix not in EXTENSIONS:
        raise CostsFileError(Problem("file.type", {"name": Path(filename).name}))
    return export_xlsx(con) if suffix == ".xlsx" else export_csv(con, excel)


# ---------------------------------------------------------------- CLI

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`costs import FILE [--db] [--create-partners] [--add]`, `costs export FILE [--db] [--excel]`."""
    sub = parser.add_subparsers(dest="costs_command", required=True)
    imp = sub.add_parser("import", help="Import a CSV / XLSX ledger file (all rows or none).")
    imp.add_argument("file", type=Path, help="partner,month,category,amount (.csv or .xlsx)")
    imp.add_argument("--create-partners", action="store_true", help="create partners the database lacks")
    imp.add_argument("--add", action="store_true",
                     help="add amounts to existing partner x month x category rows instead of replacing them")
    exp = sub.add_parser("export", help="Export the ledger to CSV / XLSX.")
    exp.add_argument("file", type=Path, help="target .csv or .xlsx")
    exp.add_argument("--excel", action="store_true",
                     help="CSV for Excel with Russian settings: UTF-8 BOM, ';' delimiter, decimal comma")
    for p in (imp, exp):
        p.add_argument("--db", type=Path, default=None, help=f"database file (default {store.DEFAULT_DB})")
        p.add_argument("--lang", choices=("ru", "en"), default=_default_lang(), help="language of messages")


def _default_lang() -> str:
    return "ru" if os.environ.get("LANG", "").lower().startswith("ru") else "en"


def _db(args: argparse.Namespace) -> Path:
    return Path(args.db or os.environ.get("PARTNER_ROI_DB", str(store.DEFAULT_DB)))


def _say(lines: Iterable[str], stream: Any = None) -> None:
    for line in lines:
        print(line, file=stream or sys.stdout)


def run_import(args: argparse.Namespace) -> int:
    """Import a file; 0 when written, 1 when the file is bad (every bad line printed), 2 when unusable."""
    db = _db(args)
    if not db.exists():
        print(f"Database {db} does not exist: run `python -m data_layer demo --db {db}` or a sync first.",
              file=sys.stderr)
        return 2
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"Cannot read {args.file}: {exc.strerror}. Check the path.", file=sys.stderr)
        return 2
    store.init_db(db)
    try:
        with store.connect(db) as con:
            result = import_file(con, data, args.file.name, args.create_partners, args.add)
    except UserDataError as exc:
        _say(exc.text(args.lang).splitlines(), sys.stderr)
        return 1
    store.bump_version(db)
    _say([f"Imported {result.rows} rows, total {result.total:,.2f}"
          + (f"; created partners: {', '.join(result.created_partners)}" if result.created_partners else "")])
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Export the ledger; 0 when written."""
    db = _db(args)
    if not db.exists():
        print(f"Database {db} does not exist: run `python -m data_layer demo --db {db}` first.", file=sys.stderr)
        return 2
    try:
        with store.connect(db, read_only=True) as con:
            data = export_bytes(con, args.file.name, args.excel)
    except UserDataError as exc:
        _say([exc.text(args.lang)], sys.stderr)
        return 1
    args.file.write_bytes(data)
    print(f"Wrote {args.file}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Dispatch `costs import` / `costs export`."""
    return run_import(args) if args.costs_command == "import" else run_export(args)

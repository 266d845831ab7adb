"""Cost ledger import and export (CSV / XLSX): `python -m data_layer costs {import,export} FILE`.

One parser serves the CLI and the upload widget: `parse_costs` reads the file, checks every row and raises
`CostsFileError` listing every bad line; `import_costs` writes all rows in one transaction (a row replaces the
same partner x month x category, or adds to it with ``add=True``). Nothing is written when any row is bad.
The sentences of a bad header or line (codes header.*, row.extra, import.*) are in `data_layer.userdata.messages`.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from data_layer import store
from data_layer.costs_limits import (
    MAX_LISTED,
    ConfirmationNeeded,
    ImportLimits,
    check_month,
    load_limits,
    month_window,
)
from data_layer.costs_read import EXTENSIONS, CostsFileError, FileProblem, read_rows
from data_layer.costs_read import MAX_BYTES as MAX_BYTES  # re-exported: the upload cap
from data_layer.numbers import NUMBER_FORMATS, NumberFormat
from data_layer.plausibility import cost_findings
from data_layer.textguard import neutralise, text_cell, unneutralise
from data_layer.userdata import (
    MAX_AMOUNT,
    Problem,
    UserDataError,
    add_partner,
    atomic,
    fail,
    insert_ledger,
    is_blank,
    norm_name,
    partner_keys,
    read_ledger,
    to_amount,
    to_category,
    to_month,
)

COLUMNS = ("partner", "month", "category", "amount")
OPTIONAL = ("note",)
HEADER_ALIASES = {
    "partner": "partner", "партнер": "partner", "партнёр": "partner",
    "month": "month", "месяц": "month",
    "category": "category", "категория": "category",
    "amount": "amount", "сумма": "amount",
    "note": "note", "комментарий": "note", "примечание": "note",
}


@dataclass
class ParsedCosts:
    """Checked rows of a cost file: partner_id (None = a partner to create), partner, month, category,
    amount, note, line; the names of partners the import will create; and the lines whose amount or month is
    far outside the account's history (`plausibility.cost_findings`): they need a confirmation."""

    rows: pd.DataFrame
    new_partners: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

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


# ---------------------------------------------------------------- the header

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

def _cell_amount(value: object, line: int, number_format: NumberFormat = "auto") -> float:
    """Amount from a text or numeric cell; numeric cells may carry float noise below a cent."""
    if isinstance(value, float):
        # NaN / inf / 1e308 cells: refuse by name before value * 100 overflows
        if not math.isfinite(value):
            raise fail("amount.not_finite", line, value=value)
        if abs(value) >= MAX_AMOUNT:
            raise fail("amount.too_big", line, value=value)
        if abs(value * 100 - round(value * 100)) > 1e-6 * max(1.0, abs(value)):
            raise fail("amount.decimals", line, value=value)
        return to_amount(round(value, 2), line)
    text = value.strip() if isinstance(value, str) else value
    return to_amount(text, line, decimals=2, number_format=number_format)


def _cell_month(value: object, line: int, window: tuple[date, date] | None, limits: ImportLimits) -> date:
    """Month from 'YYYY-MM' text or a date cell, inside the plausible window when one is given."""
    if isinstance(value, datetime | date):
        month = to_month(value, line)
    else:
        month = to_month(str(value).strip() if not is_blank(value) else None, line)
    if window is not None:
        check_month(month, window, line, limits)
    return month


def _record(line: int, keys: list[str | None], cells: list[Any]) -> dict[str, Any]:
    """Raw values by column key; raise when the line has more values than columns."""
    extra = [c for c in cells[len(keys):] if not is_blank(c)]
    if extra:
        raise fail("row.extra", line, n=len(cells), m=len([k for k in keys if k]))
    record = {k: (cells[i] if i < len(cells) else None) for i, k in enumerate(keys) if k}
    if isinstance(record.get("partner"), str):
        record["partner"] = unneutralise(record["partner"].strip())
    return record


@dataclass(frozen=True)
class CheckOptions:
    """How rows are checked: partner creation, the file's number format, the plausible month window."""

    create_partners: bool = False
    number_format: NumberFormat = "auto"
    window: tuple[date, date] | None = None  # None: any month (check_rows without a database)
    limits: ImportLimits = field(default_factory=ImportLimits)


def _check_row(line: int, record: dict[str, Any], keys: dict[str, int], options: CheckOptions,
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
        if pid is None and not options.create_partners:
            problems.append(Problem("import.partner_unknown", {"partner": name}, line))
        elif pid is None and len(name) > 200:
            problems.append(Problem("partner.name_long", {"name": name[:40] + "…", "limit": 200}, line))
    month = _try(problems, _cell_month, record.get("month"), line, options.window, options.limits)
    category = _try(problems, to_category, record.get("category"), line)
    amount = _try(problems, _cell_amount, record.get("amount"), line, options.number_format)
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
                                         "lines": _line_list([r["line"] for r in group])}, group[0]["line"])
            for group in seen.values() if len(group) > 1]


def _line_list(lines: list[int], limit: int = MAX_LISTED) -> str:
    """'2, 5, 9' — or the first `limit` line numbers, an ellipsis and the last one (3 000 repeats stay short)."""
    if len(lines) <= limit:
        return ", ".join(map(str, lines))
    return ", ".join(map(str, lines[:limit])) + f", … {lines[-1]}"


def check_rows(rows: list[tuple[int, list[Any]]], keys: dict[str, int], create_partners: bool = False,
               options: CheckOptions | None = None) -> ParsedCosts:
    """Check header and data rows against the known partner keys; raise listing every bad line."""
    options = options or CheckOptions(create_partners)
    header_line, header_cells = rows[0]
    columns = _header(header_line, header_cells)
    if len(rows) == 1:
        raise CostsFileError(FileProblem("file.no_rows", {}, header_line))
    problems: list[Problem] = []
    checked_rows: list[dict[str, Any]] = []
    for line, cells in rows[1:]:
        try:
            record = _record(line, columns, list(cells))
        except UserDataError as exc:
            problems.extend(exc.problems)
            continue
        checked_rows.append(_check_row(line, record, keys, options, problems))
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


def parse_costs(con: duckdb.DuckDBPyConnection, data: bytes, filename: str, create_partners: bool = False,
                number_format: NumberFormat = "auto") -> ParsedCosts:
    """Read and check a cost file (CSV or XLSX) against the partners and limits of the database; the result
    lists the lines that need a confirmation (`ParsedCosts.warnings`). Nothing is written."""
    limits = load_limits(con)
    options = CheckOptions(create_partners, number_format, month_window(con, limits), limits)
    parsed = check_rows(read_rows(data, filename, limits), partner_keys(con), create_partners, options)
    parsed.warnings = cost_findings(con, parsed.rows, limits)
    return parsed


# ---------------------------------------------------------------- writing

def import_costs(con: duckdb.DuckDBPyConnection, parsed: ParsedCosts, add: bool = False,
                 confirmed: bool = False) -> ImportResult:
    """Create the new partners and write every row in one transaction (replace, or add with add=True);
    raise ConfirmationNeeded, writing nothing, while implausible amounts or months are not confirmed."""
    if parsed.warnings and not confirmed:
        raise ConfirmationNeeded(parsed.warnings)
    with atomic(con):
        created: dict[str, int] = {}
        for name in parsed.new_partners:
            created[norm_name(name)] = add_partner(con, name)
        rows = parsed.rows.copy()
        missing = rows["partner_id"].isna()
        rows.loc[missing, "partner_id"] = [created[norm_name(n)] for n in rows.loc[missing, "partner"]]
        # the ledger's shared upsert (data_layer.userdata.ledger), in this same transaction
        insert_ledger(con, rows[["partner_id", "month", "category", "amount", "note"]], add)
        if created:
            store.rebuild_facts(con)  # a new partner may match leads' labels or aliases
    return ImportResult(len(rows), tuple(parsed.new_partners), parsed.total)


def import_file(con: duckdb.DuckDBPyConnection, data: bytes, filename: str, create_partners: bool = False,
                add: bool = False, number_format: NumberFormat = "auto", confirmed: bool = False) -> ImportResult:
    """Parse, check and import a cost file in one transaction (all rows or none; implausible amounts or months
    only with confirmed=True)."""
    with atomic(con):
        parsed = parse_costs(con, data, filename, create_partners, number_format)
        return import_costs(con, parsed, add, confirmed)


def export_frame(con: duckdb.DuckDBPyConnection, guard: bool = True) -> pd.DataFrame:
    """The ledger as the import reads it: partner, month (YYYY-MM), category, amount[, note]; with guard, text
    that a spreadsheet would run gets the CSV apostrophe (XLSX passes guard=False: string cells need none)."""
    ledger = read_ledger(con)
    text = neutralise if guard else (lambda v: v)
    out = pd.DataFrame({
        "partner": ledger["partner"].map(text),
        "month": ledger["month"].map(lambda d: d.strftime("%Y-%m")),
        "category": ledger["category"],
        "amount": ledger["amount"].astype(float),
    })
    if ledger["note"].notna().any():
        out["note"] = ledger["note"].map(lambda v: None if is_blank(v) else text(v))
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
    """XLSX bytes: one sheet with the ledger; months as text, amounts as numbers, names as exact string cells."""
    import openpyxl

    frame = export_frame(con, guard=False)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "costs"
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append([None if is_blank(v) else v for v in row])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            text_cell(cell)  # "=Формула Роста" stays that text: a string cell never runs
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
        raise CostsFileError(FileProblem("file.type", {"name": Path(filename).name}))
    return export_xlsx(con) if suffix == ".xlsx" else export_csv(con, excel)


# ---------------------------------------------------------------- CLI

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`costs import FILE [--db] [--create-partners] [--add] [--decimal comma|point] [--confirm-large]`,
    `costs export FILE [--db] [--excel]`."""
    sub = parser.add_subparsers(dest="costs_command", required=True)
    imp = sub.add_parser("import", help="Import a CSV / XLSX ledger file (all rows or none).")
    imp.add_argument("file", type=Path, help="partner,month,category,amount (.csv or .xlsx)")
    imp.add_argument("--create-partners", action="store_true", help="create partners the database lacks")
    imp.add_argument("--add", action="store_true",
                     help="add amounts to existing partner x month x category rows instead of replacing them")
    imp.add_argument("--decimal", choices=[f for f in NUMBER_FORMATS if f != "auto"], default="auto",
                     help="the file's decimal mark: 'comma' reads 12,500 as 12.5 and 1.000 as 1000, 'point' the "
                          "other way round (default: refuse such ambiguous amounts; spaces always group thousands)")
    imp.add_argument("--confirm-large", action="store_true",
                     help="import amounts or months far outside the account's history (without it they are "
                          "listed and nothing is written, exit code 3)")
    exp = sub.add_parser("export", help="Export the ledger to CSV / XLSX.")
    exp.add_argument("file", type=Path, help="target .csv or .xlsx")
    exp.add_argument("--excel", action="store_true",
                     help="CSV for Excel with Russian settings: UTF-8 BOM, ';' delimiter, decimal comma")
    for p in (imp, exp):
        p.add_argument("--db", type=Path, default=None, help=f"database file (default {store.DEFAULT_DB})")
        p.add_argument("--lang", choices=("ru", "en"), default=_default_lang(), help="language of messages")


CONFIRM_HINT = {"ru": "Если суммы и месяцы верны, повторите импорт с --confirm-large.",
                "en": "If the amounts and months are right, run the import again with --confirm-large."}


def _default_lang() -> str:
    return "ru" if os.environ.get("LANG", "").lower().startswith("ru") else "en"


def _db(args: argparse.Namespace) -> Path:
    return Path(args.db or os.environ.get("PARTNER_ROI_DB", str(store.DEFAULT_DB)))


def _say(lines: Iterable[str], stream: Any = None) -> None:
    for line in lines:
        print(line, file=stream or sys.stdout)


def run_import(args: argparse.Namespace) -> int:
    """Import a file; 0 when written, 1 when the file is bad (bad lines printed), 2 when unusable, 3 when
    amounts or months far outside the account's history need --confirm-large."""
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
            result = import_file(con, data, args.file.name, args.create_partners, args.add,
                                 getattr(args, "decimal", "auto"), getattr(args, "confirm_large", False))
    except ConfirmationNeeded as exc:
        _say(exc.text(args.lang).splitlines(), sys.stderr)
        _say([CONFIRM_HINT[args.lang]], sys.stderr)
        return 3
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

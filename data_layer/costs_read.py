"""Reading a cost file (CSV or the first XLSX sheet) into (line, cells), within the import's caps.

The caps (`costs_limits.ImportLimits`) are checked while streaming, so an oversized or "bomb" file is refused
before it is read whole: an XLSX's unpacked size from the zip directory before any parsing (zipfile never
unpacks more than a member declares, so the declared sizes bound what openpyxl can read), the row count as
rows arrive (openpyxl read-only mode, CSV record by record). A refusal lists at most the first
`costs_limits.MAX_LISTED` bad lines and counts the rest.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from data_layer.costs_limits import ImportLimits, ShortListError, count_text
from data_layer.userdata import Problem, extended, is_blank

MAX_BYTES = 20 * 1024 * 1024  # the upload itself (compressed for XLSX)
MAX_COLUMNS = 32  # cells right of this column are not read: a sheet "used" up to XFD would pad every row
EXTENSIONS = (".csv", ".xlsx")

# a cost file's own sentences (the user data's table plus these; that table is never added to)
_OWN: dict[str, dict[str, str]] = {"ru": {
    "file.type": "Файл «{name}» не CSV и не XLSX — сохраните таблицу как .csv (UTF-8) или .xlsx.",
    "file.empty": "Файл пустой — в нём должна быть строка заголовка partner,month,category,amount и "
                  "строки затрат.",
    "file.no_rows": "В файле только заголовок — добавьте строки затрат под ним.",
    "file.too_big": "Файл больше {limit} МБ — разбейте его на части.",
    "file.unpacked_too_big": "Файл XLSX в распакованном виде занимает {size} МБ, больше предела {limit} МБ "
                             "(настройка costs_import_max_mb) — разбейте его на части или сохраните как CSV.",
    "file.too_many_rows": "В файле больше {limit} строк (настройка costs_import_max_rows) — разбейте его на "
                          "части; ничего не прочитано дальше строки {line}.",
    "file.encoding": "Строка не в кодировке UTF-8 (похоже на Windows-1251) — сохраните файл как «CSV UTF-8».",
    "file.utf16": "Файл в кодировке UTF-16 — сохраните его как «CSV UTF-8».",
    "file.binary": "Файл не текстовый (возможно, это Excel с расширением .csv) — сохраните как CSV UTF-8 "
                   "или загрузите как .xlsx.",
    "file.xlsx": "Файл XLSX не читается ({detail}) — откройте его в Excel и сохраните заново.",
    "file.xlsx_row": "Лист XLSX не читается после строки {after} ({detail}): в следующей строке значение не "
                     "число и не текст — откройте файл в Excel и сохраните заново.",
    "file.csv": "Файл CSV не читается ({detail}) — проверьте кавычки в строке.",
}, "en": {
    "file.type": "The file “{name}” is neither CSV nor XLSX: save the table as .csv (UTF-8) or .xlsx.",
    "file.empty": "The file is empty: it needs the header partner,month,category,amount and cost rows.",
    "file.no_rows": "The file has only a header: add cost rows below it.",
    "file.too_big": "The file is larger than {limit} MB: split it.",
    "file.unpacked_too_big": "The XLSX file unpacks to {size} MB, above the {limit} MB limit (setting "
                             "costs_import_max_mb): split it or save it as CSV.",
    "file.too_many_rows": "The file has more than {limit} rows (setting costs_import_max_rows): split it; "
                          "nothing was read past line {line}.",
    "file.encoding": "The line is not UTF-8 (looks like Windows-1251): save the file as “CSV UTF-8”.",
    "file.utf16": "The file is UTF-16: save it as “CSV UTF-8”.",
    "file.binary": "The file is not text (maybe an Excel file named .csv): save it as CSV UTF-8 or upload "
                   "it as .xlsx.",
    "file.xlsx": "The XLSX file cannot be read ({detail}): open it in Excel and save it again.",
    "file.xlsx_row": "The XLSX sheet cannot be read after line {after} ({detail}): a value in the next line is "
                     "neither a number nor text. Open the file in Excel and save it again.",
    "file.csv": "The CSV file cannot be read ({detail}): check the quotes on that line.",
}}
MESSAGES = extended(_OWN)


class FileProblem(Problem):
    """A problem of the cost file itself (type, size, encoding, a sheet that cannot be read), worded from MESSAGES."""

    MESSAGES: ClassVar[dict[str, dict[str, str]]] = MESSAGES


class CostsFileError(ShortListError):
    """A cost file cannot be imported; `problems` lists every bad line (nothing was written)."""


# ---------------------------------------------------------------- CSV

def _decode(data: bytes) -> str:
    """UTF-8 text (BOM dropped); raise listing every line that is not UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CostsFileError(FileProblem("file.utf16", {}, 1))
    if data.startswith(b"PK\x03\x04") or b"\x00" in data[:4096]:
        raise CostsFileError(FileProblem("file.binary", {}, 1))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        bad = []
        for n, raw in enumerate(data.split(b"\n"), start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                bad.append(FileProblem("file.encoding", {}, n))
        raise CostsFileError(bad) from None


def _delimiter(text: str) -> str:
    """The delimiter the header line uses: ';', ',' or a tab (the most frequent outside quotes)."""
    header = re.sub(r'"[^"]*"', "", text.split("\n", 1)[0])
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def csv_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """(line number, cells) of every CSV record, header included, one record at a time."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    start = 1
    try:
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        raise CostsFileError(FileProblem("file.csv", {"detail": str(exc)}, reader.line_num)) from None


# ---------------------------------------------------------------- XLSX

def check_unpacked_size(data: bytes, limits: ImportLimits) -> None:
    """Refuse an XLSX whose members unpack to more than the cap, before anything is parsed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            size = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise CostsFileError(FileProblem("file.xlsx", {"detail": type(exc).__name__}, None)) from None
    if size > limits.max_bytes:
        raise CostsFileError(FileProblem("file.unpacked_too_big", {"size": count_text(round(size / 2**20)),
                                                               "limit": _mb(limits.max_mb)}))


def _first_sheet(data: bytes) -> Any:
    """The first worksheet of the workbook in openpyxl's read-only mode, without its sizing scan."""
    # load_workbook(read_only=True) sizes every sheet on open: with no <dimension> element it parses the whole
    # sheet XML first (minutes and hundreds of MB for a 3 M-row bomb). These are load_workbook's own steps
    # for the parts a cost file needs (strings, workbook, styles for dates), with a sheet class that skips it.
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    class StreamedSheet(ReadOnlyWorksheet):
        def _get_size(self) -> None:
            """No size up front: rows are counted as they stream (read_rows caps them)."""

    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)
    for sheet, rel in reader.parser.find_sheets():
        if rel.target in reader.valid_files and "chartsheet" not in rel.Type:
            return StreamedSheet(reader.wb, sheet.name, rel.target, reader.shared_strings)
    raise KeyError("no worksheet")


def xlsx_rows(data: bytes, limits: ImportLimits) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cells) of the first sheet, one row at a time; formulas give their last computed values."""
    check_unpacked_size(data, limits)
    try:
        sheet = _first_sheet(data)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, AttributeError) as exc:
        raise CostsFileError(FileProblem("file.xlsx", {"detail": type(exc).__name__}, None)) from None
    try:
        rows = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
        n = 0
        while True:
            try:
                cells = next(rows)
            except StopIteration:
                return
            except (ValueError, TypeError, KeyError, OverflowError, zipfile.BadZipFile) as exc:
                # openpyxl casts <v>NaN</v> with int() and fails mid-sheet; say where, never a traceback
                raise CostsFileError(FileProblem("file.xlsx_row", {"after": n, "detail": type(exc).__name__})) from None
            n += 1
            yield n, list(cells)
    finally:
        sheet.parent.close()


# ---------------------------------------------------------------- both

def _mb(value: float) -> str:
    return f"{value:g}"


def read_rows(data: bytes, filename: str, limits: ImportLimits | None = None) -> list[tuple[int, list[Any]]]:
    """(line, cells) of a CSV or the first XLSX sheet, header first, blank lines dropped, within the caps."""
    limits = limits or ImportLimits()
    suffix = Path(filename).suffix.lower()
    if suffix not in EXTENSIONS:
        raise CostsFileError(FileProblem("file.type", {"name": Path(filename).name}))
    if not data or not data.strip(b"\xef\xbb\xbf \t\r\n"):
        raise CostsFileError(FileProblem("file.empty"))
    # A CSV is its own uncompressed size; an XLSX upload is capped compressed here and unpacked later.
    cap = MAX_BYTES if suffix == ".xlsx" else min(MAX_BYTES, limits.max_bytes)
    if len(data) > cap:
        raise CostsFileError(FileProblem("file.too_big", {"limit": _mb(round(cap / 2**20, 1))}))
    source = xlsx_rows(data, limits) if suffix == ".xlsx" else csv_rows(data)
    last_line = limits.max_rows + 1  # the header is line 1
    rows: list[tuple[int, list[Any]]] = []
    for line, cells in source:
        if line > last_line:
            source.close()
            raise CostsFileError(FileProblem("file.too_many_rows", {"limit": count_text(limits.max_rows),
                                                                "line": count_text(last_line)}))
        if not all(is_blank(c) for c in cells):
            rows.append((line, cells))
    if not rows:
        raise CostsFileError(FileProblem("file.empty"))
    return rows

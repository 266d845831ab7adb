"""Partner statements: right numbers, only that partner (no other names, no program totals), safe cells."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from support.reports import EVIL_NAMES, PERIOD, evil_db

from data_layer import store
from metrics import lookups
from metrics.engine import kpis
from metrics.filters import Filters
from presentation import fmt
from reports import statement
from reports.__main__ import main

# A filter naming other partners, models and pipelines: the statement must ignore all of it.
NOISY = Filters(*PERIOD, partners=(2, 3, 4), models=("sales",))


@pytest.fixture(scope="module")
def names(db: Path) -> dict[int, str]:
    with store.connect(db, read_only=True) as con:
        table = lookups.partners(con)
    return dict(zip(table["partner_id"].astype(int), table["name"], strict=True))


@pytest.fixture(scope="module")
def busiest(db: Path) -> int:
    """The partner with the most won deals in the period (so the deal list is not empty)."""
    with store.connect(db, read_only=True) as con:
        rows = kpis(con, Filters(*PERIOD), by="partner").dropna(subset=["partner_id"])
    return int(rows.sort_values("won_deals", ascending=False)["partner_id"].iloc[0])


def pdf_text(blob: bytes) -> str:
    """All text of a PDF, whitespace removed (table cells wrap anywhere)."""
    return "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(blob)).pages).split())


def xlsx_text(blob: bytes) -> str:
    """Every cell of every sheet plus the workbook title, whitespace removed."""
    wb = load_workbook(io.BytesIO(blob))
    cells = [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    return "".join(" ".join([*cells, *wb.sheetnames, wb.properties.title or ""]).split())


def squeeze(text: str) -> str:
    """Text without whitespace."""
    return "".join(text.split())


def others(names: dict[int, str], pid: int, data: statement.StatementData) -> list[str]:
    """Names of the other partners (minus those that are part of this partner's own texts)."""
    own = squeeze(" ".join([names[pid], *data.deals["lead_name"].astype(str)]))
    return [n for p, n in names.items() if p != pid and squeeze(n) not in own]


@pytest.fixture(scope="module")
def data(db: Path, busiest: int) -> statement.StatementData:
    with store.connect(db, read_only=True) as con:
        return statement.collect(con, NOISY, busiest)


def test_totals_equal_kpis(db: Path, data: statement.StatementData, busiest: int) -> None:
    with store.connect(db, read_only=True) as con:
        row = kpis(con, Filters(*PERIOD, partners=(busiest,)), by="partner").iloc[0]
    t = data.totals
    assert (t["leads"], t["won_deals"]) == (row["leads"], row["won_deals"]) and t["won_deals"] > 0
    assert t["revenue"] == pytest.approx(row["revenue"]) and t["computed"] == pytest.approx(row["costs_commission"])
    assert t["owed"] == pytest.approx(row["costs_commission"] + row["cost_commission"] + row["cost_bonus"])
    assert data.deals["commission"].sum() == pytest.approx(row["costs_commission"])
    assert data.deals.loc[data.deals["is_won"] & data.deals["in_deals"], "amount"].sum() == pytest.approx(row["revenue"])


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_pdf_only_this_partner(data: statement.StatementData, names: dict[int, str], busiest: int,
                               lang: str) -> None:
    text = pdf_text(statement.render(data, "pdf", lang))
    assert squeeze(names[busiest]) in text
    assert squeeze(fmt.money(data.totals["owed"], lang)) in text
    leaked = [n for n in others(names, busiest, data) if squeeze(n) in text]
    assert leaked == []
    for word in ("Доля выручки", "Revenue share", "ROI", "Маркетинг", "Marketing", "Фильтры", "Filters"):
        assert squeeze(word) not in text


def test_pdf_has_no_program_totals(db: Path, data: statement.StatementData) -> None:
    with store.connect(db, read_only=True) as con:
        total = kpis(con, Filters(*PERIOD)).iloc[0]
    text = pdf_text(statement.render(data, "pdf", "ru"))
    assert squeeze(fmt.money(total["revenue"], "ru")) not in text
    assert squeeze(fmt.money(total["costs"], "ru")) not in text


def test_xlsx_only_this_partner(data: statement.StatementData, names: dict[int, str], busiest: int) -> None:
    blob = statement.render(data, "xlsx", "ru")
    text = xlsx_text(blob)
    assert squeeze(names[busiest]) in text
    assert [n for n in others(names, busiest, data) if squeeze(n) in text] == []
    wb = load_workbook(io.BytesIO(blob))
    summary = {r[0]: r[1] for r in wb["Итоги"].iter_rows(min_row=2, values_only=True)}
    assert summary["Итого к выплате"] == pytest.approx(data.totals["owed"])
    assert summary["Лиды"] == data.totals["leads"]
    deals = wb["Лиды и сделки"]
    assert deals.max_row - 1 == len(data.deals)


def test_unknown_partner(db: Path) -> None:
    with store.connect(db, read_only=True) as con, pytest.raises(ValueError, match="no partner"):
        statement.partner_statement(con, NOISY, 99999, "pdf", "en")


def test_injection_names_in_statement(tmp_path_factory: pytest.TempPathFactory) -> None:
    path = evil_db(tmp_path_factory.getbasetemp())
    with store.connect(path, read_only=True) as con:
        pid = int(lookups.partners(con).query("name == @EVIL_NAMES[0]")["partner_id"].iloc[0])
        blob_x = statement.partner_statement(con, NOISY, pid, "xlsx", "ru")
        blob_p = statement.partner_statement(con, NOISY, pid, "pdf", "ru")
    cover = load_workbook(io.BytesIO(blob_x)).worksheets[0]
    cells = [c for row in cover.iter_rows() for c in row if c.value == EVIL_NAMES[0]]
    # XLSX: the exact name as a string cell (never a formula, no apostrophe shown); the quote belongs to CSV only
    assert cells and all(c.data_type == "s" for c in cells)
    assert "'" + EVIL_NAMES[0] not in [c for row in cover.iter_rows(values_only=True) for c in row if c]
    assert squeeze(EVIL_NAMES[0]) in pdf_text(blob_p)


def test_cli_statement_by_name(db: Path, names: dict[int, str], busiest: int, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    name = names[busiest].upper().replace("Ё", "Е")
    code = main(["statement", "--db", str(db), "--out", str(tmp_path), "--partner", name, "--from",
                 PERIOD[0].isoformat(), "--to", PERIOD[1].isoformat(), "--format", "xlsx"])
    assert code == 0
    (path,) = list(tmp_path.iterdir())
    assert path.name == f"partner-roi-statement-{busiest}-2025-01-01_2025-06-30-ru.xlsx"
    assert str(path) in capsys.readouterr().out


def test_cli_statement_unknown_name(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["statement", "--db", str(db), "--out", str(tmp_path), "--partner", "Нет такого", "--from",
                 "2025-01-01", "--to", "2025-06-30", "--lang", "en"])
    assert code == 1 and "was not found" in capsys.readouterr().err and not list(tmp_path.iterdir())


def test_cli_export_csv(db: Path, tmp_path: Path) -> None:
    code = main(["export", "--db", str(db), "--out", str(tmp_path), "--from", "2025-01-01", "--to", "2025-06-30",
                 "--format", "csv"])
    (path,) = list(tmp_path.iterdir())
    assert code == 0 and path.read_bytes().startswith(b"\xef\xbb\xbf")

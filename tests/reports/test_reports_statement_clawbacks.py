"""A partner statement lists the commission reversals landing in its period line by line, the carried balance and a
negative balance in words (PDF and XLSX)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from support.clawbacks import PARTNER, build, reopen_first_deal

from data_layer import store
from metrics.filters import Filters
from presentation import clawbacks as words
from reports import statement

JULY = Filters(date(2025, 7, 1), date(2025, 7, 31))
AUGUST = Filters(date(2025, 8, 1), date(2025, 8, 31))


@pytest.fixture(scope="module")
def reopened(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The clawback account after partner 12's paid May deal was reopened (reversal dated July 2025)."""
    path = build(tmp_path_factory.mktemp("statement-clawbacks") / "db.duckdb")
    return path, reopen_first_deal(path)


def squeezed(text: str) -> str:
    """Text without whitespace (PDF cells wrap anywhere)."""
    return "".join(text.split())


def collect(path: Path, f: Filters) -> statement.StatementData:
    with store.connect(path, read_only=True) as con:
        return statement.collect(con, f, PARTNER)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_statement_lists_the_reversal_and_the_debt(reopened: tuple[Path, int], lang: str) -> None:
    path, deal = reopened
    data = collect(path, JULY)
    assert data.reversals["lead_id"].tolist() == [deal]
    amount = float(data.reversals["amount"].iloc[0])
    assert data.balances is not None and data.balances.closing == pytest.approx(data.balances.carried - amount)
    assert data.balances.closing < 0
    sentence = words.balance_sentence(data.balances.closing, lang, data.currency)
    pdf = squeezed("".join(p.extract_text() for p in PdfReader(io.BytesIO(statement.statement_pdf(data, lang))).pages))
    for text in (str(deal), words.reason("reopened", lang), words.say(lang, "title"), sentence,
                 words.say(lang, "carried")):
        assert squeezed(text) in pdf, text
    wb = load_workbook(io.BytesIO(statement.statement_xlsx(data, lang)))
    sheet = wb[wb.sheetnames[-1]]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(words.say(lang, f"col.{c}") for c in ("date", "deal", "reason", "month", "amount"))
    assert str(rows[1][1]).startswith(f"{deal} · ") and rows[1][2] == words.reason("reopened", lang)
    assert rows[1][4] == pytest.approx(-amount)
    cover = [c for row in wb.worksheets[0].iter_rows(values_only=True) for c in row if c is not None]
    assert sentence in cover


def test_the_debt_carries_into_the_next_statement(reopened: tuple[Path, int]) -> None:
    path, _ = reopened
    july, august = collect(path, JULY), collect(path, AUGUST)
    assert august.reversals.empty and august.balances is not None and july.balances is not None
    assert august.balances.carried == pytest.approx(july.balances.closing)
    assert "Партнёр должен" in statement.balance_lines(august, "ru")[-1][1]
    blob = statement.statement_pdf(august, "ru")
    assert squeezed(words.say("ru", "none")) in squeezed("".join(p.extract_text() for p in PdfReader(io.BytesIO(blob)).pages))

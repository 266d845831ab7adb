"""The weekly report's lifecycle section: the week's new, woken and fallen-asleep partners in the pack
(programme.weekly), its XLSX sheet, its PDF section and the e-mail's line, on a synthetic account with fixed dates."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from support.accounts import WON, Account

from data_layer import store
from programme import weekly as pack_rules
from reports import weekly

WEEK = date(2025, 3, 23)  # a Sunday: the week 2025-03-17 … 03-23


@pytest.fixture
def pack(tmp_db: Path) -> pack_rules.WeeklyPack:
    """Alpha: a won lead 01-20, none since (dormant from 03-21: fell asleep). Beta: a lead in 2024-11, then 03-20
    (woke up). Gamma: joined 03-18, no lead (new). Delta: a lead 03-10 (nothing changes)."""
    acc = Account()
    acc.partner("Alpha", "referral", "2025-01-01")
    acc.partner("Beta", "sales", "2024-10-01")
    acc.partner("Gamma", "service", "2025-03-18")
    acc.partner("Delta", "referral", "2024-12-01")
    acc.lead("2025-01-20", partner="Alpha", status=WON, price=5000)
    acc.lead("2024-11-01", partner="Beta")
    acc.lead("2025-03-20", partner="Beta")
    acc.lead("2025-03-10", partner="Delta")
    path = acc.build(tmp_db)
    with store.connect(path, read_only=True) as con:
        return pack_rules.build_weekly(con, WEEK)


def test_the_pack_holds_the_weeks_lifecycle_moves(pack: pack_rules.WeeklyPack) -> None:
    week = pack.lifecycle
    assert week is not None and week.week_end == WEEK
    assert list(week.new["partner"]) == ["Gamma"]
    assert list(week.woke_up["partner"]) == ["Beta"]
    assert (list(week.fell_asleep["partner"]), week.fell_asleep["stage_before"].iloc[0]) == (["Alpha"], "cooling")


def test_the_lifecycle_table_in_russian_and_english(pack: pack_rules.WeeklyPack) -> None:
    ru = weekly.lifecycle_table(pack, "ru")
    assert ru.title == "Жизненный цикл за неделю"
    assert list(ru.frame["change_kind"]) == ["Новые", "Проснулись", "Уснули"]
    assert list(ru.frame["partner"]) == ["Gamma", "Beta", "Alpha"]
    assert list(ru.frame["stage_before"]) == ["—", "Уснул", "Остывает"]
    assert list(ru.frame["stage"]) == ["Подключён", "Первый лид", "Уснул"]
    assert list(ru.frame["last_lead"])[1:] == [date(2025, 3, 20), date(2025, 1, 20)]
    en = weekly.lifecycle_table(pack, "en")
    assert list(en.frame["change_kind"]) == ["New", "Woke up", "Fell asleep"]
    assert weekly.lifecycle_line(pack, "ru") == "За неделю: новые — Gamma; проснулись — Beta; уснули — Alpha."
    assert weekly.lifecycle_line(pack, "en") == "This week: new — Gamma; woke up — Beta; fell asleep — Alpha."


def test_the_xlsx_sheet_pdf_section_and_email_line(pack: pack_rules.WeeklyPack) -> None:
    wb = load_workbook(io.BytesIO(weekly.weekly_xlsx(pack, "ru")))
    rows = list(wb["Жизненный цикл за неделю"].iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("Что произошло", "Партнёр", "Модель")
    assert [r[1] for r in rows[1:] if r[1]] == ["Gamma", "Beta", "Alpha"]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(weekly.weekly_pdf(pack, "ru"))).pages)
    text = text.replace("\u00a0", " ")
    assert "Жизненный цикл за неделю" in text and "Проснулись" in text and "уснули — Alpha" in text
    _, body = weekly.email_text(pack, "en")
    assert "This week: new — Gamma; woke up — Beta; fell asleep — Alpha." in body


def test_a_quiet_week_says_none(tmp_db: Path) -> None:
    acc = Account()
    acc.partner("Alpha", "referral", "2025-01-01")
    acc.lead("2025-03-20", partner="Alpha")
    with store.connect(acc.build(tmp_db), read_only=True) as con:
        quiet = pack_rules.build_weekly(con, date(2025, 3, 30))
    assert weekly.lifecycle_table(quiet, "ru").frame.empty
    assert weekly.lifecycle_line(quiet, "ru") == "За неделю: новые — нет; проснулись — нет; уснули — нет."

"""The tiny-account builder (support.accounts) saves API-shaped records through the real data layer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from support.accounts import WON, Account

from data_layer import store


def test_builder_saves_leads_through_the_data_layer(tmp_db: Path) -> None:
    acc = Account()
    acc.partner("A", "referral")
    acc.lead("2024-03-05", partner="A", status=WON, price=100, contact=acc.contact(1, phone=True))
    acc.lead("2024-03-06", deleted=True)
    acc.build(tmp_db)
    with store.connect(tmp_db, read_only=True) as con:
        rows = con.execute("select partner_name, model, amount, is_won, has_phone, created_date from lead_facts").fetchall()
    assert rows == [("A", "referral", 100.0, True, True, date(2024, 3, 5))]

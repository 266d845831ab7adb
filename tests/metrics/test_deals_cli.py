"""`python -m metrics deals`: the leads / deals behind a partner's numbers, with documented keys and amoCRM links."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from support.accounts import LOST, WON, Account

from data_layer import store
from metrics import deals_cli
from metrics.__main__ import build_parser, main


@pytest.fixture
def deals_db(tmp_db: Path) -> Path:
    acc = Account()
    acc.partner("Ёлка", "referral")
    acc.partner("B", "service")
    acc.contact(7)
    acc.lead("2024-03-10", partner="Ёлка", status=WON, price=500, closed="2024-03-20", contact=7, n=2)
    acc.lead("2024-03-12", partner="Ёлка", status=LOST, n=1)
    acc.lead("2024-03-14", partner="Ёлка", status="new", n=3)
    acc.lead("2024-03-11", partner="B", status=WON, price=900)
    acc.lead("2024-04-11", status=WON, price=100)
    acc.rule("percent_revenue", 0.1, model="referral")
    return acc.build(tmp_db)


def _run(capsys: pytest.CaptureFixture[str], db: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["deals", "--db", str(db), "--from", "2024-03-01", "--to", "2024-04-30", *extra])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.covers("won_deals", "revenue", "leads")
def test_json_rows_have_the_documented_keys(deals_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, deals_db, "--partner", "елка", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 2 and all(tuple(r) == deals_cli.FIELDS for r in rows)
    r = rows[0]
    assert (r["status"], r["amount"], r["created"], r["closed"], r["partner"], r["model"], r["client"]) == \
        ("won", 500, "2024-03-10", "2024-03-20", "Ёлка", "referral", "C7")
    assert r["commission"] == pytest.approx(50) and r["url"] is None  # a test database is not a synced account
    _, every, _ = _run(capsys, deals_db, "--partner", "Ёлка", "--status", "leads", "--format", "json")
    assert sorted(x["status"] for x in json.loads(every)) == ["lost", "open", "open", "open", "won", "won"]
    _, opened, _ = _run(capsys, deals_db, "--partner", "Ёлка", "--status", "open", "--format", "json")
    assert len(json.loads(opened)) == 3
    _, direct, _ = _run(capsys, deals_db, "--partner", "direct", "--format", "json")
    assert [x["amount"] for x in json.loads(direct)] == [100]


def test_every_key_is_documented_in_the_command_s_help() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices["deals"]
    assert all(key in sub.description for key in deals_cli.FIELDS)
    doc = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert "### `deals`" in doc and all(key in doc.split("### `deals`")[1] for key in deals_cli.FIELDS)


def test_a_real_account_s_rows_link_to_their_cards(deals_db: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AMOCRM_BASE_URL", raising=False)
    monkeypatch.setenv("AMOCRM_SECRETS_FILE", "")
    with store.connect(deals_db) as con:
        store.set_meta(con, "source", "amocrm")
        con.execute("insert or replace into settings (key, value) values ('amocrm_connection', ?)",
                    [json.dumps({"base_url": "https://acme.amocrm.ru"})])
    _, out, _ = _run(capsys, deals_db, "--partner", "B", "--format", "json")
    row = json.loads(out)[0]
    assert row["url"] == f"https://acme.amocrm.ru/leads/detail/{row['lead_id']}"


def test_csv_neutralises_formula_names_and_errors_are_one_sentence(deals_db: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    with store.connect(deals_db) as con:
        con.execute("update lead_facts set lead_name = '=HYPERLINK(\"http://x\")' where partner_name = 'B'")
        con.execute("update fact_won_deals set lead_name = '=HYPERLINK(\"http://x\")' where partner_name = 'B'")
    code, out, _ = _run(capsys, deals_db, "--partner", "B", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and rows[0]["name"] == "'=HYPERLINK(\"http://x\")"
    code, out, err = _run(capsys, deals_db, "--partner", "nobody")
    assert code == 2 and out == "" and err.startswith("error: Unknown partner") and len(err.splitlines()) == 1


@pytest.mark.covers("preexisting_deals")
def test_pre_existing_lists_only_the_deals_of_clients_who_were_ours(tmp_db: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    acc = Account()
    acc.partner("Ёлка", "referral")
    acc.contact(7)
    acc.contact(8)
    acc.lead("2024-03-01", status=WON, price=300, closed="2024-03-02", contact=7)  # direct, 9 days before
    acc.lead("2024-03-10", partner="Ёлка", status=WON, price=500, closed="2024-03-20", contact=7)
    acc.lead("2024-03-11", partner="Ёлка", status=WON, price=700, closed="2024-03-21", contact=8)
    db = acc.build(tmp_db)
    _, every, _ = _run(capsys, db, "--partner", "Ёлка", "--format", "json")
    assert sorted((r["client"], r["preexisting"]) for r in json.loads(every)) == [("C7", True), ("C8", False)]
    code, only, _ = _run(capsys, db, "--partner", "Ёлка", "--pre-existing", "--format", "json")
    assert code == 0 and [r["amount"] for r in json.loads(only)] == [500]

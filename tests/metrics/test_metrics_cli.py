"""`python -m metrics kpis`: JSON / CSV / table output and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.accounts import WON, Account

from metrics.__main__ import main


@pytest.fixture
def cli_db(tmp_db: Path) -> Path:
    acc = Account()
    acc.partner("Ёлка", "referral")
    acc.partner("B", "service")
    acc.lead("2024-03-10", partner="Ёлка", status=WON, price=500, n=2)
    acc.lead("2024-03-10", partner="Ёлка", status="new", n=8)
    acc.lead("2024-03-11", partner="B", status="new", n=2)
    acc.lead("2024-04-11", status=WON, price=100)
    acc.cost("Ёлка", "2024-03", "bonus", 400)
    return acc.build(tmp_db)


def args(db: Path, *extra: str) -> list[str]:
    return ["kpis", "--db", str(db), "--from", "2024-03-01", "--to", "2024-04-30", *extra]


@pytest.mark.covers("leads", "won_deals", "revenue", "costs", "roi", "conversion", "roi_band", "cpa", "ltv")
def test_json_by_partner(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args(cli_db, "--by", "partner", "--format", "json")) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["partner"], r["model"]) for r in rows] == [("B", "service"), ("Ёлка", "referral"), (None, "direct")]
    elka = rows[1]
    assert (elka["leads"], elka["won_deals"], elka["revenue"], elka["costs"], elka["roi"]) == (10, 2, 1000, 400, 1.5)
    assert (elka["conversion"], elka["roi_band"], elka["cpa"], elka["ltv"]) == (0.2, "profitable", 200, 300)
    assert rows[0]["roi"] is None and rows[0]["roi_band"] == "n/a" and rows[0]["avg_check"] is None
    assert set(elka) == {"partner", "model", "leads", "qualified_leads", "won_deals", "conversion", "conversion_low",
                         "conversion_high", "revenue", "avg_check", "revenue_share", "costs", "income", "profit",
                         "roi", "roi_band", "new_clients", "cpa", "ltv", "time_to_close_days",
                         "maturity", "maturing", "incomplete", "projected_won_deals", "projected_won_deals_low",
                         "projected_won_deals_high", "projected_revenue", "projected_revenue_low",
                         "projected_revenue_high",
                         # by partner: the ROI interval and the pooled estimates (metrics.pooling)
                         "roi_low", "roi_high", "conversion_pooled", "conversion_pooled_low", "conversion_pooled_high",
                         "roi_pooled", "roi_pooled_low", "roi_pooled_high", "pool_weight", "roi_pool_weight",
                         "tier_kinds"}  # the tier kinds behind its commission


def test_json_by_month_and_filters(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args(cli_db, "--by", "month", "--format", "json", "--partner", "елка", "--model", "referral")) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["month"] for r in rows] == ["2024-03"] and rows[0]["leads"] == 10
    assert main(args(cli_db, "--model", "direct", "--format", "json")) == 0
    assert json.loads(capsys.readouterr().out)[0]["revenue"] == 100


def test_csv_and_table(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args(cli_db, "--by", "model", "--format", "csv")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("model,leads,qualified_leads") and len(lines) == 4
    assert main(args(cli_db, "--view", "close")) == 0
    assert "roi_band" in capsys.readouterr().out


@pytest.mark.parametrize(("extra", "message"), [
    (["--partner", "Nobody"], "Unknown partner(s): Nobody"),
    (["--model", "resellers"], "Unknown model(s): resellers"),
])
def test_unknown_names_fail_clearly(cli_db: Path, capsys: pytest.CaptureFixture[str], extra: list[str],
                                    message: str) -> None:
    assert main(args(cli_db, *extra)) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_reversed_period_and_missing_db(cli_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kpis", "--db", str(cli_db), "--from", "2024-05-01", "--to", "2024-04-01"]) == 2
    assert "swap the dates" in capsys.readouterr().err
    assert main(["kpis", "--db", str(tmp_path / "none.duckdb"), "--from", "2024-05-01", "--to", "2024-05-02"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_bad_date_via_subprocess(cli_db: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "metrics", "kpis", "--db", str(cli_db), "--from", "2024-02-30",
                           "--to", "2024-03-01"], capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert proc.returncode == 2 and "is not a date" in proc.stderr and proc.stdout == ""
    ok = subprocess.run([sys.executable, "-m", "metrics", *args(cli_db, "--format", "json")],
                        capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert ok.returncode == 0 and json.loads(ok.stdout)[0]["leads"] == 13


def test_csv_output_never_carries_a_live_formula() -> None:
    """Issue 24: one formula guard for every CSV the product writes — the metrics CLI's too (full-width forms too)."""
    from metrics.__main__ import render

    text = render([{"partner": "=HYPERLINK(\"http://x\")", "other": "＝1+1", "n": 3}], "csv")
    row = text.splitlines()[1]
    assert row.startswith("\"'=HYPERLINK") and ",'＝1+1," in row and row.endswith(",3")


def test_json_carries_the_tier_kind_behind_each_row(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 19: `kpis --format json` says which tier kind (marginal / whole) the commission behind a row used."""
    assert main(args(cli_db, "--by", "model", "--format", "json")) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(isinstance(r["tier_kinds"], list) and set(r["tier_kinds"]) <= {"marginal", "whole"} for r in rows)
    assert main(args(cli_db, "--format", "csv")) == 0
    assert "tier_kinds" in capsys.readouterr().out.splitlines()[0]

"""Credited vs incremental figures (metrics-spec "Credit and incrementality") on the synced client stories.

Альфа: five won deals of 100 000, three pre-existing (903 by phone, 904 by e-mail, 910 after another partner's
open lead), costs 100 000. Бета: four won deals, two pre-existing (905 by INN, 906 by company), costs 300 000.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from support.preexisting import add_costs, synced_db

from data_layer import store
from metrics import engine, incrementality
from metrics.filters import Filters

F = Filters(date_from=date(2025, 1, 1), date_to=date(2025, 12, 31))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path, _ = synced_db(tmp_path_factory.mktemp("inc"))
    add_costs(path, {"Альфа": 100_000, "Бета": 300_000})
    return path


def _by_partner(db: Path) -> dict[str, dict]:
    with store.connect(db, read_only=True) as con:
        rows = incrementality.incrementality(con, F, n_boot=200)
    return {r["partner"] if isinstance(r["partner"], str) else "direct": r for r in rows.to_dict("records")}


@pytest.mark.covers("preexisting_deals", "incremental_revenue", "preexisting_share", "incremental_roi")
def test_credited_and_incremental_figures(db: Path) -> None:
    rows = _by_partner(db)
    alfa, beta = rows["Альфа"], rows["Бета"]
    assert (alfa["won_deals"], alfa["preexisting_deals"], beta["won_deals"], beta["preexisting_deals"]) == (5, 3, 4, 2)
    assert alfa["revenue"] == pytest.approx(500_000) and alfa["incremental_revenue"] == pytest.approx(200_000)
    assert alfa["preexisting_share"] == pytest.approx(0.6) and beta["preexisting_share"] == pytest.approx(0.5)
    assert alfa["roi"] == pytest.approx(4.0) and alfa["incremental_roi"] == pytest.approx(1.0)
    assert beta["roi"] == pytest.approx(1 / 3) and beta["incremental_roi"] == pytest.approx(-1 / 3)
    assert (alfa["incremental_loss"], beta["incremental_loss"]) == (False, True)  # credited > 0 > incremental


@pytest.mark.covers("incremental_roi_low", "incremental_roi_high")
def test_incremental_interval_follows_the_roi_rule(db: Path) -> None:
    rows = _by_partner(db)
    for r in (rows["Альфа"], rows["Бета"]):
        assert r["incremental_roi_low"] <= r["incremental_roi"] <= r["incremental_roi_high"]
        assert r["incremental_roi_high"] < r["roi_high"]  # the same resamples with less income
    with store.connect(db, read_only=True) as con:
        plain = engine.roi_interval(con, F, n_boot=200)
    got = plain.set_index("partner")["roi_low"].to_dict()
    assert got["Альфа"] == pytest.approx(rows["Альфа"]["roi_low"])


def test_kpis_carry_the_columns_and_direct_is_never_pre_existing(db: Path) -> None:
    with store.connect(db, read_only=True) as con:
        by_model = incrementality.incrementality(con, F, by="model", n_boot=100)
        total = engine.kpis(con, F)
    direct = by_model.set_index("model").loc["direct"]
    assert direct["preexisting_deals"] == 0 and direct["incremental_revenue"] == direct["revenue"]
    assert int(total["preexisting_deals"].iloc[0]) == 5


def test_the_list_of_pre_existing_deals(db: Path) -> None:
    with store.connect(db, read_only=True) as con:
        pid = con.execute("select partner_id from partners where name = 'Альфа'").fetchone()[0]
        deals = incrementality.preexisting_deals(con, F, pid)
    assert sorted(deals["lead_id"]) == [903, 904, 910]
    row = deals.set_index("lead_id").loc[903]
    assert (row["earlier_lead_id"], row["earlier_kind"], row["match_kind"]) == (103, "won", "phone")
    assert row["client"] == "Контакт 32"
    assert (row["created_date"] - row["earlier_created_date"]).days == 30
    assert deals.set_index("lead_id").loc[910, "earlier_kind"] == "open"


def test_cli_prints_the_documented_keys(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from metrics.__main__ import main

    assert main(["incrementality", "--db", str(db), "--from", "2025-01-01", "--to", "2025-12-31",
                 "--format", "json"]) == 0
    rows = {r["partner"]: r for r in json.loads(capsys.readouterr().out)}
    assert list(rows["Бета"]) == ["partner_id", "partner", "model", *incrementality.COLUMNS]
    assert rows["Бета"]["incremental_loss"] is True and rows["Альфа"]["incremental_revenue"] == pytest.approx(200_000)
    assert main(["incrementality", "--db", str(db), "--by", "model", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("model,leads,won_deals,preexisting_deals")

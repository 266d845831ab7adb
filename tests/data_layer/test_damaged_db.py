"""A damaged or foreign database file: one sentence naming the file and what to do from every entry point
(store.connect, the data_layer / metrics / reports CLIs, the dashboard), a non-zero exit, never a traceback."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from support.app import new_app
from support.template import copy_template

from data_layer import store
from data_layer.demo import load_demo

ROOT = Path(__file__).resolve().parents[2]
SENTENCE = {"en": "is damaged or is not a Partner ROI database", "ru": "повреждён или это не база Partner ROI"}
KINDS = ("truncated", "random", "foreign")


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A demo database cut to half its size, a file of random bytes, and another program's DuckDB file."""
    base = tmp_path_factory.mktemp("damaged")
    good = base / "good.duckdb"
    load_demo(good, n_leads=300, seed=3)
    data = good.read_bytes()
    files = {kind: base / f"{kind}.duckdb" for kind in KINDS}
    files["truncated"].write_bytes(data[: len(data) // 2])
    files["random"].write_bytes(os.urandom(256 * 1024))
    with duckdb.connect(str(files["foreign"])) as con:
        con.execute("create table invoices (id integer, total double)")
        con.execute("insert into invoices values (1, 10.5)")
    return files


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("read_only", [True, False])
def test_connect_names_the_file(bad_files: dict[str, Path], kind: str, read_only: bool) -> None:
    path = bad_files[kind]
    with pytest.raises(store.DamagedDatabase) as caught, store.connect(path, read_only=read_only):
        pass
    assert str(path) in str(caught.value) and SENTENCE["en"] in str(caught.value)
    assert SENTENCE["ru"] in caught.value.text("ru") and "python -m data_layer sync --full" in caught.value.text("ru")


def test_a_new_or_empty_file_is_still_fine(tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()  # a valid DuckDB file without tables: a new database
    assert store.init_db(empty)
    store.check(tmp_path / "missing.duckdb")  # nothing there yet: a sync creates it


def cli_env() -> dict[str, str]:
    """No amoCRM settings from the environment or a secrets file: the damaged file must be the reason given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMOCRM_", "PARTNER_ROI_"))}
    env.update(AMOCRM_SECRETS_FILE="", PYTHONPATH=str(ROOT), LANG="C.UTF-8")
    return env


def commands(db: Path, tmp: Path) -> dict[str, list[str]]:
    """Every CLI entry point that reads or writes the database."""
    ledger = tmp / "ledger.csv"
    ledger.write_text("partner,month,category,amount\nАльфа,2024-01,ads,100\n", encoding="utf-8")
    period = ["--from", "2024-01-01", "--to", "2024-03-31"]
    out = ["--db", str(db), "--out", str(tmp / "out")]
    return {
        "sync": ["data_layer", "sync", "--db", str(db)],
        "sync --full": ["data_layer", "sync", "--full", "--db", str(db)],
        "costs import": ["data_layer", "costs", "import", str(ledger), "--db", str(db), "--lang", "en"],
        "costs export": ["data_layer", "costs", "export", str(tmp / "export.csv"), "--db", str(db)],
        "metrics kpis": ["metrics", "kpis", "--db", str(db), *period],
        "reports weekly": ["reports", "weekly", *out],
        "reports statement": ["reports", "statement", *out, "--partner", "1", *period],
        "reports export": ["reports", "export", *out, *period, "--lang", "en"],
        "reports snapshot": ["reports", "snapshot", *out],
    }


@pytest.mark.parametrize("kind", KINDS)
def test_every_cli_says_one_sentence_and_exits_non_zero(bad_files: dict[str, Path], kind: str,
                                                         tmp_path: Path) -> None:
    db = bad_files[kind]
    before = digest(db)
    for name, args in commands(db, tmp_path).items():
        done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=cli_env(), capture_output=True,
                              text=True, timeout=120)
        said = done.stdout + done.stderr
        assert done.returncode != 0, f"{name}: exit 0\n{said}"
        assert "Traceback" not in said, f"{name}: traceback\n{said}"
        assert "consistent" not in said, f"{name}: claims the data is consistent\n{said}"
        assert str(db) in done.stderr and (SENTENCE["en"] in done.stderr or SENTENCE["ru"] in done.stderr), \
            f"{name}: no sentence naming the file\n{said}"
    assert digest(db) == before, "the file was written to (a foreign database must never be migrated)"


@pytest.mark.parametrize("kind", KINDS)
def test_the_dashboard_shows_the_sentence(bad_files: dict[str, Path], kind: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_ROI_DB", str(bad_files[kind]))
    at = new_app()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and SENTENCE["ru"] in errors[0] and str(bad_files[kind]) in errors[0], errors
    assert not at.metric, "the run stops at the sentence"


def test_a_short_read_mid_query_is_damage_of_that_file_only(bad_files: dict[str, Path], tmp_path: Path,
                                                            template_db: Path) -> None:
    db = tmp_path / "ok.duckdb"
    copy_template(template_db, db)
    short = duckdb.IOException(f'IO Error: Could not read enough bytes from file "{db}": attempted to read 4096')
    other = duckdb.IOException('IO Error: Could not read enough bytes from file "/data/leads.parquet"')
    assert store.is_damage(short, db) and not store.is_damage(other, db)
    with pytest.raises(store.DamagedDatabase, match="ok.duckdb"), store.connect(db, read_only=True):
        raise short  # what a read of a truncated block raises inside the unit of work
    with pytest.raises(duckdb.IOException), store.connect(db, read_only=True):
        raise other

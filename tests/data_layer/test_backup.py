"""The copy a CLI sync keeps (`<db>.backup`): taken before the run's writes, restored by the next sync or by
`python -m data_layer restore` when the file is damaged, the damaged file kept aside, the user told what is lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from emulator import Emulator, make_records
from emulator.harness import assert_same, config_for, dump, env_for, run_cli

from data_layer import backup, store

ROOT = Path(__file__).resolve().parents[2]


def sync_runs(db: Path) -> int:
    """How many sync runs the file records (read straight from the file, not through store)."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select count(*) from sync_runs").fetchone()[0]


def damage(db: Path) -> None:
    """Cut the file to half its size, the way a torn write leaves it (zeroed blocks are not always read, so a
    zeroed file could still open; a truncated one never does)."""
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    with pytest.raises(store.DamagedDatabase), store.connect(db, read_only=True):
        pass


def restore_cli(db: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "data_layer", "restore", "--db", str(db), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture()
def synced(tmp_path: Path) -> tuple[Emulator, Path, object]:
    """An emulator account synced twice through the CLI: the copy holds the first run."""
    emu = Emulator(make_records(120), rate_limit=None).__enter__()
    config = config_for(emu, tmp_path)
    db = tmp_path / "a.duckdb"
    for _ in range(2):
        done = run_cli(db, config)
        assert done.returncode == 0, done.stderr
    yield emu, db, config
    emu.__exit__(None, None, None)


def test_the_copy_is_taken_before_the_runs_writes(synced: tuple) -> None:
    _, db, _ = synced
    copy = store.backup_path(db)
    assert copy.exists() and backup.usable(db)
    assert sync_runs(copy) == 1 and sync_runs(db) == 2  # the second run copied the file the first one left


def test_a_sync_restores_a_damaged_file_and_ends_with_the_accounts_content(synced: tuple) -> None:
    emu, db, config = synced
    expected = dump(db)
    damage(db)
    with pytest.raises(store.DamagedDatabase) as caught, store.connect(db, read_only=True):
        pass
    assert "python -m data_layer restore" in caught.value.text("en") and "Есть копия от" in caught.value.text("ru")
    done = run_cli(db, config)
    assert done.returncode == 0, done.stderr
    assert "was damaged: restored the copy taken" in done.stderr and "not in the copy" in done.stderr
    assert_same(dump(db), expected)
    kept = list(db.parent.glob("a.duckdb.damaged-*"))
    assert len(kept) == 1 and kept[0].stat().st_size > 0  # the damaged file is moved aside, never deleted


def test_restore_command(synced: tuple) -> None:
    _, db, _ = synced
    intact = restore_cli(db)
    assert intact.returncode == 1 and "is readable, so nothing needs restoring" in intact.stderr
    damage(db)
    done = restore_cli(db, "--lang", "ru")
    assert done.returncode == 0, done.stderr
    assert "восстановлена копия от" in done.stdout and "внесите их снова" in done.stdout
    assert sync_runs(db) == 1
    store.check(db)


def test_restore_without_a_usable_copy_says_how_to_rebuild(tmp_path: Path) -> None:
    db = tmp_path / "b.duckdb"
    store.init_db(db)
    none = restore_cli(db)
    assert none.returncode == 1 and "There is no copy" in none.stderr and "sync --full" in none.stderr
    store.backup_path(db).write_bytes(b"not a database")
    bad = restore_cli(db)
    assert bad.returncode == 1 and "is not readable either" in bad.stderr
    assert "Traceback" not in none.stderr + bad.stderr


def test_a_damaged_copy_is_never_taken_over_a_good_one(synced: tuple) -> None:
    emu, db, config = synced
    good = store.backup_path(db).read_bytes()
    damage(db)
    store.backup_path(db).write_bytes(b"garbage")  # now both are unreadable: the sync says so and writes nothing
    done = run_cli(db, config)
    assert done.returncode != 0 and "is damaged or is not a Partner ROI database" in done.stderr
    assert store.backup_path(db).read_bytes() == b"garbage"
    store.backup_path(db).write_bytes(good)


def test_the_switch_turns_the_copy_off(tmp_path: Path) -> None:
    with Emulator(make_records(30), rate_limit=None) as emu:
        config = config_for(emu, tmp_path)
        env = {**env_for(config), backup.SWITCH: "0"}
        db = tmp_path / "c.duckdb"
        for _ in range(2):
            cmd = [sys.executable, "-m", "data_layer", "sync", "--db", str(db)]
            done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
    assert not store.backup_path(db).exists()


def test_the_copy_is_named_from_the_resolved_file(tmp_path: Path) -> None:
    with Emulator(make_records(30), rate_limit=None) as emu:
        config = config_for(emu, tmp_path)
        real = tmp_path / "real.duckdb"
        link = tmp_path / "link.duckdb"
        assert run_cli(real, config).returncode == 0
        link.symlink_to(real)
        done = run_cli(link, config)
        assert done.returncode == 0, done.stderr
    assert store.backup_path(real).exists() and not Path(f"{link}.backup").exists()


def test_checksum_damage_is_not_mistaken_for_a_lock() -> None:
    # DuckDB 1.5's words for a torn block (seen on the demo file damaged as above): "block" holds "lock", and
    # store.connect once waited its whole 60 s lock wait on it before naming the damage
    error = duckdb.IOException("IO Error: Corrupt database file: computed checksum 5381 does not match stored "
                               "checksum 0 in block at location 13905920")
    assert store.is_damage(error) and not store._is_lock_error(error)
    assert store._is_lock_error(duckdb.IOException('IO Error: Could not set lock on file "a.duckdb": Conflicting '
                                                   'lock is held in python (PID 1)'))

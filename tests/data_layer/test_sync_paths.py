"""The sync lock and the sidecar stamps are named from the resolved file: symlinks, relative and `..` paths agree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from emulator import Emulator, make_records
from emulator.harness import config_for, run_cli

from data_layer import store, sync
from data_layer.errors import ConfigError


@pytest.fixture
def spellings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[Path]]:
    """A database file and other names of it: a symlink, a `..` detour, a path relative to the cwd."""
    real = tmp_path / "data" / "crm.duckdb"
    store.init_db(real)
    (tmp_path / "elsewhere").mkdir()
    link = tmp_path / "elsewhere" / "link.duckdb"
    link.symlink_to(real)
    dotdot = tmp_path / "elsewhere" / ".." / "data" / "crm.duckdb"
    monkeypatch.chdir(tmp_path / "elsewhere")
    relative = Path("..") / "data" / "crm.duckdb"
    return real, [link, dotdot, relative]


def test_another_name_of_the_file_cannot_start_a_second_sync(spellings: tuple[Path, list[Path]]) -> None:
    real, others = spellings
    for holder in [real, *others]:
        with sync.single_sync(holder):
            for other in [real, *others]:
                with pytest.raises(ConfigError, match="Another sync of this database is running"):
                    with sync.single_sync(other):
                        pass
    with sync.single_sync(others[0]):  # released: free again
        pass


def test_version_stamps_and_markers_agree_whatever_the_name(spellings: tuple[Path, list[Path]]) -> None:
    real, others = spellings
    for writer in [real, *others]:
        stamp = store.bump_version(writer)
        assert {store.data_version(p) for p in [real, *others]} == {stamp}
    for name in (store.version_path, store.write_wanted_path, sync.progress_path):
        assert {name(p) for p in [real, *others]} == {name(real)}
    assert not any(p.name.startswith("link.duckdb.") for p in others[0].parent.iterdir())


def test_the_cli_on_a_symlink_waits_for_the_sync_of_the_real_file(tmp_path: Path) -> None:
    real = tmp_path / "crm.duckdb"
    store.init_db(real)
    link = tmp_path / "link.duckdb"
    os.symlink(real, link)
    with Emulator(make_records(20), rate_limit=None) as emu:
        config = config_for(emu, tmp_path)
        with sync.single_sync(real):
            done = run_cli(link, config)
        requests = len(emu.arrivals())
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "Sync failed: Another sync of this database is running; wait for it to finish.")
    assert requests == 0

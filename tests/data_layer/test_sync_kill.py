"""Interruption safety: SIGKILL the CLI at random moments; every resume ends with the uninterrupted content."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from emulator import Emulator, make_records
from emulator.harness import assert_same, build_expected, config_for, dump, oauth_config, start_cli
from support.template import copy_template

from data_layer import store, sync

pytestmark = pytest.mark.timeout(240)


def _wait(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _working(progress: Path, proc: subprocess.Popen) -> Callable[[], bool]:
    """True once the CLI reports a running sync (past start-up), or when it already ended."""
    def check() -> bool:
        if proc.poll() is not None:
            return True
        try:
            return json.loads(progress.read_text(encoding="utf-8")).get("status") == "running"
        except (FileNotFoundError, ValueError):
            return False
    return check


def _kill_at_random(db: Path, config: object, rng: random.Random, *args: str, spread: float = 1.2) -> bool:
    """Start the CLI, SIGKILL it at a random moment of its work; True if it was killed."""
    progress = db.with_name(db.name + f".{rng.random():.6f}.json")
    proc = start_cli(db, config, "--progress-file", str(progress), *args)  # type: ignore[arg-type]
    try:
        assert _wait(_working(progress, proc)), "the sync never started"
        time.sleep(rng.uniform(0.0, spread))
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        return killed
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def _readable(db: Path) -> int:
    """The dashboard's view right after a kill: opens read-only and queries."""
    with store.connect(db, read_only=True) as con:
        con.execute("select count(*) from raw_lead_status_events").fetchone()
        return con.execute("select count(*) from raw_leads").fetchone()[0]


def _edit(emu: Emulator, rng: random.Random) -> None:
    live = sorted(i for i, x in emu.leads.items() if not x.get("is_deleted"))
    for lead_id in rng.sample(live, 5):
        emu.update_lead(lead_id, name=f"Правка {rng.random():.4f}")
    emu.move_lead(live[0], 143)
    emu.delete_lead(rng.choice(live[1:]))


def test_random_sigkills_then_resume_end_identical(tmp_path: Path) -> None:
    rng = random.Random(20260)
    records = make_records(500, quirks=True)
    with Emulator(records, rate_limit=None, latency=(0.005, 0.02)) as emu:
        config = config_for(emu, tmp_path, max_rps=30, commit_seconds=0.05)
        db = tmp_path / "a.duckdb"
        kills = rounds = 0
        expected: dict[int, dict] = {}  # emulator version -> expected tables
        while kills < 10:
            rounds += 1
            assert rounds <= 25, "the sync kept finishing before the kill"
            if rounds in (4, 8):
                _edit(emu, rng)  # later kills interrupt incremental syncs
            args = ("--full",) if rounds == 6 else ()
            if not _kill_at_random(db, config, rng, *args):
                continue
            kills += 1
            if rounds % 3 == 0:  # sometimes a second kill before any resume
                kills += _kill_at_random(db, config, rng, spread=0.4)
            _readable(db)
            result = sync.sync(db, config)
            assert result.ok
            if emu.version not in expected:
                expected[emu.version] = build_expected(emu, tmp_path / f"expected{emu.version}.duckdb")
            assert_same(dump(db), expected[emu.version])
    assert kills >= 10


def test_oauth_rotation_survives_kills(tmp_path: Path) -> None:
    rng = random.Random(7)
    # Access tokens live 2 s, so the sync refreshes (rotating the refresh token) several times a run.
    with Emulator(make_records(300), rate_limit=None, latency=(0.01, 0.03), access_ttl=2,
                  long_lived_token=None) as emu:
        config = oauth_config(emu, tmp_path, code="emu-code-1", max_rps=20, commit_seconds=0.05)
        db = tmp_path / "a.duckdb"
        kills = 0
        for _ in range(8):
            kills += _kill_at_random(db, config, rng, spread=1.5)
            if kills >= 3:
                break
        result = sync.sync(db, config)
        assert result.ok
        assert_same(dump(db), build_expected(emu, tmp_path / "expected.duckdb"))
        assert emu.token_requests >= 3  # the code exchange plus rotations
    assert kills >= 3
    token_file = tmp_path / "amocrm_tokens.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    with store.connect(db, read_only=True) as con:  # tokens never land in the analytic database
        tables = [t for (t,) in con.execute("select table_name from information_schema.tables").fetchall()]
        for table in tables:
            text = str(con.execute(store.sql_with_names("select * from {t}", t=table)).fetchall())
            assert "rt-" not in text and "emu-secret" not in text


def test_dashboard_reads_while_a_sync_runs(tmp_path: Path, template_db: Path) -> None:
    # A few seconds of sync with half-second windows: the reader must get in between the writes.
    with Emulator(make_records(800), rate_limit=None, latency=(0.05, 0.1)) as emu:
        config = config_for(emu, tmp_path, max_rps=10, commit_seconds=0.5)
        db = tmp_path / "a.duckdb"
        copy_template(template_db, db)
        progress = tmp_path / "p.json"
        proc = start_cli(db, config, "--progress-file", str(progress))
        counts = []
        try:
            assert _wait(_working(progress, proc))
            while proc.poll() is None:
                counts.append(_readable(db))
                time.sleep(0.05)
        finally:
            out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    assert len(counts) >= 5
    assert counts == sorted(counts)  # readers saw whole windows arrive, never a step back
    assert counts[-1] <= _readable(db)

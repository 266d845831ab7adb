"""A hostile server: fault storms, the real 7 rps limit, blocks, unpaid accounts, bad tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from emulator import FAULT_KINDS, Emulator, make_records
from emulator.harness import assert_same, build_expected, config_for, dump, run_cli

from data_layer import store, sync
from data_layer.errors import BLOCKED_SENTENCE

pytestmark = pytest.mark.timeout(240)


def test_fault_storm_ends_identical_without_a_block(tmp_path: Path) -> None:
    with Emulator(make_records(300, quirks=True), rate_limit=120, fault_rate=0.2, faults=FAULT_KINDS,
                  slow_seconds=1.0, retry_after=300, seed=5) as emu:
        config = config_for(emu, tmp_path, max_rps=100, timeout=0.5, max_retries=10)
        db = tmp_path / "a.duckdb"
        sync.sync(db, config)
        assert_same(dump(db), build_expected(emu, tmp_path / "e1.duckdb"))
        live = sorted(i for i, x in emu.leads.items() if not x.get("is_deleted"))
        emu.update_lead(live[0], name="после шторма")
        emu.delete_lead(live[1])
        emu.move_lead(live[2], 142)
        sync.sync(db, config)
        assert_same(dump(db), build_expected(emu, tmp_path / "e2.duckdb"))
        log = emu.api_log()
    faulty = [e for e in log if e.fault and e.fault != "rate"]
    assert len(faulty) >= 0.1 * len(log)
    assert len({e.fault for e in faulty}) >= 5  # several kinds: 5xx, drops, garbage bodies, 429s, timeouts
    assert not emu.blocked and emu.count(status=403) == 0


def test_real_rate_limit_is_never_exceeded_in_any_rolling_second(tmp_path: Path) -> None:
    # The real limit (7 per rolling second) and realistic latency; the sync runs as the CLI in its own process.
    with Emulator(make_records(400), rate_limit=7, latency=(0.15, 0.3)) as emu:
        config = config_for(emu, tmp_path, max_rps=7, timeout=10)
        done = run_cli(tmp_path / "a.duckdb", config)
        assert done.returncode == 0, done.stderr
        arrivals = emu.arrivals()
        assert len(arrivals) >= 20  # enough work that 8 workers would overrun 7 rps without the limiter
        assert emu.max_in_window(1.0) <= 7
        assert emu.count(status=429) == 0
        assert_same(dump(tmp_path / "a.duckdb"), build_expected(emu, tmp_path / "e.duckdb"))


@pytest.mark.parametrize(("setup", "words"), [
    ({"rate_limit": 2, "block_after": 3, "retry_after": 0}, BLOCKED_SENTENCE),
    ({"payment_required": True}, "402 Payment Required"),
    ({"long_lived_token": "another-token"}, "rejected the long-lived token"),
], ids=["blocked", "unpaid", "bad-token"])
def test_fatal_answers_stop_the_cli_with_one_sentence(tmp_path: Path, setup: dict, words: str) -> None:
    with Emulator(make_records(200), **setup) as emu:
        # A misconfigured client (far above the emulator's limit) provokes the 403 block.
        config = config_for(emu, tmp_path, max_rps=200, token="emu-long-lived-token")
        done = run_cli(tmp_path / "a.duckdb", config)
        blocked_answers = emu.count(status=403)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("Sync failed: ") and words in lines[-1]
    if "blocked" in words:
        assert blocked_answers <= config.workers  # every worker stops at its first 403
    with store.connect(tmp_path / "a.duckdb", read_only=True) as con:
        assert con.execute("select status from sync_runs").fetchall() == [("failed",)]
        assert store.get_meta(con, "last_sync_status").startswith("failed: ")

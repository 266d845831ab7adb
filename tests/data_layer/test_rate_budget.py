"""One rate budget per amoCRM account across every process: shared grants, shared pauses, account-wide 429 stop."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest
from emulator import Emulator, make_records
from emulator.harness import assert_same, build_expected, config_for, dump, start_cli

from data_layer import ratelimit
from data_layer.client import ACCOUNT_THROTTLED_SENTENCE, open_client
from data_layer.config import load_config
from data_layer.errors import ConfigError
from data_layer.ratelimit import THROTTLE_LIMIT, RateLimiter, SharedLimiter, budget_path, max_in_window

pytestmark = pytest.mark.timeout(240)

# The emulator stamps an arrival when its handler thread runs (it shares the test process and two busy
# cores with the syncs), up to ~0.15 s after the request came in; a late stamp bunches with the next ones.
# So "no more than 7 in any second" is checked on windows this much shorter than a second.
STAMP_JITTER = 0.15


def _grab(limiter: SharedLimiter, n: int, out: list[float]) -> None:
    for _ in range(n):
        out.append(limiter.confirm(limiter.acquire()))


def test_limiters_on_one_file_never_exceed_the_budget_together(tmp_path: Path) -> None:
    # Separate limiters = separate open files: flock serialises them exactly like separate processes.
    path = tmp_path / "acme.json"
    limiters = [SharedLimiter(path, max_requests=5, window=0.2, margin=0.02) for _ in range(3)]
    stamps: list[float] = []
    threads = [threading.Thread(target=_grab, args=(lim, 6, stamps)) for lim in limiters for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stamps) == 36
    assert max_in_window(stamps, 0.22) <= 5
    ordered = sorted(stamps)
    assert min(b - a for a, b in zip(ordered, ordered[1:], strict=False)) >= limiters[0].min_interval - 1e-6


def test_a_pause_a_widening_and_429s_seen_by_one_process_reach_the_others(tmp_path: Path) -> None:
    path = tmp_path / "acme.json"
    one, other = SharedLimiter(path, 7), SharedLimiter(path, 7)
    one.pause(0.3)
    started = time.time()
    other.acquire()
    assert time.time() - started >= 0.25
    one.widen(0.1)
    other.acquire()
    assert other.span == pytest.approx(other.base_span + 0.1)
    for n in range(THROTTLE_LIMIT - 1):
        assert not (one if n % 2 else other).note_429()
    assert one.note_429() and one.halted()
    other.acquire()  # hands back at once while halted; the client then raises the account-wide sentence
    assert other.halted()


def test_a_damaged_budget_file_holds_everyone_for_one_window(tmp_path: Path) -> None:
    path = tmp_path / "acme.json"
    path.write_bytes(b'{"g": [1.0, 2.')  # a writer killed mid-write: its recent grants are unknown
    limiter = SharedLimiter(path, 7)
    started = time.time()
    limiter.acquire()
    assert time.time() - started >= limiter.base_span - 0.05
    limiter.acquire()  # the file is whole again


def test_the_budget_is_keyed_by_host_whatever_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert budget_path("https://Acme.amocrm.ru/") == budget_path("acme.amocrm.ru")
    assert budget_path("http://127.0.0.1:8001") != budget_path("http://127.0.0.1:8002")
    monkeypatch.setenv(ratelimit.RATE_DIR_VAR, str(tmp_path / "rate"))
    env = {"AMOCRM_BASE_URL": "https://acme.amocrm.ru", "AMOCRM_TOKEN": "t", "AMOCRM_SECRETS_FILE": ""}
    with open_client(load_config(tmp_path / "a" / "one.duckdb", env=env)) as a, \
            open_client(load_config(tmp_path / "b" / "two.duckdb", env=env)) as b:
        assert isinstance(a.limiter, SharedLimiter) and isinstance(b.limiter, SharedLimiter)
        assert a.limiter.path == b.limiter.path == tmp_path / "rate" / "acme.amocrm.ru.json"


def test_an_unwritable_rate_dir_falls_back_to_an_in_process_limiter(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(ratelimit.RATE_DIR_VAR, str(blocker / "rate"))
    assert isinstance(ratelimit.limiter_for("https://acme.amocrm.ru", 7), RateLimiter)


@pytest.mark.parametrize(("share", "requests"), [("0.5", 3), ("1", 7), ("0.1", 1)])
def test_rate_share_gives_this_app_part_of_the_account(tmp_path: Path, share: str, requests: int) -> None:
    env = {"AMOCRM_BASE_URL": "https://acme.amocrm.ru", "AMOCRM_TOKEN": "t", "AMOCRM_SECRETS_FILE": "",
           "AMOCRM_RATE_SHARE": share}
    with open_client(load_config(tmp_path / "a.duckdb", env=env)) as client:
        assert client.limiter.max_requests == requests  # type: ignore[attr-defined]
        assert client.limiter.base_span >= 1.0  # type: ignore[attr-defined]


@pytest.mark.parametrize(("share", "words"), [("0", "out of range"), ("1.5", "out of range"),
                                              ("half", "not a valid float")])
def test_a_bad_rate_share_is_refused_with_a_sentence(tmp_path: Path, share: str, words: str) -> None:
    env = {"AMOCRM_BASE_URL": "https://acme.amocrm.ru", "AMOCRM_TOKEN": "t", "AMOCRM_SECRETS_FILE": "",
           "AMOCRM_RATE_SHARE": share}
    with pytest.raises(ConfigError, match=words):
        load_config(tmp_path / "a.duckdb", env=env)


def _run_together(procs: list[subprocess.Popen]) -> list[tuple[int, str]]:
    """Wait for every process; (return code, stderr) of each."""
    out = []
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        out.append((proc.returncode, err))
    return out


@pytest.mark.parametrize("syncs", [2, 3])
def test_concurrent_syncs_of_one_account_share_its_7_per_second(tmp_path: Path, syncs: int) -> None:
    # Separate processes and database files, one account: each alone would send up to 7 per second.
    with Emulator(make_records(100), rate_limit=7, latency=(0.1, 0.2)) as emu:
        config = config_for(emu, tmp_path, max_rps=7, timeout=10)
        dbs = [tmp_path / f"sync{n}.duckdb" for n in range(syncs)]
        results = _run_together([start_cli(db, config) for db in dbs])
        assert [code for code, _ in results] == [0] * syncs, [err[-300:] for _, err in results]
        arrivals = emu.arrivals()
        assert len(arrivals) >= 12 * syncs
        assert max_in_window(arrivals, 1.0 - STAMP_JITTER) <= 7
        assert emu.count(status=403) == 0 and not emu.blocked
        assert emu.count(status=429) <= syncs  # a late stamp may cost a 429; never a storm
        expected = build_expected(emu, tmp_path / "expected.duckdb")
        for db in dbs:
            assert_same(dump(db), expected)


def test_sustained_429s_across_the_account_stop_every_sync_before_a_block(tmp_path: Path) -> None:
    # Someone else eats the account's budget (2 per second left); no sync alone sees 6 × 429 on one request,
    # but the account as a whole keeps getting them: every sync stops, with one sentence, before the block.
    with Emulator(make_records(200), rate_limit=2, retry_after=0) as emu:
        config = config_for(emu, tmp_path, max_rps=200)
        results = _run_together([start_cli(tmp_path / f"s{n}.duckdb", config) for n in range(2)])
        throttled, blocked = emu.count(status=429), emu.count(status=403)
    for code, err in results:
        assert code == 1
        assert err.strip().splitlines()[-1] == f"Sync failed: {ACCOUNT_THROTTLED_SENTENCE}"
    assert blocked == 0 and not emu.blocked
    assert THROTTLE_LIMIT <= throttled <= THROTTLE_LIMIT + 2 * config.workers  # only what was already in flight

"""ui.data keeps the database open a little between reruns, and lets go for writers and new data."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.template import copy_template

from data_layer import store
from ui import data, writes


def _count_partners(con) -> int:
    return con.execute("select count(*) from partners").fetchone()[0]


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template_db: Path) -> Iterator[Path]:
    path = tmp_path / "keep.duckdb"
    copy_template(template_db, path)
    monkeypatch.setenv("PARTNER_ROI_DB", str(path))
    yield path
    data._close_kept()


def _rerun(path: Path) -> int:
    """One rerun's uncached read, as a page makes it."""
    with data.rerun_reader(), data._reader(str(path)) as con:
        return _count_partners(con)


def _kept(path: Path) -> bool:
    return str(path) in data._KEPT


def test_the_file_stays_open_between_reruns_and_closes_when_idle(db: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "KEEP_SECONDS", 0.3)
    assert _rerun(db) == 0
    kept = data._KEPT[str(db)]["con"]
    assert _rerun(db) == 0 and data._KEPT[str(db)]["con"] is kept  # the next rerun found it open
    deadline = time.monotonic() + 10
    while _kept(db) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _kept(db)  # closed by the background reaper once idle


def test_a_long_rerun_keeps_it_and_the_idle_time_counts_from_its_end(db: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "KEEP_SECONDS", 0.3)
    with data.rerun_reader(), data._reader(str(db)) as con:
        time.sleep(0.9)  # longer than KEEP_SECONDS, while the rerun still reads
        assert _kept(db) and _count_partners(con) == 0
    assert _kept(db)  # the idle time starts now
    deadline = time.monotonic() + 10
    while _kept(db) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _kept(db)


def test_a_write_in_this_process_closes_it_first(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "KEEP_SECONDS", 300)
    _rerun(db)
    assert _kept(db)
    writes.write(lambda con: con.execute("insert into partners (partner_id, name) values (1, 'Альфа')"))
    assert not _kept(db)
    assert _rerun(db) == 1


def test_new_data_is_read_through_a_new_connection(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "KEEP_SECONDS", 300)
    _rerun(db)
    first = data._KEPT[str(db)]["con"]
    store.bump_version(db)  # what every writer does after writing
    _rerun(db)
    assert data._KEPT[str(db)]["con"] is not first


def test_a_writer_in_another_process_gets_the_file_while_it_is_kept(db: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "KEEP_SECONDS", 300)  # without the writer's marker it would be held 5 minutes
    _rerun(db)
    assert _kept(db)
    writer = textwrap.dedent("""
        import sys
        from data_layer import store
        with store.connect(sys.argv[1]) as con:
            con.execute("insert into partners (partner_id, name) values (7, 'Бета')")
        store.bump_version(sys.argv[1])
    """)
    done = subprocess.run([sys.executable, "-c", writer, str(db)], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert not _kept(db) and not store.write_wanted(db)  # it let go, and the writer took its marker away
    assert _rerun(db) == 1


def test_the_dashboard_reads_under_its_memory_limit(db: Path) -> None:
    """Reads cap DuckDB's buffer pool at 256 MB plus a tenth of the file (the dashboard's RSS target)."""
    limit_mb = data.memory_limit_mb(db)
    assert limit_mb == (256 * 2**20 + db.stat().st_size // 10) // 2**20
    with data._reader(str(db)) as con:  # a read outside a rerun
        alone = con.execute("select current_setting('memory_limit')").fetchone()[0]
    with data.rerun_reader(), data._reader(str(db)) as con:  # a rerun's shared connection
        shared = con.execute("select current_setting('memory_limit')").fetchone()[0]
    assert alone == shared == f"{limit_mb}.0 MiB"


def _partners_now(con, _nonce: int) -> int:
    return _count_partners(con)


def test_a_waiting_writer_gets_in_between_one_rerun_s_queries(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression (issue 24): a 2-row import waited up to 18 s while sessions read; a rerun now lets a waiting writer
    in after its current query instead of at its end, and its next query reads the writer's data."""
    monkeypatch.setattr(data, "KEEP_SECONDS", 300)
    writer = textwrap.dedent("""
        import sys
        from data_layer import store
        with store.connect(sys.argv[1]) as con:
            con.execute("insert into partners (partner_id, name) values (8, 'Гамма')")
        store.bump_version(sys.argv[1])
    """)
    with data.rerun_reader():
        assert data.query(_partners_now, 1) == 0  # the rerun's shared connection is open now
        proc = subprocess.Popen([sys.executable, "-c", writer, str(db)], cwd=Path(__file__).resolve().parents[2],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not store.write_wanted(db) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert data.query(_partners_now, 2) == 0  # a query while the writer waits; the file is let go after it
        out, err = proc.communicate(timeout=30)  # the old code held the file until the rerun's end: 60 s, then failed
        assert proc.returncode == 0, err
        assert data.query(_partners_now, 3) == 1  # the same rerun reads the new data


CALLS: list[int] = []


def _slow_count(con, _nonce: int) -> int:
    CALLS.append(1)
    time.sleep(0.5)  # long enough for every session below to ask while it runs
    return _count_partners(con)


def test_sessions_asking_for_the_same_numbers_at_once_compute_them_once(db: Path) -> None:
    """A meeting room opening one link: the same query asked by 8 sessions at once runs once (shared results)."""
    import threading

    CALLS.clear()
    results: list[int] = []

    def session() -> None:
        with data.rerun_reader():
            results.append(data.query(_slow_count, 42))

    threads = [threading.Thread(target=session) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == [0] * 8 and len(CALLS) == 1

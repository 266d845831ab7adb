"""presentation.freshness.stored_moment: DuckDB's `current_timestamp` defaults are naive local times; shown in the
account's zone."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from presentation import freshness


def test_duckdb_writes_a_default_timestamp_as_this_machine_s_wall_time() -> None:
    con = duckdb.connect()
    con.execute("create table t (written timestamp default current_timestamp, x integer)")
    con.execute("insert into t (x) values (1)")
    stored = con.execute("select written from t").fetchone()[0]
    assert stored.tzinfo is None and abs((stored - datetime.now()).total_seconds()) < 60


def test_naive_means_this_machine_and_comes_out_in_the_account_zone() -> None:
    local_noon = datetime(2026, 12, 7, 12, 0)  # a naive value: this machine's wall time
    moment = freshness.stored_moment(local_noon, "Europe/Moscow")
    assert moment is not None and moment.utcoffset().total_seconds() == 3 * 3600
    assert moment.astimezone(UTC) == local_noon.astimezone(UTC)
    assert freshness.stored_moment(None, "Europe/Moscow") is None
    assert freshness.stored_moment(float("nan"), "Europe/Moscow") is None

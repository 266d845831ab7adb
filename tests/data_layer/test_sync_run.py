"""A run's edges (data_layer.sync.fetcher, .bookkeeping): early requests, the one-connection start and the one-transaction end."""

from __future__ import annotations

from pathlib import Path

from emulator import Emulator, make_records
from emulator.harness import config_for

from data_layer import store, sync
from data_layer.sync.fetcher import OpenFetcher
from data_layer.sync.sources import AccountSource, Item, PageWalk


class _NoClient:
    """Never used: the tests below drive sources by hand."""

    limiter = None


def test_open_fetcher_waits_for_the_pass_sources() -> None:
    """Reference sources all closed do not end the fetch until add() hands over the rest."""
    account = AccountSource(lambda item: None)
    fetcher = OpenFetcher(_NoClient(), [account], workers=1)  # type: ignore[arg-type]
    account.handle(account.claim(), {"id": 1})  # type: ignore[arg-type]
    fetcher._close_finished()
    assert account.closed and not fetcher.finished() and fetcher._ready() is False
    fetcher.add([])
    assert fetcher.finished() and fetcher._ready() is None


def test_a_page_walk_ends_without_its_pages_past_the_end() -> None:
    """A speculative page still in flight (retrying, say) past a short page does not hold the fetch."""
    items: list[Item] = []
    walk = PageWalk(items.append, kind="events", entity="events", path="/x", key="events", params=[],
                    limit=2, priority=5, max_inflight=4)
    first = walk.claim()
    walk.handle(first, {"_embedded": {"events": [{"id": 1}, {"id": 2}]}})  # type: ignore[arg-type]
    second, third = walk.claim(), walk.claim()
    walk.handle(second, {"_embedded": {"events": [{"id": 3}]}})  # type: ignore[arg-type]  # short: the end
    assert walk.finished() and walk.pages == {3}
    walk.close()
    walk.handle(third, None)  # type: ignore[arg-type]  # the late answer is dropped, no item after the close
    assert [len(i.records) for i in items] == [2, 1] and third is not None


def test_first_requests_are_the_account_and_reference_lists(tmp_path: Path) -> None:
    """The account and the reference lists are asked for first; the run ends recorded ok, facts built."""
    with Emulator(make_records(60), rate_limit=None) as emu:
        result = sync.sync(tmp_path / "a.duckdb", config_for(emu, tmp_path, workers=1))
        paths = [e.path for e in emu.api_log()]
    assert result.ok
    assert paths[0] == "/api/v4/account"
    assert set(paths[1:paths.index("/api/v4/leads")]) == {"/api/v4/users", "/api/v4/leads/pipelines", "/api/v4/leads/custom_fields",
                               "/api/v4/leads/loss_reasons", "/api/v4/sources"}
    with store.connect(tmp_path / "a.duckdb", read_only=True) as con:
        assert con.execute("select status, requests from sync_runs").fetchall() == [("ok", result.requests)]
        assert con.execute("select count(*) from lead_facts").fetchone()[0] > 0
        assert store.get_meta(con, "last_sync_status") == "ok"

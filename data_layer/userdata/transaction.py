"""How user data is written: inside one transaction (`atomic`), with an audit row naming who (`audit`, `ACTOR`)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextvars import ContextVar

import duckdb
import pandas as pd

# Who is acting in this thread (the dashboard sets the signed-in person per run; CLIs leave the default).
ACTOR: ContextVar[str | None] = ContextVar("partner_roi_actor", default=None)


@contextlib.contextmanager
def atomic(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the block in a transaction; join the caller's transaction when one is already open."""
    # In auto-commit mode every statement gets a new transaction id; inside begin … commit it stays the same.
    first = con.execute("select txid_current()").fetchone()[0]
    second = con.execute("select txid_current()").fetchone()[0]
    if first == second:
        yield
        return
    con.execute("begin")
    try:
        yield
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _null_nan(value: object) -> object:
    """value with every float NaN (inside dicts and lists too) replaced by None."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _null_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_null_nan(v) for v in value]
    return value


def audit(con: duckdb.DuckDBPyConnection, action: str, entity: str, key: object = None,
          before: object = None, after: object = None, who: str | None = None) -> None:
    """One audit_log row (who changed what in user data), before/after as JSON; who defaults to ACTOR."""
    who = who if who is not None else ACTOR.get()
    def dump(value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, pd.DataFrame):
            value = value.to_dict("records")
        # a blank cell of a frame is NaN, which json writes as the non-JSON token NaN: it is null here
        return json.dumps(_null_nan(value), ensure_ascii=False, default=str, allow_nan=False)

    con.execute("insert into audit_log (who, action, entity, entity_key, before, after) values (?, ?, ?, ?, ?, ?)",
                [who, action, entity, None if key is None else str(key), dump(before), dump(after)])

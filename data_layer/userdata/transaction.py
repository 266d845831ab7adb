"""How user data is written: inside one transaction (`atomic`), with an audit row naming who (`audit`, `ACTOR`),
under the package's name (`write_function`)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TypeVar

import duckdb
import pandas as pd

PACKAGE = "data_layer.userdata"
F = TypeVar("F", bound=Callable[..., object])

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


def audit(con: duckdb.DuckDBPyConnection, action: str, entity: str, key: object = None,
          before: object = None, after: object = None, who: str | None = None) -> None:
    """One audit_log row (who changed what in user data), before/after as JSON; who defaults to ACTOR."""
    who = who if who is not None else ACTOR.get()
    def dump(value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, pd.DataFrame):
            value = value.to_dict("records")
        return json.dumps(value, ensure_ascii=False, default=str)

    con.execute("insert into audit_log (who, action, entity, entity_key, before, after) values (?, ?, ?, ?, ?, ?)",
                [who, action, entity, None if key is None else str(key), dump(before), dump(after)])


def write_function(fn: F) -> F:
    """Mark fn as a write of the package: it keeps the dotted name data_layer.userdata.<name>."""
    # ui.auth.WRITE_NEEDS keys a write by module.name ("data_layer.userdata.set_setting" needs an admin) and
    # ui.data writes that name into audit_log when it refuses one: living in a submodule must change neither.
    fn.__module__ = PACKAGE
    return fn

"""Every write the dashboard makes goes through here: the role check (ui.auth), one transaction, the version bump.

`write` runs a function of the data layer or the programme in one write transaction; `act` runs a write that is
not a transaction (credentials, a background sync). Both refuse, and audit the refusal, when the session's person
may not do it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from data_layer import store, userdata
from ui import auth, data

T = TypeVar("T")


def write(fn: Callable[..., T], *args: Any, action: str | None = None, **kwargs: Any) -> T:
    """Run fn(con, *args, **kwargs) in one write transaction, then bump the data version.

    Refused (WriteRefused, audited) unless this session's person may do `action` (default: ui.auth.write_action)."""
    guard(fn, action)
    path = data.db_path()
    data.release_reader()
    with store.connect(path) as con, userdata.atomic(con):
        result = fn(con, *args, **kwargs)
    store.bump_version(path)
    return result


# ---------------------------------------------------------------- who may write (every write path asks here)

class WriteRefused(PermissionError):
    """This session's person may not make this change; the message is the sentence to show."""


def guard(fn: Callable[..., Any], action: str | None = None) -> None:
    """Refuse a write the session's principal may not do (ui.auth), and record the refusal in the audit log."""
    needed = action or auth.write_action(fn)
    person = auth.principal()
    if person.can(needed):
        return
    _audit_refusal(person.actor, person.role, needed, fn)
    raise WriteRefused(auth.refusal(person, needed))


def _audit_refusal(who: str, role: str, needed: str, fn: Callable[..., Any]) -> None:
    """One audit_log row: action "refused", who, the function and the action it needed."""
    path = data.db_path()
    if not path.exists():
        return
    data.release_reader()
    try:
        with store.connect(path) as con:
            userdata.audit(con, "refused", auth.write_name(fn), needed, after={"role": role}, who=who)
    except store.StoreError:  # the refusal stands even when its row cannot be written (file busy, or damaged)
        return
    store.bump_version(path)  # the change log on the settings page shows it


def act(fn: Callable[..., T], *args: Any, action: str | None = None, **kwargs: Any) -> T:
    """Run fn(*args, **kwargs), a write outside a database transaction (credentials, a background sync), after
    the same check as write()."""
    guard(fn, action)
    return fn(*args, **kwargs)

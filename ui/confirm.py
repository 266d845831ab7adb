"""The two-step save of values far outside the account's history: the first save warns and names the effect, a
ticked box and a second save write. The rule is data_layer.plausibility's; nothing is written before the tick.

A caller gives its input a `signature`; a warning and its tick belong to that signature only, so a tick given for
one input never confirms an edited one.
"""

from __future__ import annotations

import zlib

import streamlit as st

from data_layer.costs_limits import ConfirmationNeeded
from data_layer.userdata import Problem, UserDataError
from presentation import fmt
from ui.i18n import lang, tr

TEXT = {
    "ru": {"confirm": "Да, значения верны — сохранить как есть"},
    "en": {"confirm": "Yes, these values are right: save them as they are"},
}


def signature(*parts: object) -> str:
    """A short stable hash of what is being saved (pass a frame as its JSON: repr shortens long frames)."""
    return f"{zlib.crc32(repr(parts).encode()):08x}"


def warn(exc: UserDataError) -> None:
    """The values that need a confirmation, as a warning (user and CRM text shown literally)."""
    code = lang()
    body = "\n".join(f"- {fmt.md_escape(line)}" for line in exc.lines(code))
    head = exc.text(code).splitlines()[0]
    st.warning(fmt.md_escape(head) + "\n\n" + body, icon=":material/warning:")


def ask(key: str, sig: str, exc: ConfirmationNeeded) -> None:
    """Remember that this input needs a confirmation (its warning shows until the input changes or is saved)."""
    st.session_state[f"{key}._pending"] = (sig, tuple(exc.problems))


def pending(key: str, sig: str) -> ConfirmationNeeded | None:
    """The confirmation this very input is waiting for, if any."""
    held: tuple[str, tuple[Problem, ...]] | None = st.session_state.get(f"{key}._pending")
    return ConfirmationNeeded(list(held[1])) if held and held[0] == sig else None


def _box(key: str, sig: str) -> str:
    return f"{key}.confirm.{sig}"


def confirmed(key: str, sig: str) -> bool:
    """Whether this input's warning was shown and its box ticked."""
    return pending(key, sig) is not None and bool(st.session_state.get(_box(key, sig)))


def show(key: str, sig: str, label: str | None = None) -> None:
    """This input's pending warning and its confirmation box (nothing when none is pending)."""
    exc = pending(key, sig)
    if exc is None:
        return
    warn(exc)
    st.checkbox(label or tr(TEXT, "confirm"), key=_box(key, sig))


def clear(key: str) -> None:
    """Forget the pending confirmation (after a save)."""
    st.session_state.pop(f"{key}._pending", None)

"""What the costs page's editors share: widget keys that start afresh after a save, the saved flash, error boxes."""

from __future__ import annotations

import streamlit as st

from data_layer.userdata import UserDataError
from presentation import fmt
from ui.i18n import lang, t

FLASH = "costs._flash"  # the success sentence of the last save, shown once by the page after the rerun
GEN = "costs._gen"


def widget_key(name: str) -> str:
    """Widget key of an editor / uploader; a new generation after each save starts it afresh."""
    gen = st.session_state.get(GEN, 0)
    return f"costs.{name}" if gen == 0 else f"costs.{name}.{gen}"


def saved(message: str) -> None:
    """Remember a success message, start the editors afresh and rerun."""
    st.session_state[FLASH] = message
    st.session_state[GEN] = st.session_state.get(GEN, 0) + 1
    st.rerun()


def show_problems(exc: UserDataError, intro: str | None = None) -> None:
    """Every problem as its own line; user and CRM text is shown literally (Markdown escaped)."""
    code = lang()
    lines = exc.lines(code)
    show_lines(lines, intro or (exc.text(code).splitlines()[0] if len(lines) > 1 else None))


def show_lines(lines: list[str], head: str | None) -> None:
    """An error box: the head sentence, then one bullet per line (Markdown escaped)."""
    body = "\n".join(f"- {fmt.md_escape(line)}" for line in lines)
    st.error((fmt.md_escape(head) + "\n\n" if head else "") + body, icon=":material/error:")


def category_label(category: str) -> str:
    """A cost category in the UI language."""
    return t(f"category.{category}")

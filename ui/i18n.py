"""Russian by default, English on switch: the session's language and the word look-ups that read it.

Each page keeps its own TEXT table; the shared words (COMMON) and the look-ups that take the language as an argument
live in presentation.i18n, which these call with the session's language.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from presentation import i18n as words
from presentation.i18n import LANGS, Lang


def lang() -> Lang:
    """Current UI language (session state, mirrored from ?lang=)."""
    value = st.session_state.get("ui.lang") or st.query_params.get("lang", "ru")
    return "en" if value == "en" else "ru"


def set_lang(code: str) -> None:
    """Switch the UI language for this session (app.py mirrors it into ?lang=)."""
    st.session_state["ui.lang"] = "en" if code == "en" else "ru"


def code_of(code: str | None) -> Lang:
    """The language a look-up uses: code when it is one (ru, en), else the current UI language."""
    return code if code in LANGS else lang()


def tr(table: dict[str, dict[str, str]], key: str, *, _lang: str | None = None, **kwargs: object) -> str:
    """Look a key up in a page's TEXT table (then COMMON) for the current language (or _lang); format with kwargs.

    Widgets' format_func must pass _lang captured while rendering: Streamlit (and AppTest) may call
    format_func outside the script run, where the session's language is not readable.
    """
    return words.lookup(table, key, code_of(_lang), **kwargs)


def t(key: str, *, _lang: str | None = None, **kwargs: object) -> str:
    """Look a shared word up in COMMON."""
    return words.word(key, code_of(_lang), **kwargs)


def labeler(table: dict[str, dict[str, str]], prefix: str) -> Callable[[object], str]:
    """A widget format_func: option -> tr(table, prefix + option) in the language of this run."""
    code = lang()
    return lambda value: tr(table, f"{prefix}{value}", _lang=code)


def metric_labeler() -> Callable[[str], str]:
    """A widget format_func for metric names in the language of this run."""
    code = lang()
    return lambda name: metric_label(name, code)


def model_label(model: str | None, _lang: str | None = None) -> str:
    """Name of a partnership model in the current language (referral, sales, service, direct, unassigned)."""
    return words.model_label(model, code_of(_lang))


def band_label(band: str | None, _lang: str | None = None) -> str:
    """ROI band label in the current language (excellent, profitable, marginal, loss, n/a)."""
    return words.band_label(band, code_of(_lang))


def metric_label(name: str, _lang: str | None = None) -> str:
    """Label of a metric: the metric registry's when it has one, else the shared table."""
    return words.metric_label(name, code_of(_lang))


def metric_help(name: str) -> str | None:
    """One-line description of a metric from the registry, in the current language (None if unknown)."""
    return words.metric_help(name, lang())

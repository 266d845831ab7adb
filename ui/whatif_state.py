"""What-if session state: the scenario the inputs start from, input keys per generation, the metric Scenario.

A scenario lives in this browser session only (st.session_state) until it is saved by name. Starting from a new
base (open, reset, quick rate, apply) bumps a generation, so every editor starts afresh from the new base.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pandas as pd
import streamlit as st

from data_layer import userdata
from data_layer.userdata import ScenarioInputs
from metrics.costs import Scenario
from presentation import fmt
from ui import auth, data, layout
from ui.i18n import tr

TEXT = {"ru": {"reset": "Сбросить", "reset.help": "Вернуть все значения к факту: ставки, затраты, правила, маржу."},
        "en": {"reset": "Reset", "reset.help": "Back to the actuals: rates, costs, rules and margin."}}

BASE, GEN, FLASH, NAME = "what_if._base", "what_if._gen", "what_if._flash", "what_if._name"


def key(name: str) -> str:
    """Key of an input whose starting value comes from the scenario base (a new base starts it afresh)."""
    gen = st.session_state.get(GEN, 0)
    return f"what_if.{name}" if gen == 0 else f"what_if.{name}.{gen}"


def base() -> ScenarioInputs:
    """The scenario the inputs start from (empty = actuals)."""
    return st.session_state.get(BASE) or ScenarioInputs()


def name() -> str | None:
    """The name of the scenario being edited (None: an unsaved draft)."""
    return st.session_state.get(NAME)


def set_base(inputs: ScenarioInputs, scenario_name: str | None, flash: str | None = None) -> None:
    """Start the inputs from a new scenario, then rerun."""
    st.session_state[BASE] = inputs
    st.session_state[NAME] = scenario_name
    st.session_state[GEN] = st.session_state.get(GEN, 0) + 1
    if flash:
        st.session_state[FLASH] = flash
    st.rerun()


def flash(text: str) -> None:
    """Say something on the next run (after a rerun), e.g. that a scenario was saved."""
    st.session_state[FLASH] = text


def show_flash() -> None:
    """The message a previous run left, once."""
    text = st.session_state.pop(FLASH, None)
    if text:
        st.success(fmt.plain(text), icon=":material/check_circle:")


def reset_button() -> None:
    """Back to the actuals (the inputs start afresh)."""
    if st.button(tr(TEXT, "reset"), key="what_if.reset", icon=":material/restart_alt:", width="stretch",
                 help=tr(TEXT, "reset.help")):
        set_base(ScenarioInputs(), None)


def show_problems(lines: list[str], intro: str) -> None:
    """Refused inputs, one sentence per line, user text shown literally."""
    body = "\n".join(f"- {fmt.md_escape(line)}" for line in lines)
    st.error(f"{fmt.md_escape(intro)}\n\n{body}", icon=":material/error:")


def unchanged(inputs: ScenarioInputs) -> bool:
    """True when the scenario still equals the actuals."""
    return inputs.ledger is None and inputs.rules is None and inputs.margin is None


def scenario_of(inputs: ScenarioInputs, actual_ledger: pd.DataFrame, label: str = "") -> Scenario:
    """The metrics Scenario of some inputs: the full ledger with overrides merged in, rules, margin."""
    ledger = None if inputs.ledger is None else userdata.merge_ledger(actual_ledger, inputs.ledger)
    return Scenario(ledger=ledger, rules=inputs.rules, margin=inputs.margin, name=label)


def metric_scenario(scenario: Scenario, inputs: ScenarioInputs) -> Scenario | None:
    """The scenario for metric calls, or None when it equals the actuals (shares their cache)."""
    return None if unchanged(inputs) else scenario


def same_margin(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True when two margin settings are equal (rounding noise ignored)."""
    def norm(m: dict[str, Any]) -> tuple:
        acc = m.get("account")
        return (None if acc is None else round(float(acc), 6),
                tuple(sorted((k, round(float(v), 6)) for k, v in (m.get("models") or {}).items())))
    return norm(a) == norm(b)


@contextlib.contextmanager
def fragment_run() -> Iterator[None]:
    """What app.py sets up around a page, again for a fragment's own reruns (they skip app.py): one shared
    reader, the acting person for the audit log, an error shown as a sentence."""
    token = userdata.ACTOR.set(auth.principal().actor)
    try:
        with data.rerun_reader():
            yield
    except Exception as exc:  # st.rerun / st.stop are BaseException and pass through
        layout.show_error(exc)
    finally:
        userdata.ACTOR.reset(token)

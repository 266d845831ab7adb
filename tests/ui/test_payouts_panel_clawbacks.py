"""Payouts panel (AppTest): commission reversals line by line, the balances carried in and at the end, a debt in
words — in RU and EN, narrowed by the period and the partner filter."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from support.clawbacks import PARTNER, build, reopen_first_deal

from presentation import clawbacks as words


@pytest.fixture(scope="module")
def reopened(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The clawback account after partner 12's paid May deal was reopened (reversal dated July 2025)."""
    path = build(tmp_path_factory.mktemp("panel-clawbacks") / "db.duckdb")
    return path, reopen_first_deal(path)


def _script() -> None:
    from datetime import date

    import streamlit as st

    from metrics.filters import Filters
    from ui import payouts_panel

    st.session_state["ui.lang"] = st.session_state.get("lang", "ru")
    period = st.session_state.get("period")
    partners = tuple(st.session_state.get("partners", ()))
    f = None if period is None else Filters(date.fromisoformat(period[0]), date.fromisoformat(period[1]),
                                            partners=partners)
    payouts_panel.render(f)


def panel(db: Path, monkeypatch: pytest.MonkeyPatch, lang: str = "ru", period: tuple[str, str] | None = None,
          partners: tuple[int, ...] = ()) -> AppTest:
    monkeypatch.setenv("PARTNER_ROI_DB", str(db))
    at = AppTest.from_function(_script, default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["period"] = period
    at.session_state["partners"] = partners
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frames(at: AppTest) -> list:
    return [d.value for d in at.dataframe]


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_reversals_and_the_debt_are_shown(reopened: tuple[Path, int], monkeypatch: pytest.MonkeyPatch,
                                          lang: str) -> None:
    db, deal = reopened
    at = panel(db, monkeypatch, lang)
    rev = next(f for f in frames(at) if words.say(lang, "col.reason") in f.columns)
    assert len(rev) == 1 and rev[words.say(lang, "col.deal")].iloc[0].startswith(f"{deal} · ")
    assert rev[words.say(lang, "col.reason")].iloc[0] == words.reason("reopened", lang)
    assert rev[words.say(lang, "col.date")].iloc[0]
    bal = next(f for f in frames(at) if words.say(lang, "carried") in f.columns)
    owes = words.say(lang, "balance.owes", amount="").split(" ")[0]  # "Партнёр" / "The"
    assert any(str(x).startswith(owes) for x in bal.iloc[:, -1])
    warning = [w.value for w in at.warning if words.say(lang, "balance.owes", amount="X").split("X")[1] in w.value]
    assert len(warning) == 1


def test_the_period_and_partner_filters_narrow_the_reversals(reopened: tuple[Path, int],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    db, _ = reopened
    july = panel(db, monkeypatch, period=("2025-07-01", "2025-07-31"))
    assert any(words.say("ru", "col.reason") in f.columns for f in frames(july))
    august = panel(db, monkeypatch, period=("2025-08-01", "2025-08-31"))
    assert words.say("ru", "none") in [c.value for c in august.caption]
    bal = next(f for f in frames(august) if words.say("ru", "carried") in f.columns)
    assert len(bal) >= 1  # the July debt is carried into August
    other = panel(db, monkeypatch, period=("2025-07-01", "2025-07-31"), partners=(PARTNER + 1,))
    assert words.say("ru", "none") in [c.value for c in other.caption]

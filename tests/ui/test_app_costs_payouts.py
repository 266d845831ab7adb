"""The costs page carries the payouts panel (owed vs paid) in its own tab."""

from __future__ import annotations

from pathlib import Path

from support.app import new_app, run_ok


def test_costs_page_has_a_payouts_tab(app_env: Path) -> None:
    at = run_ok(new_app())
    run_ok(at.switch_page("pages/costs.py"))
    assert "Выплаты партнёрам" in {tab.label for tab in at.tabs}

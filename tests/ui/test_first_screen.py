"""The overview's answer "who earns their cost": the verdict rule (metrics.verdict) and the first screen (AppTest)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support.app import new_app, run_ok

from data_layer import store
from metrics import leaderboard, verdict
from metrics.filters import Filters


def _rows(**cols: list) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"leads": [100] * n, "profit": [0.0] * n, "too_few": [False] * n}
    return pd.DataFrame({**base, **cols})


def test_verdict_reads_the_interval_not_the_point() -> None:
    rows = _rows(roi=[0.5, -0.3, 0.2, np.nan], roi_low=[0.1, -0.5, -0.1, np.nan], roi_high=[0.9, -0.1, 0.6, np.nan])
    assert list(verdict.verdict(rows)) == [verdict.EARNS, verdict.LOSES, verdict.UNCLEAR, verdict.NO_COSTS]


def test_the_pooled_interval_wins_over_the_raw_one() -> None:
    """Three wins of three leads: the raw interval is all above zero, the pooled one (pulled to the model) holds
    zero — the partner is unclear, not an earner."""
    rows = _rows(roi=[4.0], roi_low=[4.0], roi_high=[4.0], roi_pooled=[0.3], roi_pooled_low=[-0.2],
                 roi_pooled_high=[0.8], leads=[3], too_few=[True])
    assert verdict.verdict(rows).iloc[0] == verdict.UNCLEAR
    assert verdict.interval(rows.iloc[0]) == (-0.2, 0.8)


def test_costs_without_a_lead_are_a_certain_loss() -> None:
    rows = _rows(roi=[-1.0], roi_low=[np.nan], roi_high=[np.nan], leads=[0], profit=[-150_000.0])
    assert verdict.verdict(rows).iloc[0] == verdict.LOSES


def test_lists_put_the_money_first() -> None:
    rows = _rows(roi=[0.5, 0.9, -0.4, -0.2], roi_low=[0.1, 0.2, -0.6, -0.3], roi_high=[0.8, 1.5, -0.1, -0.1],
                 profit=[5.0, 3.0, -1.0, -7.0])
    assert list(verdict.profit_order(rows, verdict.EARNS)["profit"]) == [5.0, 3.0]
    assert list(verdict.profit_order(rows, verdict.LOSES)["profit"]) == [-7.0, -1.0]


def _md(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_first_screen_names_the_earners_and_losers_the_rule_gives(app_env: Path, app_db: Path) -> None:
    at = run_ok(new_app({"period": "custom", "from": "2026-01-01", "to": "2026-12-07"}))
    f = Filters(date_from=date(2026, 1, 1), date_to=date(2026, 12, 7))
    with store.connect(app_db, read_only=True) as con:
        rows = leaderboard.partner_rows(con, f, lite=True)
    rows = rows[rows["partner_id"].notna()]
    kinds = verdict.verdict(rows)
    text = _md(at)
    assert f"Окупают затраты: {int((kinds == verdict.EARNS).sum())}" in text
    assert f"Не окупают: {int((kinds == verdict.LOSES).sum())}" in text
    losers = verdict.profit_order(rows, verdict.LOSES)
    if len(losers):
        first = str(losers["partner"].iloc[0]).split()[0]
        assert first in text.split("**Не окупают")[1].split("\n")[1]
    assert any(c.key == "first.models" for c in at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart")
               if getattr(c, "key", None)) or at.get("vega_lite_chart")


def test_roi_card_carries_its_band_in_the_label(app_env: Path) -> None:
    at = run_ok(new_app())
    roi = [m for m in at.metric if m.label.startswith("ROI")][0]
    assert "-badge[" in roi.label


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_first_screen_has_no_raw_artefacts(app_env: Path, lang: str) -> None:
    at = run_ok(new_app({"lang": lang}))
    text = _md(at) + "\n".join(c.value for c in at.caption)
    for bad in ("None", "nan", "{", "docs/", "--"):
        assert bad not in text, bad

"""The trends chart keeps its series legend when young periods are drawn apart (regression: a `legend=None` on the
points' stroke, which shares the field with the colour, hid the models' legend in the browser's Vega-Lite)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ui import chart_lines

STAGES = {"mature": "закрыты", "maturing": "созревает", "incomplete": "не закончен", "projection": "прогноз"}


def test_no_channel_of_the_series_field_hides_its_legend() -> None:
    periods = pd.date_range("2026-01-01", periods=6, freq="MS")
    df = pd.DataFrame([{"period": p, "series": s, "value": 100.0 + i, "is_anomaly": False, "maturing": i == 4,
                        "incomplete": i == 5, "proj": 120.0 if i == 4 else np.nan, "proj_low": 110.0 if i == 4
                        else np.nan, "proj_high": 130.0 if i == 4 else np.nan}
                       for s in ("Реферальная", "Сервисная") for i, p in enumerate(periods)])
    spec = chart_lines.over_time(df, "series", "num", "Лиды", stages=STAGES).to_dict(validate=True)
    channels = [(name, enc) for layer in spec["layer"] for name, enc in (layer.get("encoding") or {}).items()
                if isinstance(enc, dict) and enc.get("field") == "series"]
    assert any(name == "color" for name, _ in channels)
    assert all("legend" not in enc or enc["legend"] is not None for _, enc in channels), channels

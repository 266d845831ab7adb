"""The partners leaderboard's rows: KPIs by partner beside their ROI intervals, with the pooled estimates."""

from __future__ import annotations

from typing import Any

import pandas as pd

from metrics.batch import kpis_with_roi
from metrics.filters import Filters
from metrics.pooling import add_pooled, with_roi


def partner_rows(con: Any, f: Filters, lite: bool = False, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """The partners leaderboard's rows: KPIs by partner with ROI intervals and the pooled estimates."""
    rows, intervals = kpis_with_roi(con, f, by="partner", n_boot=n_boot, seed=seed, lite=lite)
    return add_pooled(with_roi(rows, intervals))

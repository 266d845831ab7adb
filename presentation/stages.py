"""How young each period of a chart is — mature, maturing (its deals are still closing) or incomplete (not over
yet) — as the dashboard's charts and the PDF charts (reports.charts) both mark it."""

from __future__ import annotations

import pandas as pd

STAGES = ("mature", "maturing", "incomplete")


def stage_of(rows: pd.DataFrame) -> list[str]:
    """Each row's stage: incomplete (the period is not over), maturing (its deals are still closing) or mature."""
    flag = {c: rows[c].fillna(False).astype(bool).tolist() if c in rows.columns else [False] * len(rows)
            for c in ("maturing", "incomplete")}
    return ["incomplete" if i else "maturing" if m else "mature"
            for m, i in zip(flag["maturing"], flag["incomplete"], strict=True)]

"""Numbers and names shared by the forecast page's sections: a value by metric, a period by grain, a group's name."""

from __future__ import annotations

import pandas as pd

from presentation import fmt
from ui.i18n import lang, model_label, tr

MONEY = {"revenue", "costs", "income"}
TEXT = {"ru": {"total": "Всего"}, "en": {"total": "Total"}}


def value_text(metric: str, v: object, currency: str) -> str:
    """A forecast value: money, percent (ROI) or a count."""
    code = lang()
    x = None if v is None or pd.isna(v) else float(v)  # type: ignore[arg-type]
    if metric in MONEY:
        return fmt.money(x, code, currency)
    if metric == "roi":
        return fmt.pct(x, code)
    return fmt.num(x, code, 1 if x is not None and abs(x) < 10 else 0)


def period_text(p: pd.Timestamp, grain: str) -> str:
    """A period's start as the page names it: the month, or the week's first day."""
    code = lang()
    return fmt.month(p.date(), code) if grain == "month" else fmt.day(p.date(), code)


def group_label(by: str, group: str, label: str) -> str:
    """A group's name: "Total", a model's label (direct sales too), or the partner's name."""
    if by == "total":
        return tr(TEXT, "total")
    if by == "model" or group == "direct":
        return model_label(group)
    return label

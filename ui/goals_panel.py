"""Compact goal progress for the overview, partner and model pages, and the goal wording the goals page shares."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from metrics import lookups
from metrics.registry import METRICS
from presentation import fmt
from programme import goals
from ui.data import query
from ui.i18n import lang, metric_label, model_label, tr

TEXT = {
    "ru": {
        "title": "Цели", "none": "Целей на этот период нет — задайте их на странице «Цели программы».",
        "more": "и ещё {n} — все цели на странице «Цели программы».",
        "op.>=": "не меньше", "op.<=": "не больше", "sign.>=": "≥", "sign.<=": "≤",
        "scope.program": "Вся программа", "scope.model": "Модель: {model}", "scope.partner": "Партнёр: {partner}",
        "status.achieved": "достигнута", "status.on_track": "идём по плану", "status.off_track": "отстаём",
        "status.not_started": "ещё не началась", "status.no_data": "нет данных",
        "detail": "Сейчас {actual} из {target} · прогноз на конец периода {pace} · {status}",
        "detail.ratio": "Сейчас {actual}, цель {sign} {target} · {status}",
        "detail.wait": "Начнётся {start} · цель {sign} {target}",
        "detail.final": "Итог {actual}, цель {sign} {target} · {status}",
        "period": "{start} – {end}",
    },
    "en": {
        "title": "Goals", "none": "No goals for this period — set them on the “Program goals” page.",
        "more": "and {n} more — see every goal on the “Program goals” page.",
        "op.>=": "at least", "op.<=": "at most", "sign.>=": "≥", "sign.<=": "≤",
        "scope.program": "Whole program", "scope.model": "Model: {model}", "scope.partner": "Partner: {partner}",
        "status.achieved": "achieved", "status.on_track": "on track", "status.off_track": "off track",
        "status.not_started": "not started", "status.no_data": "no data",
        "detail": "Now {actual} of {target} · projected at period end {pace} · {status}",
        "detail.ratio": "Now {actual}, goal {sign} {target} · {status}",
        "detail.wait": "Starts {start} · goal {sign} {target}",
        "detail.final": "Final {actual}, goal {sign} {target} · {status}",
        "period": "{start} – {end}",
    },
}
STATUS_COLORS = {"achieved": "green", "on_track": "blue", "off_track": "red", "not_started": "gray",
                 "no_data": "gray"}
STATUS_ORDER = {"off_track": 0, "on_track": 1, "no_data": 2, "achieved": 3, "not_started": 4}
RECENT_DAYS = 31


def value_text(metric: str, value: object, currency: str = "RUB") -> str:
    """A goal's value formatted by the metric's unit (money, percent, days, count)."""
    code = lang()
    x = None if value is None or pd.isna(value) else float(value)
    unit = METRICS[metric].unit if metric in METRICS else "count"
    if unit == "money":
        return fmt.money(x, code, currency)
    if unit == "fraction":
        return fmt.pct(x, code)
    if unit in ("days", "score") or (unit == "count" and x is not None and not x.is_integer()):
        return fmt.num(x, code, 1)
    return fmt.num(x, code)


def status_label(status: str) -> str:
    """A status in the current language."""
    return tr(TEXT, f"status.{status}")


def scope_label(row: pd.Series | dict) -> str:
    """Whole program / Model: … / Partner: …"""
    if row["scope"] == "model":
        return tr(TEXT, "scope.model", model=model_label(row["model"]))
    if row["scope"] == "partner":
        return tr(TEXT, "scope.partner", partner=row.get("partner_name") or f"#{row['partner_id']}")
    return tr(TEXT, "scope.program")


def period_text(row: pd.Series | dict) -> str:
    """The goal's period as dates in the current language."""
    return tr(TEXT, "period", start=fmt.day(row["date_from"], lang()), end=fmt.day(row["date_to"], lang()))


def target_text(row: pd.Series | dict, currency: str = "RUB") -> str:
    """Metric, condition and target: Revenue ≥ ₽1,000,000."""
    return (f"{metric_label(row['metric'])} {tr(TEXT, 'sign.' + row['op'])} "
            f"{value_text(row['metric'], row['target'], currency)}")


def goal_title(row: pd.Series | dict, currency: str = "RUB", with_scope: bool = True) -> str:
    """One line naming a goal: Revenue ≥ ₽1,000,000 · Model: Referral · Apr 1 – Apr 30, 2024."""
    parts = [target_text(row, currency)]
    if with_scope:
        parts.append(scope_label(row))
    parts.append(period_text(row))
    return " · ".join(parts)


def detail_text(row: pd.Series | dict, currency: str = "RUB") -> str:
    """Where the goal stands: now / projected / status."""
    metric, sign = row["metric"], tr(TEXT, "sign." + row["op"])
    values = {"actual": value_text(metric, row["actual"], currency), "pace": value_text(metric, row["pace"], currency),
              "target": value_text(metric, row["target"], currency), "sign": sign,
              "status": status_label(row["status"]), "start": fmt.day(row["date_from"], lang())}
    if row["status"] == "not_started":
        return tr(TEXT, "detail.wait", **values)
    if row["finished"]:
        return tr(TEXT, "detail.final", **values)
    return tr(TEXT, "detail" if row["additive"] else "detail.ratio", **values)


def bar_value(row: pd.Series | dict) -> float:
    """0…1 for a progress bar: share of an at-least target reached; for at-most, how far inside the cap."""
    actual, target = row["actual"], row["target"]
    if actual is None or pd.isna(actual):
        return 0.0
    if row["op"] == ">=":
        share = actual / target if target > 0 else (1.0 if actual >= target else 0.0)
    elif row["additive"]:
        share = actual / target if target > 0 else 1.0  # budget used so far
    else:
        share = target / actual if actual > 0 else 1.0
    return float(min(max(share, 0.0), 1.0))


def relevant(df: pd.DataFrame, today: date) -> pd.DataFrame:
    """Goals running now or ended within the last month, the most urgent first."""
    if df.empty:
        return df
    keep = df[df["date_to"].map(lambda d: d >= today - timedelta(days=RECENT_DAYS))]
    order = keep["status"].map(STATUS_ORDER).fillna(9)
    return keep.assign(_o=order).sort_values(["_o", "date_to"], kind="stable").drop(columns="_o")


def render(scope: str, model: str | None = None, partner_id: int | None = None, limit: int = 5) -> None:
    """Progress bars of the goals of the program (scope="program"), one model or one partner."""
    info = query(lookups.freshness)
    currency = info.get("currency") or "RUB"
    df = query(goals.goal_progress_for, scope, model, None if partner_id is None else int(partner_id))
    today = query(goals.account_today)
    rows = relevant(df, today)
    key = f"goals_panel.{scope}.{model or ''}.{partner_id or ''}"
    with st.container(border=True, key=key):
        st.markdown(f"**{tr(TEXT, 'title')}**")
        if rows.empty:
            st.caption(tr(TEXT, "none"))
            return
        for row in rows.head(limit).to_dict("records"):
            title = fmt.plain(goal_title(row, currency, with_scope=False))
            st.progress(bar_value(row), text=title)
            color = STATUS_COLORS.get(row["status"], "gray")
            st.caption(f":{color}[●] " + fmt.plain(detail_text(row, currency)))
        if len(rows) > limit:
            st.caption(tr(TEXT, "more", n=len(rows) - limit))

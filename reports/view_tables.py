"""The tables of a view's export (KPIs, partners, models, costs, monthly) built from its ``ViewData``.

The tables carry what the screens show beside the raw numbers: the "мало лидов" mark (metrics' too_few), the 95 %
intervals and the pooled estimates of the leaderboard, the maturing / unfinished periods with the projection at
maturity. Every format (reports.exports, reports.view_pdf) renders these same tables.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from metrics import pooling
from presentation import fmt
from reports.table import Kind, Table
from reports.text import band_label, category_label, metric_label, model_label, sample_mark, say
from reports.view_data import ViewData

TABLES = ("kpis", "partners", "models", "costs", "monthly")
CATEGORIES = ("commission", "bonus", "marketing", "training", "support", "other")

# Metrics of the KPI list, with their kind; the order is the order in every report.
KPI_ROWS: tuple[tuple[str, Kind], ...] = (
    ("leads", "int"), ("qualified_leads", "int"), ("won_deals", "int"), ("conversion", "pct"),
    ("revenue", "money"), ("avg_check", "money"), ("revenue_share", "pct"), ("costs", "money"),
    ("costs_ledger", "money"), ("costs_commission", "money"), ("income", "money"), ("profit", "money"),
    ("roi", "pct"), ("roi_band", "text"), ("new_clients", "int"), ("cpa", "money"), ("ltv", "money"),
    ("time_to_close_days", "days"),
)
# Columns of the partner and model tables.
GROUP_COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("leads", "int"), ("qualified_leads", "int"), ("won_deals", "int"), ("conversion", "pct"),
    ("revenue", "money"), ("avg_check", "money"), ("revenue_share", "pct"), ("costs", "money"),
    ("profit", "money"), ("roi", "pct"), ("roi_band", "text"), ("new_clients", "int"), ("cpa", "money"),
    ("ltv", "money"), ("time_to_close_days", "days"),
)
MONTH_COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("leads", "int"), ("qualified_leads", "int"), ("won_deals", "int"), ("conversion", "pct"),
    ("revenue", "money"), ("costs", "money"), ("profit", "money"), ("roi", "pct"),
)
# What the leaderboard shows beside the raw conversion and ROI: their 95 % intervals and the pooled estimates
# (metrics.pooling) with theirs; the model table carries the raw intervals (the first screen's model bars).
PARTNER_HONESTY: tuple[str, ...] = (
    "conversion_low", "conversion_high", "conversion_pooled", "conversion_pooled_low", "conversion_pooled_high",
    "roi_low", "roi_high", "roi_pooled", "roi_pooled_low", "roi_pooled_high",
)
MODEL_HONESTY: tuple[str, ...] = ("conversion_low", "conversion_high", "roi_low", "roi_high")
PROJECTION: tuple[str, ...] = ("projected_revenue", "projected_revenue_low", "projected_revenue_high")


def _label_partner(row: pd.Series, lang: str) -> str:
    name = row.get("partner")
    if isinstance(name, str) and name:
        return name
    return model_label(row.get("model") or "direct", lang)


def _bands(series: pd.Series, lang: str) -> list[str]:
    return [band_label(b if isinstance(b, str) else None, lang) for b in series]


def _kpi_values(frame: pd.DataFrame | None, lang: str) -> list[Any]:
    """The KPI list's values of a one-row KPI frame (None where missing; the band as its label)."""
    row = frame.iloc[0] if frame is not None and len(frame) else pd.Series(dtype=object)
    values = []
    for name, _ in KPI_ROWS:
        value = row.get(name)
        if name == "roi_band":
            value = band_label(value if isinstance(value, str) else None, lang) if len(row) else None
        values.append(None if value is None or (not isinstance(value, str) and pd.isna(value)) else value)
    return values


def kpi_table(frame: pd.DataFrame, lang: str, currency: str, title_key: str = "t.kpis",
              before: pd.DataFrame | None = None) -> Table:
    """The KPI list of one row of kpis(): metric, value (and the comparison period's, when given), unit."""
    sym = fmt.currency_symbol(currency, lang)
    kinds = [kind for _, kind in KPI_ROWS]
    units = [{"money": sym, "pct": "%", "days": say(lang, "col.days_unit")}.get(kind, "") for kind in kinds]
    out = pd.DataFrame({"metric": [metric_label(n, lang) for n, _ in KPI_ROWS], "value": _kpi_values(frame, lang)})
    col_kinds: dict[str, Kind] = {"metric": "text", "value": "mixed", "unit": "text"}
    if before is not None:
        out["before"] = _kpi_values(before, lang)
        col_kinds["before"] = "mixed"
    out["unit"] = units
    return Table("kpis", say(lang, title_key), out, kinds=col_kinds,
                 labels={c: say(lang, f"col.{c}") for c in out.columns}, currency=sym, row_kinds=kinds)


def _metric_columns(frame: pd.DataFrame, columns: tuple[tuple[str, Kind], ...], lang: str,
                    out: pd.DataFrame, kinds: dict[str, Kind], labels: dict[str, str]) -> None:
    for name, kind in columns:
        if name not in frame.columns:
            continue
        out[name] = _bands(frame[name], lang) if name == "roi_band" else frame[name].to_numpy()
        kinds[name], labels[name] = kind, metric_label(name, lang)


def _marks(frame: pd.DataFrame, lang: str, out: pd.DataFrame, kinds: dict[str, Kind],
           labels: dict[str, str]) -> None:
    """The sample note of each row (мало лидов / нет лидов, as the leaderboard says it) and its maturing note."""
    few = frame["too_few"] if "too_few" in frame.columns else pd.Series(False, index=frame.index)
    out["sample"] = [sample_mark(x, n, c, lang) if pd.notna(pid) or "partner_id" not in frame.columns else ""
                     for x, n, c, pid in zip(few, frame["leads"], frame["costs"],
                                             frame.get("partner_id", few), strict=True)]
    maturing = frame["maturing"] if "maturing" in frame.columns else pd.Series(False, index=frame.index)
    out["maturing"] = [say(lang, "status.maturing") if bool(m) else "" for m in maturing.fillna(False)]
    kinds["sample"], labels["sample"] = "text", say(lang, "col.sample")
    kinds["maturing"], labels["maturing"] = "text", say(lang, "col.maturing")


def partners_table(frame: pd.DataFrame, lang: str, currency: str) -> Table:
    """One row per partner (direct as the baseline row): every comparable metric, the leaderboard's 95 % intervals
    and pooled estimates, the sample and maturing notes."""
    if "conversion_pooled" not in frame.columns:  # a frame read without them: the leaderboard's estimates
        frame = pooling.add_pooled(frame)
    out = pd.DataFrame({"partner": [_label_partner(r, lang) for _, r in frame.iterrows()],
                        "model": [model_label(m, lang) for m in frame["model"]]}, index=frame.index)
    kinds: dict[str, Kind] = {"partner": "text", "model": "text"}
    labels = {"partner": say(lang, "col.partner"), "model": say(lang, "col.model")}
    _metric_columns(frame, GROUP_COLUMNS, lang, out, kinds, labels)
    _metric_columns(frame, tuple((c, "pct") for c in PARTNER_HONESTY), lang, out, kinds, labels)
    _marks(frame, lang, out, kinds, labels)
    return Table("partners", say(lang, "t.partners"), out.reset_index(drop=True), kinds, labels,
                 fmt.currency_symbol(currency, lang))


def models_table(frame: pd.DataFrame, lang: str, currency: str) -> Table:
    """One row per partnership model, direct included, with the conversion and ROI 95 % intervals."""
    out = pd.DataFrame({"model": [model_label(m, lang) for m in frame["model"]]}, index=frame.index)
    kinds: dict[str, Kind] = {"model": "text"}
    labels = {"model": say(lang, "col.model")}
    _metric_columns(frame, GROUP_COLUMNS, lang, out, kinds, labels)
    _metric_columns(frame, tuple((c, "pct") for c in MODEL_HONESTY), lang, out, kinds, labels)
    _marks(frame, lang, out, kinds, labels)
    return Table("models", say(lang, "t.models"), out.reset_index(drop=True), kinds, labels,
                 fmt.currency_symbol(currency, lang))


def costs_table(frame: pd.DataFrame, lang: str, currency: str) -> Table:
    """Costs by partner and category: ledger categories, commission by rules, total."""
    rows = frame[frame["costs"].fillna(0).abs() > 1e-9] if len(frame) else frame
    out = pd.DataFrame({"partner": [_label_partner(r, lang) for _, r in rows.iterrows()],
                        "model": [model_label(m, lang) for m in rows["model"]]}, index=rows.index)
    kinds: dict[str, Kind] = {"partner": "text", "model": "text"}
    labels = {"partner": say(lang, "col.partner"), "model": say(lang, "col.model")}
    for cat in CATEGORIES:
        out[f"cost_{cat}"] = rows[f"cost_{cat}"].to_numpy()
        kinds[f"cost_{cat}"], labels[f"cost_{cat}"] = "money", category_label(cat, lang)
    out["costs_commission"] = rows["costs_commission"].to_numpy()
    kinds["costs_commission"] = "money"
    labels["costs_commission"] = category_label("computed_commission", lang)
    out["costs"] = rows["costs"].to_numpy()
    kinds["costs"], labels["costs"] = "money", metric_label("costs", lang)
    return Table("costs", say(lang, "t.costs"), out.reset_index(drop=True), kinds, labels,
                 fmt.currency_symbol(currency, lang))


def period_status(row: pd.Series, lang: str) -> str:
    """"not finished" for the current period, "maturing" for a young cohort, else empty (as the charts mark them)."""
    if bool(row.get("incomplete")):
        return say(lang, "status.incomplete")
    return say(lang, "status.maturing") if bool(row.get("maturing")) else ""


def monthly_table(frame: pd.DataFrame, lang: str, currency: str) -> Table:
    """One row per month of the period: the metrics, the month's status and, while it matures, the revenue projected
    at maturity with its 80 % interval (metrics.maturity)."""
    out = pd.DataFrame({"period": frame["period"].to_numpy()}, index=frame.index)
    kinds: dict[str, Kind] = {"period": "month"}
    labels = {"period": say(lang, "col.period")}
    _metric_columns(frame, MONTH_COLUMNS, lang, out, kinds, labels)
    out["status"] = [period_status(r, lang) for _, r in frame.iterrows()]
    kinds["status"], labels["status"] = "text", say(lang, "col.status")
    maturing = frame["maturing"].fillna(False).astype(bool) if "maturing" in frame.columns else None
    for col in PROJECTION:
        if maturing is not None and col in frame.columns:
            out[col] = frame[col].where(maturing).to_numpy()
            kinds[col], labels[col] = "money", say(lang, f"col.{col}")
    return Table("monthly", say(lang, "t.monthly"), out.reset_index(drop=True), kinds, labels,
                 fmt.currency_symbol(currency, lang))


def tables(data: ViewData, lang: str) -> dict[str, Table]:
    """Every table of a view by key (kpis, partners, models, costs, monthly)."""
    cur = data.currency
    return {
        "kpis": kpi_table(data.kpis, lang, cur, before=data.before if len(data.before) else None),
        "partners": partners_table(data.partners, lang, cur), "models": models_table(data.models, lang, cur),
        "costs": costs_table(data.partners, lang, cur), "monthly": monthly_table(data.monthly, lang, cur),
    }

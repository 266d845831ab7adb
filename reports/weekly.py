"""The weekly meeting pack: KPIs week over week, top movers, ROI band changes, anomalies; PDF + XLSX.

Weeks are the 7 days ending on ``week_ending`` (default: the last completed Sunday). Deals count by close
date by default (what was won this week); ``view="cohort"`` switches to the lead-creation view.
Band changes compare the ROI band over the 28 days ending this week with the 28 days ending a week
earlier (a single week's ROI is mostly noise). Anomalies: the week's value against the median of the
previous ``BASELINE_WEEKS`` weeks, in robust deviations (1.4826 × MAD, floored so that a flat history
does not turn every change into an alarm); flagged beyond ``THRESHOLD``. In the cohort view a week whose deals are
still closing (maturing, metrics.maturity) gets no anomaly verdict and is nobody's baseline, and partners maturing
in either compared window are left out of the movers and band changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from metrics import goals, lookups, maturity
from metrics.engine import grouped, kpis
from metrics.filters import Filters, View
from reports import charts, xlsx
from reports.exports import filter_lines, generated_text, pdf_table, source_text
from reports.pdf import ReportPDF
from reports.table import Kind, Table
from reports.text import band_label, metric_label, model_label, say
from ui import fmt

SERIES_WEEKS = 12
BASELINE_WEEKS = 8
THRESHOLD = 3.5
MAD_SCALE = 1.4826
TOP_MOVERS = 5
BAND_DAYS = 28
SUMMARY: tuple[tuple[str, Kind], ...] = (
    ("leads", "int"), ("qualified_leads", "int"), ("won_deals", "int"), ("conversion", "pct"),
    ("revenue", "money"), ("avg_check", "money"), ("costs", "money"), ("profit", "money"), ("roi", "pct"),
    ("new_clients", "int"), ("cpa", "money"),
)
ANOMALY_METRICS: tuple[tuple[str, Kind], ...] = (("leads", "int"), ("won_deals", "int"), ("revenue", "money"))
BAND_ORDER = {"loss": 0, "marginal": 1, "profitable": 2, "excellent": 3}


@dataclass
class WeeklyPack:
    """Everything the weekly report shows, computed once (language-independent)."""

    week_ending: date
    week: Filters
    previous: Filters
    summary: pd.DataFrame          # metric, kind, this_week, last_week, change, change_pct
    movers: pd.DataFrame           # partner_id, partner, model, leads_*, revenue_*, change, change_pct, too_few
    bands: pd.DataFrame            # partner_id, partner, model, band_before, band_now, roi_before, roi_now, too_few
    anomalies: pd.DataFrame        # series, metric, kind, week, actual, expected, z
    series: pd.DataFrame           # week (end date), leads, won_deals, revenue, leads_anomaly
    partner_names: dict[int, str] = field(default_factory=dict)
    pipeline_names: dict[int, str] = field(default_factory=dict)
    freshness: dict[str, Any] = field(default_factory=dict)
    generated_at: datetime = field(default_factory=lambda: datetime.now().astimezone())
    goals: pd.DataFrame = field(default_factory=pd.DataFrame)  # goals off track (metrics.goals.goals_off_track)

    @property
    def currency(self) -> str:
        """ISO code of the account currency."""
        return str(self.freshness.get("currency") or "RUB")


# ---------- dates ----------

def last_sunday(today: date) -> date:
    """The last completed week's Sunday: yesterday on a Monday, a week ago on a Sunday."""
    return today - timedelta(days=today.weekday() + 1)


def week_filters(week_ending: date, base: Filters | None = None, view: View = "close", weeks_back: int = 0,
                 days: int = 7) -> Filters:
    """The `days`-long window ending `weeks_back` weeks before week_ending, with the narrowing of base."""
    end = week_ending - timedelta(days=7 * weeks_back)
    start = end - timedelta(days=days - 1)
    if base is None:
        return Filters(start, end, view=view)
    return replace(base, date_from=start, date_to=end, view=view)


# ---------- arithmetic on metric rows ----------

def _num(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def change(now: Any, before: Any) -> tuple[float | None, float | None]:
    """Absolute and relative change (relative None when before is 0 or missing)."""
    a, b = _num(now), _num(before)
    if a is None or b is None:
        return None, None
    return a - b, ((a - b) / abs(b) if b else None)


def summary_frame(now: pd.Series, before: pd.Series) -> pd.DataFrame:
    """This week vs last week for each summary metric."""
    rows = []
    for name, kind in SUMMARY:
        diff, rel = change(now.get(name), before.get(name))
        rows.append({"metric": name, "kind": kind, "this_week": _num(now.get(name)),
                     "last_week": _num(before.get(name)), "change": diff, "change_pct": rel})
    return pd.DataFrame(rows)


def movers_frame(now: pd.DataFrame, before: pd.DataFrame, top: int = TOP_MOVERS) -> pd.DataFrame:
    """Partners whose revenue (then leads) changed most week over week, biggest absolute change first."""
    cols = ["partner_id", "partner", "model", "leads", "revenue", "too_few"]
    a = now[now["partner_id"].notna()][cols]
    b = before[before["partner_id"].notna()][["partner_id", "leads", "revenue"]]
    both = a.merge(b, on="partner_id", how="outer", suffixes=("_now", "_before"))
    if both.empty:
        return pd.DataFrame(columns=[*cols, "leads_now", "leads_before", "revenue_now", "revenue_before",
                                     "change", "change_pct", "leads_change"])
    for col in ("leads_now", "leads_before", "revenue_now", "revenue_before"):
        both[col] = pd.to_numeric(both[col], errors="coerce").fillna(0.0)
    both["change"] = both["revenue_now"] - both["revenue_before"]
    both["change_pct"] = [change(x, y)[1] for x, y in zip(both["revenue_now"], both["revenue_before"], strict=True)]
    both["leads_change"] = both["leads_now"] - both["leads_before"]
    both["too_few"] = both["too_few"].astype("boolean").fillna(True)
    moved = both[(both["change"].abs() > 0) | (both["leads_change"].abs() > 0)].copy()
    moved["rank"] = list(zip(moved["change"].abs(), moved["leads_change"].abs(), strict=True))
    return moved.sort_values("rank", ascending=False).drop(columns="rank").head(top).reset_index(drop=True)


def bands_frame(now: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    """Partners whose ROI band differs between the two 28-day windows (well-measured partners first)."""
    keep = ["partner_id", "partner", "model", "roi", "roi_band", "too_few"]
    a = now[now["partner_id"].notna()][keep]
    b = before[before["partner_id"].notna()][["partner_id", "roi", "roi_band", "too_few"]]
    both = a.merge(b, on="partner_id", suffixes=("_now", "_before"))
    crossed = both[both["roi_band_now"].fillna("n/a") != both["roi_band_before"].fillna("n/a")].copy()
    crossed["too_few"] = crossed["too_few_now"].astype(bool) | crossed["too_few_before"].astype(bool)
    crossed["up"] = [BAND_ORDER.get(n, -1) > BAND_ORDER.get(b, -1)
                     for n, b in zip(crossed["roi_band_now"], crossed["roi_band_before"], strict=True)]
    crossed = crossed.rename(columns={"roi_band_now": "band_now", "roi_band_before": "band_before"})
    out = crossed[["partner_id", "partner", "model", "band_before", "band_now", "roi_before", "roi_now",
                   "too_few", "up"]]
    return out.sort_values(["too_few", "partner"], kind="stable").reset_index(drop=True)


def robust_z(history: list[float], value: float, count: bool) -> tuple[float, float]:
    """(median of history, robust z of value): scale = max(1.4826·MAD, 10 % of |median|, √median for counts, 1)."""
    s = pd.Series(history, dtype=float)
    med = float(s.median())
    mad = float((s - med).abs().median())
    scale = max(MAD_SCALE * mad, 0.1 * abs(med), math.sqrt(max(med, 1.0)) if count else 0.0, 1.0)
    return med, (value - med) / scale


def anomalies_frame(series: pd.DataFrame, label: str, kinds: tuple[tuple[str, Kind], ...] = ANOMALY_METRICS,
                    baseline: int = BASELINE_WEEKS, threshold: float = THRESHOLD,
                    min_median: float = 0.0) -> pd.DataFrame:
    """Anomalies of the last week of a weekly series (week, metrics...) against its previous `baseline` weeks."""
    rows = []
    ordered = series.sort_values("week")
    if "maturing" in ordered.columns and len(ordered):  # a maturing week gets no verdict and is no baseline
        if bool(ordered["maturing"].iloc[-1]):
            return pd.DataFrame(rows, columns=["series", "metric", "kind", "week", "actual", "expected", "z"])
        ordered = ordered[~ordered["maturing"].astype(bool)]
    for metric, kind in kinds:
        values = [v if v is not None else 0.0 for v in (_num(x) for x in ordered[metric])]
        if len(values) < baseline + 1:
            continue
        history, value = values[-baseline - 1:-1], values[-1]
        med, z = robust_z(history, value, kind == "int")
        if abs(z) > threshold and max(med, value) >= min_median:
            rows.append({"series": label or None, "metric": metric, "kind": kind, "week": ordered["week"].iloc[-1],
                         "actual": value, "expected": med, "z": z})
    return pd.DataFrame(rows, columns=["series", "metric", "kind", "week", "actual", "expected", "z"])


# ---------- reading ----------

def _weekly_rows(con: duckdb.DuckDBPyConnection, week_ending: date, base: Filters | None, view: View,
                 weeks: int) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Total and per-partner KPI rows of each of the last `weeks` weeks (index 0 = the week itself)."""
    if week_ending.weekday() == 6:  # Monday-to-Sunday weeks are the engine's week buckets: two queries
        return _bucketed_rows(con, week_ending, base, view, weeks)
    totals, partners = [], []
    for back in range(weeks):
        f = week_filters(week_ending, base, view, back)
        totals.append(kpis(con, f))
        partners.append(kpis(con, f, by="partner"))
    return totals, partners


def _bucketed_rows(con: duckdb.DuckDBPyConnection, week_ending: date, base: Filters | None, view: View,
                   weeks: int) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Same as the per-week loop, from grouped(("week",)) and grouped(("week", "partner")) over all weeks."""
    span = week_filters(week_ending, base, view, 0, days=7 * weeks)
    by_week, by_partner = grouped(con, span, "week"), grouped(con, span, ("week", "partner"))
    totals, partners = [], []
    for back in range(weeks):
        start = week_ending - timedelta(days=7 * back + 6)
        totals.append(by_week[by_week["period"] == start].drop(columns="period").reset_index(drop=True))
        partners.append(by_partner[by_partner["period"] == start].drop(columns="period").reset_index(drop=True))
    return totals, partners


def _series(totals: list[pd.DataFrame], week_ending: date) -> pd.DataFrame:
    rows = []
    for back, frame in enumerate(totals):
        row = frame.iloc[0] if len(frame) else pd.Series(dtype=object)
        rows.append({"week": week_ending - timedelta(days=7 * back), "maturing": bool(row.get("maturing", False)),
                     **{m: _num(row.get(m)) or 0.0 for m, _ in ANOMALY_METRICS}})
    return pd.DataFrame(rows).sort_values("week").reset_index(drop=True)


def _partner_anomalies(partners: list[pd.DataFrame], week_ending: date) -> list[pd.DataFrame]:
    """Lead-count anomalies of each partner (revenue per partner per week is too lumpy to judge)."""
    frames = []
    names = {int(p): str(n) for fr in partners for p, n in zip(fr["partner_id"], fr["partner"], strict=True)
             if not pd.isna(p)}
    for pid, name in names.items():
        rows = []
        for back, fr in enumerate(partners):
            hit = fr[fr["partner_id"] == pid]
            rows.append({"week": week_ending - timedelta(days=7 * back),
                         "leads": float(hit["leads"].iloc[0]) if len(hit) else 0.0,
                         "maturing": bool(hit["maturing"].iloc[0]) if len(hit) else False})
        frames.append(anomalies_frame(pd.DataFrame(rows), name, (("leads", "int"),), min_median=3.0))
    return frames


def build_weekly(con: duckdb.DuckDBPyConnection, week_ending: date | None = None, base: Filters | None = None,
                 view: View = "close") -> WeeklyPack:
    """Compute the weekly pack for the week ending on week_ending (default: the last completed Sunday)."""
    fresh = lookups.freshness(con)
    tz = ZoneInfo(str(fresh.get("timezone") or "Europe/Moscow"))
    week_ending = week_ending or last_sunday(datetime.now(tz).date())
    totals, partners = _weekly_rows(con, week_ending, base, view, SERIES_WEEKS)
    series = _series(totals, week_ending)
    total_anomalies = anomalies_frame(series, "")  # series None = the whole program
    found = [f for f in [total_anomalies, *_partner_anomalies(partners, week_ending)] if not f.empty]
    anomalies = pd.concat(found, ignore_index=True) if found else anomalies_frame(series.head(0), "")
    leads_flag = set(total_anomalies.loc[total_anomalies["metric"] == "leads", "week"])
    series["leads_anomaly"] = series["week"].isin(leads_flag)
    band_now = kpis(con, week_filters(week_ending, base, view, 0, BAND_DAYS), by="partner")
    band_before = kpis(con, week_filters(week_ending, base, view, 1, BAND_DAYS), by="partner")
    return WeeklyPack(
        week_ending=week_ending, week=week_filters(week_ending, base, view),
        previous=week_filters(week_ending, base, view, 1),
        summary=summary_frame(_first(totals[0]), _first(totals[1])),
        movers=movers_frame(*maturity.settled(partners[0], partners[1])),
        bands=bands_frame(*maturity.settled(band_now, band_before)),
        anomalies=anomalies, series=series,
        partner_names={int(k): str(v) for k, v in lookups.partners(con)[["partner_id", "name"]].itertuples(index=False)},
        pipeline_names={int(k): str(v) for k, v in
                        lookups.pipelines(con)[["pipeline_id", "name"]].itertuples(index=False)},
        freshness=fresh, generated_at=datetime.now(tz), goals=goals.goals_off_track(con, week_ending),
    )


def _first(frame: pd.DataFrame) -> pd.Series:
    return frame.iloc[0] if len(frame) else pd.Series(dtype=object)


# ---------- rendering ----------

def period_text(f: Filters, lang: str) -> str:
    """A week as text: 3 нояб. 2026 г. – 9 нояб. 2026 г."""
    return f"{fmt.day(f.date_from, lang)} – {fmt.day(f.date_to, lang)}"


def _signed(value: float | None, kind: str, lang: str, currency: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return fmt.DASH
    if kind == "pct":
        return fmt.signed_pp(value, lang)
    sign = "+" if value >= 0 else "\u2212"
    body = fmt.money(abs(value), lang, currency) if kind == "money" else fmt.num(abs(value), lang)
    return sign + body


def summary_table(pack: WeeklyPack, lang: str) -> Table:
    """This week, last week, change and relative change per summary metric (per-row number formats)."""
    s = pack.summary
    frame = pd.DataFrame({"metric": [metric_label(m, lang) for m in s["metric"]], "this_week": s["this_week"],
                          "last_week": s["last_week"], "change": s["change"], "change_pct": s["change_pct"]})
    labels = {c: say(lang, f"col.{c}") for c in frame.columns}
    return Table("summary", say(lang, "t.deltas"), frame,
                 {"metric": "text", "this_week": "mixed", "last_week": "mixed", "change": "mixed",
                  "change_pct": "pct"}, labels, fmt.currency_symbol(pack.currency, lang), list(s["kind"]))


def movers_table(pack: WeeklyPack, lang: str) -> Table:
    """Top movers by revenue change."""
    m = pack.movers
    frame = pd.DataFrame({
        "partner": m["partner"].astype(object), "model": [model_label(x, lang) for x in m["model"]],
        "leads_before": m["leads_before"], "leads_now": m["leads_now"], "revenue_before": m["revenue_before"],
        "revenue_now": m["revenue_now"], "change": m["change"], "change_pct": m["change_pct"],
        "too_few": [say(lang, "yes") if bool(x) else say(lang, "no") for x in m["too_few"]],
    })
    lead, rev = metric_label("leads", lang), metric_label("revenue", lang)
    last, this = say(lang, "col.last_week").lower(), say(lang, "col.this_week").lower()
    labels = {"partner": say(lang, "col.partner"), "model": say(lang, "col.model"),
              "leads_before": f"{lead}: {last}", "leads_now": f"{lead}: {this}",
              "revenue_before": f"{rev}: {last}", "revenue_now": f"{rev}: {this}",
              "change": say(lang, "col.change"), "change_pct": say(lang, "col.change_pct"),
              "too_few": say(lang, "col.too_few")}
    kinds: dict[str, Kind] = {"partner": "text", "model": "text", "leads_before": "int", "leads_now": "int",
                              "revenue_before": "money", "revenue_now": "money", "change": "money",
                              "change_pct": "pct", "too_few": "text"}
    return Table("movers", say(lang, "t.movers"), frame, kinds, labels, fmt.currency_symbol(pack.currency, lang))


def bands_table(pack: WeeklyPack, lang: str) -> Table:
    """Partners whose ROI band changed."""
    b = pack.bands
    frame = pd.DataFrame({
        "partner": b["partner"].astype(object), "model": [model_label(x, lang) for x in b["model"]],
        "band_before": [band_label(x, lang) for x in b["band_before"]],
        "band_now": [band_label(x, lang) for x in b["band_now"]],
        "roi_before": b["roi_before"], "roi_now": b["roi_now"],
        "too_few": [say(lang, "yes") if bool(x) else say(lang, "no") for x in b["too_few"]],
    })
    labels = {"partner": say(lang, "col.partner"), "model": say(lang, "col.model"),
              **{c: say(lang, f"col.{c}") for c in ("band_before", "band_now", "roi_before", "roi_now", "too_few")}}
    kinds: dict[str, Kind] = {"roi_before": "pct", "roi_now": "pct"}
    return Table("bands", say(lang, "t.bands"), frame, kinds, labels)


def anomalies_table(pack: WeeklyPack, lang: str) -> Table:
    """Anomalies of the week: series, metric, actual, usual, deviation in robust units, direction."""
    a = pack.anomalies
    frame = pd.DataFrame({
        "series": [x if isinstance(x, str) and x else say(lang, "total") for x in a["series"]],
        "metric": [metric_label(m, lang) for m in a["metric"]], "actual": a["actual"], "expected": a["expected"],
        "z": a["z"], "direction": [say(lang, "up" if z > 0 else "down") for z in a["z"]],
    })
    labels = {"series": say(lang, "col.series"), "metric": say(lang, "col.metric"),
              "actual": say(lang, "col.actual"), "expected": say(lang, "col.expected"),
              "z": "z (MAD)", "direction": say(lang, "col.direction")}
    kinds: dict[str, Kind] = {"actual": "mixed", "expected": "mixed", "z": "number"}
    return Table("anomalies", say(lang, "t.anomalies"), frame, kinds, labels,
                 fmt.currency_symbol(pack.currency, lang), list(a["kind"]))


def goals_table(pack: WeeklyPack, lang: str) -> Table:
    """Goals off track: whose goal, metric, target, actual so far and pace to the period end."""
    g = pack.goals
    if g.empty:
        g = pd.DataFrame(columns=["scope", "model", "partner_name", "metric", "op", "target", "actual", "pace",
                                  "date_to"])
    who = [str(r["partner_name"]) if r["scope"] == "partner" else
           (model_label(r["model"], lang) if r["scope"] == "model" else say(lang, "total"))
           for r in g.to_dict("records")]
    frame = pd.DataFrame({
        "who": who, "metric": [metric_label(m, lang) for m in g["metric"]],
        "target": [f"{op} {t:g}" for op, t in zip(g["op"], g["target"], strict=True)],
        "actual": g["actual"], "pace": g["pace"], "date_to": g["date_to"],
    })
    labels = {"who": say(lang, "col.series"), "metric": say(lang, "col.metric"), "target": say(lang, "col.target"),
              "actual": say(lang, "col.actual"), "pace": say(lang, "col.pace"), "date_to": say(lang, "col.until")}
    kinds: dict[str, Kind] = {"target": "text", "actual": "number", "pace": "number", "date_to": "date"}
    return Table("goals", say(lang, "t.goals"), frame, kinds, labels)


def series_table(pack: WeeklyPack, lang: str) -> Table:
    """The weekly series behind the anomaly check (week end date, leads, won deals, revenue)."""
    s = pack.series
    frame = s[["week", "leads", "won_deals", "revenue"]].copy()
    labels = {"week": say(lang, "col.week"), **{m: metric_label(m, lang) for m, _ in ANOMALY_METRICS}}
    kinds: dict[str, Kind] = {"week": "date", "leads": "int", "won_deals": "int", "revenue": "money"}
    return Table("series", say(lang, "t.series"), frame, kinds, labels, fmt.currency_symbol(pack.currency, lang))


def weekly_tables(pack: WeeklyPack, lang: str) -> list[Table]:
    """Every table of the pack, in report order."""
    return [summary_table(pack, lang), movers_table(pack, lang), bands_table(pack, lang),
            anomalies_table(pack, lang), goals_table(pack, lang), series_table(pack, lang)]


def header_lines(pack: WeeklyPack, lang: str) -> list[tuple[str, str]]:
    """Week, comparison week, filters, data source and generation time."""
    return [(say(lang, "period"), say(lang, "w.week", period=period_text(pack.week, lang),
                                      previous=period_text(pack.previous, lang))),
            *filter_lines(pack.week, pack.partner_names, pack.pipeline_names, lang),
            (say(lang, "source"), source_text(pack.freshness, lang)),
            (say(lang, "generated"), generated_text(pack.generated_at))]


def title(pack: WeeklyPack, lang: str) -> str:
    """Report title with the week."""
    return f"{say(lang, 'weekly.title')}: {period_text(pack.week, lang)}"


def _summary_rows(table: Table, pack: WeeklyPack, lang: str) -> list[list[str]]:
    from reports.exports import cell_text

    rows = []
    for i in range(len(table.frame)):
        kind = table.row_kinds[i]
        r = table.frame.iloc[i]
        rows.append([r["metric"], cell_text(r["this_week"], kind, lang, pack.currency),
                     cell_text(r["last_week"], kind, lang, pack.currency),
                     _signed(_num(r["change"]), kind, lang, pack.currency),
                     fmt.signed_pct(_num(r["change_pct"]), lang)])
    return rows


def weekly_pdf(pack: WeeklyPack, lang: str = "ru") -> bytes:
    """The pack as a PDF: summary with deltas, leads chart, movers, band changes, anomalies."""
    head = title(pack, lang)
    doc = ReportPDF(head, lang, landscape=True)
    doc.heading(head)
    doc.key_values(header_lines(pack, lang))
    tables = weekly_tables(pack, lang)
    summary = tables[0]
    doc.heading(summary.title, size=12)
    doc.table_rows([summary.label(c) for c in summary.columns], _summary_rows(summary, pack, lang),
                   ["L", "R", "R", "R", "R"], [3, 2, 2, 2, 1.5], width=190)
    chart_rows = pack.series.rename(columns={"leads": "value", "leads_anomaly": "is_anomaly"})
    doc.picture(charts.to_png(charts.weekly_line(chart_rows, say(lang, "chart.leads_weekly")), lang),
                max_height=doc.eph * 0.35)
    for table in tables[1:5]:  # movers, bands, anomalies, goals off track (the series stays in the XLSX)
        if doc.get_y() > doc.page_break_trigger - 40:
            doc.add_page()
        pdf_table(doc, table, lang, pack.currency)
        note = {"bands": say(lang, "w.bands_note"),
                "anomalies": say(lang, "w.anomaly_note", n=BASELINE_WEEKS, k=str(THRESHOLD).replace(
                    ".", "," if lang == "ru" else "."))}.get(table.key)
        if note:
            doc.para(note, size=8, muted=True)
    return doc.render()


def weekly_xlsx(pack: WeeklyPack, lang: str = "ru") -> bytes:
    """The pack as an XLSX workbook: a cover sheet, then one sheet per table."""
    return xlsx.workbook(weekly_tables(pack, lang), title=say(lang, "weekly.title"), info=header_lines(pack, lang))


def email_text(pack: WeeklyPack, lang: str = "ru") -> tuple[str, str]:
    """Subject and plain-text body of the weekly e-mail (headline numbers, no secrets)."""
    period = period_text(pack.week, lang)
    s = pack.summary.set_index("metric")
    lines = [
        say(lang, "w.leads_line", now=fmt.num(_num(s.at["leads", "this_week"]), lang),
            delta=fmt.signed_pct(_num(s.at["leads", "change_pct"]), lang)),
        say(lang, "w.revenue_line", now=fmt.money(_num(s.at["revenue", "this_week"]), lang, pack.currency),
            delta=fmt.signed_pct(_num(s.at["revenue", "change_pct"]), lang)),
        say(lang, "w.roi_line", now=fmt.pct(_num(s.at["roi", "this_week"]), lang)),
    ]
    return say(lang, "w.subject", period=period), say(lang, "w.body", period=period, lines="\n".join(lines))


def write_weekly(pack: WeeklyPack, out_dir: Path, lang: str = "ru") -> list[Path]:
    """Write the PDF and XLSX of a pack into out_dir (created if needed); return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"partner-roi-weekly-{pack.week_ending:%Y-%m-%d}-{lang}"
    paths = [out_dir / f"{stem}.pdf", out_dir / f"{stem}.xlsx"]
    for path, data in zip(paths, (weekly_pdf(pack, lang), weekly_xlsx(pack, lang)), strict=True):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return paths

"""The weekly meeting pack as PDF + XLSX + e-mail: KPIs week over week, top movers, ROI band changes, anomalies,
goals off track, the partner lifecycle's week (new, woke up, fell asleep).

The pack itself (weeks, windows, the mover / band / anomaly rules, maturing periods left out) is computed by
programme.weekly, which the meeting screens (pages/meeting.py) read too, so the e-mail and the meeting never disagree;
its names are re-exported here for the report's callers. This module only renders it.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from metrics.changes import TOP_MOVERS, change
from metrics.changes import number as _num
from presentation import fmt
from presentation import lifecycle as lifecycle_words
from presentation.periods import period_text
from presentation.rules import anomaly_rule
from programme.weekly import (
    ANOMALY_METRICS,
    SERIES_WEEKS,
    WeeklyPack,
    build_weekly,
    default_week,
    last_sunday,
    week_filters,
    week_maturing,
)
from reports import charts, header, xlsx
from reports.cells import cell_text, pdf_table
from reports.pdf import ReportPDF
from reports.table import Kind, Table
from reports.text import band_label, few_word, metric_label, model_label, say

# The pack's names (programme.weekly) that the report's callers — the CLI, the reports page, tests — reach through here.
__all__ = [
    "SERIES_WEEKS", "TOP_MOVERS", "WeeklyPack", "build_weekly", "change",
    "default_week", "last_sunday", "week_filters", "week_maturing",
    "anomalies_table", "bands_table", "email_text", "goals_table", "header_lines", "lifecycle_line", "lifecycle_table", "movers_table", "series_table",
    "summary_table", "title", "weekly_pdf", "weekly_tables", "weekly_xlsx", "write_weekly",
]


# ---------- rendering ----------

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


def _few_marks(too_few: pd.Series, lang: str) -> list[str]:
    """The "мало лидов" mark where a row has too few leads (in either compared window), else empty."""
    return [few_word(lang) if bool(x) else "" for x in too_few.fillna(True)]


def movers_table(pack: WeeklyPack, lang: str) -> Table:
    """Top movers by revenue change."""
    m = pack.movers
    frame = pd.DataFrame({
        "partner": m["partner"].astype(object), "model": [model_label(x, lang) for x in m["model"]],
        "leads_before": m["leads_before"], "leads_now": m["leads_now"], "revenue_before": m["revenue_before"],
        "revenue_now": m["revenue_now"], "change": m["change"], "change_pct": m["change_pct"],
        "sample": _few_marks(m["too_few"], lang),
    })
    lead, rev = metric_label("leads", lang), metric_label("revenue", lang)
    last, this = say(lang, "col.last_week").lower(), say(lang, "col.this_week").lower()
    labels = {"partner": say(lang, "col.partner"), "model": say(lang, "col.model"),
              "leads_before": f"{lead}: {last}", "leads_now": f"{lead}: {this}",
              "revenue_before": f"{rev}: {last}", "revenue_now": f"{rev}: {this}",
              "change": say(lang, "col.change"), "change_pct": say(lang, "col.change_pct"),
              "sample": say(lang, "col.sample")}
    kinds: dict[str, Kind] = {"partner": "text", "model": "text", "leads_before": "int", "leads_now": "int",
                              "revenue_before": "money", "revenue_now": "money", "change": "money",
                              "change_pct": "pct", "sample": "text"}
    return Table("movers", say(lang, "t.movers"), frame, kinds, labels, fmt.currency_symbol(pack.currency, lang))


def bands_table(pack: WeeklyPack, lang: str) -> Table:
    """Partners whose ROI band changed."""
    b = pack.bands
    frame = pd.DataFrame({
        "partner": b["partner"].astype(object), "model": [model_label(x, lang) for x in b["model"]],
        "band_before": [band_label(x, lang) for x in b["band_before"]],
        "band_now": [band_label(x, lang) for x in b["band_now"]],
        "roi_before": b["roi_before"], "roi_now": b["roi_now"], "sample": _few_marks(b["too_few"], lang),
    })
    labels = {"partner": say(lang, "col.partner"), "model": say(lang, "col.model"),
              **{c: say(lang, f"col.{c}") for c in ("band_before", "band_now", "roi_before", "roi_now", "sample")}}
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
              "z": say(lang, "col.z"), "direction": say(lang, "col.direction")}
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


LIFECYCLE_COLUMNS = ("change_kind", "partner", "model", "stage_before", "stage", "last_lead", "leads")


def lifecycle_table(pack: WeeklyPack, lang: str) -> Table:
    """The lifecycle's moves of the week: new, woke up, fell asleep (in that order), each partner with its stage at
    the week's start and end, last lead and leads in total."""
    week = pack.lifecycle
    rows = []
    for kind in lifecycle_words.KINDS:
        moved = getattr(week, kind) if week is not None else pd.DataFrame()
        for r in moved.to_dict("records"):
            rows.append({
                "change_kind": lifecycle_words.kind_label(kind, lang), "partner": str(r["partner"]),
                "model": model_label(r["model"], lang),
                "stage_before": fmt.DASH if r["stage_before"] is None else
                lifecycle_words.stage_label(r["stage_before"], lang),
                "stage": lifecycle_words.stage_label(r["stage"], lang), "last_lead": r["last_lead_on"],
                "leads": int(r["leads"])})
    frame = pd.DataFrame(rows, columns=list(LIFECYCLE_COLUMNS))
    labels = {c: say(lang, f"col.{c}") for c in LIFECYCLE_COLUMNS}
    kinds: dict[str, Kind] = {"last_lead": "date", "leads": "int"}
    return Table("lifecycle", say(lang, "t.lifecycle"), frame, kinds, labels)


def lifecycle_line(pack: WeeklyPack, lang: str) -> str:
    """The week's sentence: new / woke up / fell asleep with the partners' names (plain text)."""
    week = pack.lifecycle
    names = {k: list(getattr(week, k)["partner"]) if week is not None else [] for k in lifecycle_words.KINDS}
    return lifecycle_words.week_line(names, lang)


def series_table(pack: WeeklyPack, lang: str) -> Table:
    """The weekly series behind the anomaly check (week end date, leads, won deals, revenue)."""
    s = pack.series
    frame = s[["week", "leads", "won_deals", "revenue"]].copy()
    young = s["maturing"] if "maturing" in s.columns else pd.Series(False, index=s.index)
    frame["status"] = [say(lang, "status.maturing") if bool(x) else "" for x in young.fillna(False)]
    labels = {"week": say(lang, "col.week"), **{m: metric_label(m, lang) for m, _ in ANOMALY_METRICS},
              "status": say(lang, "col.status")}
    kinds: dict[str, Kind] = {"week": "date", "leads": "int", "won_deals": "int", "revenue": "money", "status": "text"}
    return Table("series", say(lang, "t.series"), frame, kinds, labels, fmt.currency_symbol(pack.currency, lang))


def weekly_tables(pack: WeeklyPack, lang: str) -> list[Table]:
    """Every table of the pack, in report order."""
    return [summary_table(pack, lang), movers_table(pack, lang), bands_table(pack, lang),
            anomalies_table(pack, lang), goals_table(pack, lang), lifecycle_table(pack, lang), series_table(pack, lang)]


def header_lines(pack: WeeklyPack, lang: str) -> list[tuple[str, str]]:
    """The exports' header (reports.header) with the week and its comparison week as the period."""
    week = say(lang, "w.week", period=period_text(pack.week, lang), previous=period_text(pack.previous, lang))
    return header.lines(pack.week, pack.freshness, pack.generated_at, lang, period=week,
                        partner_names=pack.partner_names, pipeline_names=pack.pipeline_names)


def title(pack: WeeklyPack, lang: str) -> str:
    """Report title with the week."""
    return f"{say(lang, 'weekly.title')}: {period_text(pack.week, lang)}"


def _summary_rows(table: Table, pack: WeeklyPack, lang: str) -> list[list[str]]:
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
    if week_maturing(pack):
        doc.para(say(lang, "w.maturing"), size=8, muted=True)
    chart_rows = pack.series.rename(columns={"leads": "value", "leads_anomaly": "is_anomaly"})
    doc.picture(charts.to_png(charts.weekly_line(chart_rows, say(lang, "chart.leads_weekly")), lang),
                max_height=doc.eph * 0.35)
    for table in tables[1:6]:  # movers, bands, anomalies, goals off track, lifecycle (the series: XLSX only)
        if doc.get_y() > doc.page_break_trigger - 40:
            doc.add_page()
        pdf_table(doc, table, lang, pack.currency)
        if table.key == "lifecycle":
            doc.para(lifecycle_line(pack, lang), size=9)
        note = {"bands": say(lang, "w.bands_note"),
                "anomalies": say(lang, "w.anomaly_note", rule=anomaly_rule(lang, "week"))}.get(table.key)
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
        lifecycle_line(pack, lang),
    ]
    if week_maturing(pack):
        lines.append(say(lang, "w.maturing"))
    body = say(lang, "w.body", period=period, lines="\n".join(lines))
    return say(lang, "w.subject", period=period), f"{body}\n{header.plain_text(header_lines(pack, lang))}\n"


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

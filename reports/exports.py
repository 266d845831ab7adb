"""Exports of the current view (filters) as CSV, XLSX or PDF: KPIs, partners, models, costs, monthly.

``collect`` reads everything through ``metrics`` (no SQL here); ``render`` turns the collected data into
bytes; ``export_view`` / ``export_table`` do both for callers holding a connection (CLI, tests, pages via
``ui.data.query``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from metrics import lookups, page_frames, pooling
from metrics.engine import kpis_many
from metrics.filters import Filters
from reports import charts, csvout, xlsx
from reports.pdf import ReportPDF
from reports.table import Kind, Table
from reports.text import band_label, category_label, metric_label, model_label, say
from ui import fmt

Format = Literal["csv", "xlsx", "pdf"]
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
# What the leaderboard shows beside the raw conversion and ROI (exports carry the same honesty).
PARTNER_HONESTY_COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("conversion_low", "pct"), ("conversion_high", "pct"), ("conversion_pooled", "pct"),
)  # pooled ROI needs the bootstrap intervals the leaderboard computes; an export of raw ROI would mislabel it
# The compact partner table of the PDF (A4 landscape).
PDF_PARTNER_COLUMNS = ("partner", "model", "leads", "won_deals", "conversion", "revenue", "costs", "profit",
                       "roi", "roi_band")
NUMERIC: tuple[str, ...] = ("int", "money", "pct", "number", "days")
MAX_NAMES = 6


@dataclass
class ViewData:
    """Everything an export of one view shows, read once from metrics."""

    f: Filters
    kpis: pd.DataFrame
    partners: pd.DataFrame
    models: pd.DataFrame
    monthly: pd.DataFrame
    partner_names: dict[int, str] = field(default_factory=dict)
    pipeline_names: dict[int, str] = field(default_factory=dict)
    freshness: dict[str, Any] = field(default_factory=dict)
    generated_at: datetime = field(default_factory=lambda: datetime.now().astimezone())

    @property
    def currency(self) -> str:
        """ISO code of the account currency."""
        return str(self.freshness.get("currency") or "RUB")


# ---------- reading ----------

def _names(frame: pd.DataFrame, key: str) -> dict[int, str]:
    return {int(k): str(v) for k, v in zip(frame[key], frame["name"], strict=True)}


def collect(con: duckdb.DuckDBPyConnection, f: Filters) -> ViewData:
    """Read the KPIs of a view (total, by partner, by model, by month) and the names that describe it."""
    fresh = lookups.freshness(con)
    tz = ZoneInfo(str(fresh.get("timezone") or "Europe/Moscow"))
    total, partners, models, monthly = kpis_many(con, page_frames.export_view(f))  # one query for the four
    return ViewData(
        f=f, kpis=total, partners=partners, models=models,
        monthly=monthly, partner_names=_names(lookups.partners(con), "partner_id"),
        pipeline_names=_names(lookups.pipelines(con), "pipeline_id"), freshness=fresh,
        generated_at=datetime.now(tz),
    )


# ---------- describing the view ----------

def period_text(f: Filters, lang: str) -> str:
    """The period as text: 1 янв. 2025 г. – 31 мар. 2025 г."""
    return f"{fmt.day(f.date_from, lang)} – {fmt.day(f.date_to, lang)}"


def _listing(items: list[str], lang: str) -> str:
    if not items:
        return say(lang, "all")
    more = len(items) - MAX_NAMES
    shown = ", ".join(items[:MAX_NAMES])
    return shown + (f" (+{more})" if more > 0 else "")


def filter_lines(f: Filters, partner_names: dict[int, str], pipeline_names: dict[int, str],
                 lang: str) -> list[tuple[str, str]]:
    """Label/value lines describing the filters (partners and pipelines by name)."""
    partners = [partner_names.get(p, f"#{p}") for p in f.partners]
    pipelines = [pipeline_names.get(p, f"#{p}") for p in f.pipelines]
    return [
        (say(lang, "partners"), _listing(partners, lang)),
        (say(lang, "models"), _listing([model_label(m, lang) for m in f.models], lang)),
        (say(lang, "pipelines"), _listing(pipelines, lang)),
        (say(lang, "sources"), _listing(list(f.sources), lang)),
        (say(lang, "view"), say(lang, f"view.{f.view}")),
    ]


def source_text(fresh: dict[str, Any], lang: str) -> str:
    """Where the data comes from and when it was last synced."""
    if fresh.get("source") == "demo":
        text = say(lang, "demo")
    elif fresh.get("source") == "amocrm":
        text = say(lang, "amocrm", name=fresh.get("account_name") or "")
    else:
        text = say(lang, "unknown")
    when = fresh.get("last_sync_at")
    return f"{text}, {say(lang, 'synced', when=str(when)[:16].replace('T', ' '))}" if when else text


def generated_text(when: datetime) -> str:
    """Generation time with its time zone: 2025-06-09 08:00 MSK."""
    return when.strftime("%Y-%m-%d %H:%M %Z").strip()


def header_lines(data: ViewData, lang: str) -> list[tuple[str, str]]:
    """Period, filters, data source and generation time."""
    return [(say(lang, "period"), period_text(data.f, lang)),
            *filter_lines(data.f, data.partner_names, data.pipeline_names, lang),
            (say(lang, "source"), source_text(data.freshness, lang)),
            (say(lang, "generated"), generated_text(data.generated_at))]


# ---------- tables ----------

def _label_partner(row: pd.Series, lang: str) -> str:
    name = row.get("partner")
    if isinstance(name, str) and name:
        return name
    return model_label(row.get("model") or "direct", lang)


def _bands(series: pd.Series, lang: str) -> list[str]:
    return [band_label(b if isinstance(b, str) else None, lang) for b in series]


def kpi_table(frame: pd.DataFrame, lang: str, currency: str, title_key: str = "t.kpis") -> Table:
    """The KPI list of one row of kpis(): metric, value, unit (vertical, per-row formats)."""
    row = frame.iloc[0] if len(frame) else pd.Series(dtype=object)
    values, kinds, units = [], [], []
    sym = fmt.currency_symbol(currency, lang)
    for name, kind in KPI_ROWS:
        value = row.get(name)
        if name == "roi_band":
            value = band_label(value if isinstance(value, str) else None, lang)
        values.append(None if value is None or (not isinstance(value, str) and pd.isna(value)) else value)
        kinds.append(kind)
        units.append({"money": sym, "pct": "%", "days": say(lang, "col.days_unit")}.get(kind, ""))
    out = pd.DataFrame({"metric": [metric_label(n, lang) for n, _ in KPI_ROWS], "value": values, "unit": units})
    return Table("kpis", say(lang, title_key), out, kinds={"metric": "text", "value": "mixed", "unit": "text"},
                 labels={c: say(lang, f"col.{c}") for c in ("metric", "value", "unit")}, currency=sym,
                 row_kinds=kinds)


def _metric_columns(frame: pd.DataFrame, columns: tuple[tuple[str, Kind], ...], lang: str,
                    out: pd.DataFrame, kinds: dict[str, Kind], labels: dict[str, str]) -> None:
    for name, kind in columns:
        out[name] = _bands(frame[name], lang) if name == "roi_band" else frame[name].to_numpy()
        kinds[name], labels[name] = kind, metric_label(name, lang)


def partners_table(frame: pd.DataFrame, lang: str, currency: str) -> Table:
    """One row per partner (direct as the baseline row) with every comparable metric."""
    out = pd.DataFrame({"partner": [_label_partner(r, lang) for _, r in frame.iterrows()],
                        "model": [model_label(m, lang) for m in frame["model"]]}, index=frame.index)
    kinds: dict[str, Kind] = {"partner": "text", "model": "text"}
    labels = {"partner": say(lang, "col.partner"), "model": say(lang, "col.model")}
    _metric_columns(frame, GROUP_COLUMNS, lang, out, kinds, labels)
    pooled = pooling.add_pooled(frame)  # the leaderboard's honesty: the interval and the pooled estimate beside
    _metric_columns(pooled, PARTNER_HONESTY_COLUMNS, lang, out, kinds, labels)
    out["too_few"] = [say(lang, "yes") if bool(x) else say(lang, "no") for x in frame["too_few"]]
    kinds["too_few"], labels["too_few"] = "text", say(lang, "col.too_few")
    return Table("partners", say(lang, "t.partners"), out.reset_index(drop=True), kinds, labels,
                 fmt.currency_symbol(currency, lang))


def models_table(frame: pd.DataFrame, lang: str, currency: str) -> Table:
    """One row per partnership model, direct included."""
    out = pd.DataFrame({"model": [model_label(m, lang) for m in frame["model"]]}, index=frame.index)
    kinds: dict[str, Kind] = {"model": "text"}
    labels = {"model": say(lang, "col.model")}
    _metric_columns(frame, GROUP_COLUMNS, lang, out, kinds, labels)
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
    """One row per month of the period."""
    out = pd.DataFrame({"period": frame["period"].to_numpy()}, index=frame.index)
    kinds: dict[str, Kind] = {"period": "date"}
    labels = {"period": say(lang, "col.period")}
    _metric_columns(frame, MONTH_COLUMNS, lang, out, kinds, labels)
    out["status"] = [period_status(r, lang) for _, r in frame.iterrows()]
    kinds["status"], labels["status"] = "text", say(lang, "col.status")
    if "projected_revenue" in frame.columns:
        out["projected_revenue"] = frame["projected_revenue"].where(frame["maturing"].astype(bool)).to_numpy()
        kinds["projected_revenue"], labels["projected_revenue"] = "money", say(lang, "col.projected_revenue")
    return Table("monthly", say(lang, "t.monthly"), out.reset_index(drop=True), kinds, labels,
                 fmt.currency_symbol(currency, lang))


def tables(data: ViewData, lang: str) -> dict[str, Table]:
    """Every table of a view by key (kpis, partners, models, costs, monthly)."""
    cur = data.currency
    return {
        "kpis": kpi_table(data.kpis, lang, cur), "partners": partners_table(data.partners, lang, cur),
        "models": models_table(data.models, lang, cur), "costs": costs_table(data.partners, lang, cur),
        "monthly": monthly_table(data.monthly, lang, cur),
    }


# ---------- formatting for PDF ----------

def cell_text(value: Any, kind: str, lang: str, currency: str = "RUB") -> str:
    """A value formatted the locale's way (1 234 567 ₽, 20,5 %) for a PDF cell."""
    if isinstance(value, str):
        return value
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return fmt.DASH
    if kind == "money":
        return fmt.money(float(value), lang, currency)
    if kind == "pct":
        return fmt.pct(float(value), lang)
    if kind == "int":
        return fmt.num(int(value), lang)
    if kind in ("number", "days"):
        return fmt.num(float(value), lang, 1)
    if kind == "date":
        return fmt.day(pd.Timestamp(value).date(), lang)
    return str(value)


def pdf_rows(table: Table, lang: str, currency: str, columns: list[str] | None = None) -> list[list[str]]:
    """The cells of a table as formatted strings."""
    cols = columns or table.columns
    return [[cell_text(table.frame[c].iloc[i], table.cell_kind(c, i), lang, currency) for c in cols]
            for i in range(len(table.frame))]


def pdf_table(doc: ReportPDF, table: Table, lang: str, currency: str, columns: list[str] | None = None,
              widths: list[float] | None = None, width: float | None = None) -> None:
    """Write one table (title, header, rows; numbers right-aligned) into the PDF."""
    cols = columns or table.columns
    doc.heading(table.title, size=12)
    if table.frame.empty:
        doc.para(say(lang, "w.none"), muted=True)
        return
    align = ["R" if table.kind(c) in (*NUMERIC, "mixed") else "L" for c in cols]
    doc.table_rows([table.label(c) for c in cols], pdf_rows(table, lang, currency, cols), align, widths,
                   width=width)


def _model_frame(data: ViewData, lang: str) -> pd.DataFrame:
    rows = data.models.copy()
    rows["label"] = [model_label(m, lang) for m in rows["model"]]
    return rows


def _partner_frame(data: ViewData, lang: str) -> pd.DataFrame:
    rows = data.partners[data.partners["partner_id"].notna()].copy()
    rows["label"] = [_label_partner(r, lang) for _, r in rows.iterrows()]
    return rows


def chart_images(data: ViewData, lang: str) -> list[bytes]:
    """PNG charts of a view: revenue and costs by month, ROI by model, ROI by partner (those with data)."""
    images = []
    if len(data.monthly):
        sym = fmt.currency_symbol(data.currency, lang)
        images.append(charts.to_png(charts.revenue_costs(data.monthly, lang, sym), lang))
    models = _model_frame(data, lang)
    if models["roi"].notna().any():
        images.append(charts.to_png(charts.roi_bars(models, "label", say(lang, "chart.roi_models"), lang), lang))
    partners = _partner_frame(data, lang)
    if partners["roi"].notna().any():
        images.append(charts.to_png(charts.roi_bars(partners, "label", say(lang, "chart.roi_partners"), lang),
                                    lang))
    return images


def view_images(con: duckdb.DuckDBPyConnection, f: Filters, lang: str = "ru") -> list[bytes]:
    """The PDF's chart images for filters f (the page's preview)."""
    return chart_images(collect(con, f), lang)


def view_charts(doc: ReportPDF, data: ViewData, lang: str) -> None:
    """The charts of a view, starting on a new page, each as wide as fits the page height."""
    doc.add_page()
    for png in chart_images(data, lang):
        doc.picture(png, max_height=doc.eph * 0.48)


def view_pdf(data: ViewData, lang: str) -> bytes:
    """The view as a PDF: title, filters, KPI list, charts, partner/model/cost/month tables."""
    all_tables = tables(data, lang)
    title = f"{say(lang, 'view.title')}: {period_text(data.f, lang)}"
    doc = ReportPDF(title, lang, landscape=True)
    doc.heading(title)
    doc.key_values(header_lines(data, lang))
    pdf_table(doc, all_tables["kpis"], lang, data.currency, ["metric", "value"], [3, 2], width=130)
    view_charts(doc, data, lang)
    doc.add_page()
    pdf_table(doc, all_tables["partners"], lang, data.currency, list(PDF_PARTNER_COLUMNS),
              [4, 2.4, 1.2, 1.2, 1.4, 2, 2, 2, 1.4, 2.4])
    pdf_table(doc, all_tables["models"], lang, data.currency, [c for c in PDF_PARTNER_COLUMNS if c != "partner"])
    pdf_table(doc, all_tables["costs"], lang, data.currency, widths=[4, 2.4] + [1.6] * 8)
    pdf_table(doc, all_tables["monthly"], lang, data.currency)
    return doc.render()


# ---------- public API ----------

def render(data: ViewData, fmt_: Format, lang: str = "ru", sep: str = ";", decimal: str | None = None) -> bytes:
    """Bytes of a collected view in one format (CSV holds every table, each after its title line)."""
    if fmt_ == "pdf":
        return view_pdf(data, lang)
    items = list(tables(data, lang).values())
    if fmt_ == "xlsx":
        return xlsx.workbook(items, title=say(lang, "view.title"), info=header_lines(data, lang))
    if fmt_ == "csv":
        return csvout.to_csv_many(items, sep, decimal)
    raise ValueError(f"Unknown format {fmt_!r}: use csv, xlsx or pdf.")


def export_view(con: duckdb.DuckDBPyConnection, f: Filters, fmt: Format, lang: str = "ru", sep: str = ";",
                decimal: str | None = None) -> bytes:
    """Export the view of filters f as CSV, XLSX or PDF bytes."""
    return render(collect(con, f), fmt, lang, sep, decimal)


def export_table(con: duckdb.DuckDBPyConnection, f: Filters, table: str, lang: str = "ru", sep: str = ";",
                 decimal: str | None = None) -> bytes:
    """One table of the view (kpis, partners, models, costs, monthly) as CSV bytes."""
    if table not in TABLES:
        raise ValueError(f"Unknown table {table!r}: use one of {', '.join(TABLES)}.")
    return csvout.to_csv(tables(collect(con, f), lang)[table], sep, decimal)


def filename(kind: str, f: Filters, fmt_: str, lang: str = "ru") -> str:
    """A download file name: partner-roi-<kind>-<from>_<to>-<lang>.<ext>."""
    return f"partner-roi-{kind}-{f.date_from:%Y-%m-%d}_{f.date_to:%Y-%m-%d}-{lang}.{fmt_}"

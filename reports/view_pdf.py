"""The view export as a PDF (A4 landscape): header, KPI list, charts, partner / model / cost / month tables.

The partner and model tables print each rate with its 95 % interval ("15,8 % (11,5…21,2 %)"), the pooled ROI the
leaderboard shows, and the sample note (мало лидов / нет лидов) beside the band, so a three-lead partner is never
ranked "прибыльна" without the mark; the month table says which month is unfinished or maturing.
"""

from __future__ import annotations

import pandas as pd

from presentation import fmt
from presentation.periods import period_text
from reports import charts
from reports.cells import pct_span, pdf_table
from reports.pdf import ReportPDF
from reports.table import Kind, Table
from reports.text import model_label, say
from reports.view_data import ViewData, header_lines
from reports.view_tables import tables

# Rates printed with their 95 % interval in the next column (as the leaderboard shows them): column -> (low, high).
INTERVALS = {"conversion": ("conversion_low", "conversion_high"), "roi": ("roi_low", "roi_high"),
             "roi_pooled": ("roi_pooled_low", "roi_pooled_high")}
PARTNER_COLUMNS = ("partner", "model", "leads", "won_deals", "conversion", "revenue", "costs", "profit", "roi",
                   "roi_pooled", "roi_band", "sample")
PARTNER_WIDTHS = [3.2, 2.3, 1.2, 1.7, 2.0, 2.3, 2.4, 2.4, 2.4, 1.7, 2.8, 1.7, 2.8, 2.5, 2.0]
MODEL_COLUMNS = ("model", "leads", "won_deals", "conversion", "revenue", "costs", "profit", "roi", "roi_band",
                 "sample")
MONTH_WIDTHS = [1.6, 1.1, 1.9, 1.2, 1.5, 2.1, 2.1, 2.1, 1.3, 2.6, 2.1, 2.1, 2.1]


def with_intervals(table: Table, columns: tuple[str, ...], lang: str) -> Table:
    """The table's `columns` (those it has), each rate that has an interval followed by it ("95 %": 11,5…21,2 %)."""
    frame = pd.DataFrame(index=table.frame.index)
    kinds: dict[str, Kind] = {}
    labels: dict[str, str] = {}
    for col in (c for c in columns if c in table.frame.columns):
        frame[col], kinds[col] = table.frame[col], table.kind(col)
        labels[col] = say(lang, "col.roi_pooled_short") if col == "roi_pooled" else table.label(col)
        low, high = INTERVALS.get(col, ("", ""))
        if low in table.frame.columns and high in table.frame.columns:
            frame[f"{col}_ci"] = [pct_span(lo, hi, lang) for lo, hi
                                  in zip(table.frame[low], table.frame[high], strict=True)]
            kinds[f"{col}_ci"], labels[f"{col}_ci"] = "pct", "95 %"
    return Table(table.key, table.title, frame, kinds, labels, table.currency)


def _model_frame(data: ViewData, lang: str) -> pd.DataFrame:
    rows = data.models.copy()
    rows["label"] = [model_label(m, lang) for m in rows["model"]]
    return rows


def _partner_frame(data: ViewData, lang: str) -> pd.DataFrame:
    rows = data.partners[data.partners["partner_id"].notna()].copy()
    rows["label"] = rows["partner"].astype(str)
    return rows


def chart_images(data: ViewData, lang: str) -> list[bytes]:
    """PNG charts of a view: revenue and costs by month, ROI by model, ROI by partner (those with data)."""
    images = []
    if len(data.monthly):
        sym = fmt.currency_symbol(data.currency, lang)
        images.append(charts.to_png(charts.revenue_costs(data.monthly, lang, sym, events=data.events), lang))
    models = _model_frame(data, lang)
    if models["roi"].notna().any():
        images.append(charts.to_png(charts.model_roi(models, "label", say(lang, "chart.roi_models")), lang))
    partners = _partner_frame(data, lang)
    if partners["roi"].notna().any():
        images.append(charts.to_png(charts.roi_bars(partners, "label", say(lang, "chart.roi_partners"), lang),
                                    lang))
    return images


def view_charts(doc: ReportPDF, data: ViewData, lang: str) -> None:
    """The charts of a view, starting on a new page, each as wide as fits the page height, and what marks mean."""
    doc.add_page()
    for png in chart_images(data, lang):
        doc.picture(png, max_height=doc.eph * 0.44)
    doc.para(f"{say(lang, 'chart.young_note')} {say(lang, 'chart.interval_note')}", size=8, muted=True)


def view_pdf(data: ViewData, lang: str) -> bytes:
    """The view as a PDF: title, header (period, comparison, filters, freshness), KPI list, charts, tables."""
    all_tables = tables(data, lang)
    title = f"{say(lang, 'view.title')}: {period_text(data.f, lang)}"
    doc = ReportPDF(title, lang, landscape=True)
    doc.heading(title)
    doc.key_values(header_lines(data, lang))
    kpis = all_tables["kpis"]
    cols = [c for c in ("metric", "value", "before") if c in kpis.columns]
    pdf_table(doc, kpis, lang, data.currency, cols, [3, 2, 2][:len(cols)], width=170)
    view_charts(doc, data, lang)
    doc.add_page()
    pdf_table(doc, with_intervals(all_tables["partners"], PARTNER_COLUMNS, lang), lang, data.currency,
              widths=PARTNER_WIDTHS, size=6.5)
    pdf_table(doc, with_intervals(all_tables["models"], MODEL_COLUMNS, lang), lang, data.currency,
              widths=[3, 1.3, 1.3, 1.5, 2.1, 2.3, 2.3, 2.3, 1.6, 2.5, 2.6, 1.8], size=7)
    pdf_table(doc, all_tables["costs"], lang, data.currency, widths=[4, 2.4] + [1.6] * 8)
    monthly = all_tables["monthly"]
    pdf_table(doc, monthly, lang, data.currency, widths=MONTH_WIDTHS[:len(monthly.columns)], size=7)
    return doc.render()

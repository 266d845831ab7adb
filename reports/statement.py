"""Partner statement: what one partner brought in a period and what we owe, safe to send to that partner.

Safe means it holds nothing about anyone else: no other partner's name, no program totals, no revenue
share, no ROI or internal costs (marketing, training, support), no filter list. The period and the deal
view come from the filters; other narrowing (partners, models, pipelines, sources) is replaced by this one
partner, so the statement always covers all of the partner's leads.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from metrics import engine, lookups
from metrics.filters import FilterError, Filters
from presentation import clawbacks as claw_words
from presentation import fmt
from presentation.periods import period_text
from programme import clawbacks
from reports import header, xlsx
from reports.cells import cell_text
from reports.pdf import ReportPDF
from reports.table import Kind, Table
from reports.text import model_label, say

StatementFormat = Literal["pdf", "xlsx"]
SUMMARY: tuple[tuple[str, str, Kind], ...] = (
    ("leads", "s.leads", "int"), ("qualified_leads", "s.qualified", "int"), ("won_deals", "s.won", "int"),
    ("revenue", "s.revenue", "money"), ("computed", "s.computed", "money"),
    ("ledger_commission", "s.ledger_commission", "money"), ("bonus", "s.bonus", "money"),
    ("owed", "s.owed", "money"),
)
DEAL_COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("lead_id", "text"), ("lead_name", "text"), ("created_date", "date"), ("closed_date", "date"),
    ("status", "text"), ("qualified", "text"), ("deal_amount", "money"), ("commission", "money"),
)


@dataclass
class StatementData:
    """One partner's numbers for one period (nothing about other partners)."""

    f: Filters
    partner_id: int
    name: str
    model: str
    totals: dict[str, float]
    deals: pd.DataFrame
    freshness: dict[str, Any] = field(default_factory=dict)
    reversals: pd.DataFrame = field(default_factory=pd.DataFrame)  # this partner's clawbacks landing in the period
    balances: clawbacks.Balances | None = None                      # carried into the period, and at its end
    generated_at: datetime = field(default_factory=lambda: datetime.now().astimezone())

    @property
    def currency(self) -> str:
        """ISO code of the account currency."""
        return str(self.freshness.get("currency") or "RUB")


def scope(f: Filters, partner_id: int) -> Filters:
    """The filters of a statement: the period and deal view of f, narrowed to the one partner only."""
    return replace(f, partners=(int(partner_id),), models=(), pipelines=(), sources=())


def _value(row: pd.Series, name: str) -> float:
    value = row.get(name) if len(row) else None
    return 0.0 if value is None or pd.isna(value) else float(value)


def totals_of(row: pd.Series) -> dict[str, float]:
    """Statement totals from the partner's KPI row: counts, revenue, commissions and bonus owed."""
    out = {name: _value(row, name) for name in ("leads", "qualified_leads", "won_deals", "revenue")}
    out["computed"] = _value(row, "costs_commission")
    out["ledger_commission"] = _value(row, "cost_commission")
    out["bonus"] = _value(row, "cost_bonus")
    out["owed"] = out["computed"] + out["ledger_commission"] + out["bonus"]
    return out


def collect(con: duckdb.DuckDBPyConnection, f: Filters, partner_id: int) -> StatementData:
    """Read one partner's statement numbers and deals through metrics."""
    partners = lookups.partners(con)
    me = partners[partners["partner_id"] == int(partner_id)]
    if me.empty:
        raise FilterError(f"There is no partner number {partner_id}: choose a partner from the list.")
    fs = scope(f, partner_id)
    rows = engine.kpis(con, fs, by="partner")
    row = rows[rows["partner_id"] == int(partner_id)]
    fresh = lookups.freshness(con)
    tz = ZoneInfo(str(fresh.get("timezone") or "Europe/Moscow"))
    return StatementData(
        f=fs, partner_id=int(partner_id), name=str(me["name"].iloc[0]), model=str(me["model"].iloc[0]),
        totals=totals_of(row.iloc[0] if len(row) else pd.Series(dtype=object)),
        deals=engine.deals(con, fs, int(partner_id), won_only=False), freshness=fresh, generated_at=datetime.now(tz),
        reversals=clawbacks.reversals(con, int(partner_id), fs.date_from, fs.date_to),
        balances=clawbacks.period_balances(con, int(partner_id), fs.date_from, fs.date_to),
    )


# ---------- tables ----------

def summary_table(data: StatementData, lang: str) -> Table:
    """The statement totals as a two-column list (per-row formats)."""
    frame = pd.DataFrame({"metric": [say(lang, key) for _, key, _ in SUMMARY],
                          "value": [data.totals[name] for name, _, _ in SUMMARY]})
    return Table("summary", say(lang, "t.summary"), frame, {"metric": "text", "value": "mixed"},
                 {"metric": say(lang, "col.metric"), "value": say(lang, "col.value")},
                 fmt.currency_symbol(data.currency, lang), [kind for _, _, kind in SUMMARY])


def _status(row: pd.Series, lang: str) -> str:
    if bool(row.get("is_won")):
        return say(lang, "status.won")
    return say(lang, "status.lost" if bool(row.get("is_lost")) else "status.open")


def deals_table(data: StatementData, lang: str) -> Table:
    """The partner's leads of the period and won deals in scope, with the commission each earned."""
    d = data.deals
    frame = pd.DataFrame({
        "lead_id": [str(x) for x in d["lead_id"]], "lead_name": d["lead_name"].astype(object),
        "created_date": d["created_date"], "closed_date": d["closed_date"],
        "status": [_status(r, lang) for _, r in d.iterrows()],
        "qualified": [say(lang, "yes") if bool(x) else say(lang, "no") for x in d["is_qualified"]],
        "deal_amount": [float(a) if bool(w) else None for a, w in zip(d["amount"], d["is_won"], strict=True)],
        "commission": d["commission"].astype(float),
    })
    labels = {c: say(lang, f"col.{c}") for c in frame.columns}
    return Table("deals", say(lang, "t.deals"), frame.reset_index(drop=True), dict(DEAL_COLUMNS), labels,
                 fmt.currency_symbol(data.currency, lang))


REVERSAL_COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("date", "date"), ("deal", "text"), ("reason", "text"), ("month", "month"), ("amount", "money"),
)


def reversals_table(data: StatementData, lang: str) -> Table:
    """The partner's commission reversals landing in the period, line by line (amounts negative)."""
    r = data.reversals
    frame = pd.DataFrame({
        "date": [pd.Timestamp(x).date() for x in r.get("reversed_at", [])],
        "deal": [f"{int(i)} · {n}" if isinstance(n, str) and n else str(int(i))
                 for i, n in zip(r.get("lead_id", []), r.get("lead_name", []), strict=True)],
        "reason": [claw_words.reason(x, lang) for x in r.get("reason", [])],
        "month": list(r.get("accrual_month", [])),
        "amount": [-float(x) for x in r.get("amount", [])],
    })
    labels = {c: claw_words.say(lang, f"col.{c}") for c in frame.columns}
    return Table("reversals", claw_words.say(lang, "title"), frame, dict(REVERSAL_COLUMNS), labels,
                 fmt.currency_symbol(data.currency, lang))


def balance_lines(data: StatementData, lang: str) -> list[tuple[str, str]]:
    """Carried balance, closing balance and the closing balance in words (empty without balances)."""
    b = data.balances
    if b is None:
        return []
    money = [claw_words.amount(x, lang, data.currency) for x in (b.carried, b.closing)]
    return [(claw_words.say(lang, "carried"), money[0]), (claw_words.say(lang, "closing"), money[1]),
            ("", claw_words.balance_sentence(b.closing, lang, data.currency))]


def title(data: StatementData, lang: str) -> str:
    """Statement title with the partner's name."""
    return f"{say(lang, 'statement.title')}: {data.name}"


def header_lines(data: StatementData, lang: str) -> list[tuple[str, str]]:
    """Partner, model, then the exports' header without the filters (they may name others): period, deal view, data
    freshness, generation time."""
    return [(say(lang, "col.partner"), data.name), (say(lang, "col.model"), model_label(data.model, lang)),
            *header.lines(data.f, data.freshness, data.generated_at, lang, narrowing=False)]


# ---------- files ----------

def statement_pdf(data: StatementData, lang: str = "ru") -> bytes:
    """The statement as a PDF: header, totals, the list of leads and deals."""
    head = title(data, lang)
    doc = ReportPDF(head, lang, landscape=False)
    doc.heading(head)
    doc.key_values(header_lines(data, lang))
    summary = summary_table(data, lang)
    doc.heading(summary.title, size=12)
    rows = [[summary.frame["metric"].iloc[i],
             cell_text(summary.frame["value"].iloc[i], summary.row_kinds[i], lang, data.currency)]
            for i in range(len(summary.frame))]
    doc.table_rows([summary.label("metric"), summary.label("value")], rows, ["L", "R"], [3, 2], width=120)
    deals = deals_table(data, lang)
    doc.heading(deals.title, size=12)
    if deals.frame.empty:
        doc.para(say(lang, "s.no_deals"), muted=True)
    else:
        cells = [[cell_text(deals.frame[c].iloc[i], deals.kind(c), lang, data.currency) for c in deals.columns]
                 for i in range(len(deals.frame))]
        align = ["L", "L", "L", "L", "L", "L", "R", "R"]
        doc.table_rows([deals.label(c) for c in deals.columns], cells, align, [1.4, 4, 1.8, 1.8, 1.4, 1.3, 1.8, 1.6],
                       size=7)
    _reversals_pdf(doc, data, lang)
    doc.para(say(lang, "s.note", name=data.name, period=period_text(data.f, lang),
                 view=say(lang, f"view.{data.f.view}")), size=8, muted=True)
    return doc.render()


def _reversals_pdf(doc: ReportPDF, data: StatementData, lang: str) -> None:
    """The reversals section: one row per reversal, then the carried and closing balances in words."""
    table = reversals_table(data, lang)
    doc.heading(table.title, size=12)
    if table.frame.empty:
        doc.para(claw_words.say(lang, "none"), muted=True)
    else:
        cells = [[cell_text(table.frame[c].iloc[i], table.kind(c), lang, data.currency) for c in table.columns]
                 for i in range(len(table.frame))]
        doc.table_rows([table.label(c) for c in table.columns], cells, ["L", "L", "L", "L", "R"],
                       [1.6, 4.4, 3, 1.6, 1.8], size=7)
    doc.key_values(balance_lines(data, lang))


def statement_xlsx(data: StatementData, lang: str = "ru") -> bytes:
    """The statement as an XLSX workbook: cover sheet (with the balances), totals, leads and deals, reversals."""
    return xlsx.workbook([summary_table(data, lang), deals_table(data, lang), reversals_table(data, lang)],
                         title=say(lang, "statement.title"), info=header_lines(data, lang) + balance_lines(data, lang))


def render(data: StatementData, fmt_: StatementFormat, lang: str = "ru") -> bytes:
    """Bytes of a collected statement in PDF or XLSX."""
    if fmt_ == "pdf":
        return statement_pdf(data, lang)
    if fmt_ == "xlsx":
        return statement_xlsx(data, lang)
    raise ValueError(f"Unknown statement format {fmt_!r}: use pdf or xlsx.")


def partner_statement(con: duckdb.DuckDBPyConnection, f: Filters, partner_id: int, fmt: StatementFormat,
                      lang: str = "ru") -> bytes:
    """One partner's statement for the period of f as PDF or XLSX bytes."""
    return render(collect(con, f, partner_id), fmt, lang)


def filename(data: StatementData, fmt_: str, lang: str = "ru") -> str:
    """A download file name: partner-roi-statement-<id>-<from>_<to>-<lang>.<ext> (no name: it may be unsafe)."""
    return (f"partner-roi-statement-{data.partner_id}-{data.f.date_from:%Y-%m-%d}_{data.f.date_to:%Y-%m-%d}"
            f"-{lang}.{fmt_}")

"""Hand-off to BI and accounting: a folder of Parquet + CSV tables with a stable schema, and the payout list.

``write_snapshot`` writes, for a period: partners, monthly KPIs by partner and by model, costs by category,
payout lines — each as ``<name>.parquet`` and ``<name>.csv`` (UTF-8 with BOM, comma, decimal point, ISO
dates) — plus ``payouts_month_end.xlsx`` (what accounting must pay) and ``manifest.json``. Column names and
types are fixed by ``SCHEMAS`` and documented in docs/snapshot-schema.md (a test keeps the two equal).
`python -m reports snapshot [--db PATH] --out DIR [--from D --to D]` runs it (see ``add_arguments``/``run``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from data_layer import store
from metrics import engine, lookups
from metrics.filters import FilterError, Filters
from programme import payout_views, payouts
from programme.goals import account_today
from reports import xlsx
from reports.safe import neutralise
from reports.table import Table

SCHEMA_VERSION = 1
BOM = "\ufeff"
ARROW_TYPES = {
    "INTEGER": pa.int32(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(), "VARCHAR": pa.string(),
    "DATE": pa.date32(), "BOOLEAN": pa.bool_(), "TIMESTAMP": pa.timestamp("us"),
}
KPI_FIELDS = [
    ("leads", "BIGINT"), ("qualified_leads", "BIGINT"), ("won_deals", "BIGINT"), ("conversion", "DOUBLE"),
    ("revenue", "DOUBLE"), ("avg_check", "DOUBLE"), ("costs", "DOUBLE"), ("costs_ledger", "DOUBLE"),
    ("costs_commission", "DOUBLE"), ("income", "DOUBLE"), ("profit", "DOUBLE"), ("roi", "DOUBLE"),
    ("roi_band", "VARCHAR"), ("new_clients", "BIGINT"), ("cpa", "DOUBLE"), ("ltv", "DOUBLE"),
    ("time_to_close_days", "DOUBLE"), ("too_few", "BOOLEAN"),
]
PERIOD_FIELDS = [("month", "DATE"), ("period_from", "DATE"), ("period_to", "DATE")]
SCHEMAS: dict[str, list[tuple[str, str]]] = {
    "partners": [("partner_id", "INTEGER"), ("name", "VARCHAR"), ("model", "VARCHAR"), ("manager", "VARCHAR"),
                 ("start_date", "DATE"), ("active", "BOOLEAN")],
    "kpis_partner_month": [*PERIOD_FIELDS, ("partner_id", "INTEGER"), ("partner", "VARCHAR"), ("model", "VARCHAR"),
                           *KPI_FIELDS],
    "kpis_model_month": [*PERIOD_FIELDS, ("model", "VARCHAR"), *KPI_FIELDS],
    "costs_category_month": [*PERIOD_FIELDS, ("partner_id", "INTEGER"), ("partner", "VARCHAR"),
                             ("model", "VARCHAR"), ("category", "VARCHAR"), ("amount", "DOUBLE")],
    "payouts": [("payout_id", "INTEGER"), ("partner_id", "INTEGER"), ("partner", "VARCHAR"), ("model", "VARCHAR"),
                ("month", "DATE"), ("accrued", "DOUBLE"), ("approved", "DOUBLE"), ("pending", "DOUBLE"),
                ("paid", "DOUBLE"), ("to_pay", "DOUBLE"), ("owed", "DOUBLE"), ("status", "VARCHAR"),
                ("last_paid_on", "DATE"), ("payment_refs", "VARCHAR"), ("updated_at", "TIMESTAMP")],
}
COST_CATEGORIES = (*engine.LEDGER_CATEGORIES, engine.COMMISSION_CATEGORY)
XLSX_NAME = "payouts_month_end.xlsx"
XLSX_LABELS = {
    "ru": {"title": "Выплаты партнёрам к оплате", "sheet": "К оплате", "period": "Период", "generated": "Сформировано",
           "total": "Итого к оплате", "partner_id": "№ партнёра", "partner": "Партнёр", "month": "Месяц начисления",
           "accrued": "Начислено", "approved": "Утверждено", "paid": "Выплачено", "to_pay": "К оплате",
           "status": "Статус", "payment_refs": "Платёжные документы"},
    "en": {"title": "Partner payouts to pay", "sheet": "To pay", "period": "Period", "generated": "Generated",
           "total": "Total to pay", "partner_id": "Partner no.", "partner": "Partner", "month": "Accrual month",
           "accrued": "Accrued", "approved": "Approved", "paid": "Paid", "to_pay": "To pay",
           "status": "Status", "payment_refs": "Payment references"},
}
XLSX_KINDS = {"partner_id": "int", "partner": "text", "month": "date", "accrued": "money", "approved": "money",
              "paid": "money", "to_pay": "money", "status": "text", "payment_refs": "text"}
HELP = "hand-off snapshot for BI and accounting (Parquet + CSV tables, payout list XLSX)"


# ---------- typing the tables ----------

def _text(series: pd.Series) -> list[str | None]:
    return [None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in series]


def arrow_column(series: pd.Series, kind: str) -> pa.Array:
    """One column cast to its documented type (nulls stay null)."""
    if kind == "VARCHAR":
        return pa.array(_text(series), type=pa.string())
    if kind == "DATE":
        values = pd.to_datetime(series, errors="coerce")
        return pa.array([None if pd.isna(v) else v.date() for v in values], type=pa.date32())
    if kind == "TIMESTAMP":
        values = pd.to_datetime(series, errors="coerce")
        return pa.array([None if pd.isna(v) else v.to_pydatetime() for v in values], type=pa.timestamp("us"))
    if kind == "BOOLEAN":
        return pa.array([None if pd.isna(v) else bool(v) for v in series], type=pa.bool_())
    numbers = pd.to_numeric(series, errors="coerce")
    if kind in ("INTEGER", "BIGINT"):
        return pa.array([None if pd.isna(v) else int(v) for v in numbers], type=ARROW_TYPES[kind])
    return pa.array([None if pd.isna(v) else float(v) for v in numbers], type=pa.float64())


def typed_table(name: str, frame: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table with exactly the documented columns, in order, with their types."""
    fields = SCHEMAS[name]
    arrays = [arrow_column(frame[col] if col in frame.columns else pd.Series([None] * len(frame), dtype=object),
                           kind) for col, kind in fields]
    schema = pa.schema([pa.field(col, ARROW_TYPES[kind]) for col, kind in fields])
    return pa.Table.from_arrays(arrays, schema=schema)


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return neutralise(value) if isinstance(value, str) else value


def csv_bytes(table: pa.Table) -> bytes:
    """The table as CSV: UTF-8 with BOM, comma, decimal point, ISO dates, empty = null, text neutralised."""
    rows = {col: [_csv_cell(v) for v in table.column(col).to_pylist()] for col in table.column_names}
    frame = pd.DataFrame(rows, columns=table.column_names, dtype=object)
    text = frame.to_csv(index=False, lineterminator="\r\n")
    return (BOM + text).encode("utf-8")


# ---------- building the tables ----------

def _clip(frame: pd.DataFrame, lo: date, hi: date) -> pd.DataFrame:
    """Add month, period_from, period_to (the part of the month inside [lo, hi]) from the engine's period key."""
    out = frame.rename(columns={"period": "month"}).copy()
    months = pd.to_datetime(out["month"]).dt.date
    out["month"] = months
    out["period_from"] = [max(m, lo) for m in months]
    out["period_to"] = [min(payouts.month_end(m), hi) for m in months]
    return out


def partners_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The partner reference table."""
    return con.execute(
        "select partner_id, name, model, manager, start_date, coalesce(active, true) as active "
        "from partners order by partner_id").df()


def kpis_frames(con: duckdb.DuckDBPyConnection, f: Filters) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monthly KPIs by partner (direct as a row with no partner) and by model."""
    by_partner = _clip(engine.grouped(con, f, ("month", "partner")), f.date_from, f.date_to)
    by_model = _clip(engine.grouped(con, f, ("month", "model")), f.date_from, f.date_to)
    return by_partner, by_model


def costs_frame(by_partner: pd.DataFrame) -> pd.DataFrame:
    """Costs in long format: one row per month × partner × category with a non-zero amount."""
    wide = by_partner.rename(columns={f"cost_{c}": c for c in engine.LEDGER_CATEGORIES})
    wide[engine.COMMISSION_CATEGORY] = wide["costs_commission"]
    keys = ["month", "period_from", "period_to", "partner_id", "partner", "model"]
    long = wide.melt(id_vars=keys, value_vars=list(COST_CATEGORIES), var_name="category", value_name="amount")
    long = long[long["amount"].fillna(0).abs() > 1e-9]
    order = {c: i for i, c in enumerate(COST_CATEGORIES)}
    long = long.assign(_c=long["category"].map(order), _p=long["partner_id"].fillna(-1))
    return long.sort_values(["month", "_p", "_c"]).drop(columns=["_c", "_p"]).reset_index(drop=True)


def payouts_frame(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Payout lines of the months the period touches."""
    lines = payout_views.lines(con, (f.date_from, f.date_to))
    return lines.rename(columns={"partner_name": "partner", "references": "payment_refs"})


def default_period(con: duckdb.DuckDBPyConnection, date_from: date | None, date_to: date | None) -> Filters:
    """The snapshot period: given dates, else from the first lead or payout month to today (account time)."""
    hi = date_to or account_today(con)
    if date_from is None:
        first_lead = lookups.data_range(con)[0]
        first_payout = con.execute("select min(month) from payouts").fetchone()[0]
        starts = [d for d in (first_lead, first_payout) if d is not None]
        date_from = payouts.month_start(min(starts)) if starts else payouts.month_start(hi)
    return Filters(min(date_from, hi), hi)


# ---------- writing ----------

def _atomic_write(path: Path, data: bytes) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def _write_parquet(path: Path, table: pa.Table) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def month_end_table(lines: pd.DataFrame, lang: str = "ru") -> Table:
    """The accounting list: approved, unpaid amounts per partner and month (largest first within a month)."""
    labels = XLSX_LABELS["en" if lang == "en" else "ru"]
    due = lines[(lines["status"] != "reversed") & (lines["to_pay"] > 0.004)] if len(lines) else lines
    cols = list(XLSX_KINDS)
    frame = due.sort_values(["month", "to_pay"], ascending=[True, False])[cols].reset_index(drop=True) \
        if len(due) else pd.DataFrame(columns=cols)
    return Table("payouts_month_end", labels["sheet"], frame, kinds=dict(XLSX_KINDS),
                 labels={c: labels[c] for c in cols})


def month_end_xlsx(lines: pd.DataFrame, f: Filters, lang: str = "ru") -> bytes:
    """The payout list workbook: a cover sheet (period, total, generated at) and the list."""
    labels = XLSX_LABELS["en" if lang == "en" else "ru"]
    table = month_end_table(lines, lang)
    total = float(table.frame["to_pay"].sum()) if len(table.frame) else 0.0
    info = [(labels["period"], f"{f.date_from:%Y-%m-%d} — {f.date_to:%Y-%m-%d}"),
            (labels["total"], f"{total:,.2f}".replace(",", " ")),
            (labels["generated"], datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"))]
    return xlsx.workbook([table], labels["title"], info)


def write_snapshot(con: duckdb.DuckDBPyConnection, out_dir: str | Path, date_from: date | None = None,
                   date_to: date | None = None, lang: str = "ru") -> list[Path]:
    """Write every snapshot table as Parquet and CSV, the payout list XLSX and a manifest; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    f = default_period(con, date_from, date_to)
    by_partner, by_model = kpis_frames(con, f)
    lines = payouts_frame(con, f)
    frames = {"partners": partners_frame(con), "kpis_partner_month": by_partner, "kpis_model_month": by_model,
              "costs_category_month": costs_frame(by_partner), "payouts": lines}
    paths: list[Path] = []
    counts: dict[str, int] = {}
    for name, frame in frames.items():
        table = typed_table(name, frame)
        counts[name] = table.num_rows
        paths.append(_write_parquet(out / f"{name}.parquet", table))
        paths.append(_atomic_write(out / f"{name}.csv", csv_bytes(table)))
    paths.append(_atomic_write(out / XLSX_NAME, month_end_xlsx(lines, f, lang)))
    manifest = {"schema_version": SCHEMA_VERSION, "generated_at": datetime.now().astimezone().isoformat(),
                "date_from": f.date_from.isoformat(), "date_to": f.date_to.isoformat(), "view": f.view,
                "rows": counts, "files": [p.name for p in paths]}
    paths.append(_atomic_write(out / "manifest.json", json.dumps(manifest, indent=2).encode("utf-8")))
    return paths


# ---------- command line ----------

def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `python -m reports snapshot`."""
    parser.add_argument("--db", type=Path, default=None,
                        help="database file (default PARTNER_ROI_DB or cache/partner_roi.duckdb)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the snapshot into")
    parser.add_argument("--from", dest="date_from", type=_date, default=None,
                        help="first day, YYYY-MM-DD (default: the month of the first lead or payout)")
    parser.add_argument("--to", dest="date_to", type=_date, default=None,
                        help="last day, YYYY-MM-DD (default: today in the account time zone)")
    parser.add_argument("--lang", choices=("ru", "en"), default="ru", help="language of the XLSX (default ru)")


def run(args: argparse.Namespace) -> int:
    """Write the snapshot; print one line per file. 0 done, 1 failed (one sentence on stderr)."""
    db = args.db or store.DEFAULT_DB
    try:
        with store.connect(db, read_only=True) as con:
            paths = write_snapshot(con, args.out, args.date_from, args.date_to, getattr(args, "lang", "ru"))
    except store.DamagedDatabase as exc:  # its own sentence says what to do
        print(exc.text("en"), file=sys.stderr)
        return 1
    except (store.StoreError, FilterError, OSError) as exc:
        print(f"The snapshot was not written: {str(exc).rstrip('.')}.", file=sys.stderr)
        return 1
    for path in paths:
        print(f"Wrote {path}")
    return 0

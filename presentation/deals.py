"""A drill-through list as people read it (the dialog and its CSV / XLSX alike): columns, their words, the link."""

from __future__ import annotations

import pandas as pd

from data_layer.crm_links import lead_url
from metrics import drill
from presentation.i18n import lookup, model_label

# (column, kind): kinds are reports.table's (the export formats them), the dialog maps them to its own
COLUMNS: tuple[tuple[str, str], ...] = (
    ("lead_id", "int"), ("name", "text"), ("status", "text"), ("stage", "text"), ("amount", "money"),
    ("created", "date"), ("closed", "date"), ("partner", "text"), ("model", "text"), ("client", "text"),
    ("commission", "money"), ("preexisting", "text"), ("url", "text"))

TEXT = {
    "ru": {"lead_id": "№ в amoCRM", "name": "Сделка", "status": "Статус", "stage": "Этап", "amount": "Сумма",
           "created": "Создана", "closed": "Закрыта", "partner": "Партнёр", "model": "Модель", "client": "Клиент",
           "commission": "Комиссия", "preexisting": "Прежний клиент", "preexisting.yes": "да",
           "url": "Ссылка в amoCRM",
           "status.won": "выиграна", "status.lost": "проиграна", "status.open": "в работе",
           "direct": "без партнёра"},
    "en": {"lead_id": "amoCRM id", "name": "Deal", "status": "Status", "stage": "Stage", "amount": "Amount",
           "created": "Created", "closed": "Closed", "partner": "Partner", "model": "Model", "client": "Client",
           "commission": "Commission", "preexisting": "Pre-existing client", "preexisting.yes": "yes",
           "url": "amoCRM link",
           "status.won": "won", "status.lost": "lost", "status.open": "open",
           "direct": "no partner"},
}


def label(column: str, lang: str) -> str:
    """A column's header in lang."""
    return lookup(TEXT, column, lang)


def frame(rows: pd.DataFrame, base: str | None, lang: str) -> pd.DataFrame:
    """metrics.drill.deal_list rows as listed: COLUMNS, words in lang, url None without an account address."""
    def day(values: pd.Series) -> pd.Series:
        return pd.to_datetime(values, errors="coerce").dt.date.astype(object).where(values.notna(), None)

    return pd.DataFrame({
        "lead_id": rows["lead_id"].astype("int64"),
        "name": rows["lead_name"].astype(object),
        "status": [lookup(TEXT, f"status.{drill.state(w, x)}", lang) for w, x in zip(rows["is_won"], rows["is_lost"],
                                                                               strict=True)],
        "stage": rows["stage"].astype(object),
        "amount": rows["amount"].fillna(0.0).astype(float),
        "created": day(rows["created_date"]), "closed": day(rows["closed_date"]),
        "partner": [p if isinstance(p, str) else lookup(TEXT, "direct", lang) for p in rows["partner"]],
        "model": [model_label(m, lang) for m in rows["model"]],
        "client": rows["client"].astype(object),
        "commission": rows["commission"].astype(float).where(rows["commission"].fillna(0.0) != 0),
        # the client was ours already (metrics-spec "Credit and incrementality"): credited, not incremental
        "preexisting": [lookup(TEXT, "preexisting.yes", lang) if bool(x) else "" for x in rows["preexisting"]],
        "url": [lead_url(base, i) for i in rows["lead_id"]],
    }, index=range(len(rows)))

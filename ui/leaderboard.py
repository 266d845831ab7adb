"""The partners leaderboard's table: its columns, their order (the sort column right after the name), formats, fit.

pages/partners.py ranks the rows (engine.rank) and draws this table; a compact column set fits a 1440 px screen,
every column is one toggle away. Raw and sample-size-adjusted (pooled) estimates both stay in the frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from presentation import palette
from ui import layout, tables
from ui.i18n import band_label, lang, metric_help, metric_label, model_label, t, tr

CONV_DIGITS, ROI_DIGITS = 1, 0  # decimals of conversion and of ROI, their intervals alike
COMPACT_BUDGET = 946  # px: the table is 978 px wide at 1440 px with the sidebar open, less the row checkbox
SHOWN = ("conversion", "roi", "revenue", "costs", "leads", "won_deals", "incremental_roi",
         "preexisting_share")  # metrics with a column of their own
ASCENDING = {"cpa", "time_to_close_days", "preexisting_share"}  # lower is better

TEXT = {
    "ru": {
        "col.rank": "Место", "col.rank.short": "№", "col.partner": "Партнёр", "col.model": "Модель", "col.flag": "Отметка",
        "baseline": "база сравнения", "highlight.best": "лучший", "highlight.worst": "худший",
        "col.roi_interval": "ROI, 95 %", "col.conv_pooled_interval": "Конверсия с учётом выборки, 95 %",
        "col.roi_pooled_interval": "ROI с учётом выборки, 95 %",
        "col.conv_pooled": "Конверсия*", "col.roi_pooled": "ROI*", "col.conv_pooled_ci": "Конверсия*, 95 %",
        "col.roi_pooled_ci": "ROI*, 95 %",
        "col.incremental_roi": "ROI прирост.",
        "col.rank.help": "№ — место в рейтинге по выбранному показателю. Партнёры с малым числом лидов и прямые продажи "
                         "не ранжируются.",
        "col.partner.help": "Щёлкните строку, чтобы открыть сделки партнёра. Слишком длинное название сокращено "
                            "«…» — полностью оно в заголовке его страницы.",
        "col.flag.help": "«мало лидов» — показатели шумные, место не присваивается; «нет лидов» — затраты есть, "
                         "а лидов нет (ROI −100 %); «база сравнения» — прямые продажи; «лучший» и «худший» — первый и последний "
                         "из ранжированных по выбранному показателю.",
        "col.interval.help": "95 % интервал: где с вероятностью 95 % лежит истинное значение при таком числе лидов.",
        "pooled": "«С учётом размера выборки» (столбцы со звёздочкой: ROI\\*, Конверсия\\*) — показатель партнёра, "
                  "подтянутый к средней по его модели тем сильнее, чем меньше у него лидов; рядом — его собственное "
                  "значение. Ранжирование по нижней границе идёт по этой оценке.",
    },
    "en": {
        "col.rank": "Rank", "col.rank.short": "#", "col.partner": "Partner", "col.model": "Model", "col.flag": "Note",
        "baseline": "baseline", "highlight.best": "best", "highlight.worst": "worst",
        "col.roi_interval": "ROI, 95 %", "col.conv_pooled_interval": "Conversion adjusted for sample size, 95 %",
        "col.roi_pooled_interval": "ROI adjusted for sample size, 95 %",
        "col.conv_pooled": "Conversion*", "col.roi_pooled": "ROI*", "col.conv_pooled_ci": "Conversion*, 95 %",
        "col.roi_pooled_ci": "ROI*, 95 %",
        "col.incremental_roi": "Incr. ROI",
        "col.rank.help": "#: the rank by the chosen metric. Partners with too few leads and direct sales are not ranked.",
        "col.partner.help": "Click a row to open the partner's deals. A name too long to fit is shortened with “…” — "
                            "the full name heads the partner's page.",
        "col.flag.help": "“too few leads”: noisy figures, no rank; “no leads”: costs but no lead (ROI −100 %); "
                         "“baseline”: direct sales; “best” and “worst”: the first and the last of those ranked by the chosen "
                         "metric.",
        "col.interval.help": "95 % interval: where the true value lies with 95 % probability given this many leads.",
        "pooled": "“Adjusted for sample size” (the starred columns: ROI\\*, Conversion\\*): the partner's figure "
                  "pulled toward its model's average, the more so the fewer leads it has; its own value is beside "
                  "it. Ranking by the lower bound uses this estimate.",
    },
}


def has_interval(rows: pd.DataFrame, metric: str) -> bool:
    """True when the metric's cautious bound is available in rows (conversion, ROI)."""
    bound = "_high" if metric in ASCENDING else "_low"
    return f"{metric}{bound}" in rows.columns


def rate_name(rows: pd.DataFrame) -> str:
    """The conversion the table shows: in the close view the win rate of the leads closed in the period (so the rate
    beside the won deals recomputes from them, won ÷ (won + lost) closed in the period), else the conversion."""
    return layout.conversion_metric(rows.iloc[0]) if len(rows) else "conversion"


def keys(rate: str = "conversion") -> dict[str, str]:
    """The table's frame column names by role."""
    return {"rank": tr(TEXT, "col.rank"), "partner": tr(TEXT, "col.partner"), "flag": tr(TEXT, "col.flag"),
            "rate": metric_label(rate), "rate_ci": f"{metric_label(rate)}, 95 %",
            "conv_pooled": metric_label("conversion_pooled"), "conv_pooled_ci": tr(TEXT, "col.conv_pooled_interval"),
            "roi": metric_label("roi"), "roi_ci": tr(TEXT, "col.roi_interval"),
            "roi_pooled": metric_label("roi_pooled"), "roi_pooled_ci": tr(TEXT, "col.roi_pooled_interval"),
            "band": metric_label("roi_band"), "revenue": metric_label("revenue"), "costs": metric_label("costs"),
            "leads": metric_label("leads"), "won_deals": metric_label("won_deals"), "model": tr(TEXT, "col.model"),
            "incremental_roi": metric_label("incremental_roi"), "preexisting_share": metric_label("preexisting_share")}


def flag(pid: object, too_few: object, highlight: object, leads: object = None) -> str:
    """The sample / highlight note of one row."""
    if pd.isna(pid):
        return tr(TEXT, "baseline")
    if leads is not None and not pd.isna(leads) and int(leads) == 0:
        return t("no_leads")  # costs with no lead at all: ROI −100 %, said in words
    if bool(too_few):
        return t("too_few")
    return tr(TEXT, f"highlight.{highlight}") if highlight in ("best", "worst") else ""


def frame(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Ranked rows as the displayed frame: numbers stay numbers (ui.tables formats them), intervals are text."""
    code, rate = lang(), rate_name(rows)
    k = keys(rate)
    return pd.DataFrame({
        k["rank"]: rows["rank"],
        k["partner"]: tables.names(p if pd.notna(pid) else model_label("direct")
                                   for p, pid in zip(rows["partner"], rows["partner_id"], strict=False)),
        k["flag"]: [flag(pid, few, mark, n) for pid, few, mark, n
                    in zip(rows["partner_id"], rows["too_few"], rows["highlight"], rows["leads"], strict=False)],
        k["rate"]: rows[rate], k["rate_ci"]: tables.intervals(rows, rate, code, CONV_DIGITS),
        k["conv_pooled"]: rows["conversion_pooled"],
        k["conv_pooled_ci"]: tables.intervals(rows, "conversion_pooled", code, CONV_DIGITS),
        k["roi"]: rows["roi"], k["roi_ci"]: tables.intervals(rows, "roi", code, ROI_DIGITS),
        k["roi_pooled"]: rows["roi_pooled"],
        k["roi_pooled_ci"]: tables.intervals(rows, "roi_pooled", code, ROI_DIGITS),
        k["band"]: [band_label(b) for b in rows["roi_band"].fillna("n/a")],
        **{k[m]: rows[m] for m in ("revenue", "costs", "leads", "won_deals")},
        k["model"]: [model_label(m) for m in rows["model"]],
        # credited vs incremental: ROI without the clients who were ours already, and their share of the revenue
        **{k[m]: rows[m] if m in rows.columns else float("nan") for m in ("incremental_roi", "preexisting_share")},
        **({} if metric in SHOWN else {metric_label(metric): rows[metric]}),
    })


def _extra_col(metric: str) -> tables.Col:
    """The column of a sort metric that has none of its own (profit, CPA, LTV, days to close, …)."""
    label, help_ = metric_label(metric), metric_help(metric)
    if metric in layout.MONEY_METRICS:
        return tables.Col(label, "money", help=help_)
    if metric in layout.PCT_METRICS:
        return tables.Col(label, "pct", help=help_)
    one_decimal = metric in ("time_to_close_days", "purchases_per_client")
    return tables.Col(label, "days" if one_decimal else "count", digits=1 if one_decimal else 0, help=help_)


def cols(rows: pd.DataFrame, metric: str) -> list[tables.Col]:
    """Every column with its format, short header and help, in the frame's order."""
    rate = rate_name(rows)
    k, ci, pooled = keys(rate), tr(TEXT, "col.interval.help"), tr(TEXT, "pooled")
    Col = tables.Col
    out = [Col(k["rank"], "count", label=tr(TEXT, "col.rank.short"), help=tr(TEXT, "col.rank.help")),
           Col(k["partner"], "name", help=tr(TEXT, "col.partner.help")),
           Col(k["flag"], help=tr(TEXT, "col.flag.help")),
           Col(k["rate"], "pct", digits=CONV_DIGITS, help=metric_help(rate)),
           Col(k["rate_ci"], "interval", help=ci),
           Col(k["conv_pooled"], "pct", label=tr(TEXT, "col.conv_pooled"), digits=CONV_DIGITS, help=pooled),
           Col(k["conv_pooled_ci"], "interval", label=tr(TEXT, "col.conv_pooled_ci"), help=f"{pooled} {ci}"),
           Col(k["roi"], "pct", digits=ROI_DIGITS, help=metric_help("roi")),
           Col(k["roi_ci"], "interval", help=ci),
           Col(k["roi_pooled"], "pct", label=tr(TEXT, "col.roi_pooled"), digits=ROI_DIGITS, help=pooled),
           Col(k["roi_pooled_ci"], "interval", label=tr(TEXT, "col.roi_pooled_ci"), help=f"{pooled} {ci}"),
           Col(k["band"], help=metric_help("roi_band")),
           *(Col(k[m], "money" if m in ("revenue", "costs") else "count", help=metric_help(m))
             for m in ("revenue", "costs", "leads", "won_deals")),
           Col(k["model"]),
           Col(k["incremental_roi"], "pct", label=tr(TEXT, "col.incremental_roi"), digits=ROI_DIGITS,
               help=metric_help("incremental_roi")),
           Col(k["preexisting_share"], "pct", digits=0, help=metric_help("preexisting_share"))]
    return out if metric in SHOWN else [*out, _extra_col(metric)]


def sort_keys(rows: pd.DataFrame, metric: str, by_lower: bool) -> list[str]:
    """The columns that show what the table is ranked by: the metric with its interval (the estimate adjusted for
    sample size when ranked by the lower bound, as engine.rank does)."""
    k = keys(rate_name(rows))
    if metric in ("conversion", "roi"):
        pooled = by_lower and has_interval(rows, metric)
        name = {"conversion": "conv_pooled" if pooled else "rate", "roi": "roi_pooled" if pooled else "roi"}[metric]
        return [k[name], k[f"{name}_ci"]]
    return [k[metric] if metric in SHOWN else metric_label(metric)]


def column_order(rows: pd.DataFrame, metric: str, by_lower: bool, everything: bool,
                 config: dict[str, st.column_config.Column] | None = None) -> list[str]:
    """Rank and name, the sort columns, then the rest: every column, or the compact set (sample note, revenue,
    costs, ROI with its interval, ROI band) trimmed to the width of a 1440 px screen when config gives widths."""
    k = keys(rate_name(rows))
    head = [k["rank"], k["partner"], *sort_keys(rows, metric, by_lower)]
    rest = [c.key for c in cols(rows, metric)] if everything else \
        [k["flag"], k["revenue"], k["costs"], k["roi"], k["roi_ci"], k["incremental_roi"], k["band"]]
    order = list(dict.fromkeys([*head, *rest]))
    if everything or config is None:
        return order
    # a sort column beyond the compact set takes the place of those least needed beside it
    return tables.fit(order, config, COMPACT_BUDGET,
                      drop=(k["revenue"], k["incremental_roi"], k["band"], k["roi_ci"], k["costs"]),
                      keep=head)


def _colours(styler: pd.io.formats.style.Styler) -> pd.io.formats.style.Styler:
    """ROI bands and the best / worst marks in their colours."""
    band_colors = {band_label(b): c for b, c in palette.BAND_COLORS.items()}
    flag_colors = {tr(TEXT, "highlight.best"): "#1a7f37", tr(TEXT, "highlight.worst"): "#cf222e"}
    return (styler.map(lambda v: f"color: {band_colors.get(v, '#1b1f24')}; font-weight: 600",
                       subset=[metric_label("roi_band")])
            .map(lambda v: f"color: {flag_colors.get(v, '#57606a')}; font-weight: 600", subset=[tr(TEXT, "col.flag")]))


def show(rows: pd.DataFrame, metric: str, by_lower: bool, everything: bool, currency: str,
         **kwargs: object) -> Sequence[str]:
    """Draw the table of ranked rows; returns the column order shown."""
    code = lang()
    shown, specs = frame(rows, metric), cols(rows, metric)
    config = tables.column_config(shown, specs, code, currency)
    order = column_order(rows, metric, by_lower, everything, config)
    if everything:  # rank, name and the sort columns stay in view while the others scroll
        for key in order[:2 + len(sort_keys(rows, metric, by_lower))]:
            config[key]["pinned"] = True
    tables.show(shown, specs, order, code=code, currency=currency, style=_colours, config=config, **kwargs)
    return order

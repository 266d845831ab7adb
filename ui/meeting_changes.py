"""Meeting screens 1–3: KPIs week over week, top movers (under the partner lifecycle's week: new, woke up, fell
asleep), ROI band changes (the weekly pack's own frames)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from presentation import fmt, palette
from presentation import lifecycle as lifecycle_words
from programme.weekly import BAND_DAYS, WeeklyPack
from ui import charts, layout, present
from ui.i18n import band_label, lang, metric_help, metric_label, model_label, t, tr
from ui.meeting_charts import change_bars, roi_moves

MAX_ROWS = 7  # rows a screen's table shows: more would not fit 1080 px at meeting-mode size
# (metric, delta colour) of the cards: the six headline ones, then the rest of the pack's summary
HEADLINE = (("leads", "normal"), ("won_deals", "normal"), ("conversion", "normal"), ("revenue", "normal"),
            ("costs", "inverse"), ("roi", "normal"))
MORE = (("qualified_leads", "normal"), ("avg_check", "normal"), ("profit", "normal"), ("new_clients", "normal"),
        ("cpa", "inverse"))

TEXT = {
    "ru": {
        "last": "прошлая неделя: {value}",
        "col.partner": "Партнёр", "col.model": "Модель", "col.rev_before": "Выручка, прошлая",
        "col.rev_now": "Выручка, эта", "col.change": "Изменение", "col.change_pct": "Изм., %",
        "col.leads": "Лиды", "col.sample": "Выборка",
        "col.band_before": "Было", "col.band_now": "Стало", "col.roi_before": "ROI, было", "col.roi_now": "ROI, стало",
        "movers.none": "За неделю ни у одного партнёра не изменились ни выручка, ни число лидов.",
        "movers.chart": "Изменение выручки за неделю",
        "movers.note": "Выручка — сделки, закрытые за неделю; партнёры, у которых период созревает, не сравниваются.",
        "bands.none": "Ни один партнёр не сменил оценку ROI.",
        "bands.counts": "Улучшили оценку: {up} · ухудшили: {down}",
        "bands.chart": "ROI: серая точка — было, цветная — стало",
        "bands.note": "ROI за {days} дней до конца недели против {days} дней неделей раньше (ROI одной недели — в "
                      "основном шум). «Мало лидов» — оценка ненадёжна.",
        "more": "и ещё {n} — в недельном отчёте (страница «Отчёты»).",
    },
    "en": {
        "last": "last week: {value}",
        "col.partner": "Partner", "col.model": "Model", "col.rev_before": "Revenue, last week",
        "col.rev_now": "Revenue, this week", "col.change": "Change", "col.change_pct": "Change, %",
        "col.leads": "Leads", "col.sample": "Sample",
        "col.band_before": "Before", "col.band_now": "Now", "col.roi_before": "ROI, before", "col.roi_now": "ROI, now",
        "movers.none": "No partner's revenue or lead count changed this week.",
        "movers.chart": "Revenue change this week",
        "movers.note": "Revenue: deals closed during the week; partners whose period is maturing are not compared.",
        "bands.none": "No partner changed its ROI band.",
        "bands.counts": "Band up: {up} · band down: {down}",
        "bands.chart": "ROI: grey dot — before, coloured — now",
        "bands.note": "ROI over the {days} days to the week's end against the {days} days a week earlier (one week's "
                      "ROI is mostly noise). “Too few leads”: the band is unreliable.",
        "more": "and {n} more — in the weekly report (the “Reports” page).",
    },
}


def signed_money(value: object, code: str, currency: str) -> str:
    """+1 234 ₽ / −1 234 ₽ (a dash when missing)."""
    if value is None or pd.isna(value):  # type: ignore[arg-type]
        return fmt.DASH
    x = float(value)  # type: ignore[arg-type]
    return ("+" if x >= 0 else "\u2212") + fmt.money(abs(x), code, currency)


def _few(flags: pd.Series) -> list[str]:
    """The "мало лидов" mark per row (a missing flag counts as too few, as in the weekly report)."""
    return [t("too_few") if bool(x) else "" for x in flags.astype("boolean").fillna(True)]


def more_rows(total: int) -> None:
    """A caption naming the rows a screen's table left out."""
    if total > MAX_ROWS:
        st.caption(tr(TEXT, "more", n=total - MAX_ROWS))


# ---------- 1. KPIs week over week ----------

def _card(row: pd.Series, color: str, currency: str) -> layout.Kpi:
    """One summary row as a KPI card: this week, the change (percentage points for ratios), last week under it."""
    metric, pp = str(row["metric"]), row["kind"] == "pct"
    delta = layout.delta_text(row["change"] if pp else row["change_pct"], "pp" if pp else "rel")
    last = layout.value_text(metric, row["last_week"], currency, short=True)
    return layout.Kpi(label=metric_label(metric), value=layout.value_text(metric, row["this_week"], currency, True),
                      delta=delta, delta_color=color, help=metric_help(metric), caption=tr(TEXT, "last", value=last))


def _cards(summary: pd.DataFrame, metrics: Sequence[tuple[str, str]], currency: str) -> list[layout.Kpi]:
    """Cards of the summary rows of these metrics, in order (conversion: whichever the pack shows)."""
    rows = {("conversion" if m == "win_rate_closed" else m): r for m, r in
            zip(summary["metric"], summary.to_dict("records"), strict=True)}
    return [_card(pd.Series(rows[m]), color, currency) for m, color in metrics if m in rows]


def summary(pack: WeeklyPack) -> None:
    """Screen 1: the week's KPIs against last week, as large cards."""
    # no "vs last week" note under each delta: the card's last line names last week's value
    layout.kpi_cards(_cards(pack.summary, HEADLINE, pack.currency), key="meeting-kpi", compact=True)
    layout.kpi_cards(_cards(pack.summary, MORE, pack.currency), key="meeting-more", compact=True)


# ---------- 2. top movers ----------

def lifecycle_line(pack: WeeklyPack) -> None:
    """The week's partner lifecycle in one line: new / woke up / fell asleep, with the partners' names."""
    week = pack.lifecycle
    if week is None:
        return
    names = {k: list(getattr(week, k)["partner"]) for k in lifecycle_words.KINDS}
    st.markdown(":material/conversion_path: " + lifecycle_words.week_line(names, lang(), markdown=True))


def movers(pack: WeeklyPack) -> None:
    """Screen 2: the week's lifecycle line, then the partners whose revenue (then leads) changed most, as a table
    and as bars."""
    m, code, cur = pack.movers, lang(), pack.currency
    lifecycle_line(pack)
    if m.empty:
        st.success(tr(TEXT, "movers.none"), icon=":material/horizontal_rule:")
        return
    frame = pd.DataFrame({
        tr(TEXT, "col.partner"): [fmt.plain(p) for p in m["partner"]],
        tr(TEXT, "col.model"): [model_label(x) for x in m["model"]],
        tr(TEXT, "col.rev_before"): m["revenue_before"].astype(float),
        tr(TEXT, "col.rev_now"): m["revenue_now"].astype(float),
        tr(TEXT, "col.change"): m["change"].astype(float),
        tr(TEXT, "col.change_pct"): pd.to_numeric(m["change_pct"], errors="coerce"),
        tr(TEXT, "col.leads"): [f"{fmt.num(a, code)} → {fmt.num(b, code)}"
                                for a, b in zip(m["leads_before"], m["leads_now"], strict=True)],
        tr(TEXT, "col.sample"): _few(m["too_few"]),
    })
    money = lambda v: fmt.money(v, code, cur)  # noqa: E731 — a cell formatter
    left, right = present.beside([2, 1])
    with left:
        present.table(frame, formats={tr(TEXT, "col.rev_before"): money, tr(TEXT, "col.rev_now"): money,
                                      tr(TEXT, "col.change"): lambda v: signed_money(v, code, cur),
                                      tr(TEXT, "col.change_pct"): lambda v: fmt.signed_pct(v, code)},
                      colors={tr(TEXT, "col.change"): present.signed_color,
                              tr(TEXT, "col.change_pct"): present.signed_color},
                      right=[tr(TEXT, "col.leads")], wrap=[tr(TEXT, "col.partner")])
        st.caption(tr(TEXT, "movers.note"))
    with right:
        chart = change_bars([str(p) for p in m["partner"]], m["change"].astype(float).tolist(),
                            [signed_money(v, code, cur) for v in m["change"]], tr(TEXT, "movers.chart"))
        charts.show(chart, key="meeting.movers_chart", height=44 * len(m) + 40)


# ---------- 3. ROI band changes ----------

def bands(pack: WeeklyPack) -> None:
    """Screen 3: the partners whose ROI band changed between the two 28-day windows, well-measured ones first."""
    b, code = pack.bands, lang()
    if b.empty:
        st.success(tr(TEXT, "bands.none"), icon=":material/horizontal_rule:")
        st.caption(tr(TEXT, "bands.note", days=BAND_DAYS))
        return
    up = int(b["up"].astype(bool).sum())
    st.subheader(tr(TEXT, "bands.counts", up=up, down=len(b) - up), anchor=False)
    shown = b.head(MAX_ROWS)
    band_col = {tr(TEXT, "col.band_before"): "band_before", tr(TEXT, "col.band_now"): "band_now"}
    frame = pd.DataFrame({
        tr(TEXT, "col.partner"): [fmt.plain(p) for p in shown["partner"]],
        tr(TEXT, "col.model"): [model_label(x) for x in shown["model"]],
        **{label: [band_label(x) for x in shown[col]] for label, col in band_col.items()},
        tr(TEXT, "col.roi_before"): pd.to_numeric(shown["roi_before"], errors="coerce"),
        tr(TEXT, "col.roi_now"): pd.to_numeric(shown["roi_now"], errors="coerce"),
        tr(TEXT, "col.sample"): _few(shown["too_few"]),
    })
    colour_of = {band_label(k): v for k, v in palette.BAND_COLORS.items()}
    pct = lambda v: fmt.pct(v, code)  # noqa: E731 — a cell formatter
    left, right = present.beside([2, 1])
    with left:
        present.table(frame, formats={tr(TEXT, "col.roi_before"): pct, tr(TEXT, "col.roi_now"): pct},
                      colors={label: (lambda v: colour_of.get(v, "")) for label in band_col},
                      wrap=[tr(TEXT, "col.partner"), *band_col])
        more_rows(len(b))
        st.caption(tr(TEXT, "bands.note", days=BAND_DAYS))
    with right:
        rows = pd.DataFrame({"label": [str(p) for p in shown["partner"]], "roi_before": shown["roi_before"],
                             "roi_now": shown["roi_now"], "band_now": shown["band_now"],
                             "text": [fmt.pct(v, code) for v in shown["roi_now"]]})
        charts.show(roi_moves(rows, tr(TEXT, "bands.chart")), key="meeting.bands_chart", height=56 * len(shown) + 40)

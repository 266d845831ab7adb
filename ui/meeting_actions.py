"""Meeting screens 4–6: anomalies of the week, goals off track, and the decisions they call for (programme.decisions)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from presentation import fmt
from presentation.rules import anomaly_rule
from programme.decisions import decisions as decisions_of
from programme.weekly import ANOMALY_METRICS, BAND_DAYS, WeeklyPack
from ui import charts, goals_panel, present
from ui.i18n import band_label, lang, metric_label, model_label, tr
from ui.meeting_changes import MAX_ROWS, more_rows
from ui.meeting_charts import goal_bars, weekly_line

MAX_DECISIONS = MAX_ROWS - 1  # a decision's grounds take up to three lines (a goal: target, date, now, pace): 7 such rows
# overflow 1080 px by ~20 px (seen on the demo week of 2026-11-01), 6 fit with room to spare

TEXT = {
    "ru": {
        "col.where": "Где", "col.metric": "Показатель", "col.actual": "За неделю", "col.expected": "Обычно",
        "col.z": "Отклонение", "col.direction": "Куда", "up": "↑ выше обычного", "down": "↓ ниже обычного",
        "total": "Вся программа",
        "anomalies.none": "Аномалий нет: все показатели недели в обычных пределах.",
        "anomalies.note": "{rule} Красная точка — аномальная неделя.",
        "col.goal": "Чья цель", "col.target": "Цель", "col.now": "Сейчас", "col.pace": "Прогноз", "col.until": "До",
        "goals.none": "Все цели идут по плану — отстающих нет.",
        "goals.unset": "Целей пока нет: задайте их на странице «Цели программы», и здесь появятся отстающие.",
        "goals.chart": "Доля цели: столбец — сейчас, черта — прогноз на конец периода",
        "col.n": "№", "col.decision": "Что решить", "col.who": "Кого касается", "col.why": "Почему",
        "decisions.none": "Решений не требуется: убыточных партнёров с достаточным числом лидов, падений оценки, "
                          "аномалий и отстающих целей нет.",
        "decisions.note": "Список собран из тех же фактов, что и недельный отчёт: убыточные партнёры (ROI за {days} "
                          "дней, без «мало лидов»), падения оценки ROI, аномалии недели, отстающие цели.",
        "decisions.more": "и ещё {n} — их основания на экранах 3–5.",
        "do.loss": "Пересмотреть условия или остановить", "do.band_down": "Разобраться в падении оценки",
        "do.anomaly_up": "Понять причину роста", "do.anomaly_down": "Найти причину падения",
        "do.goal": "Догнать цель или пересмотреть её",
        "why.loss": "ROI {roi} за {days} дней при {leads} лидах; убыток {loss}",
        "why.band_down": "{before} → {now}: ROI {a} → {b}",
        "why.anomaly": "{metric}: {actual} при обычных {expected} (отклонение {z})",
        "why.goal": "{metric} {sign} {target} до {until}: сейчас {actual}, прогноз {pace}",
    },
    "en": {
        "col.where": "Where", "col.metric": "Metric", "col.actual": "This week", "col.expected": "Usual",
        "col.z": "Deviation", "col.direction": "Direction", "up": "↑ above usual", "down": "↓ below usual",
        "total": "Whole program",
        "anomalies.none": "No anomalies: every figure of the week is within its usual range.",
        "anomalies.note": "{rule} A red dot is an anomalous week.",
        "col.goal": "Whose goal", "col.target": "Goal", "col.now": "Now", "col.pace": "Projected", "col.until": "Until",
        "goals.none": "Every goal is on track — none is behind.",
        "goals.unset": "No goals yet: set them on the “Program goals” page and the ones behind will show here.",
        "goals.chart": "Share of the goal: bar — now, tick — projected at the period's end",
        "col.n": "#", "col.decision": "Decide", "col.who": "About", "col.why": "Why",
        "decisions.none": "Nothing to decide: no loss-making partner with enough leads, no band drop, no anomaly and "
                          "no goal behind.",
        "decisions.note": "Built from the weekly report's own facts: loss-making partners (ROI over {days} days, not "
                          "“too few leads”), ROI band drops, the week's anomalies, goals off track.",
        "decisions.more": "and {n} more — their grounds are on screens 3–5.",
        "do.loss": "Revise the terms or stop", "do.band_down": "Find out why the band fell",
        "do.anomaly_up": "Understand the rise", "do.anomaly_down": "Find the cause of the drop",
        "do.goal": "Catch up or revise the goal",
        "why.loss": "ROI {roi} over {days} days on {leads} leads; loss {loss}",
        "why.band_down": "{before} → {now}: ROI {a} → {b}",
        "why.anomaly": "{metric}: {actual} against a usual {expected} (deviation {z})",
        "why.goal": "{metric} {sign} {target} by {until}: now {actual}, projected {pace}",
    },
}


def value_of(kind: str, value: object, currency: str) -> str:
    """A value of the pack's kinds (int, money, pct) as text."""
    code = lang()
    x = None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]
    if kind == "money":
        return fmt.money(x, code, currency)
    return fmt.pct(x, code) if kind == "pct" else fmt.num(x, code)


def z_text(z: object) -> str:
    """A robust z as "+4,2 σ"."""
    x = float(z)  # type: ignore[arg-type]
    return ("+" if x >= 0 else "\u2212") + fmt.num(abs(x), lang(), 1) + "\u00a0σ"


# ---------- 4. anomalies ----------

def _where(series: object) -> str:
    """The anomaly's series: a partner's name (escaped) or the whole program."""
    return fmt.plain(series) if isinstance(series, str) and series else tr(TEXT, "total")


def anomalies(pack: WeeklyPack) -> None:
    """Screen 4: the week's anomalies (whole program and partners' leads), and the program's last weeks as lines."""
    a, cur = pack.anomalies, pack.currency
    if a.empty:
        st.success(tr(TEXT, "anomalies.none"), icon=":material/check_circle:")
    else:
        shown = a.head(MAX_ROWS)
        frame = pd.DataFrame({
            tr(TEXT, "col.where"): [_where(s) for s in shown["series"]],
            tr(TEXT, "col.metric"): [metric_label(m) for m in shown["metric"]],
            tr(TEXT, "col.actual"): [value_of(k, v, cur) for k, v in zip(shown["kind"], shown["actual"], strict=True)],
            tr(TEXT, "col.expected"): [value_of(k, v, cur) for k, v in zip(shown["kind"], shown["expected"],
                                                                            strict=True)],
            tr(TEXT, "col.z"): shown["z"].astype(float),
            tr(TEXT, "col.direction"): [tr(TEXT, "up" if z > 0 else "down") for z in shown["z"]],
        })
        present.table(frame, formats={tr(TEXT, "col.z"): z_text}, colors={tr(TEXT, "col.z"): present.signed_color},
                      right=[tr(TEXT, "col.actual"), tr(TEXT, "col.expected")], wrap=[tr(TEXT, "col.where")])
        more_rows(len(a))
    _series_charts(pack)
    st.caption(tr(TEXT, "anomalies.note", rule=anomaly_rule(lang(), "week")))


def _series_charts(pack: WeeklyPack) -> None:
    """The whole program's leads, won deals and revenue over the pack's weeks, the anomalous week in red."""
    s, a = pack.series.sort_values("week"), pack.anomalies
    total = a[a["series"].isna() | (a["series"] == "")] if len(a) else a
    for col, (metric, kind) in zip(st.columns(len(ANOMALY_METRICS), gap="large"), ANOMALY_METRICS, strict=True):
        flagged = set(total.loc[total["metric"] == metric, "week"]) if len(total) else set()
        rows = pd.DataFrame({"week": s["week"], "value": s[metric].astype(float),
                             "flagged": s["week"].isin(flagged),
                             "text": [value_of(kind, v, pack.currency) for v in s[metric]]})
        with col:
            charts.show(weekly_line(rows, metric_label(metric)), key=f"meeting.series_{metric}", height=190)


# ---------- 5. goals off track ----------

def _goal_rows(g: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Goals off track as the table's text columns."""
    sign = {op: tr(goals_panel.TEXT, f"sign.{op}") for op in (">=", "<=")}
    return pd.DataFrame({
        tr(TEXT, "col.goal"): [fmt.plain(goals_panel.scope_label(r)) for r in g.to_dict("records")],
        tr(TEXT, "col.metric"): [metric_label(m) for m in g["metric"]],
        tr(TEXT, "col.target"): [f"{sign.get(op, op)} {goals_panel.value_text(m, v, currency)}"
                                 for op, m, v in zip(g["op"], g["metric"], g["target"], strict=True)],
        tr(TEXT, "col.now"): [goals_panel.value_text(m, v, currency) for m, v in zip(g["metric"], g["actual"],
                                                                                      strict=True)],
        tr(TEXT, "col.pace"): [goals_panel.value_text(m, v, currency) for m, v in zip(g["metric"], g["pace"],
                                                                                       strict=True)],
        tr(TEXT, "col.until"): [fmt.day(d, lang()) for d in g["date_to"]],
    })


def goals_off_track(pack: WeeklyPack) -> None:
    """Screen 5: goals running behind (or missed this week): target, now, projected; at-least goals as bars."""
    g = pack.goals
    if g.empty and not pack.goals_set:
        st.info(tr(TEXT, "goals.unset"), icon=":material/flag:")
        return
    if g.empty:
        st.success(tr(TEXT, "goals.none"), icon=":material/flag:")
        return
    shown = g.head(MAX_ROWS)
    frame = _goal_rows(shown, pack.currency)
    present.table(frame, right=[tr(TEXT, c) for c in ("col.target", "col.now", "col.pace")],
                  wrap=[tr(TEXT, "col.goal")])
    more_rows(len(g))
    upward = shown[(shown["op"] == ">=") & (shown["target"].astype(float) > 0)]
    if len(upward):
        target = upward["target"].astype(float)
        rows = pd.DataFrame({"label": [f"{goals_panel.scope_label(r)} · {metric_label(r['metric'])}"
                                       for r in upward.to_dict("records")],
                             "done": upward["actual"].astype(float) / target,
                             "pace": upward["pace"].astype(float) / target})
        rows["text"] = [fmt.pct(x, lang(), 0) for x in rows["done"]]
        per_bar = 50 if len(rows) <= 3 else 24  # under a full table the bars get thinner: the screen never scrolls
        charts.show(goal_bars(rows, tr(TEXT, "goals.chart")), key="meeting.goals_chart", height=per_bar * len(rows) + 50)


# ---------- 6. decisions ----------

def _decision_text(r: dict, currency: str) -> tuple[str, str, str]:
    """(what to decide, whom it is about, the numbers behind it) of one decision row."""
    code, kind = lang(), r["kind"]
    who = fmt.plain(r["subject"]) if isinstance(r["subject"], str) and r["subject"] else tr(TEXT, "total")
    if kind == "loss":
        why = tr(TEXT, "why.loss", roi=fmt.pct(r["value"], code), days=BAND_DAYS, leads=fmt.num(r["leads"], code),
                 loss=fmt.money(abs(float(r["amount"] or 0)), code, currency))
        return tr(TEXT, "do.loss"), f"{who} · {model_label(r['model'])}", why
    if kind == "band_down":
        why = tr(TEXT, "why.band_down", before=band_label(r["band_before"]), now=band_label(r["band_now"]),
                 a=fmt.pct(r["reference"], code), b=fmt.pct(r["value"], code))
        return tr(TEXT, "do.band_down"), f"{who} · {model_label(r['model'])}", why
    if kind == "anomaly":
        why = tr(TEXT, "why.anomaly", metric=metric_label(r["metric"]), actual=value_of(r["unit"], r["value"], currency),
                 expected=value_of(r["unit"], r["reference"], currency), z=z_text(r["z"]))
        return tr(TEXT, "do.anomaly_up" if float(r["z"]) > 0 else "do.anomaly_down"), who, why
    m = r["metric"]
    why = tr(TEXT, "why.goal", metric=metric_label(m), sign=tr(goals_panel.TEXT, f"sign.{r['op']}"),
             target=goals_panel.value_text(m, r["target"], currency), until=fmt.day(r["date_to"], code),
             actual=goals_panel.value_text(m, r["value"], currency), pace=goals_panel.value_text(m, r["reference"],
                                                                                                  currency))
    return tr(TEXT, "do.goal"), fmt.plain(goals_panel.scope_label(r)), why


def decisions(pack: WeeklyPack) -> None:
    """Screen 6: what the meeting should decide, each with the number that puts it on the list."""
    found = decisions_of(pack)
    if found.empty:
        st.success(tr(TEXT, "decisions.none"), icon=":material/task_alt:")
    else:
        shown = found.head(MAX_DECISIONS)
        texts = [_decision_text(r, pack.currency) for r in shown.to_dict("records")]
        frame = pd.DataFrame({tr(TEXT, "col.n"): [str(i) for i in range(1, len(texts) + 1)],
                              tr(TEXT, "col.decision"): [x[0] for x in texts],
                              tr(TEXT, "col.who"): [x[1] for x in texts], tr(TEXT, "col.why"): [x[2] for x in texts]})
        present.table(frame, wrap=[tr(TEXT, c) for c in ("col.who", "col.why")])
        if len(found) > MAX_DECISIONS:
            st.caption(tr(TEXT, "decisions.more", n=len(found) - MAX_DECISIONS))
    st.caption(tr(TEXT, "decisions.note", days=BAND_DAYS))

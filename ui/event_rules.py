"""Events on the charts: one Altair layer of marked vertical rules with short titles (`overlay`, `overlay_bars`),
and the events panel under the trends chart (`panel`: the list, adding and deleting the user's events).

A rule's tooltip says the event's title, date, what changed and, for each series of the chart, the metric's mean
over N periods before against N after with its 95 % interval (metrics.events.before_after; presentation.events words
it), or that there are too few periods to tell. Writes go through ui.writes.write (role check, audit).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

import altair as alt
import pandas as pd
import streamlit as st

from data_layer import userdata
from data_layer.userdata import MODELS, UserDataError
from data_layer.userdata.events import MAX_TITLE
from metrics import events as metric_events
from metrics import lookups, maturity
from metrics.events import Scope
from presentation import events as words
from presentation import fmt
from ui import auth, data, writes
from ui.data import query
from ui.filters import current
from ui.i18n import lang, model_label, tr

INK = "#57606a"
MAX_SERIES = 6  # effect lines in one tooltip: the trends chart draws five partners by default
LINE_PX = 14  # a title's row height: close events' titles alternate between two rows
LAYER_CACHE = 64  # event layers kept between reruns (per process)
_LAYERS: dict[tuple, tuple[alt.Chart, ...]] = {}
Label = Callable[[date, str], str]  # a bar chart's period label: (period start, language) -> text

TEXT = {
    "ru": {
        "title": "События на графике", "none": "В выбранном периоде событий нет.",
        "caption": "Пунктирные вертикали на графиках — события: изменения правил комиссий и первые затраты по статье "
                   "(из журнала изменений) и события, добавленные вручную. Наведите на вертикаль — будет среднее "
                   "показателя за {n} периода до и после события с 95 % интервалом разницы.",
        "col.day": "Дата", "col.title": "Событие", "col.scope": "Охват",
        "col.detail": "Что изменилось", "add": "Добавить событие", "day": "Дата (ДД.ММ.ГГГГ)",
        "event_title": "Название (до 80 символов)", "scope": "Охват", "value.model": "Модель",
        "value.partner": "Партнёр", "save": "Добавить", "pick": "Удалить событие", "delete": "Удалить",
        "added": "Событие «{title}» добавлено.", "deleted": "Событие удалено.",
        "viewers": "Добавлять и удалять события могут редакторы.",
        "tip.title": "Событие", "tip.day": "Дата", "tip.detail": "Что изменилось",
        "scope.all": "Вся программа", "scope.model": "Модель", "scope.partner": "Партнёр",
    },
    "en": {
        "title": "Events on the chart", "none": "No events in the chosen period.",
        "caption": "Dashed vertical lines on the charts are events: commission-rule changes and a cost category's "
                   "first month (from the change log), and events added by hand. Hover one for the metric's mean over "
                   "{n} periods before and after the event with the difference's 95 % interval.",
        "col.day": "Date", "col.title": "Event", "col.scope": "Scope",
        "col.detail": "What changed", "add": "Add an event", "day": "Date (DD.MM.YYYY)",
        "event_title": "Title (up to 80 characters)", "scope": "Scope", "value.model": "Model",
        "value.partner": "Partner", "save": "Add", "pick": "Delete an event", "delete": "Delete",
        "added": "Event “{title}” added.", "deleted": "Event deleted.",
        "viewers": "Editors can add and delete events.",
        "tip.title": "Event", "tip.day": "Date", "tip.detail": "What changed",
        "scope.all": "Whole programme", "scope.model": "Model", "scope.partner": "Partner",
    },
}


def page_scope(split: str = "total", keys: object = ()) -> Scope:
    """The scope of a chart under the sidebar filters: the whole programme unless they narrow it; a chart split by
    partner also shows its partners' events."""
    return metric_events.scope_of(current(), tuple(int(k) for k in keys if split == "partner" and pd.notna(k)))


def partner_scope(partner_id: int, model: str | None) -> Scope:
    """The scope of one partner's page: its own events and its model's."""
    return Scope(whole=False, models=(model,) if model in MODELS else (), partners=(int(partner_id),))


def overlay(chart: alt.TopLevelMixin, points: pd.DataFrame, kind: str, unit: str, currency: str = "RUB",
            split: str = "total", scope: Scope | None = None) -> alt.TopLevelMixin:
    """The chart with the events of its period drawn on its time axis (x = period:T); points: the chart's rows
    (period, series, value, optional key, maturing, incomplete) the before / after is read from."""
    keys = points["key"] if "key" in points.columns else ()
    return _layer(chart, points, kind, unit, currency, scope or page_scope(split, keys), None)


def overlay_bars(chart: alt.TopLevelMixin, rows: pd.DataFrame, unit: str, labels: Mapping[str, str],
                 currency: str = "RUB", scope: Scope | None = None) -> alt.TopLevelMixin:
    """A revenue-and-costs bar chart (ui.charts.revenue_vs_costs: x = month_txt labels) with its events; the
    before / after is read for revenue and for costs."""
    points = pd.concat([pd.DataFrame({"period": rows["period"], "series": labels.get(col, col), "value": rows[col],
                                      "maturing": rows.get("maturing", False),
                                      "incomplete": rows.get("incomplete", False)})
                        for col in ("revenue", "costs")], ignore_index=True)
    # the bars' period labels, as revenue_vs_costs writes them: a week by its first day, else the month
    return _layer(chart, points, "money", unit, currency, scope or page_scope(), fmt.day if unit == "week" else fmt.month)


def _layer(chart: alt.TopLevelMixin, points: pd.DataFrame, kind: str, unit: str, currency: str, scope: Scope,
           labels: Label | None) -> alt.TopLevelMixin:
    """The chart, its events' rules and their titles (x: the days on a time axis, the bars' labels without)."""
    f = current()
    found = query(metric_events.events, f.date_from, f.date_to, scope)
    if found.empty or points.empty:
        return chart
    # a rerun with the same data (a click elsewhere on the page) draws the same layers: built once (~30-40 ms of
    # before / after statistics and Altair objects per chart), keyed by what they are made of
    key = (str(data.db_path()), data.version(), f.date_from, f.date_to, scope, kind, unit, currency, lang(),
           getattr(labels, "__qualname__", labels), int(pd.util.hash_pandas_object(points, index=False).sum()))
    layers = _LAYERS.get(key)
    if layers is None:
        layers = _event_layers(found, points, kind, unit, currency, labels)
        while len(_LAYERS) >= LAYER_CACHE:
            _LAYERS.pop(next(iter(_LAYERS)))  # oldest first
        _LAYERS[key] = layers
    return alt.layer(chart, *layers) if layers else chart


def _event_layers(found: pd.DataFrame, points: pd.DataFrame, kind: str, unit: str, currency: str,
                  labels: Label | None) -> tuple[alt.Chart, ...]:
    """The rules and their titles for the events found (none when no event falls on the chart's axis)."""
    marks, series = marks_frame(found, points, kind, unit, currency, labels)
    code = lang()
    # the x field is named as in the chart's own layers: Vega-Lite unions a shared scale's domains field by field,
    # and a differently named field would drop the bars' period order (they sorted alphabetically)
    if labels is None:
        x = alt.X("period:T", title=None)
        spots = [pd.Timestamp(p) for p in points["period"]] + list(marks["period"])
    else:
        periods = sorted({pd.Timestamp(p).date() for p in points["period"]})
        spots = [labels(p, code) for p in periods]
        x = alt.X("month_txt:O", title=None, sort=spots)
        # an event in a month without a bar (a partner's empty month) would add an axis category at the end
        marks = marks[marks["period"].isin(spots)].rename(columns={"period": "month_txt"})
        if marks.empty:
            return ()
    marks["right"] = _near_the_end(marks.iloc[:, 0], spots)
    tips = [alt.Tooltip("tip_title:N", title=tr(TEXT, "tip.title")), alt.Tooltip("tip_day:N", title=tr(TEXT, "tip.day")),
            alt.Tooltip("tip_detail:N", title=tr(TEXT, "tip.detail")),
            *(alt.Tooltip(f"effect_{i}:N", title=name) for i, name in enumerate(series))]
    rules = alt.Chart(marks).mark_rule(color=INK, strokeDash=[5, 3], strokeWidth=1.5).encode(x=x, tooltip=tips)
    layers = [rules]
    for right in (False, True):  # a title near the right edge is written to the left of its rule, not cut off
        layers.append(alt.Chart(marks).transform_filter(f"{'' if right else '!'}datum.right").mark_text(
            align="right" if right else "left", baseline="top", dx=-4 if right else 4, color=INK,
            fontWeight="bold").encode(x=x, y=alt.Y("y_px:Q", scale=None, axis=None), text="label:N",
                                      tooltip=tips))
    return tuple(layers)


def _near_the_end(spots: pd.Series, axis: list[object]) -> list[bool]:
    """Whether each rule stands in the last quarter of the axis (its title then goes to the left)."""
    if not axis:
        return [False] * len(spots)
    if isinstance(axis[0], pd.Timestamp):
        lo, hi = min(axis), max(axis)
        span = (hi - lo) or pd.Timedelta(days=1)
        return [(s - lo) / span > 0.75 for s in spots]
    place = {v: i for i, v in enumerate(axis)}
    return [place.get(s, 0) > 0.75 * (len(axis) - 1) for s in spots]


def marks_frame(found: pd.DataFrame, points: pd.DataFrame, kind: str, unit: str, currency: str,
                labels: Label | None) -> tuple[pd.DataFrame, list[str]]:
    """One row per rule (events of one day, or of one bar's period, share a rule): period (a day, or the bar's
    label), label, y_px and the tooltip's
    texts; and the chart's series named in the tooltip (at most MAX_SERIES)."""
    code = lang()
    series = list(dict.fromkeys(points["series"].astype(str)))[:MAX_SERIES]
    rows = []
    for event in found.to_dict("records"):
        day = event["day"]
        x = pd.Timestamp(day) if labels is None else labels(maturity.bucket_start(day, unit), code)
        rows.append({"period": x, "title": words.title(event, code, currency),
                     "detail": words.detail(event, code, currency), "day": day,
                     **{f"effect_{i}": _effect(points, name, event, kind, unit, currency)
                        for i, name in enumerate(series)}})
    out = []
    for i, (_, group) in enumerate(pd.DataFrame(rows).groupby("period", sort=True)):
        first = group.iloc[0]
        out.append({"period": first["period"], "label": words.short(" · ".join(group["title"])), "y_px": 2 + LINE_PX * (i % 2),
                    "tip_title": " · ".join(group["title"]),
                    "tip_day": ", ".join(dict.fromkeys(fmt.day(d, code) for d in group["day"])),
                    "tip_detail": " · ".join(d for d in group["detail"] if d) or fmt.DASH,
                    **{c: first[c] for c in group.columns if c.startswith("effect_")}})
    return pd.DataFrame(out), series


def _effect(points: pd.DataFrame, name: str, event: Mapping[str, object], kind: str, unit: str, currency: str) -> str:
    """The before / after sentence of one series, "" when the event concerns another series of the chart."""
    mine = points[points["series"].astype(str) == name]
    if "key" in points.columns and event["scope"] in ("model", "partner"):
        ours = points["key"].astype(str) == str(event["value"])
        if ours.any() and not (mine.index.isin(points.index[ours])).any():
            return ""
    effect = metric_events.before_after(mine, event["day"], unit)  # type: ignore[arg-type]
    return words.effect_sentence(effect, kind, unit, lang(), currency)


# ---------- the panel under the trends chart ----------

def panel(key: str = "trends.events") -> None:
    """The events of the period: a list, and for editors adding an event and deleting one added by hand."""
    f = current()
    code = lang()
    found = query(metric_events.events, f.date_from, f.date_to, page_scope())
    currency = query(lookups.freshness).get("currency") or "RUB"
    known = query(lookups.partners)
    names = dict(zip(known["partner_id"].astype(int), known["name"].astype(str), strict=False))
    with st.expander(f"{tr(TEXT, 'title')} ({len(found)})", expanded=False):
        st.caption(tr(TEXT, "caption", n=metric_events.N_PERIODS))
        if found.empty:
            st.caption(tr(TEXT, "none"))
        else:
            st.dataframe(pd.DataFrame({
                tr(TEXT, "col.day"): [fmt.day(d, code) for d in found["day"]],
                tr(TEXT, "col.title"): [words.title(e, code, currency) for e in found.to_dict("records")],
                tr(TEXT, "col.detail"): [words.detail(e, code, currency) or fmt.DASH for e in found.to_dict("records")],
                tr(TEXT, "col.scope"): [words.scope_text(e, code, names) for e in found.to_dict("records")],
            }), hide_index=True, key=f"{key}.table", placeholder=fmt.DASH, width="stretch")
        flash = st.session_state.pop(f"{key}.flash", None)
        if flash:
            st.success(flash)
        if not auth.allowed(userdata.add_event):
            st.caption(tr(TEXT, "viewers"))
            return
        _add_form(key, names)
        _delete_form(key, found[found["kind"] == "user"], code)


def _add_form(key: str, names: Mapping[int, str]) -> None:
    """Date, title, scope (and its model or partner), and the add button."""
    st.markdown(f"**{tr(TEXT, 'add')}**")
    c1, c2, c3, c4 = st.columns([1.2, 2.6, 1.4, 2])
    day = c1.text_input(tr(TEXT, "day"), key=f"{key}.day", placeholder="07.12.2026")
    title = c2.text_input(tr(TEXT, "event_title"), key=f"{key}.title", max_chars=MAX_TITLE)
    scope = c3.selectbox(tr(TEXT, "scope"), userdata.SCOPES, key=f"{key}.scope",
                         format_func=lambda s: tr(TEXT, f"scope.{s}"))
    value: object = None
    if scope == "model":
        value = c4.selectbox(tr(TEXT, "value.model"), MODELS, key=f"{key}.model", format_func=model_label)
    elif scope == "partner":
        value = c4.selectbox(tr(TEXT, "value.partner"), sorted(names, key=lambda p: str(names[p]).lower()),
                             key=f"{key}.partner", format_func=lambda p: str(names.get(p, p)))
    if st.button(tr(TEXT, "save"), key=f"{key}.add", type="primary"):
        try:
            writes.write(userdata.add_event, day, title, scope, value)
        except (UserDataError, writes.WriteRefused) as exc:
            st.error(exc.text(lang()) if isinstance(exc, UserDataError) else str(exc), icon=":material/error:")
            return
        st.session_state[f"{key}.flash"] = tr(TEXT, "added", title=" ".join(str(title).split()))
        st.rerun()


def _delete_form(key: str, mine: pd.DataFrame, code: str) -> None:
    """Pick one of the period's user events and delete it."""
    if mine.empty:
        return
    options = {int(e["id"]): f"{fmt.day(e['day'], code)} · {e['title']}" for e in mine.to_dict("records")}
    c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
    pick = c1.selectbox(tr(TEXT, "pick"), list(options), key=f"{key}.pick", format_func=options.get)
    if c2.button(tr(TEXT, "delete"), key=f"{key}.delete"):
        try:
            writes.write(userdata.delete_event, pick)
        except (UserDataError, writes.WriteRefused) as exc:
            st.error(exc.text(lang()) if isinstance(exc, UserDataError) else str(exc), icon=":material/error:")
            return
        st.session_state[f"{key}.flash"] = tr(TEXT, "deleted")
        st.rerun()

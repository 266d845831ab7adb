"""Shared sidebar filters, mirrored in the URL: pages read one Filters object through current().

URL parameters (only values that differ from the defaults are written, so a default view has a clean URL):
``period`` (this_month | last_month | this_quarter | last_12m | custom), ``from``/``to`` (ISO dates, custom
period), ``compare`` (previous | year), ``partner`` (partner_id, repeated), ``model``, ``pipeline``,
``source`` (repeated), ``view`` (cohort | close), ``lang`` (en), ``present`` (1). Pages mirror their own
widgets with bind_param (e.g. ``selected`` on the partners page).

The URL is read once per browser session; after that the widgets own the state and the URL follows them,
so switching pages (which empties the address bar) never resets a filter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from metrics.filters import Filters
from presentation import periods
from presentation.links import GLOBAL_PARAMS  # noqa: F401  (one home for the URL names)
from ui.i18n import lang, model_label, tr

PRESETS = ("this_month", "last_month", "this_quarter", "last_12m", "custom")
DEFAULT_PRESET = "last_12m"
VIEWS = ("cohort", "close")
MODEL_CHOICES = ("referral", "sales", "service", "direct")

K_PERIOD, K_DATES, K_COMPARE = "filters.period", "filters.dates", "filters.compare"
K_PARTNERS, K_MODELS, K_PIPELINES, K_SOURCES = "filters.partners", "filters.models", "filters.pipelines", "filters.sources"
K_VIEW, K_RESET = "filters.view", "filters.reset"
K_LANG, K_PRESENT = "app.lang", "app.present"   # toggles in the page header, not in the sidebar
_LOADED, _CURRENT, _CONTEXT = "filters._loaded", "filters._current", "filters._context"


TEXT = {
    "ru": {
        "header": "Фильтры", "period": "Период", "dates": "Даты (часовой пояс аккаунта: {tz})",
        "preset.this_month": "Этот месяц", "preset.last_month": "Прошлый месяц",
        "preset.this_quarter": "Этот квартал", "preset.last_12m": "Последние 12 месяцев",
        "preset.custom": "Свой период",
        "partners": "Партнёры", "models": "Модели", "pipelines": "Воронки", "sources": "Источник лида",
        "all": "все", "view": "Сделки считать", "view.cohort": "по дате создания лида",
        "view.close": "по дате закрытия",
        "view.help": "По дате создания: сделки из лидов, созданных в периоде. По дате закрытия: сделки, "
                     "выигранные в периоде, когда бы ни был создан лид.",
        "reset": "Сбросить фильтры", "lang": "English", "present": "Режим встречи",
        "present.help": "Крупные цифры для общего экрана; боковая панель скрыта, фильтры берутся из ссылки. "
                        "Недельный обзор по шагам — страница «Встреча».",
        "share": "Ссылка на этот вид — адрес страницы в браузере: скопируйте его, и коллега увидит те же цифры.",
    },
    "en": {
        "header": "Filters", "period": "Period", "dates": "Dates (account time zone: {tz})",
        "preset.this_month": "This month", "preset.last_month": "Last month",
        "preset.this_quarter": "This quarter", "preset.last_12m": "Last 12 months",
        "preset.custom": "Custom",
        "partners": "Partners", "models": "Models", "pipelines": "Pipelines", "sources": "Lead source",
        "all": "all", "view": "Count deals", "view.cohort": "by lead creation date",
        "view.close": "by close date",
        "view.help": "By creation date: deals from leads created in the period. By close date: deals won in "
                     "the period, whenever the lead was created.",
        "reset": "Reset filters", "lang": "English", "present": "Meeting mode",
        "present.help": "Big numbers for a shared screen; the sidebar is hidden, filters come from the link. "
                        "The weekly review, screen by screen, is the “Meeting” page.",
        "share": "The link to this view is the page address in the browser: copy it and a colleague sees "
                 "the same numbers.",
    },
}


@dataclass(frozen=True)
class Choices:
    """What the filters can offer, read from the database once per data version."""

    partners: pd.DataFrame          # partner_id, name, model, active
    pipelines: pd.DataFrame         # pipeline_id, name
    sources: tuple[str, ...]
    timezone: str = "Europe/Moscow"
    data_min: date | None = None
    data_max: date | None = None


# ---------- dates ----------

def today(tz: str = "Europe/Moscow") -> date:
    """Today's date in the account time zone."""
    try:
        return datetime.now(ZoneInfo(tz)).date()
    except (KeyError, ValueError):  # unknown zone name in a synced account: fall back to Moscow
        return datetime.now(ZoneInfo("Europe/Moscow")).date()


def _month_start(d: date, back: int = 0) -> date:
    month = d.year * 12 + d.month - 1 - back
    return date(month // 12, month % 12 + 1, 1)


def preset_range(preset: str, now: date) -> tuple[date, date]:
    """The [from, to] dates of a period preset relative to today (both inclusive)."""
    if preset == "this_month":
        return _month_start(now), now
    if preset == "last_month":
        start = _month_start(now, 1)
        return start, _month_start(now) - timedelta(days=1)
    if preset == "this_quarter":
        return date(now.year, 3 * ((now.month - 1) // 3) + 1, 1), now
    return _month_start(now, 11), now  # last_12m: twelve monthly buckets, the current one partial


# ---------- URL <-> session state ----------

def _url_list(param: str) -> list[str]:
    return [v for v in st.query_params.get_all(param) if v != ""]


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _ints(values: Sequence[str]) -> list[int]:
    out = []
    for v in values:
        try:
            out.append(int(v))
        except ValueError:
            continue
    return out


def defaults(now: date) -> dict[str, Any]:
    """Widget values of the default view."""
    return {
        K_PERIOD: DEFAULT_PRESET, K_DATES: preset_range(DEFAULT_PRESET, now), K_COMPARE: "previous",
        K_PARTNERS: [], K_MODELS: [], K_PIPELINES: [], K_SOURCES: [], K_VIEW: "cohort",
    }


def load_url_once(now: date) -> None:
    """Seed the widget state from the URL at the start of a browser session (later runs keep the widgets')."""
    if st.session_state.get(_LOADED):
        return
    state = defaults(now)
    period = st.query_params.get("period", DEFAULT_PRESET)
    state[K_PERIOD] = period if period in PRESETS else DEFAULT_PRESET
    if state[K_PERIOD] == "custom":
        lo, hi = _parse_date(st.query_params.get("from")), _parse_date(st.query_params.get("to"))
        if lo and hi:
            state[K_DATES] = (min(lo, hi), max(lo, hi))
        else:
            state[K_PERIOD] = DEFAULT_PRESET
    else:
        state[K_DATES] = preset_range(state[K_PERIOD], now)
    compare = st.query_params.get("compare", "previous")
    state[K_COMPARE] = compare if compare in periods.COMPARES else "previous"
    state[K_PARTNERS] = _ints(_url_list("partner"))
    state[K_MODELS] = [m for m in _url_list("model") if m in (*MODEL_CHOICES, "unassigned")]
    state[K_PIPELINES] = _ints(_url_list("pipeline"))
    state[K_SOURCES] = _url_list("source")
    view = st.query_params.get("view", "cohort")
    state[K_VIEW] = view if view in VIEWS else "cohort"
    state[K_LANG] = st.query_params.get("lang", "ru") == "en"
    state[K_PRESENT] = st.query_params.get("present", "0") in ("1", "true", "yes")
    for key, value in state.items():
        st.session_state[key] = value
    st.session_state[_LOADED] = True


def _set_param(param: str, value: str | list[str] | None) -> None:
    """Write one URL parameter (None or [] removes it); no write when it already holds that value."""
    have = st.query_params.get_all(param)
    want = [] if value is None else ([value] if isinstance(value, str) else [str(v) for v in value])
    if have == want:
        return
    if want:
        st.query_params[param] = want if len(want) > 1 else want[0]
    elif param in st.query_params:
        del st.query_params[param]


def write_url() -> None:
    """Mirror the shared filters, language and meeting mode into the URL (defaults are left out)."""
    s = st.session_state
    period = s.get(K_PERIOD, DEFAULT_PRESET)
    _set_param("period", None if period == DEFAULT_PRESET else period)
    dates = s.get(K_DATES) or ()
    custom = period == "custom" and len(dates) == 2
    _set_param("from", dates[0].isoformat() if custom else None)
    _set_param("to", dates[1].isoformat() if custom else None)
    _set_param("compare", None if s.get(K_COMPARE) == "previous" else s.get(K_COMPARE))
    _set_param("partner", [str(p) for p in s.get(K_PARTNERS, [])])
    _set_param("model", list(s.get(K_MODELS, [])))
    _set_param("pipeline", [str(p) for p in s.get(K_PIPELINES, [])])
    _set_param("source", list(s.get(K_SOURCES, [])))
    _set_param("view", None if s.get(K_VIEW) == "cohort" else s.get(K_VIEW))
    _set_param("lang", "en" if s.get(K_LANG) else None)
    _set_param("present", "1" if s.get(K_PRESENT) else None)


def bind_param(key: str, param: str, parse: Callable[[str], Any], default: Any = None) -> None:
    """Seed a page widget's state from ?param= the first time the page renders it in this session."""
    if key in st.session_state:
        return
    raw = st.query_params.get(param)
    try:
        value = parse(raw) if raw not in (None, "") else default
    except (TypeError, ValueError):
        value = default
    st.session_state[key] = value


def mirror_param(param: str, value: Any, default: Any = None) -> None:
    """Write a page widget's value into ?param= (removed when it equals the default)."""
    _set_param(param, None if value is None or value == default else str(value))


# ---------- widgets ----------

def _on_period_change(now: date) -> None:
    preset = st.session_state[K_PERIOD]
    if preset != "custom":
        st.session_state[K_DATES] = preset_range(preset, now)


def _on_dates_change() -> None:
    st.session_state[K_PERIOD] = "custom"


# Widgets whose option labels depend on the language. Their browser-side value is the label shown, so
# after a language switch Streamlit could not match it to an option any more; re-assigning the Python
# value in the toggle's callback makes the server send the new label instead.
LANGUAGE_SENSITIVE = [K_PERIOD, K_COMPARE, K_MODELS, K_VIEW]


def language_sensitive(*keys: str) -> None:
    """Register page widgets whose option labels are translated (kept across a language switch)."""
    for key in keys:
        if key not in LANGUAGE_SENSITIVE:
            LANGUAGE_SENSITIVE.append(key)


def keep_values_on_language_switch() -> None:
    """Callback of the language toggle: re-assign translated widgets' values so they survive the switch."""
    for key in LANGUAGE_SENSITIVE:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def reset(now: date) -> None:
    """Back to the default view (callback of the reset button; language and meeting mode stay)."""
    for key, value in defaults(now).items():
        st.session_state[key] = value


def _keep_valid(key: str, options: Sequence[Any]) -> None:
    """Drop selections that are no longer options (a stale link, a renamed source) before rendering."""
    allowed = set(options)
    current = st.session_state.get(key) or []
    kept = [v for v in current if v in allowed]
    if kept != current:
        st.session_state[key] = kept


def sidebar(choices: Choices) -> Filters:
    """Render the shared filters in the sidebar once per run; return and remember the Filters object."""
    now = today(choices.timezone)
    load_url_once(now)
    s = st.session_state
    if s.get(K_PERIOD) not in PRESETS:
        s[K_PERIOD] = DEFAULT_PRESET
    if s.get(K_PERIOD) != "custom":
        s[K_DATES] = preset_range(s[K_PERIOD], now)
    dates = s.get(K_DATES) or ()
    if len(dates) != 2:  # half-picked range: keep the last complete one
        s[K_DATES] = s.get("filters._last_dates") or preset_range(DEFAULT_PRESET, now)
    s["filters._last_dates"] = tuple(s[K_DATES])

    partner_names = dict(zip(choices.partners["partner_id"].astype(int), choices.partners["name"], strict=False))
    pipeline_names = dict(zip(choices.pipelines["pipeline_id"].astype(int), choices.pipelines["name"], strict=False))
    models = list(MODEL_CHOICES)
    if (choices.partners["model"] == "unassigned").any():
        models.append("unassigned")
    _keep_valid(K_PARTNERS, list(partner_names))
    _keep_valid(K_MODELS, models)
    _keep_valid(K_PIPELINES, list(pipeline_names))
    _keep_valid(K_SOURCES, list(choices.sources))

    lo_bound = min(choices.data_min or now, s[K_DATES][0], now - timedelta(days=3650))
    code = lang()
    with st.sidebar:
        st.header(tr(TEXT, "header"), anchor=False)
        st.selectbox(tr(TEXT, "period"), PRESETS, key=K_PERIOD, format_func=lambda p, c=code: tr(TEXT, f"preset.{p}", _lang=c),
                     on_change=_on_period_change, args=(now,))
        st.date_input(tr(TEXT, "dates", tz=choices.timezone), key=K_DATES, min_value=lo_bound,
                      max_value=max(now, s[K_DATES][1]), format="DD.MM.YYYY" if lang() == "ru" else "YYYY-MM-DD",
                      on_change=_on_dates_change)
        st.selectbox(tr(periods.TEXT, "compare"), periods.COMPARES, key=K_COMPARE,
                     format_func=lambda m, c=code: tr(periods.TEXT, f"compare.{m}", _lang=c))
        st.multiselect(tr(TEXT, "partners"), list(partner_names), key=K_PARTNERS,
                       format_func=lambda pid: str(partner_names.get(pid, pid)), placeholder=tr(TEXT, "all"))
        st.multiselect(tr(TEXT, "models"), models, key=K_MODELS, format_func=lambda m, c=code: model_label(m, c),
                       placeholder=tr(TEXT, "all"))
        st.multiselect(tr(TEXT, "pipelines"), list(pipeline_names), key=K_PIPELINES,
                       format_func=lambda pid: str(pipeline_names.get(pid, pid)), placeholder=tr(TEXT, "all"))
        st.multiselect(tr(TEXT, "sources"), list(choices.sources), key=K_SOURCES, placeholder=tr(TEXT, "all"))
        st.segmented_control(tr(TEXT, "view"), VIEWS, key=K_VIEW, required=True,
                             format_func=lambda v, c=code: tr(TEXT, f"view.{v}", _lang=c), help=tr(TEXT, "view.help"))
        st.button(tr(TEXT, "reset"), key=K_RESET, on_click=reset, args=(now,), icon=":material/restart_alt:")
        st.caption(tr(TEXT, "share"))
    f = build(s)
    s[_CURRENT] = f
    s[_CONTEXT] = choices
    write_url()
    return f


def build(state: Any) -> Filters:
    """The Filters object for the current widget values."""
    lo, hi = state[K_DATES]
    return Filters(
        date_from=lo, date_to=hi,
        partners=tuple(sorted(int(p) for p in state.get(K_PARTNERS, []))),
        models=tuple(sorted(state.get(K_MODELS, []))),
        pipelines=tuple(sorted(int(p) for p in state.get(K_PIPELINES, []))),
        sources=tuple(sorted(state.get(K_SOURCES, []))),
        view=state.get(K_VIEW) or "cohort",
    )


# ---------- what pages read ----------

def current() -> Filters:
    """The one filter object of this run (set by app.py's sidebar)."""
    f = st.session_state.get(_CURRENT)
    if f is None:
        now = today()
        lo, hi = preset_range(DEFAULT_PRESET, now)
        f = Filters(date_from=lo, date_to=hi)
    return f


def compare_mode() -> str:
    """previous | year."""
    mode = st.session_state.get(K_COMPARE, "previous")
    return mode if mode in periods.COMPARES else "previous"


def comparison() -> Filters:
    """The comparison period for the current filters."""
    return periods.comparison_of(current(), compare_mode())


def choices() -> Choices | None:
    """Lists the sidebar offered in this run (partner names, pipelines), for pages that need names."""
    return st.session_state.get(_CONTEXT)


def period_label(f: Filters) -> str:
    """The period as text: 1 янв. 2025 г. – 31 мар. 2025 г."""
    return periods.period_text(f, lang())


def compare_label() -> str:
    """Short name of the comparison: 'vs previous period' / 'vs same period last year'."""
    code = lang()
    if compare_mode() == "year":
        return "к тому же периоду год назад" if code == "ru" else "vs same period last year"
    return "к предыдущему периоду" if code == "ru" else "vs previous period"


def is_meeting() -> bool:
    """Meeting mode on (big numbers, sidebar collapsed)."""
    return bool(st.session_state.get(K_PRESENT))

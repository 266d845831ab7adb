"""Program goals: a target on one registry metric for the program, a model or a partner over a period.

Progress compares the metric so far (``metrics.engine.kpis`` over ``[date_from, min(today, date_to)]``)
with the target. For additive metrics (leads, revenue, costs, …) the **pace** is the value projected to the
period end at the current daily rate (actual × total days / elapsed days); for ratios (conversion, ROI,
CPA, …) the pace is the current value. See docs/goals-payouts.md.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from data_layer.userdata import atomic, audit
from metrics import lookups
from metrics.engine import KPI_COLUMNS, kpis, kpis_many
from metrics.filters import Filters
from metrics.registry import METRICS

SCOPES = ("program", "model", "partner")
OPS = (">=", "<=")
GOAL_MODELS = ("referral", "sales", "service", "direct")
# Metrics whose value over a period is the sum of their values over its days: they get a projected pace.
ADDITIVE = frozenset({"leads", "qualified_leads", "won_deals", "revenue", "costs", "costs_ledger",
                      "costs_commission", "income", "profit", "new_clients"})
SIGNED = frozenset({"profit", "roi", "roi_low", "roi_high", "ltv"})  # metrics that can be negative
STATUSES = ("achieved", "on_track", "off_track", "not_started", "no_data")
MAX_DAYS = 3 * 366
GOAL_COLUMNS = ["goal_id", "scope", "model", "partner_id", "partner_name", "metric", "op", "target",
                "date_from", "date_to", "note", "created_at"]
PROGRESS_COLUMNS = [*GOAL_COLUMNS[:-1], "as_of", "days_total", "days_elapsed", "finished", "additive",
                    "actual", "pace", "progress", "on_track", "status"]

MESSAGES: dict[str, dict[str, str]] = {
    "ru": {
        "scope": "Неизвестный охват «{value}» — выберите программу, модель или партнёра.",
        "metric": "Показатель «{value}» не подходит для цели — выберите показатель из списка.",
        "op": "Условие «{value}» не поддерживается — выберите «не меньше» (>=) или «не больше» (<=).",
        "target": "Цель «{value}» не число — введите конечное число.",
        "target_negative": "Цель {value} отрицательная, а «{metric}» не бывает меньше нуля — введите 0 или больше.",
        "dates": "Период цели задан неверно — укажите даты начала и конца.",
        "date_order": "Период цели начинается ({date_from}) позже, чем заканчивается ({date_to}) — поменяйте даты.",
        "too_long": "Период цели длиннее трёх лет — разбейте цель на несколько периодов.",
        "model": "Для цели по модели выберите модель: referral, sales, service или direct.",
        "model_extra": "Цель по {scope} не должна указывать модель — уберите модель или смените охват.",
        "partner": "Для цели по партнёру выберите партнёра из списка.",
        "partner_unknown": "Партнёра №{partner_id} нет — обновите страницу и выберите партнёра из списка.",
        "partner_extra": "Цель по {scope} не должна указывать партнёра — уберите партнёра или смените охват.",
        "no_goal": "Цели №{goal_id} нет — обновите страницу.",
    },
    "en": {
        "scope": "Unknown scope “{value}”: choose the program, a model or a partner.",
        "metric": "The metric “{value}” cannot be a goal: choose a metric from the list.",
        "op": "The condition “{value}” is not supported: choose at least (>=) or at most (<=).",
        "target": "The target “{value}” is not a number: type a finite number.",
        "target_negative": "The target {value} is negative but “{metric}” is never below zero: type 0 or more.",
        "dates": "The goal period is not valid: give a start and an end date.",
        "date_order": "The goal period starts ({date_from}) after it ends ({date_to}): swap the dates.",
        "too_long": "The goal period is longer than three years: split the goal into several periods.",
        "model": "A model goal needs a model: choose referral, sales, service or direct.",
        "model_extra": "A {scope} goal takes no model: clear the model or change the scope.",
        "partner": "A partner goal needs a partner: pick one from the list.",
        "partner_unknown": "There is no partner number {partner_id}: reload the page and pick from the list.",
        "partner_extra": "A {scope} goal takes no partner: clear the partner or change the scope.",
        "no_goal": "There is no goal number {goal_id}: reload the page.",
    },
}


class GoalError(ValueError):
    """A goal is invalid; ``text(lang)`` says what is wrong and what to do."""

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        self.params = params
        super().__init__(self.text("en"))

    def text(self, lang: str = "en") -> str:
        """The sentence in a language (ru, en)."""
        return MESSAGES.get(lang, MESSAGES["en"])[self.code].format(**self.params)


# ---------- metrics a goal can use ----------

def goal_metrics() -> tuple[str, ...]:
    """Registry metrics that kpis() returns as numbers, in registry order."""
    return tuple(name for name, m in METRICS.items() if name in KPI_COLUMNS and m.unit != "label")


def is_additive(metric: str) -> bool:
    """True when the metric sums over days (its pace is projected to the period end)."""
    return metric in ADDITIVE


def _non_negative(metric: str) -> bool:
    """True when the metric can never be below zero (all but profit, ROI and LTV)."""
    return metric not in SIGNED


# ---------- validation and CRUD ----------

def _to_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise GoalError("dates") from None


def _check_scope(con: duckdb.DuckDBPyConnection, scope: str, model: str | None,
                 partner_id: int | None) -> tuple[str | None, int | None]:
    """Model and partner consistent with the scope (raises GoalError otherwise)."""
    if scope not in SCOPES:
        raise GoalError("scope", value=scope)
    model = model or None
    partner_id = None if partner_id is None or pd.isna(partner_id) else int(partner_id)
    if scope == "model" and model not in GOAL_MODELS:
        raise GoalError("model")
    if scope != "model" and model is not None:
        raise GoalError("model_extra", scope=scope)
    if scope == "partner" and partner_id is None:
        raise GoalError("partner")
    if scope != "partner" and partner_id is not None:
        raise GoalError("partner_extra", scope=scope)
    if partner_id is not None and not con.execute(
            "select count(*) from partners where partner_id = ?", [partner_id]).fetchone()[0]:
        raise GoalError("partner_unknown", partner_id=partner_id)
    return model, partner_id


def validate_goal(con: duckdb.DuckDBPyConnection, scope: str, metric: str, op: str, target: float,
                  date_from: date | str, date_to: date | str, model: str | None = None,
                  partner_id: int | None = None) -> dict:
    """The goal's clean values (raises GoalError with a sentence when anything is wrong)."""
    model, partner_id = _check_scope(con, scope, model, partner_id)
    if metric not in goal_metrics():
        raise GoalError("metric", value=metric)
    if op not in OPS:
        raise GoalError("op", value=op)
    try:
        value = float(target)
    except (TypeError, ValueError):
        raise GoalError("target", value=target) from None
    if not math.isfinite(value):
        raise GoalError("target", value=target)
    if value < 0 and _non_negative(metric):
        raise GoalError("target_negative", value=value, metric=metric)
    lo, hi = _to_date(date_from), _to_date(date_to)
    if lo > hi:
        raise GoalError("date_order", date_from=lo, date_to=hi)
    if (hi - lo).days + 1 > MAX_DAYS:
        raise GoalError("too_long")
    return {"scope": scope, "model": model, "partner_id": partner_id, "metric": metric, "op": op,
            "target": value, "date_from": lo, "date_to": hi}


def add_goal(con: duckdb.DuckDBPyConnection, scope: str, metric: str, op: str, target: float,
             date_from: date | str, date_to: date | str, model: str | None = None, partner_id: int | None = None,
             note: str | None = None, who: str | None = None) -> int:
    """Validate and store a goal; return its goal_id (an audit_log row records it)."""
    clean = validate_goal(con, scope, metric, op, target, date_from, date_to, model, partner_id)
    clean["note"] = (note or "").strip() or None
    with atomic(con):
        goal_id = con.execute(
            "insert into goals (scope, model, partner_id, metric, op, target, date_from, date_to, note) "
            "values ($scope, $model, $partner_id, $metric, $op, $target, $date_from, $date_to, $note) "
            "returning goal_id", clean).fetchone()[0]
        audit(con, "add", "goal", goal_id, after=clean, who=who)
    return int(goal_id)


LIST_SQL = """
select g.goal_id, g.scope, g.model, g.partner_id, p.name as partner_name, g.metric, g.op, g.target,
       g.date_from, g.date_to, g.note, g.created_at
from goals g left join partners p on p.partner_id = g.partner_id
where ($1::varchar is null or g.scope = $1)
  and ($2::varchar is null or g.model = $2)
  and ($3::integer is null or g.partner_id = $3)
order by g.date_from desc, g.goal_id
"""


def list_goals(con: duckdb.DuckDBPyConnection, scope: str | None = None, model: str | None = None,
               partner_id: int | None = None) -> pd.DataFrame:
    """Goals (optionally of one scope, model or partner), newest period first, with partner names."""
    df = con.execute(LIST_SQL, [scope, model, None if partner_id is None else int(partner_id)]).df()
    for col in ("date_from", "date_to"):
        df[col] = pd.to_datetime(df[col]).dt.date
    return df[GOAL_COLUMNS]


def delete_goal(con: duckdb.DuckDBPyConnection, goal_id: int, who: str | None = None) -> None:
    """Delete one goal (GoalError when it does not exist); the audit log keeps what it was."""
    goals = list_goals(con)
    row = goals[goals["goal_id"] == int(goal_id)]
    if row.empty:
        raise GoalError("no_goal", goal_id=goal_id)
    with atomic(con):
        con.execute("delete from goals where goal_id = ?", [int(goal_id)])
        audit(con, "delete", "goal", goal_id, before=row.drop(columns=["created_at"]).iloc[0].to_dict(), who=who)


# ---------- progress ----------

def account_today(con: duckdb.DuckDBPyConnection) -> date:
    """Today in the account's time zone."""
    tz = lookups.freshness(con).get("timezone") or "Europe/Moscow"
    try:
        return datetime.now(ZoneInfo(tz)).date()
    except (KeyError, ValueError):
        return date.today()


def goal_filters(goal: pd.Series | dict, until: date) -> Filters:
    """The filter a goal measures: its period up to `until`, narrowed to its model or partner."""
    scope = goal["scope"]
    partners = (int(goal["partner_id"]),) if scope == "partner" else ()
    models = (str(goal["model"]),) if scope == "model" else ()
    return Filters(goal["date_from"], until, partners=partners, models=models)


def meets(value: float | None, op: str, target: float) -> bool | None:
    """Whether a value satisfies `op target` (None when the value is missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value >= target if op == ">=" else value <= target


def pace_of(metric: str, actual: float | None, days_total: int, days_elapsed: int) -> float | None:
    """Projected value at the period end: additive metrics at the current daily rate, ratios as they are."""
    if actual is None or (isinstance(actual, float) and math.isnan(actual)):
        return None
    if not is_additive(metric) or days_elapsed <= 0:
        return float(actual)
    return float(actual) * days_total / days_elapsed


def status_of(metric: str, op: str, target: float, actual: float | None, pace: float | None,
              started: bool, finished: bool) -> tuple[bool | None, str]:
    """(on_track, status): achieved / on_track / off_track / not_started / no_data."""
    if not started:
        return None, "not_started"
    if finished:
        ok = meets(actual, op, target)
        return ok, "no_data" if ok is None else ("achieved" if ok else "off_track")
    if is_additive(metric) and op == ">=" and meets(actual, op, target):
        return True, "achieved"  # an additive total already over the bar stays over it
    ok = meets(pace, op, target)
    return ok, "no_data" if ok is None else ("on_track" if ok else "off_track")


def _measure(con: duckdb.DuckDBPyConnection, goal: dict, until: date, cache: dict) -> float | None:
    """The goal's metric over its period up to `until` (shared between goals with the same scope and dates)."""
    f = goal_filters(goal, until)
    if f not in cache:
        rows = kpis(con, f)
        cache[f] = rows.iloc[0].to_dict() if len(rows) else {}
    value = cache[f].get(goal["metric"])
    if value is None or pd.isna(value):
        return None
    return float(value)


def _progress_row(con: duckdb.DuckDBPyConnection, goal: dict, today: date, cache: dict) -> dict:
    """One goal's progress as a dict of PROGRESS_COLUMNS."""
    lo, hi = goal["date_from"], goal["date_to"]
    days_total = (hi - lo).days + 1
    started, finished = today >= lo, today > hi
    as_of = min(today, hi)
    elapsed = (as_of - lo).days + 1 if started else 0
    actual = _measure(con, goal, as_of, cache) if started else None
    pace = pace_of(goal["metric"], actual, days_total, elapsed) if started else None
    on_track, status = status_of(goal["metric"], goal["op"], goal["target"], actual, pace, started, finished)
    target = goal["target"]
    progress = None if actual is None or target == 0 else actual / target
    return {**goal, "as_of": as_of if started else None, "days_total": days_total, "days_elapsed": elapsed,
            "finished": finished, "additive": is_additive(goal["metric"]), "actual": actual, "pace": pace,
            "progress": progress, "on_track": on_track, "status": status}


def goal_progress(con: duckdb.DuckDBPyConnection, goals: pd.DataFrame | None = None,
                  today: date | None = None) -> pd.DataFrame:
    """Progress of goals (all stored goals when None): actual, pace, progress, on_track and status per goal."""
    goals = list_goals(con) if goals is None else goals
    today = today or account_today(con)
    records = [_goal_dict(g) for g in goals.to_dict("records")]
    # every started goal's metric over its period so far, all in one batched query (engine.kpis_many)
    wanted = tuple(dict.fromkeys(goal_filters(g, min(today, g["date_to"])) for g in records if today >= g["date_from"]))
    frames = kpis_many(con, tuple((f, "none") for f in wanted)) if wanted else []
    cache: dict[Filters, dict] = {f: (df.iloc[0].to_dict() if len(df) else {}) for f, df in zip(wanted, frames, strict=True)}
    rows = [_progress_row(con, g, today, cache) for g in records]
    df = pd.DataFrame(rows, columns=PROGRESS_COLUMNS)
    return df.astype({"actual": "float64", "pace": "float64", "progress": "float64", "days_total": "int64",
                      "days_elapsed": "int64", "finished": "bool", "additive": "bool"})


def _goal_dict(goal: dict) -> dict:
    """A goal record with plain Python dates and numbers, every GOAL_COLUMNS key present."""
    out = {c: goal.get(c) for c in GOAL_COLUMNS if c != "created_at"}
    out["date_from"], out["date_to"] = _to_date(goal["date_from"]), _to_date(goal["date_to"])
    out["target"] = float(goal["target"])
    for key in ("model", "partner_id", "partner_name", "note"):
        if out[key] is not None and not isinstance(out[key], str) and pd.isna(out[key]):
            out[key] = None
    return out


def goal_progress_for(con: duckdb.DuckDBPyConnection, scope: str | None = None, model: str | None = None,
                      partner_id: int | None = None, today: date | None = None) -> pd.DataFrame:
    """Progress of the goals of one scope / model / partner (hashable arguments, for ui.data.query)."""
    return goal_progress(con, list_goals(con, scope, model, partner_id), today)


def goals_off_track(con: duckdb.DuckDBPyConnection, today: date | None = None, recent_days: int = 7) -> pd.DataFrame:
    """Goals running and off track, or missed in the last `recent_days` days (for the weekly report)."""
    today = today or account_today(con)
    df = goal_progress(con, today=today)
    recent = df["date_to"].map(lambda d: d >= today - timedelta(days=recent_days)) if len(df) else df["finished"]
    mask = (df["status"] == "off_track") & (~df["finished"] | recent)
    return df[mask].reset_index(drop=True)

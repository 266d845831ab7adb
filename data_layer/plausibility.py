"""Plausibility: a value far outside what the account has seen is never refused, it needs an explicit confirmation.

One rule per kind of value, each returning `Finding`s whose sentence names the effect ("это в 10 000 раз больше
всех затрат за последний год журнала"); every writer raises `ConfirmationNeeded`, writing nothing, until the
user confirms. The thresholds:

* a cost line above ``outlier_factor`` (100) × the ledger's costliest month; while the ledger is empty, above
  ``outlier_empty_ledger`` (100 000 000) — both settings, read by `costs_limits.load_limits`;
* a cost month, a goal's start or a payment date more than `MONTHS_AWAY` (12) months before the first or after
  the last month with data (leads or ledger; the current month always counts as seen);
* a goal target above `TARGET_FACTOR` (100) × its metric's record month in the goal's scope (the whole
  program's when the scope has no history yet); a total (leads, revenue, …) by its average per month;
* a fixed commission per deal or qualified lead above `FIXED_FACTOR` (10) × the average won deal.

A sentence also names the last year's costs and revenue when the value is at least `MIN_NAMED_RATIO` times
them. Writers: the cost import (`costs_io`; CLI ``--confirm-large``), `save_ledger` (the ledger editor) and
`save_rules` (the rules editor); the goals page and the payouts panel ask before they write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, ClassVar

import duckdb
import pandas as pd

from data_layer.costs_limits import (
    ConfirmationNeeded,
    ImportLimits,
    count_text,
    load_limits,
    money_text,
    plural_ru,
    times_ru,
    years_ru,
)
from data_layer.numbers import currency_symbol
from data_layer.userdata import (
    Problem,
    extended,
    read_ledger,
    replace_ledger,
    replace_rules,
    validate_ledger,
    validate_rules,
)

MONTHS_AWAY = 12        # a month further than a year from every month with data is probably a mistyped year
TARGET_FACTOR = 100.0   # a goal 100 times its metric's record month is a typo, not an ambition
FIXED_FACTOR = 10.0     # a fixed commission of ten average deals per deal or lead pays out more than it earns
MIN_NAMED_RATIO = 2     # a comparison is named only when the value is at least twice the reference
DAYS_PER_MONTH = 30.44  # a goal period's length in whole months, for the average per month of a total

# the findings' own sentences (the user data's table plus these; that table is never added to)
_OWN: dict[str, dict[str, str]] = {"ru": {
    "amount.implausible": "Сумма {amount} — это {effects}. Проверьте, не лишние ли разряды; если сумма верна, "
                          "подтвердите её.",
    "amount.implausible_empty": "Сумма {amount} — это {effects}. Проверьте, не лишние ли разряды; если сумма "
                                "верна, подтвердите её.",
    "month.far": "Месяц {month} — {effects}. Проверьте год; если месяц верен, подтвердите его.",
    "goal.far": "Цель {target} — это {effects}. Проверьте, не лишние ли разряды; если цель верна, подтвердите её.",
    "goal.far_total": "Цель {target} — в среднем {per_month} в месяц, это {effects}. Проверьте, не лишние ли "
                      "разряды; если цель верна, подтвердите её.",
    "goal.month_far": "Период цели начинается в {month} — {effects}. Проверьте год; если дата верна, "
                      "подтвердите цель.",
    "pay.month_far": "Дата выплаты {month} — {effects}. Проверьте год; если дата верна, подтвердите выплату.",
    "rule.far": "{kind} {amount} — это {effects}. Проверьте, не лишние ли разряды; если сумма верна, "
                "подтвердите её.",
    "rule.kind.fixed_per_deal": "Сумма за сделку", "rule.kind.fixed_per_qualified_lead": "Сумма за квалиф. лид",
    "vs.year_costs": "в {ratio} {times} больше всех затрат за последний год журнала ({value})",
    "vs.month_costs": "в {ratio} {times} больше самого затратного месяца ({value})",
    "vs.year_revenue": "в {ratio} {times} больше выручки за последний год данных ({value})",
    "vs.empty": "больше {value}, а журнал затрат пока пуст",
    "vs.after_data": "на {span} позже последних данных ({value})",
    "vs.after_today": "на {span} позже текущего месяца ({value})",
    "vs.before_data": "на {span} раньше первых данных ({value})",
    "vs.record": "в {ratio} {times} выше рекордного месяца ({value}, {month})",
    "vs.record_program": "в {ratio} {times} выше рекордного месяца всей программы ({value}, {month}) — "
                         "у этого охвата истории ещё нет",
    "vs.avg_deal": "в {ratio} {times} больше средней выигранной сделки ({value})",
    "and": " и ",
}, "en": {
    "amount.implausible": "The amount {amount} is {effects}. Check for extra digits; if it is right, confirm it.",
    "amount.implausible_empty": "The amount {amount} is {effects}. Check for extra digits; if it is right, "
                                "confirm it.",
    "month.far": "The month {month} is {effects}. Check the year; if the month is right, confirm it.",
    "goal.far": "The target {target} is {effects}. Check for extra digits; if it is right, confirm it.",
    "goal.far_total": "The target {target} averages {per_month} a month, {effects}. Check for extra digits; if "
                      "it is right, confirm it.",
    "goal.month_far": "The goal starts in {month}, {effects}. Check the year; if the date is right, confirm the "
                      "goal.",
    "pay.month_far": "The payment date {month} is {effects}. Check the year; if the date is right, confirm the "
                     "payment.",
    "rule.far": "{kind} {amount} is {effects}. Check for extra digits; if it is right, confirm it.",
    "rule.kind.fixed_per_deal": "The amount per deal", "rule.kind.fixed_per_qualified_lead":
        "The amount per qualified lead",
    "vs.year_costs": "{ratio} times all costs of the ledger's last year ({value})",
    "vs.month_costs": "{ratio} times the costliest month ({value})",
    "vs.year_revenue": "{ratio} times the revenue of the data's last year ({value})",
    "vs.empty": "above {value} while the ledger is still empty",
    "vs.after_data": "{span} after the last data ({value})",
    "vs.after_today": "{span} after the current month ({value})",
    "vs.before_data": "{span} before the first data ({value})",
    "vs.record": "{ratio} times the record month ({value}, {month})",
    "vs.record_program": "{ratio} times the whole program's record month ({value}, {month}): this scope has no "
                         "history yet",
    "vs.avg_deal": "{ratio} times the average won deal ({value})",
    "and": " and ",
}}
MESSAGES = extended(_OWN)


@dataclass(frozen=True)
class Worded:
    """A parameter worded in the message's language (a distance in months, a rule kind)."""

    ru: str
    en: str

    def text(self, lang: str) -> str:
        """The words in lang (English for any other language)."""
        return self.ru if lang == "ru" else self.en


@dataclass(frozen=True)
class Finding(Problem):
    """A value far outside the account's history: a sentence whose {effects} are the comparisons it fails."""

    effects: tuple[tuple[str, Mapping[str, Any]], ...] = field(default=())
    MESSAGES: ClassVar[dict[str, dict[str, str]]] = MESSAGES

    def text(self, lang: str = "en") -> str:
        """The sentence with its comparisons joined: «в 10 раз больше A, в 5 раз больше B и в 2 раза больше C»."""
        table = self.MESSAGES.get(lang, self.MESSAGES["en"])
        clauses = [table[code].format(**_worded(params, lang)) for code, params in self.effects]
        joined = ", ".join(clauses[:-1]) + table["and"] + clauses[-1] if len(clauses) > 1 else "".join(clauses)
        worded = replace(self, params={**_worded(self.params, lang), "effects": joined}, effects=())
        return Problem.text(worded, lang)  # the sentence itself, worded from this module's table


def _worded(params: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """The parameters with every `Worded` one in lang."""
    return {k: v.text(lang) if isinstance(v, Worded) else v for k, v in params.items()}


@dataclass(frozen=True)
class Scale:
    """What the account has seen: the ledger's costliest month and last year, the revenue of the data's last year,
    the first and last month with data (leads or ledger), the average won deal, and the current month."""

    cost_month_max: float = 0.0
    cost_year: float = 0.0
    revenue_year: float = 0.0
    first_month: date | None = None
    last_month: date | None = None
    avg_deal: float = 0.0
    today: date = field(default_factory=date.today)
    currency: str = "RUB"

    def money(self, amount: float) -> str:
        """An amount with the account's currency sign: 1 000 000 ₽."""
        return f"{money_text(amount)}\u00a0{currency_symbol(self.currency)}"


# One row: the ledger's costliest month, its total over the 12 months up to its last month, its first and last month.
LEDGER_SQL = """
with m as (select month, sum(amount) as total from cost_ledger group by month)
select coalesce(max(total), 0)::double,
       coalesce(sum(total) filter (where month > (select max(month) from m) - interval 12 month), 0)::double,
       min(month), max(month)
from m
"""
# One row: the first and last lead creation day, the won revenue of the 12 months up to the last day (close day,
# else creation day) and the average won deal.
LEADS_SQL = """
with last as (select max(created_date) as day from lead_facts)
select min(created_date), max(created_date),
       coalesce(sum(amount) filter (where is_won and coalesce(closed_date, created_date) > last.day - interval 12 month),
                0)::double,
       coalesce(avg(amount) filter (where is_won), 0)::double
from lead_facts, last
group by last.day
"""
# One row: the synced account's currency code (none before the first sync).
CURRENCY_SQL = "select currency from stg_account"


def account_scale(con: duckdb.DuckDBPyConnection, today: date | None = None) -> Scale:
    """The account's scale from the ledger and the leads (a database without leads yet: the ledger only)."""
    cost_max, cost_year, led_first, led_last = con.execute(LEDGER_SQL).fetchone()
    try:
        row = con.execute(LEADS_SQL).fetchone()
    except duckdb.Error:  # no lead_facts yet (a fresh file before its first sync)
        row = None
    lead_first, lead_last, revenue, avg_deal = row or (None, None, 0.0, 0.0)
    try:
        currency = (con.execute(CURRENCY_SQL).fetchone() or [None])[0] or "RUB"
    except duckdb.Error:  # a file before its first migration of the account view
        currency = "RUB"
    firsts = [_month(d) for d in (led_first, lead_first) if d is not None]
    lasts = [_month(d) for d in (led_last, lead_last) if d is not None]
    return Scale(float(cost_max), float(cost_year), float(revenue), min(firsts, default=None),
                 max(lasts, default=None), float(avg_deal), today or date.today(), currency)


def _month(day: Any) -> date:
    day = pd.Timestamp(day).date()
    return date(day.year, day.month, 1)


def _ratio_effect(code: str, value: float, reference: float, shown: str, **extra: str) -> list[tuple[str, dict]]:
    """A comparison clause when value is at least MIN_NAMED_RATIO × reference, else none."""
    if reference <= 0:
        return []
    ratio = round(value / reference)
    if ratio < MIN_NAMED_RATIO:
        return []
    return [(code, {"ratio": count_text(ratio), "times": times_ru(ratio), "value": shown, **extra})]


# ---------------------------------------------------------------- cost amounts

def amount_finding(amount: float, scale: Scale, limits: ImportLimits, line: int | None = None) -> Finding | None:
    """A cost amount above outlier_factor × the costliest month (empty ledger: above outlier_empty_ledger)."""
    money = scale.money
    revenue = _ratio_effect("vs.year_revenue", amount, scale.revenue_year, money(scale.revenue_year))
    if scale.cost_month_max <= 0:
        if amount <= limits.outlier_empty_ledger:
            return None
        effects = [("vs.empty", {"value": money(limits.outlier_empty_ledger)}), *revenue]
        return Finding("amount.implausible_empty", {"amount": money(amount)}, line, tuple(effects))
    if amount <= limits.outlier_factor * scale.cost_month_max:
        return None
    effects = [*_ratio_effect("vs.year_costs", amount, scale.cost_year, money(scale.cost_year)),
               *_ratio_effect("vs.month_costs", amount, scale.cost_month_max, money(scale.cost_month_max)),
               *revenue]
    return Finding("amount.implausible", {"amount": money(amount)}, line, tuple(effects))


# ---------------------------------------------------------------- months

def _months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def span_ru(months: int) -> str:
    """A distance in months in Russian words: 5 месяцев, 2 года, 4 года и 3 месяца."""
    years, rest = divmod(months, 12)
    month_words = f"{rest} {plural_ru(rest, 'месяц', 'месяца', 'месяцев')}"
    if not years:
        return month_words
    year_words = f"{years} {years_ru(years)}"
    return f"{year_words} и {month_words}" if rest else year_words


def span_en(months: int) -> str:
    """A distance in months in English words: 5 months, 2 years, 4 years and 3 months."""
    years, rest = divmod(months, 12)
    month_words = f"{rest} month{'s' if rest != 1 else ''}"
    if not years:
        return month_words
    year_words = f"{years} year{'s' if years != 1 else ''}"
    return f"{year_words} and {month_words}" if rest else year_words


def span(months: int) -> Worded:
    """A distance in months in both languages."""
    return Worded(span_ru(months), span_en(months))


def month_finding(month: date, scale: Scale, line: int | None = None, code: str = "month.far") -> Finding | None:
    """A month more than MONTHS_AWAY months before the first or after the last month seen (data or today); an
    account without any data yet has nothing to compare with (the import's month window still applies)."""
    if scale.first_month is None or scale.last_month is None:
        return None
    month = _month(month)
    current = _month(scale.today)
    last, first = max(scale.last_month, current), min(scale.first_month, current)
    shown = month.strftime("%Y-%m")
    if _months_between(last, month) > MONTHS_AWAY:
        after = "vs.after_data" if scale.last_month >= current else "vs.after_today"
        effect = (after, {"span": span(_months_between(last, month)), "value": last.strftime("%Y-%m")})
    elif _months_between(month, first) > MONTHS_AWAY:
        effect = ("vs.before_data", {"span": span(_months_between(month, first)), "value": first.strftime("%Y-%m")})
    else:
        return None
    return Finding(code, {"month": shown}, line, (effect,))


# ---------------------------------------------------------------- cost rows: the import and the ledger editor

def cost_findings(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, limits: ImportLimits | None = None,
                  scale: Scale | None = None) -> list[Finding]:
    """Rows (amount, month, line) whose amount or month is far outside the account's history."""
    if rows.empty:
        return []
    limits = limits or load_limits(con)
    scale = scale or account_scale(con)
    lines = rows["line"] if "line" in rows else pd.Series(range(1, len(rows) + 1), index=rows.index)
    found: list[Finding] = []
    for amount, month, line in zip(rows["amount"], rows["month"], lines, strict=True):
        line = None if line is None or pd.isna(line) else int(line)
        found += [f for f in (amount_finding(float(amount), scale, limits, line),
                              month_finding(month, scale, line)) if f is not None]
    return found


def implausible_amounts(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame,
                        limits: ImportLimits | None = None) -> list[Finding]:
    """Rows (amount, line) whose amount is far outside the account's history (the amount rule alone)."""
    limits, scale = limits or load_limits(con), account_scale(con)
    return [f for a, line in zip(rows["amount"], rows["line"], strict=True)
            if (f := amount_finding(float(a), scale, limits, None if pd.isna(line) else int(line))) is not None]


def _changed(con: duckdb.DuckDBPyConnection, clean: pd.DataFrame) -> pd.DataFrame:
    """The validated ledger rows that are new or whose amount differs from the stored one (with line numbers)."""
    stored = {(int(r.partner_id), r.month, r.category): float(r.amount) for r in read_ledger(con).itertuples()}
    rows = clean.assign(line=range(1, len(clean) + 1))
    keep = [stored.get((int(r.partner_id), r.month, r.category)) is None
            or abs(stored[(int(r.partner_id), r.month, r.category)] - float(r.amount)) >= 0.005
            for r in rows.itertuples()]
    return rows[keep]


def save_ledger(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, partner_ids: Iterable[int] | None = None,
                month_from: date | None = None, month_to: date | None = None, confirmed: bool = False) -> int:
    """`userdata.replace_ledger` once its new or changed rows are plausible or confirmed (else ConfirmationNeeded,
    nothing written); rows unchanged since they were stored are not asked about again."""
    found = cost_findings(con, _changed(con, validate_ledger(con, rows)))
    if found and not confirmed:
        raise ConfirmationNeeded(found)
    return replace_ledger(con, rows, partner_ids, month_from, month_to)


# ---------------------------------------------------------------- goals

def target_finding(target: float, record: float | None, record_month: date | None, days: int, additive: bool,
                   show: Callable[[float], str] = money_text, whole_program: bool = False) -> Finding | None:
    """A goal target above TARGET_FACTOR × the metric's record month (a total: its average per month of the period).

    `show` formats the metric's values (money, percent, count) in the caller's language."""
    if record is None or record <= 0 or record_month is None:
        return None
    months = max(1, round(days / DAYS_PER_MONTH)) if additive else 1  # a calendar month of 31 days is one
    per_month = target / months
    if per_month <= TARGET_FACTOR * record:
        return None
    code = "vs.record_program" if whole_program else "vs.record"
    effects = _ratio_effect(code, per_month, record, show(record), month=record_month.strftime("%Y-%m"))
    params = {"target": show(target), "per_month": show(per_month)}
    return Finding("goal.far_total" if months > 1 else "goal.far", params, None,
                   tuple(effects))


# ---------------------------------------------------------------- commission rules

def rule_findings(con: duckdb.DuckDBPyConnection, clean: pd.DataFrame, scale: Scale | None = None) -> list[Finding]:
    """Fixed commissions (per deal / qualified lead) above FIXED_FACTOR × the average won deal, new or changed
    since stored (validated rules, as `userdata.validate_rules` returns them; line = row position + 1)."""
    scale = scale or account_scale(con)
    if scale.avg_deal <= 0 or clean.empty:
        return []
    stored = {(k, round(float(r), 2)) for k, r in con.execute("select kind, rate from commission_rules").fetchall()}
    found = []
    for line, rule in enumerate(clean.to_dict("records"), start=1):
        kind, rate = rule.get("kind"), rule.get("rate")
        if kind == "percent_revenue" or rate is None or pd.isna(rate) or (kind, round(float(rate), 2)) in stored:
            continue
        if float(rate) > FIXED_FACTOR * scale.avg_deal:
            effects = _ratio_effect("vs.avg_deal", float(rate), scale.avg_deal, scale.money(scale.avg_deal))
            params = {"kind": _kind(kind), "amount": scale.money(float(rate))}
            found.append(Finding("rule.far", params, line, tuple(effects)))
    return found


def _kind(kind: str) -> Worded:
    return Worded(MESSAGES["ru"][f"rule.kind.{kind}"], MESSAGES["en"][f"rule.kind.{kind}"])


def save_rules(con: duckdb.DuckDBPyConnection, rules: pd.DataFrame, confirmed: bool = False) -> int:
    """`userdata.replace_rules` once its new fixed amounts are plausible or confirmed (else ConfirmationNeeded)."""
    found = rule_findings(con, validate_rules(con, rules))
    if found and not confirmed:
        raise ConfirmationNeeded(found)
    return replace_rules(con, rules)

"""User data on an open connection: partners, cost ledger, commission rules, settings, what-if scenarios.

Every function takes a DuckDB connection and does one small unit of work. Writes validate everything first
and raise `UserDataError` (a ValueError) listing every problem as a sentence in Russian and English; nothing
is written when validation fails. Callers own the transaction (``ui.data.write`` or the CLI); functions that
write several statements wrap them in `atomic`, which starts a transaction only when none is open.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd

from data_layer import store
from data_layer.numbers import MESSAGES as NUMBER_MESSAGES
from data_layer.numbers import NumberFormat, NumberTextError, parse_number

MODELS = ("referral", "sales", "service")
CATEGORIES = ("commission", "bonus", "marketing", "training", "support", "other")
KINDS = ("percent_revenue", "fixed_per_deal", "fixed_per_qualified_lead")
MAX_AMOUNT = 10**15  # below decimal(18, 2)'s limit, far above any real monthly cost
MAX_NAME = 200
LEDGER_COLUMNS = ["partner_id", "partner", "month", "category", "amount", "note"]
RULE_COLUMNS = ["rule_id", "model", "partner_id", "partner", "kind", "rate", "tiers", "valid_from", "valid_to",
                "tier_kind"]
# How a percent rule's monthly tiers apply (metrics-spec): each band's rate on the revenue inside it, like tax
# brackets (the default), or the highest band reached sets the rate of the whole month's revenue.
TIER_KINDS = ("marginal", "whole")
PARTNER_COLUMNS = ["partner_id", "name", "model", "model_source", "aliases", "manager", "start_date", "active"]

# code -> sentence: what is wrong and what to do. Parameters are formatted in with str.format.
MESSAGES: dict[str, dict[str, str]] = {
    "ru": {
        "partner.name_empty": "Не указано имя партнёра — введите название.",
        "partner.name_long": "Имя «{name}» длиннее {limit} символов — сократите его.",
        "partner.name_taken": "Имя или псевдоним «{name}» уже занят партнёром «{other}» — выберите другое "
                              "или уберите псевдоним у того партнёра.",
        "partner.unknown": "Партнёр «{partner}» не найден — выберите партнёра из списка или добавьте его.",
        "partner.unknown_id": "Партнёра с номером {partner_id} нет — обновите страницу и выберите из списка.",
        "partner.bad_active": "Флаг «активен» должен быть да или нет — отметьте или снимите галочку.",
        "model.unknown": "Неизвестная модель «{model}» — выберите referral, sales или service.",
        "date.bad": "Дата «{value}» не распознана — укажите дату в виде ГГГГ-ММ-ДД.",
        "month.bad": "Месяц «{value}» не распознан — укажите месяц в виде ГГГГ-ММ, например 2024-03.",
        "month.empty": "Не указан месяц — укажите его в виде ГГГГ-ММ.",
        "category.unknown": "Неизвестная категория «{value}» — используйте commission, bonus, marketing, "
                            "training, support, other (или комиссия, бонус, маркетинг, обучение, поддержка, "
                            "прочее).",
        "amount.empty": "Не указана сумма — введите число (0, если затрат не было).",
        "amount.not_number": "Сумма «{value}» не число — введите число, например 12 500,50.",
        "amount.negative": "Сумма {value} отрицательная — затраты вводятся положительными числами.",
        "amount.not_finite": "Сумма «{value}» не конечное число — введите обычное число.",
        "amount.too_big": "Сумма {value} слишком велика — проверьте, не лишние ли разряды.",
        "amount.decimals": "В сумме «{value}» больше двух знаков после запятой — округлите до копеек "
                           "(разделитель тысяч — пробел, не запятая).",
        "amount.ambiguous": "В сумме «{value}» и точка, и запятая — оставьте один десятичный разделитель, "
                            "а тысячи отделяйте пробелом, или укажите формат чисел файла.",
        "ledger.duplicate": "Партнёр «{partner}», {month}, {category} встречается несколько раз (строки "
                            "{lines}) — оставьте одну строку или сложите суммы.",
        "rule.target": "У правила должна быть либо модель, либо партнёр (не оба и не ни одного) — "
                       "заполните одно из полей.",
        "rule.kind": "Неизвестный вид правила «{value}» — выберите percent_revenue, fixed_per_deal или "
                     "fixed_per_qualified_lead.",
        "rule.rate_bad": "Ставка «{value}» не число — введите число.",
        "rule.tier_kind": "Неизвестный способ применения ступеней «{value}» — выберите marginal (по частям, как "
                          "налоговая шкала) или whole (на всю выручку месяца).",
        "rule.rate_negative": "Ставка {value} отрицательная — введите 0 или больше.",
        "rule.rate_percent": "Процент {value} больше 100 % — введите долю выручки от 0 до 100 %.",
        "rule.tiers_kind": "Ступени задаются только для процента от выручки — очистите поле ступеней или "
                           "смените вид правила.",
        "rule.dates": "Правило действует с {valid_from} по {valid_to}: начало позже конца — поменяйте даты "
                      "местами.",
        "rule.overlap": "Два правила «{kind}» для {target} действуют одновременно (строки {lines}) — "
                        "разведите их по датам или удалите лишнее.",
        "tiers.json": "Ступени не читаются как JSON ({detail}) — используйте вид "
                      "[{{\"up_to\": 1000000, \"rate\": 0.10}}, {{\"up_to\": null, \"rate\": 0.15}}].",
        "tiers.shape": "Ступени должны быть списком вида {{\"up_to\": сумма или null, \"rate\": доля}} — "
                       "исправьте запись.",
        "tiers.empty": "Список ступеней пуст — добавьте хотя бы одну ступень или очистите поле.",
        "tiers.rate": "Ставка ступени {n} ({value}) вне диапазона 0…1 — введите долю, например 0.1 для 10 %.",
        "tiers.up_to": "Граница ступени {n} ({value}) не положительное число — введите сумму больше нуля.",
        "tiers.order": "Границы ступеней должны возрастать, а ступень {n} ({value}) не больше предыдущей — "
                       "упорядочьте ступени.",
        "tiers.last": "Последняя ступень должна быть без верхней границы (\"up_to\": null), а у средних "
                      "граница обязательна — исправьте ступени.",
        "margin.bad": "Маржа «{value}» ({where}) должна быть долей от 0 до 1 (например 0.4 для 40 %) — "
                      "исправьте значение.",
        "setting.key": "Пустой ключ настройки — укажите имя настройки.",
        "scenario.name_empty": "Не указано имя сценария — введите название.",
        "scenario.name_long": "Имя сценария длиннее {limit} символов — сократите его.",
        "scenario.exists": "Сценарий «{name}» уже есть — выберите другое имя или разрешите перезапись.",
        "scenario.unknown": "Сценарий «{name}» не найден — обновите список сценариев.",
        "scenario.payload": "Сценарий «{name}» повреждён ({detail}) — удалите его и сохраните заново.",
        "row": "строка {line}: {text}",
        "many": "Найдено ошибок: {n}. Ничего не сохранено — исправьте строки ниже и повторите.",
    },
    "en": {
        "partner.name_empty": "The partner name is empty: type a name.",
        "partner.name_long": "The name “{name}” is longer than {limit} characters: shorten it.",
        "partner.name_taken": "The name or alias “{name}” already belongs to partner “{other}”: choose another "
                              "or remove the alias from that partner.",
        "partner.unknown": "Partner “{partner}” is not known: pick a partner from the list or add it.",
        "partner.unknown_id": "There is no partner number {partner_id}: reload the page and pick from the list.",
        "partner.bad_active": "The active flag must be yes or no: tick or untick the box.",
        "model.unknown": "Unknown model “{model}”: choose referral, sales or service.",
        "date.bad": "The date “{value}” is not understood: write it as YYYY-MM-DD.",
        "month.bad": "The month “{value}” is not understood: write it as YYYY-MM, e.g. 2024-03.",
        "month.empty": "The month is missing: write it as YYYY-MM.",
        "category.unknown": "Unknown category “{value}”: use commission, bonus, marketing, training, support "
                            "or other (or the Russian labels).",
        "amount.empty": "The amount is missing: type a number (0 when there was no cost).",
        "amount.not_number": "The amount “{value}” is not a number: type a number such as 12500.50.",
        "amount.negative": "The amount {value} is negative: costs are entered as positive numbers.",
        "amount.not_finite": "The amount “{value}” is not a finite number: type an ordinary number.",
        "amount.too_big": "The amount {value} is too large: check for extra digits.",
        "amount.decimals": "The amount “{value}” has more than two decimals: round it to cents "
                           "(separate thousands with a space, not a comma).",
        "amount.ambiguous": "The amount “{value}” has both a dot and a comma: keep one decimal separator and "
                            "separate thousands with a space, or declare the file's number format.",
        "ledger.duplicate": "Partner “{partner}”, {month}, {category} appears more than once (lines {lines}): "
                            "keep one row or add the amounts up.",
        "rule.target": "A rule needs either a model or a partner (exactly one): fill in one of them.",
        "rule.kind": "Unknown rule kind “{value}”: choose percent_revenue, fixed_per_deal or "
                     "fixed_per_qualified_lead.",
        "rule.rate_bad": "The rate “{value}” is not a number: type a number.",
        "rule.tier_kind": "Unknown way to apply tiers “{value}”: choose marginal (in parts, like tax brackets) or "
                          "whole (on the whole month's revenue).",
        "rule.rate_negative": "The rate {value} is negative: type 0 or more.",
        "rule.rate_percent": "The percentage {value} is above 100 %: type a share of revenue from 0 to 100 %.",
        "rule.tiers_kind": "Tiers apply only to a percent of revenue: clear the tiers or change the kind.",
        "rule.dates": "The rule runs from {valid_from} to {valid_to}: the start is after the end, swap them.",
        "rule.overlap": "Two “{kind}” rules for {target} are valid at the same time (lines {lines}): give them "
                        "separate dates or delete one.",
        "tiers.json": "The tiers are not valid JSON ({detail}): use "
                      "[{{\"up_to\": 1000000, \"rate\": 0.10}}, {{\"up_to\": null, \"rate\": 0.15}}].",
        "tiers.shape": "Tiers must be a list of {{\"up_to\": amount or null, \"rate\": fraction}}: fix the entry.",
        "tiers.empty": "The tier list is empty: add at least one tier or clear the field.",
        "tiers.rate": "The rate of tier {n} ({value}) is outside 0…1: type a fraction, e.g. 0.1 for 10 %.",
        "tiers.up_to": "The bound of tier {n} ({value}) is not a positive number: type an amount above zero.",
        "tiers.order": "Tier bounds must increase, but tier {n} ({value}) is not above the previous one: "
                       "order the tiers.",
        "tiers.last": "The last tier must have no upper bound (\"up_to\": null) and every other tier needs one: "
                      "fix the tiers.",
        "margin.bad": "The margin “{value}” ({where}) must be a fraction from 0 to 1 (e.g. 0.4 for 40 %): fix it.",
        "setting.key": "The setting key is empty: give the setting a name.",
        "scenario.name_empty": "The scenario name is empty: type a name.",
        "scenario.name_long": "The scenario name is longer than {limit} characters: shorten it.",
        "scenario.exists": "A scenario named “{name}” exists: choose another name or allow overwriting.",
        "scenario.unknown": "Scenario “{name}” is not found: refresh the scenario list.",
        "scenario.payload": "Scenario “{name}” is damaged ({detail}): delete it and save it again.",
        "row": "line {line}: {text}",
        "many": "{n} problems found. Nothing was saved: fix the lines below and try again.",
    },
}


for _lang, _texts in NUMBER_MESSAGES.items():  # amount-text messages live beside their parser
    MESSAGES[_lang].update(_texts)

# Who is acting in this thread (the dashboard sets the signed-in person per run; CLIs leave the default).
ACTOR: ContextVar[str | None] = ContextVar("partner_roi_actor", default=None)


@dataclass(frozen=True)
class Problem:
    """One validation problem: a message code, its parameters and the line (row) it refers to."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    line: int | None = None

    def text(self, lang: str = "en") -> str:
        """The sentence in the given language, prefixed with its line number when it has one."""
        table = MESSAGES.get(lang, MESSAGES["en"])
        body = table.get(self.code, self.code).format(**self.params)
        return table["row"].format(line=self.line, text=body) if self.line is not None else body


class UserDataError(ValueError):
    """User input is invalid; `problems` lists every issue, `text(lang)` says what is wrong and what to do."""

    def __init__(self, problems: Problem | Iterable[Problem]):
        items = [problems] if isinstance(problems, Problem) else list(problems)
        unique = {(p.line, p.text("en")): p for p in items}  # the same problem found twice is listed once
        self.problems = sorted(unique.values(), key=lambda p: (p.line is None, p.line or 0))
        super().__init__(self.text("en"))

    def lines(self, lang: str = "en") -> list[str]:
        """One sentence per problem."""
        return [p.text(lang) for p in self.problems]

    def text(self, lang: str = "en") -> str:
        """All problems as one message (a summary line first when there are several)."""
        if len(self.problems) == 1:
            return self.problems[0].text(lang)
        head = MESSAGES.get(lang, MESSAGES["en"])["many"].format(n=len(self.problems))
        return "\n".join([head, *self.lines(lang)])


def fail(code: str, line: int | None = None, **params: Any) -> UserDataError:
    """Build a one-problem error (raise the result)."""
    return UserDataError(Problem(code, params, line))


@contextlib.contextmanager
def atomic(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the block in a transaction; join the caller's transaction when one is already open."""
    # In auto-commit mode every statement gets a new transaction id; inside begin … commit it stays the same.
    first = con.execute("select txid_current()").fetchone()[0]
    second = con.execute("select txid_current()").fetchone()[0]
    if first == second:
        yield
        return
    con.execute("begin")
    try:
        yield
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def audit(con: duckdb.DuckDBPyConnection, action: str, entity: str, key: object = None,
          before: object = None, after: object = None, who: str | None = None) -> None:
    """One audit_log row (who changed what in user data), before/after as JSON; who defaults to ACTOR."""
    who = who if who is not None else ACTOR.get()
    def dump(value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, pd.DataFrame):
            value = value.to_dict("records")
        return json.dumps(value, ensure_ascii=False, default=str)

    con.execute("insert into audit_log (who, action, entity, entity_key, before, after) values (?, ?, ?, ?, ?, ?)",
                [who, action, entity, None if key is None else str(key), dump(before), dump(after)])


# ---------------------------------------------------------------- value parsing

def is_blank(value: object) -> bool:
    """True for None, NaN, NaT, pd.NA and blank strings."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def norm_name(name: str) -> str:
    """Compare names like the database does: trimmed, lower case, ё = е."""
    return name.strip().replace("Ё", "Е").replace("ё", "е").lower()


def to_date(value: object, line: int | None = None) -> date | None:
    """A date from a date, datetime, Timestamp or ISO string; None for blanks."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):  # also pd.Timestamp
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise fail("date.bad", line, value=value) from None


_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-01)?$")


def to_month(value: object, line: int | None = None) -> date:
    """First day of a month from YYYY-MM (or YYYY-MM-01), a date or a datetime."""
    if is_blank(value):
        raise fail("month.empty", line)
    if isinstance(value, datetime):
        return date(value.year, value.month, 1)
    if isinstance(value, date):
        return date(value.year, value.month, 1)
    match = _MONTH.match(str(value).strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise fail("month.bad", line, value=value)
    return date(int(match.group(1)), int(match.group(2)), 1)


def to_amount(value: object, line: int | None = None, decimals: int | None = None,
              number_format: NumberFormat = "auto") -> float:
    """A non-negative finite money amount; text is read by `data_layer.numbers` (format: auto, comma, point)."""
    if is_blank(value):
        raise fail("amount.empty", line)
    if isinstance(value, bool):
        raise fail("amount.not_number", line, value=value)
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    else:
        number = _parse_number_text(str(value), line, number_format)
    if not number.is_finite():
        raise fail("amount.not_finite", line, value=value)
    if number < 0:
        raise fail("amount.negative", line, value=value)
    if number >= MAX_AMOUNT:
        raise fail("amount.too_big", line, value=value)
    if decimals is not None and number != round(number, decimals):
        raise fail("amount.decimals", line, value=value)
    return float(round(number, 2))


def _parse_number_text(text: str, line: int | None, number_format: NumberFormat = "auto") -> Decimal:
    """Decimal from text such as '1 234,50', '1\u00a0234.5', '12500 ₽' (rules: data_layer.numbers)."""
    try:
        return parse_number(text, number_format)
    except NumberTextError as exc:
        raise fail(exc.code, line, value=text, **exc.params) from None


def to_category(value: object, line: int | None = None) -> str:
    """A ledger category key from its key or its Russian / English label."""
    key = norm_name(str(value)) if not is_blank(value) else ""
    found = CATEGORY_LABELS.get(key)
    if found is None:
        raise fail("category.unknown", line, value="" if is_blank(value) else value)
    return found


CATEGORY_LABELS: dict[str, str] = {c: c for c in CATEGORIES} | {
    "комиссия": "commission", "комиссии": "commission", "бонус": "bonus", "бонусы": "bonus",
    "маркетинг": "marketing", "обучение": "training", "поддержка": "support", "прочее": "other",
    "прочие": "other", "bonuses": "bonus",
}


def to_model(value: object, line: int | None = None) -> str | None:
    """A partnership model key or None."""
    if is_blank(value):
        return None
    key = str(value).strip().lower()
    if key not in MODELS:
        raise fail("model.unknown", line, model=value)
    return key


def _bool(value: object, line: int | None) -> bool:
    if isinstance(value, bool):
        return value
    if is_blank(value):
        return True
    if str(value).strip().lower() in ("1", "true", "yes", "да"):
        return True
    if str(value).strip().lower() in ("0", "false", "no", "нет"):
        return False
    raise fail("partner.bad_active", line)


def _aliases(value: object) -> list[str]:
    """Aliases from a list or a comma / newline separated string; blanks dropped, order kept, no repeats."""
    if value is None or (not isinstance(value, list | tuple) and is_blank(value)):
        return []
    items = value if isinstance(value, list | tuple) else re.split(r"[,\n;]", str(value))
    out: list[str] = []
    for item in items:
        text = str(item).strip()
        if text and norm_name(text) not in {norm_name(a) for a in out}:
            out.append(text)
    return out


def _collect(problems: list[Problem], fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call fn; on UserDataError add its problems to the list and return None."""
    try:
        return fn(*args, **kwargs)
    except UserDataError as exc:
        problems.extend(exc.problems)
        return None


# ---------------------------------------------------------------- partners

def list_partners(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """All partners by name: partner_id, name, model, model_source, aliases (list), manager, start_date, active."""
    df = con.execute(
        "select partner_id, name, model, model_source, aliases, manager, start_date, active "
        "from partners order by lower(name), partner_id"
    ).df()
    df["aliases"] = df["aliases"].map(lambda a: [] if a is None or is_blank(a) else [str(x) for x in a])
    df["start_date"] = df["start_date"].map(to_date).astype(object)
    return _nulls(df, ("model", "model_source", "manager"))


def _nulls(df: pd.DataFrame, cols: Iterable[str]) -> pd.DataFrame:
    """Missing values in these columns as None (object dtype), so pages and JSON see null, not NaN."""
    for col in cols:
        df[col] = df[col].astype(object).where(df[col].notna(), None)
    return df


def partner_keys(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Normalised name or alias -> partner_id (names win over aliases)."""
    keys: dict[str, int] = {}
    for partner_id, _name, aliases in con.execute(
            "select partner_id, name, aliases from partners order by partner_id").fetchall():
        for alias in aliases or []:
            keys.setdefault(norm_name(alias), partner_id)
    for partner_id, name, _ in con.execute(
            "select partner_id, name, aliases from partners order by partner_id desc").fetchall():
        keys[norm_name(name)] = partner_id
    return keys


def find_partner(con: duckdb.DuckDBPyConnection, name: str) -> int | None:
    """partner_id by name or alias (case-insensitive, ё = е), or None."""
    return partner_keys(con).get(norm_name(name)) if not is_blank(name) else None


def _partner_names(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    return dict(con.execute("select partner_id, name from partners").fetchall())


def _check_name(name: object, line: int | None = None) -> str:
    if is_blank(name):
        raise fail("partner.name_empty", line)
    text = str(name).strip()
    if len(text) > MAX_NAME:
        raise fail("partner.name_long", line, name=text[:40] + "…", limit=MAX_NAME)
    return text


def _taken_keys(con: duckdb.DuckDBPyConnection, exclude: int | None) -> dict[str, str]:
    """Normalised names and aliases of all other partners -> their name."""
    taken: dict[str, str] = {}
    for partner_id, name, aliases in con.execute("select partner_id, name, aliases from partners").fetchall():
        if partner_id != exclude:
            for key in [name, *(aliases or [])]:
                taken[norm_name(key)] = name
    return taken


def _check_keys(names: list[str], taken: dict[str, str], line: int | None) -> list[Problem]:
    return [Problem("partner.name_taken", {"name": n, "other": taken[norm_name(n)]}, line)
            for n in names if norm_name(n) in taken]


def _check_new_partner(con: duckdb.DuckDBPyConnection, values: Mapping[str, Any],
                       line: int | None = None) -> tuple[dict[str, Any], list[Problem]]:
    """Validated columns of a partner to add, and the problems found."""
    problems: list[Problem] = []
    clean = _collect(problems, _check_name, values.get("name"), line)
    model = _collect(problems, to_model, values.get("model"), line)
    start = _collect(problems, to_date, values.get("start_date"), line)
    active = _collect(problems, _bool, values.get("active"), line)
    aliases = _aliases(values.get("aliases"))
    manager = values.get("manager")
    if clean:
        problems += _check_keys([clean, *aliases], _taken_keys(con, None), line)
    return {"name": clean, "model": model, "aliases": aliases, "start_date": start,
            "manager": None if is_blank(manager) else str(manager).strip(),
            "active": True if active is None else active}, problems


def _insert_partner(con: duckdb.DuckDBPyConnection, v: Mapping[str, Any]) -> int:
    row = con.execute(
        "insert into partners (name, model, model_source, aliases, manager, start_date, active) "
        "values (?, ?, ?, ?, ?, ?, ?) returning partner_id",
        [v["name"], v["model"], "user" if v["model"] else None, v["aliases"], v["manager"], v["start_date"],
         v["active"]],
    ).fetchone()
    audit(con, "add", "partner", row[0], None, {"name": v["name"], "model": v["model"], "aliases": v["aliases"]})
    return int(row[0])


def add_partner(con: duckdb.DuckDBPyConnection, name: str, model: str | None = None,
                aliases: Iterable[str] | str = (), manager: str | None = None,
                start_date: date | str | None = None, active: bool = True) -> int:
    """Add a partner; a model given here is a user's choice (model_source='user'). Returns partner_id."""
    values, problems = _check_new_partner(con, {
        "name": name, "model": model, "aliases": aliases if isinstance(aliases, str) else list(aliases),
        "manager": manager, "start_date": start_date, "active": active})
    if problems:
        raise UserDataError(problems)
    return _insert_partner(con, values)


_PARTNER_FIELDS = ("name", "model", "aliases", "manager", "start_date", "active")
_ATTRIBUTION_FIELDS = {"name", "model", "aliases"}


def _partner_changes(con: duckdb.DuckDBPyConnection, partner_id: int, changes: Mapping[str, Any],
                     line: int | None) -> tuple[dict[str, Any], list[Problem]]:
    """Validated column values for one partner's changes."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "name":
            values[key] = _collect(problems, _check_name, value, line)
        elif key == "model":
            values[key] = _collect(problems, to_model, value, line)
        elif key == "aliases":
            values[key] = _aliases(value)
        elif key == "manager":
            values[key] = None if is_blank(value) else str(value).strip()
        elif key == "start_date":
            values[key] = _collect(problems, to_date, value, line)
        elif key == "active":
            values[key] = _collect(problems, _bool, value, line)
        else:
            raise TypeError(f"update_partner got an unknown field {key!r}")
    names = [v for v in [values.get("name"), *values.get("aliases", [])] if v]
    problems += _check_keys(names, _taken_keys(con, partner_id), line)
    return values, problems


def _write_partner(con: duckdb.DuckDBPyConnection, partner_id: int, values: dict[str, Any]) -> None:
    """Update the validated columns of one partner (column names come from _PARTNER_FIELDS only)."""
    cols = [c for c in _PARTNER_FIELDS if c in values]
    sets = [f"{c} = ?" for c in cols] + ["updated_at = current_timestamp"]
    params = [values[c] for c in cols]
    if "model" in values:
        sets.append("model_source = 'user'")
    before = con.execute("select name, model, aliases, manager, start_date, active from partners "
                         "where partner_id = ?", [partner_id]).fetchone()
    assignments = ", ".join(sets)  # "<column> = ?" for columns of _PARTNER_FIELDS only; values are bound
    con.execute("update partners set " + assignments + " where partner_id = ?", [*params, partner_id])  # noqa: S608
    old = dict(zip(("name", "model", "aliases", "manager", "start_date", "active"), before, strict=True))
    audit(con, "update", "partner", partner_id, {c: old[c] for c in cols}, {c: values[c] for c in cols})


def update_partner(con: duckdb.DuckDBPyConnection, partner_id: int, **changes: Any) -> None:
    """Change a partner's name, model, aliases, manager, start_date or active flag.

    Setting the model marks it as the user's (a sync never overwrites it). Changing the name, model or
    aliases re-attributes leads, so lead_facts is rebuilt in the same transaction.
    """
    if partner_id not in _partner_names(con):
        raise fail("partner.unknown_id", partner_id=partner_id)
    values, problems = _partner_changes(con, partner_id, changes, None)
    if problems:
        raise UserDataError(problems)
    with atomic(con):
        _write_partner(con, partner_id, values)
        if _ATTRIBUTION_FIELDS & values.keys():
            store.rebuild_facts(con)


def _same(a: object, b: object) -> bool:
    """Editor value a equals stored value b (lists, dates and blanks compared by meaning)."""
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        return _aliases(a) == _aliases(b)
    if is_blank(a) or is_blank(b):
        return is_blank(a) and is_blank(b)
    if isinstance(a, date) or isinstance(b, date):
        try:
            return to_date(a) == to_date(b)
        except UserDataError:
            return False
    return bool(a == b)


def save_partners(con: duckdb.DuckDBPyConnection, edited: pd.DataFrame) -> int:
    """Apply an edited partners table (rows with partner_id update, rows without add); return rows changed.

    Every row is validated first (line = row position + 1); nothing is written when any row is wrong.
    """
    current = list_partners(con).set_index("partner_id")
    problems: list[Problem] = []
    updates: list[tuple[int, dict[str, Any]]] = []
    new_rows: list[tuple[int, dict[str, Any]]] = []
    for line, row in enumerate(edited.to_dict("records"), start=1):
        pid = row.get("partner_id")
        if is_blank(pid):
            if all(is_blank(row.get(c)) or c == "active" for c in _PARTNER_FIELDS):
                continue  # an empty row the editor added
            values, found = _check_new_partner(con, row, line)
            problems += found
            new_rows.append((line, values))
            continue
        pid = int(pid)
        if pid not in current.index:
            problems.append(Problem("partner.unknown_id", {"partner_id": pid}, line))
            continue
        old = current.loc[pid]
        raw = {c: row[c] for c in _PARTNER_FIELDS if c in row and not _same(row[c], old[c])}
        if "aliases" in raw and _same(_aliases(raw["aliases"]), old["aliases"]):
            raw.pop("aliases")
        if raw:
            values, found = _partner_changes(con, pid, raw, line)
            problems += found
            updates.append((pid, values))
    problems += _cross_row_keys(current, updates, new_rows)
    if problems:
        raise UserDataError(problems)
    with atomic(con):
        for pid, values in updates:
            _write_partner(con, pid, values)
        for _, values in new_rows:
            _insert_partner(con, values)
        if new_rows or any(_ATTRIBUTION_FIELDS & v.keys() for _, v in updates):
            store.rebuild_facts(con)
    return len(updates) + len(new_rows)


def _cross_row_keys(current: pd.DataFrame, updates: list[tuple[int, dict[str, Any]]],
                    new_rows: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
    """Names and aliases that two edited rows both claim."""
    owners: dict[str, str] = {}
    problems: list[Problem] = []
    changed = dict(updates)
    for pid, old in current.iterrows():
        values = changed.get(pid, {})
        for key in [values.get("name", old["name"]), *values.get("aliases", old["aliases"])]:
            owners.setdefault(norm_name(key), str(values.get("name", old["name"])))
    for line, values in new_rows:
        name = values.get("name")
        for key in [name, *_aliases(values.get("aliases"))]:
            if is_blank(key):
                continue
            if norm_name(str(key)) in owners:
                problems.append(Problem("partner.name_taken", {"name": key, "other": owners[norm_name(str(key))]},
                                        line))
            else:
                owners[norm_name(str(key))] = str(name)
    return problems


# ---------------------------------------------------------------- cost ledger

def read_ledger(con: duckdb.DuckDBPyConnection, partner_ids: Iterable[int] | None = None,
                month_from: date | None = None, month_to: date | None = None) -> pd.DataFrame:
    """Ledger rows with partner names: partner_id, partner, month (date), category, amount (float), note."""
    ids = list(partner_ids) if partner_ids is not None else None
    df = con.execute(
        """
        -- one row per partner x month x category; params: ids (null = all), month_from, month_to
        select l.partner_id, p.name as partner, l.month, l.category, cast(l.amount as double) as amount, l.note
        from cost_ledger l join partners p using (partner_id)
        where ($ids is null or list_contains($ids, l.partner_id))
          and ($month_from is null or l.month >= date_trunc('month', cast($month_from as date)))
          and ($month_to is null or l.month <= cast($month_to as date))
        order by l.month, lower(p.name), l.category
        """,
        {"ids": ids, "month_from": month_from, "month_to": month_to},
    ).df()
    df["month"] = df["month"].map(to_date)
    return df[LEDGER_COLUMNS]


def _resolve_partner(row: Mapping[str, Any], names: dict[int, str], keys: dict[str, int],
                     line: int) -> int:
    pid = row.get("partner_id")
    if not is_blank(pid):
        try:
            pid = int(pid)
        except (TypeError, ValueError):
            raise fail("partner.unknown", line, partner=pid) from None
        if pid not in names:
            raise fail("partner.unknown_id", line, partner_id=pid)
        return pid
    name = row.get("partner")
    if is_blank(name):
        raise fail("partner.name_empty", line)
    found = keys.get(norm_name(str(name)))
    if found is None:
        raise fail("partner.unknown", line, partner=name)
    return found


def validate_ledger(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame,
                    lines: Iterable[int] | None = None) -> pd.DataFrame:
    """Check and normalise ledger rows (partner_id or partner name, month, category, amount, note).

    Returns partner_id, month (first day), category, amount, note; raises UserDataError listing every bad
    row (line = the given line numbers, else row position + 1). Duplicate keys are errors.
    """
    names, keys = _partner_names(con), partner_keys(con)
    problems: list[Problem] = []
    out: list[dict[str, Any]] = []
    seen: dict[tuple[int, date, str], list[int]] = {}
    line_numbers = list(lines) if lines is not None else range(1, len(rows) + 1)
    for line, row in zip(line_numbers, rows.to_dict("records"), strict=True):
        before = len(problems)
        pid = _collect(problems, _resolve_partner, row, names, keys, line)
        month = _collect(problems, to_month, row.get("month"), line)
        category = _collect(problems, to_category, row.get("category"), line)
        amount = _collect(problems, to_amount, row.get("amount"), line)
        if pid is not None and month is not None and category is not None:
            seen.setdefault((pid, month, category), []).append(line)  # a bad amount still claims its key
        if len(problems) > before:
            continue
        note = row.get("note")
        out.append({"partner_id": pid, "month": month, "category": category, "amount": amount,
                    "note": None if is_blank(note) else str(note)})
    for (pid, month, category), found in seen.items():
        if len(found) > 1:
            problems.append(Problem("ledger.duplicate", {
                "partner": names[pid], "month": month.strftime("%Y-%m"), "category": category,
                "lines": ", ".join(map(str, found))}, found[0]))
    if problems:
        raise UserDataError(problems)
    return pd.DataFrame(out, columns=["partner_id", "month", "category", "amount", "note"])


_UPSERT = """
-- one row per validated ledger row (registered frame _ledger_rows); a row replaces or adds to its key
insert into cost_ledger (partner_id, month, category, amount, note)
select partner_id, cast(month as date), category, cast(amount as decimal(18, 2)), note from _ledger_rows
on conflict (partner_id, month, category) do update set
    amount = {amount}, note = coalesce(excluded.note, cost_ledger.note), updated_at = get_current_timestamp()
"""
_UPSERT_REPLACE = _UPSERT.replace("{amount}", "excluded.amount")
_UPSERT_ADD = _UPSERT.replace("{amount}", "cost_ledger.amount + excluded.amount")


def _insert_ledger(con: duckdb.DuckDBPyConnection, clean: pd.DataFrame, add: bool) -> int:
    """Upsert validated rows; add=True adds amounts to existing rows instead of replacing them."""
    if clean.empty:
        return 0
    frame = clean.astype({"partner_id": "int64", "amount": "float64"}).astype({"note": "object"})
    con.register("_ledger_rows", frame)
    try:
        con.execute(_UPSERT_ADD if add else _UPSERT_REPLACE)
        audit(con, "add" if add else "upsert", "ledger", None, None, frame)
    finally:
        con.unregister("_ledger_rows")
    return len(frame)


def upsert_ledger(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, add: bool = False) -> int:
    """Validate rows, then write them: each replaces the same partner x month x category (or adds to it)."""
    clean = validate_ledger(con, rows)
    with atomic(con):
        return _insert_ledger(con, clean, add)


def replace_ledger(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame,
                   partner_ids: Iterable[int] | None = None, month_from: date | None = None,
                   month_to: date | None = None) -> int:
    """Make the ledger inside a scope (partners x months, None = all) equal to rows; return rows written.

    This is how the ledger editor saves: rows deleted in the editor disappear, edited rows replace.
    """
    clean = validate_ledger(con, rows)
    ids = list(partner_ids) if partner_ids is not None else None
    with atomic(con):
        con.execute(
            """
            delete from cost_ledger
            where ($ids is null or list_contains($ids, partner_id))
              and ($month_from is null or month >= date_trunc('month', cast($month_from as date)))
              and ($month_to is null or month <= cast($month_to as date))
            """,
            {"ids": ids, "month_from": month_from, "month_to": month_to},
        )
        audit(con, "replace_scope", "ledger", None, None,
              {"partner_ids": ids, "month_from": month_from, "month_to": month_to})
        return _insert_ledger(con, clean, add=False)


def delete_ledger(con: duckdb.DuckDBPyConnection, keys: Iterable[tuple[int, date | str, str]]) -> int:
    """Delete ledger rows by (partner_id, month, category); return rows deleted."""
    params = [(int(pid), to_month(month), to_category(category)) for pid, month, category in keys]
    if not params:
        return 0
    before = con.execute("select count(*) from cost_ledger").fetchone()[0]
    with atomic(con):
        con.executemany("delete from cost_ledger where partner_id = ? and month = ? and category = ?", params)
        audit(con, "delete", "ledger", None, params, None)
    return before - con.execute("select count(*) from cost_ledger").fetchone()[0]


# ---------------------------------------------------------------- commission rules

def parse_tiers(value: object, line: int | None = None) -> list[dict[str, float | None]] | None:
    """Validated tiers from JSON text or a list; None when blank.

    Tiers are monthly-revenue bands: `up_to` strictly increasing and positive, the last one null,
    every rate a fraction in [0, 1].
    """
    if value is None or (not isinstance(value, list | tuple) and is_blank(value)):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise fail("tiers.json", line, detail=exc.msg) from None
    if not isinstance(value, list | tuple) or not all(isinstance(t, Mapping) for t in value):
        raise fail("tiers.shape", line)
    if not value:
        raise fail("tiers.empty", line)
    return _check_tiers(list(value), line)


def _tier_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _check_tiers(tiers: list[Mapping[str, Any]], line: int | None) -> list[dict[str, float | None]]:
    problems: list[Problem] = []
    out: list[dict[str, float | None]] = []
    previous = 0.0
    for n, tier in enumerate(tiers, start=1):
        if set(tier) - {"up_to", "rate"} or "rate" not in tier:
            raise fail("tiers.shape", line)
        rate = _tier_number(tier["rate"])
        if rate is None or not 0 <= rate <= 1:
            problems.append(Problem("tiers.rate", {"n": n, "value": tier["rate"]}, line))
        up_to = tier.get("up_to")
        last = n == len(tiers)
        if (up_to is None) != last:
            problems.append(Problem("tiers.last", {}, line))
        elif up_to is not None:
            bound = _tier_number(up_to)
            if bound is None or bound <= 0:
                problems.append(Problem("tiers.up_to", {"n": n, "value": up_to}, line))
            elif bound <= previous:
                problems.append(Problem("tiers.order", {"n": n, "value": up_to}, line))
            else:
                previous = bound
        out.append({"up_to": None if up_to is None else _tier_number(up_to), "rate": rate})
    if problems:
        unique = {p.text(): p for p in problems}
        raise UserDataError(list(unique.values()))
    return out


def tiers_json(tiers: list[dict[str, float | None]] | None) -> str | None:
    """Canonical JSON text of validated tiers (None stays None)."""
    return None if tiers is None else json.dumps(tiers)


def list_rules(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Commission rules, model rules first: rule_id, model, partner_id, partner, kind, rate, tiers (JSON text),
    valid_from, valid_to."""
    df = con.execute(
        """
        select r.rule_id, r.model, r.partner_id, p.name as partner, r.kind, r.rate, r.tiers,
               r.valid_from, r.valid_to, coalesce(r.tier_kind, 'marginal') as tier_kind
        from commission_rules r left join partners p using (partner_id)
        order by r.partner_id is not null, r.model, lower(p.name), r.kind, r.valid_from nulls first, r.rule_id
        """
    ).df()
    for col in ("valid_from", "valid_to"):
        df[col] = df[col].map(to_date).astype(object)
    df["partner_id"] = df["partner_id"].astype("Int64")
    return _nulls(df, ("model", "partner", "tiers", "valid_from", "valid_to"))[RULE_COLUMNS]


def _check_rule(row: Mapping[str, Any], names: dict[int, str], keys: dict[str, int],
                line: int | None) -> dict[str, Any]:
    """One validated rule row (raises with all its problems)."""
    problems: list[Problem] = []
    model = _collect(problems, to_model, row.get("model"), line)
    pid = None
    if not is_blank(row.get("partner_id")) or not is_blank(row.get("partner")):
        pid = _collect(problems, _resolve_partner, row, names, keys, line or 0)
        if pid is None and not problems:
            problems.append(Problem("partner.unknown", {"partner": row.get("partner")}, line))
    if (model is None) == (pid is None) and not problems:
        problems.append(Problem("rule.target", {}, line))
    kind = str(row.get("kind") or "").strip()
    if kind not in KINDS:
        problems.append(Problem("rule.kind", {"value": row.get("kind")}, line))
    tiers = _collect(problems, parse_tiers, row.get("tiers"), line)
    rate = _rule_rate(row.get("rate"), kind, tiers, line, problems)
    if tiers is not None and kind in KINDS and kind != "percent_revenue":
        problems.append(Problem("rule.tiers_kind", {}, line))
    tier_kind = tier_kind_of(row.get("tier_kind"))
    if tier_kind not in TIER_KINDS:
        problems.append(Problem("rule.tier_kind", {"value": row.get("tier_kind")}, line))
    valid_from = _collect(problems, to_date, row.get("valid_from"), line)
    valid_to = _collect(problems, to_date, row.get("valid_to"), line)
    if valid_from and valid_to and valid_from > valid_to:
        problems.append(Problem("rule.dates", {"valid_from": valid_from, "valid_to": valid_to}, line))
    if problems:
        raise UserDataError(problems)
    rule_id = row.get("rule_id")
    return {"rule_id": None if is_blank(rule_id) else int(rule_id), "model": model, "partner_id": pid,
            "kind": kind, "rate": rate, "tiers": tiers_json(tiers), "valid_from": valid_from,
            "valid_to": valid_to, "tier_kind": tier_kind}


def tier_kind_of(value: object) -> str:
    """A rule's tier kind as stored: blank (a rule or scenario from before tier kinds) means marginal."""
    return TIER_KINDS[0] if is_blank(value) else str(value).strip().lower()


def _rule_rate(value: object, kind: str, tiers: list[dict[str, Any]] | None, line: int | None,
               problems: list[Problem]) -> float:
    """The rule's rate; with tiers and no rate, the first tier's rate."""
    if is_blank(value):
        if tiers:
            return float(tiers[0]["rate"] or 0.0)
        problems.append(Problem("rule.rate_bad", {"value": ""}, line))
        return 0.0
    try:
        rate = float(_parse_number_text(value, line) if isinstance(value, str) else value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        problems.append(Problem("rule.rate_bad", {"value": value}, line))
        return 0.0
    if not math.isfinite(rate):
        problems.append(Problem("rule.rate_bad", {"value": value}, line))
    elif rate < 0:
        problems.append(Problem("rule.rate_negative", {"value": value}, line))
    elif kind == "percent_revenue" and rate > 1:
        problems.append(Problem("rule.rate_percent", {"value": f"{rate * 100:g} %"}, line))
    return rate


def _overlaps(rules: list[tuple[int, dict[str, Any]]], names: dict[int, str]) -> list[Problem]:
    """Rules of the same target and kind whose validity periods overlap."""
    problems: list[Problem] = []
    for i, (line_a, a) in enumerate(rules):
        for line_b, b in rules[i + 1:]:
            if (a["model"], a["partner_id"], a["kind"]) != (b["model"], b["partner_id"], b["kind"]):
                continue
            start = max(a["valid_from"] or date.min, b["valid_from"] or date.min)
            end = min(a["valid_to"] or date.max, b["valid_to"] or date.max)
            if start <= end:
                target = a["model"] or names.get(a["partner_id"], str(a["partner_id"]))
                problems.append(Problem("rule.overlap", {"kind": a["kind"], "target": target,
                                                         "lines": f"{line_a}, {line_b}"}, line_b))
    return problems


def validate_rules(con: duckdb.DuckDBPyConnection, rules: pd.DataFrame) -> pd.DataFrame:
    """Check and normalise a whole rules table (as the editor holds it); raise listing every bad row."""
    names, keys = _partner_names(con), partner_keys(con)
    problems: list[Problem] = []
    good: list[tuple[int, dict[str, Any]]] = []
    for line, row in enumerate(rules.to_dict("records"), start=1):
        if all(is_blank(row.get(c)) for c in ("model", "partner_id", "partner", "kind", "rate", "tiers")):
            continue  # an empty row the editor added
        checked = _collect(problems, _check_rule, row, names, keys, line)
        if checked is not None:
            good.append((line, checked))
    problems += _overlaps(good, names)
    if problems:
        raise UserDataError(problems)
    cols = [c for c in RULE_COLUMNS if c != "partner"]
    return pd.DataFrame([r for _, r in good], columns=cols)


def _insert_rules(con: duckdb.DuckDBPyConnection, clean: pd.DataFrame) -> list[int]:
    ids = []
    for record in clean.to_dict("records"):
        row = {k: None if is_blank(v) else v for k, v in record.items()}
        params = [row["model"], None if row["partner_id"] is None else int(row["partner_id"]), row["kind"],
                  float(row["rate"]), row["tiers"], to_date(row["valid_from"]), to_date(row["valid_to"]),
                  tier_kind_of(row.get("tier_kind"))]
        if row.get("rule_id") is not None:
            con.execute("insert into commission_rules (rule_id, model, partner_id, kind, rate, tiers, valid_from, "
                        "valid_to, tier_kind) values (?, ?, ?, ?, ?, ?, ?, ?, ?)", [int(row["rule_id"]), *params])
            ids.append(int(row["rule_id"]))
        else:
            ids.append(int(con.execute(
                "insert into commission_rules (model, partner_id, kind, rate, tiers, valid_from, valid_to, "
                "tier_kind) values (?, ?, ?, ?, ?, ?, ?, ?) returning rule_id", params).fetchone()[0]))
    return ids


def replace_rules(con: duckdb.DuckDBPyConnection, rules: pd.DataFrame) -> int:
    """Make commission_rules equal to the edited table (rule_id kept where given); return the rule count."""
    clean = validate_rules(con, rules)
    known = {r[0] for r in con.execute("select rule_id from commission_rules").fetchall()}
    clean["rule_id"] = [rid if rid in known else None for rid in clean["rule_id"]]
    with atomic(con):
        before = list_rules(con)
        con.execute("delete from commission_rules")
        _insert_rules(con, clean)
        _advance_rule_sequence(con)
        audit(con, "replace", "commission_rules", None, before, clean)
    return len(clean)


def _advance_rule_sequence(con: duckdb.DuckDBPyConnection) -> None:
    """Keep the sequence ahead of ids inserted explicitly."""
    top = con.execute("select coalesce(max(rule_id), 0) from commission_rules").fetchone()[0]
    while con.execute("select nextval('commission_rules_seq')").fetchone()[0] < top:
        pass


def add_rule(con: duckdb.DuckDBPyConnection, kind: str, rate: float | None = None, model: str | None = None,
             partner_id: int | None = None, tiers: object = None, valid_from: date | str | None = None,
             valid_to: date | str | None = None, tier_kind: str | None = None) -> int:
    """Add one commission rule (per model, or per partner as an override); return its rule_id."""
    row = {"model": model, "partner_id": partner_id, "kind": kind, "rate": rate, "tiers": tiers,
           "valid_from": valid_from, "valid_to": valid_to, "tier_kind": tier_kind}
    current = list_rules(con)
    validate_rules(con, pd.concat([current, pd.DataFrame([row])], ignore_index=True))
    clean = validate_rules(con, pd.DataFrame([row]))
    with atomic(con):
        rule_id = _insert_rules(con, clean)[0]
        audit(con, "add", "commission_rules", rule_id, None, clean)
        return rule_id


def update_rule(con: duckdb.DuckDBPyConnection, rule_id: int, **changes: Any) -> None:
    """Change fields of one rule (model, partner_id, kind, rate, tiers, valid_from, valid_to, tier_kind)."""
    current = list_rules(con)
    if rule_id not in set(current["rule_id"]):
        raise KeyError(f"no commission rule {rule_id}")
    mask = current["rule_id"] == rule_id
    for key, value in changes.items():
        if key not in RULE_COLUMNS or key in ("rule_id", "partner"):
            raise TypeError(f"update_rule got an unknown field {key!r}")
        current[key] = current[key].astype(object)
        current.loc[mask, key] = [value]
    current["partner"] = None
    replace_rules(con, current)


def delete_rule(con: duckdb.DuckDBPyConnection, rule_id: int) -> bool:
    """Delete one rule; True when it existed."""
    found = con.execute("select count(*) from commission_rules where rule_id = ?", [rule_id]).fetchone()[0]
    if found:
        with atomic(con):
            con.execute("delete from commission_rules where rule_id = ?", [rule_id])
            audit(con, "delete", "commission_rules", rule_id)
    return bool(found)


# ---------------------------------------------------------------- settings

def get_setting(con: duckdb.DuckDBPyConnection, key: str, default: Any = None) -> Any:
    """A setting's JSON value decoded, or default."""
    row = con.execute("select value from settings where key = ?", [key]).fetchone()
    return json.loads(row[0]) if row else default


def set_setting(con: duckdb.DuckDBPyConnection, key: str, value: Any) -> None:
    """Store a setting as JSON (None deletes it)."""
    if is_blank(key):
        raise fail("setting.key")
    audit(con, "set", "settings", key, get_setting(con, key), value)
    if value is None:
        con.execute("delete from settings where key = ?", [key])
        return
    con.execute(
        "insert into settings (key, value) values (?, ?) "
        "on conflict (key) do update set value = excluded.value, updated_at = get_current_timestamp()",
        [key, json.dumps(value, ensure_ascii=False)],
    )


def check_margin(margin: Mapping[str, Any] | None) -> dict[str, Any]:
    """A validated margin setting {"account": fraction or None, "models": {model: fraction}}."""
    margin = margin or {}
    problems: list[Problem] = []

    def fraction(value: object, where: str) -> float | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        number = _tier_number(value)
        if number is None or not 0 <= number <= 1:
            problems.append(Problem("margin.bad", {"value": value, "where": where}))
            return None
        return number

    account = fraction(margin.get("account"), "account")
    models: dict[str, float] = {}
    for model, value in (margin.get("models") or {}).items():
        if model not in MODELS:
            problems.append(Problem("model.unknown", {"model": model}))
            continue
        number = fraction(value, model)
        if number is not None:
            models[model] = number
    if problems:
        raise UserDataError(problems)
    return {"account": account, "models": models}


def get_margin(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The margin setting (account-wide and per model); empty means income = revenue."""
    return check_margin(get_setting(con, "margin"))


def set_margin(con: duckdb.DuckDBPyConnection, margin: Mapping[str, Any] | None) -> None:
    """Validate and store the margin setting (None or all-empty clears it)."""
    clean = check_margin(margin)
    set_setting(con, "margin", clean if clean["account"] is not None or clean["models"] else None)


# ---------------------------------------------------------------- scenarios

@dataclass
class ScenarioInputs:
    """Edited cost inputs of a what-if scenario; None means "as in the real data".

    ledger: partner_id, month, category, amount — rows that replace the same partner x month x category;
    rules: a whole commission-rules table (replaces all rules); margin: the margin setting.
    """

    ledger: pd.DataFrame | None = None
    rules: pd.DataFrame | None = None
    margin: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        """JSON-ready dict."""
        ledger = None if self.ledger is None else [
            {"partner_id": int(r["partner_id"]), "month": to_month(r["month"]).isoformat(),
             "category": r["category"], "amount": float(r["amount"])}
            for r in self.ledger.to_dict("records")]
        rules = None if self.rules is None else [
            {k: _json_value(r.get(k)) for k in RULE_COLUMNS if k != "partner"}
            for r in self.rules.to_dict("records")]
        return {"version": 1, "ledger": ledger, "rules": rules, "margin": self.margin, "meta": self.meta}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ScenarioInputs:
        """Inverse of to_payload."""
        ledger = payload.get("ledger")
        rules = payload.get("rules")
        ledger_df = None if ledger is None else pd.DataFrame(
            ledger, columns=["partner_id", "month", "category", "amount"])
        if ledger_df is not None:
            ledger_df["month"] = ledger_df["month"].map(to_month).astype(object)
        rules_df = None if rules is None else pd.DataFrame(
            rules, columns=[c for c in RULE_COLUMNS if c != "partner"])
        if rules_df is not None:
            for col in ("valid_from", "valid_to"):
                rules_df[col] = rules_df[col].map(to_date).astype(object)
        return cls(ledger_df, rules_df, payload.get("margin"), dict(payload.get("meta") or {}))


def _json_value(value: object) -> Any:
    if is_blank(value):
        return None
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return value.item()  # type: ignore[union-attr]
    return value


def check_scenario(con: duckdb.DuckDBPyConnection, inputs: ScenarioInputs) -> ScenarioInputs:
    """Validated, normalised scenario inputs (raises UserDataError listing every problem)."""
    ledger = None
    if inputs.ledger is not None:
        ledger = validate_ledger(con, inputs.ledger)[["partner_id", "month", "category", "amount"]]
    rules = None if inputs.rules is None else validate_rules(con, inputs.rules)
    margin = None if inputs.margin is None else check_margin(inputs.margin)
    return ScenarioInputs(ledger, rules, margin, dict(inputs.meta))


def _check_scenario_name(name: object) -> str:
    if is_blank(name):
        raise fail("scenario.name_empty")
    text = str(name).strip()
    if len(text) > MAX_NAME:
        raise fail("scenario.name_long", limit=MAX_NAME)
    return text


def save_scenario(con: duckdb.DuckDBPyConnection, name: str, inputs: ScenarioInputs,
                  overwrite: bool = False) -> int:
    """Save the scenario under a name; return its scenario_id."""
    clean_name = _check_scenario_name(name)
    payload = json.dumps(check_scenario(con, inputs).to_payload(), ensure_ascii=False)
    row = con.execute("select scenario_id from scenarios where name = ?", [clean_name]).fetchone()
    if row and not overwrite:
        raise fail("scenario.exists", name=clean_name)
    audit(con, "save", "scenario", clean_name)
    if row:
        con.execute("update scenarios set payload = ?, created_at = current_timestamp where scenario_id = ?",
                    [payload, row[0]])
        return int(row[0])
    return int(con.execute("insert into scenarios (name, payload) values (?, ?) returning scenario_id",
                           [clean_name, payload]).fetchone()[0])


def list_scenarios(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Saved scenarios, newest first: scenario_id, name, created_at."""
    return con.execute("select scenario_id, name, created_at from scenarios order by created_at desc, name").df()


def load_scenario(con: duckdb.DuckDBPyConnection, name: str) -> ScenarioInputs:
    """A saved scenario's inputs by name."""
    row = con.execute("select payload from scenarios where name = ?", [str(name).strip()]).fetchone()
    if not row:
        raise fail("scenario.unknown", name=name)
    try:
        inputs = ScenarioInputs.from_payload(json.loads(row[0]))
    except (ValueError, TypeError, KeyError) as exc:
        raise fail("scenario.payload", name=name, detail=type(exc).__name__) from exc
    if inputs.rules is not None:  # editors show partners by name
        names = _partner_names(con)
        inputs.rules["partner"] = [None if is_blank(p) else names.get(int(p)) for p in inputs.rules["partner_id"]]
    return inputs


def delete_scenario(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Delete a saved scenario; True when it existed."""
    found = con.execute("select count(*) from scenarios where name = ?", [name]).fetchone()[0]
    if found:
        with atomic(con):
            con.execute("delete from scenarios where name = ?", [name])
            audit(con, "delete", "scenario", name)
    return bool(found)


def apply_scenario(con: duckdb.DuckDBPyConnection, inputs: ScenarioInputs) -> dict[str, int]:
    """Write a scenario into the real tables in one transaction: ledger rows replace the same keys,
    rules replace all rules, margin replaces the margin setting. Returns what changed."""
    clean = check_scenario(con, inputs)
    done = {"ledger_rows": 0, "rules": 0, "margin": 0}
    with atomic(con):
        if clean.ledger is not None:
            done["ledger_rows"] = _insert_ledger(con, clean.ledger.assign(note=None), add=False)
        if clean.rules is not None:
            con.execute("delete from commission_rules")
            _insert_rules(con, clean.rules.assign(rule_id=None))
            done["rules"] = len(clean.rules)
        if clean.margin is not None:
            set_margin(con, clean.margin)
            done["margin"] = 1
        audit(con, "apply", "scenario", inputs.meta.get("name"), None, done)
    return done


# ---------------------------------------------------------------- scenario ledger maths (pure pandas)

SCENARIO_LEDGER_COLUMNS = ["partner_id", "month", "category", "amount"]


def _months(date_from: date, date_to: date) -> list[tuple[date, int, int]]:
    """(first day, days in month, days of the period inside it) for every month the period touches."""
    out = []
    month = date(date_from.year, date_from.month, 1)
    while month <= date_to:
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        days = (following - month).days
        covered = (min(following, date_to + timedelta(days=1)) - max(month, date_from)).days
        out.append((month, days, covered))
        month = following
    return out


def merge_ledger(actual: pd.DataFrame, overrides: pd.DataFrame | None) -> pd.DataFrame:
    """The actual ledger with scenario rows replacing the same partner x month x category."""
    base = actual[SCENARIO_LEDGER_COLUMNS].copy()
    base["month"] = base["month"].map(to_month)
    if overrides is None or overrides.empty:
        return base.reset_index(drop=True)
    over = overrides[SCENARIO_LEDGER_COLUMNS].copy()
    over["month"] = over["month"].map(to_month)
    keys = set(zip(over["partner_id"].astype(int), over["month"], over["category"], strict=True))
    keep = [(int(p), m, c) not in keys for p, m, c in zip(base["partner_id"], base["month"], base["category"],
                                                           strict=True)]
    merged = pd.concat([base[keep], over], ignore_index=True)
    merged["partner_id"] = merged["partner_id"].astype("int64")
    merged["amount"] = merged["amount"].astype(float)
    return merged


def period_totals(ledger: pd.DataFrame, date_from: date, date_to: date) -> pd.DataFrame:
    """What the ledger counts in a period per partner x category (each month's amount x days covered / days)."""
    shares = {m: covered / days for m, days, covered in _months(date_from, date_to)}
    rows = ledger[SCENARIO_LEDGER_COLUMNS].copy()
    rows["month"] = rows["month"].map(to_month)
    rows = rows[rows["month"].isin(shares)]
    rows["amount"] = rows["amount"].astype(float) * rows["month"].map(shares).astype(float)
    out = rows.groupby(["partner_id", "category"], as_index=False)["amount"].sum()
    return out.astype({"partner_id": "int64", "amount": "float64"})


def ledger_for_totals(ledger: pd.DataFrame, date_from: date, date_to: date,
                      targets: pd.DataFrame) -> pd.DataFrame:
    """Month rows that make the period total of each partner x category equal its target.

    Existing months are scaled by one factor (so the monthly pattern stays); a category with nothing yet is
    spread over the period's months in proportion to the days it covers. Only changed totals give rows.
    """
    months = _months(date_from, date_to)
    covered_total = sum(c for _, _, c in months)
    current = period_totals(ledger, date_from, date_to).set_index(["partner_id", "category"])["amount"]
    rows: list[dict[str, Any]] = []
    for target in targets.to_dict("records"):
        pid, category = int(target["partner_id"]), str(target["category"])
        goal = to_amount(target["amount"])
        now = float(current.get((pid, category), 0.0))
        if abs(goal - now) < 0.005:
            continue
        if now > 0:
            factor = goal / now
            mine = ledger[(ledger["partner_id"] == pid) & (ledger["category"] == category)]
            for r in mine.to_dict("records"):
                month = to_month(r["month"])
                if any(month == m for m, _, _ in months):
                    rows.append({"partner_id": pid, "month": month, "category": category,
                                 "amount": round(float(r["amount"]) * factor, 2)})
        else:
            for month, days, covered in months:
                if covered:
                    rows.append({"partner_id": pid, "month": month, "category": category,
                                 "amount": round(goal * days / covered_total, 2)})
    return pd.DataFrame(rows, columns=SCENARIO_LEDGER_COLUMNS)


def combine_overrides(first: pd.DataFrame | None, second: pd.DataFrame | None) -> pd.DataFrame | None:
    """Scenario ledger rows of first, replaced / extended by those of second."""
    if first is None or first.empty:
        return None if second is None or second.empty else second[SCENARIO_LEDGER_COLUMNS].reset_index(drop=True)
    if second is None or second.empty:
        return first[SCENARIO_LEDGER_COLUMNS].reset_index(drop=True)
    return merge_ledger(first, second)


def rules_in_percent(rules: pd.DataFrame) -> pd.DataFrame:
    """Rules as editors show them: a percent-of-revenue rate in percent (0.1 -> 10), fixed rates unchanged."""
    out = rules.copy()
    rate = pd.to_numeric(out["rate"], errors="coerce").astype(float)
    out["rate"] = rate.where(out["kind"] != "percent_revenue", rate * 100).round(6)
    return out


def rules_from_percent(rules: pd.DataFrame) -> pd.DataFrame:
    """Inverse of rules_in_percent: percent back to a fraction (validation then checks 0…100 %)."""
    out = rules.copy()
    rate = pd.to_numeric(out["rate"], errors="coerce").astype(float)
    out["rate"] = rate.where(out["kind"] != "percent_revenue", rate / 100)
    return out


RULE_EDIT_COLUMNS = ["rule_id", "model", "partner", "kind", "rate", "tiers", "valid_from", "valid_to", "tier_kind"]


def _rule_key(row: Mapping[str, Any]) -> tuple:
    """A rule's content, comparable across editor and stored shapes."""
    tiers = row.get("tiers")
    try:
        tiers = tiers_json(parse_tiers(tiers))
    except UserDataError:
        tiers = str(tiers)
    rate = row.get("rate")
    partner = row.get("partner")
    return (None if is_blank(row.get("model")) else str(row.get("model")),
            None if is_blank(partner) else norm_name(str(partner)),
            str(row.get("kind")), None if is_blank(rate) else round(float(rate), 9), tiers,
            to_date(row.get("valid_from")), to_date(row.get("valid_to")), tier_kind_of(row.get("tier_kind")))


def same_rules(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """True when two rule tables hold the same rules (ids, order and blank editor rows ignored)."""
    def keys(df: pd.DataFrame) -> list[tuple]:
        rows = [r for r in df.to_dict("records") if not all(
            is_blank(r.get(c)) for c in ("model", "partner", "kind", "rate", "tiers"))]
        return sorted((_rule_key(r) for r in rows), key=repr)
    return keys(a) == keys(b)


def set_percent_rate(rules: pd.DataFrame, rate: float, model: str | None = None, partner: str | None = None,
                     partner_model: str | None = None) -> pd.DataFrame:
    """Rules with one model's or one partner's percent-of-revenue rate set (tiers cleared).

    A partner without rules of its own first gets copies of its model's rules, because a partner's rules
    replace its model's: the other rewards of the model keep applying to it.
    """
    out = rules.reindex(columns=RULE_EDIT_COLUMNS).astype(object).reset_index(drop=True)
    blank_partner = out["partner"].map(is_blank)
    if model is not None:
        mask = (out["model"] == model) & blank_partner & (out["kind"] == "percent_revenue")
        new = {"model": model, "partner": None}
    else:
        own = out["partner"].map(lambda p: not is_blank(p) and norm_name(str(p)) == norm_name(str(partner)))
        if not own.any() and partner_model:
            copies = out[(out["model"] == partner_model) & blank_partner].copy()
            copies["partner"], copies["model"], copies["rule_id"] = partner, None, None
            out = pd.concat([out, copies], ignore_index=True)
            own = out["partner"].map(lambda p: not is_blank(p) and norm_name(str(p)) == norm_name(str(partner)))
        mask = own & (out["kind"] == "percent_revenue")
        new = {"model": None, "partner": partner}
    if mask.any():
        out.loc[mask, "rate"] = rate
        out.loc[mask, "tiers"] = None
    else:
        out = pd.concat([out, pd.DataFrame([{**new, "kind": "percent_revenue", "rate": rate}])],
                        ignore_index=True)
    return out.reindex(columns=RULE_EDIT_COLUMNS)

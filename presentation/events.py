"""Events on the charts in words (RU / EN): an event's short title and what changed, and the before / after
sentence of metrics.events' effect. The dashboard's rules (ui.event_rules) and the PDF (reports.charts) both read
these, so a chart says the same on screen and on paper."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import pandas as pd

from metrics.events import MIN_PERIODS, Effect
from presentation import fmt
from presentation.i18n import lookup, model_label, word

SHORT = 24  # characters of a title drawn beside its rule (the tooltip has the whole title)

TEXT: dict[str, dict[str, str]] = {
    "ru": {
        "rule.added": "Новое правило комиссии: {target}", "rule.changed": "Изменено правило комиссии: {target}",
        "rule.deleted": "Удалено правило комиссии: {target}", "rule.unknown": "правило №{rule_id}",
        "scenario": "Применён сценарий «{name}»: правила комиссий заменены",
        "ledger": "Первые затраты: {category}",
        "kind.percent_revenue": "{rate} от выручки", "kind.fixed_per_deal": "{rate} за сделку",
        "kind.fixed_per_qualified_lead": "{rate} за квалифицированный лид",
        "field.rate": "ставка", "field.tiers": "ступени", "field.valid_from": "действует с",
        "field.valid_to": "действует по", "field.kind": "вид", "field.tier_kind": "применение ступеней",
        "change": "{field}: {before} → {after}", "since": "действует с {day}", "blank": "не задано",
        "effect": "{n_b} до: {before} → {n_a} после: {after}; разница {diff} (95 %: {low} … {high})",
        "effect.too_few": "Мало периодов, чтобы судить: до события {n_b}, после {n_a} — нужно хотя бы {min} "
                          "завершённых и созревших с каждой стороны.",
        "periods.month": "{n} мес.", "periods.week": "{n} нед.", "periods.quarter": "{n} кв.",
        "scope.all": "вся программа", "scope.model": "модель: {name}", "scope.partner": "партнёр: {name}",
        "kind.user": "событие пользователя", "kind.rule": "правило комиссии", "kind.scenario": "сценарий",
        "kind.ledger": "затраты",
    },
    "en": {
        "rule.added": "New commission rule: {target}", "rule.changed": "Commission rule changed: {target}",
        "rule.deleted": "Commission rule deleted: {target}", "rule.unknown": "rule #{rule_id}",
        "scenario": "Scenario “{name}” applied: commission rules replaced",
        "ledger": "First costs: {category}",
        "kind.percent_revenue": "{rate} of revenue", "kind.fixed_per_deal": "{rate} per deal",
        "kind.fixed_per_qualified_lead": "{rate} per qualified lead",
        "field.rate": "rate", "field.tiers": "tiers", "field.valid_from": "valid from",
        "field.valid_to": "valid to", "field.kind": "kind", "field.tier_kind": "tier application",
        "change": "{field}: {before} → {after}", "since": "valid from {day}", "blank": "not set",
        "effect": "{n_b} before: {before} → {n_a} after: {after}; difference {diff} (95 %: {low} … {high})",
        "effect.too_few": "Too few periods to tell: {n_b} before the event, {n_a} after — at least {min} complete, "
                          "mature periods are needed on each side.",
        "periods.month": "{n} mo.", "periods.week": "{n} wk.", "periods.quarter": "{n} qtr.",
        "scope.all": "whole programme", "scope.model": "model: {name}", "scope.partner": "partner: {name}",
        "kind.user": "user event", "kind.rule": "commission rule", "kind.scenario": "scenario",
        "kind.ledger": "costs",
    },
}


def say(key: str, lang: str, **kwargs: object) -> str:
    """One of this module's sentences."""
    return lookup(TEXT, key, lang, **kwargs)


def title(event: Mapping[str, Any], lang: str, currency: str = "RUB") -> str:
    """An event's title: the user's own, or the programme event in words ("Изменено правило комиссии: …")."""
    kind, subject = event["kind"], event.get("subject") or {}
    if kind == "user":
        return str(event["title"])
    if kind == "scenario":
        return say("scenario", lang, name=subject.get("scenario") or "")
    if kind == "ledger":
        return say("ledger", lang, category=word(f"category.{subject.get('category')}", lang))
    return say(f"rule.{event['change']['action']}", lang, target=rule_name(subject, lang, currency))


def rule_name(subject: Mapping[str, Any], lang: str, currency: str = "RUB") -> str:
    """A rule by whom it pays and how: "Реферальная, 10 % от выручки"."""
    who = subject.get("partner") or (model_label(subject["model"], lang) if subject.get("model") else None)
    if who is None and subject.get("partner_id") is not None:
        who = f"#{subject['partner_id']}"
    kind = subject.get("kind")
    if kind is None:
        return who or say("rule.unknown", lang, rule_id=subject.get("rule_id", "?"))
    how = say(f"kind.{kind}", lang, rate=_rate(kind, subject.get("rate"), lang, currency))
    return f"{who}, {how}" if who else how


def _rate(kind: str, rate: object, lang: str, currency: str) -> str:
    if rate is None or (isinstance(rate, float) and pd.isna(rate)):
        return say("blank", lang)
    return fmt.pct(float(rate), lang) if kind == "percent_revenue" else fmt.money(float(rate), lang, currency)


def detail(event: Mapping[str, Any], lang: str, currency: str = "RUB") -> str:
    """What a rule change changed ("ставка: 10 % → 12 %"), or when an added rule starts; "" for other events."""
    if event["kind"] != "rule":
        return ""
    change, subject = event["change"], event.get("subject") or {}
    if change["action"] == "changed":
        kind = subject.get("kind") or ""
        return "; ".join(say("change", lang, field=say(f"field.{name}", lang),
                             before=_field(name, kind, old, lang, currency),
                             after=_field(name, kind, new, lang, currency))
                         for name, (old, new) in change.get("fields", {}).items())
    since = subject.get("valid_from")
    return say("since", lang, day=fmt.day(_date(since), lang)) if change["action"] == "added" and since else ""


def _field(name: str, kind: str, value: object, lang: str, currency: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return say("blank", lang)
    if name == "rate":
        return _rate(kind, value, lang, currency)
    if name in ("valid_from", "valid_to"):
        return fmt.day(_date(value), lang)
    return str(value)


def _date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def scope_text(event: Mapping[str, Any], lang: str, partner_names: Mapping[int, str]) -> str:
    """Whom an event concerns, in words (CRM names as they are: plain() them for Markdown)."""
    if event["scope"] == "model":
        return say("scope.model", lang, name=model_label(event["value"], lang))
    if event["scope"] == "partner":
        pid = int(event["value"])
        return say("scope.partner", lang, name=partner_names.get(pid, f"#{pid}"))
    return say("scope.all", lang)


def short(text: str, limit: int = SHORT) -> str:
    """A title cut to fit beside its rule."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def value_text(kind: str, value: float | None, lang: str, currency: str = "RUB") -> str:
    """A metric's value by its kind (money, pct, days, num); money as on the KPI cards (2,9 млн ₽): a tooltip line."""
    if kind == "money":
        return fmt.money_short(value, lang, currency)
    if kind == "pct":
        return fmt.pct(value, lang)
    return fmt.num(value, lang, 1 if kind in ("days", "num1") else 0)


def _signed(kind: str, value: float, lang: str, currency: str) -> str:
    if kind == "pct":
        return fmt.signed_pp(value, lang)
    return ("+" if value >= 0 else "\u2212") + value_text(kind, abs(value), lang, currency)


def effect_sentence(effect: Effect, kind: str, unit: str, lang: str, currency: str = "RUB") -> str:
    """The before / after sentence: the two means over their periods and the difference with its 95 % interval,
    or why there is none (too few settled periods)."""
    n_b, n_a = len(effect.before), len(effect.after)
    if effect.too_few or effect.diff is None:
        return say("effect.too_few", lang, n_b=n_b, n_a=n_a, min=MIN_PERIODS)
    if kind == "num" and max(abs(effect.mean_before or 0), abs(effect.mean_after or 0)) < 10:
        kind = "num1"  # a few leads a month: 2,3 → 3,7, not 2 → 4
    return say("effect", lang, n_b=say(f"periods.{unit}", lang, n=n_b), n_a=say(f"periods.{unit}", lang, n=n_a),
               before=value_text(kind, effect.mean_before, lang, currency),
               after=value_text(kind, effect.mean_after, lang, currency),
               diff=_signed(kind, effect.diff, lang, currency), low=_signed(kind, effect.low, lang, currency),
               high=_signed(kind, effect.high, lang, currency))

"""The partner lifecycle in words, for the partners page, the meeting screens and the weekly report alike:
stage names, what each means, and the week's "new / woke up / fell asleep" line (metrics.lifecycle computes)."""

from __future__ import annotations

from collections.abc import Iterable

from presentation import fmt
from presentation.i18n import lookup

KINDS = ("new", "woke_up", "fell_asleep")  # metrics.lifecycle.WeekChanges' lists, in the order they are told

TEXT = {
    "ru": {
        "stage.recruited": "Подключён", "stage.first_lead": "Первый лид", "stage.first_deal": "Первая сделка",
        "stage.active": "Активен", "stage.cooling": "Остывает", "stage.dormant": "Уснул",
        "help.recruited": "Добавлен в справочник или впервые встретился в CRM, лидов пока нет.",
        "help.first_lead": "Лиды есть, выигранной сделки пока нет.",
        "help.first_deal": "Первая выигранная сделка закрыта за последние {active} дн.",
        "help.active": "Есть сделки и лид за последние {active} дн.",
        "help.cooling": "Есть сделки, но последний лид был {active}–{dormant} дн. назад: ещё не уснул.",
        "help.dormant": "Лиды были, но ни одного за последние {dormant} дн.",
        "kind.new": "Новые", "kind.woke_up": "Проснулись", "kind.fell_asleep": "Уснули",
        "week": "За неделю: новые — {new}; проснулись — {woke_up}; уснули — {fell_asleep}.",
        "nobody": "нет",
    },
    "en": {
        "stage.recruited": "Recruited", "stage.first_lead": "First lead", "stage.first_deal": "First deal",
        "stage.active": "Active", "stage.cooling": "Cooling", "stage.dormant": "Dormant",
        "help.recruited": "Added to the partner list or first seen in the CRM; no lead yet.",
        "help.first_lead": "Has leads, no won deal yet.",
        "help.first_deal": "Its first won deal closed within the last {active} days.",
        "help.active": "Has deals and a lead within the last {active} days.",
        "help.cooling": "Has deals, but the last lead came {active}–{dormant} days ago: not asleep yet.",
        "help.dormant": "Had leads, but none within the last {dormant} days.",
        "kind.new": "New", "kind.woke_up": "Woke up", "kind.fell_asleep": "Fell asleep",
        "week": "This week: new — {new}; woke up — {woke_up}; fell asleep — {fell_asleep}.",
        "nobody": "none",
    },
}


def stage_label(stage: str, lang: str) -> str:
    """A stage's name: «Уснул» / Dormant."""
    return lookup(TEXT, f"stage.{stage}", lang)


def stage_help(stage: str, lang: str, active: int, dormant: int) -> str:
    """What a stage means with the settings' days."""
    return lookup(TEXT, f"help.{stage}", lang, active=active, dormant=dormant)


def kind_label(kind: str, lang: str) -> str:
    """«Новые» / «Проснулись» / «Уснули»."""
    return lookup(TEXT, f"kind.{kind}", lang)


def names_text(names: Iterable[object], lang: str) -> str:
    """Partner names joined with commas (plain text, the caller escapes for Markdown), «нет» when none."""
    listed = [" ".join(str(n).split()) for n in names]
    return ", ".join(listed) if listed else lookup(TEXT, "nobody", lang)


def week_line(names: dict[str, Iterable[object]], lang: str, markdown: bool = False) -> str:
    """The week's sentence: new / woke up / fell asleep with the partners' names (Markdown-safe when asked)."""
    parts = {}
    for kind in KINDS:
        text = names_text(names.get(kind, ()), lang)
        parts[kind] = fmt.plain(text) if markdown else text
    return lookup(TEXT, "week", lang, **parts)

"""Events in words (presentation.events): the before / after sentence with its interval, the too-few-periods
sentence, and a rule change's title and what changed."""

from __future__ import annotations

from metrics.events import Effect
from presentation import events as words

NB = "\u00a0"


def test_the_before_after_sentence_names_both_means_and_the_interval() -> None:
    effect = Effect((10.0, 12.0, 14.0), (20.0, 24.0, 22.0), 12.0, 22.0, 10.0, 5.466, 14.534)
    assert words.effect_sentence(effect, "num", "month", "ru") == (
        "3 мес. до: 12 → 3 мес. после: 22; разница +10 (95 %: +5 … +15)")
    assert words.effect_sentence(effect, "money", "week", "en") == (
        "3 wk. before: ₽12 → 3 wk. after: ₽22; difference +₽10 (95 %: +₽5 … +₽15)")
    few = Effect((2.0, 2.5, 2.4), (3.0, 4.0, 4.1), 2.3, 3.7, 1.4, 0.2, 2.6)
    assert words.effect_sentence(few, "num", "month", "ru") == (
        "3 мес. до: 2,3 → 3 мес. после: 3,7; разница +1,4 (95 %: +0,2 … +2,6)")
    share = Effect((0.1, 0.12), (0.15, 0.17), 0.11, 0.16, 0.05, -0.01, 0.11)
    assert words.effect_sentence(share, "pct", "month", "ru").endswith(
        f"разница +5,0{NB}п.{NB}п. (95 %: \u22121,0{NB}п.{NB}п. … +11,0{NB}п.{NB}п.)")


def test_too_few_periods_is_said_with_the_counts_on_each_side() -> None:
    effect = Effect((10.0,), (20.0, 21.0), 10.0, 20.5, None, None, None)
    assert words.effect_sentence(effect, "num", "month", "ru") == (
        "Мало периодов, чтобы судить: до события 1, после 2 — нужно хотя бы 2 завершённых и созревших с каждой "
        "стороны.")
    assert words.effect_sentence(effect, "num", "month", "en").startswith("Too few periods to tell: 1 before")


def test_a_rule_change_in_words() -> None:
    event = {"kind": "rule", "subject": {"model": "referral", "partner_id": None, "partner": None,
                                         "kind": "percent_revenue", "rate": 0.12, "valid_from": "2026-01-01"},
             "change": {"action": "changed", "fields": {"rate": [0.1, 0.12]}}, "scope": "model", "value": "referral"}
    assert words.title(event, "ru") == f"Изменено правило комиссии: Реферальная, 12,0{NB}% от выручки"
    assert words.detail(event, "ru") == f"ставка: 10,0{NB}% → 12,0{NB}%"
    added = {**event, "change": {"action": "added"}}
    assert words.detail(added, "en") == "valid from Jan 1, 2026"
    assert words.short("Изменено правило комиссии: Реферальная") == "Изменено правило комисс…"

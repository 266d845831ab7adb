"""Clawback words for a page and a statement alike: reasons of a reversal, the partner's balance in one sentence."""

from __future__ import annotations

from presentation import fmt

TEXT: dict[str, dict[str, str]] = {
    "ru": {
        "reason.reopened": "сделка снова в работе", "reason.lost": "сделка проиграна", "reason.deleted": "сделка удалена",
        "reason.price_drop": "снижен бюджет сделки",
        "reason.rule_change": "пересчёт по правилам",
        "balance.owes": "Партнёр должен {amount}, удержится из следующей выплаты.",
        "balance.owed": "К выплате партнёру: {amount}.",
        "balance.zero": "Расчёты закрыты: никто никому не должен.",
        "carried": "Остаток с прошлого периода", "closing": "Остаток на конец периода",
        "title": "Сторно комиссии", "none": "Сторно в этом периоде нет.",
        "col.date": "Дата", "col.deal": "Сделка", "col.reason": "Причина", "col.amount": "Сумма сторно",
        "col.month": "Месяц начисления", "col.withheld": "Удержать с партнёра",
    },
    "en": {
        "reason.reopened": "deal reopened", "reason.lost": "deal lost", "reason.deleted": "deal deleted",
        "reason.price_drop": "deal amount lowered",
        "reason.rule_change": "recalculated by the rules",
        "balance.owes": "The partner owes {amount}; it will be withheld from the next payout.",
        "balance.owed": "Owed to the partner: {amount}.",
        "balance.zero": "Settled: nobody owes anything.",
        "carried": "Balance carried from before", "closing": "Balance at the end of the period",
        "title": "Commission reversals", "none": "No reversals in this period.",
        "col.date": "Date", "col.deal": "Deal", "col.reason": "Reason", "col.amount": "Reversed",
        "col.month": "Accrual month", "col.withheld": "To recover from partner",
    },
}


def say(lang: str, key: str, **kwargs: object) -> str:
    """A clawback word or sentence in RU (default) or EN."""
    text = TEXT["en" if lang == "en" else "ru"][key]
    return text.format(**kwargs) if kwargs else text


def reason(code: str, lang: str = "ru") -> str:
    """The words of a reversal's reason code (the code itself when unknown)."""
    key = f"reason.{code}"
    return say(lang, key) if key in TEXT["ru"] else code


def amount(x: float, lang: str = "ru", currency: str = "RUB") -> str:
    """A balance amount: whole roubles when whole (12 500 ₽), else with kopecks."""
    return fmt.money(x, lang, currency, digits=0 if abs(x - round(x)) < 0.005 else 2)


def balance_sentence(balance: float, lang: str = "ru", currency: str = "RUB") -> str:
    """The balance in words: the partner owes (negative), is owed (positive), or nobody owes."""
    if balance <= -0.005:
        return say(lang, "balance.owes", amount=amount(-balance, lang, currency))
    if balance >= 0.005:
        return say(lang, "balance.owed", amount=amount(balance, lang, currency))
    return say(lang, "balance.zero")

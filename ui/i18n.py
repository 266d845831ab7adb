"""Russian by default, English on switch. Each page keeps its own TEXT table; shared words live here."""

from __future__ import annotations

from typing import Literal

import streamlit as st

Lang = Literal["ru", "en"]
LANGS: tuple[Lang, ...] = ("ru", "en")

# Words every page needs. Page-specific strings live in the page module as TEXT = {"ru": {...}, "en": {...}}.
COMMON: dict[str, dict[str, str]] = {
    "ru": {
        "model.referral": "Реферальная", "model.sales": "Продажи (реселлеры)", "model.service": "Сервисная",
        "model.direct": "Прямые продажи", "model.unassigned": "Модель не задана",
        "band.excellent": "очень эффективна", "band.profitable": "прибыльна, есть резерв",
        "band.marginal": "на грани окупаемости", "band.loss": "убыточна", "band.n/a": "нет затрат",
        "too_few": "мало лидов", "empty": "Нет лидов для выбранных фильтров — расширьте период или снимите фильтры.",
        "category.commission": "Комиссия", "category.bonus": "Бонусы", "category.marketing": "Маркетинг",
        "category.training": "Обучение", "category.support": "Поддержка", "category.other": "Прочее",
        "category.computed_commission": "Комиссия по правилам",
    },
    "en": {
        "model.referral": "Referral", "model.sales": "Sales (resellers)", "model.service": "Service",
        "model.direct": "Direct sales", "model.unassigned": "Model not set",
        "band.excellent": "highly effective", "band.profitable": "profitable, room to grow",
        "band.marginal": "break-even", "band.loss": "loss-making", "band.n/a": "no costs",
        "too_few": "too few leads", "empty": "No leads match these filters — widen the period or clear filters.",
        "category.commission": "Commission", "category.bonus": "Bonuses", "category.marketing": "Marketing",
        "category.training": "Training", "category.support": "Support", "category.other": "Other",
        "category.computed_commission": "Commission by rules",
    },
}


def lang() -> Lang:
    """Current UI language (session state, mirrored from ?lang=)."""
    value = st.session_state.get("ui.lang") or st.query_params.get("lang", "ru")
    return "en" if value == "en" else "ru"


def tr(table: dict[str, dict[str, str]], key: str, **kwargs: object) -> str:
    """Look a key up in a page's TEXT table (then COMMON) for the current language; format with kwargs."""
    code = lang()
    text = table.get(code, {}).get(key) or COMMON[code].get(key) or table.get("ru", {}).get(key) or key
    return text.format(**kwargs) if kwargs else text


def t(key: str, **kwargs: object) -> str:
    """Look a shared word up in COMMON."""
    return tr({}, key, **kwargs)

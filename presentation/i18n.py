"""The shared words in RU and EN (COMMON) and the look-ups that take the language as an argument; ui.i18n reads the
session's language and calls these."""

from __future__ import annotations

from typing import Literal

Lang = Literal["ru", "en"]
LANGS: tuple[Lang, ...] = ("ru", "en")

# Words every page needs. Page-specific strings live in the page module as TEXT = {"ru": {...}, "en": {...}}.
COMMON: dict[str, dict[str, str]] = {
    "ru": {
        "model.referral": "Реферальная", "model.sales": "Продажи (реселлеры)", "model.service": "Сервисная",
        "model.direct": "Прямые продажи", "model.unassigned": "Модель не задана",
        "band.excellent": "очень эффективна", "band.profitable": "прибыльна, есть резерв",
        "band.marginal": "на грани окупаемости", "band.loss": "убыточна", "band.n/a": "нет затрат",
        "too_few": "мало лидов", "no_leads": "нет лидов",
        "no_leads.help": "За период нет ни одного лида, а затраты есть: они не окупаются (ROI −100 %).",
        "empty": "Нет лидов для выбранных фильтров — расширьте период или снимите фильтры.",
        "category.commission": "Комиссия", "category.bonus": "Бонусы", "category.marketing": "Маркетинг",
        "category.training": "Обучение", "category.support": "Поддержка", "category.other": "Прочее",
        "category.computed_commission": "Комиссия по правилам",
        "page.overview": "Обзор", "page.partners": "Партнёры", "page.models": "Модели партнёрства",
        "page.trends": "Тренды и мониторинг", "page.quality": "Качество лидов", "page.costs": "Затраты и комиссии",
        "page.what_if": "Что если", "page.forecast": "Прогноз и план", "page.reports": "Отчёты",
        "page.settings": "Настройки и синхронизация", "page.goals": "Цели программы",
        "page.portal": "Кабинет партнёра", "page.meeting": "Встреча",
        "metric.leads": "Лиды", "metric.qualified_leads": "Квалифицированные лиды", "metric.won_deals": "Сделки",
        "metric.conversion": "Конверсия", "metric.lead_to_qualified": "Лид → квалифицирован",
        "metric.qualified_to_won": "Квалифицирован → сделка", "metric.revenue": "Выручка",
        "metric.avg_check": "Средний чек", "metric.revenue_share": "Доля выручки", "metric.costs": "Затраты",
        "metric.income": "Доход", "metric.profit": "Прибыль", "metric.roi": "ROI", "metric.roi_band": "Оценка ROI",
        "metric.new_clients": "Новые клиенты", "metric.cpa": "CPA", "metric.ltv": "LTV",
        "metric.purchases_per_client": "Покупок на клиента", "metric.time_to_close_days": "Срок сделки, дней",
        "metric.quality_score": "Качество лида", "metric.junk_share": "Доля мусора",
        "young.maturing": "созревает: сделки ещё закрываются", "young.incomplete": "текущий месяц не закончен",
        "young.projection": "Прогноз при созревании",
        "glossary.name": "Показатель", "glossary.label": "Название", "glossary.description": "Что показывает",
        "glossary.unit": "Единица", "glossary.formula": "Формула", "glossary.where": "Где считается",
    },
    "en": {
        "model.referral": "Referral", "model.sales": "Sales (resellers)", "model.service": "Service",
        "model.direct": "Direct sales", "model.unassigned": "Model not set",
        "band.excellent": "highly effective", "band.profitable": "profitable, room to grow",
        "band.marginal": "break-even", "band.loss": "loss-making", "band.n/a": "no costs",
        "too_few": "too few leads", "no_leads": "no leads",
        "no_leads.help": "No lead at all in the period while there are costs: they earn nothing back (ROI −100 %).",
        "empty": "No leads match these filters — widen the period or clear filters.",
        "category.commission": "Commission", "category.bonus": "Bonuses", "category.marketing": "Marketing",
        "category.training": "Training", "category.support": "Support", "category.other": "Other",
        "category.computed_commission": "Commission by rules",
        "page.overview": "Overview", "page.partners": "Partners", "page.models": "Partnership models",
        "page.trends": "Trends & monitoring", "page.quality": "Lead quality", "page.costs": "Costs & commissions",
        "page.what_if": "What-if", "page.forecast": "Forecast & plan", "page.reports": "Reports",
        "page.settings": "Settings & sync", "page.goals": "Program goals",
        "page.portal": "Partner portal", "page.meeting": "Meeting",
        "metric.leads": "Leads", "metric.qualified_leads": "Qualified leads", "metric.won_deals": "Won deals",
        "metric.conversion": "Conversion", "metric.lead_to_qualified": "Lead → qualified",
        "metric.qualified_to_won": "Qualified → won", "metric.revenue": "Revenue",
        "metric.avg_check": "Average check", "metric.revenue_share": "Revenue share", "metric.costs": "Costs",
        "metric.income": "Income", "metric.profit": "Profit", "metric.roi": "ROI", "metric.roi_band": "ROI band",
        "metric.new_clients": "New clients", "metric.cpa": "CPA", "metric.ltv": "LTV",
        "metric.purchases_per_client": "Purchases per client", "metric.time_to_close_days": "Days to close",
        "metric.quality_score": "Lead quality", "metric.junk_share": "Junk share",
        "young.maturing": "maturing: deals are still closing", "young.incomplete": "current month not over",
        "young.projection": "Projection at maturity",
        "glossary.name": "Metric", "glossary.label": "Label", "glossary.description": "What it tells",
        "glossary.unit": "Unit", "glossary.formula": "Formula", "glossary.where": "Where computed",
    },
}


def lookup(table: dict[str, dict[str, str]], key: str, lang: str, **kwargs: object) -> str:
    """Look a key up in a page's TEXT table (then COMMON, then the table's Russian) in lang (en, else ru); format
    with kwargs."""
    code = "en" if lang == "en" else "ru"
    text = table.get(code, {}).get(key) or COMMON[code].get(key) or table.get("ru", {}).get(key) or key
    return text.format(**kwargs) if kwargs else text


def word(key: str, lang: str, **kwargs: object) -> str:
    """Look a shared word up in COMMON."""
    return lookup({}, key, lang, **kwargs)


def model_label(model: str | None, lang: str) -> str:
    """Name of a partnership model in lang (referral, sales, service, direct, unassigned)."""
    return word(f"model.{model or 'unassigned'}", lang)


def band_label(band: str | None, lang: str) -> str:
    """ROI band label in lang (excellent, profitable, marginal, loss, n/a)."""
    return word(f"band.{band or 'n/a'}", lang)


def metric_label(name: str, lang: str) -> str:
    """Label of a metric: the metric registry's when it has one, else the shared table."""
    entry = registry_entry(name)
    label = registry_text(entry, "label", lang) if entry is not None else None
    return label or word(f"metric.{name}", lang)


def metric_help(name: str, lang: str) -> str | None:
    """One-line description of a metric from the registry, in lang (None if unknown)."""
    entry = registry_entry(name)
    return registry_text(entry, "description", lang) if entry is not None else None


def registry_entry(name: str) -> object | None:
    """The metric registry's entry of a metric (None when the registry or the metric is not there)."""
    try:
        from metrics import registry  # optional until the registry lands; labels fall back to COMMON
    except ImportError:
        return None
    return getattr(registry, "METRICS", {}).get(name)


def registry_text(entry: object, field: str, lang: str) -> str | None:
    """Read label/description from a registry entry shaped as an object or dict, per language."""
    for attr in (f"{field}_{lang}", field):
        value = entry.get(attr) if isinstance(entry, dict) else getattr(entry, attr, None)
        if isinstance(value, dict):
            value = value.get(lang) or value.get("ru")
        if isinstance(value, str) and value:
            return value
    return None

"""Words of the reports in RU and EN; metric labels come from the metric registry (then presentation.i18n's
shared table)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from presentation.i18n import COMMON, registry_entry, registry_text

TEXT: dict[str, dict[str, str]] = {
    "ru": {
        "app": "Partner ROI",
        "view.title": "Эффективность партнёров", "statement.title": "Выписка партнёра",
        "weekly.title": "Недельный отчёт", "period": "Период", "filters": "Фильтры", "source": "Источник данных",
        "generated": "Сформировано", "all": "все", "view": "Сделки", "view.cohort": "по дате создания лида",
        "view.close": "по дате закрытия", "partners": "Партнёры", "models": "Модели", "pipelines": "Воронки",
        "sources": "Источники",
        "t.kpis": "Показатели", "t.partners": "Партнёры", "t.models": "Модели", "t.costs": "Затраты",
        "t.monthly": "По месяцам", "t.deals": "Лиды и сделки", "t.summary": "Итоги", "t.deltas": "Неделя к неделе",
        "t.movers": "Главные изменения", "t.bands": "Смена оценки ROI", "t.anomalies": "Аномалии", "t.goals": "Цели, которые отстают",
        "t.lifecycle": "Жизненный цикл за неделю", "col.change_kind": "Что произошло",
        "col.stage_before": "Этап в начале недели", "col.stage": "Этап в конце недели",
        "col.last_lead": "Последний лид", "col.leads": "Лидов всего",
        "col.target": "Цель", "col.pace": "Темп к концу периода", "col.until": "Срок", "t.series": "По неделям",
        "col.metric": "Показатель", "col.z": "Отклонение, σ", "col.value": "Значение", "col.unit": "Ед.", "col.partner": "Партнёр",
        "col.model": "Модель", "col.period": "Месяц", "col.category": "Категория", "col.amount": "Сумма",
        "col.too_few": "Мало лидов", "col.lead_id": "№ сделки", "col.lead_name": "Сделка",
        "col.created_date": "Создана", "col.closed_date": "Закрыта", "col.deal_amount": "Сумма сделки",
        "col.commission": "Комиссия", "col.basis": "Основание", "col.status": "Статус",
        "col.this_week": "Эта неделя", "col.last_week": "Прошлая неделя", "col.change": "Изменение",
        "col.change_pct": "Изменение, %", "col.week": "Неделя", "col.band_before": "Было", "col.band_now": "Стало",
        "col.roi_before": "ROI было", "col.roi_now": "ROI стало", "col.expected": "Обычно",
        "col.actual": "Факт", "col.direction": "Отклонение", "col.series": "Ряд", "col.roi_lo": "ROI, от",
        "col.roi_hi": "ROI, до", "col.days_unit": "дн.", "col.qualified": "Квалиф.",
        "col.costs_ledger": "Затраты по реестру", "col.costs_commission": "Комиссия по правилам",
        "yes": "да", "no": "нет", "up": "выше нормы", "down": "ниже нормы", "total": "Все",
        "status.won": "выиграна", "status.open": "в работе", "status.lost": "проиграна",
        "status.maturing": "созревает: сделки ещё закрываются", "status.incomplete": "текущий месяц не закончен",
        "col.projected_revenue": "Выручка при созревании (прогноз)",
        "col.projected_revenue_low": "Прогноз выручки, от (80 %)", "col.projected_revenue_high": "Прогноз выручки, до (80 %)",
        "col.before": "Период сравнения", "col.sample": "Выборка", "col.maturing": "Созревание",
        "col.roi_pooled_short": "ROI с учётом выборки",
        "chart.young_note": "Бледные столбцы — период ещё не завершён (оба столбца) или созревает: сделки его лидов "
                            "ещё закрываются (выручка); чёрная риска с отрезком — прогноз выручки при созревании и "
                            "его 80 % интервал. Бледные полосы ROI — партнёры, у которых мало лидов.",
        "chart.interval_note": "Отрезки на полосах — 95 % интервал ROI.",
        "s.leads": "Лиды", "s.qualified": "Квалифицированные лиды", "s.won": "Сделки",
        "s.revenue": "Выручка по сделкам", "s.computed": "Комиссия по правилам",
        "s.ledger_commission": "Комиссия по реестру затрат", "s.bonus": "Бонусы", "s.owed": "Итого к выплате",
        "s.note": "Выписка по партнёру «{name}» за период {period}. Сделки учтены {view}.",
        "s.no_deals": "В этом периоде выигранных сделок нет.",
        "chart.revenue_costs": "Выручка и затраты по месяцам", "chart.roi_partners": "ROI по партнёрам",
        "chart.roi_models": "ROI по моделям", "chart.revenue": "Выручка", "chart.costs": "Затраты",
        "chart.leads_weekly": "Лиды по неделям",
        "w.week": "Неделя {period} (сравнение с {previous})",
        "w.bands_note": "Оценка ROI за 4 недели, кончая этой и прошлой неделей. «Мало лидов» — меньше "
                        "порога в одном из окон: смена оценки может быть шумом.",
        "w.anomaly_note": "{rule}",
        "w.none": "Нет.", "w.subject": "Partner ROI: недельный отчёт за {period}",
        "w.body": "Недельный отчёт Partner ROI за {period} — во вложении (PDF и Excel).\n\n{lines}\n",
        "w.leads_line": "Лиды: {now} ({delta} к прошлой неделе)",
        "w.revenue_line": "Выручка: {now} ({delta} к прошлой неделе)",
        "w.roi_line": "ROI: {now}",
        "w.maturing": "Неделя ещё созревает: сделки её лидов ещё закрываются, поэтому сделки, выручка и ROI недели "
                      "пока ниже итоговых (прогноз при созревании — на странице «Тренды»); пустые точки графика — "
                      "созревающие недели.",
    },
    "en": {
        "app": "Partner ROI",
        "view.title": "Partner performance", "statement.title": "Partner statement",
        "weekly.title": "Weekly report", "period": "Period", "filters": "Filters", "source": "Data source",
        "generated": "Generated", "all": "all", "view": "Deals", "view.cohort": "by lead creation date",
        "view.close": "by close date", "partners": "Partners", "models": "Models", "pipelines": "Pipelines",
        "sources": "Sources",
        "t.kpis": "KPIs", "t.partners": "Partners", "t.models": "Models", "t.costs": "Costs",
        "t.monthly": "Monthly", "t.deals": "Leads and deals", "t.summary": "Summary", "t.deltas": "Week over week",
        "t.movers": "Top movers", "t.bands": "ROI band changes", "t.anomalies": "Anomalies", "t.goals": "Goals off track",
        "t.lifecycle": "Partner lifecycle this week", "col.change_kind": "What happened",
        "col.stage_before": "Stage at the week's start", "col.stage": "Stage at its end",
        "col.last_lead": "Last lead", "col.leads": "Leads in total",
        "col.target": "Target", "col.pace": "Pace to period end", "col.until": "Due", "t.series": "Weekly series",
        "col.metric": "Metric", "col.z": "Deviation, σ", "col.value": "Value", "col.unit": "Unit", "col.partner": "Partner",
        "col.model": "Model", "col.period": "Month", "col.category": "Category", "col.amount": "Amount",
        "col.too_few": "Too few leads", "col.lead_id": "Deal #", "col.lead_name": "Deal",
        "col.created_date": "Created", "col.closed_date": "Closed", "col.deal_amount": "Deal amount",
        "col.commission": "Commission", "col.basis": "Basis", "col.status": "Status",
        "col.this_week": "This week", "col.last_week": "Last week", "col.change": "Change",
        "col.change_pct": "Change, %", "col.week": "Week", "col.band_before": "Before", "col.band_now": "Now",
        "col.roi_before": "ROI before", "col.roi_now": "ROI now", "col.expected": "Usual",
        "col.actual": "Actual", "col.direction": "Deviation", "col.series": "Series", "col.roi_lo": "ROI from",
        "col.roi_hi": "ROI to", "col.days_unit": "days", "col.qualified": "Qualified",
        "col.costs_ledger": "Ledger costs", "col.costs_commission": "Commission by rules",
        "yes": "yes", "no": "no", "up": "above usual", "down": "below usual", "total": "All",
        "status.won": "won", "status.open": "open", "status.lost": "lost",
        "status.maturing": "maturing: deals still closing", "status.incomplete": "current month not finished",
        "col.projected_revenue": "Revenue at maturity (projected)",
        "col.projected_revenue_low": "Projected revenue, from (80 %)", "col.projected_revenue_high": "Projected revenue, to (80 %)",
        "col.before": "Comparison period", "col.sample": "Sample", "col.maturing": "Maturity",
        "col.roi_pooled_short": "ROI adjusted for sample",
        "chart.young_note": "Pale bars: the period is not over yet (both bars) or still maturing — its leads' deals are "
                            "still closing (revenue); the black tick with its line is the revenue projected at maturity "
                            "and its 80 % interval. Pale ROI bars: partners with too few leads.",
        "chart.interval_note": "The lines on the bars are the 95 % ROI interval.",
        "s.leads": "Leads", "s.qualified": "Qualified leads", "s.won": "Won deals",
        "s.revenue": "Revenue from deals", "s.computed": "Commission by rules",
        "s.ledger_commission": "Commission (cost ledger)", "s.bonus": "Bonuses", "s.owed": "Total owed",
        "s.note": "Statement for partner \"{name}\" for {period}. Deals counted {view}.",
        "s.no_deals": "No won deals in this period.",
        "chart.revenue_costs": "Revenue and costs by month", "chart.roi_partners": "ROI by partner",
        "chart.roi_models": "ROI by model", "chart.revenue": "Revenue", "chart.costs": "Costs",
        "chart.leads_weekly": "Leads by week",
        "w.week": "Week {period} (compared with {previous})",
        "w.bands_note": "ROI band over the 4 weeks ending this week and over the 4 weeks ending last week. "
                        "\"Too few leads\" in either window means the change may be noise.",
        "w.anomaly_note": "{rule}",
        "w.none": "None.", "w.subject": "Partner ROI: weekly report for {period}",
        "w.body": "The Partner ROI weekly report for {period} is attached (PDF and Excel).\n\n{lines}\n",
        "w.leads_line": "Leads: {now} ({delta} vs last week)",
        "w.revenue_line": "Revenue: {now} ({delta} vs last week)",
        "w.roi_line": "ROI: {now}",
        "w.maturing": "The week is still maturing: its leads' deals are still closing, so its deals, revenue and ROI are "
                      "below their final values for now (the projection at maturity is on the Trends page); hollow points "
                      "on the chart are maturing weeks.",
    },
}


def say(lang: str, key: str, **kwargs: Any) -> str:
    """A report string in RU or EN, formatted with kwargs."""
    code = "en" if lang == "en" else "ru"
    text = TEXT[code].get(key) or TEXT["ru"].get(key) or key
    return text.format(**kwargs) if kwargs else text


def _common(lang: str) -> dict[str, str]:
    return COMMON["en" if lang == "en" else "ru"]  # the shared table of model, band, category and metric words


def _registry_label(name: str, lang: str) -> str | None:
    entry = registry_entry(name)
    return registry_text(entry, "label", lang) if entry is not None else None


def metric_label(name: str, lang: str) -> str:
    """Label of a metric: the registry's, else the shared table, else the report table, else the name."""
    return (_registry_label(name, lang) or _common(lang).get(f"metric.{name}")
            or TEXT["en" if lang == "en" else "ru"].get(f"col.{name}") or name)


def model_label(model: str | None, lang: str) -> str:
    """Name of a partnership model."""
    return _common(lang).get(f"model.{model or 'unassigned'}", str(model))


def few_word(lang: str) -> str:
    """The dashboard's "мало лидов" mark (presentation.i18n's shared word)."""
    return _common(lang)["too_few"]


def sample_mark(too_few: object, leads: object, costs: object, lang: str) -> str:
    """The leaderboard's sample note: "нет лидов" (costs, no lead), "мало лидов" (metrics' too_few), else empty."""
    if _number(leads) == 0 and _number(costs) > 0:
        return _common(lang)["no_leads"]
    return few_word(lang) if not pd.isna(too_few) and bool(too_few) else ""


def _number(value: object) -> float:
    number = pd.to_numeric(value, errors="coerce")
    return 0.0 if pd.isna(number) else float(number)


def band_label(band: str | None, lang: str) -> str:
    """ROI band label."""
    return _common(lang).get(f"band.{band or 'n/a'}", str(band))


def category_label(category: str, lang: str) -> str:
    """Cost category label."""
    return _common(lang).get(f"category.{category}", category)

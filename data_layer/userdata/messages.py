"""Every sentence of user data and of a cost file's import, in Russian and English: message code -> text.

`MESSAGES` is the table `Problem.text` reads: the sentences below (user data; a cost file's header and
lines, which `data_layer.costs_io` raises) and those of amount text, which `data_layer.numbers` keeps beside
its parser. A module with sentences of its own (`costs_read`, `costs_limits`, `plausibility`) keeps them in a
table of its own made by `extended` and words its problems with a `Problem` subclass that reads it: nothing is
ever added to this table, so no import can change what a user reads.
"""

from __future__ import annotations

from data_layer.numbers import MESSAGES as NUMBER_MESSAGES

# code -> sentence: what is wrong and what to do. Parameters are formatted in with str.format.
_OWN: dict[str, dict[str, str]] = {
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
        # a cost file's header and lines (data_layer.costs_io)
        "header.missing": "Нет столбцов: {columns} — заголовок должен быть partner,month,category,amount "
                          "(или партнёр, месяц, категория, сумма).",
        "header.unknown": "Неизвестные столбцы: {columns} — оставьте только partner, month, category, amount "
                          "и, при желании, note.",
        "header.duplicate": "Столбец «{column}» указан дважды — оставьте один.",
        "row.extra": "В строке {n} значений, а столбцов {m} — уберите лишние значения или заключите текст "
                     "с разделителем в кавычки.",
        "import.partner_unknown": "Партнёр «{partner}» не найден — добавьте его в справочник партнёров или "
                                  "разрешите создание новых партнёров (--create-partners).",
        "import.duplicate": "Партнёр «{partner}», {month}, {category} встречается несколько раз (строки {lines}) — "
                            "оставьте одну строку или сложите суммы.",
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
        # a cost file's header and lines (data_layer.costs_io)
        "header.missing": "Missing columns: {columns}: the header must be partner,month,category,amount.",
        "header.unknown": "Unknown columns: {columns}: keep only partner, month, category, amount and optionally "
                          "note.",
        "header.duplicate": "The column “{column}” appears twice: keep one.",
        "row.extra": "The line has {n} values but there are {m} columns: remove the extra values or quote text "
                     "that contains the delimiter.",
        "import.partner_unknown": "Partner “{partner}” is not known: add it to the partners list or allow "
                                  "creating new partners (--create-partners).",
        "import.duplicate": "Partner “{partner}”, {month}, {category} appears more than once (lines {lines}): "
                            "keep one row or add the amounts up.",
    },
}


# amount-text messages live beside their parser
MESSAGES: dict[str, dict[str, str]] = {
    lang: {**texts, **NUMBER_MESSAGES.get(lang, {})} for lang, texts in _OWN.items()}


def extended(own: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """A new table: these sentences plus a module's own (the same codes in every language, none of them ours)."""
    if {lang: set(texts) for lang, texts in own.items()} != {lang: set(own["en"]) for lang in MESSAGES}:
        raise ValueError("a module's sentences need the same codes in every language, and every language")
    clash = sorted(set(own["en"]) & set(MESSAGES["en"]))
    if clash:
        raise ValueError(f"codes already worded by data_layer.userdata: {', '.join(clash)}")
    return {lang: {**texts, **own[lang]} for lang, texts in MESSAGES.items()}

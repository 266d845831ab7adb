"""Who the demo is about: its partners (with the economics each should show), direct leads, client names."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODEL_CODES = {"direct": 0, "referral": 1, "sales": 2, "service": 3}
CLOSE_MEDIAN_DAYS = np.array([12.0, 16.0, 24.0, 32.0])  # won deals by model code
SERVICE_PIPELINE_SHARE = np.array([0.15, 0.08, 0.10, 0.75])  # share of leads in «Сервис» by model code

MALE_FIRST = ["Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Артём", "Илья", "Кирилл",
              "Михаил", "Никита", "Роман", "Евгений", "Владимир", "Павел", "Игорь", "Олег", "Константин",
              "Денис", "Антон"]
FEMALE_FIRST = ["Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Екатерина", "Светлана",
                "Юлия", "Анастасия", "Дарья", "Ксения", "Марина", "Виктория", "Алина", "Полина", "Вера",
                "Людмила", "Софья"]
LAST_NAMES = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
              "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов",
              "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров"]
PERSON_NAMES = ([(f, ln) for f in MALE_FIRST for ln in LAST_NAMES]
                + [(f, ln + "а") for f in FEMALE_FIRST for ln in LAST_NAMES])
PERSON_FULL = np.array([f"{f} {ln}" for f, ln in PERSON_NAMES], dtype=object)
COMPANY_WORDS = ["Ромашка", "Вектор", "Гранит", "Север", "Меридиан", "Восход", "Стройинвест", "ТехноПарк",
                 "Альянс", "Орион", "Базис", "Прогресс", "Горизонт", "Эталон", "Спектр", "Фаворит", "Капитал",
                 "Магистраль", "Лидер", "Агроресурс"]
COMPANY_NAMES = np.array([form.format(w) for form in ("ООО «{}»", "АО «{}»", "ГК «{}»", "ООО «{} Групп»")
                          for w in COMPANY_WORDS], dtype=object)


@dataclass(frozen=True)
class PartnerSpec:
    """One demo partner and the economics it is meant to show."""

    name: str
    slug: str                   # UTM source and alias
    model: str                  # the model the partner really has (what the user ends up with)
    crm_model: str | None       # the label the CRM field carries (None = no label)
    share: float                # relative weight among regular partners; for tiny ones: leads per year
    conv: float                 # won share of its leads
    junk: float                 # junk share (lost as Спам / Дубль / Нецелевой)
    check: float                # mean deal, RUB
    roi: float                  # intended ROI over the whole range
    story: str                  # one line for people reading the demo
    start_offset: int = 0       # > 0: a new partner, active only in the last N months
    end_offset: int = 0         # > 0: stopped N months before the end (inactive)
    tiny: bool = False
    trend: float = 0.0          # volume change over the range (+0.5 = grows by half)
    phone: float = 0.92
    email: float = 0.65
    junk_mix: tuple[float, float, float] = (1.0, 1.0, 1.0)  # Спам, Дубль, Нецелевой
    spike: bool = False         # junk doubles and conversion halves in the last two months (an anomaly)


SPECS: list[PartnerSpec] = [
    PartnerSpec("ООО Альфа-Интеграция", "alfa-integration", "referral", "referral", 10, 0.22, 0.04, 72_000,
                2.6, "крупный реферальный партнёр, очень выгоден", trend=0.3, phone=0.97, email=0.8),
    PartnerSpec("ИП Смирнов", "smirnov", "referral", "referral", 5, 0.18, 0.05, 62_000, 1.2,
                "стабильный, прибыльный"),
    PartnerSpec("Digital Partners", "digital-partners", "referral", "referral", 9, 0.06, 0.28, 55_000, -0.45,
                "много спама, убыточен; всплеск мусора в последние месяцы", phone=0.6, email=0.5,
                junk_mix=(6, 2, 2), spike=True),
    PartnerSpec("Лидогенератор Про", "leadgen-pro", "referral", "referral", 12, 0.05, 0.35, 60_000, -0.6,
                "объём растёт, но лиды нецелевые — сильно убыточен", trend=0.6, phone=0.75, email=0.4,
                junk_mix=(1, 3, 5)),
    PartnerSpec("Блог «Бизнес-Процессы»", "bp-blog", "referral", "referral", 3, 0.12, 0.08, 58_000, 0.3,
                "на грани окупаемости, прекратил работу", end_offset=5),
    PartnerSpec("=Формула Роста", "formula-rosta", "referral", "referral", 4, 0.15, 0.06, 68_000, 0.8,
                "прибылен"),
    PartnerSpec("Клуб предпринимателей «Вектор»", "club-vector", "referral", "referral", 4, 0.26, 0.03, 80_000,
                1.8, "качественные лиды, высокая конверсия", email=0.85),
    PartnerSpec("Telegram-канал «Продажи 360»", "tg-sales360", "referral", "referral", 5, 0.10, 0.15, 50_000,
                -0.3, "новый партнёр, пока не окупился", start_offset=3),
    PartnerSpec("ИП Кузнецова А. В.", "kuznetsova", "referral", "referral", 14, 0.20, 0.05, 70_000, 0.5,
                "маленький партнёр (< 30 лидов в год)", tiny=True),
    PartnerSpec("ИП Орлов", "orlov", "referral", "referral", 9, 0.10, 0.05, 55_000, -0.2,
                "маленький партнёр (< 30 лидов в год)", tiny=True),
    PartnerSpec("ООО «ТехноСбыт»", "tehnosbyt", "sales", "sales", 9, 0.30, 0.03, 165_000, 1.5,
                "крупный реселлер, прибылен"),
    PartnerSpec("Партнёр <Север>", "partner-sever", "sales", "sales", 5, 0.20, 0.05, 140_000, 0.6,
                "прибылен, есть резерв"),
    PartnerSpec("ООО «Реселлер-М»", "reseller-m", "sales", "sales", 6, 0.09, 0.10, 120_000, -0.25,
                "низкая конверсия, дорогие бонусы — убыточен"),
    PartnerSpec("ГК «Омега»", "omega-group", "sales", "sales", 4, 0.36, 0.02, 190_000, 3.0,
                "лучший реселлер по зачтённой выручке, но почти все его клиенты уже приходили к нам напрямую"),
    PartnerSpec("ООО «Восток-Софт»", "vostok-soft", "sales", "sales", 4, 0.14, 0.06, 130_000, -0.5,
                "новый реселлер, затраты на запуск", start_offset=4),
    PartnerSpec("ИП Белов", "belov", "sales", "sales", 18, 0.25, 0.03, 150_000, 0.9,
                "маленький партнёр (< 30 лидов в год)", tiny=True),
    PartnerSpec("ООО «Маркет Плюс»", "market-plus", "sales", "referral", 4, 0.16, 0.06, 125_000, 0.15,
                "в CRM записан как реферальный, пользователь исправил на продажи; на грани окупаемости"),
    PartnerSpec("Sigma Solutions", "sigma", "sales", None, 3, 0.22, 0.04, 155_000, 0.7,
                "модель в CRM не указана, задана пользователем"),
    PartnerSpec("ООО «Сервис-Лаб»", "service-lab", "service", "service", 6, 0.28, 0.03, 340_000, 2.2,
                "сервисный партнёр, очень выгоден"),
    PartnerSpec("ТехСервис Плюс", "techservice-plus", "service", "service", 4, 0.24, 0.04, 300_000, 0.9,
                "своё правило комиссии (12 %)"),
    PartnerSpec("ООО «Интегратор 1С-Про»", "integrator-1c", "service", "service", 4, 0.15, 0.06, 260_000, -0.15,
                "дорогие обучение и поддержка — убыточен"),
    PartnerSpec("CRM Masters", "crm-masters", "service", "service", 3, 0.38, 0.02, 380_000, 4.0,
                "самый выгодный партнёр"),
    PartnerSpec("ООО «Внедрение и Поддержка»", "vnedrenie", "service", "service", 3, 0.12, 0.05, 280_000, -0.7,
                "новый сервисный партнёр, пока убыточен", start_offset=2),
    PartnerSpec("ИП Волкова Е. С.", "volkova", "service", "service", 11, 0.30, 0.03, 250_000, 1.0,
                "маленький партнёр (< 30 лидов в год)", tiny=True),
    PartnerSpec("АйТи Гарант", "it-garant", "service", "sales", 3, 0.20, 0.05, 270_000, 0.4,
                "в CRM записан как продажи, пользователь исправил на услуги"),
]
DIRECT_CONV, DIRECT_JUNK, DIRECT_CHECK, DIRECT_PHONE, DIRECT_EMAIL = 0.16, 0.07, 95_000, 0.9, 0.6

NP = len(SPECS)
# Per-partner parameter arrays; index 0 is direct.
P_NAME = np.array(["", *[s.name for s in SPECS]], dtype=object)
P_SLUG = np.array(["", *[s.slug for s in SPECS]], dtype=object)
P_MODEL = np.array([0, *[MODEL_CODES[s.model] for s in SPECS]])
P_CONV = np.array([DIRECT_CONV, *[s.conv for s in SPECS]])
P_JUNK = np.array([DIRECT_JUNK, *[s.junk for s in SPECS]])
P_CHECK = np.array([DIRECT_CHECK, *[s.check for s in SPECS]], dtype=float)
P_PHONE = np.array([DIRECT_PHONE, *[s.phone for s in SPECS]])
P_EMAIL = np.array([DIRECT_EMAIL, *[s.email for s in SPECS]])
P_SPIKE = np.array([False, *[s.spike for s in SPECS]])
P_HAS_CRM_MODEL = np.array([False, *[s.crm_model is not None for s in SPECS]])
P_JUNK_CUM = np.array([np.cumsum(m) / sum(m) for m in [(1.0, 1.0, 1.0), *[s.junk_mix for s in SPECS]]])

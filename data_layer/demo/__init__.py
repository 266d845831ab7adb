"""Embedded demo account: a realistic amoCRM account generated deterministically and loaded like a sync.

One vectorised core (``_draw_block``) draws every random number as numpy arrays per block of leads. The
record path formats those arrays into API-shaped dicts (amoCRM API v4) and loads them through
``normalise`` + ``save.save_batch``, exactly as the sync does; the bulk path (large sizes) turns the same
arrays straight into raw-table DataFrames. Both paths therefore produce identical tables for the same
(n_leads, seed, end_date).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd

from data_layer import normalise, save, store, userdata

# ---------------------------------------------------------------- account constants

ACCOUNT_ID = 29887766
SUBDOMAIN = "demo-primer"
BASE_URL = f"https://{SUBDOMAIN}.amocrm.ru"
ACCOUNT_NAME = "Демо-аккаунт (ООО «Пример»)"
TIMEZONE = "Europe/Moscow"
TZ = ZoneInfo(TIMEZONE)
MONTHS = 24
GEN_BLOCK = 50_000        # leads per generation block; fixed so that every path draws the same numbers
RECORD_CHUNK = 5_000      # leads per transaction on the record path (the sync's window size)
BULK_THRESHOLD = 100_000  # above this many leads the bulk path is used
LEAD_ID_BASE = 31_000_000
CONTACT_ID_BASE = 44_000_000
COMPANY_ID_BASE = 45_000_000
REPEAT_RATE = 0.06        # share of leads that are a known client coming back (~15 % of clients buy again)
REPEAT_WIN = 0.55
SCALE_LEADS = 20_000      # the default size; fixed costs scale with n_leads / SCALE_LEADS

# Users: (id, name, email, active, role). Сергей Павлов left after ten months; Юлия Егорова replaced him.
USERS = [
    (9043301, "Анна Ковалёва", "a.kovaleva@primer.ru", True, "admin"),
    (9043310, "Игорь Лебедев", "i.lebedev@primer.ru", True, "sales"),
    (9043311, "Мария Никитина", "m.nikitina@primer.ru", True, "sales"),
    (9043312, "Олег Фёдоров", "o.fedorov@primer.ru", True, "sales"),
    (9043313, "Сергей Павлов", "s.pavlov@primer.ru", False, "sales"),
    (9043314, "Юлия Егорова", "y.egorova@primer.ru", True, "sales"),
    (9043320, "Алексей Воронин", "a.voronin@primer.ru", True, "service"),
    (9043321, "Татьяна Зайцева", "t.zaytseva@primer.ru", True, "service"),
    (9043330, "Екатерина Соколова", "e.sokolova@primer.ru", True, "partners"),
    (9043331, "Дмитрий Морозов", "d.morozov@primer.ru", True, "partners"),
]
ADMIN_ID = 9043301
LEAVER_MONTHS = 10
SALES_SLOTS = np.array([9043310, 9043311, 9043312, 9043313])  # slot 3 goes to 9043314 after the leaver left
SALES_NEWCOMER = 9043314
SERVICE_USERS = np.array([9043320, 9043321])
PARTNER_MANAGERS = ("Екатерина Соколова", "Дмитрий Морозов")

# Pipelines: (id, name, sort, is_main, statuses [(id, name, colour)]); the first status is "incoming" (type 1).
MAIN_PIPELINE = 7112034
SERVICE_PIPELINE = 7112090
PIPELINES = [
    (MAIN_PIPELINE, "Продажи", 1, True, [
        (59230001, "Неразобранное", "#c1c1c1"), (59230004, "Первичный контакт", "#99ccff"),
        (59230007, "Квалификация", "#ffff99"), (59230010, "Презентация и КП", "#ffcc66"),
        (59230013, "Переговоры", "#ff9966"), (59230016, "Договор и счёт", "#87f2c0")]),
    (SERVICE_PIPELINE, "Сервис", 2, False, [
        (59230101, "Неразобранное", "#c1c1c1"), (59230104, "Заявка принята", "#fffeb2"),
        (59230107, "Диагностика", "#ccc8f9"), (59230110, "Работы выполняются", "#deff81")]),
]
REGULAR = np.array([len(p[4]) - 1 for p in PIPELINES])          # regular stages per pipeline (5, 3)
# Stage by position: 0 incoming, 1..k regular, k+1 won (142), k+2 lost (143); padded with 0.
STATUS = np.zeros((len(PIPELINES), int(REGULAR.max()) + 3), dtype=np.int64)
for _i, _p in enumerate(PIPELINES):
    STATUS[_i, :len(_p[4])] = [s[0] for s in _p[4]]
    STATUS[_i, len(_p[4]):len(_p[4]) + 2] = [142, 143]
PIPELINE_IDS = np.array([p[0] for p in PIPELINES])
# Where lost (non-junk) leads stopped, by regular stage: most drop out early.
LOST_DEPTH = {5: [0.40, 0.25, 0.15, 0.12, 0.08], 3: [0.5, 0.3, 0.2]}

LOSS_REASONS = [  # (id, name, junk)
    (88120, "Дорого", False), (88121, "Выбрали конкурента", False), (88122, "Не выходит на связь", False),
    (88123, "Нет бюджета", False), (88124, "Не устроили сроки", False),
    (88125, "Спам", True), (88126, "Дубль", True), (88127, "Нецелевой", True),
]
NONJUNK_IDS = np.array([r[0] for r in LOSS_REASONS if not r[2]])
NONJUNK_CUM = np.cumsum([0.3, 0.25, 0.2, 0.15, 0.1])
JUNK_IDS = np.array([r[0] for r in LOSS_REASONS if r[2]])
DUPLICATE_REASON = 88126

# Sources of the integration (GET /api/v4/sources): (id, name, origin_code)
SRC_SITE, SRC_TG, SRC_WA, SRC_CALL, SRC_CABINET = 10101, 10102, 10103, 10104, 10105
SOURCES = [
    (SRC_SITE, "Сайт — форма заявки", "site_form"), (SRC_TG, "Telegram-бот", "telegram"),
    (SRC_WA, "WhatsApp", "whatsapp"), (SRC_CALL, "Входящий звонок (телефония)", "telephony"),
    (SRC_CABINET, "Партнёрский кабинет", "partner_portal"),
]
SOURCE_NAMES = {s[0]: s[1] for s in SOURCES}
LEAD_TITLES = {SRC_SITE: "Заявка с сайта", SRC_TG: "Чат в Telegram", SRC_WA: "Сообщение WhatsApp",
               SRC_CALL: "Входящий звонок", SRC_CABINET: "Заявка от партнёра", 0: "Сделка"}

# Lead custom fields: (id, name, code, type, sort)
F_PARTNER, F_MODEL, F_CLIENT, F_UTM_SOURCE, F_UTM_MEDIUM, F_UTM_CAMPAIGN = (
    1204501, 1204503, 1204505, 1198005, 1198006, 1198007)
FIELDS = [
    (F_PARTNER, "Партнёр", None, "select", 500),
    (F_MODEL, "Модель партнёрства", None, "select", 501),
    (F_CLIENT, "Тип клиента", None, "select", 502),
    (F_UTM_SOURCE, "utm_source", "UTM_SOURCE", "tracking_data", 600),
    (F_UTM_MEDIUM, "utm_medium", "UTM_MEDIUM", "tracking_data", 601),
    (F_UTM_CAMPAIGN, "utm_campaign", "UTM_CAMPAIGN", "tracking_data", 602),
    (1198008, "utm_content", "UTM_CONTENT", "tracking_data", 603),
    (1198009, "utm_term", "UTM_TERM", "tracking_data", 604),
]
FIELD_INDEX = {f[0]: i for i, f in enumerate(FIELDS)}
MODEL_LABELS = {"referral": (906001, "Реферальная"), "sales": (906002, "Продажи"),
                "service": (906003, "Услуги/сервис")}
CLIENT_REPEAT = (907002, "Повторный")
CLIENT_ENUMS = [(907001, "Новый"), CLIENT_REPEAT]
PARTNER_ENUM_BASE = 905001
# Direct UTM sources of form leads: (source, medium, campaign or None), weights.
DIRECT_UTM = [("yandex", "cpc", "brand_search"), ("yandex", "organic", None), ("google", "cpc", "generic_search"),
              ("vk", "social", "retarget_q"), ("telegram", "social", "channel_posts"),
              ("email", "email", "newsletter")]
DIRECT_UTM_CUM = np.cumsum([0.3, 0.2, 0.15, 0.15, 0.1, 0.1])

TAG_SITE, TAG_CALL, TAG_REPEAT, TAG_VIP = 50211, 50212, 50987, 50990
STATIC_TAGS = [(TAG_SITE, "сайт", None), (TAG_CALL, "звонок", None),
               (TAG_REPEAT, "повторная продажа", "FFC8C8"), (TAG_VIP, "VIP", "FFD700")]
PARTNER_TAG_BASE = 60001
CONTACT_PHONE_FIELD, CONTACT_EMAIL_FIELD = 1180001, 1180003

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
                "лучший реселлер"),
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
# Commission rules the demo ships with; partners of a model without a rule get ledger 'commission' rows.
REFERRAL_PER_QUALIFIED = 1_500.0
SALES_TIERS = [{"up_to": 1_000_000, "rate": 0.10}, {"up_to": None, "rate": 0.15}]
OVERRIDE_PARTNER, OVERRIDE_RATE = "ТехСервис Плюс", 0.12
CATEGORY_WEIGHTS = {
    "referral": {"marketing": 0.45, "bonus": 0.25, "other": 0.15, "support": 0.15},
    "sales": {"bonus": 0.30, "training": 0.20, "marketing": 0.25, "support": 0.15, "other": 0.10},
    "service": {"training": 0.35, "support": 0.30, "bonus": 0.15, "other": 0.10, "marketing": 0.10},
}
CATEGORY_NOTES = {"commission": "Вознаграждение по договору", "training": "Обучение менеджеров партнёра",
                  "marketing": "Совместный маркетинг", "bonus": "Бонус за выполнение плана",
                  "support": "Техподдержка и сопровождение", "other": "Прочие расходы"}

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


# ---------------------------------------------------------------- the plan: time grid and partner mix

@dataclass
class Plan:
    """Everything fixed by (n_leads, seed, end_date): the time grid and the partner mix per month."""

    n: int
    seed: int
    end_date: date
    now_ts: int | None = None  # the build instant: nothing happens after it (None: the whole of end_date)
    start_date: date = field(init=False)
    start_ts: int = field(init=False)
    horizon_ts: int = field(init=False)      # exclusive end: the build instant, else midnight after end_date
    month_ts: np.ndarray = field(init=False)  # MONTHS + 1 boundaries
    grid_ts: np.ndarray = field(init=False)   # hourly edges
    grid_cdf: np.ndarray = field(init=False)
    partner_cum: np.ndarray = field(init=False)  # [MONTHS, NP + 1] cumulative partner probabilities
    active: np.ndarray = field(init=False)       # [MONTHS, NP + 1] partner works that month (direct always)

    def __post_init__(self) -> None:
        """Build the time grid and the partner mix."""
        self.start_date = _add_months(self.end_date.replace(day=1), -(MONTHS - 1))
        self.start_ts = _ts(self.start_date)
        midnight = _ts(self.end_date + timedelta(days=1))
        self.horizon_ts = min(midnight, self.now_ts) if self.now_ts else midnight
        self.month_ts = np.array([_ts(_add_months(self.start_date, m)) for m in range(MONTHS)]
                                 + [self.horizon_ts], dtype=np.int64)
        self.grid_ts, self.grid_cdf = _cut_grid(*_time_grid(self.start_date, self.end_date), self.horizon_ts)
        self.partner_cum = np.cumsum(_partner_probs(self), axis=1)
        self.active = np.array([[True, *[_active(s, m) for s in SPECS]] for m in range(MONTHS)])

    @property
    def blocks(self) -> int:
        """Number of generation blocks."""
        return -(-self.n // GEN_BLOCK)

    def month_of(self, ts: np.ndarray) -> np.ndarray:
        """Month index (0 = first month of the range) of Unix timestamps."""
        return np.clip(np.searchsorted(self.month_ts, ts, side="right") - 1, 0, MONTHS - 1)

    def expected_per_month(self) -> np.ndarray:
        """Expected number of leads created in each month."""
        return self.n * np.diff(np.interp(self.month_ts, self.grid_ts, self.grid_cdf))


def account_today() -> date:
    """Today in the account's time zone (the default end of the demo data)."""
    return datetime.now(TZ).date()


def _ts(d: date) -> int:
    """Unix seconds of local midnight of a date in the account time zone."""
    return int(datetime(d.year, d.month, d.day, tzinfo=TZ).timestamp())


def _add_months(d: date, months: int) -> date:
    """First-of-month date shifted by a number of months."""
    k = d.year * 12 + d.month - 1 + months
    return date(k // 12, k % 12 + 1, 1)


SEASON = np.array([0.85, 1.0, 1.2, 1.05, 0.95, 0.85, 0.75, 0.78, 1.05, 1.1, 1.15, 1.3])  # Jan..Dec
WEEKDAY = np.array([1.1, 1.1, 1.05, 1.0, 0.95, 0.4, 0.3])  # Mon..Sun
HOURS = np.array([0.1] * 7 + [0.4, 1.0, 1.6, 1.8, 1.7, 1.3, 1.5, 1.6, 1.5, 1.3, 1.0, 0.7, 0.5, 0.4, 0.3, 0.2,
                                0.15])
HOLIDAYS = {(1, d) for d in range(1, 9)} | {(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)}


def _time_grid(start: date, end: date) -> tuple[np.ndarray, np.ndarray]:
    """Hourly edges and the cumulative lead intensity: seasonality, a mild upward trend, weekdays, hours."""
    days = (end - start).days + 1
    dates = [start + timedelta(days=i) for i in range(days)]
    season = SEASON[[d.month - 1 for d in dates]]
    weekday = WEEKDAY[[d.weekday() for d in dates]]
    holiday = np.array([0.3 if (d.month, d.day) in HOLIDAYS else 1.0 for d in dates])
    trend = 1.0 + 0.3 * np.arange(days) / max(days - 1, 1)  # about +15 % a year
    weights = np.outer(season * weekday * holiday * trend, HOURS).ravel()
    cdf = np.concatenate([[0.0], np.cumsum(weights)])
    cdf /= cdf[-1]
    # Hour edges as real instants, so a DST zone would still be right (Moscow has none).
    day_ts = np.array([_ts(d) for d in dates] + [_ts(end + timedelta(days=1))], dtype=np.int64)
    step = np.diff(day_ts)[:, None] / 24.0
    edges = (day_ts[:-1, None] + step * np.arange(24)).ravel()
    return np.concatenate([edges, [day_ts[-1]]]), cdf


def _cut_grid(edges: np.ndarray, cdf: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """The intensity grid ending at horizon (a demo built at noon has no lead, close or event this afternoon)."""
    if horizon >= edges[-1]:
        return edges, cdf
    keep = edges < horizon
    share = float(np.interp(horizon, edges, cdf))
    return np.concatenate([edges[keep], [horizon]]), np.concatenate([cdf[keep], [share]]) / share


def build_plan(n_leads: int, seed: int, end_date: date | None) -> Plan:
    """The plan of a demo ending on end_date (whole day, reproducible), or, by default, now."""
    if end_date is not None:
        return Plan(n_leads, seed, end_date)
    return Plan(n_leads, seed, account_today(), now_ts=int(time.time()))


def _active(spec: PartnerSpec, m: int) -> bool:
    """Whether a partner sends leads in month m."""
    if spec.start_offset and m < MONTHS - spec.start_offset:
        return False
    return not (spec.end_offset and m >= MONTHS - spec.end_offset)


def _partner_probs(plan: Plan) -> np.ndarray:
    """Probability of each partner (column 0 = direct) for a lead created in each month."""
    expected = np.maximum(plan.expected_per_month(), 1.0)
    probs = np.zeros((MONTHS, NP + 1))
    for m in range(MONTHS):
        pos = m / (MONTHS - 1)
        direct = 0.44 - 0.08 * pos  # the partner programme grows over the range
        tiny = np.array([min(s.share / 12 / expected[m], 0.02) if s.tiny and _active(s, m) else 0.0
                         for s in SPECS])
        regular = np.array([0.0 if s.tiny or not _active(s, m)
                            else s.share * max(0.2, 1 + s.trend * (pos - 0.5)) for s in SPECS])
        probs[m, 0] = direct
        probs[m, 1:] = tiny + (1 - direct - tiny.sum()) * regular / regular.sum()
    return probs


# ---------------------------------------------------------------- the vectorised core

@dataclass
class Block:
    """One block of generated leads and what belongs to them, as arrays."""

    leads: dict[str, np.ndarray]
    fields: dict[str, np.ndarray]          # one row per custom-field value, sorted by lead
    tags: dict[str, np.ndarray]            # one row per lead tag, sorted by lead
    links: dict[str, np.ndarray]           # lead -> contact (is_main), sorted by lead
    company_links: dict[str, np.ndarray]   # lead -> company
    events: dict[str, np.ndarray]          # lead_status_changed
    contacts: dict[str, np.ndarray]        # contacts created in this block
    companies: dict[str, np.ndarray]


@dataclass
class State:
    """What one block hands to the next: id counters and the pool of won clients for repeat purchases."""

    next_contact: int = 0
    next_company: int = 0
    pool_contact: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pool_company: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pool_partner: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


@dataclass
class Stats:
    """Partner x month aggregates the cost ledger is calibrated on (row 0 = direct)."""

    leads: np.ndarray = field(default_factory=lambda: np.zeros((NP + 1, MONTHS)))
    qualified: np.ndarray = field(default_factory=lambda: np.zeros((NP + 1, MONTHS)))
    revenue: np.ndarray = field(default_factory=lambda: np.zeros((NP + 1, MONTHS)))          # by created month
    revenue_closed: np.ndarray = field(default_factory=lambda: np.zeros((NP + 1, MONTHS)))   # by closed month

    def add(self, plan: Plan, blk: Block) -> None:
        """Accumulate one block."""
        ld = blk.leads
        alive = ~ld["is_deleted"]
        p, m = ld["partner"], plan.month_of(ld["created_at"])
        won = ld["status_id"] == 142
        np.add.at(self.leads, (p[alive], m[alive]), 1)
        np.add.at(self.qualified, (p[alive & ld["qualified"]], m[alive & ld["qualified"]]), 1)
        np.add.at(self.revenue, (p[won], m[won]), ld["price_minor"][won])
        mc = plan.month_of(ld["close_ts"][won])
        np.add.at(self.revenue_closed, (p[won], mc), ld["price_minor"][won])


def _pick(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index drawn from cumulative weights (rows of cum per element, or one shared row)."""
    if cum.ndim == 1:
        return np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)
    return np.minimum((u[:, None] >= cum).sum(axis=1), cum.shape[1] - 1)


def _close_seconds(outcome: np.ndarray, model: np.ndarray, repeat: np.ndarray, z: np.ndarray,
                   u: np.ndarray) -> np.ndarray:
    """Time from creation to closing: won 3-90 days (longer for bigger models), lost 1-60, junk < 3."""
    won_median = np.where(repeat, 8.0, CLOSE_MEDIAN_DAYS[model])
    won = np.clip(won_median * np.exp(0.6 * z), 3, 90)
    lost = np.clip(9.0 * np.exp(0.8 * z), 1, 60)
    junk = 0.02 + 2.5 * u ** 2
    days = np.select([outcome == 0, outcome == 1], [won, lost], junk)
    return (days * 86400).astype(np.int64)


# Rows of the per-lead uniform matrix, in the fixed order they are drawn.
U_ROWS = ("time", "id", "partner", "repeat", "outcome", "contact", "second", "company", "phone", "phone2",
          "email", "name", "name2", "company_name", "pipeline", "incoming", "depth", "price_has", "price_frac",
          "kopecks", "reason", "source", "utm", "utm_kind", "responsible", "delete", "delete_delay", "src",
          "repeat_partner", "junk_close", "second_phone", "second_email", "vip", "contact_age", "contact_touch")
Z_ROWS = ("close", "price")


def _draw_block(plan: Plan, b: int, state: State) -> Block:
    """Generate block b (leads b*GEN_BLOCK ...) and advance the state; the only place that draws numbers."""
    lo, hi = b * GEN_BLOCK, min(plan.n, (b + 1) * GEN_BLOCK)
    rng = np.random.default_rng([plan.seed, b])
    u = dict(zip(U_ROWS, rng.random((len(U_ROWS), hi - lo)), strict=True))
    z = dict(zip(Z_ROWS, rng.standard_normal((len(Z_ROWS), hi - lo)), strict=True))
    idx = np.arange(lo, hi)
    # Creation times: stratified over the intensity curve, so ids grow with time.
    created = np.floor(np.interp((idx + u["time"]) / plan.n, plan.grid_cdf, plan.grid_ts)).astype(np.int64)
    created = np.minimum(created, plan.horizon_ts - 1)
    month = plan.month_of(created)
    leads = {"lead_id": LEAD_ID_BASE + 3 * idx + (u["id"] * 3).astype(np.int64), "created_at": created,
             "month": month, "partner": _pick(plan.partner_cum[month], u["partner"])}
    has_contact, new_main, b2b = _draw_clients(plan, state, u, z, leads)
    pipe = (u["pipeline"] < SERVICE_PIPELINE_SHARE[P_MODEL[leads["partner"]]]).astype(np.int64)
    k, outcome = REGULAR[pipe], leads["outcome"]
    start = np.where(u["incoming"] < np.where(leads["partner"] > 0, 0.45, 0.35), 0, 1)
    depth = np.select([outcome == 0, outcome == 2], [k, start], _lost_depth(pipe, u["depth"]))
    leads.update(pipe=pipe, start=start, responsible=_responsible(pipe, month, u["responsible"]))
    events = _events(plan, rng, leads, depth, np.where(outcome == 0, k + 1, k + 2))
    _finish_leads(plan, u, z, leads)
    second = has_contact & (u["second"] < 0.08)
    contacts = _contacts(plan, state, u, leads, new_main, second)
    companies = _companies(plan, u, leads, b2b)
    _update_pool(state, leads)
    return Block(leads=leads, fields=_field_rows(leads), tags=_tag_rows(leads), links=_contact_links(leads, second),
                 company_links=_company_links(leads), events=events, contacts=contacts, companies=companies)


def _draw_clients(plan: Plan, state: State, u: dict[str, np.ndarray], z: dict[str, np.ndarray],
                  leads: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Outcomes, clients and closing times; repeat leads reuse an earlier won client.

    Adds outcome (0 won, 1 lost, 2 junk), repeat, contact, company, close_ts and closed to `leads` (and may
    move a repeat lead to its client's partner or to direct). Returns (has_contact, new main contact, new
    company) masks.
    """
    partner, month, created = leads["partner"], leads["month"], leads["created_at"]
    repeat = u["repeat"] < REPEAT_RATE * np.minimum(1.0, month / 4)
    # First-time leads are decided first: repeat leads draw their client among the won ones.
    spike = P_SPIKE[partner] & (month >= MONTHS - 2)
    junk_p = np.where(spike, 2 * P_JUNK[partner], P_JUNK[partner])
    conv_p = np.where(spike, P_CONV[partner] / 2, P_CONV[partner])
    outcome = np.where(u["outcome"] < junk_p, 2, np.where(u["outcome"] < junk_p + conv_p, 0, 1))
    close_ts = created + _close_seconds(outcome, P_MODEL[partner], repeat, z["close"], u["junk_close"])
    has_contact = ~((outcome == 2) & (u["contact"] < 0.35))
    new_main = ~repeat & has_contact
    contact = np.full(len(partner), -1, dtype=np.int64)
    company = np.full(len(partner), -1, dtype=np.int64)
    contact[new_main] = _take_ids(state, "contact", int(new_main.sum()))
    b2b = new_main & (u["company"] < np.where(P_MODEL[partner] >= 2, 0.5, 0.3))
    company[b2b] = _take_ids(state, "company", int(b2b.sum()))
    repeat = _resolve_repeats(plan, state, u, repeat, outcome, close_ts < plan.horizon_ts, month,
                              (contact, company, partner))
    fallback = ~repeat & (contact < 0) & has_contact & ~new_main  # a repeat lead with no earlier client
    contact[fallback] = _take_ids(state, "contact", int(fallback.sum()))
    outcome = np.where(repeat, np.where(u["outcome"] < REPEAT_WIN, 0, 1), outcome)
    close_ts = created + _close_seconds(outcome, P_MODEL[partner], repeat, z["close"], u["junk_close"])
    leads.update(outcome=outcome, repeat=repeat, contact=contact, company=company, close_ts=close_ts,
                 closed=close_ts < plan.horizon_ts)
    return has_contact, new_main | fallback, b2b


def _take_ids(state: State, kind: str, count: int) -> np.ndarray:
    """Next `count` contact or company ids (sequential, with the gaps a shared id space has)."""
    if kind == "contact":
        first, state.next_contact = state.next_contact, state.next_contact + count
        return CONTACT_ID_BASE + 2 * np.arange(first, first + count, dtype=np.int64)
    first, state.next_company = state.next_company, state.next_company + count
    return COMPANY_ID_BASE + 3 * np.arange(first, first + count, dtype=np.int64)


def _resolve_repeats(plan: Plan, state: State, u: dict[str, np.ndarray], repeat: np.ndarray,
                     outcome: np.ndarray, closed: np.ndarray, month: np.ndarray,
                     targets: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Give each repeat lead an earlier won client (from earlier blocks or earlier in this one).

    Half of the repeat purchases come back through the same partner (while it still works), the rest
    directly. Repeat leads with no earlier client become first-time leads. `targets` (contact, company,
    partner) are updated in place; returns the final repeat mask.
    """
    contact, company, partner = targets
    cand = np.flatnonzero(~repeat & (outcome == 0) & closed)
    pool_n = len(state.pool_contact)
    total = pool_n + np.searchsorted(cand, np.arange(len(repeat)))
    repeat = repeat & (total > 0)
    r = np.floor(u["src"] * total).astype(np.int64)
    rows = np.flatnonzero(repeat)
    from_pool = r[rows] < pool_n
    src_contact = np.empty(len(rows), dtype=np.int64)
    src_company = np.empty(len(rows), dtype=np.int64)
    src_partner = np.empty(len(rows), dtype=np.int64)
    pr = r[rows][from_pool]
    src_contact[from_pool], src_company[from_pool] = state.pool_contact[pr], state.pool_company[pr]
    src_partner[from_pool] = state.pool_partner[pr]
    br = cand[r[rows][~from_pool] - pool_n]
    src_contact[~from_pool], src_company[~from_pool], src_partner[~from_pool] = (
        contact[br], company[br], partner[br])
    contact[rows], company[rows] = src_contact, src_company
    same = (u["repeat_partner"][rows] < 0.5) & plan.active[month[rows], src_partner]
    partner[rows] = np.where(same, src_partner, 0)
    return repeat


def _update_pool(state: State, leads: dict[str, np.ndarray]) -> None:
    """Add this block's won first-time clients to the pool repeat purchases draw from."""
    won = ~leads["repeat"] & (leads["status_id"] == 142) & (leads["contact"] >= 0)
    state.pool_contact = np.concatenate([state.pool_contact, leads["contact"][won]])
    state.pool_company = np.concatenate([state.pool_company, leads["company"][won]])
    state.pool_partner = np.concatenate([state.pool_partner, leads["partner"][won]])


def _lost_depth(pipe: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Regular stage (1-based position) where a lost lead stopped."""
    out = np.empty(len(pipe), dtype=np.int64)
    for p, k in enumerate(REGULAR):
        mask = pipe == p
        out[mask] = 1 + _pick(np.cumsum(LOST_DEPTH[int(k)]), u[mask])
    return out


def _responsible(pipe: np.ndarray, month: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Responsible manager: sales team for «Продажи» (one leaver replaced), engineers for «Сервис»."""
    sales = SALES_SLOTS[(u * len(SALES_SLOTS)).astype(np.int64)]
    sales = np.where((sales == SALES_SLOTS[-1]) & (month >= LEAVER_MONTHS), SALES_NEWCOMER, sales)
    service = SERVICE_USERS[(u * len(SERVICE_USERS)).astype(np.int64)]
    return np.where(pipe == 1, service, sales)


def _events(plan: Plan, rng: np.random.Generator, leads: dict[str, np.ndarray], depth: np.ndarray,
            final: np.ndarray) -> dict[str, np.ndarray]:
    """Stage changes along each lead's path; transitions after the horizon have not happened yet."""
    start, created, close_ts = leads["start"], leads["created_at"], leads["close_ts"]
    steps = depth - start + 1
    pos = np.repeat(np.arange(len(start)), steps)
    first = np.cumsum(steps) - steps
    seq = np.arange(len(pos)) - first[pos]
    last = seq == steps[pos] - 1
    frac = np.where(last, 1.0, (seq + 0.15 + 0.7 * rng.random(len(pos))) / steps[pos])
    ts = created[pos] + np.floor((close_ts - created)[pos] * frac).astype(np.int64)
    robot = rng.random(len(pos)) < 0.2
    millis = rng.integers(0, 1000, len(pos))
    salt = rng.integers(0, 1 << 30, len(pos))
    keep = ts < plan.horizon_ts
    pipe = leads["pipe"][pos]
    before = STATUS[pipe, start[pos] + seq]
    after = STATUS[pipe, np.where(last, final[pos], start[pos] + seq + 1)]
    ev = {"pos": pos, "seq": seq, "created_at": ts, "pipeline": PIPELINE_IDS[pipe], "status_before": before,
          "status_after": after, "created_by": np.where(robot, 0, leads["responsible"][pos]),
          "millis": millis, "salt": salt}
    ev = {key: val[keep] for key, val in ev.items()}
    ev["id"] = event_ids(ev["created_at"], ev["millis"], ev["salt"], leads["lead_id"][ev["pos"]], ev["seq"])
    leads["steps_done"] = np.bincount(ev["pos"], minlength=len(start))
    leads["last_event_ts"] = np.zeros(len(start), dtype=np.int64)
    np.maximum.at(leads["last_event_ts"], ev["pos"], ev["created_at"])
    leads["final"], leads["depth"] = final, depth
    return ev


CROCKFORD = np.frombuffer(b"0123456789abcdefghjkmnpqrstvwxyz", dtype=np.uint8)


def _base32(values: np.ndarray, width: int) -> np.ndarray:
    """Crockford base32 digits (lower case) of unsigned integers, most significant first."""
    shifts = 5 * np.arange(width - 1, -1, -1, dtype=np.uint64)
    digits = (values.astype(np.uint64)[:, None] >> shifts) & np.uint64(31)
    return CROCKFORD[digits.astype(np.int64)]


def event_ids(created_at: np.ndarray, millis: np.ndarray, salt: np.ndarray, lead_id: np.ndarray,
              seq: np.ndarray) -> np.ndarray:
    """ULID-like event ids: 48-bit millisecond time, 30 random bits, 50 bits of (lead, step) for uniqueness."""
    if len(created_at) == 0:
        return np.zeros(0, dtype=object)
    time_part = _base32(created_at * 1000 + millis, 10)
    rand_part = _base32(salt, 6)
    unique_part = _base32(lead_id * 8 + seq, 10)
    chars = np.concatenate([time_part, rand_part, unique_part], axis=1).astype(np.uint8)
    return chars.view("S26").ravel().astype("U26").astype(object)


def _finish_leads(plan: Plan, u: dict[str, np.ndarray], z: dict[str, np.ndarray],
                  leads: dict[str, np.ndarray]) -> None:
    """Current stage, prices, loss reasons, sources, deletion and bookkeeping columns of each lead."""
    closed, outcome, pipe = leads["closed"], leads["outcome"], leads["pipe"]
    pos_now = np.where(closed, leads["final"], leads["start"] + leads["steps_done"])
    leads["status_id"] = STATUS[pipe, pos_now]
    leads["pipeline_id"] = PIPELINE_IDS[pipe]
    reached = np.where(closed, leads["depth"], pos_now)
    leads["qualified"] = (leads["status_id"] == 142) | (reached >= 2)
    leads["closed_at"] = np.where(closed, leads["close_ts"], -1)
    leads["updated_at"] = np.where(closed, leads["close_ts"], np.maximum(leads["created_at"],
                                                                           leads["last_event_ts"]))
    _prices(u, z, leads)
    lost = closed & (outcome == 1)
    junk = closed & (outcome == 2)
    junk_reason = JUNK_IDS[_pick(P_JUNK_CUM[leads["partner"]], u["reason"])]
    leads["loss_reason_id"] = np.select([lost, junk], [NONJUNK_IDS[_pick(NONJUNK_CUM, u["reason"])], junk_reason],
                                        -1)
    leads["source_id"] = _sources(u, leads)
    leads["created_by"] = np.where(leads["start"] == 0, 0, leads["responsible"])
    deleted_at = leads["close_ts"] + (u["delete_delay"] * 5 * 86400).astype(np.int64)
    leads["is_deleted"] = ((leads["loss_reason_id"] == DUPLICATE_REASON) & (u["delete"] < 0.2)
                           & (deleted_at < plan.horizon_ts))
    leads["deleted_at"] = np.where(leads["is_deleted"], deleted_at, -1)
    leads["updated_at"] = np.where(leads["is_deleted"], deleted_at, leads["updated_at"])
    leads["utm"] = _utm_choice(u, leads)
    leads["name"] = _lead_names(leads)


def _prices(u: dict[str, np.ndarray], z: dict[str, np.ndarray], leads: dict[str, np.ndarray]) -> None:
    """Deal amounts: won deals always, open and lost ones sometimes carry an estimate; some have kopecks."""
    check = P_CHECK[leads["partner"]] * np.where(leads["repeat"], 0.8, 1.0)
    amount = np.maximum(1000.0, np.round(check * np.exp(0.55 * z["price"] - 0.15125) / 100) * 100)
    kopecks = 1 + np.floor(u["kopecks"] * 99)
    amount = np.where(u["price_frac"] < 0.08, np.round(amount + kopecks / 100, 2), amount)
    won = leads["closed"] & (leads["outcome"] == 0)
    estimate = np.where(leads["closed"], np.where(leads["outcome"] == 1, 0.4, 0.0), 0.7)
    has = won | (u["price_has"] < estimate)
    leads["price_minor"] = np.where(has, amount, 0.0)
    leads["price"] = np.floor(leads["price_minor"]).astype(np.int64)
    leads["vip"] = won & (u["vip"] < 0.05)


def _sources(u: dict[str, np.ndarray], leads: dict[str, np.ndarray]) -> np.ndarray:
    """amoCRM source: forms and chats for leads that arrive as incoming, calls or the partner cabinet otherwise."""
    us = u["source"]
    incoming = np.select([us < 0.7, us < 0.9], [SRC_SITE, SRC_TG], SRC_WA)
    partner_manual = np.select([us < 0.35, us < 0.6], [SRC_CABINET, SRC_CALL], -1)
    direct_manual = np.where(us < 0.4, SRC_CALL, -1)
    manual = np.where(leads["partner"] > 0, partner_manual, direct_manual)
    return np.where(leads["start"] == 0, incoming, manual)


def _utm_choice(u: dict[str, np.ndarray], leads: dict[str, np.ndarray]) -> np.ndarray:
    """UTM tags: -1 none, 0 the partner's own link, 1 + i the i-th direct campaign."""
    partner_utm = (leads["partner"] > 0) & (u["utm"] < 0.55)
    direct_utm = (leads["partner"] == 0) & (leads["start"] == 0) & (u["utm"] < 0.85)
    return np.select([partner_utm, direct_utm], [0, 1 + _pick(DIRECT_UTM_CUM, u["utm_kind"])], -1)


def _lead_names(leads: dict[str, np.ndarray]) -> np.ndarray:
    """Lead titles as managers write them: channel, then the client's company or the lead number."""
    titles = [LEAD_TITLES[s] if s in LEAD_TITLES else LEAD_TITLES[0] for s in leads["source_id"].tolist()]
    names = []
    for title, rep, comp, lid in zip(titles, leads["repeat"].tolist(), leads["company"].tolist(),
                                     leads["lead_id"].tolist(), strict=True):
        title = "Повторная продажа" if rep else title
        names.append(f"{title}: {COMPANY_NAMES[comp % len(COMPANY_NAMES)]}" if comp >= 0 else f"{title} #{lid}")
    return np.array(names, dtype=object)


def _contacts(plan: Plan, state: State, u: dict[str, np.ndarray], leads: dict[str, np.ndarray],
              new_main: np.ndarray, second: np.ndarray) -> dict[str, np.ndarray]:
    """Contacts created in this block: main contacts of first-time leads, then second contacts."""
    p = leads["partner"]
    junk = leads["outcome"] == 2
    main_rows, second_rows = np.flatnonzero(new_main), np.flatnonzero(second)
    phone_p = P_PHONE[p] * np.where(junk, 0.6, 1.0)
    main_phone = (u["phone"] < phone_p).astype(np.int64) * (1 + (u["phone2"] < 0.12))
    main_email = (u["email"] < P_EMAIL[p]).astype(np.int64)
    second_ids = _take_ids(state, "contact", len(second_rows))
    leads["second_contact"] = np.full(len(p), -1, dtype=np.int64)
    leads["second_contact"][second_rows] = second_ids
    rows = np.concatenate([main_rows, second_rows])
    is_main = np.arange(len(rows)) < len(main_rows)
    name_u = np.where(is_main, u["name"][rows], u["name2"][rows])
    created = leads["created_at"][rows] - (u["contact_age"][rows] * 900).astype(np.int64)
    touched = leads["created_at"][rows] + (u["contact_touch"][rows] * 3 * 86400).astype(np.int64)
    return {
        "id": np.concatenate([leads["contact"][main_rows], second_ids]),
        "name_idx": (name_u * len(PERSON_NAMES)).astype(np.int64),
        "responsible": leads["responsible"][rows],
        "created_at": created,
        "updated_at": np.minimum(touched, plan.horizon_ts - 1),
        "phone_count": np.where(is_main, main_phone[rows], (u["second_phone"][rows] < 0.7).astype(np.int64)),
        "email_count": np.where(is_main, main_email[rows], (u["second_email"][rows] < 0.5).astype(np.int64)),
    }


def _contact_links(leads: dict[str, np.ndarray], second: np.ndarray) -> dict[str, np.ndarray]:
    """Lead -> contact rows (main first), sorted by lead."""
    main_rows, second_rows = np.flatnonzero(leads["contact"] >= 0), np.flatnonzero(second)
    pos = np.concatenate([main_rows, second_rows])
    cid = np.concatenate([leads["contact"][main_rows], leads["second_contact"][second_rows]])
    is_main = np.concatenate([np.ones(len(main_rows), bool), np.zeros(len(second_rows), bool)])
    order = np.lexsort((~is_main, pos))
    return {"pos": pos[order], "contact_id": cid[order], "is_main": is_main[order]}


def _company_links(leads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Lead -> company rows (at most one company per lead)."""
    pos = np.flatnonzero(leads["company"] >= 0)
    return {"pos": pos, "company_id": leads["company"][pos]}


def _companies(plan: Plan, u: dict[str, np.ndarray], leads: dict[str, np.ndarray],
               b2b: np.ndarray) -> dict[str, np.ndarray]:
    """Companies created in this block (one per first-time B2B lead)."""
    rows = np.flatnonzero(b2b)
    cid = leads["company"][rows]
    created = leads["created_at"][rows] - (u["contact_age"][rows] * 1200).astype(np.int64)
    return {"id": cid, "name_idx": cid % len(COMPANY_NAMES), "responsible": leads["responsible"][rows],
            "created_at": created,
            "updated_at": np.minimum(created + (u["contact_touch"][rows] * 86400).astype(np.int64),
                                     plan.horizon_ts - 1)}


def _field_rows(leads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Custom-field values, one row each: (pos, field_id, value, enum_id or -1), sorted by lead then field."""
    p = leads["partner"]
    parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
    rows = np.flatnonzero(p > 0)
    parts.append((rows, F_PARTNER, P_NAME[p[rows]], PARTNER_ENUM_BASE + p[rows] - 1))
    crm = np.array([None, *[s.crm_model for s in SPECS]], dtype=object)
    rows = np.flatnonzero(P_HAS_CRM_MODEL[p])
    labels = np.array([MODEL_LABELS[c][1] for c in crm[p[rows]]], dtype=object)
    enums = np.array([MODEL_LABELS[c][0] for c in crm[p[rows]]], dtype=np.int64)
    parts.append((rows, F_MODEL, labels, enums))
    rows = np.flatnonzero(leads["repeat"])
    parts.append((rows, F_CLIENT, np.full(len(rows), CLIENT_REPEAT[1], dtype=object),
                  np.full(len(rows), CLIENT_REPEAT[0])))
    utm = leads["utm"]
    direct = np.array(DIRECT_UTM, dtype=object)
    has_campaign = np.array([True, *[c is not None for _, _, c in DIRECT_UTM]])
    for col, fid in enumerate((F_UTM_SOURCE, F_UTM_MEDIUM, F_UTM_CAMPAIGN)):
        partner_rows = np.flatnonzero(utm == 0)
        slug = P_SLUG[p[partner_rows]]
        partner_vals = [slug, np.full(len(slug), "partner", dtype=object),
                        np.array(["ref_" + s for s in slug], dtype=object)][col]
        direct_rows = np.flatnonzero(utm > 0)
        direct_vals = direct[utm[direct_rows] - 1, col]
        keep = has_campaign[utm[direct_rows]] if col == 2 else np.ones(len(direct_rows), bool)
        rows = np.concatenate([partner_rows, direct_rows[keep]])
        vals = np.concatenate([partner_vals, direct_vals[keep]])
        parts.append((rows, fid, vals, np.full(len(rows), -1)))
    pos = np.concatenate([r for r, _, _, _ in parts])
    fid = np.concatenate([np.full(len(r), f, dtype=np.int64) for r, f, _, _ in parts])
    order = np.lexsort((np.array([FIELD_INDEX[f] for f in fid.tolist()], dtype=np.int64), pos))
    return {"pos": pos[order], "field_id": fid[order],
            "value": np.concatenate([v for _, _, v, _ in parts]).astype(object)[order],
            "enum_id": np.concatenate([e for _, _, _, e in parts]).astype(np.int64)[order]}


def _tag_rows(leads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Lead tags, one row each: (pos, tag_id), sorted by lead. Partner leads carry «partner:<name>»."""
    src, p = leads["source_id"], leads["partner"]
    parts = [(np.flatnonzero(p > 0), PARTNER_TAG_BASE + p[p > 0] - 1),
             (np.flatnonzero(src == SRC_SITE), None), (np.flatnonzero(src == SRC_CALL), None),
             (np.flatnonzero(leads["repeat"]), None), (np.flatnonzero(leads["vip"]), None)]
    static = [None, TAG_SITE, TAG_CALL, TAG_REPEAT, TAG_VIP]
    pos = np.concatenate([r for r, _ in parts])
    tag = np.concatenate([t if t is not None else np.full(len(r), static[i], dtype=np.int64)
                          for i, (r, t) in enumerate(parts)])
    order = np.lexsort((np.arange(len(pos)), pos))
    return {"pos": pos[order], "tag_id": tag[order].astype(np.int64)}


def tag_table() -> dict[int, tuple[str, str | None]]:
    """Every tag the demo uses: id -> (name, colour)."""
    tags = {t[0]: (t[1], t[2]) for t in STATIC_TAGS}
    tags.update({PARTNER_TAG_BASE + i: (f"partner:{s.name}", "C8E6FF") for i, s in enumerate(SPECS)})
    return tags


def iter_blocks(plan: Plan, stats: Stats | None = None) -> Iterator[Block]:
    """Generate the blocks in order (each depends on the state the previous ones left)."""
    state = State()
    for b in range(plan.blocks):
        blk = _draw_block(plan, b, state)
        if stats is not None:
            stats.add(plan, blk)
        yield blk


# ---------------------------------------------------------------- API-shaped records (the record path)

def _link(path: str) -> dict[str, dict[str, str]]:
    """HAL `_links` block of one entity."""
    return {"self": {"href": f"{BASE_URL}/api/v4/{path}"}}


def _account_record(plan: Plan) -> dict[str, Any]:
    """GET /api/v4/account?with=datetime_settings."""
    created = plan.start_ts - 3 * 365 * 86400
    return {
        "id": ACCOUNT_ID, "name": ACCOUNT_NAME, "subdomain": SUBDOMAIN, "created_at": created,
        "created_by": ADMIN_ID, "updated_at": plan.start_ts, "updated_by": ADMIN_ID,
        "current_user_id": ADMIN_ID, "country": "RU", "currency": "RUB", "currency_symbol": "₽",
        "customers_mode": "disabled", "is_unsorted_on": True, "is_loss_reason_enabled": True,
        "is_helpbot_enabled": False, "is_technical_account": False, "contact_name_display_order": 1,
        "mobile_feature_version": 0, "_links": _link("account"),
        "_embedded": {"datetime_settings": {
            "date_pattern": "d.m.Y H:i", "short_date_pattern": "d.m.Y", "short_time_pattern": "H:i",
            "date_format": "d.m.Y", "time_format": "H:i", "timezone": TIMEZONE, "timezone_offset": "+03:00"}},
    }


def _user_records() -> list[dict[str, Any]]:
    """GET /api/v4/users."""
    return [{
        "id": uid, "name": name, "email": email, "lang": "ru",
        "rights": {"leads": {"view": "A", "edit": "A", "add": "A", "delete": "A", "export": "A"},
                   "is_admin": role == "admin", "is_free": False, "is_active": active, "group_id": None,
                   "role_id": None},
        "_links": _link(f"users/{uid}"),
    } for uid, name, email, active, role in USERS]


def _pipeline_records() -> list[dict[str, Any]]:
    """GET /api/v4/leads/pipelines: each pipeline with its statuses, 142/143 in every one."""
    out = []
    for pid, name, sort, is_main, statuses in PIPELINES:
        rows = [(sid, sname, 10 * (i + 1), color, 1 if i == 0 else 0, i > 0)
                for i, (sid, sname, color) in enumerate(statuses)]
        rows += [(142, "Успешно реализовано", 10000, "#CCFF66", 0, False),
                 (143, "Закрыто и не реализовано", 11000, "#D5D8DB", 0, False)]
        out.append({
            "id": pid, "name": name, "sort": sort, "is_main": is_main, "is_unsorted_on": True,
            "is_archive": False, "account_id": ACCOUNT_ID, "_links": _link(f"leads/pipelines/{pid}"),
            "_embedded": {"statuses": [{
                "id": sid, "name": sname, "sort": ssort, "is_editable": editable, "pipeline_id": pid,
                "color": color, "type": stype, "account_id": ACCOUNT_ID,
                "_links": _link(f"leads/pipelines/{pid}/statuses/{sid}"),
            } for sid, sname, ssort, color, stype, editable in rows]},
        })
    return out


def _field_enums(fid: int) -> list[dict[str, Any]] | None:
    """Enums of a select field (None for other types)."""
    if fid == F_PARTNER:
        pairs = [(PARTNER_ENUM_BASE + i, s.name) for i, s in enumerate(SPECS)]
    elif fid == F_MODEL:
        pairs = list(MODEL_LABELS.values())
    elif fid == F_CLIENT:
        pairs = CLIENT_ENUMS
    else:
        return None
    return [{"id": eid, "value": value, "sort": 500 + i, "code": None} for i, (eid, value) in enumerate(pairs)]


def _lead_field_records() -> list[dict[str, Any]]:
    """GET /api/v4/leads/custom_fields: «Партнёр», «Модель партнёрства», «Тип клиента», predefined UTM fields."""
    return [{
        "id": fid, "name": name, "code": code, "sort": sort, "type": ftype, "entity_type": "leads",
        "is_predefined": code is not None, "is_deletable": code is None, "is_api_only": False,
        "group_id": None, "required_statuses": [], "enums": _field_enums(fid), "remind": None,
        "currency": None, "hidden_statuses": [], "chained_lists": None, "tracking_callback": None,
        "search_in": None, "triggers": [], "account_id": ACCOUNT_ID,
        "_links": _link(f"leads/custom_fields/{fid}"),
    } for fid, name, code, ftype, sort in FIELDS]


def _loss_reason_record(reason_id: int, plan: Plan) -> dict[str, Any]:
    """One loss reason as GET /api/v4/leads/loss_reasons (and `_embedded.loss_reason[0]`) sends it."""
    i = [r[0] for r in LOSS_REASONS].index(reason_id)
    created = plan.start_ts - 400 * 86400
    return {"id": reason_id, "name": LOSS_REASONS[i][1], "sort": 10000 + 10 * i, "created_at": created,
            "updated_at": created, "_links": _link(f"leads/loss_reasons/{reason_id}")}


def _source_records() -> list[dict[str, Any]]:
    """GET /api/v4/sources: the integration's sources."""
    return [{"id": sid, "name": name, "pipeline_id": MAIN_PIPELINE, "external_id": f"demo-{code}",
             "default": sid == SRC_SITE, "origin_code": code, "services": [], "_links": _link(f"sources/{sid}")}
            for sid, name, code in SOURCES]


def _static_records(plan: Plan) -> dict[str, Any]:
    """Reference entities: account, users, pipelines, lead fields, loss reasons, sources."""
    return {"account": _account_record(plan), "users": _user_records(), "pipelines": _pipeline_records(),
            "lead_custom_fields": _lead_field_records(),
            "loss_reasons": [_loss_reason_record(r[0], plan) for r in LOSS_REASONS],
            "sources": _source_records()}


def _by_pos(rows: dict[str, np.ndarray], size: int) -> list[list[int]]:
    """Row numbers of a long table grouped by lead position."""
    out: list[list[int]] = [[] for _ in range(size)]
    for row, pos in enumerate(rows["pos"].tolist()):
        out[pos].append(row)
    return out


def _cf_value(fid: int, value: str, enum_id: int) -> dict[str, Any]:
    """One custom_fields_values entry with a single value."""
    f = FIELDS[FIELD_INDEX[fid]]
    val: dict[str, Any] = {"value": value}
    if f[3] == "select":
        val.update({"enum_id": enum_id, "enum_code": None})
    return {"field_id": fid, "field_name": f[1], "field_code": f[2], "field_type": f[3], "values": [val]}


def _lead_records(plan: Plan, blk: Block) -> list[dict[str, Any]]:
    """GET /api/v4/leads?with=contacts,loss_reason,source_id,source — the block's leads."""
    ld = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in blk.leads.items()}
    m = len(ld["lead_id"])
    fields, tags = _by_pos(blk.fields, m), _by_pos(blk.tags, m)
    links, comps = _by_pos(blk.links, m), _by_pos(blk.company_links, m)
    fv = {k: v.tolist() for k, v in blk.fields.items()}
    tg, ln, cl = blk.tags["tag_id"].tolist(), blk.links, blk.company_links["company_id"].tolist()
    ln_id, ln_main = ln["contact_id"].tolist(), ln["is_main"].tolist()
    tag_names = tag_table()
    out = []
    for i in range(m):
        lid = ld["lead_id"][i]
        closed = ld["closed_at"][i] >= 0
        emb: dict[str, Any] = {
            "tags": [{"id": tg[r], "name": tag_names[tg[r]][0], "color": tag_names[tg[r]][1]} for r in tags[i]],
            "companies": [{"id": cl[r], "_links": _link(f"companies/{cl[r]}")} for r in comps[i]],
            "contacts": [{"id": ln_id[r], "is_main": ln_main[r], "_links": _link(f"contacts/{ln_id[r]}")}
                         for r in links[i]],
        }
        if ld["loss_reason_id"][i] >= 0:
            emb["loss_reason"] = [_loss_reason_record(ld["loss_reason_id"][i], plan)]
        if ld["source_id"][i] >= 0:
            emb["source"] = {"id": ld["source_id"][i], "name": SOURCE_NAMES[ld["source_id"][i]]}
        cfv = [_cf_value(fv["field_id"][r], fv["value"][r], fv["enum_id"][r]) for r in fields[i]]
        out.append({
            "id": lid, "name": ld["name"][i], "price": ld["price"][i],
            "price_with_minor_units": ld["price_minor"][i], "responsible_user_id": ld["responsible"][i],
            "group_id": 0, "status_id": ld["status_id"][i], "pipeline_id": ld["pipeline_id"][i],
            "loss_reason_id": ld["loss_reason_id"][i] if ld["loss_reason_id"][i] >= 0 else None,
            "source_id": ld["source_id"][i] if ld["source_id"][i] >= 0 else None,
            "created_by": ld["created_by"][i], "updated_by": ld["responsible"][i],
            "created_at": ld["created_at"][i], "updated_at": ld["updated_at"][i],
            "closed_at": ld["closed_at"][i] if closed else None,
            "closest_task_at": None if closed else plan.horizon_ts + (lid % 5) * 86400,
            "is_deleted": ld["is_deleted"][i], "custom_fields_values": cfv or None, "score": None,
            "account_id": ACCOUNT_ID, "labor_cost": None, "is_price_computed": False,
            "_links": _link(f"leads/{lid}"), "_embedded": emb,
        })
    return out


TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r",
                     "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"],
                    strict=True))
MAIL_DOMAINS = ("mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru")


def _phone(cid: int, k: int) -> str:
    """A made-up Russian mobile number, fixed per contact."""
    x = (cid * 2654435761 + k * 40503) % 10**9
    return f"+7 (9{x // 10**7 % 100:02d}) {x // 10**4 % 1000:03d}-{x // 100 % 100:02d}-{x % 100:02d}"


def _email(cid: int, first: str, last: str) -> str:
    """A made-up e-mail address, fixed per contact."""
    latin = "".join(TRANSLIT.get(ch, ch) for ch in f"{first[0]}.{last}".lower())
    return f"{latin}{cid % 97}@{MAIL_DOMAINS[cid % len(MAIL_DOMAINS)]}"


def _contact_fields(cid: int, first: str, last: str, phones: int, emails: int) -> list[dict[str, Any]] | None:
    """PHONE / EMAIL multitext values of a contact (None when it has neither)."""
    out = []
    if phones:
        out.append({"field_id": CONTACT_PHONE_FIELD, "field_name": "Телефон", "field_code": "PHONE",
                    "field_type": "multitext", "values": [
                        {"value": _phone(cid, k), "enum_id": 1180011 + k, "enum_code": ("WORK", "MOB")[k]}
                        for k in range(phones)]})
    if emails:
        out.append({"field_id": CONTACT_EMAIL_FIELD, "field_name": "Email", "field_code": "EMAIL",
                    "field_type": "multitext",
                    "values": [{"value": _email(cid, first, last), "enum_id": 1180021, "enum_code": "WORK"}]})
    return out or None


def _contact_records(blk: Block) -> list[dict[str, Any]]:
    """GET /api/v4/contacts — the contacts created in the block."""
    c = {k: v.tolist() for k, v in blk.contacts.items()}
    out = []
    for i, cid in enumerate(c["id"]):
        first, last = PERSON_NAMES[c["name_idx"][i]]
        resp = c["responsible"][i]
        out.append({
            "id": cid, "name": f"{first} {last}", "first_name": first, "last_name": last,
            "responsible_user_id": resp, "group_id": 0, "created_by": resp, "updated_by": resp,
            "created_at": c["created_at"][i], "updated_at": c["updated_at"][i], "closest_task_at": None,
            "is_deleted": False, "is_unsorted": False,
            "custom_fields_values": _contact_fields(cid, first, last, c["phone_count"][i], c["email_count"][i]),
            "account_id": ACCOUNT_ID, "_links": _link(f"contacts/{cid}"),
            "_embedded": {"tags": [], "companies": []},
        })
    return out


def _company_records(blk: Block) -> list[dict[str, Any]]:
    """GET /api/v4/companies — the companies created in the block."""
    c = {k: v.tolist() for k, v in blk.companies.items()}
    return [{
        "id": cid, "name": COMPANY_NAMES[c["name_idx"][i]], "responsible_user_id": c["responsible"][i],
        "group_id": 0, "created_by": c["responsible"][i], "updated_by": c["responsible"][i],
        "created_at": c["created_at"][i], "updated_at": c["updated_at"][i], "closest_task_at": None,
        "custom_fields_values": None, "is_deleted": False, "account_id": ACCOUNT_ID,
        "_links": _link(f"companies/{cid}"), "_embedded": {"tags": []},
    } for i, cid in enumerate(c["id"])]


def _event_record(eid: str, etype: str, lead_id: int, created_by: int, created_at: int,
                  before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, Any]:
    """One GET /api/v4/events entry about a lead."""
    return {"id": eid, "type": etype, "entity_id": lead_id, "entity_type": "lead", "created_by": created_by,
            "created_at": created_at, "value_after": after, "value_before": before, "account_id": ACCOUNT_ID,
            "_links": _link(f"events/{eid}"),
            "_embedded": {"entity": {"id": lead_id, "_links": _link(f"leads/{lead_id}")}}}


def _event_records(blk: Block) -> list[dict[str, Any]]:
    """lead_status_changed events of the block, then lead_deleted events of its deleted leads."""
    ev = {k: v.tolist() for k, v in blk.events.items()}
    lead_ids = blk.leads["lead_id"].tolist()
    out = [_event_record(ev["id"][i], "lead_status_changed", lead_ids[pos], ev["created_by"][i],
                         ev["created_at"][i],
                         [{"lead_status": {"id": ev["status_before"][i], "pipeline_id": ev["pipeline"][i]}}],
                         [{"lead_status": {"id": ev["status_after"][i], "pipeline_id": ev["pipeline"][i]}}])
           for i, pos in enumerate(ev["pos"])]
    rows = np.flatnonzero(blk.leads["is_deleted"])
    lid, at = blk.leads["lead_id"][rows], blk.leads["deleted_at"][rows]
    ids = event_ids(at, lid % 1000, (lid * 2654435761) % (1 << 30), lid, np.full(len(rows), 7))
    resp = blk.leads["responsible"][rows].tolist()
    out += [_event_record(eid, "lead_deleted", lead, who, ts, [], [])
            for eid, lead, who, ts in zip(ids.tolist(), lid.tolist(), resp, at.tolist(), strict=True)]
    return out


def generate_records(n_leads: int = 20000, seed: int = 42,
                     end_date: date | None = None) -> dict[str, list[dict] | dict]:
    """The whole demo account as amoCRM API v4 records (the bodies' `_embedded` lists), deterministic."""
    plan = build_plan(n_leads, seed, end_date)
    out: dict[str, Any] = {**_static_records(plan), "leads": [], "contacts": [], "companies": [], "events": []}
    with _no_gc():
        for blk in iter_blocks(plan):
            out["leads"] += _lead_records(plan, blk)
            out["contacts"] += _contact_records(blk)
            out["companies"] += _company_records(blk)
            out["events"] += _event_records(blk)
    return out


# ---------------------------------------------------------------- loading

def _in_transaction(con: duckdb.DuckDBPyConnection, batch: normalise.Batch) -> dict[str, int]:
    """Save one batch in its own transaction, as the sync saves a window."""
    con.execute("begin")
    try:
        written = save.save_batch(con, batch)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return written


def _save_static(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    """Reference tables through the sync's normalisers (both paths)."""
    rec = _static_records(plan)
    sources = normalise.new_batch()
    sources["raw_sources"] = [{"id": s["id"], "name": s["name"]} for s in rec["sources"]]
    _in_transaction(con, normalise.merge(
        normalise.normalise_account(rec["account"]), normalise.normalise_users(rec["users"]),
        normalise.normalise_pipelines(rec["pipelines"]), normalise.normalise_lead_fields(rec["lead_custom_fields"]),
        normalise.normalise_loss_reasons(rec["loss_reasons"]), sources))


def _sub_block(blk: Block, lo: int, hi: int) -> Block:
    """Leads lo..hi of a block with their rows (positions rebased), and contacts / companies lo..hi."""
    def by_lead(rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        r0, r1 = np.searchsorted(rows["pos"], [lo, hi])  # long tables are sorted by lead position
        out = {k: v[r0:r1] for k, v in rows.items()}
        out["pos"] = out["pos"] - lo
        return out

    return Block(leads={k: v[lo:hi] for k, v in blk.leads.items()}, fields=by_lead(blk.fields),
                 tags=by_lead(blk.tags), links=by_lead(blk.links), company_links=by_lead(blk.company_links),
                 events=by_lead(blk.events), contacts={k: v[lo:hi] for k, v in blk.contacts.items()},
                 companies={k: v[lo:hi] for k, v in blk.companies.items()})


def _load_records_block(con: duckdb.DuckDBPyConnection, plan: Plan, blk: Block) -> None:
    """Format a block as API records window by window and save each through normalise + save_batch."""
    size = max(len(blk.leads["lead_id"]), len(blk.contacts["id"]), len(blk.companies["id"]))
    for lo in range(0, size, RECORD_CHUNK):
        part = _sub_block(blk, lo, lo + RECORD_CHUNK)
        _in_transaction(con, normalise.merge(
            normalise.normalise_contacts(_contact_records(part)),
            normalise.normalise_companies(_company_records(part)),
            normalise.normalise_leads(_lead_records(plan, part), TIMEZONE),
            normalise.normalise_events(_event_records(part))))


def _nullable(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Int64 column with -1 as null."""
    values = values.astype(np.int64)
    return pd.arrays.IntegerArray(values, values < 0)


def _text(values: np.ndarray | list[Any], repeated: bool = False) -> pd.Series | pd.Categorical:
    """A string column DuckDB scans fast: categorical when values repeat, else plain Python objects.

    (pandas 3 would otherwise infer its Arrow-backed `str` dtype, which DuckDB reads several times slower.)
    """
    return pd.Categorical(values) if repeated else pd.Series(values, dtype=object)


def _block_frames(blk: Block) -> dict[str, pd.DataFrame]:
    """The block as raw-table frames, row for row what normalise would give for its records."""
    ld, lead_id = blk.leads, blk.leads["lead_id"]
    tags = tag_table()
    fv = blk.fields
    field_meta = [FIELDS[FIELD_INDEX[f]] for f in fv["field_id"].tolist()]
    frames = {
        "raw_leads": pd.DataFrame({
            "id": lead_id, "name": _text(ld["name"]), "price": ld["price"], "price_minor": ld["price_minor"],
            "responsible_user_id": ld["responsible"], "group_id": np.zeros(len(lead_id), dtype=np.int64),
            "status_id": ld["status_id"], "pipeline_id": ld["pipeline_id"],
            "loss_reason_id": _nullable(ld["loss_reason_id"]), "source_id": _nullable(ld["source_id"]),
            "created_by": ld["created_by"], "updated_by": ld["responsible"], "created_at": ld["created_at"],
            "updated_at": ld["updated_at"], "closed_at": _nullable(ld["closed_at"]),
            "is_deleted": ld["is_deleted"], "deleted_at": _nullable(ld["deleted_at"])}),
        "raw_lead_field_values": pd.DataFrame({
            "lead_id": lead_id[fv["pos"]], "field_id": fv["field_id"],
            "value_idx": np.zeros(len(fv["pos"]), dtype=np.int64),
            "field_name": _text([f[1] for f in field_meta], True),
            "field_code": _text([f[2] for f in field_meta], True),
            "field_type": _text([f[3] for f in field_meta], True),
            "value": _text(fv["value"], True), "enum_id": _nullable(fv["enum_id"])}),
        "raw_lead_tags": pd.DataFrame({
            "lead_id": lead_id[blk.tags["pos"]], "tag_id": blk.tags["tag_id"],
            "name": _text([tags[t][0] for t in blk.tags["tag_id"].tolist()], True)}),
        "raw_lead_contacts": pd.DataFrame({
            "lead_id": lead_id[blk.links["pos"]], "contact_id": blk.links["contact_id"],
            "is_main": blk.links["is_main"]}),
        "raw_lead_companies": pd.DataFrame({
            "lead_id": lead_id[blk.company_links["pos"]], "company_id": blk.company_links["company_id"]}),
        "raw_contacts": pd.DataFrame({
            "id": blk.contacts["id"], "name": _text(PERSON_FULL[blk.contacts["name_idx"]], True),
            "responsible_user_id": blk.contacts["responsible"], "created_at": blk.contacts["created_at"],
            "updated_at": blk.contacts["updated_at"], "phone_count": blk.contacts["phone_count"],
            "email_count": blk.contacts["email_count"], "is_deleted": np.zeros(len(blk.contacts["id"]), bool)}),
        "raw_companies": pd.DataFrame({
            "id": blk.companies["id"], "name": _text(COMPANY_NAMES[blk.companies["name_idx"]], True),
            "created_at": blk.companies["created_at"], "updated_at": blk.companies["updated_at"],
            "is_deleted": np.zeros(len(blk.companies["id"]), bool)}),
        "raw_lead_status_events": pd.DataFrame({
            "id": _text(blk.events["id"]), "lead_id": lead_id[blk.events["pos"]],
            "created_at": blk.events["created_at"], "created_by": blk.events["created_by"],
            "pipeline_before": blk.events["pipeline"], "status_before": blk.events["status_before"],
            "pipeline_after": blk.events["pipeline"], "status_after": blk.events["status_after"]}),
    }
    return frames


def _insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Append a frame to a raw table by column name."""
    if frame.empty:
        return
    con.register("_demo_frame", frame)
    try:
        # Table names come from _block_frames, never from data.
        con.execute(store.sql_with_names("insert into {t} by name select * from _demo_frame", t=table))
    finally:
        con.unregister("_demo_frame")


def _load_bulk_block(con: duckdb.DuckDBPyConnection, blk: Block) -> None:
    """Insert one block's frames in one transaction."""
    con.execute("begin")
    try:
        for table, frame in _block_frames(blk).items():
            _insert_frame(con, table, frame)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: millions of small record dicts make it rescan for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _remove_db(path: Path) -> None:
    """Delete a database file and its sidecars (.wal, .version)."""
    for p in (path, Path(f"{path}.wal"), store.version_path(path)):
        p.unlink(missing_ok=True)


# ---------------------------------------------------------------- user data: partners, ledger, rules

def _aliases(spec: PartnerSpec, taken: set[str]) -> list[str]:
    """The partner's UTM slug and its name without legal form and quotes, when those are free."""
    short = spec.name
    for prefix in ("ООО ", "ГК ", "ИП "):
        short = short.removeprefix(prefix)
    short = short.replace("«", "").replace("»", "").strip()
    out = []
    for alias in (spec.slug, short):
        key = userdata.norm_name(alias)
        if key not in taken:
            taken.add(key)
            out.append(alias)
    return out


def _partner_start(plan: Plan, i: int, spec: PartnerSpec) -> date:
    """When the partnership began: new partners in their first month, the others before the range."""
    if spec.start_offset:
        return _add_months(plan.start_date, MONTHS - spec.start_offset)
    return _add_months(plan.start_date, -(3 + (i * 7) % 19)).replace(day=1 + (i * 5) % 27)


def _setup_partners(con: duckdb.DuckDBPyConnection, plan: Plan) -> dict[str, int]:
    """Register partners from the CRM, then fill what a user would: manager, start, aliases, some models."""
    # Registered in a fixed order first so partner ids do not depend on how DuckDB orders a parallel
    # aggregate; ensure_partners_from_crm then fills each model from the CRM field, as after a sync.
    for spec in SPECS:
        con.execute("insert into partners (name) values (?)", [spec.name])
    store.ensure_partners_from_crm(con)
    ids = dict(con.execute("select name, partner_id from partners").fetchall())
    crm_models = dict(con.execute("select name, model from partners").fetchall())
    taken = {userdata.norm_name(s.name) for s in SPECS}
    for i, spec in enumerate(SPECS):
        con.execute(
            "update partners set manager = ?, start_date = ?, aliases = ?, active = ?, "
            "updated_at = current_timestamp where partner_id = ?",
            [PARTNER_MANAGERS[i % 2], _partner_start(plan, i, spec), _aliases(spec, taken),
             not spec.end_offset, ids[spec.name]])
        if crm_models[spec.name] != spec.model:  # the CRM label is wrong or missing: the user set the model
            con.execute("update partners set model = ?, model_source = 'user' where partner_id = ?",
                        [spec.model, ids[spec.name]])
    return ids


def _tiered(monthly_revenue: np.ndarray) -> np.ndarray:
    """Commission of the sales rule on each month's revenue (10 % up to 1 M, 15 % above)."""
    low = np.minimum(monthly_revenue, SALES_TIERS[0]["up_to"])
    return low * SALES_TIERS[0]["rate"] + (monthly_revenue - low) * SALES_TIERS[1]["rate"]


def _rule_commission(spec: PartnerSpec, p: int, stats: Stats) -> float | None:
    """Commission the shipped rules compute for a partner over the range (None = no rule applies)."""
    if spec.name == OVERRIDE_PARTNER:
        return OVERRIDE_RATE * float(stats.revenue_closed[p].sum())
    if spec.model == "referral":
        return REFERRAL_PER_QUALIFIED * float(stats.qualified[p].sum())
    if spec.model == "sales":
        return float(_tiered(stats.revenue_closed[p]).sum())
    return None


def _ledger_frame(plan: Plan, stats: Stats, ids: dict[str, int]) -> pd.DataFrame:
    """Monthly costs per partner and category, sized so that each partner lands near its intended ROI.

    Total cost = revenue / (1 + intended ROI); what the rules already compute as commission is taken off,
    the rest is spread over the partner's active months (half evenly, half by lead volume) and categories.
    """
    rng = np.random.default_rng([plan.seed, 1_000_003])
    scale = plan.n / SCALE_LEADS
    rows = []
    for i, spec in enumerate(SPECS):
        p = i + 1
        months = [m for m in range(MONTHS) if plan.active[m, p]]
        revenue = float(stats.revenue[p].sum())
        fixed = (3_000 if spec.tiny else 20_000 * scale) * len(months)
        target = revenue / (1 + spec.roi) if revenue > 0 else fixed
        commission = _rule_commission(spec, p, stats)
        total = max(target - (commission or 0.0), 0.15 * target)
        weights = dict(CATEGORY_WEIGHTS[spec.model])
        if commission is None:  # no rule for this partner: its commission is booked in the ledger
            weights = {"commission": 0.5, **{k: v * 0.5 for k, v in weights.items()}}
        volume = stats.leads[p, months]
        by_month = 0.5 / len(months) + 0.5 * (volume / volume.sum() if volume.sum() else 1 / len(months))
        grid = np.outer(by_month, list(weights.values())) * rng.lognormal(0, 0.25, (len(months), len(weights)))
        amounts = np.maximum(100.0, np.round(grid / grid.sum() * total / 100) * 100)
        for mi, m in enumerate(months):
            for ci, cat in enumerate(weights):
                rows.append({"partner_id": ids[spec.name], "month": _add_months(plan.start_date, m),
                             "category": cat, "amount": float(amounts[mi, ci]), "note": CATEGORY_NOTES[cat]})
    return pd.DataFrame(rows)


def _write_rules(con: duckdb.DuckDBPyConnection, plan: Plan, ids: dict[str, int]) -> int:
    """Commission rules: referral per qualified lead, tiered sales percent, one partner override."""
    since = plan.start_date
    userdata.add_rule(con, "fixed_per_qualified_lead", REFERRAL_PER_QUALIFIED, model="referral", valid_from=since)
    userdata.add_rule(con, "percent_revenue", SALES_TIERS[0]["rate"], model="sales", tiers=SALES_TIERS,
                      valid_from=since)
    userdata.add_rule(con, "percent_revenue", OVERRIDE_RATE, partner_id=ids[OVERRIDE_PARTNER], valid_from=since)
    return 3


def _write_user_data(con: duckdb.DuckDBPyConnection, plan: Plan, stats: Stats, seconds: float) -> dict[str, int]:
    """Partners, ledger, rules, settings, meta and the run record, in one transaction."""
    con.execute("begin")
    try:
        ids = _setup_partners(con, plan)
        ledger_rows = userdata.upsert_ledger(con, _ledger_frame(plan, stats, ids))
        rules = _write_rules(con, plan, ids)
        userdata.set_setting(con, "min_leads", 30)
        now = datetime.now(UTC)
        store.set_meta(con, "source", "demo")
        store.set_meta(con, "account_name", ACCOUNT_NAME)
        store.set_meta(con, "last_sync_at", now.isoformat(timespec="seconds"))
        store.set_meta(con, "last_sync_status", "ok")
        con.execute(
            "insert into sync_runs (started_at, finished_at, mode, status, requests, throttled, seconds, message) "
            "values (?, ?, 'demo', 'ok', 0, 0, ?, ?)",
            [(now - timedelta(seconds=seconds)).replace(tzinfo=None), now.replace(tzinfo=None), seconds,
             f"demo: {plan.n} leads, seed {plan.seed}, up to {plan.end_date.isoformat()}"])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return {"partners": len(ids), "ledger_rows": ledger_rows, "rules": rules}


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Row count of a table (names from this module only)."""
    return int(con.execute(store.sql_with_names("select count(*) from {t}", t=table)).fetchone()[0])


def load_demo(db_path: str | Path, n_leads: int = 20000, seed: int = 42, end_date: date | None = None,
              bulk: bool | None = None) -> dict[str, Any]:
    """Rebuild the demo database at db_path from scratch; return counts and seconds.

    Up to BULK_THRESHOLD leads the data goes through the sync's normalise + save code as API records;
    above it (or with bulk=True) the same arrays are inserted as frames. Both give identical tables.
    """
    started = time.perf_counter()
    path = Path(db_path)
    _remove_db(path)
    store.init_db(path)
    plan = build_plan(n_leads, seed, end_date)
    use_bulk = n_leads > BULK_THRESHOLD if bulk is None else bulk
    stats = Stats()
    with store.connect(path) as con, _no_gc():
        _save_static(con, plan)
        for blk in iter_blocks(plan, stats):
            if use_bulk:
                _load_bulk_block(con, blk)
            else:
                _load_records_block(con, plan, blk)
        result = _write_user_data(con, plan, stats, time.perf_counter() - started)
        counts = {t: _count(con, t) for t in ("raw_leads", "raw_contacts", "raw_companies",
                                               "raw_lead_status_events", "cost_ledger")}
    facts = store.refresh_derived(path)
    return {
        "path": str(path), "mode": "bulk" if use_bulk else "records", "leads": counts["raw_leads"],
        "contacts": counts["raw_contacts"], "companies": counts["raw_companies"],
        "events": counts["raw_lead_status_events"], "lead_facts": facts, **result,
        "seconds": round(time.perf_counter() - started, 2),
    }


# ---------------------------------------------------------------- CLI

def _date_arg(text: str) -> date:
    """argparse type for YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _positive(text: str) -> int:
    """argparse type for a positive integer."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `python -m data_layer demo`."""
    parser.add_argument("--db", type=Path, default=store.DEFAULT_DB, help="database file (rebuilt from scratch)")
    parser.add_argument("--leads", type=_positive, default=20000, help="number of leads (default 20000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--end-date", type=_date_arg, default=None,
                        help="last day of the data, YYYY-MM-DD (default today)")


def run(args: argparse.Namespace) -> int:
    """Build the demo database and print one summary line."""
    result = load_demo(args.db, n_leads=args.leads, seed=args.seed, end_date=args.end_date)
    print(f"demo: {result['leads']} leads, {result['partners']} partners, {result['seconds']:.1f} s "
          f"({result['mode']}) -> {result['path']}")
    return 0

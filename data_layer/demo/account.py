"""The demo amoCRM account as the CRM knows it: ids, users, pipelines, loss reasons, sources, fields, tags."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np

ACCOUNT_ID = 29887766
SUBDOMAIN = "demo-primer"
BASE_URL = f"https://{SUBDOMAIN}.amocrm.ru"
ACCOUNT_NAME = "Демо-аккаунт (ООО «Пример»)"
TIMEZONE = "Europe/Moscow"
TZ = ZoneInfo(TIMEZONE)
LEAD_ID_BASE = 31_000_000
CONTACT_ID_BASE = 44_000_000
COMPANY_ID_BASE = 45_000_000

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
COMPANY_INN_FIELD = 1180101

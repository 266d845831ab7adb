"""The anomaly rule in words (RU and EN), built from metrics.changes' own constants: the trends page, the meeting
screen and the weekly report all describe the rule with this one sentence, so none can fall behind the rule."""

from __future__ import annotations

from metrics import changes
from presentation import fmt
from presentation.i18n import Lang

UNITS = {
    "ru": {"week": "недель", "month": "месяцев", "period": "периодов"},
    "en": {"week": "weeks", "month": "months", "period": "periods"},
}
RULE = {
    "ru": "Аномалия — значение вне коридора «медиана ± {k} устойчивых отклонения» за {n} предыдущих {unit} "
          "(нужно не меньше {m}). Отклонение — {mad} × MAD, но не меньше {floor} медианы, а для лидов и сделок — "
          "не меньше √медианы; при медиане и значении меньше {c} число слишком мало для вывода. Созревающие и "
          "незаконченные периоды не оцениваются.",
    "en": "An anomaly is a value outside the band “median ± {k} robust deviations” of the {n} {unit} before it (at "
          "least {m} needed). The deviation is {mad} × MAD, but at least {floor} of the median and, for leads and "
          "deals, at least √median; when both the median and the value are under {c}, the count is too small to "
          "tell. Maturing and unfinished periods are not judged.",
}


def anomaly_rule(lang: Lang, unit: str = "period") -> str:
    """The anomaly rule as one sentence in lang, for periods of `unit` (week, month or period)."""
    return RULE[lang].format(
        k=fmt.num(changes.K, lang, 0), n=changes.WINDOW, m=changes.MIN_HISTORY, unit=UNITS[lang][unit],
        mad=fmt.num(changes.MAD_SCALE, lang, 4), floor=fmt.pct(changes.REL_FLOOR, lang, 0),
        c=fmt.num(changes.MIN_COUNT, lang, 0))

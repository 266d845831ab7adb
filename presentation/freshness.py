"""The data-freshness line — source, last sync, the account's time zone — and moments written in that zone.

One text for the dashboard's caption (ui.layout.show_freshness) and every export's header (reports.header), so a
PDF and the screen never disagree on when the data were synced. No Streamlit here: the weekly cron job uses it too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from presentation import fmt

DEFAULT_TZ = "Europe/Moscow"
TEXT = {
    "ru": {
        "source.demo": "Демо-данные", "source.amocrm": "amoCRM: {name}", "source.none": "Источник неизвестен",
        "synced": "обновлено {when}", "never": "ещё не синхронизировано", "tz": "часовой пояс {tz}",
        "failed": "последняя синхронизация не удалась — см. «Настройки и синхронизация»",
    },
    "en": {
        "source.demo": "Demo data", "source.amocrm": "amoCRM: {name}", "source.none": "Source unknown",
        "synced": "updated {when}", "never": "never synced", "tz": "time zone {tz}",
        "failed": "the last sync failed — see “Settings & sync”",
    },
}


def _say(code: str, key: str, **kwargs: Any) -> str:
    text = TEXT["en" if code == "en" else "ru"][key]
    return text.format(**kwargs) if kwargs else text


def account_tz(info: dict | None) -> str:
    """The account's time zone name (Moscow when the account does not say)."""
    return str((info or {}).get("timezone") or DEFAULT_TZ)


def stored_moment(value: Any, tz: str) -> datetime | None:
    """A `timestamp default current_timestamp` value in the zone tz: DuckDB stores it in its session zone, the
    machine's local one, without saying so (None for a missing value)."""
    if value is None or value != value or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive = this machine's local time, as DuckDB wrote it
    try:
        return moment.astimezone(ZoneInfo(tz))
    except (KeyError, ValueError):  # an unknown zone name: the machine's
        return moment


def moment_text(moment: datetime | str | None, tz: str, code: str) -> str | None:
    """A moment (ISO text or datetime; naive = UTC) in the zone tz: 7 дек. 2026 г., 08:45; None when there is none."""
    if moment is None or moment == "":
        return None
    if not isinstance(moment, datetime):
        try:
            moment = datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
        except ValueError:
            return str(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(ZoneInfo(tz))
    except (KeyError, ValueError):  # an unknown zone name: the moment as it came
        pass
    code = "en" if code == "en" else "ru"
    return format_datetime(moment, format="d MMM y, HH:mm" if code == "ru" else "MMM d, y, HH:mm",
                           locale=fmt.LOCALES[code])


def freshness_line(info: dict | None, code: str) -> str:
    """One line: where the data come from, when they were last synced (account time), the account time zone."""
    if not info:
        return _say(code, "source.none")
    if info.get("source") == "demo":
        what = _say(code, "source.demo")
    elif info.get("account_name"):
        what = _say(code, "source.amocrm", name=info["account_name"])
    else:
        what = _say(code, "source.none")
    tz = account_tz(info)
    when = moment_text(info.get("last_sync_at"), tz, code)
    parts = [what, _say(code, "synced", when=when) if when else _say(code, "never"), _say(code, "tz", tz=tz)]
    if (info.get("last_sync_status") or "").lower() in ("failed", "error"):
        parts.append(_say(code, "failed"))
    return " · ".join(parts)

"""Meeting: the weekly review on a shared screen, six screens of the weekly pack with previous / next navigation.

The numbers are the weekly e-mail's (programme.weekly.build_weekly for the same week, the sidebar's narrowing and the
close-date view, as the reports page builds it); ui.meeting draws the screens.
"""

from __future__ import annotations

from dataclasses import replace

from metrics import lookups
from programme.weekly import build_weekly, default_week
from ui import meeting
from ui.data import query
from ui.filters import current, today


def render() -> None:
    """The meeting page: the title row with the navigation, then the chosen screen of the chosen week."""
    info = query(lookups.freshness)
    start = default_week(today(str(info.get("timezone") or "Europe/Moscow")), query(lookups.data_range)[1])
    step, week = meeting.header(start)
    base = replace(current(), date_from=week, date_to=week)  # only the narrowing (partners, models, …) is used
    meeting.show(query(build_weekly, week, base, "close"), step)


if __name__ == "__main__":
    render()

"""The one filter object every metric, page and export reads."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

MODELS = ("referral", "sales", "service")
ALL_MODELS = (*MODELS, "direct", "unassigned")  # unassigned: a partner whose model is not set yet
View = Literal["cohort", "close"]


class FilterError(ValueError):
    """A filter value is invalid; the message says what to change."""


@dataclass(frozen=True)
class Filters:
    """Period [date_from, date_to] (inclusive, account time zone) and optional narrowing; empty = all."""

    date_from: date
    date_to: date
    partners: tuple[int, ...] = ()   # partner_id values
    models: tuple[str, ...] = ()     # values of ALL_MODELS
    pipelines: tuple[int, ...] = ()
    sources: tuple[str, ...] = ()    # UTM source or amoCRM source name
    view: View = "cohort"            # cohort: won deals of leads created in the period; close: won in the period

    def __post_init__(self) -> None:
        if self.date_from > self.date_to:
            raise FilterError(f"The period starts ({self.date_from}) after it ends ({self.date_to}): swap the dates.")
        bad = [m for m in self.models if m not in ALL_MODELS]
        if bad:
            raise FilterError(f"Unknown model(s) {', '.join(bad)}: use {', '.join(ALL_MODELS)}.")
        if self.view not in ("cohort", "close"):
            raise FilterError(f"Unknown view {self.view!r}: use cohort or close.")

    @property
    def days(self) -> int:
        """Length of the period in days."""
        return (self.date_to - self.date_from).days + 1

    def previous(self) -> Filters:
        """The period of equal length right before date_from, same narrowing."""
        return replace(self, date_from=self.date_from - timedelta(days=self.days),
                       date_to=self.date_from - timedelta(days=1))

"""Fixtures of the programme tests (goals, payouts, planning, the weekly review): the weekly rules read the
session's demo database."""

from __future__ import annotations

from support.demo import app_db  # noqa: F401  (a fixture: pytest finds it by name)

"""Fixtures of the architecture tests: the pages' text checks open the dashboard on the session's demo database,
with every chart checked against the Vega-Lite schema (the import walks need none)."""

from __future__ import annotations

from support.demo import app_db, app_env, validate_chart_specs  # noqa: F401  (fixtures: pytest finds them by name)

"""Fixtures of the metric tests: most build a tiny account (support.accounts) into `tmp_db`; the payback,
pooling, forecast and glossary checks also read the session's demo database, and their page checks validate
every chart against the Vega-Lite schema."""

from __future__ import annotations

from support.demo import app_db, app_env, validate_chart_specs  # noqa: F401  (fixtures: pytest finds them by name)

"""Small read functions the filters and the header need: partner, pipeline and source lists, data range, freshness."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

# One row per partner of the reference table; model null -> 'unassigned'. No parameters.
PARTNERS_SQL = """
select partner_id, name, coalesce(model, 'unassigned') as model, coalesce(active, true) as active
from partners
order by lower(name), partner_id
"""

# One row per pipeline (archived pipelines only when they still hold leads). No parameters.
PIPELINES_SQL = """
select p.id as pipeline_id, p.name, coalesce(p.is_archive, false) as is_archive
from raw_pipelines p
where not coalesce(p.is_archive, false)
   or exists (select 1 from fact_lead_days f where f.pipeline_id = p.id)
order by p.sort nulls last, p.id
"""

# One row per lead source value a filter can take (UTM source or amoCRM source name), most leads first
# (fact_sources of data_layer/derived.sql, rebuilt with lead_facts).
SOURCES_SQL = "select source, leads from fact_sources order by leads desc, source"

# One row: first and last lead creation date (account time zone). No parameters.
DATA_RANGE_SQL = "select min(created_date), max(created_date) from fact_lead_days_partner"

# One row: account name, time zone, currency (demo defaults when nothing is synced yet). No parameters.
ACCOUNT_SQL = "select account_name, timezone, currency from stg_account"

# One row per meta key. No parameters.
META_SQL = "select key, value from meta"

# One row per partner with leads: the date of its first lead ever (account time zone). No parameters.
FIRST_SEEN_SQL = """
select partner_id, min(created_date) as first_date
from fact_lead_days_partner
where partner_id is not null
group by partner_id
"""


def partners(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Partners of the reference table: partner_id, name, model, active."""
    return con.execute(PARTNERS_SQL).df()


def pipelines(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Pipelines a filter can choose: pipeline_id, name, is_archive."""
    return con.execute(PIPELINES_SQL).df()


def sources(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Lead source values (UTM source or amoCRM source name) with their lead counts."""
    return con.execute(SOURCES_SQL).df()


def data_range(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date | None]:
    """First and last lead creation date in the database (None, None when there are no leads)."""
    lo, hi = con.execute(DATA_RANGE_SQL).fetchone()
    return lo, hi


def freshness(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """Where the data comes from and how fresh it is: source, account_name, last_sync_at, currency, timezone."""
    meta = dict(con.execute(META_SQL).fetchall())
    account_name, timezone, currency = con.execute(ACCOUNT_SQL).fetchone()
    return {
        "source": meta.get("source"),
        "account_name": meta.get("account_name") or account_name,
        "last_sync_at": meta.get("last_sync_at"),
        "last_sync_status": meta.get("last_sync_status"),
        "currency": currency or "RUB",
        "timezone": timezone or "Europe/Moscow",
    }


def partner_first_seen(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Date of each partner's first lead ever: partner_id, first_date."""
    return con.execute(FIRST_SEEN_SQL).df()

"""Named SQL queries kept as `.sql` files, with two kinds of trusted text substitution.

* `-- include: <fragment>` lines pull in a shared CTE fragment (`_*.sql`) of this folder.
* `{{slot}}` template slots are filled by :func:`slots` from a fixed whitelist of column expressions
  (which group keys, which deal date) so DuckDB plans each grouping with plain columns.

No value ever goes into the text: every value is a bound `$name` parameter, and :func:`params` keeps
exactly the parameters a query uses (DuckDB rejects extra ones).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
TIME_UNITS = ("week", "month", "quarter")
# First day of d's bucket; day arithmetic is several times cheaper per row than date_trunc on a DATE.
PERIOD_START = {
    "week": "(d - cast(isodow(d) - 1 as integer))",
    "month": "(d - cast(day(d) - 1 as integer))",
    "quarter": "cast(date_trunc('quarter', d) as date)",
}
_INCLUDE = re.compile(r"^\s*--\s*include:\s*([a-z0-9_]+)\s*$", re.MULTILINE)
_SLOT = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


@cache
def load(name: str) -> str:
    """Text of query `name` with its fragments inlined (slots still open)."""
    text = (HERE / f"{name}.sql").read_text(encoding="utf-8")
    return _INCLUDE.sub(lambda m: load(m.group(1)), text)


def slots(dims: Iterable[str] = (), close_view: bool = False, split: bool = False,
          split_filtering: bool = False, seed: bool = False, who_filtered: bool = True) -> tuple[tuple[str, str], ...]:
    """Whitelisted slot texts for a grouping (dims among partner, model, pipeline, source, a time unit)."""
    dims = set(dims)
    unit = next((u for u in TIME_UNITS if u in dims), None)
    keys = [k for k, on in (("k_partner_id", "partner" in dims), ("k_model", "model" in dims),
                            ("k_pipeline_id", "pipeline" in dims), ("k_source", "source" in dims),
                            ("k_period", unit is not None)) if on]
    chosen = {
        "k_partner_id": "partner_id" if "partner" in dims else "cast(null as integer)",
        # A partner's model follows from the partner: grouping by it too would only cost string hashing.
        "k_model": "model" if "model" in dims else "cast(null as varchar)",
        "model_from_partner": "true" if "partner" in dims and "model" not in dims else "false",
        "k_pipeline_id": "pipeline_id" if "pipeline" in dims else "cast(null as bigint)",
        "k_source": "coalesce(utm_source, source_name)" if "source" in dims else "cast(null as varchar)",
        "k_period": PERIOD_START[unit] if unit else "cast(null as date)",
        "group_cols": ", ".join(keys) or "cast(null as integer) as k_partner_id",
        # the same keys read back from an aggregate grouped by group_cols
        "agg_pipeline": "k_pipeline_id" if "pipeline" in dims else "cast(null as bigint)",
        "agg_period": "k_period" if unit else "cast(null as date)",
        "deal_date": "closed_date" if close_view else "created_date",
        "split": "true" if split else "false",
        # lead counts per day: the detailed table only when pipelines or sources are filtered or grouped
        "lead_days": "fact_lead_days" if split else "fact_lead_days_partner",
        "split_filtering": "true" if split_filtering else "false",
        "seed": "true" if seed else "false",
        "who_filtered": "true" if who_filtered else "false",
    }
    return tuple(sorted(chosen.items()))


@cache
def render(name: str, slot_items: tuple[tuple[str, str], ...] = ()) -> str:
    """Query `name` with its template slots filled from `slot_items` (a :func:`slots` result)."""
    filled = dict(slot_items)
    return _SLOT.sub(lambda m: filled[m.group(1)], load(name))


@cache
def param_names(text: str) -> frozenset[str]:
    """Names of the `$` parameters a query text uses (comments ignored)."""
    code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    return frozenset(_PARAM.findall(code))


def params(text: str, values: dict[str, Any]) -> dict[str, Any]:
    """The subset of `values` that query text binds; a missing one raises KeyError naming it."""
    return {key: values[key] for key in param_names(text)}

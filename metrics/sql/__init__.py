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


def slots(dims: Iterable[str] = ()) -> tuple[tuple[str, str], ...]:
    """Whitelisted slot texts of a query over plain lead rows grouped by dims (partner, model, pipeline, source,
    a time unit); the scope-based queries use :func:`scope_slots`."""
    dims = set(dims)
    unit = next((u for u in TIME_UNITS if u in dims), None)
    chosen = {
        "k_partner_id": "partner_id" if "partner" in dims else "cast(null as integer)",
        # A partner's model follows from the partner: grouping by it too would only cost string hashing.
        "k_model": "model" if "model" in dims else "cast(null as varchar)",
        "model_from_partner": "true" if "partner" in dims and "model" not in dims else "false",
        "k_pipeline_id": "pipeline_id" if "pipeline" in dims else "cast(null as bigint)",
        "k_source": "coalesce(utm_source, source_name)" if "source" in dims else "cast(null as varchar)",
        "k_period": PERIOD_START[unit] if unit else "cast(null as date)",
    }
    return tuple(sorted(chosen.items()))


# Group keys of the scope-based queries (_scope.sql). Each row carries its scope's g_* columns; a key is a plain
# column when every scope of the query groups by it, a typed null when none does (DuckDB then hashes nothing for
# it) and a CASE on the row's flag when only some do. `d` is the row's date (creation, or the deal date).
SCOPE_KEYS = {
    "k_partner_id": ("partner", "partner_id", "integer"),
    "k_model": ("model", "model", "varchar"),
    "k_pipeline_id": ("pipeline", "pipeline_id", "bigint"),
    "k_source": ("source", "coalesce(utm_source, source_name)", "varchar"),
}
SCOPE_KEY_TYPES = {**{slot: null_type for slot, (_, _, null_type) in SCOPE_KEYS.items()}, "k_period": "date"}
FLAG = {"partner": "g_partner", "model": "g_model", "pipeline": "g_pipeline", "source": "g_source"}


def _scope_key(users: int, n: int, expr: str, flag: str, null_type: str) -> str:
    if users == 0:
        return f"cast(null as {null_type})"
    return expr if users == n else f"case when {flag} then {expr} end"


def _roll_keys(groupings: tuple[tuple[str, ...], ...]) -> str:
    """Select list of a scope's keys from its family's rows `p` (joined as `sc`): each key the scope groups by."""
    n = len(groupings)
    out = []
    for slot, (dim, _, null_type) in SCOPE_KEYS.items():
        out.append(_scope_key(sum(dim in dims for dims in groupings), n, f"p.{slot}", f"sc.{FLAG[dim]}", null_type))
    timed = sum(any(u in dims for u in TIME_UNITS) for dims in groupings)
    out.append(_scope_key(timed, n, "p.k_period", "sc.g_unit is not null", "date"))
    return ", ".join(f"{expr} as {slot}" for expr, slot in zip(out, [*SCOPE_KEYS, "k_period"], strict=True))


def scope_slots(groupings: tuple[tuple[str, ...], ...], detailed: bool,
                scope_groupings: tuple[tuple[str, ...], ...] | None = None) -> tuple[tuple[str, str], ...]:
    """Whitelisted slot texts of a scope-based query whose families group by `groupings` (one dims tuple each;
    a family is one scope unless scopes share data, see metrics.query._families) and whose scopes group by
    `scope_groupings` (default: the same); detailed: lead counts per pipeline and source too."""
    n = len(groupings)
    chosen: dict[str, str] = {}
    used = []
    for slot, (dim, expr, null_type) in SCOPE_KEYS.items():
        users = sum(dim in dims for dims in groupings)
        chosen[slot] = _scope_key(users, n, expr, FLAG[dim], null_type)
        used += [slot] if users else []
    units = {next((u for u in TIME_UNITS if u in dims), None) for dims in groupings}
    if units == {None}:
        chosen["k_period"] = "cast(null as date)"
    elif len(units) == 1:
        chosen["k_period"] = PERIOD_START[next(iter(units))]
    else:
        chosen["k_period"] = ("case g_unit " + " ".join(f"when '{u}' then {PERIOD_START[u]}" for u in TIME_UNITS)
                              + " end")
    used += ["k_period"] if units != {None} else []
    chosen.update({
        "group_cols": ", ".join(["sid", *used]),
        # every key column of rows that carry them all, an unused one as its typed null constant: GROUP BY ALL
        # then groups by the used keys only (a null column of a CTE would be hashed like any other, ~2x the cost)
        "key_cols": ", ".join(["sid", *(slot if slot in used else f"cast(null as {SCOPE_KEY_TYPES[slot]}) as {slot}"
                                       for slot in SCOPE_KEY_TYPES)]),
        "deal_date": "case when close_view then closed_date else created_date end",
        "lead_days": "fact_lead_days" if detailed else "fact_lead_days_partner",
        "roll_keys": _roll_keys(scope_groupings or groupings),
    })
    return tuple(sorted(chosen.items()))


# Texts of the slots that name which CTEs a scope query reads (a CTE no slot names is not planned at all).
DEAL_VIEWS = {  # scope_deals: the won deals of the views the query's families use
    (False,): "select * from cohort_deals",
    (True,): "select * from close_deals",
    (False, True): "select * from cohort_deals union all select * from close_deals",
}
SPLIT_REL = {True: "split", False: "no_split"}  # split_rel: whether any scope splits its ledger costs
ALL_REVENUE = {True: "revenue_all", False: "revenue_in_scope"}  # all_revenue: whether filters narrow the deals
LOST_PART = {  # lost_part: whether a family is of the close view (else none reads lost leads)
    True: "union all by name select * from lost_agg",
    False: "union all by name select sid, cast(null as hugeint) as lost_closed from fams where false",
}
CLIENT_PART = {  # client_part: whether any scope computes the client metrics (else none reads clients)
    True: "union all by name select * from close_agg union all by name select * from life_agg",
    False: "union all by name select sid, cast(null as double) as time_to_close_days from scopes where false",
}


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

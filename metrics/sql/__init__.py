"""Named SQL queries kept as `.sql` files: Jinja2 templates whose choices are visible in the SQL itself.

* `{% include "_fragment.sql" %}` pulls in a shared CTE fragment (`_*.sql`) of this folder.
* `{% if %}` / `{% for %}` blocks pick the query's shape (which group keys, which CTEs are read) from *template
  inputs*: booleans and names from fixed whitelists only, checked by :func:`check_inputs` (see ``INPUTS``).
  The group-key expressions are the whitelist of `_keys.sql`. A missing input raises (StrictUndefined).

No value ever goes into the text: every value is a bound `$name` parameter, and :func:`params` keeps
exactly the parameters a query uses (DuckDB rejects extra ones). docs/sql.md explains how to read a query;
`python -m metrics.sql show NAME` prints one as a page runs it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

HERE = Path(__file__).parent
TIME_UNITS = ("week", "month", "quarter")
KEY_DIMS = ("partner", "model", "pipeline", "source")  # the non-time group keys, in k_* column order
USES = ("all", "some", "none")  # how many of a query's families (or scopes) group by a key
PERIODS = ("none", *TIME_UNITS, "by_unit")  # by_unit: the families use different units (or some none)
DEAL_VIEWS = ("cohort", "close")
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


class TemplateInputError(ValueError):
    """A template input that is missing, unknown or outside its whitelist."""


def _uses(value: Any, dims: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping) or set(value) != set(dims) or any(v not in USES for v in value.values()):
        raise TemplateInputError(f"expected a mapping of {', '.join(dims)} to one of {', '.join(USES)}, "
                                 f"got {value!r}")
    return tuple((d, value[d]) for d in dims)


def _choice(options: tuple[str, ...]) -> Any:
    def check(value: Any) -> str:
        if value not in options:
            raise TemplateInputError(f"expected one of {', '.join(options)}, got {value!r}")
        return value
    return check


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TemplateInputError(f"expected true or false, got {value!r}")
    return value


def _views(value: Any) -> tuple[str, ...]:
    views = tuple(value) if isinstance(value, (tuple, list)) else ()
    if not views or any(v not in DEAL_VIEWS for v in views) or len(set(views)) != len(views):
        raise TemplateInputError(f"expected one or both of {', '.join(DEAL_VIEWS)}, got {value!r}")
    return tuple(v for v in DEAL_VIEWS if v in views)


# Every template input a query may take: name -> (check / normaliser, what it chooses).
INPUTS: dict[str, tuple[Any, str]] = {
    "keys": (lambda v: _uses(v, KEY_DIMS), "per key (partner, model, pipeline, source): do all, some or none of "
             "the families group by it (_keys.sql: the column, a CASE on the row's g_* flag, a typed null)"),
    "period": (_choice(PERIODS), "the families' period bucket: none, week, month, quarter, or by_unit (a CASE "
               "on the row's g_unit)"),
    "roll": (lambda v: _uses(v, (*KEY_DIMS, "period")), "per key and period: do all, some or none of the scopes "
             "group by it (roll_keys: a scope's keys from its families' rows)"),
    "detailed": (_flag, "a scope groups or filters by pipeline / source: the detailed lead-day table and the "
                 "ledger split (`split`, else `no_split`)"),
    "deal_views": (_views, "the views whose won deals the families read: cohort_deals, close_deals or both"),
    "narrowed": (_flag, "partner / model / source filters narrow the deals: revenue shares from revenue_all, "
                 "else revenue_in_scope"),
    "lost_leads": (_flag, "a family is of the close view: lost_agg's lost leads closed in it"),
    "clients": (_flag, "a scope computes the client metrics: close_agg and life_agg"),
    "won_only": (_flag, "deals.sql: only the won deals in scope (else every lead of L)"),
    "by_lead": (_flag, "funnel.sql / quality.sql: read the leads one by one (else the day counts)"),
    "incremental": (_flag, "roi_units.sql: pre-existing clients' deals bring no income (incremental ROI)"),
}


def check_inputs(inputs: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The template inputs checked against their whitelists, as a sorted hashable tuple; raise
    TemplateInputError naming the bad one."""
    out = []
    for name, value in inputs.items():
        if name not in INPUTS:
            raise TemplateInputError(f"Unknown template input {name!r}: the inputs are {', '.join(INPUTS)}.")
        try:
            out.append((name, INPUTS[name][0](value)))
        except TemplateInputError as exc:
            raise TemplateInputError(f"Template input {name!r}: {exc}.") from None
    return tuple(sorted(out))


_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE), undefined=jinja2.StrictUndefined, autoescape=False,
    trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, auto_reload=False)


def _jinja_values(items: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """Checked inputs as the template sees them (mappings of uses as dicts)."""
    return {name: dict(value) if name in ("keys", "roll") else value for name, value in items}


@cache
def _render(name: str, items: tuple[tuple[str, Any], ...]) -> str:
    try:
        return _ENV.get_template(f"{name}.sql").render(_jinja_values(items))
    except jinja2.UndefinedError as exc:
        raise TemplateInputError(f"Query {name!r} needs a template input it was not given: {exc.message}.") from None


def render(name: str, inputs: Mapping[str, Any] | None = None) -> str:
    """Query `name` rendered for its template inputs (checked; see INPUTS)."""
    return _render(name, check_inputs(inputs or {}))


def load(name: str) -> str:
    """Text of a query that takes no template inputs."""
    return render(name)


def plain_inputs(dims: Iterable[str] = ()) -> dict[str, Any]:
    """Template inputs of a query over plain lead rows grouped by dims (partner, model, pipeline, source, a time
    unit): every key is used by all rows or none."""
    dims = set(dims)
    return {"keys": {d: "all" if d in dims else "none" for d in KEY_DIMS},
            "period": next((u for u in TIME_UNITS if u in dims), "none")}


def _use(users: int, n: int) -> str:
    return "none" if users == 0 else "all" if users == n else "some"


def scope_keys(groupings: tuple[tuple[str, ...], ...],
               scope_groupings: tuple[tuple[str, ...], ...]) -> dict[str, Any]:
    """The key inputs of a scope-based query whose families group by `groupings` (one dims tuple each) and whose
    scopes group by `scope_groupings` (metrics.query._families)."""
    n, m = len(groupings), len(scope_groupings)
    units = {next((u for u in TIME_UNITS if u in dims), None) for dims in groupings}
    period = "none" if units == {None} else next(iter(units)) if len(units) == 1 else "by_unit"
    timed = sum(any(u in dims for u in TIME_UNITS) for dims in scope_groupings)
    return {"keys": {d: _use(sum(d in dims for dims in groupings), n) for d in KEY_DIMS}, "period": period,
            "roll": {**{d: _use(sum(d in dims for dims in scope_groupings), m) for d in KEY_DIMS},
                     "period": _use(timed, m)}}


def full_inputs(name: str) -> dict[str, Any]:
    """Template inputs under which query `name` takes every optional part it has (both deal views, the split, the
    lost leads, the client metrics, ...): the text that references every relation the query may read."""
    text = (HERE / f"{name}.sql").read_text(encoding="utf-8")
    every: dict[str, Any] = plain_inputs()
    if "_scope.sql" in text or "g_partner" in text:  # a scope-based query (maturity.sql has its own scopes)
        every.update(scope_keys(((),), ((),)), detailed=True, deal_views=DEAL_VIEWS, narrowed=True,
                     lost_leads=True, clients=True)
    every.update({flag: True for flag in ("won_only", "by_lead") if flag in text})
    return every


@cache
def param_names(text: str) -> frozenset[str]:
    """Names of the `$` parameters a query text uses (comments ignored)."""
    code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    return frozenset(_PARAM.findall(code))


def params(text: str, values: dict[str, Any]) -> dict[str, Any]:
    """The subset of `values` that query text binds; a missing one raises KeyError naming it."""
    return {key: values[key] for key in param_names(text)}


def names() -> tuple[str, ...]:
    """Every query of this folder (fragments, the `_*.sql` files, excluded)."""
    return tuple(sorted(p.stem for p in HERE.glob("[a-z]*.sql")))


def description(name: str) -> str:
    """The header comment of query `name` (its leading `--` lines, name prefix dropped), as one line."""
    lines = []
    for line in (HERE / f"{name}.sql").read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].strip())
    text = " ".join(lines)
    return text.removeprefix(f"{name}:").strip()

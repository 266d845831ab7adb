"""Named SQL queries kept as `.sql` files; `-- include: <fragment>` lines pull in shared CTE fragments.

Only trusted files of this folder are ever spliced into the text; every value is a bound `$name`
parameter, and `params()` keeps exactly the parameters a query uses (DuckDB rejects extra ones).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
_INCLUDE = re.compile(r"^\s*--\s*include:\s*([a-z0-9_]+)\s*$", re.MULTILINE)
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


@cache
def load(name: str) -> str:
    """Text of query `name` with its fragments inlined."""
    text = (HERE / f"{name}.sql").read_text(encoding="utf-8")
    return _INCLUDE.sub(lambda m: load(m.group(1)), text)


@cache
def param_names(name: str) -> frozenset[str]:
    """Names of the `$` parameters query `name` uses."""
    text = "\n".join(line.split("--", 1)[0] for line in load(name).splitlines())
    return frozenset(_PARAM.findall(text))


def params(name: str, values: dict[str, Any]) -> dict[str, Any]:
    """The subset of `values` that query `name` binds; a missing one raises KeyError naming it."""
    return {key: values[key] for key in param_names(name)}

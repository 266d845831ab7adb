"""metrics.fetch.frame gives what DuckDB's .df() gives, column type by column type, nulls or not."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from metrics import fetch

ROWS = """select * from (values
    (1::tinyint, 2::smallint, 3::integer, 4::bigint, 5::hugeint, 6::ubigint, 1.5::float, 2.5::double,
     1.25::decimal(18, 2), true, 'текст', date '2024-01-02', [1.0, 2.0]::double[], 'всегда'),
    (null, null, null, null, null, null, null, null, null, null, null, null, null, 'тоже'),
    (-1, -2, -3, -4, -5, 7, -1.5, -2.5, -1.25, false, '=1+1', date '1999-12-31', []::double[], 'и тут')
) t(ti, si, i, b, h, ub, f, d, dec, bo, s, dt, l, s_full)
where list_contains($keep, s_full)"""


@pytest.mark.parametrize("keep", [["всегда", "тоже", "и тут"], ["всегда", "и тут"], [], ["тоже"]])
def test_frame_is_what_df_gives(keep: list[str]) -> None:
    """With nulls, without, no rows at all, only nulls."""
    con = duckdb.connect()
    expected = con.execute(ROWS, {"keep": keep}).df()
    got = fetch.frame(con.execute(ROWS, {"keep": keep}))
    # a missing list is None (.df() says None or pd.NA depending on the column's other values)
    assert [None if v is None else list(v) for v in got.pop("l")] == \
        [None if v is None or v is pd.NA else list(v) for v in expected.pop("l")]
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert list(got.dtypes) == list(expected.dtypes)


def test_other_column_types_and_repeated_names_are_left_to_df() -> None:
    con = duckdb.connect()
    for query in ("select timestamp '2024-01-02 03:04:05' as t, 1 as n", "select 1 as a, 2 as a",
                  "select {'x': 1} as s", "select 1 as n where false"):
        pd.testing.assert_frame_equal(fetch.frame(con.execute(query)), con.execute(query).df(), check_exact=True)

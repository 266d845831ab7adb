"""The template database every `tmp_db` copies is what store.init_db makes of a new file: same tables, views,
macros and sequences with the same definitions, the same migrations recorded, nothing left to upgrade, and a
version stamp of its own."""

from __future__ import annotations

from pathlib import Path

from support import template

from data_layer import store

CATALOG = {
    "tables": "select table_name, sql from duckdb_tables() order by all",
    "columns": "select table_name, column_name, data_type, column_default, is_nullable from duckdb_columns() "
               "order by all",
    "views": "select view_name, sql from duckdb_views() where not internal order by all",
    "macros": "select function_name, macro_definition from duckdb_functions() "
              "where function_type in ('macro', 'table_macro') and not internal order by all",
    "sequences": "select sequence_name, start_value, increment_by from duckdb_sequences() order by all",
    "indexes": "select table_name, index_name, sql from duckdb_indexes() order by all",
}


def catalog(path: Path) -> dict[str, list[tuple]]:
    """Every schema object of the database with its definition, and each table's row count."""
    with store.connect(path, read_only=True) as con:
        out = {kind: con.execute(sql).fetchall() for kind, sql in CATALOG.items()}
        tables = [name for name, _ in out["tables"]]
        out["rows"] = [(t, con.execute(store.sql_with_names("select count(*) from {t}", t=t)).fetchone()[0])
                       for t in tables]
        out["migrations"] = store.applied_migrations(con)
    return out


def test_a_copy_of_the_template_equals_a_fresh_init_db(tmp_db: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.duckdb"
    assert store.init_db(fresh) == [name for name, _ in store.MIGRATIONS]
    assert catalog(tmp_db) == catalog(fresh)
    assert catalog(tmp_db)["migrations"] == [name for name, _ in store.MIGRATIONS]
    assert store.upgrade(tmp_db) == [] and store.init_db(tmp_db) == []


def test_each_copy_has_its_own_version_stamp_and_no_write_ahead_log(template_db: Path, tmp_path: Path) -> None:
    a = template.copy_template(template_db, tmp_path / "a.duckdb")
    b = template.copy_template(template_db, tmp_path / "b.duckdb")
    stamps = {store.data_version(p) for p in (template_db, a, b)}
    assert len(stamps) == 3 and "" not in stamps
    assert not any(Path(f"{p}{template.WAL}").exists() for p in (template_db, a, b))

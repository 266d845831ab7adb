"""The template database: migrated once per test session, copied for every test that needs an empty database.

``store.init_db`` runs every migration and rebuilds the derived tables (~0.4 s a file on the shared box); a copy
of the finished file takes about a millisecond. A copy is what init_db leaves behind: the DuckDB file (closed,
so fully checkpointed: no ``.wal``) and a ``.version`` stamp of its own — a fresh one, as init_db writes, so two
copies never share a data-version stamp (the dashboard keys its caches by it).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from data_layer import store

WAL = ".wal"  # DuckDB's write-ahead log beside the file; absent once every connection closed


def build_template(folder: Path) -> Path:
    """A migrated, empty database under folder, made by store.init_db (the session's template)."""
    path = folder / "template.duckdb"
    store.init_db(path)
    assert not Path(f"{path}{WAL}").exists(), "the template must be checkpointed before it is copied"
    return path


def copy_template(template: Path, dest: Path) -> Path:
    """dest becomes a migrated, empty database: a copy of template with its own new version stamp."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, dest)
    store.bump_version(dest)
    return dest

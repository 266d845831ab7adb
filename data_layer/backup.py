"""The copy of the database a CLI sync keeps (`<db>.backup`), and putting it back when the file is damaged.

A sync takes the copy inside its first write connection, after a checkpoint: DuckDB's write lock keeps every
other writer out while the file is copied, so the copy is a consistent file. A sync that then finds the file
unreadable (a rare SIGKILL mid-write can leave "checksum" damage) restores the copy, moves the damaged file aside
and resumes from the copy's watermark; `python -m data_layer restore` does the same by hand. What a user edited
in the dashboard after the copy was taken is not in it, and every message says so with the copy's time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from datetime import datetime
from pathlib import Path

import duckdb

from data_layer import store

SWITCH = "PARTNER_ROI_SYNC_BACKUP"  # "0": syncs keep no copy (e.g. a file too large to copy at every sync)


def enabled() -> bool:
    """Whether CLI syncs keep a copy of the file (on unless PARTNER_ROI_SYNC_BACKUP=0)."""
    return os.environ.get(SWITCH, "1").strip() != "0"


def taken_at(db: str | Path) -> datetime | None:
    """When the copy was taken (local time), or None when there is none."""
    try:
        return datetime.fromtimestamp(store.backup_path(db).stat().st_mtime)
    except OSError:
        return None


def copy_locked(con: duckdb.DuckDBPyConnection, db: str | Path) -> Path:
    """Copy the file while con (a write connection, so no other writer) holds it; replace the old copy atomically."""
    con.execute("checkpoint")  # everything in the main file, the WAL empty: the file alone is the database
    source = Path(db).resolve()
    target = store.backup_path(db)
    tmp = store.sidecar(db, ".backup.tmp")
    try:
        shutil.copyfile(source, tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)  # a kill mid-copy leaves the previous copy whole
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return target


def usable(db: str | Path) -> bool:
    """Whether a copy exists and is itself a readable Partner ROI database."""
    copy = store.backup_path(db)
    if not copy.exists():
        return False
    try:
        with duckdb.connect(str(copy), read_only=True) as con:
            con.execute("select count(*) from schema_migrations").fetchone()
    except duckdb.Error:
        return False
    return True


def restore(db: str | Path) -> Path:
    """Put the copy in place of the damaged file; return where the damaged file (and its WAL) was moved.

    The caller holds the sync lock (no sync writes meanwhile) and has checked `usable(db)`."""
    db = Path(db).resolve()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = Path(f"{db}.damaged-{stamp}")
    if db.exists():
        os.replace(db, aside)
    wal = Path(f"{db}.wal")
    if wal.exists():  # the damaged file's log must never be replayed onto the copy
        os.replace(wal, Path(f"{aside}.wal"))
    tmp = store.sidecar(db, ".restore.tmp")
    shutil.copyfile(store.backup_path(db), tmp)
    os.replace(tmp, db)
    store.bump_version(db)  # dashboards drop every cached result of the damaged file
    return aside


def restored_sentence(db: str | Path, aside: Path, when: datetime | None, lang: str = "en") -> str:
    """The one sentence a restore reports: the copy's time, where the damaged file went, what is not in the copy."""
    moment = when.strftime("%d.%m.%Y %H:%M") if when else "?"
    if lang == "ru":
        return (f"Файл базы {db} был повреждён: восстановлена копия от {moment}, повреждённый файл сохранён как "
                f"{aside}. Изменения, внесённые в дашборде после {moment}, в копии нет — внесите их снова; данные "
                "amoCRM догрузит следующая синхронизация.")
    return (f"The database file {db} was damaged: restored the copy taken {moment}; the damaged file was kept as "
            f"{aside}. Edits made in the dashboard after {moment} are not in the copy — enter them again; the next "
            "sync fetches what changed in amoCRM.")

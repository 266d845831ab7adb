"""`python -m data_layer restore`: put the sync's copy (`<db>.backup`) back in place of a damaged database file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from data_layer import backup, store
from data_layer.sync.runner import single_sync

TEXT = {
    "en": {
        "none": "There is no copy of {db} to restore (syncs keep one at {copy}): rebuild the file from amoCRM with "
                "`python -m data_layer sync --full --db {db}`.",
        "bad_copy": "The copy {copy} is not readable either: rebuild the file from amoCRM with "
                    "`python -m data_layer sync --full --db {db}`.",
        "intact": "{db} is readable, so nothing needs restoring; restoring the copy of {when} would discard every "
                  "change since — pass --force to do it anyway.",
    },
    "ru": {
        "none": "Копии файла {db} нет (синхронизация хранит её как {copy}): пересоберите базу из amoCRM: "
                "`python -m data_layer sync --full --db {db}`.",
        "bad_copy": "Копия {copy} тоже не читается: пересоберите базу из amoCRM: "
                    "`python -m data_layer sync --full --db {db}`.",
        "intact": "Файл {db} читается, восстанавливать нечего; копия от {when} отменила бы все изменения после неё — "
                  "добавьте --force, если это и нужно.",
    },
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `python -m data_layer restore`."""
    parser.add_argument("--db", type=Path, default=store.DEFAULT_DB, help="database file (default %(default)s)")
    parser.add_argument("--force", action="store_true", help="restore even though the file is readable")
    parser.add_argument("--lang", choices=("ru", "en"), default="en", help="message language (default en)")


def _damaged(db: Path) -> bool:
    """Whether the file is missing or not a readable Partner ROI database."""
    if not db.exists():
        return True
    try:
        store.check(db)
    except store.DamagedDatabase:
        return True
    return False


def run(args: argparse.Namespace) -> int:
    """Restore under the sync lock: 0 restored; 1 nothing to restore, the copy unreadable, or the file intact."""
    words = TEXT[args.lang]
    db, copy = Path(args.db), store.backup_path(args.db)
    with single_sync(db):  # no sync writes the file while it is replaced
        when = backup.taken_at(db)
        if when is None:
            print(words["none"].format(db=db, copy=copy), file=sys.stderr)
            return 1
        if not backup.usable(db):
            print(words["bad_copy"].format(db=db, copy=copy), file=sys.stderr)
            return 1
        if not args.force and not _damaged(db):
            print(words["intact"].format(db=db, when=when.strftime("%d.%m.%Y %H:%M")), file=sys.stderr)
            return 1
        aside = backup.restore(db)
    print(backup.restored_sentence(db, aside, when, args.lang))
    return 0

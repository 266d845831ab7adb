"""DuckDB store: short-lived connections, named migrations, data-version stamp, derived tables.

Concurrency design (DuckDB allows one writing process per file): no process holds the file open for
long. The sync fetches over the network with the file closed and writes each window in one short
transaction; the dashboard opens the file read-only for one rerun's queries and keeps it open at most a
couple of idle seconds after (ui.data); every opener retries on a lock conflict for up to
``LOCK_WAIT_SECONDS``, and a writer kept waiting says so in a ``<db>.write-wanted`` marker so idle readers
step aside at once. A sidecar ``<db>.version`` file, bumped after every write, lets readers key their caches
without opening the database.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import duckdb

HERE = Path(__file__).parent
DEFAULT_DB = Path(os.environ.get("PARTNER_ROI_DB", "cache/partner_roi.duckdb"))
LOCK_WAIT_SECONDS = 60.0
DERIVED_SQL = HERE / "derived.sql"
MACROS_SQL = HERE / "macros.sql"  # the shared rules (band, interval); metrics.macros evaluates them in Python
# The fact_* tables derived.sql (re)creates: rebuilt from lead_facts and the raw tables, never edited.
DERIVED_TABLES = tuple(re.findall(r"^create or replace table (\w+)", DERIVED_SQL.read_text(encoding="utf-8"), re.M))

# A migration runs one SQL file or, in order and in one transaction, several.
MIGRATIONS: list[tuple[str, Path | tuple[Path, ...]]] = [
    # a new file gets the identity keys with the core tables: derived.sql (0004 on) reads them
    ("0001_core", (HERE / "schema.sql", HERE / "m0010_client_identity.sql")),
    ("0002_staging", HERE / "views.sql"),
    ("0003_goals_payouts_audit", HERE / "goals_audit.sql"),
    ("0004_derived_tables", DERIVED_SQL),
    ("0005_deal_list_columns", DERIVED_SQL),  # deal list columns, field fill counts: the fact tables rebuilt
    ("0006_revenue_stage_days", DERIVED_SQL),  # fact_revenue_days, fact_stage_days: the fact tables rebuilt
    ("0007_quality_days", DERIVED_SQL),  # phone / e-mail counts, fact_lost_days: the fact tables rebuilt
    # client identity (company before a non-main contact), rules' tier_kind, fact_lost_close_days: lead_facts and
    # the fact tables rebuilt
    ("0008_definitions", (HERE / "views.sql", HERE / "m0008_definitions.sql", DERIVED_SQL)),
    ("0009_rule_macros", MACROS_SQL),  # roi_band, wilson_low / wilson_high: one home for the shared rules
    ("0010_client_identity", (HERE / "m0010_client_identity.sql", DERIVED_SQL)),  # identity keys, fact_preexisting
    ("0011_clawbacks", HERE / "m0011_clawbacks.sql"),  # per-deal accruals, dated payout reversals
    ("0012_alerts", HERE / "alerts.sql"),  # alert rules, their state per scope, events and sends (user data)
    ("0013_events", HERE / "m0013_events.sql"),  # user_events: the events a user marks on the charts
]


# Called with the path before this process opens a database for writing (ui.data closes the read-only
# connection it keeps between reruns: DuckDB allows one configuration per file within a process).
_BEFORE_WRITE: list[Callable[[Path], None]] = []


def on_before_write(hook: Callable[[Path], None]) -> None:
    """Call hook(path) before this process opens a database for writing (registered once)."""
    if hook not in _BEFORE_WRITE:
        _BEFORE_WRITE.append(hook)


def sidecar(path: str | Path, suffix: str) -> Path:
    """``<db><suffix>`` named from the resolved file: a symlink, a relative or a ``..`` path name the same one."""
    return Path(str(Path(path).resolve()) + suffix)


def backup_path(path: str | Path) -> Path:
    """The copy of the database a CLI sync keeps (data_layer.backup takes and restores it)."""
    return sidecar(path, ".backup")


def write_wanted_path(path: str | Path) -> Path:
    """Marker file a writer kept waiting by a reader touches while it waits."""
    return sidecar(path, ".write-wanted")


def write_wanted(path: str | Path) -> bool:
    """Whether a writer is waiting for this database (a marker older than the lock wait is a dead writer's)."""
    try:
        age = time.time() - write_wanted_path(path).stat().st_mtime
    except OSError:
        return False
    return age < LOCK_WAIT_SECONDS + 5


class StoreError(RuntimeError):
    """The database cannot be opened or is not a Partner ROI database."""


# The one sentence every entry point (dashboard, data_layer / metrics / reports CLIs) gives for such a file; with a
# sync's copy beside it, the sentence names the copy's time and the command that puts it back.
DAMAGED_TEXT = {
    "ru": "Файл базы {path} повреждён или это не база Partner ROI: восстановите его из резервной копии или "
          "уберите его в сторону и пересоберите базу из amoCRM: `python -m data_layer sync --full --db {path}`.",
    "en": "The database file {path} is damaged or is not a Partner ROI database: restore it from a backup, or "
          "move it aside and rebuild it from amoCRM: `python -m data_layer sync --full --db {path}`.",
}
DAMAGED_WITH_COPY = {
    "ru": "Файл базы {path} повреждён или это не база Partner ROI. Есть копия от {when}: восстановите её командой "
          "`python -m data_layer restore --db {path}` (или запустите синхронизацию — она восстановит копию сама); "
          "изменения после {when} придётся внести снова.",
    "en": "The database file {path} is damaged or is not a Partner ROI database. A copy taken {when} exists: "
          "restore it with `python -m data_layer restore --db {path}` (or run a sync, which restores it itself); "
          "edits made after {when} will have to be entered again.",
}


class DamagedDatabase(StoreError):
    """The file is not a readable Partner ROI database: truncated, overwritten, or another program's DuckDB file."""

    def __init__(self, path: str | Path, detail: str = "") -> None:
        self.path = Path(path)
        self.detail = detail  # DuckDB's own words, for logs
        super().__init__(self.text("en"))

    def text(self, lang: str = "en") -> str:
        """The sentence in RU or EN (naming the sync's copy when there is one)."""
        key = "ru" if lang == "ru" else "en"
        try:
            taken = datetime.fromtimestamp(backup_path(self.path).stat().st_mtime)
        except OSError:
            return DAMAGED_TEXT[key].format(path=self.path)
        return DAMAGED_WITH_COPY[key].format(path=self.path, when=taken.strftime("%d.%m.%Y %H:%M"))


# What DuckDB says about a file it cannot read as a database (IO errors about other files, e.g. a disk full
# while writing an export, are not damage of ours).
_DAMAGE_MARKS = ("not a valid duckdb database file", "corrupt database file", "could not read enough bytes",
                 "database file with version number", "replaying wal", "checksum")


def is_damage(exc: BaseException, path: str | Path | None = None) -> bool:
    """Whether a DuckDB error means the database file (at path, when given) itself is unreadable."""
    if isinstance(exc, duckdb.SerializationException):
        return True
    text = str(exc).lower()
    if not isinstance(exc, duckdb.IOException) or not any(m in text for m in _DAMAGE_MARKS):
        return False
    # a short read names its file: one of ours, not e.g. a truncated Parquet file a query read
    return path is None or "could not read enough bytes" not in text or Path(path).name.lower() in text


def _check_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """DamagedDatabase unless the file is new (no tables) or a Partner ROI database (schema_migrations)."""
    try:
        con.execute("select 1 from schema_migrations limit 1").fetchall()  # ~0.2 ms: the common case
        return
    except duckdb.CatalogException:
        pass
    except duckdb.Error as exc:
        if is_damage(exc, path):
            raise DamagedDatabase(path, str(exc)) from exc
        raise
    foreign = con.execute("select (select count(*) from duckdb_tables() where database_name = current_database())"
                          " + (select count(*) from duckdb_views() where database_name = current_database()"
                          " and not internal)").fetchone()[0]
    if foreign:  # someone else's tables: never migrate (write) into them, never read them as ours
        raise DamagedDatabase(path, "no schema_migrations table")


def _is_lock_error(exc: Exception) -> bool:
    if is_damage(exc):  # "checksum … in block at …" says "lock" too: damage must be named at once, not waited on
        return False
    text = str(exc).lower()
    # "different configuration": this process has the file open read-only while we want to write (or the other
    # way round); like another process's lock, it ends when that short connection closes
    return ("lock" in text or "conflicting" in text or "being used by another" in text
            or "different configuration" in text)


@contextlib.contextmanager
def connect(path: str | Path = DEFAULT_DB, read_only: bool = False,
            wait: float = LOCK_WAIT_SECONDS) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the database briefly, retrying while another process holds the write lock.

    DamagedDatabase when the file is unreadable or another program's DuckDB file (on open, on the schema check
    right after it, or on any read of the unit of work)."""
    path = Path(path)
    if read_only and not path.exists():
        raise StoreError(f"Database {path} does not exist: run `make run` or `python -m data_layer demo`.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not read_only:
        for hook in _BEFORE_WRITE:
            hook(path)
    deadline = time.monotonic() + wait
    delay = 0.02
    marker = write_wanted_path(path)
    waited = False
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.Error as exc:  # lock held by another process: wait, it is short
            if not _is_lock_error(exc) or time.monotonic() > deadline:
                if waited:
                    marker.unlink(missing_ok=True)
                if is_damage(exc, path):
                    raise DamagedDatabase(path, str(exc)) from exc
                raise StoreError(f"Cannot open {path}: {exc}") from exc
            if not read_only:  # a dashboard keeping the file open between reruns lets go when it sees this
                with contextlib.suppress(OSError):
                    marker.touch()
                waited = True
            time.sleep(delay + random.uniform(0, delay))
            delay = min(delay * 2, 0.5)
    if waited:
        marker.unlink(missing_ok=True)
    try:
        con.execute("set enable_progress_bar = false")  # the CLIs print their own progress; cron logs stay clean
        _check_schema(con, path)
        yield con
    except duckdb.Error as exc:  # a block read mid-query can be the first to meet a truncated file
        if is_damage(exc, path):
            raise DamagedDatabase(path, str(exc)) from exc
        raise
    finally:
        con.close()


def check(path: str | Path) -> None:
    """DamagedDatabase when an existing file at path is not a readable Partner ROI database (a new path is fine)."""
    if Path(path).exists():
        with connect(path, read_only=True):
            pass


_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def sql_with_names(template: str, **names: str | list[str]) -> str:
    """SQL text with table/column *names* filled in (values are always bound, never formatted).

    Names cannot be bound as parameters; every one must be a plain lower-case identifier from our own code,
    so a CRM or user value can never reach SQL text through here.
    """
    def check(name: str) -> str:
        if not _IDENT.match(name):
            raise ValueError(f"not a plain SQL identifier: {name!r}")
        return name

    filled = {k: ", ".join(check(n) for n in v) if isinstance(v, list) else check(v) for k, v in names.items()}
    return template.format(**filled)


def applied_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of migrations already recorded in the database (none for a new file)."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_name = 'schema_migrations'").fetchone()[0]
    if not exists:
        return []
    return [r[0] for r in con.execute("select name from schema_migrations order by name").fetchall()]


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply pending named migrations, each in its own transaction; return the names applied."""
    con.execute("create table if not exists schema_migrations (name varchar primary key, applied_at timestamp)")
    done = set(applied_migrations(con))
    applied = []
    for name, sql_path in MIGRATIONS:
        if name in done:
            continue
        con.execute("begin")
        try:
            for part in sql_path if isinstance(sql_path, tuple) else (sql_path,):
                con.execute(part.read_text(encoding="utf-8"))
            con.execute("insert into schema_migrations values (?, current_timestamp)", [name])
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        applied.append(name)
    return applied


def init_db(path: str | Path) -> list[str]:
    """Create the database file if needed and bring its schema up to date."""
    with connect(path) as con:
        applied = migrate(con)
    if applied:
        bump_version(path)
    return applied


def upgrade(path: str | Path) -> list[str]:
    """Apply the migrations an existing database still lacks (a short write, only when some are missing)."""
    if not Path(path).exists():
        return []
    with connect(path, read_only=True) as con:
        done = set(applied_migrations(con))
    return init_db(path) if any(name not in done for name, _ in MIGRATIONS) else []


def version_path(path: str | Path) -> Path:
    """Sidecar file whose content changes after every write to the database."""
    return sidecar(path, ".version")


def data_version(path: str | Path) -> str:
    """Current data-version stamp of the database (empty when never written)."""
    try:
        return version_path(path).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""


def bump_version(path: str | Path) -> str:
    """Record that the database changed, atomically (write then rename)."""
    stamp = f"{time.time():.6f}-{uuid.uuid4().hex[:8]}"
    target = version_path(path)
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    tmp.write_text(stamp, encoding="utf-8")
    os.replace(tmp, target)
    return stamp


def get_meta(con: duckdb.DuckDBPyConnection, key: str, default: str | None = None) -> str | None:
    """Value of one meta key."""
    row = con.execute("select value from meta where key = ?", [key]).fetchone()
    return row[0] if row else default


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    """Set one meta key."""
    con.execute("insert or replace into meta values (?, ?)", [key, value])


def ensure_partners_from_crm(con: duckdb.DuckDBPyConnection) -> int:
    """Add partners first seen in the CRM and fill models that are still empty; return partners added.

    Only field and tag mappings create partners (a UTM source is matched through aliases only).
    A model a user set is never touched: only rows whose model is null get the CRM's label.
    """
    before = con.execute("select count(*) from partners").fetchone()[0]
    con.execute(
        """
        insert into partners (name, model, model_source)
        select any_value(trim(l.label)), null, null
        from stg_lead_partner_label l, stg_mapping m
        where m.mode in ('field', 'tag')
          and norm_name(l.label) not in (select key from stg_partner_keys)
        group by norm_name(l.label)
        """
    )
    con.execute(
        """
        update partners set model = f.model, model_source = 'crm', updated_at = current_timestamp
        from (
            select k.partner_id, mode(ml.model) as model
            from stg_lead_partner_label pl
            join stg_partner_keys k on k.key = norm_name(pl.label)
            join stg_lead_model_label ml on ml.lead_id = pl.lead_id
            where ml.model is not null
            group by k.partner_id
        ) f
        where partners.partner_id = f.partner_id and partners.model is null
        """
    )
    return con.execute("select count(*) from partners").fetchone()[0] - before


def rebuild_facts(con: duckdb.DuckDBPyConnection) -> int:
    """Recompute lead_facts (sorted by creation date) and the tables derived from it; return its row count."""
    con.execute("create or replace table lead_facts as select * from stg_lead_facts order by created_date, lead_id")
    rebuild_derived_tables(con)
    from data_layer import mapping  # pandas: imported when first needed, not before a sync's first request

    mapping.save_preview(con)  # the settings page's preview of the saved mapping, read instead of recomputed
    return con.execute("select count(*) from lead_facts").fetchone()[0]


def rebuild_derived_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the fact_* tables of derived.sql from lead_facts (same transaction as the caller's)."""
    con.execute(DERIVED_SQL.read_text(encoding="utf-8"))


def refresh_derived(path: str | Path) -> int:
    """Register new partners and rebuild lead_facts in one transaction, then bump the version."""
    with connect(path) as con:
        con.execute("begin")
        ensure_partners_from_crm(con)
        n = rebuild_facts(con)
        con.execute("commit")
    bump_version(path)
    return n

"""What a run did: its running counts (RunStats), its outcome (SyncResult) and how they are written."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

# Progress labels in display order.
ENTITIES = ("reference", "leads", "deleted", "events", "contacts", "companies")


@dataclass
class RunStats:
    """What one sync did, for the summary line and sync_runs."""

    mode: str = "incremental"
    records: dict[str, int] = field(default_factory=dict)
    written: bool = False
    started: float = field(default_factory=time.monotonic)


@dataclass
class SyncResult:
    """Outcome of one sync run."""

    ok: bool
    mode: str
    records: dict[str, int]
    requests: int
    throttled: int
    seconds: float
    message: str

    def summary(self) -> str:
        """One line: entities, requests, 429s, seconds."""
        parts = [f"{format_count(self.records.get(e, 0))} {e}" for e in ENTITIES if e != "reference"]
        head = "Synced" if self.ok else "Sync failed"
        return (f"{head} ({self.mode}): {', '.join(parts)}; {format_count(self.requests)} requests, "
                f"{format_count(self.throttled)} × 429, {self.seconds:.1f} s."
                + ("" if self.ok else f" {self.message}"))


def format_count(n: int) -> str:
    """12345 -> '12 345': thousands grouped by a space, as the summary line and the progress show counts."""
    return f"{n:,}".replace(",", " ")


def now_iso() -> str:
    """The current UTC time to the second, ISO 8601: the stamp of progress files and of meta last_sync_at."""
    return datetime.now(UTC).isoformat(timespec="seconds")

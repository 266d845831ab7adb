"""A run's progress as it goes: bars on a terminal, plain lines in a log, a JSON file for the app."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from data_layer import store
from data_layer.client import AmoClient
from data_layer.sync.fetcher import Fetcher
from data_layer.sync.outcome import ENTITIES, RunStats, format_count, now_iso


class Progress:
    """Per-entity bars on a terminal, plain lines otherwise, and optionally a JSON file for the app."""

    def __init__(self, stream: Any = None, json_path: Path | None = None, interval: float = 0.5) -> None:
        self.stream = stream
        self.json_path = json_path
        self.tty = bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())
        self.interval = interval
        self.line_interval = interval if self.tty else 5.0  # plain logs get a line every few seconds
        self._last = self._last_line = 0.0
        self._drawn = 0
        self.started_at = now_iso()

    def update(self, fetcher: Fetcher | None, client: AmoClient, stats: RunStats, status: str,
               message: str | None = None) -> None:
        """Record the current state; draw at most every ``interval`` seconds (always for the final state)."""
        now = time.monotonic()
        if status == "running" and now - self._last < self.interval:
            return
        self._last = now
        entities = fetcher.snapshot() if fetcher else {}
        for name, count in stats.records.items():
            entities.setdefault(name, {"records": 0, "requests": 0, "fraction": None, "done": False})
            entities[name]["stored"] = count
        doc = {"pid": os.getpid(), "status": status, "mode": stats.mode, "started_at": self.started_at,
               "updated_at": now_iso(), "entities": entities, "requests": client.stats.requests,
               "throttled": client.stats.throttled, "seconds": round(now - stats.started, 1), "message": message}
        if self.json_path:
            write_json_atomic(self.json_path, doc)
        if self.stream is not None and status == "running" and now - self._last_line >= self.line_interval:
            self._last_line = now
            self._draw(entities, doc)

    def _draw(self, entities: dict[str, dict], doc: dict) -> None:
        shown = [(name, entities[name]) for name in ENTITIES if name in entities]
        tail = (f"{format_count(doc['requests'])} requests, {format_count(doc['throttled'])} × 429, "
                f"{doc['seconds']} s")
        if self.tty:
            lines = [f"{name:<10} {_bar(e.get('fraction'))} {format_count(e['records']):>10}"
                     for name, e in shown]
            up = f"\x1b[{self._drawn}F" if self._drawn else ""
            self.stream.write(up + "".join(f"\x1b[2K{line}\n" for line in [*lines, tail]))
            self._drawn = len(lines) + 1
        else:
            parts = [f"{name} {format_count(e['records'])}"
                     + (f" ({100 * e['fraction']:.0f} %)" if e.get("fraction") is not None else "")
                     for name, e in shown]
            self.stream.write(f"{'; '.join(parts)} — {tail}\n")
        self.stream.flush()


def _bar(fraction: float | None, width: int = 24) -> str:
    """[#####-----]  45 % (dots when the share cannot be estimated)."""
    if fraction is None:
        return f"[{'.' * width}]     "
    done = int(width * fraction)
    return f"[{'#' * done}{'-' * (width - done)}] {100 * fraction:3.0f} %"


def write_json_atomic(path: Path, doc: dict) -> None:
    """Write JSON via a temp file and rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)


def progress_path(db_path: str | Path) -> Path:
    """Where a background sync writes its progress."""
    return store.sidecar(db_path, ".sync-progress.json")

"""A sync in the background for the Settings page: start the CLI detached, read its progress back."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from data_layer import store
from data_layer.errors import ConfigError
from data_layer.sync.outcome import now_iso
from data_layer.sync.progress import progress_path, write_json_atomic

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # the CLI runs from here (data_layer/sync/ is 2 levels down)


def start_background_sync(db_path: str | Path, full: bool = False,
                          replace_demo: bool = False) -> subprocess.Popen:
    """Run the CLI in a detached subprocess writing progress JSON to ``<db>.sync-progress.json``."""
    db_path = Path(db_path)
    current = read_progress(db_path)
    if current and current.get("status") in ("starting", "running") and _alive(current.get("pid")):
        raise ConfigError("A sync of this database is already running.")
    progress = progress_path(db_path)
    write_json_atomic(progress, {"pid": None, "status": "starting", "updated_at": now_iso(), "entities": {}})
    cmd = [sys.executable, "-m", "data_layer", "sync", "--db", str(db_path.resolve()),
           "--progress-file", str(progress.resolve())]
    if full:
        cmd.append("--full")
    if replace_demo:
        cmd.append("--replace-demo")
    log = open(store.sidecar(db_path, ".sync.log"), "ab")
    try:
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    finally:
        log.close()
    with contextlib.suppress(ValueError, OSError):  # the child may already have written its own progress
        doc = json.loads(progress.read_text(encoding="utf-8"))
        if doc.get("status") == "starting":
            write_json_atomic(progress, {**doc, "pid": proc.pid})
    return proc


def _alive(pid: Any) -> bool:
    """Whether a process runs; a zombie (finished, not yet reaped by the app that started it) does not."""
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        if Path(f"/proc/{int(pid)}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def read_progress(db_path: str | Path) -> dict | None:
    """The last progress of a background sync; a 'running' sync whose process died reads as failed."""
    try:
        doc = json.loads(progress_path(db_path).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    if doc.get("status") in ("starting", "running") and doc.get("pid") and not _alive(doc["pid"]):
        doc["status"] = "failed"
        doc["message"] = ("The sync process stopped before finishing (killed or crashed); start it again — "
                          "it resumes where it stopped.")
    return doc

"""`python -m data_layer sync`: its arguments, and the run with one summary line or one reason."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

from data_layer import backup, store
from data_layer.sync import after
from data_layer.sync.outcome import now_iso
from data_layer.sync.progress import Progress, write_json_atomic
from data_layer.sync.runner import failure_sentence, recover, sync


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `python -m data_layer sync`."""
    parser.add_argument("--db", type=Path, default=store.DEFAULT_DB, help="DuckDB file (default %(default)s)")
    parser.add_argument("--full", action="store_true", help="re-read everything (user data is kept)")
    parser.add_argument("--progress-file", type=Path, default=None, help="write progress JSON here")
    parser.add_argument("--replace-demo", action="store_true",
                        help="allow syncing into a database that holds the demo account (drops it)")


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Entry point of the CLI: 0 on success, 1 with a one-sentence reason on failure."""
    with contextlib.suppress(ValueError):  # only possible in the main thread
        signal.signal(signal.SIGTERM, _on_sigterm)
    # A worker about to send should not wait 5 ms per GIL hand-over behind the writer: the rate window is
    # about when requests leave, so senders get the GIL back sooner.
    sys.setswitchinterval(0.001)
    progress = Progress(sys.stderr, args.progress_file)
    try:
        keep_copy = backup.enabled()
        # a damaged file is the reason to give, before any amoCRM setting is looked at — unless the sync's copy
        # can replace it
        restored = recover(args.db) if keep_copy else store.check(args.db)
        if restored:
            print(restored, file=sys.stderr)
        result = sync(args.db, full=args.full, progress=progress, replace_demo=args.replace_demo,
                      keep_copy=keep_copy)
    except KeyboardInterrupt as exc:
        print(f"Sync stopped: {failure_sentence(exc)}", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("AMOCRM_DEBUG"):
            traceback.print_exc()
        if args.progress_file:
            _mark_failed(args.progress_file, failure_sentence(exc))
        print(f"Sync failed: {failure_sentence(exc)}", file=sys.stderr)
        return 1
    print(result.summary())
    if after.enabled():  # a step's failure is one line, never the sync's exit code
        for line in after.report_lines(after.run_steps(args.db)):
            print(line, file=sys.stderr)
    return 0


def _mark_failed(path: Path, message: str) -> None:
    """Make sure the progress file says failed (errors before the first progress update too)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        doc = {}
    doc.update(pid=os.getpid(), status="failed", message=message, updated_at=now_iso())
    write_json_atomic(path, doc)

"""`python -m data_layer sync`: amoCRM → DuckDB, incremental, interruption-safe, at the rate limit.

Design (docs/sync.md has the long version):

* **fetch** — worker threads share one RateLimiter. A worker first takes a rate grant, *then* asks the
  most urgent source for a request, so speculative pages are claimed only when they can be sent.
* **sources** — ``KeysetWalk``: an updated_at window walked by keyset (``filter[updated_at][from]`` moves
  to the last row's second; ties re-read) from both ends at once; unlike page numbers it never skips a
  row when leads are edited mid-walk. ``PageWalk``: page numbers, several in flight, for immutable
  events in a fixed created_at window and for reference lists. ``IdBatches``: contacts / companies the
  leads reference, 250 ids per request.
* **write** — the main thread collects pages and every ``commit_seconds`` writes them together with the
  sources' checkpoints (``sync_state`` rows) in one transaction, opening the database only for that
  write. A SIGKILL loses at most the uncommitted pages; the next run resumes from the checkpoints and
  then runs a normal incremental pass, ending with the same content as an uninterrupted sync.

Modules, one job each: ``sources`` (what is fetched, as request streams), ``fetcher`` (the worker pool
and the early start), ``plan`` (windows from sync_state, and the sources of a pass), ``writer`` (windows
and checkpoints into the database), ``bookkeeping`` (the run's start and end: sync_runs, meta, demo
replacement), ``outcome`` (RunStats, SyncResult), ``runner`` (the whole sync), ``progress`` (bars, lines,
the progress file), ``background`` and ``connection`` (the Settings page's sync and connection test),
``cli`` (the command line). The package re-exports the public API: what the Settings page, docs/sync.md
and the sync tests call.
"""

from __future__ import annotations

from data_layer.sync.background import read_progress, start_background_sync
from data_layer.sync.connection import test_connection
from data_layer.sync.outcome import RunStats, SyncResult
from data_layer.sync.progress import Progress, progress_path
from data_layer.sync.runner import single_sync, sync

__all__ = ["Progress", "RunStats", "SyncResult", "progress_path", "read_progress", "single_sync",
           "start_background_sync", "sync", "test_connection"]

"""`python -m bench.sync_trace TRACE.json sync ...`: the sync CLI with phase timers, for bench.sync_bench.

The sync code is not touched: this wrapper patches timers around the functions whose cost makes up a
sync's fixed cost (database preparation, window writes, facts rebuild, retry sleeps, 429 pauses) and
around every HTTP request, then runs the real CLI entry point and writes the spans as JSON at exit.
Times are ``time.time()`` stamps so the parent can line them up with the moment it spawned the process.
"""

from __future__ import annotations

import time

T0 = time.time()  # before any project import: the interpreter's own start-up ends here

import atexit  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

SPANS: list[dict[str, Any]] = []
_LOCK = threading.Lock()
# (module path, attribute path): every function whose duration is a phase of the breakdown. A function is
# patched where its caller looks it up: data_layer.sync.runner for the run's steps since data_layer.sync became
# a package; the data_layer.sync / data_layer.sync_run entries time an older tree (bench before/after).
PHASES = (
    ("data_layer.store", "init_db"), ("data_layer.sync", "_open_run"), ("data_layer.sync", "pass_inputs"),
    ("data_layer.sync", "Writer.commit"), ("data_layer.store", "refresh_derived"),
    ("data_layer.sync", "_finish_run"), ("data_layer.sync", "run_pass"),
    ("data_layer.client", "AmoClient._retry_or_raise"), ("data_layer.client", "RateLimiter.pause"),
    ("data_layer.ratelimit", "SharedLimiter.pause"),  # the CLI's limiter: the account's budget shared by processes
    ("data_layer.client", "open_client"), ("data_layer.config", "load_config"),
    ("data_layer.sync_run", "open_run"), ("data_layer.sync_run", "finish_run"),
    ("data_layer.sync.runner", "open_run"), ("data_layer.sync.runner", "pass_inputs"),
    ("data_layer.sync.runner", "run_pass"), ("data_layer.sync.runner", "finish_run"),
    ("data_layer.sync.writer", "Writer.commit"),
    ("data_layer.store", "rebuild_facts"), ("data_layer.store", "ensure_partners_from_crm"),
)


def _record(name: str, start: float, **extra: Any) -> None:
    with _LOCK:
        SPANS.append({"name": name, "start": start, "end": time.time(), **extra})


def _timed(name: str, fn: Any) -> Any:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.time()
        try:
            return fn(*args, **kwargs)
        finally:
            extra = {"arg": args[1]} if name.endswith("Limiter.pause") and len(args) > 1 else {}
            _record(name, start, **extra)
    return wrapper


def _patch(module_name: str, attr: str) -> None:
    """Wrap module.attr (or module.Class.method) with a timer; skip names this version of the code lacks."""
    try:
        owner: Any = __import__(module_name, fromlist=["_"])
    except ImportError:
        return
    *path, leaf = attr.split(".")
    for part in path:
        owner = getattr(owner, part, None)
    if owner is not None and hasattr(owner, leaf):
        setattr(owner, leaf, _timed(attr, getattr(owner, leaf)))


def _patch_http() -> None:
    """Time every request the client sends (send → response), with its status."""
    import httpx

    original = httpx.Client.request

    def request(self: Any, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.time()
        status: int | str = "error"
        try:
            response = original(self, method, url, *args, **kwargs)
            status = response.status_code
            return response
        finally:
            _record("http", start, status=status, url=str(url).split("?")[0])

    httpx.Client.request = request  # type: ignore[method-assign]


def main() -> int:
    """Patch the timers, run the CLI with the remaining arguments, write the spans at exit."""
    out, argv = Path(sys.argv[1]), sys.argv[2:]
    before_imports = time.time()
    from data_layer import __main__ as entry
    from data_layer.sync import cli  # noqa: F401  # the module the CLI would import: counted as start-up imports

    imported = time.time()
    for module_name, attr in PHASES:
        _patch(module_name, attr)
    _patch_http()

    def write() -> None:
        doc = {"t0": T0, "before_imports": before_imports, "imported": imported, "exit": time.time(),
               "spans": SPANS}
        out.write_text(json.dumps(doc), encoding="utf-8")

    atexit.register(write)
    return entry.main(argv)


if __name__ == "__main__":
    sys.exit(main())


# ---------------------------------------------------------------- parent side: the breakdown

def _sum(spans: list[dict], name: str) -> float:
    return sum(s["end"] - s["start"] for s in spans if s["name"] == name)


def breakdown(doc: dict[str, Any], spawned: float, exited: float, rate: float = 7.0) -> dict[str, Any]:
    """Seconds per phase of one traced run (stamps are time.time() of the child and the parent)."""
    spans = doc["spans"]
    http = sorted((s for s in spans if s["name"] == "http"), key=lambda s: s["start"])
    commits = [s["end"] - s["start"] for s in spans if s["name"] == "Writer.commit"]
    first_send, last_answer = http[0]["start"], max(s["end"] for s in http)
    fetch = last_answer - first_send
    # The limiter's own pace: the last of n requests can leave (n - 1) / rate after the first at best.
    paced = (len(http) - 1) / rate + (http[-1]["end"] - http[-1]["start"])
    run_pass = [s for s in spans if s["name"] == "run_pass"]
    return {
        "interpreter": round(doc["t0"] - spawned, 3),
        "imports": round(doc["imported"] - doc["before_imports"], 3),
        "to_first_request": round(first_send - doc["imported"], 3),
        "db_prepare": round(_sum(spans, "_open_run") + _sum(spans, "open_run"), 3),
        "pass_inputs": round(_sum(spans, "pass_inputs"), 3),
        "fetch": round(fetch, 3), "fetch_paced": round(paced, 3), "fetch_excess": round(fetch - paced, 3),
        "commits": len(commits), "commit_total": round(sum(commits), 3),
        "commit_max": round(max(commits, default=0.0), 3),
        "final_commit": round(commits[-1], 3) if commits else 0.0,
        "after_last_answer_in_pass": round(max((s["end"] for s in run_pass), default=last_answer) - last_answer, 3),
        # inside refresh_derived (before) or inside the final commit (after): the same work either way
        "facts_rebuild": round(_sum(spans, "rebuild_facts") + _sum(spans, "ensure_partners_from_crm"), 3),
        "finish_run": round(_sum(spans, "_finish_run") + _sum(spans, "finish_run"), 3),
        "retry_sleep": round(_sum(spans, "AmoClient._retry_or_raise"), 3),
        "pause_429": round(sum(s.get("arg", 0.0) for s in spans if s["name"].endswith("Limiter.pause")), 3),
        "failed_requests": sum(1 for s in http if s["status"] == "error" or int(s["status"]) >= 500),
        "answers_429": sum(1 for s in http if s["status"] == 429),
        "exit": round(exited - doc["exit"], 3),
        "after_fetch": round(exited - last_answer, 3),
        "before_fetch": round(first_send - spawned, 3),
    }

"""Speed a user feels: opening a page to its first number, and a filter change to the redrawn page, in a browser.

Run ``python -m bench.feel_bench`` (part of ``make bench``). Headless Chromium (Debian's, via Playwright) at
1440×900, each page opened in a fresh browser context (a new Streamlit session, an empty browser cache). Times
are taken inside the page against its navigation start (performance.now), so Playwright's own round trips are
not in them:

* first number — the frame in which the first ``[data-testid='stMetricValue']`` is on screen (overview, models,
  and the partners page's verdict counts above its leaderboard); page ready — script
  state ``notRunning``, no stale element, no skeleton; also the overview opened a second time in the same
  browser context (a returning browser: its cache warm, the session new);
* filter → redrawn — from the pointer press on the option of the sidebar widget (``.st-key-filters-period`` /
  ``.st-key-filters-models``) to the frame in which the script state is back to ``notRunning``, the first
  number differs from before and no element is stale; "number changed" is the frame the new first number shows.

The same is measured for a minimal Streamlit page (bench/minimal_app.py: one st.metric; for filter changes
bench/minimal_filter_app.py: the same two widgets and one number) in the same run, rounds alternating
(minimal, dashboard at the demo database, minimal, dashboard at 1M leads). The figure is the ratio of the
dashboard's median (and p90) to the minimal page's. Each dashboard round starts its own server on a copy of the
database, opens every page once (imports, default view cached: the "first open of a server" row), then
measures; so each round's first filter change computes numbers nobody asked for before (a cold change), and the
change back is served from the cache. A WebSocket probe splits the times: page loaded (socket open), the
script's messages (first and last handled), the browser's tail after the last one. The load average is recorded
with every round. Prints a table and writes bench/results-feel.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.metrics_bench import ensure_db
from bench.room_bench import ERRORS, FIRST_KPI, TIMEOUT_MS, _minimal_server
from tests.support.browser import ROOT, browser, streamlit_server

RESULTS = Path(__file__).with_name("results-feel.json")
MINIMAL_FILTER_APP = Path(__file__).with_name("minimal_filter_app.py")
DEMO_DB = ROOT / "cache" / "partner_roi.duckdb"
PAGES = ("/", "/partners", "/models")
# What "the first number on screen" is per page when it is not the first KPI card (every page opens on st.metric
# cards now: the partners page on its verdict counts).
FIRST_NUMBER: dict[str, str] = {}
# (name, widget key class, option to pick, seconds of looking before it):
# the first change comes after reading the page (longer than ui.data.KEEP_SECONDS, so the file is reopened),
# the others while clicking through.
CHANGES: tuple[tuple[str, str, str, float], ...] = (
    ("period → last month (cold)", "filters-period", "Прошлый месяц", 3.0),
    ("period → back to 12 months (cached)", "filters-period", "Последние 12 месяцев", 0.5),
    ("model → referral only (cold)", "filters-models", "Реферальная", 0.5),
)
TARGET_FIRST_RATIO, TARGET_REDRAWN_S = 2.0, 0.5

# Installed in every document before its scripts: marks in performance.now() time (ms since navigation start).
PROBE_JS = """
(() => {
  const F = window.__feel = {wsOpen: null, first: null, ready: null, sent: [], recv: [], arm: null};
  const Orig = window.WebSocket;
  window.WebSocket = class extends Orig {
    constructor(...a) {
      super(...a);
      this.addEventListener('open', () => { if (F.wsOpen === null) F.wsOpen = performance.now(); });
      this.addEventListener('message', () => F.recv.push(performance.now()));
    }
    send(d) { F.sent.push(performance.now()); return super.send(d); }
  };
  const VALUE = "[data-testid='stMetricValue']", NUMBER = window.__feelNumber || VALUE;
  const shown = e => { const r = (e.closest("[data-testid='stDataFrame']") || e).getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.top < innerHeight && /[0-9]/.test(e.innerText); };
  const idle = () => !!document.querySelector("[data-testid='stApp'][data-test-script-state='notRunning']")
    && !document.querySelector("[data-testid='stElementContainer'][data-stale='true'], [data-testid='stSkeleton']");
  const firstText = () => { const e = document.querySelector(VALUE); return e ? e.innerText.trim() : null; };
  // the mark is the next frame (what was committed is painted then); the check runs again there, as a page that
  // is already complete may not mutate again
  const frame = (obj, key) => { obj[key] = -1; requestAnimationFrame(() => { obj[key] = performance.now(); check(); }); };
  const check = () => {
    if (F.first === null && [...document.querySelectorAll(NUMBER)].some(shown)) frame(F, 'first');
    if (F.first > 0 && F.ready === null && idle()) frame(F, 'ready');
    const a = F.arm;
    const now = a && a.t0 !== null ? firstText() : null;
    if (now !== null && now !== a.before) {
      if (a.kpi === null) frame(a, 'kpi');
      if (a.done === null && idle()) frame(a, 'done');
    }
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true, attributes: true,
                                                 characterData: true});
  document.addEventListener('pointerdown', e => { if (F.arm && F.arm.t0 === null) F.arm.t0 = e.timeStamp; }, true);
  F.armChange = before => { F.arm = {before, t0: null, kpi: null, done: null}; };
})();
"""


def _after(times: list[float], t: float) -> float | None:
    """The first time in times at or after t."""
    return next((x for x in times if x >= t), None)


def _before(times: list[float], t: float) -> float | None:
    """The last time in times at or before t."""
    return next((x for x in reversed(times) if x <= t), None)


def _ms(a: float | None, b: float | None) -> float | None:
    """b - a in seconds, None when either mark is missing."""
    return None if a is None or b is None else round((b - a) / 1000, 3)


def _context(b: Any, size: dict[str, int], path: str = "/") -> Any:
    """A fresh browser context (a new Streamlit session) with the probe, for pages at path."""
    context = b.new_context(viewport=size, locale="ru-RU")
    context.add_init_script(f"window.__feelNumber = {json.dumps(FIRST_NUMBER.get(path))};" + PROBE_JS)
    return context


def _open(context: Any, base: str, path: str) -> tuple[Any, dict[str, Any]]:
    """Open base + path in a new page of context; the page, its open marks (seconds since navigation start) and
    the first number it showed (which database is served)."""
    page = context.new_page()
    page.goto(base + path, wait_until="commit")
    page.wait_for_function("() => window.__feel && window.__feel.ready > 0", timeout=TIMEOUT_MS)
    f = page.evaluate("() => window.__feel")
    last = _before(f["recv"], f["ready"])
    return page, {"first_s": _ms(0, f["first"]), "ready_s": _ms(0, f["ready"]), "socket_open_s": _ms(0, f["wsOpen"]),
                  "first_message_s": _ms(0, _after(f["recv"], 0)), "last_message_s": _ms(0, last),
                  "first_number": page.evaluate(
                      "s => [...document.querySelectorAll(s)].map(e => e.innerText.trim()).find(t => /[0-9]/.test(t))",
                      FIRST_NUMBER.get(path, FIRST_KPI)),
                  "errors": page.locator(ERRORS).count()}


def _change(page: Any, widget: str, option: str, think: float) -> dict[str, Any]:
    """Pick option in the sidebar widget after think seconds; seconds from the press to the redrawn page."""
    time.sleep(think)
    before = page.locator(FIRST_KPI).first.inner_text().strip()
    box = page.locator(f".st-key-{widget} [role='combobox']")
    box.scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # a list opened while the sidebar still scrolls closes again (react-aria)
    box.click()
    choice = page.get_by_role("option", name=option, exact=True)
    choice.wait_for(timeout=TIMEOUT_MS)
    picked = choice.inner_text().strip()
    page.evaluate("before => window.__feel.armChange(before)", before)
    choice.click()
    page.wait_for_function("() => window.__feel.arm.done > 0", timeout=TIMEOUT_MS)
    f = page.evaluate("() => window.__feel")
    page.keyboard.press("Escape")  # a multiselect keeps its list open
    a = f["arm"]
    sent = _after(f["sent"], a["t0"])
    first, last = _after(f["recv"], sent or a["t0"]), _before(f["recv"], a["done"])
    return {"picked": picked, "redrawn_s": _ms(a["t0"], a["done"]), "number_s": _ms(a["t0"], a["kpi"]),
            "to_request_s": _ms(a["t0"], sent), "to_first_message_s": _ms(a["t0"], first),
            "script_messages_s": _ms(first, last), "browser_tail_s": _ms(last, a["done"]),
            "errors": page.locator(ERRORS).count()}


def _open_in_new_context(b: Any, base: str, path: str, size: dict[str, int]) -> dict[str, Any]:
    """Open base + path in a fresh context; its open marks."""
    context = _context(b, size, path)
    try:
        return {"path": path, **_open(context, base, path)[1]}
    finally:
        context.close()


def _open_again(b: Any, base: str, size: dict[str, int]) -> dict[str, Any]:
    """Open base's first page twice in one fresh context, a new tab each time; the second one's marks (a
    returning browser: the page's code is in the browser's cache, the Streamlit session is new)."""
    context = _context(b, size)
    try:
        _open(context, base, "/")[0].close()
        return {"path": "/", "returning": True, **_open(context, base, "/")[1]}
    finally:
        context.close()


def _measure(b: Any, base: str, paths: list[str], filter_base: str, size: dict[str, int]) -> dict[str, Any]:
    """Open each path in a fresh context, and the first page once more with the browser's cache warm; then change
    the filters on filter_base's first page (a fresh context too)."""
    out: dict[str, Any] = {"opens": [*(_open_in_new_context(b, base, p, size) for p in paths),
                                     _open_again(b, base, size)], "changes": []}
    context = _context(b, size)
    try:
        page, _ = _open(context, filter_base, "/")
        for name, widget, option, think in CHANGES:
            out["changes"].append({"change": name, **_change(page, widget, option, think)})
    finally:
        context.close()
    return out


def minimal_round(min_url: str, filter_url: str, size: dict[str, int]) -> dict[str, Any]:
    """The minimal pages, opened as many times as the dashboard's pages, and the same filter changes."""
    load = os.getloadavg()
    with browser() as b:
        for base in (min_url, filter_url):  # the browser's first tabs
            _open_in_new_context(b, base, "/", size)
        out = _measure(b, min_url, ["/"] * len(PAGES), filter_url, size)
    return {"variant": "minimal", "load_before": load, "load_after": os.getloadavg(), **out}


def dashboard_round(label: str, db: Path, tmp: Path, size: dict[str, int]) -> dict[str, Any]:
    """A new server on a copy of db: every page opened once (cold), then the measured opens and changes."""
    load = os.getloadavg()
    copy = tmp / f"feel-{label}.duckdb"
    shutil.copy(db, copy)
    with streamlit_server(copy, log=tmp / f"server-{label}.log") as url, browser() as b:
        cold = [_open_in_new_context(b, url, p, size)["first_s"] for p in PAGES]  # the server's first runs
        out = _measure(b, url, list(PAGES), url, size)
    copy.unlink()
    return {"variant": label, "load_before": load, "load_after": os.getloadavg(), "cold_first_s": cold, **out}


def _stats(values: list[float | None]) -> dict[str, Any]:
    """n, median and p90 (linear interpolation) of the values present."""
    v = [x for x in values if x is not None]
    if not v:
        return {"n": 0, "median_s": None, "p90_s": None}
    p90 = statistics.quantiles(v, n=10, method="inclusive")[8] if len(v) > 1 else v[0]
    return {"n": len(v), "median_s": round(statistics.median(v), 3), "p90_s": round(p90, 3)}


def _open_stats(opens: list[dict[str, Any]]) -> dict[str, Any]:
    """Each open mark's n, median and p90."""
    return {k: _stats([o[k] for o in opens]) for k in
            ("first_s", "ready_s", "socket_open_s", "first_message_s", "last_message_s")}


def summarise(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Per variant: the open measures by page and the change measures by change, with their phases."""
    out: dict[str, Any] = {}
    for variant in dict.fromkeys(r["variant"] for r in rounds):
        mine = [r for r in rounds if r["variant"] == variant]
        opens = [o for r in mine for o in r["opens"] if not o.get("returning")]
        again = [o for r in mine for o in r["opens"] if o.get("returning")]
        changes = [c for r in mine for c in r["changes"]]
        s: dict[str, Any] = {"load1": _stats([r["load_before"][0] for r in mine]),
                             "errors": sum(o["errors"] for o in opens) + sum(c["errors"] for c in changes)}
        for path in PAGES:
            got = opens if variant == "minimal" else [o for o in opens if o["path"] == path]
            s[f"open {path}"] = _open_stats(got)
        s["open again /"] = _open_stats(again)
        for name, *_ in CHANGES:
            got = [c for c in changes if c["change"] == name]
            s[name] = {k: _stats([c[k] for c in got]) for k in
                       ("redrawn_s", "number_s", "to_request_s", "to_first_message_s", "script_messages_s",
                        "browser_tail_s")}
        if variant != "minimal":
            s["cold_first"] = {p: _stats([r["cold_first_s"][i] for r in mine]) for i, p in enumerate(PAGES)}
        out[variant] = s
    return out


def ratios(summary: dict[str, Any]) -> dict[str, Any]:
    """Each dashboard measure over the minimal page's same measure (medians and p90s)."""
    base, out = summary["minimal"], {}
    for variant, s in summary.items():
        if variant == "minimal":
            continue
        out[variant] = {}
        for measure in [f"open {p}" for p in PAGES] + ["open again /"] + [c[0] for c in CHANGES]:
            key = "first_s" if measure.startswith("open") else "redrawn_s"
            d, m = s[measure][key], base[measure][key]
            out[variant][measure] = {q: (round(d[q] / m[q], 2) if d[q] and m[q] else None)
                                     for q in ("median_s", "p90_s")}
    return out


def _row(name: str, d: dict[str, Any], m: dict[str, Any], r: dict[str, Any] | None, extra: str) -> str:
    ratio = f"{r['median_s']}× / {r['p90_s']}×" if r else ""
    return (f"{name:50} {d['median_s']!s:>7} {d['p90_s']!s:>7}   {m['median_s']!s:>7} {m['p90_s']!s:>7}"
            f"   {ratio:>15}   {extra}")


def report(result: dict[str, Any]) -> str:
    """The table printed after a run."""
    s, r = result["summary"], result["ratios"]
    lines = [f"feel bench {result['at']}, {result['rounds']} rounds, {result['viewport']}, "
             f"load average at start {result['load_start']}, at end {result['load_end']} "
             f"({result['cpus']} cores, shared: figures are noisy)",
             f"{'measure':50} {'dash md':>7} {'p90':>7}   {'min md':>7} {'p90':>7}   {'ratio md / p90':>15}   "
             "phases (dashboard medians)"]
    for variant in r:
        d = s[variant]
        lines.append(f"— {variant}: load 1 min at its rounds' start median {d['load1']['median_s']} (minimal's "
                     f"{s['minimal']['load1']['median_s']}), errors shown: {d['errors']}")
        for p in (*PAGES, "again /"):
            o, m = d[f"open {p}"], s["minimal"][f"open {p}"]
            cold = f", first open of the server {d['cold_first'][p]['median_s']}" if p in PAGES else ""
            extra = (f"socket open {o['socket_open_s']['median_s']} (min {m['socket_open_s']['median_s']}), last "
                     f"msg {o['last_message_s']['median_s']}, ready {o['ready_s']['median_s']}{cold}")
            name = "open / again, browser cache warm" if p == "again /" else f"open {p}"
            lines.append(_row(f"{name} → first number, s", o["first_s"], m["first_s"], r[variant][f"open {p}"], extra))
        for name, *_ in CHANGES:
            c = d[name]
            extra = (f"number {c['number_s']['median_s']}, request {c['to_request_s']['median_s']}, first msg "
                     f"{c['to_first_message_s']['median_s']}, script msgs {c['script_messages_s']['median_s']}, "
                     f"browser tail {c['browser_tail_s']['median_s']}")
            lines.append(_row(f"{name}, s", c["redrawn_s"], s["minimal"][name]["redrawn_s"], r[variant][name], extra))
    lines.append(f"targets: first number ≤ {TARGET_FIRST_RATIO}× the minimal page; filter → redrawn ≤ "
                 f"{TARGET_REDRAWN_S} s at 1M leads on an idle machine")
    return "\n".join(lines)


def run(rounds: int, dbs: dict[str, Path], size: dict[str, int]) -> dict[str, Any]:
    """Alternate minimal and dashboard rounds; return every measurement, summaries and ratios."""
    out: dict[str, Any] = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "rounds": rounds,
                           "viewport": size, "cpus": os.cpu_count(), "load_start": os.getloadavg(),
                           "databases": {k: str(v) for k, v in dbs.items()}, "changes": CHANGES, "runs": []}
    with tempfile.TemporaryDirectory() as tmp_name, _minimal_server() as min_url, \
            streamlit_server(ROOT / "cache" / "none.duckdb", script=MINIMAL_FILTER_APP) as filter_url:
        for i in range(rounds):
            for label, db in dbs.items():
                out["runs"].append({"round": i, **minimal_round(min_url, filter_url, size)})
                out["runs"].append({"round": i, **dashboard_round(label, db, Path(tmp_name), size)})
                print(f"round {i + 1}/{rounds} {label} done, load {os.getloadavg()[0]:.2f}", flush=True)
    out["load_end"] = os.getloadavg()
    out["summary"] = summarise(out["runs"])
    out["ratios"] = ratios(out["summary"])
    return out


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, make the databases, run, print and save."""
    parser = argparse.ArgumentParser(prog="python -m bench.feel_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="rounds per variant (default 5)")
    parser.add_argument("--sizes", default="1000000",
                        help="lead counts of sized databases (bench.metrics_bench.ensure_db) beside the demo; "
                             "'' for the demo only (default 1000000)")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args(argv)
    if not DEMO_DB.exists():
        raise SystemExit(f"{DEMO_DB} does not exist: run `make demo` first.")
    dbs = {"demo": DEMO_DB}
    for n in (int(x) for x in args.sizes.split(",") if x.strip()):
        dbs[f"{n // 1000}k leads" if n < 1_000_000 else f"{n // 1_000_000}M leads"] = ensure_db(n)[0]
    result = run(args.rounds, dbs, {"width": args.width, "height": args.height})
    print(report(result))
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

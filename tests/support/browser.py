"""Real-browser helpers: start `streamlit run app.py` on a free port, drive Debian's chromium with Playwright.

Never downloads a browser: Playwright launches /usr/bin/chromium (or $CHROMIUM) headless.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
]
SERVER_START_SECONDS = 90


def require_chromium() -> None:
    """Skip a browser test where Debian's chromium is missing; in CI (CI=true) that is a failure instead."""
    if Path(CHROMIUM).exists():
        return
    import pytest  # only tests call this; the module also serves the benchmarks

    message = f"{CHROMIUM} is missing: apt-get install chromium chromium-driver to run browser tests"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def streamlit_server(db: Path, log: Path | None = None, extra_env: dict[str, str] | None = None,
                     port: int | None = None, script: Path | None = None) -> Iterator[str]:
    """Run the dashboard (or another script) on port, else a free one, with database db; yield its base URL;
    stop it afterwards."""
    port = port or free_port()
    env = {**os.environ, "PARTNER_ROI_DB": str(db), "STREAMLIT_SERVER_HEADLESS": "true",
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", **(extra_env or {})}
    out = open(log, "w") if log else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script or ROOT / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not _healthy(url):
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {proc.returncode}; see {log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer on {url} within {SERVER_START_SECONDS} s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            out.close()


@contextlib.contextmanager
def browser() -> Iterator[object]:
    """A headless chromium (the system one) driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def wait_ready(page) -> None:
    """The app finished its run: script state 'notRunning' and no skeleton placeholders left."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
    page.wait_for_function("() => !document.querySelector(\"[data-testid='stSkeleton']\")")


def shot(page, name: str) -> Path:
    """Save a screenshot of the whole app under test-artifacts/ (the app scrolls inside its own container,
    so the viewport is stretched to the content's height for the picture and restored afterwards)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size or {"width": 1440, "height": 900}
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll(\"[data-testid='stMain'], [data-testid='stSidebarContent']\")]"
        ".map(e => e.scrollHeight), 0)"
    )
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height) + 40, 6000))})
    page.wait_for_timeout(300)  # let the layout settle after the resize (a picture, not an assertion)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path

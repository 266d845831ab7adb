"""Retry timing: a faulted request goes out again on the next free grant; Retry-After and 429 waits still hold."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from emulator import Emulator, make_records

from data_layer.client import AmoClient, RateLimiter, StaticToken
from data_layer.ratelimit import Limiter, SharedLimiter

pytestmark = pytest.mark.timeout(120)

OLD_FIRST_BACKOFF = 0.25  # the first retry used to sleep retry_base (0.5) × 0.5–1.0 before asking for a grant
STAMP_JITTER = 0.15       # the emulator stamps arrivals late under load (see tests/data_layer/test_rate_budget.py)


class FailFirst(Emulator):
    """The emulator, answering its first API requests with the given faults (in order), then normally."""

    def __init__(self, *args: object, fail: tuple[str, ...] = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fail = list(fail)

    def _gate(self, entry):  # type: ignore[no-untyped-def]
        reply = super()._gate(entry)
        if reply is None and self.fail and entry.path.startswith("/api/"):
            entry.fault = self.fail.pop(0)
            return self._fault(entry.fault)
        return reply


def _client(emu: Emulator, limiter: RateLimiter, **kwargs: object) -> AmoClient:
    """Production retry knobs (retry_base 0.5) against the emulator."""
    opts: dict[str, object] = {"max_retries": 6, "retry_base": 0.5, "max_retry_wait": 30.0, "timeout": 2.0}
    opts.update(kwargs)
    return AmoClient(emu.url, StaticToken(emu.options.long_lived_token or ""), limiter, **opts)  # type: ignore[arg-type]


@pytest.mark.parametrize("fault", ["500", "slow"])
def test_a_faulted_request_is_retried_on_the_next_free_grant(fault: str) -> None:
    # "slow" answers after the client's timeout (0.3 s here): a timeout, retried like a 500.
    with FailFirst(make_records(5), fail=(fault,), slow_seconds=1.0) as emu, \
            _client(emu, RateLimiter(7), timeout=0.3) as client:
        started = time.monotonic()
        assert client.get("/api/v4/account")["name"]
        first, retry = (e for e in emu.api_log())
        assert first.fault == fault and retry.fault is None
        failed_at = first.at + (0.3 if fault == "slow" else 0.0)
        # The retry waits only for the limiter's spacing (~76 ms at 7 per 1.07 s), not for a back-off.
        assert retry.at - failed_at < OLD_FIRST_BACKOFF - 0.05
        assert client.stats.retries == 1 and time.monotonic() - started < 1.5


def test_a_repeated_failure_of_one_request_backs_off() -> None:
    with FailFirst(make_records(5), fail=("500", "503", "500")) as emu, \
            _client(emu, RateLimiter(7), retry_base=0.2) as client:
        client.get("/api/v4/account")
        at = [e.at for e in emu.api_log()]
        assert len(at) == 4
        assert at[1] - at[0] < 0.2                        # first retry: the next grant
        assert at[2] - at[1] >= 0.1 - 0.01                # second: 0.2 × 0.5–1.0
        assert at[3] - at[2] >= 0.2 - 0.01                # third: doubled


def test_retries_at_once_never_exceed_the_budget() -> None:
    # Many faults, eight threads, the real 7-per-second limit: the emulator never counts more than 7 in a window.
    with Emulator(make_records(5), fault_rate=0.4, faults=("500", "502", "503", "drop", "garbage"), seed=5) as emu, \
            _client(emu, RateLimiter(7), max_retries=20) as client:
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                for _ in range(4):
                    client.get("/api/v4/account")
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert client.stats.retries >= 5
        assert emu.max_in_window(1.0 - STAMP_JITTER) <= 7


def _mock(answers: list[httpx.Response], **kwargs: object) -> tuple[AmoClient, list[float]]:
    """A client replaying ``answers``; returns it and the send time of every request."""
    sent: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(time.monotonic())
        return answers.pop(0) if len(answers) > 1 else answers[0]

    limiter = RateLimiter(max_requests=1000, margin=0.0, min_interval=0.0)
    client = AmoClient("https://acme.amocrm.ru", StaticToken("t"), limiter, transport=httpx.MockTransport(handler),
                       max_retries=3, retry_base=0.001, max_retry_wait=5.0, **kwargs)  # type: ignore[arg-type]
    return client, sent


def test_retry_after_of_a_5xx_is_honoured() -> None:
    client, sent = _mock([httpx.Response(503, headers={"retry-after": "1"}), httpx.Response(200, json={"ok": 1})])
    assert client.get("/x") == {"ok": 1}
    assert sent[1] - sent[0] >= 1.0 - 0.01


def test_retry_after_of_a_429_pauses_every_thread() -> None:
    throttled = httpx.Response(429, json={"status": 429, "retry_after": 1})
    client, sent = _mock([throttled, httpx.Response(200, json={"ok": 1})])
    assert client.get("/x") == {"ok": 1}
    assert sent[1] - sent[0] >= 1.0 - 0.01
    # The pause is the limiter's, so every thread's (and with SharedLimiter every process's) grants wait for it.
    assert isinstance(client.limiter, RateLimiter)
    assert client.limiter._paused_until >= sent[0] + 1.0 - 0.01


def test_an_html_429_pauses_one_window_then_doubles() -> None:
    html = httpx.Response(429, text="<html>429 Too Many Requests</html>", headers={"content-type": "text/html"})
    client, sent = _mock([html, html, httpx.Response(200, json={"ok": 1})])
    client.limiter = RateLimiter(max_requests=1000, window=0.3, margin=0.0, min_interval=0.0)
    assert client.get("/x") == {"ok": 1}
    assert 0.3 - 0.01 <= sent[1] - sent[0] < 0.6                 # one window, no 1–2.4 s back-off
    assert sent[2] - sent[1] >= 2 * (0.3 + 0.05) - 0.01          # again: twice the window (widened by the 1st)


@pytest.mark.parametrize("shared", [False, True])
def test_a_retry_takes_the_next_grant_before_waiting_requests(shared: bool, tmp_path: Path) -> None:
    limiter: Limiter = (SharedLimiter(tmp_path / "acme.json", 1, 0.3, margin=0.0, min_interval=0.0) if shared
                        else RateLimiter(1, 0.3, margin=0.0, min_interval=0.0))
    limiter.acquire()  # the window is full for 0.3 s; three fresh requests queue for the next grants
    order: list[str] = []

    def take(name: str, urgent: bool) -> None:
        limiter.acquire(urgent=urgent)
        order.append(name)

    threads = [threading.Thread(target=take, args=("fresh", False)) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    threads.append(threading.Thread(target=take, args=("retry", True)))
    threads[-1].start()
    for t in threads:
        t.join()
    assert order[0] == "retry" and len(order) == 4


@pytest.mark.parametrize("shared", [False, True])
def test_a_grant_given_back_wakes_a_waiter_at_once(shared: bool, tmp_path: Path) -> None:
    # A worker with nothing to claim, or a stale grant re-taken, hands its slot back: nobody sleeps through it.
    limiter: Limiter = (SharedLimiter(tmp_path / "acme.json", 1, 1.0, margin=0.0, min_interval=0.0) if shared
                        else RateLimiter(1, 1.0, margin=0.0, min_interval=0.0))
    stamp = limiter.acquire()
    got: list[float] = []

    def wait_for_a_grant() -> None:
        limiter.acquire()
        got.append(time.monotonic())

    waiter = threading.Thread(target=wait_for_a_grant)
    waiter.start()
    time.sleep(0.15)
    given_back = time.monotonic()
    limiter.cancel(stamp)
    waiter.join()
    assert got and got[0] - given_back < 0.1  # not the ~0.85 s left of the window

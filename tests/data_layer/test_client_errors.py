"""The client alone: error tree, retries and back-off, pagination quirks, the shared rate limiter."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest
from emulator import Emulator, make_records

from data_layer.client import (
    AmoClient,
    RateLimiter,
    StaticToken,
    has_next,
    max_in_window,
    query_string,
    retry_after,
)
from data_layer.errors import (
    BLOCKED_SENTENCE,
    AmoError,
    AuthError,
    BadResponse,
    Blocked,
    PaymentRequired,
    RateLimited,
    RequestError,
    ServerError,
    TransportError,
)

HTML = {"content-type": "text/html"}


def _response(status: int, body: object = None, html: str | None = None) -> httpx.Response:
    if html is not None:
        return httpx.Response(status, text=html, headers=HTML)
    return httpx.Response(status, json=body) if body is not None else httpx.Response(status)


def _client(answers: list[httpx.Response | Exception], auth: object = None, **kwargs: object) -> tuple[AmoClient, list]:
    """A client whose transport replays ``answers`` in order; returns it and the list of requests seen."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    opts = {"max_retries": 3, "retry_base": 0.001, "max_retry_wait": 0.02, "max_429": 3}
    opts.update(kwargs)
    limiter = RateLimiter(max_requests=1000, margin=0.0, min_interval=0.0)
    client = AmoClient("https://acme.amocrm.ru", auth or StaticToken("t"), limiter,
                       transport=httpx.MockTransport(handler), **opts)  # type: ignore[arg-type]
    return client, seen


@pytest.mark.parametrize(("status", "body", "html", "cls", "words"), [
    (401, {"title": "Unauthorized", "status": 401, "detail": "Invalid user name or password"}, None, AuthError,
     "rejected the credentials"),
    (401, {"hint": "Token has been revoked", "status": 401}, None, AuthError, "revoked the refresh token"),
    (402, {"title": "Payment Required", "status": 402, "detail": "Payment required"}, None, PaymentRequired,
     "paid period has ended"),
    (403, None, "<html><h1>403 Forbidden</h1>nginx</html>", Blocked, "amoCRM has blocked this IP/account"),
    (429, {"status": 429, "retry_after": 300}, None, RateLimited, "429"),
    (429, None, "<html>429 Too Many Requests</html>", RateLimited, "429"),
    (500, {"title": "ErrInternalServer", "status": 500}, None, ServerError, "HTTP 500"),
    (502, None, "<html>502</html>", ServerError, "HTTP 502"),
    (422, {"status": 422, "detail": "Limit 250 per page"}, None, RequestError, "Limit 250 per page"),
])
def test_from_response_picks_class_and_sentence(status: int, body: object, html: str | None, cls: type,
                                                words: str) -> None:
    error = AmoError.from_response(_response(status, body, html))
    assert type(error) is cls and error.status == status
    assert words in str(error) and str(error).endswith(".")


def test_retry_after_comes_from_the_body_never_html() -> None:
    assert retry_after(_response(429, {"retry_after": 300})) == 300
    assert retry_after(_response(429, html="<html>429</html>")) is None
    assert retry_after(httpx.Response(429, headers={"retry-after": "7"})) == 7


def test_query_string_keeps_amocrm_brackets_readable() -> None:
    qs = query_string([("filter[id][]", 1), ("filter[id][]", 2), ("with", "contacts,loss_reason"),
                       ("filter[updated_at][from]", 5), ("name", "a b&c")])
    assert qs == "filter[id][]=1&filter[id][]=2&with=contacts,loss_reason&filter[updated_at][from]=5&name=a+b%26c"


def test_has_next_tolerates_missing_links_and_next_on_last_page() -> None:
    full, short = 250, 10
    assert has_next({"_links": {"next": {}}}, full, 250, 1)
    assert not has_next({"_links": {"self": {}}}, full, 250, 1)   # no next link
    assert not has_next({"_links": {"next": {}}}, short, 250, 1)  # a short page ends it whatever the links say
    assert has_next({"_embedded": {}}, full, 250, 1)              # no _links at all: trust a full page
    assert not has_next({"_page_count": 2, "_links": {"next": {}}}, 50, 50, 2)
    assert not has_next(None, 0, 250, 3)                          # 204


def test_5xx_then_success_is_retried() -> None:
    client, seen = _client([_response(503, {"status": 503}), _response(502, html="<html>502</html>"),
                            _response(200, {"ok": 1})])
    assert client.get("/api/v4/account") == {"ok": 1}
    assert len(seen) == 3 and client.stats.retries == 2


def test_transport_errors_are_retried_then_reported() -> None:
    client, seen = _client([httpx.ConnectError("refused")])
    with pytest.raises(TransportError, match="connection to amoCRM failed"):
        client.get("/api/v4/account")
    assert len(seen) == 4  # first try + max_retries


def test_non_json_200_is_retried_then_reported() -> None:
    client, _ = _client([_response(200, html="<html>maintenance</html>"), _response(200, {"fine": True})])
    assert client.get("/x") == {"fine": True}
    client, seen = _client([_response(200, html="<html>maintenance</html>")])
    with pytest.raises(BadResponse, match="not valid JSON"):
        client.get("/x")
    client, _ = _client([_response(200, [1, 2, 3])])
    with pytest.raises(BadResponse, match="not a JSON object"):
        client.get("/x")


@pytest.mark.parametrize("body", [{"status": 429, "retry_after": 300}, None])
def test_429_backs_off_with_a_clamped_wait_and_gives_up_before_a_block(body: object) -> None:
    throttled = _response(429, body) if body else _response(429, html="<html>429</html>")
    client, seen = _client([throttled, throttled, _response(200, {"ok": 1})])
    assert client.get("/x") == {"ok": 1}  # retry_after 300 clamped to max_retry_wait, not honoured for 5 min
    assert client.stats.throttled == 2
    client, seen = _client([throttled])
    with pytest.raises(RateLimited):
        client.get("/x")
    assert len(seen) == 4  # bounded: max_429 + 1, never an endless hammering


@pytest.mark.parametrize(("status", "cls"), [(403, Blocked), (402, PaymentRequired), (401, AuthError)])
def test_fatal_answers_stop_at_once(status: int, cls: type) -> None:
    client, seen = _client([_response(status, html="<html>no</html>") if status == 403 else _response(status, {})])
    with pytest.raises(cls) as info:
        client.get("/x")
    assert len(seen) == 1
    if status == 403:
        assert str(info.value) == BLOCKED_SENTENCE


class _Refreshing:
    """A fake OAuth provider counting refreshes."""

    can_refresh = True

    def __init__(self) -> None:
        self.token, self.refreshes = "old", 0

    def access_token(self) -> str:
        return self.token

    def refresh(self, stale: str | None) -> str:
        self.refreshes += 1
        self.token = "new"
        return self.token


def test_401_refreshes_once_then_replays() -> None:
    auth = _Refreshing()
    client, seen = _client([_response(401, {}), _response(200, {"ok": 1})], auth=auth)
    assert client.get("/x") == {"ok": 1}
    assert auth.refreshes == 1 and seen[-1].headers["authorization"] == "Bearer new"
    auth = _Refreshing()
    client, seen = _client([_response(401, {})], auth=auth)
    with pytest.raises(AuthError, match="even after refreshing"):
        client.get("/x")
    assert auth.refreshes == 1 and len(seen) == 2


def test_204_and_optional_404_mean_empty() -> None:
    client, _ = _client([_response(204)])
    assert client.get("/x") is None
    client, _ = _client([_response(404, {"detail": "Cannot GET"})])
    assert client.get("/x", not_found_ok=True) is None
    with pytest.raises(RequestError):
        client.get("/x")


def test_limiter_never_grants_more_than_the_limit_in_any_window() -> None:
    limiter = RateLimiter(max_requests=5, window=0.2, margin=0.02, keep_history=True)
    threads = [threading.Thread(target=lambda: [limiter.acquire() for _ in range(6)]) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps = sorted(limiter.history or [])
    assert len(stamps) == 36
    assert max_in_window(stamps, 0.22) <= 5
    assert min(b - a for a, b in zip(stamps, stamps[1:], strict=False)) >= limiter.min_interval - 1e-6


def test_limiter_pause_and_cancel() -> None:
    limiter = RateLimiter(max_requests=2, window=0.05, margin=0.0, keep_history=True)
    first = limiter.acquire()
    limiter.cancel(first)  # an unused grant frees its place
    assert limiter.history == []
    limiter.pause(0.05)
    paused_at = limiter._paused_until
    assert limiter.acquire() >= paused_at


def test_a_429_widens_the_window_up_to_a_cap() -> None:
    throttled = _response(429, {"status": 429, "retry_after": 0})
    client, _ = _client([throttled, throttled, _response(200, {"ok": 1})])
    before = client.limiter.span
    client.get("/x")
    assert client.limiter.span == pytest.approx(before + 0.1)
    for _ in range(20):
        client.limiter.widen()
    assert client.limiter.span == pytest.approx(before + RateLimiter.MAX_EXTRA_MARGIN)


def test_the_extra_margin_decays_without_429s() -> None:
    now = [100.0]
    limiter = RateLimiter(max_requests=7, clock=lambda: now[0])
    base = limiter.span
    limiter.widen(0.1)
    now[0] += RateLimiter.DECAY_EVERY
    limiter.acquire()
    assert limiter.span == pytest.approx(base + 0.1 - RateLimiter.DECAY_STEP)
    for _ in range(10):
        now[0] += RateLimiter.DECAY_EVERY
        limiter.acquire()
    assert limiter.span == pytest.approx(base)


def test_max_in_window_counts_a_half_open_window() -> None:
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.5]) == 3
    assert max_in_window([]) == 0


def _emu_client(emu: Emulator, **kwargs: object) -> AmoClient:
    opts: dict[str, object] = {"max_retries": 6, "retry_base": 0.001, "max_retry_wait": 0.05, "timeout": 2.0}
    opts.update(kwargs)
    limiter = RateLimiter(max_requests=200, margin=0.0, min_interval=0.0)
    return AmoClient(emu.url, StaticToken(emu.options.long_lived_token or ""), limiter, **opts)  # type: ignore[arg-type]


def test_paginate_against_the_emulator_quirks() -> None:
    records = make_records(20)
    records["users"] = [{"id": i, "name": f"u{i}"} for i in range(6)]
    with Emulator(records, rate_limit=None) as emu, _emu_client(emu) as client:
        users = list(client.paginate("/api/v4/users", "users", limit=3))
        assert [u["id"] for u in users] == list(range(6))
        # Two full pages, the second still carries `next`: one extra request that answers 204.
        assert [e.status for e in emu.api_log()] == [200, 200, 204]
        fields = list(client.paginate("/api/v4/leads/custom_fields", "custom_fields", limit=50))
        assert len(fields) == len(records["lead_custom_fields"]) > 50
        reasons = list(client.paginate("/api/v4/leads/loss_reasons", "loss_reasons"))  # body without _links
        assert len(reasons) == 3


def test_dropped_connections_and_garbage_are_survived() -> None:
    with Emulator(make_records(10), rate_limit=None, fault_rate=0.5, faults=("drop", "garbage", "truncated", "500"),
                  seed=3) as emu, _emu_client(emu, max_retries=12) as client:
        for _ in range(10):
            assert client.get("/api/v4/account")["name"] == "Тестовый аккаунт"
        assert client.stats.retries >= 5


def test_hammering_gets_blocked_and_the_client_stops() -> None:
    with Emulator(make_records(10), rate_limit=3, block_after=3, retry_after=0) as emu, \
            _emu_client(emu, max_429=50) as client:
        errors: list[BaseException] = []

        def hammer() -> None:
            try:
                for _ in range(30):
                    client.get("/api/v4/account")
            except AmoError as exc:
                errors.append(exc)

        run_all([hammer] * 4)
        assert emu.blocked
        assert errors and all(isinstance(e, Blocked) for e in errors)
        blocked_answers = emu.count(status=403)
        assert blocked_answers <= 4  # each thread stopped at its first 403


def run_all(jobs: list[Callable[[], None]]) -> None:
    """Run callables in threads and wait for all."""
    threads = [threading.Thread(target=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

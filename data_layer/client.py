"""amoCRM API v4 client: one httpx.Client, a shared rolling-window rate limiter, retries, typed errors.

The typed errors it raises, and their tree, are in data_layer.errors.

httpx retries nothing but connection set-up, so 429/5xx/timeouts are handled here (see
/work/shared/amocrm-api.md §3, §7, §10). Reference: https://www.amocrm.ru/developers/content/crm_platform/api-reference
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from data_layer.config import AmoConfig
from data_layer.errors import AmoError, AuthError, BadResponse, RateLimited, TransportError, problem_detail
from data_layer.ratelimit import THROTTLE_LIMIT, THROTTLE_WINDOW, Limiter, RateLimiter, limiter_for
from data_layer.ratelimit import max_in_window as max_in_window  # re-exported: tests and the emulator use it
from data_layer.tokens import OAuthTokens, TokenStore

USER_AGENT = "partner-roi-sync/1.0 (+httpx)"
Params = list[tuple[str, Any]] | dict[str, Any] | None


# ---------------------------------------------------------------- 429s and Retry-After

# Every sync of the account stops with this when 429s keep coming across all of them (data_layer.ratelimit).
ACCOUNT_THROTTLED_SENTENCE = (
    f"amoCRM answered 429 Too Many Requests {THROTTLE_LIMIT} times within {THROTTLE_WINDOW:.0f} s to the syncs "
    "of this account on this machine, so every one of them stopped to avoid a block; another integration is "
    "probably using the account's limit — wait a few minutes and run again, or give this app a smaller share "
    "with AMOCRM_RATE_SHARE.")


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from a Retry-After header or a JSON body's retry_after (amoCRM sends the latter)."""
    header = response.headers.get("retry-after")
    if header and header.strip().isdigit():
        return float(header)
    try:
        body = response.json()
        value = body.get("retry_after") if isinstance(body, dict) else None
        return float(value) if value is not None else None
    except (ValueError, TypeError, UnicodeDecodeError):
        return None


# ---------------------------------------------------------------- auth

class Auth(Protocol):
    """What the client needs from a token provider (data_layer.tokens)."""

    can_refresh: bool

    def access_token(self) -> str: ...

    def refresh(self, stale: str | None) -> str: ...


class StaticToken:
    """A long-lived token: sent as is, never refreshed."""

    can_refresh = False

    def __init__(self, token: str) -> None:
        self._token = token

    def access_token(self) -> str:
        """The token."""
        return self._token

    def refresh(self, stale: str | None) -> str:
        """Long-lived tokens cannot be refreshed."""
        raise AuthError("amoCRM rejected the long-lived token (HTTP 401): it expired or was revoked; "
                        "generate a new one in the integration's «Keys and scopes» tab and paste it in Settings.", 401)


# ---------------------------------------------------------------- client

@dataclass
class Stats:
    """Counters of one client, for the summary line and sync_runs."""

    requests: int = 0
    throttled: int = 0
    retries: int = 0
    errors: int = 0


def query_string(params: Params) -> str:
    """Encode params keeping [ ] and , readable: amoCRM filter syntax, and 250-id lists stay short."""
    if not params:
        return ""
    items = list(params.items()) if isinstance(params, dict) else list(params)
    return urlencode([(k, "" if v is None else str(v)) for k, v in items], safe="[],")


class AmoClient:
    """GET/POST against one account with a shared limiter, bounded retries and token refresh."""

    def __init__(self, base_url: str, auth: Auth | None, limiter: Limiter | None = None, *,
                 timeout: float = 30.0, max_retries: int = 6, retry_base: float = 0.5,
                 max_retry_wait: float = 30.0, max_429: int = 6, workers: int = 8,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.limiter: Limiter = limiter or RateLimiter()
        self.max_retries = max_retries
        self.retry_base = retry_base
        self.max_retry_wait = max_retry_wait
        self.max_429 = max_429
        self.stats = Stats()
        self._stats_lock = threading.Lock()
        self._clock_offset: float | None = None
        self._http = httpx.Client(
            base_url=self.base_url, transport=transport, headers={"User-Agent": USER_AGENT},
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            limits=httpx.Limits(max_connections=workers + 2, max_keepalive_connections=workers + 2),
        )

    # -- bookkeeping
    def _count(self, **deltas: int) -> None:
        with self._stats_lock:
            for name, delta in deltas.items():
                setattr(self.stats, name, getattr(self.stats, name) + delta)

    def _note_date(self, response: httpx.Response) -> None:
        if self._clock_offset is not None or "date" not in response.headers:
            return
        try:
            server = email.utils.parsedate_to_datetime(response.headers["date"]).timestamp()
        except (TypeError, ValueError):
            return
        self._clock_offset = server - time.time()

    def server_now(self) -> int:
        """The server's clock in Unix seconds (from the first Date header; local clock before that)."""
        return int(time.time() + (self._clock_offset or 0.0))

    def _backoff(self, attempt: int) -> float:
        return min(self.max_retry_wait, self.retry_base * 2 ** attempt) * random.uniform(0.5, 1.0)

    # -- requests
    def get(self, path: str, params: Params = None, *, slot: float | None = None,
            not_found_ok: bool = False) -> dict | None:
        """GET a JSON object; None for 204 (and 404 when not_found_ok). ``slot``: a grant already taken."""
        qs = query_string(params)
        url = f"{path}?{qs}" if qs else path
        return self._send("GET", url, slot=slot, not_found_ok=not_found_ok, authorised=True)

    def post_token(self, payload: dict[str, str]) -> httpx.Response:
        """POST /oauth2/access_token (rate-limited, retried on 5xx/transport errors); the raw response."""
        return self._send("POST", "/oauth2/access_token", json_body=payload, authorised=False, raw=True)

    def _send(self, method: str, url: str, *, slot: float | None = None, not_found_ok: bool = False,
              authorised: bool = True, json_body: dict | None = None, raw: bool = False) -> Any:
        failures = throttled = 0
        refreshed = False
        while True:
            # A retry (the failed attempt's slot brought nothing back) takes the next free grant first.
            stamp = self.limiter.acquire(urgent=failures + throttled > 0) if slot is None else slot
            slot = None
            if self.limiter.halted():  # sustained 429s across the account: no process sends any more
                self.limiter.cancel(stamp)
                raise RateLimited(ACCOUNT_THROTTLED_SENTENCE, 429)
            token = self.auth.access_token() if authorised and self.auth else None
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            try:
                self.limiter.confirm(stamp)
                response = self._http.request(method, url, headers=headers, json=json_body)
            except httpx.TimeoutException as exc:
                failures = self._retry_or_raise(failures, TransportError(
                    f"amoCRM did not answer in time ({exc.__class__.__name__}); check the network and retry.",
                ))
                continue
            except httpx.TransportError as exc:
                failures = self._retry_or_raise(failures, TransportError(
                    f"The connection to amoCRM failed ({exc.__class__.__name__}); check the address and network.",
                ))
                continue
            finally:
                self._count(requests=1)
            self._note_date(response)
            status = response.status_code
            if raw and status != 429 and status < 500:
                return response
            if status == 429:
                throttled += 1
                self._count(throttled=1)
                if self.limiter.note_429():  # counted for the whole account, every process
                    raise RateLimited(ACCOUNT_THROTTLED_SENTENCE, 429, problem_detail(response))
                if throttled > self.max_429:
                    raise AmoError.from_response(response)
                self._throttle(retry_after(response), throttled)
                continue
            if status == 401 and authorised and self.auth and not refreshed:
                refreshed = True
                self.auth.refresh(token)  # a long-lived token raises its own sentence here
                continue
            if 200 <= status < 300:
                body = self._decode(response)
                if isinstance(body, BadResponse):
                    failures = self._retry_or_raise(failures, body)
                    continue
                return body
            if status == 404 and not_found_ok:
                return None
            error = AmoError.from_response(response)
            if status == 401 and refreshed:
                error = AuthError("amoCRM rejected the access token even after refreshing it; authorise the "
                                  "integration again (new authorization code) or paste a long-lived token.", 401)
            if error.retryable:
                failures = self._retry_or_raise(failures, error, retry_after(response))
                continue
            raise error

    def _throttle(self, wait: float | None, throttled: int) -> None:
        """After a 429, pause every process of the account: the answer's retry_after, else one window.

        amoCRM counts 7 requests in a rolling second, and its HTML 429 (from the gateway) names no wait:
        one window without requests empties that count, so a first 429 pauses one span (≥ the 1 s the
        API notes recommend) and a repeat on the same request doubles it. The pause is the account's,
        shared by every thread and process, so it needs no jitter (min_interval spreads the restart).
        """
        if wait is None:
            wait = self.limiter.span * 2 ** (throttled - 1)
        self.limiter.widen()  # the server saw more than we sent per window: allow for more jitter
        self.limiter.pause(min(max(wait, 0.0), self.max_retry_wait))

    def _retry_or_raise(self, failures: int, error: AmoError, wait: float | None = None) -> int:
        """Wait before the next attempt (``wait``: the server's Retry-After), or raise once retries are used up.

        A first retry goes out on the next free grant: the failed attempt already used its slot and the
        limiter keeps the budget, so a sleep would only leave slots unused. Only a repeated failure of the
        same request backs off (the server is struggling), and a Retry-After is always honoured.
        """
        self._count(errors=1)
        if failures >= self.max_retries:
            raise error
        self._count(retries=1)
        delay = self._backoff(failures - 1) if failures else 0.0
        if wait is not None:
            delay = max(delay, min(max(wait, 0.0), self.max_retry_wait))
        if delay > 0:
            time.sleep(delay)
        return failures + 1

    @staticmethod
    def _decode(response: httpx.Response) -> dict | None | BadResponse:
        if response.status_code == 204 or not response.content.strip():
            return None
        try:
            body = response.json()
        except (ValueError, UnicodeDecodeError):
            return BadResponse("amoCRM returned a page that is not valid JSON; try again later.",
                               response.status_code)
        if not isinstance(body, dict):
            return BadResponse("amoCRM returned an unexpected answer (not a JSON object); try again later.",
                               response.status_code)
        return body

    def paginate(self, path: str, key: str, params: Params = None, limit: int = 250) -> Iterator[dict]:
        """Yield records of a HAL list page by page; stop on 204, a short page or a missing `next`.

        A `next` link on the last full page only costs one extra 204; bodies without `_links`
        (statuses, some reference lists) end when a page is short. amocrm-api.md §4.
        """
        page = 1
        base = list(params.items()) if isinstance(params, dict) else list(params or [])
        while True:
            body = self.get(path, [*base, ("limit", limit), ("page", page)], not_found_ok=True)
            items = embedded(body, key)
            yield from items
            if not has_next(body, len(items), limit, page):
                return
            page += 1

    def close(self) -> None:
        """Close the connection pool and the limiter's file."""
        self._http.close()
        self.limiter.close()

    def __enter__(self) -> AmoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def embedded(body: dict | None, key: str) -> list[dict]:
    """The `_embedded.<key>` list of a body; tolerant of missing or malformed envelopes."""
    if not isinstance(body, dict):
        return []
    emb = body.get("_embedded")
    items = emb.get(key) if isinstance(emb, dict) else None
    return [x for x in items if isinstance(x, dict)] if isinstance(items, list) else []


def has_next(body: dict | None, count: int, limit: int, page: int) -> bool:
    """Whether another page may exist: the page was full, and `next`/`_page_count` do not say otherwise."""
    if body is None or count < limit:
        return False
    page_count = body.get("_page_count")
    if isinstance(page_count, int) and page >= page_count:
        return False
    links = body.get("_links")
    if isinstance(links, dict) and "next" not in links:
        return False
    return True


def open_client(config: AmoConfig, transport: httpx.BaseTransport | None = None,
                keep_history: bool = False) -> AmoClient:
    """Build the client for a checked config: limiter from max_rps, long-lived token or OAuth provider."""
    config.check()
    # Every client of this host, in any process, draws from one budget: this app's share of the account's rate.
    limiter = limiter_for(config.base_url or "", config.max_rps * config.rate_share, keep_history=keep_history)
    client = AmoClient(config.base_url or "", None, limiter, timeout=config.timeout,
                       max_retries=config.max_retries, retry_base=config.retry_base,
                       max_retry_wait=config.max_retry_wait, workers=config.workers, transport=transport)
    if config.auth_mode == "long_lived":
        client.auth = StaticToken(config.token or "")
    else:
        client.auth = OAuthTokens(TokenStore(config.token_path), config, client.post_token)
    return client

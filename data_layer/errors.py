"""The amoCRM failures and their sentences, shared by the client, the config and the token provider.

Exception tree (every error carries a sentence a marketing lead can act on)::

    AmoError
     ├── ConfigError       settings missing or invalid (raised before any request)
     ├── AuthError         401, refused authorization code, revoked refresh token
     ├── PaymentRequired   402: the account's paid period ended
     ├── Blocked           403: amoCRM blocked the IP/account (after too many 429s) — never retried
     ├── RateLimited       429 kept coming after back-off (stop before it escalates into a 403 block)
     ├── ServerError       5xx after bounded retries
     ├── TransportError    timeouts, refused or dropped connections after bounded retries
     ├── BadResponse       a 2xx whose body is not the JSON object the API documents
     └── RequestError      any other 4xx (400, 404, 405, 422 …)

It imports nothing from data_layer, so data_layer.client, .config and .tokens all import it at module top.
"""

from __future__ import annotations

import httpx


class AmoError(RuntimeError):
    """Base of every amoCRM failure; str() is a user-facing sentence."""

    retryable = False

    def __init__(self, message: str, status: int | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.detail = detail

    @classmethod
    def from_response(cls, response: httpx.Response) -> AmoError:
        """Pick the subclass and the sentence for an HTTP error response (JSON or HTML body)."""
        status = response.status_code
        detail = problem_detail(response)
        if status == 401:
            hint = (detail or "").lower()
            if "revoked" in hint:
                return AuthError(REVOKED_SENTENCE, status, detail)
            return AuthError("amoCRM rejected the credentials (HTTP 401): the token is wrong, expired or the "
                             "integration was disabled; paste a new long-lived token or authorise again.",
                             status, detail)
        if status == 402:
            return PaymentRequired("amoCRM answered 402 Payment Required: the account's paid period has ended; "
                                   "renew it in amoCRM and run the sync again.", status, detail)
        if status == 403:
            return Blocked(BLOCKED_SENTENCE, status, detail)
        if status == 429:
            return RateLimited("amoCRM keeps answering 429 Too Many Requests; the sync stopped to avoid a block. "
                               "Another integration may be using the account's limit — try again in a few minutes.",
                               status, detail)
        if status >= 500:
            return ServerError(f"amoCRM is not answering properly (HTTP {status}); try again later.", status, detail)
        what = f": {detail}" if detail else ""
        return RequestError(f"amoCRM refused the request (HTTP {status}){what}.", status, detail)


class ConfigError(AmoError):
    """The connection settings are missing or invalid; str() is English, text(lang) the sentence in lang."""

    def __init__(self, message: str, ru: str | None = None) -> None:
        super().__init__(message)
        self.ru = ru

    def text(self, lang: str = "en") -> str:
        """The sentence in lang (Russian where one is written, else English)."""
        return self.ru if lang == "ru" and self.ru else self.message


class AuthError(AmoError):
    """Authorization failed for good (bad token, refused code, revoked refresh token)."""


class PaymentRequired(AmoError):
    """HTTP 402: the account is not paid."""


class Blocked(AmoError):
    """HTTP 403: amoCRM blocked this IP or account."""


class RateLimited(AmoError):
    """HTTP 429 persisted through back-off."""

    retryable = True


class ServerError(AmoError):
    """HTTP 5xx."""

    retryable = True


class TransportError(AmoError):
    """Timeout, refused or dropped connection."""

    retryable = True


class BadResponse(AmoError):
    """A 2xx whose body is not a JSON object."""

    retryable = True


class RequestError(AmoError):
    """Any other 4xx."""


BLOCKED_SENTENCE = ("amoCRM has blocked this IP/account (HTTP 403), usually after too many requests; the sync "
                    "stopped. Ask amoCRM support to lift the block (give them your IP address and subdomain) "
                    "and do not retry until they confirm.")
REVOKED_SENTENCE = ("amoCRM revoked the refresh token (it was already used or is older than 3 months); "
                    "authorise the integration again: copy a new authorization code into Settings.")


def problem_detail(response: httpx.Response) -> str | None:
    """'detail' (and OAuth 'hint') of a problem+json body; None for HTML or empty bodies."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict):
        return None
    parts = [str(body[k]) for k in ("hint", "detail") if body.get(k)]
    return "; ".join(parts)[:300] or None

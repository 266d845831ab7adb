"""The token file and the OAuth 2.0 token provider (rotating refresh tokens, amocrm-api.md §2).

Crash safety: amoCRM keeps the previous refresh token valid until the new one is *used*, so the
client writes every new pair to disk (write temp file, fsync, rename; mode 0600) *before* using it.
A crash before the write leaves the old pair on disk, which still works; a crash after it leaves the
new pair. Refreshes are single-flight: a thread lock plus an fcntl lock on ``<file>.lock`` so that
two threads or two processes never spend the same refresh token. When amoCRM answers
"Token has been revoked", the store is read again — another process may have rotated it — before
giving up. Secrets never go into logs, exceptions or the analytic database.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import httpx

from data_layer.errors import REVOKED_SENTENCE, AmoError, AuthError, problem_detail

REFRESH_AHEAD = 300.0  # seconds before expiry when a token is refreshed pre-emptively


class _PathLock:
    """Re-entrant per-thread lock for one token file; the fcntl lock is taken once per outermost entry."""

    def __init__(self) -> None:
        self.rlock = threading.RLock()
        self.depth = 0


_LOCKS: dict[str, _PathLock] = {}
_LOCKS_GUARD = threading.Lock()


def _path_lock(path: Path) -> _PathLock:
    key = str(path.resolve())
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, _PathLock())


def code_hash(code: str) -> str:
    """A one-way fingerprint of an authorization code: remembers it was used without storing it."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()[:32]


class TokenStore:
    """JSON file {"credentials": {...typed in Settings}, "oauth": {...current pair}}, written atomically."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        real = self.path.resolve()  # a symlinked or relative path must take the same lock
        self.lock_path = real.with_name(real.name + ".lock")

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive across threads and processes (fcntl), re-entrant within one thread."""
        plock = _path_lock(self.path)
        with plock.rlock:
            if plock.depth:
                plock.depth += 1
                try:
                    yield
                finally:
                    plock.depth -= 1
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                plock.depth = 1
                try:
                    yield
                finally:
                    plock.depth = 0
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def read(self) -> dict[str, Any]:
        """The whole file ({} when missing or unreadable: a broken file must not stop a long-lived token)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError, OSError):
            return {}
        return data if isinstance(data, dict) else {}

    def write(self, data: dict[str, Any]) -> None:
        """Replace the file atomically: temp file (0600) → fsync → rename → fsync the directory."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def update(self, section: str, values: dict[str, Any]) -> dict[str, Any]:
        """Merge values into one section under the lock; return the new file content."""
        with self.lock():
            data = self.read()
            merged = {**(data.get(section) or {}), **values}
            data[section] = {k: v for k, v in merged.items() if v is not None}
            self.write(data)
            return data

    def credentials(self) -> dict[str, str]:
        """Credentials typed in the Settings page (token, client_id, client_secret, redirect_uri, auth_code)."""
        creds = self.read().get("credentials") or {}
        return {k: str(v) for k, v in creds.items() if v}

    def save_credentials(self, **values: str | None) -> None:
        """Store credentials typed in the Settings page."""
        self.update("credentials", values)

    def oauth(self) -> dict[str, Any]:
        """The stored OAuth pair and its bookkeeping."""
        return dict(self.read().get("oauth") or {})

    def delete(self) -> bool:
        """Remove the file; return whether it existed."""
        with self.lock():
            try:
                self.path.unlink()
                return True
            except FileNotFoundError:
                return False


class OAuthSettings(Protocol):
    """The integration's OAuth values OAuthTokens reads (data_layer.config.AmoConfig has them).

    A protocol rather than AmoConfig itself: data_layer.config reads the token file through this
    module, so importing config here would close an import circle.
    """

    @property
    def client_id(self) -> str | None: ...

    @property
    def client_secret(self) -> str | None: ...

    @property
    def redirect_uri(self) -> str | None: ...

    @property
    def auth_code(self) -> str | None: ...


class OAuthTokens:
    """Access tokens for one integration: code exchange, refresh ahead of expiry and once on 401."""

    can_refresh = True

    def __init__(self, store: TokenStore, config: OAuthSettings,
                 post: Callable[[dict[str, str]], httpx.Response]) -> None:
        self.store = store
        self.config = config
        self._post = post
        self._cache: dict[str, Any] | None = None
        self.refreshes = 0

    # -- public
    def access_token(self) -> str:
        """A valid access token, exchanging the code or refreshing when needed."""
        cached = self._cache
        if cached and not self._expiring(cached):
            return str(cached["access_token"])
        return self._renew(stale=cached.get("access_token") if cached else None, force=False)

    def refresh(self, stale: str | None) -> str:
        """After a 401 with ``stale``: use a newer stored token or refresh once."""
        return self._renew(stale=stale, force=True)

    # -- internals
    def _stored(self) -> dict[str, Any]:
        oauth = self.store.oauth()
        if oauth.get("client_id") not in (None, self.config.client_id):
            return {}  # tokens of another integration are useless here
        return oauth

    @staticmethod
    def _expiring(oauth: dict[str, Any]) -> bool:
        expires_at = float(oauth.get("expires_at") or 0)
        lifetime = float(oauth.get("expires_in") or 86400)
        return time.time() >= expires_at - min(REFRESH_AHEAD, lifetime / 4)

    def _renew(self, stale: str | None, force: bool) -> str:
        with self.store.lock():
            oauth = self._stored()
            new_code = self.config.auth_code and code_hash(self.config.auth_code) != oauth.get("code_hash")
            if new_code:
                token = self._try_code(oauth)
                if token:
                    return token
                oauth = self._stored()
            usable = oauth.get("access_token") and not self._expiring(oauth)
            if usable and (not force or oauth["access_token"] != stale):
                self._cache = oauth
                return str(oauth["access_token"])
            if not oauth.get("refresh_token"):
                raise AuthError("amoCRM OAuth is not authorised yet: copy the authorization code from the "
                                "integration (valid 20 minutes) into Settings or AMOCRM_AUTH_CODE.")
            return self._refresh_with(oauth)

    def _try_code(self, oauth: dict[str, Any]) -> str | None:
        """Exchange a code never used before; on refusal keep stored tokens if there are any."""
        code = self.config.auth_code or ""
        response = self._post({
            "client_id": self.config.client_id or "", "client_secret": self.config.client_secret or "",
            "grant_type": "authorization_code", "code": code, "redirect_uri": self.config.redirect_uri or "",
        })
        if response.status_code == 200:
            return self._save_pair(response, code_hash=code_hash(code))
        # Remember the code as spent so every later run does not try it again.
        self.store.update("oauth", {"code_hash": code_hash(code), "client_id": self.config.client_id})
        if oauth.get("refresh_token"):
            return None
        detail = problem_detail(response)
        raise AuthError("amoCRM did not accept the authorization code (it is valid 20 minutes and works once; "
                        "client id, secret and redirect URI must match the integration): copy a new code into "
                        "Settings." + (f" amoCRM says: {detail}." if detail else ""), response.status_code, detail)

    def _refresh_with(self, oauth: dict[str, Any], retried: bool = False) -> str:
        used = str(oauth["refresh_token"])
        response = self._post({
            "client_id": self.config.client_id or "", "client_secret": self.config.client_secret or "",
            "grant_type": "refresh_token", "refresh_token": used, "redirect_uri": self.config.redirect_uri or "",
        })
        if response.status_code == 200:
            return self._save_pair(response)
        # Another process (or machine sharing the file) may have rotated the pair meanwhile.
        again = self._stored()
        if again.get("refresh_token") and again["refresh_token"] != used:
            if again.get("access_token") and not self._expiring(again):
                self._cache = again
                return str(again["access_token"])
            if not retried:
                return self._refresh_with(again, retried=True)
        error = AmoError.from_response(response)
        if response.status_code in (400, 401):
            raise AuthError(REVOKED_SENTENCE if "revoked" in (error.detail or "").lower() else
                            "amoCRM refused to refresh the access token; authorise the integration again "
                            "(new authorization code in Settings).", response.status_code, error.detail)
        raise error

    def _save_pair(self, response: httpx.Response, code_hash: str | None = None) -> str:
        """Persist the new pair (atomically, before anyone uses it) and return the access token."""
        try:
            body = response.json()
            access, refresh = str(body["access_token"]), str(body["refresh_token"])
            expires_in = float(body.get("expires_in") or 86400)
        except (ValueError, KeyError, TypeError) as exc:
            raise AuthError("amoCRM answered the token request with an unexpected body; try again.",
                            response.status_code) from exc
        values: dict[str, Any] = {
            "client_id": self.config.client_id, "access_token": access, "refresh_token": refresh,
            "expires_in": expires_in, "expires_at": time.time() + expires_in,
            "updated_at": int(time.time()),
        }
        if code_hash:
            values["code_hash"] = code_hash
        self.store.update("oauth", values)
        self.refreshes += 1
        self._cache = self._stored()
        return access

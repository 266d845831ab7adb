"""A local amoCRM API v4 emulator: a real HTTP server on 127.0.0.1 in a thread (amocrm-api.md §11).

It serves records shaped like the API (from ``data.make_records`` or ``data_layer.demo.generate_records``)
and reproduces what the sync must survive: HAL pages with a `next` link even on a full last page, 204
past the end, null custom_fields_values, a 7-per-rolling-second limit answered with 429 (JSON with
``retry_after`` or nginx HTML, never a Retry-After header) and a 403 block after repeated abuse, injected
5xx / dropped connections / garbage bodies / slow answers, configurable latency, long-lived tokens and
OAuth with rotating refresh tokens (grace rule or strict), deletions (``with=only_deleted`` skeletons and
lead_deleted events), later edits, and the filters the sync uses (updated_at / created_at windows, id
lists, order, with). Every arrival is logged so a test can prove the limit was never exceeded.
"""

from __future__ import annotations

import base64
import bisect
import copy
import email.utils
import json
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

# "lost" processes the request (a refresh rotates the token) and then drops the answer.
FAULT_KINDS = ("500", "502", "503", "504", "drop", "lost", "garbage", "truncated", "429json", "429html", "slow")
BIG = 1 << 62
LIST_LIMITS = {"leads": 250, "contacts": 250, "companies": 250, "users": 250, "events": 100,
               "custom_fields": 50, "loss_reasons": 250, "sources": 250}
HTML_429 = b"<html><head><title>429 Too Many Requests</title></head><body><center><h1>429 Too Many Requests</h1></center><hr><center>nginx</center></body></html>"
HTML_403 = b"<html><head><title>403 Forbidden</title></head><body><center><h1>403 Forbidden</h1></center><hr><center>nginx</center></body></html>"
HTML_5XX = b"<html><body><h1>%d</h1>nginx</body></html>"


@dataclass
class Options:
    """Behaviour knobs; the defaults are the real account's (7 rps, no faults, no latency)."""

    rate_limit: float | None = 7
    block_after: int = 30               # rate 429s within 60 s that trigger the 403 block
    latency: tuple[float, float] = (0.0, 0.0)
    fault_rate: float = 0.0
    faults: tuple[str, ...] = FAULT_KINDS
    faults_on_oauth: bool = False
    slow_seconds: float = 2.5
    html_429: bool = False              # rate-limit 429s as nginx HTML instead of problem JSON
    retry_after: int | None = 1         # retry_after in JSON 429 bodies (the docs show 300)
    next_on_last_page: bool = True
    limit_mode: str = "clamp"           # or "422" for limit above the maximum
    long_lived_token: str | None = "emu-long-lived-token"
    client_id: str = "emu-client"
    client_secret: str = "emu-secret"
    redirect_uri: str = "https://example.com/oauth"
    auth_codes: tuple[str, ...] = ("emu-code-1", "emu-code-2")
    access_ttl: int = 86400
    strict_refresh: bool = False        # revoke a refresh token at once instead of when its successor is used
    payment_required: bool = False      # answer 402 to every API call (unpaid account)
    seed: int = 0


@dataclass
class Reply:
    """What the handler sends back."""

    status: int
    body: bytes = b""
    content_type: str | None = "application/hal+json"
    drop: bool = False
    delay: float = 0.0


@dataclass
class Logged:
    """One request as the emulator saw it."""

    at: float
    method: str
    path: str
    status: int = 0
    fault: str | None = None
    query: str = ""


@dataclass
class _Index:
    """Sorted views of one pool of entities, rebuilt after a change."""

    ids: list[int] = field(default_factory=list)
    upd: list[tuple[int, int]] = field(default_factory=list)


class _View:
    """Rows [a, b) of a sorted list, optionally reversed and mapped, sliced without copying the list."""

    def __init__(self, seq: list, a: int, b: int, reverse: bool = False, pick: Any = None) -> None:
        self.seq, self.a, self.b, self.reverse, self.pick = seq, a, max(a, b), reverse, pick

    def __len__(self) -> int:
        return self.b - self.a

    def __getitem__(self, part: slice) -> list:
        start, stop, _ = part.indices(len(self))
        rows = (range(self.b - 1 - start, self.b - 1 - stop, -1) if self.reverse
                else range(self.a + start, self.a + stop))
        return [self.pick(self.seq[i]) if self.pick else self.seq[i] for i in rows]


def _json(status: int, body: Any, content_type: str = "application/hal+json") -> Reply:
    return Reply(status, json.dumps(body, ensure_ascii=False).encode("utf-8"), content_type)


def problem(status: int, title: str, detail: str, **extra: Any) -> Reply:
    """An application/problem+json error."""
    body = {"title": title, "type": f"https://httpstatus.es/{status}", "status": status, "detail": detail, **extra}
    return _json(status, body, "application/problem+json")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


class Query:
    """PHP-style bracket query: filter[updated_at][from], filter[id][], filter[id][0], order[x], with."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.pairs = parse_qsl(raw, keep_blank_values=True)

    def get(self, key: str, default: str | None = None) -> str | None:
        """First value of a key."""
        for k, v in self.pairs:
            if k == key:
                return v
        return default

    def values(self, name: str) -> list[str]:
        """filter[name][] / filter[name][n] / filter[name]=a,b as one list."""
        out: list[str] = []
        prefix = f"filter[{name}]"
        for k, v in self.pairs:
            if k == prefix:
                out += [x for x in v.split(",") if x]
            elif k.startswith(prefix + "[") and (k[len(prefix) + 1:-1].isdigit() or k.endswith("[]")):
                out.append(v)
        return out

    def range(self, name: str) -> tuple[int | None, int | None]:
        """(from, to) of filter[name][from|to]; a bare filter[name]=ts means 'from'."""
        lo, hi = self.get(f"filter[{name}][from]"), self.get(f"filter[{name}][to]")
        bare = self.get(f"filter[{name}]")
        if lo is None and bare is not None and bare.lstrip("-").isdigit():
            lo = bare
        return (int(lo) if lo not in (None, "") else None, int(hi) if hi not in (None, "") else None)

    def order(self) -> tuple[str | None, bool]:
        """(field, descending) of order[field]=asc|desc."""
        for k, v in self.pairs:
            if k.startswith("order[") and k.endswith("]"):
                return k[6:-1], v.lower() == "desc"
        return None, False

    def with_(self) -> set[str]:
        """The `with` list."""
        return {w.strip() for w in (self.get("with") or "").split(",") if w.strip()}


class Emulator:
    """The account, its HTTP server and the counters tests assert on."""

    def __init__(self, records: dict[str, Any], options: Options | None = None, **kwargs: Any) -> None:
        self.options = options or Options(**kwargs)
        self._lock = threading.RLock()
        self._rng = random.Random(self.options.seed)
        self.reference = {k: copy.deepcopy(records.get(k) or []) for k in
                          ("users", "pipelines", "lead_custom_fields", "loss_reasons", "sources")}
        self.account = copy.deepcopy(records.get("account") or {})
        self.leads = {int(r["id"]): copy.deepcopy(r) for r in records.get("leads", [])}
        self.contacts = {int(r["id"]): copy.deepcopy(r) for r in records.get("contacts", [])}
        self.companies = {int(r["id"]): copy.deepcopy(r) for r in records.get("companies", [])}
        self.events = [copy.deepcopy(e) for e in records.get("events", [])]
        newest = max([int(r.get("updated_at") or 0) for r in self.leads.values()]
                     + [int(e.get("created_at") or 0) for e in self.events] + [0])
        # The server clock starts after the newest record (demo data runs to the end of today).
        self.clock_offset = max(0.0, newest + 120 - time.time())
        self._indexes: dict[str, _Index] = {}
        self._pools: dict[str, dict[int, dict]] = {}
        self.version = 0  # bumped by every mutation: lets tests cache the expected content
        self._json: dict[tuple, str] = {}  # rendered records: a page is a join, so arrivals are stamped promptly
        self._event_index: dict[tuple, list[tuple[int, str, int]]] = {}
        self.log: list[Logged] = []
        self._recent: deque[float] = deque()
        self._violations: deque[float] = deque()
        self.blocked = False
        self.access_tokens: dict[str, float] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.used_codes: set[str] = set()
        self.token_requests = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> Emulator:
        """Serve on 127.0.0.1 on a free port in a daemon thread."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.emulator = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def now(self) -> int:
        """The server clock (Unix seconds)."""
        return int(time.time() + self.clock_offset)

    # ------------------------------------------------------------ counters
    def api_log(self) -> list[Logged]:
        """Logged requests (a copy)."""
        with self._lock:
            return list(self.log)

    def arrivals(self) -> list[float]:
        """Arrival times of every request, including refused ones."""
        with self._lock:
            return [entry.at for entry in self.log]

    def count(self, status: int | None = None, path_prefix: str = "") -> int:
        """Requests with this status (any when None) under a path prefix."""
        with self._lock:
            return sum(1 for e in self.log if (status is None or e.status == status) and e.path.startswith(path_prefix))

    def max_in_window(self, window: float = 1.0) -> int:
        """Most requests that arrived within any rolling window."""
        from data_layer.client import max_in_window

        return max_in_window(self.arrivals(), window)

    def reset_log(self) -> None:
        """Forget logged requests and rate history (not the block)."""
        with self._lock:
            self.log.clear()
            self._recent.clear()
            self._violations.clear()

    def unblock(self) -> None:
        """Lift the 403 block (what amoCRM support does)."""
        with self._lock:
            self.blocked = False
            self._violations.clear()

    # ------------------------------------------------------------ mutations (tests)
    def _touch(self) -> None:
        self.version += 1
        self._json.clear()
        self._indexes.clear()
        self._pools.clear()
        self._event_index.clear()

    def update_lead(self, lead_id: int, **changes: Any) -> None:
        """Edit a lead; updated_at moves to now."""
        with self._lock:
            self.leads[lead_id].update(changes)
            self.leads[lead_id]["updated_at"] = self.now()
            self._touch()

    def add_lead(self, record: dict[str, Any]) -> None:
        """Create a lead now."""
        with self._lock:
            rec = copy.deepcopy(record)
            rec.setdefault("created_at", self.now())
            rec["updated_at"] = self.now()
            self.leads[int(rec["id"])] = rec
            self._touch()

    def move_lead(self, lead_id: int, status_id: int, pipeline_id: int | None = None) -> None:
        """Change a lead's stage and record the lead_status_changed event."""
        with self._lock:
            lead = self.leads[lead_id]
            pid = pipeline_id or lead["pipeline_id"]
            self.events.append({
                "id": uuid.uuid4().hex[:26], "type": "lead_status_changed", "entity_id": lead_id,
                "entity_type": "lead", "created_by": 0, "created_at": self.now(),
                "value_before": [{"lead_status": {"id": lead["status_id"], "pipeline_id": lead["pipeline_id"]}}],
                "value_after": [{"lead_status": {"id": status_id, "pipeline_id": pid}}],
            })
            self.update_lead(lead_id, status_id=status_id, pipeline_id=pid)

    def delete_lead(self, lead_id: int, purge: bool = False) -> None:
        """Move a lead to the trash (or purge it: only the lead_deleted event remains)."""
        with self._lock:
            now = self.now()
            self.events.append({"id": f"del-{lead_id}-{now}", "type": "lead_deleted", "entity_id": lead_id,
                                "entity_type": "lead", "created_by": 0, "created_at": now,
                                "value_before": [], "value_after": []})
            if purge:
                self.leads.pop(lead_id, None)
            else:
                self.leads[lead_id].update(is_deleted=True, updated_at=now)
            self._touch()

    def update_contact(self, contact_id: int, **changes: Any) -> None:
        """Edit a contact; updated_at moves to now."""
        with self._lock:
            self.contacts[contact_id].update(changes)
            self.contacts[contact_id]["updated_at"] = self.now()
            self._touch()

    def update_company(self, company_id: int, **changes: Any) -> None:
        """Edit a company; updated_at moves to now."""
        with self._lock:
            self.companies[company_id].update(changes)
            self.companies[company_id]["updated_at"] = self.now()
            self._touch()

    def warm(self) -> None:
        """Render every record's JSON ahead (benchmarks): serving then costs no CPU, so arrivals are stamped on time."""
        with self._lock:
            for with_ in ({"contacts", "loss_reason", "source_id"},):
                pool = self._pools.get("live") or {i: r for i, r in self.leads.items() if not r.get("is_deleted")}
                self._pools["live"] = pool
                tag = f"live:{','.join(sorted(with_))}"
                for i, lead in pool.items():
                    self._json[(tag, i)] = json.dumps(_render_lead(lead, with_), ensure_ascii=False)
            for cache, pool in (("contact", self.contacts), ("company", self.companies)):
                for i, rec in pool.items():
                    self._json[(cache, i)] = json.dumps(rec, ensure_ascii=False)
            for n, event in enumerate(self.events):
                self._json[("event", n)] = json.dumps(event, ensure_ascii=False)

    def expire_access_tokens(self) -> None:
        """Every issued access token stops working (401) — forces the refresh-on-401 path."""
        with self._lock:
            self.access_tokens.clear()

    # ------------------------------------------------------------ request pipeline
    def handle(self, method: str, target: str, body: bytes, headers: dict[str, str]) -> Reply:
        """One request in, one reply out (rate limit, block, faults, auth, routing)."""
        parts = urlsplit(target)
        entry = Logged(time.monotonic(), method, parts.path, query=parts.query)
        with self._lock:
            self.log.append(entry)
            reply = self._gate(entry)
        if reply is None:
            reply = self._route(method, parts.path, Query(parts.query), body, headers)
            if entry.fault in ("garbage", "truncated") and reply.status == 200:
                reply = Reply(200, b"<html>maintenance</html>", "text/html") if entry.fault == "garbage" \
                    else Reply(200, reply.body[: max(1, len(reply.body) // 2)])
            elif entry.fault == "lost":
                reply = Reply(0, drop=True)
        lo, hi = self.options.latency
        with self._lock:
            reply.delay += self._rng.uniform(lo, hi) if hi > 0 else 0.0
        entry.status = 0 if reply.drop else reply.status
        return reply

    def _gate(self, entry: Logged) -> Reply | None:
        """Block, rate limit and injected faults, decided at arrival under the lock."""
        opts = self.options
        if self.blocked:
            return Reply(403, HTML_403, "text/html")
        if opts.payment_required and entry.path.startswith("/api/"):
            return problem(402, "Payment Required", "Payment required")
        if opts.rate_limit:
            self._recent.append(entry.at)
            while self._recent and self._recent[0] <= entry.at - 1.0:
                self._recent.popleft()
            if len(self._recent) > opts.rate_limit:
                self._violations.append(entry.at)
                while self._violations and self._violations[0] <= entry.at - 60:
                    self._violations.popleft()
                if len(self._violations) >= opts.block_after:
                    self.blocked = True
                entry.fault = "rate"
                return self._too_many(opts.html_429)
        on_oauth = entry.path.startswith("/oauth2")
        if opts.fault_rate and (opts.faults_on_oauth or not on_oauth) and self._rng.random() < opts.fault_rate:
            kind = self._rng.choice(opts.faults)
            entry.fault = kind
            return self._fault(kind)
        return None

    def _too_many(self, html: bool) -> Reply:
        if html:
            return Reply(429, HTML_429, "text/html")
        extra = {} if self.options.retry_after is None else {"retry_after": self.options.retry_after}
        return problem(429, "Too Many Requests",
                       "You have sent too many requests in a given amount of time. Please try again later.", **extra)

    def _fault(self, kind: str) -> Reply | None:
        if kind == "500":
            return problem(500, "ErrInternalServer", "Internal server error", trace_id=uuid.uuid4().hex)
        if kind in ("502", "504"):
            return Reply(int(kind), HTML_5XX % int(kind), "text/html")
        if kind == "503":
            return problem(503, "Service Unavailable", "Try later")
        if kind == "drop":
            return Reply(0, drop=True)
        if kind == "429json":
            return self._too_many(False)
        if kind == "429html":
            return self._too_many(True)
        if kind == "slow":  # an answer that comes after the client's timeout
            return Reply(503, b"", None, delay=self.options.slow_seconds)
        return None  # garbage / truncated / lost: decided after routing

    # ------------------------------------------------------------ auth
    def _authorised(self, headers: dict[str, str]) -> bool:
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            return False
        token = auth[7:].strip()
        if self.options.long_lived_token and token == self.options.long_lived_token:
            return True
        with self._lock:
            exp = self.access_tokens.get(token)
        return exp is not None and exp > self.now()

    def _issue(self, parent: str | None) -> dict[str, Any]:
        exp = self.now() + self.options.access_ttl
        access = ".".join([_b64({"typ": "JWT", "alg": "RS256"}),
                           _b64({"exp": exp, "api_domain": "api-b.amocrm.ru", "jti": uuid.uuid4().hex}), "sig"])
        refresh = "rt-" + uuid.uuid4().hex
        self.access_tokens[access] = exp
        self.refresh_tokens[refresh] = {"parent": parent, "revoked": False}
        return {"token_type": "Bearer", "expires_in": self.options.access_ttl, "access_token": access,
                "refresh_token": refresh, "server_time": self.now()}

    def _oauth(self, body: bytes, headers: dict[str, str]) -> Reply:
        ctype = headers.get("content-type", "")
        try:
            data = json.loads(body) if "json" in ctype else dict(parse_qsl(body.decode()))
        except ValueError:
            data = {}
        opts = self.options
        oauth_type = "https://developers.amocrm.ru/v3/errors/OAuthProblemJson"
        if (data.get("client_id"), data.get("client_secret"), data.get("redirect_uri")) != \
                (opts.client_id, opts.client_secret, opts.redirect_uri):
            return _json(401, {"title": "Некорректный клиент", "type": oauth_type, "status": 401,
                               "detail": "Авторизация клиента не прошла"}, "application/problem+json")
        with self._lock:
            self.token_requests += 1
            grant = data.get("grant_type")
            if grant == "authorization_code":
                code = data.get("code")
                if code not in opts.auth_codes or code in self.used_codes:
                    return self._oauth_error("Authorization code has been revoked")
                self.used_codes.add(code)
                return _json(200, self._issue(None), "application/json")
            if grant == "refresh_token":
                rt = data.get("refresh_token") or ""
                state = self.refresh_tokens.get(rt)
                if state is None or state["revoked"]:
                    return self._oauth_error("Token has been revoked")
                if opts.strict_refresh:
                    state["revoked"] = True
                else:
                    self._revoke_family(rt)
                return _json(200, self._issue(rt), "application/json")
        return self._oauth_error("Unsupported grant type")

    def _revoke_family(self, used: str) -> None:
        """Grace rule: using RT(n+1) revokes RT(n) and RT(n+1)'s siblings; RT(n+1) lives until its child is used."""
        parent = self.refresh_tokens[used]["parent"]
        if parent is None:
            return
        self.refresh_tokens[parent]["revoked"] = True
        for token, state in self.refresh_tokens.items():
            if state["parent"] == parent and token != used:
                state["revoked"] = True

    @staticmethod
    def _oauth_error(hint: str) -> Reply:
        return _json(401, {"hint": hint, "title": "Некорректный запрос",
                           "type": "https://developers.amocrm.ru/v3/errors/OAuthProblemJson", "status": 401,
                           "detail": "В запросе отсутствует ряд параметров или параметры невалидны"},
                     "application/problem+json")

    # ------------------------------------------------------------ routing
    def _route(self, method: str, path: str, q: Query, body: bytes, headers: dict[str, str]) -> Reply:
        if path == "/oauth2/access_token":
            return self._oauth(body, headers) if method == "POST" else problem(405, "Method Not Allowed", "Use POST")
        if not path.startswith("/api/v4/"):
            return problem(404, "Not Found", f"Cannot {method} {path}")
        if not self._authorised(headers):
            return problem(401, "Unauthorized", "Invalid user name or password")
        if method != "GET":
            return problem(405, "Method Not Allowed", "Method Not Allowed")
        routes = {
            "/api/v4/account": self._account, "/api/v4/users": self._users,
            "/api/v4/leads/pipelines": self._pipelines, "/api/v4/leads/custom_fields": self._custom_fields,
            "/api/v4/leads/loss_reasons": self._loss_reasons, "/api/v4/sources": self._sources,
            "/api/v4/leads": self._leads, "/api/v4/contacts": self._contacts,
            "/api/v4/companies": self._companies, "/api/v4/events": self._events,
        }
        handler = routes.get(path.rstrip("/"))
        if handler is None:
            return problem(404, "Not Found", f"Cannot GET {path}")
        with self._lock:
            return handler(path, q)

    def _limit(self, q: Query, kind: str) -> int | Reply:
        maximum = LIST_LIMITS[kind]
        try:
            limit = int(q.get("limit") or 50)
        except ValueError:
            limit = 50
        if limit > maximum:
            if self.options.limit_mode == "422":
                return problem(422, "Unprocessable Entity", f"Limit {maximum} per page")
            limit = maximum
        return max(1, limit)

    def _links(self, path: str, q: Query, page: int, more: bool) -> dict[str, Any]:
        def href(p: int) -> str:
            pairs = [(k, v) for k, v in q.pairs if k != "page"] + [("page", str(p))]
            return f"https://emu.amocrm.ru{path}?{urlencode(pairs)}"

        links: dict[str, Any] = {"self": {"href": href(page)}}
        if more:
            links["next"] = {"href": href(page + 1)}
        if page > 1:
            links["prev"] = {"href": href(page - 1)}
        return links

    def _page(self, path: str, q: Query, key: str, kind: str, rows: list[Any] | _View, render: Any,
              extra: dict[str, Any] | None = None, cache: str | None = None) -> Reply:
        """Slice one page of an ordered list into a HAL body; 204 past the end.

        With ``cache`` each row's JSON is kept (keyed by the row and ``cache``) until the next mutation.
        """
        limit = self._limit(q, kind)
        if isinstance(limit, Reply):
            return limit
        page = max(1, int(q.get("page") or 1))
        chunk = rows[(page - 1) * limit: page * limit]
        if not chunk:
            return Reply(204, b"", None)
        full_last = len(chunk) == limit and self.options.next_on_last_page
        more = page * limit < len(rows) or full_last
        head = json.dumps({"_page": page, **(extra or {}), "_links": self._links(path, q, page, more)},
                          ensure_ascii=False)
        items = ",".join(self._render_json(x, render, cache) for x in chunk)
        return Reply(200, f'{head[:-1]}, "_embedded": {{"{key}": [{items}]}}}}'.encode())

    def _render_json(self, row: Any, render: Any, cache: str | None) -> str:
        if cache is None:
            return json.dumps(render(row), ensure_ascii=False)
        ckey = (cache, row if isinstance(row, int) else row[2])
        text = self._json.get(ckey)
        if text is None:
            text = self._json[ckey] = json.dumps(render(row), ensure_ascii=False)
        return text

    def _account(self, path: str, q: Query) -> Reply:
        acc = copy.deepcopy(self.account)
        if "datetime_settings" not in q.with_():
            acc.pop("_embedded", None)
        return _json(200, acc)

    def _users(self, path: str, q: Query) -> Reply:
        return self._page(path, q, "users", "users", self.reference["users"], lambda x: x)

    def _pipelines(self, path: str, q: Query) -> Reply:
        rows = self.reference["pipelines"]
        return _json(200, {"_total_items": len(rows), "_links": {"self": {"href": "https://emu.amocrm.ru" + path}},
                           "_embedded": {"pipelines": rows}})

    def _custom_fields(self, path: str, q: Query) -> Reply:
        rows = self.reference["lead_custom_fields"]
        limit = self._limit(q, "custom_fields")
        pages = max(1, -(-len(rows) // limit)) if isinstance(limit, int) else 1
        return self._page(path, q, "custom_fields", "custom_fields", rows, lambda x: x,
                          {"_total_items": len(rows), "_page_count": pages})

    def _loss_reasons(self, path: str, q: Query) -> Reply:
        rows = self.reference["loss_reasons"]
        if not rows:
            return Reply(204, b"", None)
        # No `_links` at all, like the statuses list that crashed other clients (amocrm-api.md §8 #7).
        return _json(200, {"_total_items": len(rows), "_embedded": {"loss_reasons": rows}})

    def _sources(self, path: str, q: Query) -> Reply:
        rows = self.reference["sources"]
        if not rows:
            return Reply(204, b"", None)  # an integration without sources gets 204
        return self._page(path, q, "sources", "sources", rows, lambda x: x)

    # -- entity pools
    def _index(self, name: str, pool: dict[int, dict]) -> _Index:
        idx = self._indexes.get(name)
        if idx is None:
            idx = _Index(sorted(pool), sorted((int(r.get("updated_at") or 0), i) for i, r in pool.items()))
            self._indexes[name] = idx
        return idx

    def _select(self, name: str, pool: dict[int, dict], q: Query) -> list[int]:
        """Ids matching id[] / updated_at / created_at filters, in the requested order (ties by id)."""
        idx = self._index(name, pool)
        ids_filter = q.values("id")
        lo, hi = q.range("updated_at")
        clo, chi = q.range("created_at")
        order, desc = q.order()
        if order == "updated_at" and not ids_filter and clo is None and chi is None:
            a = bisect.bisect_left(idx.upd, (lo, -BIG)) if lo is not None else 0
            b = bisect.bisect_right(idx.upd, (hi, BIG)) if hi is not None else len(idx.upd)
            return _View(idx.upd, a, b, desc, lambda row: row[1])  # type: ignore[return-value]
        if ids_filter:
            wanted = {int(x) for x in ids_filter if x.lstrip("-").isdigit()}
            ids = [i for i in idx.ids if i in wanted]
            if lo is not None or hi is not None:
                ids = [i for i in ids if (lo is None or pool[i]["updated_at"] >= lo)
                       and (hi is None or pool[i]["updated_at"] <= hi)]
        else:
            a = bisect.bisect_left(idx.upd, (lo, -BIG)) if lo is not None else 0
            b = bisect.bisect_right(idx.upd, (hi, BIG)) if hi is not None else len(idx.upd)
            ids = [i for _, i in idx.upd[a:b]]
            if lo is None and hi is None:
                ids = list(idx.ids)
        if clo is not None or chi is not None:
            ids = [i for i in ids if (clo is None or (pool[i].get("created_at") or 0) >= clo)
                   and (chi is None or (pool[i].get("created_at") or 0) <= chi)]
        if order in ("updated_at", "created_at"):
            ids.sort(key=lambda i: (int(pool[i].get(order) or 0), i), reverse=desc)
        else:  # by id: asked for, or the default
            ids.sort(reverse=desc and order == "id")
        return ids

    def _leads(self, path: str, q: Query) -> Reply:
        deleted = "only_deleted" in q.with_()
        name = "deleted" if deleted else "live"
        pool = self._pools.get(name)
        if pool is None:
            pool = {i: r for i, r in self.leads.items() if bool(r.get("is_deleted")) == deleted}
            self._pools[name] = pool
        ids = self._select(name, pool, q)
        with_ = q.with_()
        render = (lambda i: _skeleton(pool[i])) if deleted else (lambda i: _render_lead(pool[i], with_))
        return self._page(path, q, "leads", "leads", ids, render, cache=f"{name}:{','.join(sorted(with_))}")

    def _contacts(self, path: str, q: Query) -> Reply:
        ids = self._select("contacts", self.contacts, q)
        return self._page(path, q, "contacts", "contacts", ids, lambda i: self.contacts[i], cache="contact")

    def _companies(self, path: str, q: Query) -> Reply:
        ids = self._select("companies", self.companies, q)
        return self._page(path, q, "companies", "companies", ids, lambda i: self.companies[i], cache="company")

    def _events(self, path: str, q: Query) -> Reply:
        types = tuple(sorted(q.values("type")))
        entities = tuple(sorted(q.values("entity")))
        key = (types, entities)
        rows = self._event_index.get(key)
        if rows is None:
            rows = sorted((int(e.get("created_at") or 0), str(e["id"]), n) for n, e in enumerate(self.events)
                          if (not types or e.get("type") in types)
                          and (not entities or e.get("entity_type") in entities))
            self._event_index[key] = rows
        lo, hi = q.range("created_at")
        a = bisect.bisect_left(rows, (lo, "", -1)) if lo is not None else 0
        b = bisect.bisect_right(rows, (hi, "\uffff", BIG)) if hi is not None else len(rows)
        order, _ = q.order()
        newest_first = order is None or q.get(f"order[{order}]") == "desc"  # amoCRM lists events newest first
        window = _View(rows, a, b, newest_first)
        return self._page(path, q, "events", "events", window, lambda r: self.events[r[2]], cache="event")


def _render_lead(lead: dict[str, Any], with_: set[str]) -> dict[str, Any]:
    out = dict(lead)
    emb = dict(lead.get("_embedded") or {})
    for key, needs in (("contacts", "contacts"), ("loss_reason", "loss_reason"), ("source", "source")):
        if needs not in with_:
            emb.pop(key, None)
    if "source_id" not in with_:
        out.pop("source_id", None)
    emb.setdefault("tags", [])
    out["_embedded"] = emb
    out["_links"] = {"self": {"href": f"https://emu.amocrm.ru/api/v4/leads/{lead['id']}"}}
    return out


def _skeleton(lead: dict[str, Any]) -> dict[str, Any]:
    """A deleted lead as with=only_deleted returns it: id, dates, is_deleted; the rest null (PHP#254)."""
    return {"id": lead["id"], "name": None, "price": None, "responsible_user_id": None, "group_id": None,
            "status_id": None, "pipeline_id": None, "loss_reason_id": None, "created_by": None,
            "updated_by": lead.get("updated_by"), "created_at": None, "updated_at": lead.get("updated_at"),
            "closed_at": None, "closest_task_at": None, "is_deleted": True, "custom_fields_values": None,
            "score": None, "account_id": lead.get("account_id"), "_embedded": {"tags": []}}


class _Handler(BaseHTTPRequestHandler):
    """Thin HTTP/1.1 keep-alive layer; the Emulator decides everything."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def date_time_string(self, timestamp: float | None = None) -> str:
        emu: Emulator = self.server.emulator  # type: ignore[attr-defined]
        return email.utils.formatdate(emu.now(), usegmt=True)

    def _serve(self, method: str) -> None:
        emu: Emulator = self.server.emulator  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = emu.handle(method, self.path, body, headers)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            self.close_connection = True
            return
        self.send_response(reply.status)
        if reply.content_type and reply.status != 204:
            self.send_header("Content-Type", f"{reply.content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(reply.body) if reply.status != 204 else 0))
        self.end_headers()
        if reply.status != 204 and method != "HEAD":
            try:
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

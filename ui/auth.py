"""Who is looking and what they may do: OIDC login (st.login) when [auth] is configured, roles from settings.

Roles: viewer (every page, no edits; what-if stays open because it never touches the ledger), editor
(costs, rules, partners, mapping, goals, payouts, applying scenarios, syncs), admin (also the connection
and roles), and ``partner:<name>`` (only that partner's own KPIs and statement). With no ``[auth]`` section
the app runs open — one local user with every right — and the sidebar says so.

Rules map a role to e-mails, ``@domain`` entries or ``*`` (everyone who can log in). They come from
``.streamlit/secrets.toml`` ``[roles]`` (the bootstrap admins: cannot be lost by an edit in the app) and
from the ``roles`` setting that admins edit on the settings page.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from data_layer import userdata
from ui import data
from ui.i18n import tr

RANK = {"viewer": 1, "editor": 2, "admin": 3}
NEEDS = {"view": "viewer", "what_if": "viewer", "edit": "editor", "sync": "editor", "apply": "editor",
         "admin": "admin"}
# The action each write function needs (ui.writes.write / ui.writes.act check it, writing widgets are disabled by it);
# any function not listed is an edit. What-if: viewers play with the inputs in their own session, but saving or
# deleting a shared scenario (or a forecast plan) is an edit and writing one into the ledger is "apply".
WRITE_NEEDS = {
    "data_layer.userdata.apply_scenario": "apply",
    "data_layer.userdata.set_setting": "admin",  # the roles; mapping and calculation go through data_layer.admin
    "data_layer.config.save_connection": "admin",
    "data_layer.config.forget_credentials": "admin",
    "data_layer.sync.start_background_sync": "sync",
}
TEXT = {
    "ru": {
        "open": "Открытый режим: вход не настроен, у всех полный доступ (подходит для ноутбука).",
        "login.title": "Partner ROI", "login.text": "Войдите рабочей учётной записью, чтобы открыть дашборд.",
        "login": "Войти", "logout": "Выйти", "who": "{name} · роль: {role}",
        "denied": "У учётной записи {email} нет доступа к дашборду. Попросите администратора добавить её в "
                  "роли (Настройки → Доступ).",
        "read_only": "Только просмотр: изменять данные может редактор или администратор.",
        "role.viewer": "просмотр", "role.editor": "редактор", "role.admin": "администратор",
        "role.partner": "партнёр «{partner}»", "role.none": "без доступа",
        "refused": "Изменение не выполнено: роль «{role}» не может {what} — это делает {needs}.",
        "what.edit": "изменять данные", "what.apply": "применять сценарии к данным",
        "what.sync": "запускать синхронизацию", "what.admin": "менять подключение и доступ",
        "needs.editor": "редактор или администратор", "needs.admin": "администратор",
    },
    "en": {
        "open": "Open mode: no sign-in configured, everyone has full access (fine for a laptop).",
        "login.title": "Partner ROI", "login.text": "Sign in with your work account to open the dashboard.",
        "login": "Sign in", "logout": "Sign out", "who": "{name} · role: {role}",
        "denied": "The account {email} has no access to this dashboard. Ask an administrator to add it to a "
                  "role (Settings → Access).",
        "read_only": "View only: an editor or an administrator can change data.",
        "role.viewer": "viewer", "role.editor": "editor", "role.admin": "administrator",
        "role.partner": "partner “{partner}”", "role.none": "no access",
        "refused": "Not changed: the role “{role}” may not {what} — {needs} does that.",
        "what.edit": "change data", "what.apply": "apply scenarios to the data", "what.sync": "run a sync",
        "what.admin": "change the connection or access", "needs.editor": "an editor or an administrator",
        "needs.admin": "an administrator",
    },
}


@dataclass(frozen=True)
class Principal:
    """The person using this session and their role."""

    email: str | None
    name: str | None
    role: str                  # admin | editor | viewer | partner | none
    partner: str | None = None  # the partner's name for role partner
    open_mode: bool = False

    def can(self, action: str) -> bool:
        """Whether this person may do an action (view, what_if, edit, sync, apply, admin)."""
        if self.role == "partner":
            return False
        return RANK.get(self.role, 0) >= RANK[NEEDS.get(action, "admin")]

    @property
    def actor(self) -> str:
        """How the audit log names this person."""
        return self.email or ("local user" if self.open_mode else "unknown")


def merge_rules(*sources: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """Union of role rules from several sources, entries lower-cased and trimmed."""
    out: dict[str, list[str]] = {}
    for source in sources:
        for role, entries in (source or {}).items():
            items = [entries] if isinstance(entries, str) else list(entries or [])
            bucket = out.setdefault(str(role).strip(), [])
            bucket.extend(e.strip().lower() for e in items if isinstance(e, str) and e.strip())
    return out


def _matches(email: str, entry: str) -> int:
    """2 for the exact address, 1 for its @domain or *, 0 otherwise."""
    if entry == email:
        return 2
    if entry == "*" or (entry.startswith("@") and email.endswith(entry)):
        return 1
    return 0


def resolve(email: str | None, rules: Mapping[str, list[str]]) -> tuple[str, str | None]:
    """Role (and partner name) of an e-mail: exact addresses beat domains, then the highest role wins."""
    address = (email or "").strip().lower()
    if not address:
        return "none", None
    best: tuple[int, int, str, str | None] = (0, 0, "none", None)
    for role, entries in rules.items():
        strength = max((_matches(address, e) for e in entries), default=0)
        if not strength:
            continue
        if role.startswith("partner:"):
            candidate = (strength, 0, "partner", role.split(":", 1)[1].strip())
        elif role in RANK:
            candidate = (strength, RANK[role], role, None)
        else:
            continue
        best = max(best, candidate, key=lambda c: (c[0], c[1]))
    return best[2], best[3]


def _secrets_section(name: str) -> Mapping[str, Any] | None:
    try:
        return st.secrets.get(name)
    except Exception:  # no secrets.toml at all: Streamlit raises instead of returning nothing
        return None


def auth_configured() -> bool:
    """Whether an OIDC provider is configured in secrets ([auth])."""
    return bool(_secrets_section("auth"))


def rules() -> dict[str, list[str]]:
    """Role rules from secrets [roles] and the roles setting."""
    stored = data.query(userdata.get_setting, "roles") if data.db_path().exists() else None
    return merge_rules(_secrets_section("roles"), stored)


def _login_screen() -> None:
    st.title(tr(TEXT, "login.title"), anchor=False)
    st.write(tr(TEXT, "login.text"))
    if st.button(tr(TEXT, "login"), type="primary", key="auth.login"):
        st.login()
    st.stop()


def current() -> Principal:
    """The principal of this run; shows the login screen (and stops) when someone must sign in first."""
    if not auth_configured():
        return Principal(email=None, name=None, role="admin", open_mode=True)
    if not st.user.is_logged_in:
        _login_screen()
    email = str(st.user.get("email") or "")
    role, partner = resolve(email, rules())
    principal = Principal(email=email or None, name=str(st.user.get("name") or email), role=role, partner=partner)
    if role == "none":
        st.error(tr(TEXT, "denied", email=email or "?"))
        if st.button(tr(TEXT, "logout"), key="auth.logout_denied"):
            st.logout()
        st.stop()
    return principal


def role_label(p: Principal) -> str:
    """The role in words."""
    return tr(TEXT, "role.partner", partner=p.partner) if p.role == "partner" else tr(TEXT, f"role.{p.role}")


def sidebar(p: Principal) -> None:
    """Who is signed in (or that the app is open) and a sign-out button."""
    with st.sidebar:
        if p.open_mode:
            st.caption(tr(TEXT, "open"))
            return
        st.text(tr(TEXT, "who", name=p.name or p.email or "?", role=role_label(p)))
        if st.button(tr(TEXT, "logout"), key="auth.logout"):
            st.logout()


def principal() -> Principal:
    """The principal app.py stored for this run (open mode when pages run outside the router, e.g. tests)."""
    value = st.session_state.get("auth.principal")
    return value if isinstance(value, Principal) else Principal(None, None, "admin", open_mode=True)


def can(action: str) -> bool:
    """Whether the current person may do an action."""
    return principal().can(action)


def write_name(fn: Callable[..., Any]) -> str:
    """A write's stable dotted name: its package's when the package exports it (data_layer.userdata.set_setting,
    wherever in the package it lives), else its module's (data_layer.config.save_connection)."""
    package = fn.__module__.rpartition(".")[0]
    if package and getattr(sys.modules.get(package), fn.__name__, None) is fn:
        return f"{package}.{fn.__name__}"
    return f"{fn.__module__}.{fn.__name__}"


def write_action(fn: Callable[..., object]) -> str:
    """The action a write function needs (WRITE_NEEDS by its stable name, write_name; else edit)."""
    return WRITE_NEEDS.get(write_name(fn), "edit")


def allowed(what: str | Callable[..., object]) -> bool:
    """Whether the current person may do an action or run a write function: every writing widget's disabled=."""
    return can(what if isinstance(what, str) else write_action(what))


def refusal(p: Principal, action: str) -> str:
    """The sentence a refused write shows: who may not do what, and who does it."""
    needs = "admin" if NEEDS.get(action, "admin") == "admin" else "editor"
    what = action if action in ("edit", "apply", "sync", "admin") else "edit"
    return tr(TEXT, "refused", role=role_label(p), what=tr(TEXT, f"what.{what}"), needs=tr(TEXT, f"needs.{needs}"))


def read_only_note() -> None:
    """Say once, where edits would be, that this person can only look."""
    st.info(tr(TEXT, "read_only"), icon=":material/lock:")

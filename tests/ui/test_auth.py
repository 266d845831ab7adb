"""Roles: exact addresses beat domains, the highest role wins, partner roles are scoped, open mode."""

from __future__ import annotations

import pytest

from ui.auth import Principal, merge_rules, resolve

RULES = merge_rules(
    {"admin": ["Boss@Acme.ru"], "viewer": ["*"]},
    {"editor": ["@acme.ru"], "partner:ООО Альфа": ["alfa@partner.ru"], "bogus": ["x@y.z"]},
)


@pytest.mark.parametrize(("email", "role", "partner"), [
    ("boss@acme.ru", "admin", None),            # exact address, case-insensitive
    ("anna@acme.ru", "editor", None),           # by domain, beats the '*' viewer rule by rank
    ("someone@gmail.com", "viewer", None),      # everyone else who can log in
    ("alfa@partner.ru", "partner", "ООО Альфа"),  # an exact partner address beats '*'
    ("", "none", None),
    (None, "none", None),
])
def test_resolve(email: str | None, role: str, partner: str | None) -> None:
    assert resolve(email, RULES) == (role, partner)


def test_without_a_catch_all_unknown_people_get_no_access() -> None:
    assert resolve("stranger@else.ru", merge_rules({"admin": ["boss@acme.ru"]})) == ("none", None)


@pytest.mark.parametrize(("role", "allowed"), [
    ("viewer", {"view", "what_if"}),
    ("editor", {"view", "what_if", "edit", "sync", "apply"}),
    ("admin", {"view", "what_if", "edit", "sync", "apply", "admin"}),
    ("partner", set()),
    ("none", set()),
])
def test_permissions(role: str, allowed: set[str]) -> None:
    p = Principal(email="a@b.c", name="A", role=role, partner="X" if role == "partner" else None)
    assert {a for a in ("view", "what_if", "edit", "sync", "apply", "admin") if p.can(a)} == allowed


def test_open_mode_is_a_local_admin() -> None:
    p = Principal(email=None, name=None, role="admin", open_mode=True)
    assert p.can("admin") and p.actor == "local user"

"""Client identifiers (phone, e-mail, INN) in one comparable form, and the identity keys a sync stores for them.

Malformed values become None and never become a key."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

_NON_DIGIT = re.compile(r"\D")


def normalise_phone(value: object) -> str | None:
    """The last 10 digits of a Russian number (+7 / 8 / spaces / brackets / dashes), other numbers' digits, else None."""
    if not isinstance(value, str):
        return None
    digits = _NON_DIGIT.sub("", value)
    # 11 digits starting 7 or 8 are +7 / 8 forms of one Russian number; a bare 10-digit number is the same one.
    if len(digits) == 11 and digits[0] in "78":
        return digits[1:]
    if len(digits) == 10:
        return digits
    # Too short to identify anyone (an extension, a typo): never matches.
    return digits if len(digits) >= 11 else None


def normalise_email(value: object) -> str | None:
    """The e-mail trimmed and lower-cased, or None when it has no '@' between two non-empty parts."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    local, at, domain = text.partition("@")
    return text if at and local and domain and "@" not in domain and " " not in text else None


def normalise_inn(value: object) -> str | None:
    """The INN's digits when there are exactly 10 or 12 of them (spaces and dashes ignored), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or re.search(r"[^\d\s-]", value):
        return None
    digits = _NON_DIGIT.sub("", value)
    return digits if len(digits) in (10, 12) else None


# ---------------------------------------------------------------- identity keys of contacts and companies

DEFAULT_INN_FIELD = "ИНН"  # the company custom field holding the INN, by name (setting `inn_field_name`)
# What a contact's custom field codes hold, and how each value is normalised.
_CONTACT_CODES = {"PHONE": ("phone", normalise_phone), "EMAIL": ("email", normalise_email)}


def key_digest(kind: str, value: str) -> str:
    """A stable digest of one normalised identifier: the analytic tables match clients, they never hold contacts."""
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:32]


def _field_values(cf: dict) -> list[object]:
    return [v.get("value") if isinstance(v, dict) else v for v in cf.get("values") or []]


def _rows(entity_type: str, entity_id: int, pairs: Iterable[tuple[str, str | None]]) -> list[dict]:
    seen = {(kind, key_digest(kind, value)) for kind, value in pairs if value}
    return [{"entity_type": entity_type, "entity_id": entity_id, "kind": k, "value": v} for k, v in sorted(seen)]


def contact_keys(record: dict, entity_id: int) -> list[dict]:
    """The rows of raw_client_keys for one API contact: its normalised phones and e-mails (malformed ones left out)."""
    pairs = []
    for cf in record.get("custom_fields_values") or []:
        if not isinstance(cf, dict):
            continue
        kind, norm = _CONTACT_CODES.get(str(cf.get("field_code") or "").upper(), (None, None))
        if kind is not None:
            pairs += [(kind, norm(v)) for v in _field_values(cf)]
    return _rows("contact", entity_id, pairs)


def _same_name(a: object, b: str) -> bool:
    return isinstance(a, str) and a.strip().casefold().replace("ё", "е") == b.strip().casefold().replace("ё", "е")


def company_keys(record: dict, entity_id: int, inn_field: str = DEFAULT_INN_FIELD) -> list[dict]:
    """The rows of raw_client_keys for one API company: the INN of its field named ``inn_field`` (when well-formed)."""
    pairs = []
    for cf in record.get("custom_fields_values") or []:
        if isinstance(cf, dict) and _same_name(cf.get("field_name"), inn_field or DEFAULT_INN_FIELD):
            pairs += [("inn", normalise_inn(v)) for v in _field_values(cf)]
    return _rows("company", entity_id, pairs)

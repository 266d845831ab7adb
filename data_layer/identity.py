"""Normalise client identifiers (phone, e-mail, INN) into one comparable form; malformed values become None."""

from __future__ import annotations

import re

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

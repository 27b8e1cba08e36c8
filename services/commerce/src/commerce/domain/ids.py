"""Validation and normalisation of what callers send: order ids, customer ids, e-mails, names, zips."""

import re

from .errors import InvalidArgument

_ORDER_ID = re.compile(r"#?[Ww](\d{7})")
_CUSTOMER_ID = re.compile(r"[A-Za-z0-9_.\-]{1,128}")
_MAX_TEXT = 254  # the longest valid e-mail address; ample for names and zips too


def order_id(raw: str) -> str:
    """The canonical `#W1234567` form; accepts a missing '#', a lower-case 'w' and surrounding spaces."""
    text = raw.strip()
    if not text:
        raise InvalidArgument("order_id is required")
    match = _ORDER_ID.fullmatch(text)
    if match is None:
        raise InvalidArgument(f"order_id {text[:40]!r} is malformed: expected '#W' followed by 7 digits")
    return "#W" + match.group(1)


def customer_id(raw: str) -> str:
    """A customer id as stored (e.g. `yusuf_rossi_9620`), stripped of surrounding spaces."""
    text = raw.strip()
    if not text:
        raise InvalidArgument("customer_id is required")
    if not _CUSTOMER_ID.fullmatch(text):
        raise InvalidArgument(f"customer_id {text[:40]!r} is malformed")
    return text


def email_key(raw: str) -> str:
    """The lookup key of an e-mail address: stripped and case-folded, so lookups ignore case."""
    text = raw.strip()
    if not text:
        raise InvalidArgument("email is required")
    local, at, domain = text.rpartition("@")
    if len(text) > _MAX_TEXT or not at or not local or "." not in domain or any(c.isspace() for c in text):
        raise InvalidArgument(f"email {text[:60]!r} is malformed")
    return fold_email(text)


def name_key(raw: str, field: str) -> str:
    """The lookup key of a first or last name: inner spaces collapsed and case-folded."""
    key = fold_name(raw)
    if not key:
        raise InvalidArgument(f"{field} is required")
    if len(key) > _MAX_TEXT:
        raise InvalidArgument(f"{field} is too long")
    return key


def fold_email(email: str) -> str:
    """The stored key of an e-mail address (the store fills its key column with this)."""
    return email.strip().casefold()


def fold_name(name: str) -> str:
    """The stored key of a name (the store fills its key columns with this)."""
    return " ".join(name.split()).casefold()


def zip_code(raw: str) -> str:
    """A postal code as stored, stripped of surrounding spaces."""
    text = raw.strip()
    if not text:
        raise InvalidArgument("zip is required")
    if len(text) > 16 or not all(c.isalnum() or c in " -" for c in text):
        raise InvalidArgument(f"zip {text[:20]!r} is malformed")
    return text

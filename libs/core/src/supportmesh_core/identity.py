"""Who a ticket says it is from, as one comparable key: the e-mail, else the name and zip code."""

import re

_SPACE = re.compile(r"\s+")


def _norm(value: str) -> str:
    return _SPACE.sub(" ", value.strip().lower())


def customer_key(email: str, name: str, zip_code: str) -> str:
    """`email:<address>`, else `name:<name>|<zip>`, else "" (the ticket names nobody); case and spacing ignored."""
    if _norm(email):
        return f"email:{_norm(email)}"
    if _norm(name) and _norm(zip_code):
        return f"name:{_norm(name)}|{_norm(zip_code)}"
    return ""

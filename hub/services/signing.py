"""Signed tokens that stand in for a login: in reply addresses, sign-in and unsubscribe links.

Tokens are `part-part-...-signature` in lower-case hex and digits, because mail servers
may change the case of an address's local part, and a reply address must survive that.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from hub.settings import get_settings

_SIGNATURE_LENGTH = 24


def _signature(purpose: str, parts: tuple[int, ...]) -> str:
    key = get_settings().signing_key().encode()
    message = ":".join([purpose, *map(str, parts)]).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:_SIGNATURE_LENGTH]


def sign(purpose: str, *parts: int) -> str:
    return "-".join([*map(str, parts), _signature(purpose, parts)])


def verify(purpose: str, token: str) -> tuple[int, ...] | None:
    """The parts a token was signed with, or None when it was not signed by us for `purpose`."""
    *raw_parts, signature = token.strip().lower().split("-")
    try:
        parts = tuple(int(part) for part in raw_parts)
    except ValueError:
        return None
    if not parts or not hmac.compare_digest(signature, _signature(purpose, parts)):
        return None
    return parts


def sign_expiring(purpose: str, *parts: int, lifetime_seconds: int) -> str:
    return sign(purpose, *parts, int(time.time()) + lifetime_seconds)


def verify_expiring(purpose: str, token: str) -> tuple[int, ...] | None:
    parts = verify(purpose, token)
    if parts is None or parts[-1] < time.time():
        return None
    return parts[:-1]

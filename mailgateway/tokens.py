"""Signed tokens: `PART-PART-...-SIGNATURE`, whole numbers and an HMAC-SHA256 of them and a purpose.

Lower-case hex and digits only, because mail servers may change the case of an address's local
part (RFC 5321, 2.4), and a token in a reply address must survive that. The key is passed in: this
module owns the format, the hub owns the installation's key (`hub.services.signing`). Tokens
mailed or linked before stay valid as long as neither changes.

    >>> token = sign("k", "reply", 12, 0, 3)
    >>> token
    '12-0-3-ac599fdd29d3d534e6a0de99'
    >>> verify("k", "reply", token.upper())
    (12, 0, 3)
    >>> verify("k", "unsubscribe", token) is None
    True
    >>> verify_expiring("k", "confirm", sign("k", "confirm", 7, 100), now=101) is None
    True
"""

from __future__ import annotations

import hashlib
import hmac
import re

SIGNATURE_LENGTH = 24
SHAPE = re.compile(rf"[0-9]+(?:-[0-9]+)*-[0-9a-f]{{{SIGNATURE_LENGTH}}}")
"""A token as `sign` writes it; `verify` takes it in any case."""


def _signature(key: str, purpose: str, parts: tuple[int, ...]) -> str:
    message = ":".join([purpose, *map(str, parts)]).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:SIGNATURE_LENGTH]


def sign(key: str, purpose: str, *parts: int) -> str:
    if not parts or any(part < 0 for part in parts):
        raise ValueError(f"a token signs one or more whole numbers, not {parts!r}")
    return "-".join([*map(str, parts), _signature(key, purpose, parts)])


def verify(key: str, purpose: str, token: str) -> tuple[int, ...] | None:
    """The parts a token was signed with, or None when it was not signed with `key` for `purpose`."""
    token = token.strip().lower()
    if not SHAPE.fullmatch(token):
        return None
    *raw_parts, signature = token.split("-")
    try:
        parts = tuple(int(part) for part in raw_parts)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        return None
    if not hmac.compare_digest(signature, _signature(key, purpose, parts)):
        return None
    return parts


def verify_expiring(key: str, purpose: str, token: str, *, now: float) -> tuple[int, ...] | None:
    """For a token whose last part is the time it expires (seconds since the epoch): the parts
    before it, or None when it is not ours for `purpose` or expired before `now`."""
    parts = verify(key, purpose, token)
    if parts is None or parts[-1] < now:
        return None
    return parts[:-1]

"""What an address at Plein's mail domain stands for.

    >>> route("Engineering@Plein.Localhost", "plein.localhost")
    Route(kind='group', value='engineering')
    >>> route("reply+12-0-3-abc@plein.localhost", "plein.localhost")
    Route(kind='reply', value='12-0-3-abc')
    >>> route("someone@example.com", "plein.localhost") is None
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GROUP_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
TOKEN_PREFIXES = ("reply", "unsubscribe")
BOUNCES = "bounces"
"""The envelope sender of every mail Plein sends; delivery reports come back here."""


@dataclass(frozen=True)
class Route:
    kind: str
    """`group` for a group's own address, `bounces`, or a token prefix (`reply`, `unsubscribe`)."""
    value: str
    """The group's slug, or the signed token."""


def route(address: str, domain: str) -> Route | None:
    local, _, address_domain = address.strip().strip("<>").lower().rpartition("@")
    if not local or address_domain != domain.lower():
        return None
    prefix, plus, rest = local.partition("+")
    if plus and prefix in (*TOKEN_PREFIXES, BOUNCES) and rest:
        return Route(prefix, rest)  # bounces+TOKEN: VERP, the token names the message that bounced
    if local == BOUNCES:
        return Route(BOUNCES, "")
    if not plus and GROUP_SLUG.match(local) and local not in TOKEN_PREFIXES:
        return Route("group", local)
    return None

"""What an address at Plein's mail domain stands for.

    >>> route("Engineering@Plein.Localhost", "plein.localhost")
    Route(kind='group', value='engineering', command='')
    >>> route("reply+12-0-3-abc@plein.localhost", "plein.localhost")
    Route(kind='reply', value='12-0-3-abc', command='')
    >>> route("engineering+Digest@plein.localhost", "plein.localhost")
    Route(kind='command', value='engineering', command='digest')
    >>> route("approve+7-2-abc@plein.localhost", "plein.localhost")
    Route(kind='approve', value='7-2-abc', command='')
    >>> route("engineering+dance@plein.localhost", "plein.localhost") is None
    True
    >>> route("someone@example.com", "plein.localhost") is None
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GROUP_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
TOKEN_PREFIXES = ("reply", "unsubscribe", "replies-off", "confirm", "approve", "reject")
BOUNCES = "bounces"
"""The envelope sender of every mail Plein sends; delivery reports come back here."""
COMMANDS = ("subscribe", "unsubscribe", "digest", "each")
"""What `SLUG+COMMAND@domain` asks of a group: join it, stop its mail, get it daily, get each post."""


@dataclass(frozen=True)
class Route:
    kind: str
    """`group` for a group's own address, `command`, `bounces`, or a token prefix (`reply`, `unsubscribe`, `confirm`,
    and `approve` or `reject` for a moderator's answer to a held message)."""
    value: str
    """The group's slug, or the signed token."""
    command: str = ""
    """For `command`: one of `COMMANDS`."""


def route(address: str, domain: str) -> Route | None:
    local, _, address_domain = address.strip().strip("<>").lower().rpartition("@")
    if not local or address_domain != domain.lower():
        return None
    prefix, plus, rest = local.partition("+")
    if plus and prefix in (*TOKEN_PREFIXES, BOUNCES) and rest:
        return Route(prefix, rest)  # bounces+TOKEN: VERP, the token names the message that bounced
    if local == BOUNCES:
        return Route(BOUNCES, "")
    if GROUP_SLUG.match(prefix) and prefix not in TOKEN_PREFIXES:
        if not plus:
            return Route("group", prefix)
        if rest in COMMANDS:
            return Route("command", prefix, rest)
    return None

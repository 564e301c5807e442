"""What an address at Plein's mail domain stands for, and how each kind of address is made.

Every kind is declared once in `KINDS`: its local part, and for the kinds that carry a signed
token (`mailgateway.tokens`) the purpose it is signed for. `address` builds one, `route` reads
one back, `sign` and `verify` make and check the token it carries.

    >>> route("Engineering@Plein.Localhost", "plein.localhost")
    Route(kind='group', value='engineering', command='')
    >>> route("reply+12-0-3-abc@plein.localhost", "plein.localhost")
    Route(kind='reply', value='12-0-3-abc', command='')
    >>> route("engineering+Digest@plein.localhost", "plein.localhost")
    Route(kind='command', value='engineering', command='digest')
    >>> route("engineering+anonymous@plein.localhost", "plein.localhost")
    Route(kind='anonymous', value='engineering', command='')
    >>> route("approve+7-2-abc@plein.localhost", "plein.localhost")
    Route(kind='approve', value='7-2-abc', command='')
    >>> route("engineering+dance@plein.localhost", "plein.localhost") is None
    True
    >>> route("someone@example.com", "plein.localhost") is None
    True

The other way round, with the key that signs the tokens:

    >>> address(Route("command", "engineering", "digest"), "plein.localhost")
    'engineering+digest@plein.localhost'
    >>> address(Route("anonymous", "engineering"), "plein.localhost")
    'engineering+anonymous@plein.localhost'
    >>> reply = address(Route("reply", sign("reply", "key", 12, 0, 3)), "plein.localhost")
    >>> reply
    'reply+12-0-3-9b508adc57d2f700d6c44fdb@plein.localhost'
    >>> verify("reply", "key", route(reply.upper(), "plein.localhost").value, now=0)
    (12, 0, 3)
    >>> verify("approve", "key", route(reply, "plein.localhost").value, now=0) is None
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailgateway import tokens

GROUP_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
BOUNCES = "bounces"
"""The envelope sender of every mail Plein sends; delivery reports come back here."""
COMMANDS = ("subscribe", "unsubscribe", "digest", "each")
"""What `SLUG+COMMAND@domain` asks of a group: join it, stop its mail, get it daily, get each post."""
ANONYMOUS = "anonymous"
"""`SLUG+anonymous@domain`: a post, or an answer to a thread, that names no author."""


@dataclass(frozen=True)
class Kind:
    name: str
    """What `Route.kind` says for it."""
    local: str
    """Its local part, where SLUG, COMMAND and TOKEN stand for what the address carries."""
    purpose: str = ""
    """What its token is signed for; "" when it carries none."""
    expiring: bool = False
    """Whether its token's last part is when it expires (`tokens.verify_expiring`)."""


KINDS = {
    kind.name: kind
    for kind in (
        Kind("group", "SLUG"),
        Kind("command", "SLUG+COMMAND"),
        # A post or comment without its author's name, where the group allows it (`hub.services.anonymity`).
        Kind("anonymous", "SLUG+anonymous"),
        # An answer to a post or comment by mail: it names the post, the comment (0: none) and the reader.
        Kind("reply", "reply+TOKEN", purpose="reply"),
        # RFC 8058's mailto, beside the https link with the same token (`hub.services.subscriptions`).
        Kind("unsubscribe", "unsubscribe+TOKEN", purpose="unsubscribe"),
        Kind("replies-off", "replies-off+TOKEN", purpose="replies-off"),
        # A command by mail is carried out when its person answers the confirmation (`hub.services.commands`).
        Kind("confirm", "confirm+TOKEN", purpose="confirm", expiring=True),
        # A moderator's answer to a held message: it names the message and the moderator.
        Kind("approve", "approve+TOKEN", purpose="approve"),
        Kind("reject", "reject+TOKEN", purpose="reject"),
        # VERP (and plain `bounces@`): the token names the outbox row whose delivery failed.
        Kind(BOUNCES, "bounces+TOKEN", purpose=BOUNCES),
        # Senders only: what comes back to them is not taken.
        Kind("no-reply", "no-reply"),
        Kind("digest", "digest"),
    )
}
TOKEN_PREFIXES = tuple(name for name, kind in KINDS.items() if kind.purpose and name != BOUNCES)
RESERVED = frozenset(name for name, kind in KINDS.items() if "SLUG" not in kind.local)
"""Local parts no group can have: they are the kinds' own."""


@dataclass(frozen=True)
class Route:
    kind: str
    """`group` for a group's own address, `anonymous` for its anonymous one, `command`, `bounces`, or a token prefix (`reply`, `unsubscribe`, `confirm`,
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
        if rest == ANONYMOUS:
            return Route(ANONYMOUS, prefix)
    return None


def address(destination: Route, domain: str) -> str:
    """The address `route` reads as `destination`; ValueError when its kind cannot carry its value."""
    kind = _kind(destination.kind)
    local = kind.local
    if "SLUG" in local:
        if not GROUP_SLUG.fullmatch(destination.value) or destination.value in (*TOKEN_PREFIXES, BOUNCES):
            raise ValueError(f"{destination.value!r} is no group's address")
        local = local.replace("SLUG", destination.value)
    elif "TOKEN" in local:
        if not tokens.SHAPE.fullmatch(destination.value):
            raise ValueError(f"{destination.value!r} is no token for a {kind.name} address")
        local = local.replace("TOKEN", destination.value)
    elif destination.value:
        raise ValueError(f"a {kind.name} address carries nothing, not {destination.value!r}")
    if "COMMAND" in kind.local:
        if destination.command not in COMMANDS:
            raise ValueError(f"{destination.command!r} is not a command: {', '.join(COMMANDS)}")
        local = local.replace("COMMAND", destination.command)
    elif destination.command:
        raise ValueError(f"a {kind.name} address carries no command, not {destination.command!r}")
    return f"{local}@{domain}"


def sign(kind: str, key: str, *parts: int, expires: int | None = None) -> str:
    """The token for an address of `kind`; an expiring kind takes when it `expires` (seconds since the epoch)."""
    purpose = _purpose(kind)
    if KINDS[kind].expiring != (expires is not None):
        raise ValueError(f"a {kind} token {'needs' if KINDS[kind].expiring else 'takes no'} time it expires")
    return tokens.sign(key, purpose, *parts, *([] if expires is None else [expires]))


def verify(kind: str, key: str, token: str, *, now: float) -> tuple[int, ...] | None:
    """The parts of a token signed for `kind` with `key` (without its expiry), or None when it was not,
    or has expired by `now`."""
    purpose = _purpose(kind)
    if KINDS[kind].expiring:
        return tokens.verify_expiring(key, purpose, token, now=now)
    return tokens.verify(key, purpose, token)


def _kind(name: str) -> Kind:
    if name not in KINDS:
        raise ValueError(f"no kind of address {name!r}: {', '.join(KINDS)}")
    return KINDS[name]


def _purpose(name: str) -> str:
    if not _kind(name).purpose:
        raise ValueError(f"a {name} address carries no token")
    return KINDS[name].purpose

"""Plein's own addresses: `mailgateway.addresses` with this installation's mail domain and signing key."""

from __future__ import annotations

import time

from hub.services import signing
from hub.settings import get_settings
from mailgateway import addresses
from mailgateway.addresses import Route


def address(kind: str, value: str = "", command: str = "") -> str:
    return addresses.address(Route(kind, value, command), get_settings().mail_domain)


def signed_address(kind: str, *parts: int, lifetime_seconds: int | None = None) -> str:
    """An address of `kind` whose token names `parts`; an expiring kind's lasts `lifetime_seconds`."""
    expires = None if lifetime_seconds is None else int(time.time()) + lifetime_seconds
    return address(kind, addresses.sign(kind, signing.key(), *parts, expires=expires))


def token_parts(kind: str, token: str) -> tuple[int, ...] | None:
    """What the token of an address of `kind` names, or None when it is not ours (or has expired)."""
    return addresses.verify(kind, signing.key(), token, now=time.time())

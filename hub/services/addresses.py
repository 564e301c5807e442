"""Plein's own addresses: `mailgateway.addresses` with this installation's mail domain and signing key,
both from the context of `held` (the session a service was given, or a row loaded in it)."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from hub.context import context_of
from hub.services import signing
from mailgateway import addresses
from mailgateway.addresses import Route


def address(held: Session | object, kind: str, value: str = "", command: str = "") -> str:
    return addresses.address(Route(kind, value, command), context_of(held).settings.mail_domain)


def signed_address(held: Session | object, kind: str, *parts: int, lifetime_seconds: int | None = None) -> str:
    """An address of `kind` whose token names `parts`; an expiring kind's lasts `lifetime_seconds`."""
    expires = None if lifetime_seconds is None else int(time.time()) + lifetime_seconds
    return address(held, kind, addresses.sign(kind, signing.key(held), *parts, expires=expires))


def token_parts(held: Session | object, kind: str, token: str) -> tuple[int, ...] | None:
    """What the token of an address of `kind` names, or None when it is not ours (or has expired)."""
    return addresses.verify(kind, signing.key(held), token, now=time.time())

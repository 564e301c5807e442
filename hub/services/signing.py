"""Signed tokens that stand in for a login: in reply addresses, sign-in and unsubscribe links.

The format is `mailgateway.tokens`; this module signs with the installation's key, which it
finds in the context of `held`: the session a service was given, or a row loaded in it.
"""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from hub.context import context_of
from mailgateway import tokens


def key(held: Session | object) -> str:
    return context_of(held).settings.signing_key()


def sign(held: Session | object, purpose: str, *parts: int) -> str:
    return tokens.sign(key(held), purpose, *parts)


def verify(held: Session | object, purpose: str, token: str) -> tuple[int, ...] | None:
    """The parts a token was signed with, or None when it was not signed by us for `purpose`."""
    return tokens.verify(key(held), purpose, token)


def sign_expiring(held: Session | object, purpose: str, *parts: int, lifetime_seconds: int) -> str:
    return sign(held, purpose, *parts, int(time.time()) + lifetime_seconds)


def verify_expiring(held: Session | object, purpose: str, token: str) -> tuple[int, ...] | None:
    return tokens.verify_expiring(key(held), purpose, token, now=time.time())

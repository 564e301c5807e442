"""Signed tokens that stand in for a login: in reply addresses, sign-in and unsubscribe links.

The format is `mailgateway.tokens`; this module signs with the installation's key.
"""

from __future__ import annotations

import time

from hub.settings import get_settings
from mailgateway import tokens


def key() -> str:
    return get_settings().signing_key()


def sign(purpose: str, *parts: int) -> str:
    return tokens.sign(key(), purpose, *parts)


def verify(purpose: str, token: str) -> tuple[int, ...] | None:
    """The parts a token was signed with, or None when it was not signed by us for `purpose`."""
    return tokens.verify(key(), purpose, token)


def sign_expiring(purpose: str, *parts: int, lifetime_seconds: int) -> str:
    return sign(purpose, *parts, int(time.time()) + lifetime_seconds)


def verify_expiring(purpose: str, token: str) -> tuple[int, ...] | None:
    return tokens.verify_expiring(key(), purpose, token, now=time.time())

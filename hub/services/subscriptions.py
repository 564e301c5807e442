"""Leaving a group's mail without signing in: the signed unsubscribe token (RFC 8058)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hub.models import Delivery, Membership
from hub.services import signing
from hub.services.errors import NotFound


def unsubscribe_token(membership: Membership) -> str:
    return signing.sign("unsubscribe", membership.id)


def membership_for_token(session: Session, token: str) -> Membership:
    parts = signing.verify("unsubscribe", token)
    membership = session.get(Membership, parts[0]) if parts else None
    if membership is None:
        raise NotFound("this unsubscribe link is not valid (any more)")
    return membership


def unsubscribe(session: Session, token: str) -> Membership:
    """Stop all mail of one membership; the member stays in the group and can read on the web."""
    membership = membership_for_token(session, token)
    membership.delivery = Delivery.NONE
    session.flush()
    return membership

"""Leaving mail without signing in: signed unsubscribe tokens (RFC 8058 one-click).

A token names either one membership (in a group's mail: stop that group's mail) or one
person and digest frequency (in a digest: stop that digest for every group it covers), or,
with its own purpose, one person's reply notifications. The same token works in the https
link, in the `unsubscribe+TOKEN@domain` mailto, and after the GET page asked to confirm.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Delivery, Membership, User
from hub.services import signing
from hub.services.errors import NotFound

_FREQUENCY_CODES = {Delivery.DAILY: 1, Delivery.WEEKLY: 2}
_REPLIES = "replies-off"


def unsubscribe_token(membership: Membership) -> str:
    return signing.sign("unsubscribe", membership.id)


def digest_unsubscribe_token(user: User, frequency: Delivery) -> str:
    """Membership id 0 marks a token for all of `user`'s groups on `frequency`."""
    return signing.sign("unsubscribe", 0, user.id, _FREQUENCY_CODES[frequency])


def memberships_for_token(session: Session, token: str) -> list[Membership]:
    """The memberships whose mail the token stops; NotFound when it is not ours or stops nothing."""
    parts = signing.verify("unsubscribe", token)
    if parts and parts[0] == 0 and len(parts) == 3:
        frequency = next((f for f, code in _FREQUENCY_CODES.items() if code == parts[2]), None)
        found = list(
            session.scalars(
                select(Membership)
                .where(Membership.user_id == parts[1], Membership.delivery == frequency)
                .order_by(Membership.id)
            )
        )
    else:
        membership = session.get(Membership, parts[0]) if parts and len(parts) == 1 else None
        found = [membership] if membership else []
    if not found:
        raise NotFound("this unsubscribe link is not valid (any more), or there is nothing left to stop")
    return found


def unsubscribe(session: Session, token: str) -> list[Membership]:
    """Stop the mail a token names and return those memberships; members stay in their groups."""
    stopped = memberships_for_token(session, token)
    for membership in stopped:
        membership.delivery = Delivery.NONE
    session.flush()
    return stopped


def replies_token(user: User) -> str:
    return signing.sign(_REPLIES, user.id)


def user_for_link(session: Session, purpose: str, token: str) -> User:
    """The person a one-click link signed for `purpose` (stop reply mail, stop receipts) was made for."""
    parts = signing.verify(purpose, token)
    user = session.get(User, parts[0]) if parts else None
    if user is None:
        raise NotFound("this link is not valid (any more)")
    return user


def user_for_replies_token(session: Session, token: str) -> User:
    return user_for_link(session, _REPLIES, token)


def stop_reply_notifications(session: Session, token: str) -> User:
    user = user_for_replies_token(session, token)
    user.notify_replies = False
    session.flush()
    return user

"""Leaving mail without signing in: signed unsubscribe tokens (RFC 8058 one-click).

A token names either one person and one group (in a group's mail: stop that group's mail) or
one person and digest frequency (in a digest: stop that digest for every group it covers), or,
with its own purpose, one person's reply notifications. The same token works in the https
link, in the `unsubscribe+TOKEN@domain` mailto, and after the GET page asked to confirm.

A token names the person, never a membership row: a link kept after leaving a group acts on
nobody else when someone joins later, and on its own person again only if they rejoin. Tokens
of the first form named only a membership's id; such a link cannot show whose it was (a row's
id could come back for another person before ids were never reused), so it is refused with a
word on what works instead, not guessed at.
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
    """For a group's mail to one member: `USER-GROUP-SIGNATURE`."""
    return signing.sign(membership, "unsubscribe", membership.user_id, membership.group_id)


def digest_unsubscribe_token(user: User, frequency: Delivery) -> str:
    """A first part 0 marks a token for all of `user`'s groups on `frequency`: `0-USER-CODE-SIGNATURE`."""
    return signing.sign(user, "unsubscribe", 0, user.id, _FREQUENCY_CODES[frequency])


def is_unsubscribe_token(session: Session, token: str) -> bool:
    """Whether `token` is ours and of a form that still works; asked at RCPT time."""
    parts = signing.verify(session, "unsubscribe", token)
    return parts is not None and (len(parts) == 2 or (len(parts) == 3 and parts[0] == 0))


def memberships_for_token(session: Session, token: str) -> list[Membership]:
    """The memberships whose mail the token stops; NotFound when it is not ours or stops nothing."""
    parts = signing.verify(session, "unsubscribe", token)
    if parts and len(parts) == 1:
        raise NotFound(
            "This unsubscribe link comes from an older mail and no longer works. Use the link in a newer "
            "mail from the group, or sign in and choose the mail you want on your mail settings page."
        )
    if parts and parts[0] == 0 and len(parts) == 3:
        frequency = next((f for f, code in _FREQUENCY_CODES.items() if code == parts[2]), None)
        found = list(
            session.scalars(
                select(Membership)
                .where(Membership.user_id == parts[1], Membership.delivery == frequency)
                .order_by(Membership.id)
            )
        )
    elif parts and len(parts) == 2:
        user_id, group_id = parts
        found = list(
            session.scalars(select(Membership).where(Membership.user_id == user_id, Membership.group_id == group_id))
        )
    else:
        found = []
    if not found:
        raise NotFound("This unsubscribe link is not valid (any more), or there is nothing left to stop.")
    return found


def unsubscribe(session: Session, token: str) -> list[Membership]:
    """Stop the mail a token names and return those memberships; members stay in their groups."""
    stopped = memberships_for_token(session, token)
    for membership in stopped:
        membership.delivery = Delivery.NONE
    session.flush()
    return stopped


def replies_token(user: User) -> str:
    return signing.sign(user, _REPLIES, user.id)


def user_for_link(session: Session, purpose: str, token: str) -> User:
    """The person a one-click link signed for `purpose` (stop reply mail, stop receipts) was made for."""
    parts = signing.verify(session, purpose, token)
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

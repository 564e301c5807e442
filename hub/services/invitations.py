"""Invitations to a group by mail: a signed link that joins its one person in one click.

The token names the group, the person invited and when it expires (`mailgateway.tokens`), so
it works for a private group too (the invitation is the key), for nobody else, and not after
`LIFETIME_DAYS`. Using it twice is harmless: the second time finds them a member.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models import Group, Membership, User
from hub.services import addresses, groups, signing
from hub.services.errors import Forbidden, Invalid, NotFound
from hub.services.outbox import compose, queue_mail
from hub.services.visibility import find_membership
from hub.urls import group_path, invitation_path

LIFETIME_DAYS = 14
_PURPOSE = "invitation"


def invite(session: Session, inviter: User, group: Group, invited: User) -> str:
    """Mail `invited` a link that makes them a member of `group`; the link, for the caller to show."""
    groups.require_open(group)
    if invited.deactivated_at is not None:
        raise Invalid("%(email)s is a former colleague and cannot join groups", email=invited.email)
    if find_membership(session, group, invited) is not None:
        raise Invalid("%(email)s is a member of %(name)s already", email=invited.email, name=group.name)
    token = signing.sign_expiring(session, _PURPOSE, group.id, invited.id, lifetime_seconds=LIFETIME_DAYS * 24 * 3600)
    context = context_of(session)
    url = context.url(invitation_path(token))
    text, html = context.catalogue.render_mail(
        "invitation",
        recipient=invited,
        language=invited.language,
        url=url,
        inviter=inviter,
        group=group,
        group_url=context.url(group_path(group.slug)),
        days=LIFETIME_DAYS,
    )
    message = compose(
        subject=context.catalogue.translator(invited.language).gettext("%(name)s invites you to %(group)s")
        % {"name": inviter.name, "group": group.name},
        sender=(inviter.name, addresses.address(session, "no-reply")),
        recipient=(invited.name, invited.email),
        text=text,
        html=html,
        headers={"Auto-Submitted": "auto-generated"},
    )
    queue_mail(session, f"invitation:{token}", message)
    return url


def accept(session: Session, user: User, token: str) -> Membership:
    """`user` joins the group the invitation names, when it names them and has not expired."""
    parts = signing.verify_expiring(session, _PURPOSE, token)
    group = session.get(Group, parts[0]) if parts and len(parts) == 2 else None
    if group is None:
        raise NotFound("This invitation is not valid (any more). Ask an owner of the group to invite you again.")
    if parts[1] != user.id:
        raise Forbidden("This invitation is for someone else. Sign in as the person it was mailed to.")
    return find_membership(session, group, user) or groups.set_member(session, group, user)

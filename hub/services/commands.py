"""Commands by mail: `SLUG+subscribe@`, `SLUG+unsubscribe@`, `SLUG+digest@` and `SLUG+each@`.

Anyone can write someone else's address in From, so the mail that asks for a command never
carries it out. The hub answers the From address (a user's, or nobody gets anything) with a
confirmation whose Reply-To is `confirm+TOKEN@domain`; the token is signed, expires, and
names the person, the group and the command. A reply to it from that person, with any text,
carries the command out. Refusals are errors with the reason, which `hub.services.inbound`
records on the message.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from hub.context import context_of
from hub.locale import N_
from hub.models import Delivery, Group, User
from hub.services import addresses
from hub.services.errors import Forbidden, NotFound
from hub.services.groups import add_member, find_membership
from hub.services.outbox import compose, queue_mail
from mailgateway.addresses import COMMANDS

CONFIRM_LIFETIME_DAYS = 7
_CODES = {command: number for number, command in enumerate(COMMANDS, start=1)}
_ACTIONS = {
    "subscribe": N_("Subscribe me to %(group)s: mail me each new post."),
    "unsubscribe": N_("Stop all mail from %(group)s (I stay a member and can read it on the web)."),
    "digest": N_("Mail me a daily digest of %(group)s instead of each post."),
    "each": N_("Mail me each new post of %(group)s."),
}


def request_command(session: Session, user: User, group: Group, command: str, *, key: str) -> str:
    """Mail `user` a confirmation for `command` on `group`; what was done, for the record.

    `key` names the request (the inbound message), so asking twice for one message mails once.
    """
    _check_allowed(session, user, group, command)
    confirm = addresses.signed_address(
        session, "confirm", user.id, group.id, _CODES[command], lifetime_seconds=CONFIRM_LIFETIME_DAYS * 24 * 3600
    )
    catalogue = context_of(session).catalogue
    t = catalogue.translator(user.language)
    action = t.gettext(_ACTIONS[command]) % {"group": group.name}
    text, html = catalogue.render_mail(
        "command_confirm", user.language, recipient=user, action=action, days=CONFIRM_LIFETIME_DAYS,
        command_address=addresses.address(session, "command", group.slug, command),
    )
    message = compose(
        subject=t.gettext("Confirm: %(action)s") % {"action": action},
        sender=("Plein", addresses.address(session, "no-reply")),
        recipient=(user.name, user.email),
        text=text, html=html,
        # RFC 3834: an answer to a person's mail is auto-replied, so their autoresponder stays quiet.
        headers={"Reply-To": confirm, "Auto-Submitted": "auto-replied"},
    )
    queue_mail(session, f"confirm:{key}", message, essential=True)
    return f"confirmation of {command} for {group.slug} mailed to {user.email}"


def confirm_command(session: Session, sender: User, token: str) -> str:
    """Carry out the command a confirmation token names, if `sender` is the person it was mailed to."""
    parts = addresses.token_parts(session, "confirm", token)
    if parts is None or len(parts) != 3:
        raise NotFound("the confirmation address is not valid or has expired; send the command again")
    user_id, group_id, code = parts
    if sender.id != user_id:
        raise Forbidden("the confirmation was mailed to someone else; %(email)s may send the command itself", email=sender.email)
    group = session.get(Group, group_id)
    command = next((name for name, number in _CODES.items() if number == code), None)
    if group is None or command is None:
        raise NotFound("the group of this confirmation is gone")
    _check_allowed(session, sender, group, command)
    if command == "unsubscribe":
        add_member(session, group, sender, Delivery.NONE)
        return f"{sender.email} gets no more mail from {group.slug}"
    membership = find_membership(session, group, sender)
    if command == "subscribe" and membership is not None and membership.delivery != Delivery.NONE:
        return f"{sender.email} is subscribed to {group.slug} already ({membership.delivery.value})"
    delivery = Delivery.DAILY if command == "digest" else Delivery.EACH
    add_member(session, group, sender, delivery)
    return f"{sender.email} gets {group.slug} by mail: {delivery.value}"


def _check_allowed(session: Session, user: User, group: Group, command: str) -> None:
    member = find_membership(session, group, user) is not None
    if command == "unsubscribe" and not member:
        raise NotFound("%(email)s is not a member of %(slug)s; there is no mail to stop", email=user.email, slug=group.slug)
    if group.is_private and not member:
        raise Forbidden("%(slug)s is a private group: a member must invite %(email)s first", slug=group.slug, email=user.email)

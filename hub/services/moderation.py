"""Who may post to a group by mail, and the moderation queue for what waits on a person's word.

A group's `posting_policy` says who may post: its members (the default; `groups.can_post`),
anyone in the company, or anyone but held for a moderator. Apart from the policy, a mail
whose From cannot be verified (`PLEIN_INBOUND_AUTH`, see `mailgateway.authentication`) never posts as
that person: by the group's `untrusted_mail` it is held for a moderator or refused.

Held mail is a `HeldMessage` next to its inbound record, which reads `held`. A post or comment written
on the web in a moderated group is a `HeldMessage` of its own, with its title, text and files
(`hold_written`). A moderator (a member with `is_moderator`, or a hub admin) approves it, which posts
it as its sender with its attachments, mail exactly as mail in would have been
(`hub.services.publishing.publish`) and a web item as it was written (`publish_written`), or
rejects it, which records a refusal and lets go of a web item's files.
Each moderator is mailed the held message; replying approves (`approve+TOKEN@`), a second signed
address rejects (`reject+TOKEN@`). Tokens name the held message and the moderator they were mailed
to; from anyone else they do nothing but a recorded refusal. Deciding twice changes nothing.

`hub.services.inbound` calls `screen` before it posts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.locale import N_
from hub.models import (
    Comment,
    Group,
    HeldMessage,
    HeldStatus,
    InboundMessage,
    InboundStatus,
    Membership,
    Post,
    PostingPolicy,
    UntrustedMail,
    User,
    utcnow,
)
from hub.services import addresses, anonymity, attachments
from hub.services.errors import Forbidden, Invalid, NotFound
from hub.services.groups import can_post
from hub.services.outbox import compose, compose_answer, queue_mail
from hub.services.publishing import publish, publish_written
from hub.services.raw_mail import read_raw
from hub.services.visibility import can_see, find_membership
from hub.urls import group_path, moderation_path
from mailgateway.authentication import Verdict, sender_verdict, txt_lookup
from mailgateway.message import ParsedMessage
from mailgateway.timebox import parse_within

APPROVE, REJECT = "approve", "reject"
"""Signing purposes, and the local parts of the addresses a moderator answers."""


# Who may post, and who moderates.

def set_policy(session: Session, group: Group, posting_policy: str | None = None,
               untrusted_mail: str | None = None) -> Group:
    if posting_policy is not None:
        try:
            group.posting_policy = PostingPolicy(posting_policy).value
        except ValueError:
            raise Invalid("posting policy must be one of %(choices)s", choices=', '.join(p.value for p in PostingPolicy)) from None
    if untrusted_mail is not None:
        try:
            group.untrusted_mail = UntrustedMail(untrusted_mail).value
        except ValueError:
            raise Invalid("untrusted mail must be one of %(choices)s", choices=', '.join(u.value for u in UntrustedMail)) from None
    session.flush()
    return group


def set_moderator(session: Session, group: Group, user: User, moderator: bool = True) -> Membership:
    membership = find_membership(session, group, user)
    if membership is None:
        raise NotFound("%(email)s is not a member of %(slug)s: add them to it first", email=user.email, slug=group.slug)
    membership.is_moderator = moderator
    session.flush()
    return membership


def is_moderator(session: Session, user: User, group: Group) -> bool:
    if user.is_admin:
        return True
    membership = find_membership(session, group, user)
    return membership is not None and membership.is_moderator


def moderators(session: Session, group: Group) -> list[User]:
    """The group's moderators and the hub's admins, who all may decide on its held mail."""
    flagged = select(Membership.user_id).where(Membership.group_id == group.id, Membership.is_moderator.is_(True))
    return list(session.scalars(
        select(User).where(or_(User.id.in_(flagged), User.is_admin.is_(True))).order_by(User.id)
    ))


def verify_sender(inbound_message: InboundMessage, message: ParsedMessage) -> Verdict:
    """Whether the From of a received message may be believed, as `PLEIN_INBOUND_AUTH` says."""
    settings = context_of(inbound_message).settings
    return sender_verdict(
        read_raw(inbound_message), message.from_address, settings.inbound_auth,
        trusted_ids=settings.trusted_authserv_ids.split(","),
        lookup=txt_lookup(settings.dns_resolver) if settings.inbound_auth == "dkim" else None,
    )


@dataclass(frozen=True)
class Screened:
    """Mail that is not posted now: held for a moderator, or refused, with the reason."""

    status: InboundStatus
    reason: str
    held: HeldMessage | None = None


def screen(
    session: Session,
    inbound_message: InboundMessage,
    message: ParsedMessage,
    sender: User,
    group: Group,
    post: Post | None,
    parent: Comment | None,
    *,
    anonymous: bool = False,
) -> Screened | None:
    """None when `sender` may post this to `group` now; otherwise it is held or refused. An anonymous one waits
    for a moderator in a group whose anonymous posting is `moderated`, whoever sent it."""
    if not can_post(session, sender, group):
        return Screened(
            InboundStatus.REFUSED, f"{sender.email} is not a member of {group.slug}, and only its members post to it",
        )
    verdict = verify_sender(inbound_message, message)
    if not verdict.trusted:
        if group.untrusted_mail == UntrustedMail.REFUSE:
            return Screened(
                InboundStatus.REFUSED,
                f"the From {sender.email} could not be verified ({verdict.reason}); {group.slug} refuses such mail",
            )
        # No notice to the sender: the From may be forged, and Plein mails no one it cannot believe.
        return hold(session, inbound_message, message, sender, group, post, parent,
                    f"the From could not be verified: {verdict.reason}", tell_sender=False, anonymous=anonymous)
    if anonymous and anonymity.is_held_for_moderators(group):
        return hold(session, inbound_message, message, sender, group, post, parent,
                    f"anonymous posts in {group.name} wait for a moderator", anonymous=True)
    if group.posting_policy == PostingPolicy.MODERATED and not is_moderator(session, sender, group):
        return hold(session, inbound_message, message, sender, group, post, parent, f"{group.name} is moderated",
                    anonymous=anonymous)
    return None


def hold(
    session: Session,
    inbound_message: InboundMessage,
    message: ParsedMessage,
    sender: User,
    group: Group,
    post: Post | None,
    parent: Comment | None,
    reason: str,
    tell_sender: bool = True,
    anonymous: bool = False,
) -> Screened:
    """Keep the message for the group's moderators and mail each of them, and its sender that it
    waits (unless `tell_sender` is false); once per message and group."""
    held = session.scalar(
        select(HeldMessage).where(HeldMessage.inbound_id == inbound_message.id, HeldMessage.group_id == group.id)
    )
    if held is not None and held.status != HeldStatus.HELD:
        status = InboundStatus.DUPLICATE if held.status == HeldStatus.APPROVED else InboundStatus.REFUSED
        return Screened(status, f"decided by a moderator of {group.slug} already: {held.outcome}")
    if held is None:
        held = HeldMessage(
            inbound_id=inbound_message.id, group_id=group.id, sender_id=sender.id,
            post_id=post.id if post else None, parent_id=parent.id if parent else None,
            subject=message.subject, text=message.reply_text if post or anonymous else message.text.strip(), reason=reason,
            anonymous=anonymous,
        )
        session.add(held)
        session.flush()
    told = _mail_moderators(session, held)
    if tell_sender:
        _tell_sender(session, held, message.message_id)
    whom = f"{told} moderator{'s' if told != 1 else ''} mailed" if told else f"nobody moderates {group.slug} yet"
    return Screened(InboundStatus.HELD, f"held for moderation of {group.slug} ({reason}); {whom}", held)


def hold_written(
    session: Session, author: User, group: Group, post: Post | None, parent: Comment | None, title: str, body: str,
    *, anonymous: bool = False,
) -> HeldMessage:
    """Keep a post (or a comment on `post`) written on the web for the moderators of the moderated
    `group`, as written, and mail them and `author` as for held mail. Its files follow with
    `attachments.hold_file`."""
    held = HeldMessage(
        group=group, sender=author, post=post, parent=parent, subject=" ".join(title.split()), text=body.strip(),
        reason=f"anonymous posts in {group.name} wait for a moderator" if anonymous else f"{group.name} is moderated",
        anonymous=anonymous,
    )
    session.add(held)
    session.flush()
    _mail_moderators(session, held)
    _tell_sender(session, held, None)
    return held


def _mail_moderators(session: Session, held: HeldMessage) -> int:
    catalogue = context_of(session).catalogue
    everyone = moderators(session, held.group)
    for moderator in everyone:
        approve = addresses.signed_address(session, APPROVE, held.id, moderator.id)
        reject = addresses.signed_address(session, REJECT, held.id, moderator.id)
        text, html = catalogue.render_mail(
            "moderation", moderator.language, recipient=moderator, held=held, approve_address=approve,
            reject_address=reject, queue_url=context_of(session).url(moderation_path(held.group.slug)),
            thread_title=_thread_title(session, held, moderator),
        )
        t = catalogue.translator(moderator.language)
        message = compose(
            subject=f"[{held.group.name}] "
            + t.gettext("Held: %(subject)s") % {"subject": held.subject or t.gettext("(no subject)")},
            sender=("Plein", addresses.address(session, "no-reply")),
            recipient=(moderator.name, moderator.email),
            text=text, html=html,
            headers={"Reply-To": approve, "Auto-Submitted": "auto-generated"},
        )
        queue_mail(session, f"moderation:{held.id}:{moderator.id}", message)
    return len(everyone)


def _tell_sender(session: Session, held: HeldMessage, answers: str | None) -> None:
    """A short auto-reply (RFC 3834) that the message waits for a moderator, threaded under it.

    `answers` is the Message-ID as the parsed message has it, as receipts answer it: the one on
    the inbound record is the header's text, with any comment a relay wrote beside the id.
    """
    sender, catalogue = held.sender, context_of(session).catalogue
    text, html = catalogue.render_mail(
        "held", sender.language, recipient=sender, held=held,
        thread_title=_thread_title(session, held, sender), group_url=context_of(session).url(group_path(held.group.slug)),
    )
    t = catalogue.translator(sender.language)
    message = compose_answer(
        session, subject=f"[{held.group.name}] "
        + t.gettext("Waiting for a moderator: %(subject)s") % {"subject": held.subject or t.gettext("(no subject)")},
        recipient=(sender.name, sender.email), text=text, html=html,
        answers=answers, auto_submitted="auto-replied",
    )
    queue_mail(session, f"held:{held.id}", message)


def _thread_title(session: Session, held: HeldMessage, recipient: User) -> str:
    """The title of the thread held mail answers, for a recipient who may see it; "" otherwise.

    A hub admin moderates private groups they are no member of: they decide on the held mail
    itself, but the thread it answers stays as hidden from them as the rest of the group.
    """
    if held.post is None or not can_see(session, recipient, held.group):
        return ""
    return held.post.title


# The queue and the decisions.

NO_SUCH_PAGE = N_("There is no such page.")


def moderated_group(session: Session, user: User, slug: str) -> Group:
    """The group `slug`, for someone who moderates it; to anyone else it does not exist.

    The same NotFound whether the group is missing, private or only not theirs to moderate,
    so a moderation page never tells who is asking that a private group exists.
    """
    group = session.scalar(select(Group).where(Group.slug == slug.strip().lower()))
    if group is None or not is_moderator(session, user, group):
        raise NotFound(NO_SUCH_PAGE)
    return group


def held_messages(session: Session, user: User, group: Group) -> list[HeldMessage]:
    """What waits for a moderator of `group`, oldest first; only for its moderators."""
    _require_moderator(session, user, group)
    return list(session.scalars(
        select(HeldMessage).where(HeldMessage.group_id == group.id, HeldMessage.status == HeldStatus.HELD)
        .order_by(HeldMessage.id)
    ))


def held_count(session: Session, group: Group) -> int:
    return session.scalar(
        select(func.count(HeldMessage.id)).where(HeldMessage.group_id == group.id, HeldMessage.status == HeldStatus.HELD)
    ) or 0


def get_held(session: Session, user: User, group: Group, held_id: int) -> HeldMessage:
    held = session.get(HeldMessage, held_id)
    _require_moderator(session, user, group)
    if held is None or held.group_id != group.id:
        raise NotFound("no held message %(held_id)s in %(slug)s", held_id=held_id, slug=group.slug)
    return held


def _require_moderator(session: Session, user: User, group: Group) -> None:
    if not is_moderator(session, user, group):
        raise NotFound(NO_SUCH_PAGE)


def approve(session: Session, held: HeldMessage, moderator: User) -> str:
    """Post the held message as its sender, mail as mail in would have been and a web item as it
    was written; what was done, for the record."""
    if not is_moderator(session, moderator, held.group):
        raise Forbidden("%(email)s does not moderate %(slug)s", email=moderator.email, slug=held.group.slug)
    if not _still_held(session, held):
        return _decided_already(held)
    # A sender who may no longer see the thread (they left the group while their answer
    # waited) starts a new one, as `hub.services.inbound` would make of their mail now.
    post = held.post if held.post is not None and can_see(session, held.sender, held.group) else None
    parent = held.parent if post is not None else None
    if held.inbound is None:
        outcome = publish_written(session, held, post, parent)
    else:
        message = parse_within(read_raw(held.inbound), context_of(session).settings.parse_time_limit)
        outcome = publish(session, held.inbound, message, held.sender, held.group, post, parent, anonymous=held.anonymous)
    held.files.clear()  # the post's attachments now
    posted = outcome.status in (InboundStatus.POSTED, InboundStatus.DUPLICATE)
    _decide(held, moderator, HeldStatus.APPROVED if posted else HeldStatus.REJECTED,
            f"approved by {moderator.email}: {outcome.reason}")
    if held.inbound is not None:
        _settle(session, held.inbound, held.outcome)
    return held.outcome


def reject(session: Session, held: HeldMessage, moderator: User) -> str:
    """Keep the held message out; a web item's files go with it."""
    if not is_moderator(session, moderator, held.group):
        raise Forbidden("%(email)s does not moderate %(slug)s", email=moderator.email, slug=held.group.slug)
    if not _still_held(session, held):
        return _decided_already(held)
    attachments.release(session, held.files)
    held.files.clear()
    _decide(held, moderator, HeldStatus.REJECTED, f"rejected by {moderator.email}, a moderator of {held.group.slug}")
    if held.inbound is not None:
        _settle(session, held.inbound, held.outcome)
    return held.outcome


def decide_by_mail(session: Session, sender: User, kind: str, token: str) -> str:
    """Approve or reject (`kind`) the held message a moderator's mailed token names, if `sender` got it."""
    parts = addresses.token_parts(session, kind, token) if kind in (APPROVE, REJECT) else None
    held = session.get(HeldMessage, parts[0]) if parts and len(parts) == 2 else None
    if held is None:
        raise NotFound("the moderation address is not valid or its message is gone")
    if sender.id != parts[1]:
        raise Forbidden("the moderation mail was sent to someone else; %(email)s may not decide with it", email=sender.email)
    return (approve if kind == APPROVE else reject)(session, held, sender)


def _still_held(session: Session, held: HeldMessage) -> bool:
    """Whether `held` waits still, read after a write that changes nothing: it locks the row on
    PostgreSQL and the database on SQLite until this transaction ends, so of two moderators
    deciding at once the second waits and finds it decided."""
    session.execute(
        update(HeldMessage).where(HeldMessage.id == held.id).values(status=HeldMessage.status),
        execution_options={"synchronize_session": False},
    )
    session.refresh(held)
    return held.status == HeldStatus.HELD


def _decided_already(held: HeldMessage) -> str:
    return f"held message {held.id} was decided already: {held.outcome}"


def _decide(held: HeldMessage, moderator: User, status: HeldStatus, outcome: str) -> None:
    held.status, held.decided_by_id, held.decided_at, held.outcome = status.value, moderator.id, utcnow(), outcome


def _settle(session: Session, inbound_message: InboundMessage, note: str) -> None:
    """Note the decision on the inbound record; once none of its destinations waits any more, a
    message that was only held ends as posted (something was approved) or refused."""
    session.flush()
    left = {
        status: session.scalar(select(func.count(HeldMessage.id)).where(
            HeldMessage.inbound_id == inbound_message.id, HeldMessage.status == status,
        ))
        for status in (HeldStatus.HELD, HeldStatus.APPROVED)
    }
    if inbound_message.status == InboundStatus.HELD and not left[HeldStatus.HELD]:
        inbound_message.status = InboundStatus.POSTED if left[HeldStatus.APPROVED] else InboundStatus.REFUSED
    inbound_message.reason = f"{inbound_message.reason}; {note}"
    inbound_message.processed_at = utcnow()
    session.flush()

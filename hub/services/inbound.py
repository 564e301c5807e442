"""Mail in: accept a message durably, then turn it into a post, a comment, or a refusal.

`store_inbound` runs while the SMTP client waits: it writes the raw bytes to disk with
fsync and records them before the server answers 250. `process_inbound` runs later in a
worker; whatever it decides is written on the record, so nothing accepted is ever dropped
silently, and running it twice changes nothing.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import jobs
from hub.models import Comment, Group, InboundMessage, InboundStatus, Post, User, utcnow
from hub.services import accounts, signing, subscriptions
from hub.services.attachments import attach, write_durably
from hub.services.errors import Invalid, NotFound
from hub.services.groups import can_post
from hub.services.posts import create_comment, create_post
from hub.settings import get_settings
from hub.urls import attachment_path
from mailgateway.addresses import BOUNCES, Route, route
from mailgateway.message import ParsedMessage
from mailgateway.parsing import parse_message
from mailgateway.replies import visible_text


def accepts_recipient(session: Session, address: str) -> bool:
    """Whether mail to `address` has somewhere to go; asked at RCPT time."""
    destination = route(address, get_settings().mail_domain)
    if destination is None:
        return False
    if destination.kind == "group":
        return session.scalar(select(Group.id).where(Group.slug == destination.value)) is not None
    if destination.kind == "reply":
        return signing.verify("reply", destination.value) is not None
    if destination.kind == "unsubscribe":
        return signing.verify("unsubscribe", destination.value) is not None
    return destination.kind == BOUNCES


def store_inbound(
    session: Session, raw: bytes, envelope_from: str, recipients: list[str]
) -> InboundMessage:
    """Keep the raw message on disk and on record; processing follows after commit."""
    settings = get_settings()
    now = utcnow()
    relative = f"inbound/{now:%Y/%m/%d}/{uuid.uuid4().hex}.eml"
    write_durably(settings.data_dir / relative, raw)
    headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
    message_id = str(headers.get("Message-ID", "") or "").strip().strip("<>") or None
    inbound = InboundMessage(
        message_id=message_id,
        envelope_from=envelope_from,
        recipients="\n".join(recipients),
        path=relative,
        size=len(raw),
        received_at=now,
    )
    session.add(inbound)
    session.flush()
    jobs.after_commit(session, "plein.inbound.process", inbound.id)
    return inbound


def read_raw(inbound: InboundMessage) -> bytes:
    return (get_settings().data_dir / inbound.path).read_bytes()


@dataclass(frozen=True)
class Outcome:
    status: InboundStatus
    reason: str


def process_inbound(session: Session, inbound_id: int) -> InboundMessage | None:
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None or inbound.status != InboundStatus.RECEIVED:
        return inbound
    message = parse_message(read_raw(inbound))
    outcomes = [
        _deliver(session, inbound, message, destination)
        for destination in _routes(inbound.recipients.splitlines())
    ] or [Outcome(InboundStatus.REFUSED, "no recipient at this hub")]
    inbound.status = _overall_status(outcomes)
    inbound.reason = "; ".join(outcome.reason for outcome in outcomes)
    inbound.processed_at = utcnow()
    session.flush()
    return inbound


def _routes(addresses: list[str]) -> list[Route]:
    domain = get_settings().mail_domain
    found: list[Route] = []
    for address in addresses:
        destination = route(address, domain)
        if destination and destination not in found:
            found.append(destination)
    return found


def _overall_status(outcomes: list[Outcome]) -> InboundStatus:
    for status in (InboundStatus.POSTED, InboundStatus.COMMAND, InboundStatus.DUPLICATE):
        if any(outcome.status == status for outcome in outcomes):
            return status
    return InboundStatus.REFUSED


def _deliver(
    session: Session, inbound: InboundMessage, message: ParsedMessage, destination: Route
) -> Outcome:
    if destination.kind == "unsubscribe":
        return _unsubscribe(session, destination.value)
    if destination.kind == BOUNCES:
        return Outcome(InboundStatus.COMMAND, f"delivery report from {inbound.envelope_from or '(null sender)'} kept")
    if message.auto_submitted:
        return Outcome(InboundStatus.REFUSED, "automatic mail (auto-reply, bounce or bulk) is not posted")
    sender = accounts.find_user(session, message.from_address)
    if sender is None:
        return Outcome(InboundStatus.REFUSED, f"sender {message.from_address or '(none)'} is not a user of this hub")
    if destination.kind == "reply":
        return _reply_by_token(session, inbound, message, sender, destination.value)
    group = session.scalar(select(Group).where(Group.slug == destination.value))
    if group is None:
        return Outcome(InboundStatus.REFUSED, f"no group {destination.value}")
    if not can_post(session, sender, group):
        return Outcome(InboundStatus.REFUSED, f"{sender.email} may not post to {group.slug}")
    post, parent = _thread_target(session, message.thread_ids)
    if post is not None and post.group_id == group.id:
        return _comment(session, inbound, message, sender, post, parent)
    return _post(session, inbound, message, sender, group)


def _reply_by_token(
    session: Session, inbound: InboundMessage, message: ParsedMessage, sender: User, token: str
) -> Outcome:
    parts = signing.verify("reply", token)
    post = session.get(Post, parts[0]) if parts else None
    if post is None:
        return Outcome(InboundStatus.REFUSED, "the reply address is not valid or its post is gone")
    if not can_post(session, sender, post.group):
        return Outcome(InboundStatus.REFUSED, f"{sender.email} may not post to {post.group.slug}")
    parent = session.get(Comment, parts[1]) if parts[1] else None
    if parent is not None and parent.post_id != post.id:
        parent = None
    return _comment(session, inbound, message, sender, post, parent)


def _post(
    session: Session, inbound: InboundMessage, message: ParsedMessage, sender: User, group: Group
) -> Outcome:
    if message.message_id and session.scalar(
        select(Post.id).where(Post.group_id == group.id, Post.message_id == message.message_id)
    ):
        return Outcome(InboundStatus.DUPLICATE, f"already posted to {group.slug}")
    body_text = message.text.strip() or ("(attachments only)" if message.attachments else "")
    if not body_text:
        return Outcome(InboundStatus.REFUSED, f"the message to {group.slug} has no text and no attachment")
    post = create_post(
        session, group, sender, message.subject, body_text,
        message_id=message.message_id, inbound_id=inbound.id,
    )
    _attach_all(session, post, None, message)
    post.body_html = _with_inline_images(message.html, post) if message.html else None
    return Outcome(InboundStatus.POSTED, f"posted to {group.slug} as post {post.id}")


def _comment(
    session: Session,
    inbound: InboundMessage,
    message: ParsedMessage,
    sender: User,
    post: Post,
    parent: Comment | None,
) -> Outcome:
    if message.message_id and session.scalar(
        select(Comment.id).where(Comment.post_id == post.id, Comment.message_id == message.message_id)
    ):
        return Outcome(InboundStatus.DUPLICATE, f"already a comment on post {post.id}")
    body = visible_text(message.text)
    if not body.strip() and message.attachments:
        body = "Attached: " + ", ".join(a.filename for a in message.attachments)
    try:
        comment = create_comment(
            session, post, sender, body, parent=parent, original_text=message.text,
            message_id=message.message_id, inbound_id=inbound.id,
        )
    except Invalid:
        return Outcome(InboundStatus.REFUSED, f"the reply to post {post.id} has no text of its own")
    _attach_all(session, post, comment, message)
    return Outcome(InboundStatus.POSTED, f"comment {comment.id} on post {post.id}")


def _attach_all(session: Session, post: Post, comment: Comment | None, message: ParsedMessage) -> None:
    for part in message.attachments:
        attach(
            session, post, part.filename, part.content_type, part.data,
            comment=comment, content_id=part.content_id,
        )


def _with_inline_images(html: str, post: Post) -> str:
    """Point `cid:` images at the stored attachments they name (RFC 2392)."""
    by_content_id = {a.content_id: a for a in post.attachments if a.content_id}

    def replace(match: re.Match[str]) -> str:
        attachment = by_content_id.get(match.group(2))
        return f"{match.group(1)}{attachment_path(attachment.id, attachment.filename)}" if attachment else match.group(0)

    return re.sub(r"""(src=["'])cid:([^"']+)""", replace, html)


_OWN_ID = re.compile(r"^(post|comment)-(\d+)@(.+)$")


def _thread_target(session: Session, thread_ids: list[str]) -> tuple[Post | None, Comment | None]:
    """The post (and comment) a mail answers, from the ids it names, nearest first.

    Ids may be those of mails Plein sent (`post-12@domain`, `comment-34@domain`) or of the
    mails that made a post or comment.
    """
    domain = get_settings().mail_domain
    for message_id in thread_ids:
        own = _OWN_ID.match(message_id)
        if own and own.group(3).lower() == domain.lower():
            kind, number = own.group(1), int(own.group(2))
            if kind == "post" and (post := session.get(Post, number)):
                return post, None
            if kind == "comment" and (comment := session.get(Comment, number)):
                return comment.post, comment
            continue
        if comment := session.scalar(select(Comment).where(Comment.message_id == message_id).limit(1)):
            return comment.post, comment
        if post := session.scalar(select(Post).where(Post.message_id == message_id).limit(1)):
            return post, None
    return None, None


def _unsubscribe(session: Session, token: str) -> Outcome:
    try:
        membership = subscriptions.unsubscribe(session, token)
    except NotFound as error:
        return Outcome(InboundStatus.REFUSED, str(error))
    return Outcome(InboundStatus.COMMAND, f"{membership.user.email} gets no more mail from {membership.group.slug}")


def mark_failed(session: Session, inbound_id: int, reason: str) -> None:
    """Record that processing kept failing, so the message shows up instead of vanishing."""
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is not None and inbound.status == InboundStatus.RECEIVED:
        inbound.status = InboundStatus.FAILED
        inbound.reason = reason[:2000]
        inbound.processed_at = utcnow()


def requeue_stalled(session: Session, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Hand messages still waiting after `older_than` to the workers again (a lost job, a crash)."""
    stalled = session.scalars(
        select(InboundMessage.id).where(
            InboundMessage.status == InboundStatus.RECEIVED,
            InboundMessage.received_at < utcnow() - older_than,
        )
    ).all()
    for inbound_id in stalled:
        jobs.after_commit(session, "plein.inbound.process", inbound_id)
    return len(stalled)

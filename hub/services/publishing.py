"""Mail made into a post or a comment, with its attachments and inline images, and a receipt.

The receipt, and the mail to readers when they are few, are queued in the same transaction as
the post: each was a job of its own, which cost the workers more than the mail.

`hub.services.inbound` publishes mail that may be posted at once; `hub.services.archive_import` publishes
old mail from an archive the same way, `from_archive`, which keeps its date and tells nobody (no mail to
readers, no receipt); `hub.services.moderation`
publishes held mail when a moderator approves it, and a held web post or comment as its author
wrote it (`publish_written`). Each gets back an `Outcome` for the record.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from hub.models import Comment, Group, HeldMessage, InboundMessage, InboundStatus, Post, User
from hub.services import anonymity, notifications, receipts, signing
from hub.services.attachments import attach, attach_held
from hub.services.errors import Invalid, PleinError
from hub.services.posts import MAX_STATUS_LENGTH, FromArchive, create_comment, create_post
from hub.urls import attachment_path
from mailgateway.message import ParsedMessage
from mailgateway.replies import thread_subject

TITLE_FROM_TEXT = 80
"""How much of its first line titles a mail without a subject that is too long for a status."""


@dataclass(frozen=True)
class Outcome:
    status: InboundStatus
    reason: str
    made: Post | Comment | None = None
    """The post or comment published, when one was."""


def publish(
    session: Session, inbound: InboundMessage | None, message: ParsedMessage, sender: User, group: Group,
    post: Post | None, parent: Comment | None, *, anonymous: bool = False, from_archive: FromArchive | None = None,
) -> Outcome:
    """Make the mail a comment on `post` (under `parent`), or a new post in `group` when there is no post.

    `inbound` is the record of mail that arrived now; an archive's message has none, and `from_archive` instead.
    An anonymous one (`SLUG+anonymous@`) keeps nothing that leads back to its mail: not its inbound record,
    not its Message-ID (a keyed hash of it stands in, for duplicates), not the untrimmed text, and the record's
    outcome does not name the item made (`hub.services.anonymity`); its text is trimmed of its signature."""
    if anonymous:
        try:
            anonymity.require_allowed(session, group)
        except PleinError as refused:
            return Outcome(InboundStatus.REFUSED, str(refused))
    if post is not None:
        return _comment(session, inbound, message, sender, post, parent, anonymous, from_archive)
    return _post(session, inbound, message, sender, group, anonymous, from_archive)


def _claim(session: Session, message_id: str | None) -> None:
    """Hold the message's Message-ID until this transaction ends, so that two workers taking two
    copies of one mail at once see each other's post: the second finds it and is a duplicate.
    SQLite has one writer at a time already."""
    if message_id and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:id))"), {"id": message_id})


def _post(
    session: Session, inbound: InboundMessage | None, message: ParsedMessage, sender: User, group: Group,
    anonymous: bool, from_archive: FromArchive | None,
) -> Outcome:
    _claim(session, message.message_id)
    kept_id = _kept_message_id(session, message.message_id, anonymous)
    if kept_id and session.scalar(
        select(Post.id).where(Post.group_id == group.id, Post.message_id == kept_id)
    ):
        return Outcome(InboundStatus.DUPLICATE, f"already posted to {group.slug}")
    # An anonymous post keeps its text without the signature a mail program adds (`reply_text`, trimmed as an
    # answer is), and not the mail's HTML, where a signature can hide in markup or a picture.
    text = (message.reply_text if anonymous else message.text).strip()
    body_text = text or ("(attachments only)" if message.attachments else "")
    if not body_text:
        return Outcome(InboundStatus.REFUSED, f"the message to {group.slug} has no text and no attachment")
    title, untitled = _title(message.subject, text)
    post = create_post(
        session, group, sender, title, body_text, message_id=kept_id,
        inbound_id=None if anonymous or inbound is None else inbound.id, untitled=untitled, anonymous=anonymous,
        from_archive=from_archive,
    )
    _attach_all(session, post, None, message)
    post.body_html = _with_inline_images(message.html, post) if message.html and not anonymous else None
    if from_archive is None:
        notifications.notify_if_few(session, post)
        receipts.send_receipt(session, "post", post.id, sender)
    if anonymous:
        return Outcome(InboundStatus.POSTED, f"posted anonymously to {group.slug}", post)
    return Outcome(InboundStatus.POSTED, f"posted to {group.slug} as post {post.id}", post)


def _kept_message_id(session: Session, message_id: str | None, anonymous: bool) -> str | None:
    """The Message-ID an item keeps: as it came, or for an anonymous one a keyed hash of it, which finds a
    duplicate but matches no mail."""
    if not message_id or not anonymous:
        return message_id
    digest = hmac.new(signing.key(session).encode(), message_id.encode(), hashlib.sha256).hexdigest()[:40]
    return f"<anonymous.{digest}@plein.invalid>"


def _title(subject: str, text: str) -> tuple[str, bool]:
    """A mail's post title, and whether it is a status instead: a subject that is empty once reply and
    forward prefixes and list tags are taken off makes a status of a short text (`posts.MAX_STATUS_LENGTH`),
    and of a longer one a post titled by its first line, as a status can be no longer."""
    if thread_subject(subject)[0] or not text:
        return subject, False
    if len(text) <= MAX_STATUS_LENGTH:
        return "", True
    first_line = next(line for line in text.splitlines() if line.strip())
    return first_line[:TITLE_FROM_TEXT], False


def _comment(
    session: Session,
    inbound: InboundMessage | None,
    message: ParsedMessage,
    sender: User,
    post: Post,
    parent: Comment | None,
    anonymous: bool,
    from_archive: FromArchive | None,
) -> Outcome:
    _claim(session, message.message_id)
    kept_id = _kept_message_id(session, message.message_id, anonymous)
    if kept_id and session.scalar(
        select(Comment.id).where(Comment.post_id == post.id, Comment.message_id == kept_id)
    ):
        return Outcome(InboundStatus.DUPLICATE, f"already a comment on post {post.id}")
    body = message.reply_text  # trimmed by `mailgateway.timebox`, under the parse time limit
    if not body.strip() and message.attachments:
        body = "Attached: " + ", ".join(a.filename for a in message.attachments)
    try:
        comment = create_comment(
            session, post, sender, body, parent=parent, original_text=None if anonymous else message.text,
            message_id=kept_id, inbound_id=None if anonymous or inbound is None else inbound.id, anonymous=anonymous,
            from_archive=from_archive,
        )
    except Invalid:
        return Outcome(InboundStatus.REFUSED, f"the reply to post {post.id} has no text of its own")
    _attach_all(session, post, comment, message)
    if from_archive is None:
        notifications.notify_if_few(session, post, comment)
        receipts.send_receipt(session, "comment", comment.id, sender)
    if anonymous:
        return Outcome(InboundStatus.POSTED, f"an anonymous comment on post {post.id}", comment)
    return Outcome(InboundStatus.POSTED, f"comment {comment.id} on post {post.id}", comment)


def publish_written(session: Session, held: HeldMessage, post: Post | None, parent: Comment | None) -> Outcome:
    """Make a held web item what its author wrote, with its files: a comment on `post` (under `parent`),
    or a new post in its group when there is no post. Nothing is trimmed: no mail was ever quoted in it."""
    if post is None:
        # Only a status is held without a title: a web post needs one, and a comment's is `Re: ...`.
        made = create_post(
            session, held.group, held.sender, held.subject, held.text or "(attachments only)",
            untitled=not held.subject, anonymous=held.anonymous,
        )
        comment = None
    else:
        made = post
        comment = create_comment(session, post, held.sender, held.text, parent=parent, anonymous=held.anonymous)
    for held_file in held.files:
        attach_held(session, made, comment, held_file)
    notifications.notify_if_few(session, made, comment)
    if comment is None:
        receipts.send_receipt(session, "post", made.id, held.sender)
        if held.anonymous:
            return Outcome(InboundStatus.POSTED, f"posted anonymously to {held.group.slug}")
        return Outcome(InboundStatus.POSTED, f"posted to {held.group.slug} as post {made.id}")
    receipts.send_receipt(session, "comment", comment.id, held.sender)
    if held.anonymous:
        return Outcome(InboundStatus.POSTED, f"an anonymous comment on post {made.id}")
    return Outcome(InboundStatus.POSTED, f"comment {comment.id} on post {made.id}")


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

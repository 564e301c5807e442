"""Posts and comments written on the web, under the same posting policy as mail.

A person who may not post to a group (`groups.can_post`) is refused with a message that says
how to get in. In a moderated group, what a non-moderator writes waits for a moderator: it is
kept as the mail it would have been, with its attachments, and held like any held mail, so a
moderator approves it by web or by mail and it is posted exactly as mail in would have been.
Everyone else's post or comment appears at once.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path

from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models import Comment, Group, HeldMessage, Post, PostingPolicy, User, utcnow
from hub.services import attachments, inbound, moderation, posts
from hub.services.errors import Forbidden, Invalid
from hub.services.groups import can_post
from hub.services.notifications import group_address, reply_address
from mailgateway.parsing import parse_message


@dataclass(frozen=True)
class Upload:
    """A file sent with a form, on disk under the data directory until it is stored (hub.web.uploads)."""

    filename: str
    content_type: str
    """As the browser said it; may be empty."""
    path: Path
    size: int

    @property
    def media_type(self) -> str:
        return self.content_type or mimetypes.guess_type(self.filename)[0] or "application/octet-stream"


def submit_post(
    session: Session, author: User, group: Group, title: str, body: str, uploads: Sequence[Upload] = (),
) -> Post | HeldMessage:
    """The post made, or the held message waiting for a moderator of `group`."""
    _require_poster(session, author, group)
    if not title.strip():
        raise Invalid("Give your post a title.")
    if not body.strip() and not uploads:
        raise Invalid("Write a message or attach a file.")
    if _moderated_for(session, author, group):
        return _hold(session, author, group, None, None, title, body, uploads)
    post = posts.create_post(session, group, author, title, body.strip() or "(attachments only)")
    for upload in uploads:
        attachments.attach_file(session, post, upload.filename, upload.media_type, upload.path)
    return post


def submit_comment(
    session: Session, author: User, post: Post, body: str, parent: Comment | None = None,
) -> Comment | HeldMessage:
    """The comment made, or the held message waiting for a moderator of the post's group."""
    _require_poster(session, author, post.group)
    if _moderated_for(session, author, post.group):
        posts.validate_comment(post, body, parent)
        return _hold(session, author, post.group, post, parent, f"Re: {post.title}", body, [])
    return posts.create_comment(session, post, author, body, parent=parent)


def _require_poster(session: Session, user: User, group: Group) -> None:
    if not can_post(session, user, group):
        raise Forbidden(f"Only members post to {group.name}. Join it to post and comment.")


def _moderated_for(session: Session, user: User, group: Group) -> bool:
    return group.posting_policy == PostingPolicy.MODERATED and not moderation.is_moderator(session, user, group)


def _hold(
    session: Session, author: User, group: Group, post: Post | None, parent: Comment | None,
    title: str, body: str, uploads: Sequence[Upload],
) -> HeldMessage:
    """Keep what `author` wrote as a mail to the group and hold it, as mail in to a moderated group is."""
    to = group_address(group) if post is None else reply_address(post, parent, author)
    raw = _as_mail(author, to, title, body, uploads)
    stored = inbound.store_inbound(session, raw, author.email, [to])  # its processing job finds it held
    stored.written_on_web = True
    screened = moderation.hold(
        session, stored, parse_message(raw), author, group, post, parent, f"{group.name} is moderated",
    )
    stored.status, stored.reason, stored.processed_at = screened.status, f"written on the web; {screened.reason}", utcnow()
    session.flush()
    return screened.held


def _as_mail(author: User, to: str, title: str, body: str, uploads: Sequence[Upload]) -> bytes:
    message = EmailMessage()
    message["From"] = formataddr((author.name, author.email))
    message["To"] = to
    message["Subject"] = " ".join(title.split())  # one line, whatever the form sent
    message["Date"] = format_datetime(utcnow())  # "+0000", not the obsolete "GMT" (RFC 5322, 4.3)
    message["Message-ID"] = make_msgid(domain=context_of(author).settings.mail_domain)
    message.set_content(body)
    for upload in uploads:  # within PLEIN_MAX_MESSAGE_SIZE together, as a mail would be
        maintype, _, subtype = upload.media_type.partition("/")
        message.add_attachment(
            upload.path.read_bytes(), maintype=maintype, subtype=subtype or "octet-stream", filename=upload.filename
        )
    return message.as_bytes(policy=SMTP)

"""Posts and comments written on the web, under the same posting policy as mail.

A person who may not post to a group (`groups.can_post`) is refused with a message that says
how to get in. In a moderated group, what a non-moderator writes waits for a moderator: it is
kept as written, with its files, in the moderation queue beside held mail, so a moderator
approves it by web or by mail and it is posted as written (`hub.services.moderation`).
Everyone else's post or comment appears at once.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from hub.models import Comment, Group, HeldMessage, Post, PostingPolicy, User
from hub.services import anonymity, attachments, moderation, posts
from hub.services.errors import Forbidden, Invalid
from hub.services.groups import can_post, require_open


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
    *, anonymous: bool = False,
) -> Post | HeldMessage:
    """The post made, or the held message waiting for a moderator of `group`; `anonymous` without its author's
    name (`hub.services.anonymity`)."""
    _require_poster(session, author, group)
    if anonymous:
        anonymity.require_allowed(session, group)
    if not title.strip():
        raise Invalid("Give your post a title.")
    if not body.strip() and not uploads:
        raise Invalid("Write a message or attach a file.")
    if _moderated_for(session, author, group, anonymous):
        held = moderation.hold_written(session, author, group, None, None, title, body, anonymous=anonymous)
        for upload in uploads:
            attachments.hold_file(session, held, upload.filename, upload.media_type, upload.path)
        return held
    post = posts.create_post(session, group, author, title, body.strip() or "(attachments only)", anonymous=anonymous)
    for upload in uploads:
        attachments.attach_file(session, post, upload.filename, upload.media_type, upload.path)
    return post


def submit_comment(
    session: Session, author: User, post: Post, body: str, parent: Comment | None = None,
    uploads: Sequence[Upload] = (), *, anonymous: bool = False,
) -> Comment | HeldMessage:
    """The comment made, with its files, or the held message waiting for a moderator of the post's group."""
    _require_poster(session, author, post.group)
    if anonymous:
        anonymity.require_allowed(session, post.group)
    if uploads and not body.strip():
        body = "(attachments only)"
    if _moderated_for(session, author, post.group, anonymous):
        posts.validate_comment(post, body, parent)
        held = moderation.hold_written(
            session, author, post.group, post, parent, f"Re: {post.title}", body, anonymous=anonymous
        )
        for upload in uploads:
            attachments.hold_file(session, held, upload.filename, upload.media_type, upload.path)
        return held
    comment = posts.create_comment(session, post, author, body, parent=parent, anonymous=anonymous)
    for upload in uploads:
        attachments.attach_file(session, post, upload.filename, upload.media_type, upload.path, comment=comment)
    return comment


def _require_poster(session: Session, user: User, group: Group) -> None:
    require_open(group)
    if not can_post(session, user, group):
        raise Forbidden("Only members post to %(name)s. Join it to post and comment.", name=group.name)


def _moderated_for(session: Session, user: User, group: Group, anonymous: bool) -> bool:
    if anonymous and anonymity.is_held_for_moderators(group):
        return True
    return group.posting_policy == PostingPolicy.MODERATED and not moderation.is_moderator(session, user, group)

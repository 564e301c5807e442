"""Posts and their threaded comments: creating, editing, deleting them and reading them as a given user.

Editing keeps what the item said before as a revision, its history. Deleting takes along what
was derived from the item: its place in the index and in learned expertise, its stored files
once no other attachment names them, its history, and mail about it not yet sent.

Writing in a thread follows it (`hub.services.follows`); the tags in what is written are
recorded as it is written, edited or removed (`hub.services.tags`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hub import jobs
from hub.models import Attachment, Comment, Group, GroupKind, Post, Reaction, Revision, User, utcnow
from hub.services import (
    anonymity,
    attachments,
    digest_horizon,
    follows,
    inbox,
    indexing,
    mail_keys,
    notifications,
    outbox,
    tags,
)
from hub.services.errors import Forbidden, Invalid, NotFound
from hub.services.visibility import can_see

MAX_TITLE_LENGTH = 300
MAX_STATUS_LENGTH = 500
"""A status, a post without a title (`hub.services.personal`), is at most this many characters."""


@dataclass(frozen=True)
class FromArchive:
    """The switch for a post or comment brought in from an old archive (`hub.services.archive_import`) rather
    than written now: it keeps the date it was written and the import that brought it, and nobody is told of
    it. No mail, no notification, no inbox entry; digests leave out what carries an `import_id`."""

    import_id: int
    written_at: datetime


def _after_change(session: Session, post: Post) -> None:
    indexing.mark(session, "post", post.id)


def create_post(
    session: Session,
    group: Group,
    author: User,
    title: str,
    body_text: str,
    *,
    body_html: str | None = None,
    message_id: str | None = None,
    inbound_id: int | None = None,
    untitled: bool = False,
    anonymous: bool = False,
    from_archive: FromArchive | None = None,
) -> Post:
    """A new post; `untitled` makes it a status, whose title stays empty (`hub.services.personal`); `anonymous`
    keeps its author off it (`hub.services.anonymity`)."""
    title = "" if untitled else " ".join(title.split())[:MAX_TITLE_LENGTH] or "(no subject)"
    if not body_text.strip() and not body_html:
        raise Invalid("a post needs some text")
    if group.kind == GroupKind.PERSONAL and group.owner_id != author.id:
        raise Forbidden("only %(name)s posts on their own page", name=group.name)
    if anonymous:
        anonymity.require_allowed(session, group)
    digest_horizon.announce_new_item(session)
    post = Post(
        group=group,
        author=author,
        title=title,
        body_text=body_text.strip(),
        body_html=body_html,
        message_id=message_id,
        inbound_id=inbound_id,
        **_archived(from_archive),
    )
    session.add(post)
    session.flush()
    tags.tag_post(session, post)
    if anonymous:
        anonymity.hide_author(session, post, author)
    else:
        follows.follow(session, author, post)
    _after_change(session, post)
    if from_archive is None:
        jobs.after_commit(session, notifications.NOTIFY_POST, post.id)
        jobs.after_commit(session, inbox.NOTIFY_POST, post.id)
    return post


def _archived(from_archive: FromArchive | None) -> dict:
    if from_archive is None:
        return {}
    return {"import_id": from_archive.import_id, "created_at": from_archive.written_at}


def create_comment(
    session: Session,
    post: Post,
    author: User,
    body_text: str,
    *,
    parent: Comment | None = None,
    original_text: str | None = None,
    message_id: str | None = None,
    inbound_id: int | None = None,
    anonymous: bool = False,
    from_archive: FromArchive | None = None,
) -> Comment:
    validate_comment(post, body_text, parent)
    if anonymous:
        anonymity.require_allowed(session, post.group)
    digest_horizon.announce_new_item(session)
    comment = Comment(
        post=post,
        parent=parent,
        author=author,
        body_text=body_text.strip(),
        original_text=original_text,
        message_id=message_id,
        inbound_id=inbound_id,
        **_archived(from_archive),
    )
    session.add(comment)
    session.flush()
    tags.tag_comment(session, comment)
    if anonymous:
        anonymity.hide_author(session, comment, author)
    else:
        follows.follow(session, author, post)
    _after_change(session, post)
    if from_archive is None:
        jobs.after_commit(session, notifications.NOTIFY_COMMENT, comment.id)
        inbox.notify_comment(session, comment)
    return comment


def validate_comment(post: Post, body_text: str, parent: Comment | None) -> None:
    if not body_text.strip():
        raise Invalid("a comment needs some text")
    if parent is not None and parent.post_id != post.id:
        raise Invalid("a comment can only answer a comment on the same post")


def edit_post(session: Session, post: Post, editor: User, title: str, body_text: str) -> Post:
    """Change a post's title and text; only its author may. What it said before stays in its history."""
    if not anonymity.is_author(post, editor):
        raise Forbidden("only the author may edit a post")
    title = " ".join(title.split())[:MAX_TITLE_LENGTH]
    if (not title and post.title) or not body_text.strip():
        raise Invalid("a post needs a title and some text")
    if (title, body_text.strip()) == (post.title, post.body_text) and post.body_html is None:
        return post
    session.add(Revision(post=post, editor=None if post.anonymous else editor, title=post.title, body_text=post.body_text))
    post.title, post.body_text, post.body_html = title, body_text.strip(), None
    session.flush()
    tags.tag_post(session, post)
    inbox.notify_edit(session, post)
    _after_change(session, post)
    return post


def edit_comment(session: Session, comment: Comment, editor: User, body_text: str) -> Comment:
    """Change a comment's text; only its author may. The original mail stays as it came; what it said before
    stays in its history."""
    if not anonymity.is_author(comment, editor):
        raise Forbidden("only the author may edit a comment")
    if comment.removed_at is not None:
        raise Invalid("a removed comment cannot be edited")
    if not body_text.strip():
        raise Invalid("a comment needs some text")
    if body_text.strip() == comment.body_text:
        return comment
    session.add(Revision(comment=comment, editor=None if comment.anonymous else editor, body_text=comment.body_text))
    comment.body_text = body_text.strip()
    session.flush()
    tags.tag_comment(session, comment)
    inbox.notify_edit(session, comment)
    _after_change(session, comment.post)
    return comment


def edited_at(item: Post | Comment) -> datetime | None:
    """When `item` was last edited, or None if never."""
    return item.revisions[-1].created_at if item.revisions else None


def delete_post(session: Session, post: Post, editor: User) -> None:
    """Delete a post with its thread: its comments, attachments and history; only its author may.

    As in Discourse, where an author who deletes a topic's first post withdraws the whole topic,
    the answers go with it: they answer a question that is no longer there.
    """
    if not anonymity.is_author(post, editor):
        raise Forbidden("only the author may delete a post")
    indexing.mark_writers(session, post)
    anonymity.forget(session, "post", [post.id])
    anonymity.forget(session, "comment", [c.id for c in post.comments])
    _forget(session, post.attachments, [("post", post), *(("comment", c) for c in post.comments)])
    session.delete(post)
    session.flush()
    _after_change(session, post)


def delete_comment(session: Session, comment: Comment, editor: User) -> None:
    """Delete a comment's words, files and history; only its author may.

    It stays in its thread as "removed by its author", as in Discourse, so the answers under it
    keep their place and still read as answers.
    """
    if not anonymity.is_author(comment, editor):
        raise Forbidden("only the author may delete a comment")
    if comment.removed_at is not None:
        return
    post = comment.post
    indexing.mark_writers(session, post)
    anonymity.forget(session, "comment", [comment.id])  # nothing it said is left to reveal the author of
    _forget(session, list(comment.attachments), [("comment", comment)])
    for attachment in comment.attachments:
        session.delete(attachment)  # else the ORM keeps it on the post, with no comment
    comment.revisions.clear()
    session.execute(delete(Reaction).where(Reaction.comment_id == comment.id))  # they were to its words, now gone
    inbox.forget_comment(session, comment)
    comment.body_text, comment.original_text, comment.removed_at = "", None, utcnow()
    session.flush()
    tags.tag_comment(session, comment)
    session.expire(post, ["attachments"])
    _after_change(session, post)


def _forget(session: Session, files: list[Attachment], items: list[tuple[str, Post | Comment]]) -> None:
    """What goes with deleted items once the deletion commits: files no other attachment names, and mail not yet sent."""
    attachments.release(session, files)
    patterns = [pattern for kind, item in items for pattern in mail_keys.about(kind, item)]
    outbox.cancel(session, patterns, "not sent: what it was about was deleted")


def get_post(session: Session, viewer: User, post_id: int) -> Post:
    post = session.get(Post, post_id)
    if post is None or not can_see(session, viewer, post.group):
        raise NotFound("no post %(post_id)s", post_id=post_id)
    return post


def get_comment(session: Session, viewer: User, comment_id: int) -> Comment:
    comment = session.get(Comment, comment_id)
    if comment is None or not can_see(session, viewer, comment.post.group):
        raise NotFound("no comment %(comment_id)s", comment_id=comment_id)
    return comment


@dataclass(frozen=True)
class PostPage:
    posts: list[Post]
    page: int
    pages: int
    comment_counts: dict[int, int]


def list_posts(session: Session, group: Group, page: int = 1, page_size: int = 20) -> PostPage:
    """One page of a group's posts, newest first."""
    total = session.scalar(select(func.count()).where(Post.group_id == group.id)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    posts = list(
        session.scalars(
            select(Post)
            .where(Post.group_id == group.id)
            .order_by(Post.created_at.desc(), Post.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
    )
    counts = dict(
        session.execute(
            select(Comment.post_id, func.count())
            .where(Comment.post_id.in_([p.id for p in posts]), Comment.removed_at.is_(None))
            .group_by(Comment.post_id)
        ).all()
    )
    return PostPage(posts, page, pages, counts)


@dataclass(frozen=True)
class ThreadedComment:
    comment: Comment
    depth: int


def threaded(comments: list[Comment], max_depth: int = 6) -> list[ThreadedComment]:
    """Comments in reading order: each answer right under what it answers, indented."""
    children: dict[int | None, list[Comment]] = {}
    ids = {c.id for c in comments}
    for comment in sorted(comments, key=lambda c: c.id):
        parent = comment.parent_id if comment.parent_id in ids else None
        children.setdefault(parent, []).append(comment)
    ordered: list[ThreadedComment] = []

    def walk(parent: int | None, depth: int) -> None:
        for comment in children.get(parent, []):
            ordered.append(ThreadedComment(comment, min(depth, max_depth)))
            walk(comment.id, depth + 1)

    walk(None, 0)
    return ordered

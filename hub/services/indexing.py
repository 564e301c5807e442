"""Keeping the search index in step with the database, which is the source of truth.

A post is always indexed whole: the post, its comments and the text of its attachments,
so one idempotent task (`index_post`) covers creation, edits, new comments and deletion.
People and groups are items too. A person's item carries their profile and what they are
learned to know about: the titles and #tags of posts they wrote and of threads they
answered, in public groups only, so the item that everyone may find reveals nothing of a
private group.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import Attachment, Comment, Group, Post, User
from hub.services.attachments import read_blob
from hub.services.profiles import expertise_tags
from hub.settings import get_settings
from search import EVERYONE, IndexedItem
from search.extraction import extract_text
from search.index import SearchIndex
from search.remote import RemoteSearchIndex

LEARNED_FROM_POSTS = 50
"""How many of a person's newest posts, and of the threads they answered, teach their expertise."""


@lru_cache
def search_index() -> SearchIndex:
    return SearchIndex.open(get_settings().index_dir)


@lru_cache
def search_reader() -> SearchIndex | RemoteSearchIndex:
    """Where queries go: the index on this machine, or the indexer's query service."""
    settings = get_settings()
    if settings.search_url:
        return RemoteSearchIndex(settings.search_url, service_token())
    return search_index()


def service_token() -> str:
    """The bearer token web processes show the indexer's query service, derived from the secret."""
    key = get_settings().signing_key().encode()
    return hmac.new(key, b"plein index service", hashlib.sha256).hexdigest()


def document_text(attachment: Attachment) -> str:
    """The attachment's text, extracted once and kept on its row."""
    if attachment.extracted_text is None:
        try:
            data = read_blob(attachment)
        except OSError:
            return ""
        attachment.extracted_text = extract_text(data, attachment.content_type, attachment.filename)
    return attachment.extracted_text


def items_for_post(post: Post) -> Iterator[IndexedItem]:
    group_id, slug = post.group_id, post.group.slug
    has_attachment = bool(post.attachments)
    yield IndexedItem(
        kind="post", id=post.id, post_id=post.id, group_id=group_id, title=post.title,
        body=post.body_text, author_name=post.author.name, author_email=post.author.email,
        created_at=post.created_at, group_slug=slug, has_attachment=has_attachment,
    )
    for comment in post.comments:
        yield IndexedItem(
            kind="comment", id=comment.id, post_id=post.id, group_id=group_id,
            title=f"Re: {post.title}", body=comment.body_text, author_name=comment.author.name,
            author_email=comment.author.email, created_at=comment.created_at, group_slug=slug,
            has_attachment=bool(comment.attachments),
        )
    for attachment in post.attachments:
        text = document_text(attachment)
        if text.strip() or not attachment.content_type.startswith("image/"):
            owner = attachment.comment.author if attachment.comment else post.author
            yield IndexedItem(
                kind="document", id=attachment.id, post_id=post.id, group_id=group_id,
                title=attachment.filename, body=text, author_name=owner.name,
                author_email=owner.email, created_at=attachment.created_at, group_slug=slug,
                has_attachment=True,
            )


def learned_expertise(session: Session, user: User) -> str:
    """Titles of the public posts `user` wrote or answered, newest first: what they know about."""
    public = select(Group.id).where(Group.is_private.is_(False))
    # Post.id is selected so DISTINCT may order by it (PostgreSQL requires that).
    wrote = select(Post.id, Post.title, Post.body_text).where(Post.author_id == user.id, Post.group_id.in_(public))
    answered = (
        select(Post.id, Post.title, Post.body_text)
        .join(Comment, Comment.post_id == Post.id)
        .where(Comment.author_id == user.id, Post.group_id.in_(public))
        .distinct()
    )
    lines = []
    for query in (wrote, answered):
        for _, title, body in session.execute(query.order_by(Post.id.desc()).limit(LEARNED_FROM_POSTS)):
            tags = " ".join(word for word in body.split() if word.startswith("#"))
            lines.append(f"{title} {tags}".strip())
    return "\n".join(lines)


def item_for_person(session: Session, user: User) -> IndexedItem:
    about = " · ".join(part for part in (user.job_title, user.department) if part)
    tags = expertise_tags(user.expertise)
    body = "\n".join(part for part in (about, ", ".join(tags), user.bio) if part)
    return IndexedItem(
        kind="person", id=user.id, post_id=0, group_id=EVERYONE, title=user.name, body=body,
        author_name=user.name, author_email=user.email, created_at=user.created_at,
        tags=tuple(tags), extra=learned_expertise(session, user),
    )


def item_for_group(group: Group) -> IndexedItem:
    return IndexedItem(
        kind="group", id=group.id, post_id=0, group_id=group.id, title=group.name,
        body=group.description, author_name="", author_email="", created_at=group.created_at,
        group_slug=group.slug,
    )


def index_post(session: Session, post_id: int) -> None:
    """Bring the index in line with post `post_id`, whatever happened to it.

    The people who wrote in the thread are indexed again too: their expertise grew.
    """
    post = session.get(Post, post_id)
    items: list[IndexedItem] = []
    if post is not None:
        writers = {post.author, *(comment.author for comment in post.comments)}
        items = [*items_for_post(post), *(item_for_person(session, user) for user in writers)]
    search_index().replace_post(post_id, items)


def index_person(session: Session, user_id: int) -> None:
    user = session.get(User, user_id)
    if user is None:
        search_index().delete("person", [user_id])
    else:
        search_index().upsert([item_for_person(session, user)])


def index_group(session: Session, group_id: int) -> None:
    group = session.get(Group, group_id)
    if group is None:
        search_index().delete("group", [group_id])
    else:
        search_index().upsert([item_for_group(group)])


def count_items(session: Session) -> int:
    """How many items a full reindex writes, near enough for a progress bar."""
    counted = (Post.id, Comment.id, Attachment.id, User.id, Group.id)
    return sum(session.scalar(select(func.count(column))) or 0 for column in counted)


def reindex(session: Session, progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index from the database; returns the number of items indexed."""

    def all_items() -> Iterator[IndexedItem]:
        for group in session.scalars(select(Group).order_by(Group.id)):
            yield item_for_group(group)
        for user in session.scalars(select(User).order_by(User.id)).yield_per(200):
            yield item_for_person(session, user)
        for post in session.scalars(select(Post).order_by(Post.id)).yield_per(200):
            yield from items_for_post(post)

    return search_index().rebuild(all_items(), progress=progress)

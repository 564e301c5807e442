"""Keeping the search index in step with the database, which is the source of truth.

A post is always indexed whole: the post, its comments and the text of its attachments,
so one idempotent task (`index_post`) covers creation, edits, new comments and deletion.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Attachment, Post
from hub.services.attachments import read_blob
from hub.settings import get_settings
from search import IndexedItem
from search.extraction import extract_text
from search.index import SearchIndex


@lru_cache
def search_index() -> SearchIndex:
    return SearchIndex.open(get_settings().index_dir)


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
    group_id = post.group_id
    yield IndexedItem(
        kind="post", id=post.id, post_id=post.id, group_id=group_id, title=post.title,
        body=post.body_text, author_name=post.author.name, author_email=post.author.email,
        created_at=post.created_at,
    )
    for comment in post.comments:
        yield IndexedItem(
            kind="comment", id=comment.id, post_id=post.id, group_id=group_id,
            title=f"Re: {post.title}", body=comment.body_text, author_name=comment.author.name,
            author_email=comment.author.email, created_at=comment.created_at,
        )
    for attachment in post.attachments:
        text = document_text(attachment)
        if text.strip() or not attachment.content_type.startswith("image/"):
            owner = attachment.comment.author if attachment.comment else post.author
            yield IndexedItem(
                kind="document", id=attachment.id, post_id=post.id, group_id=group_id,
                title=attachment.filename, body=text, author_name=owner.name,
                author_email=owner.email, created_at=attachment.created_at,
            )


def index_post(session: Session, post_id: int) -> None:
    """Bring the index in line with post `post_id`, whatever happened to it."""
    index = search_index()
    post = session.get(Post, post_id)
    index.delete_post(post_id)
    if post is not None:
        index.upsert(items_for_post(post))


def reindex(session: Session, progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index from the database; returns the number of items indexed."""

    def all_items() -> Iterator[IndexedItem]:
        for post in session.scalars(select(Post).order_by(Post.id)).yield_per(200):
            yield from items_for_post(post)

    return search_index().rebuild(all_items(), progress=progress)

"""Tags: `#tag` written in a post's title or body, a mail's subject, or a comment.

A tag is a word of letters, digits, `-` and `_` with at least one letter, compared in lower
case (`#Storing` and `#storing` are one tag). `#12` ("ticket #12") is a number, not a tag, and
the `#` inside a link (`page#part`) or an HTML entity (`&#39;`) is not one either.

This module is the one definition of a tag: the search index takes its tags from here
(`hub.services.index_writer`), so that `tag:` finds what a tag page (`tagged`) lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hub.models import Comment, Post, Tagging, User
from hub.services.errors import Invalid
from hub.services.visibility import visible_group_ids

MAX_TAG_LENGTH = 64
TAG_PAGE_SIZE = 20
_TAG = re.compile(r"(?<![\w&/#])#(\w[\w-]*)")
_VALID = re.compile(r"^[\w-]+$")


def normalize_tag(text: str) -> str:
    """`text` (with or without its `#`) as the tag it names; Invalid when it names none."""
    tag = text.strip().removeprefix("#").rstrip("-_").casefold()
    if not tag or len(tag) > MAX_TAG_LENGTH or not _VALID.match(tag) or not any(c.isalpha() for c in tag):
        raise Invalid("%(tag)s is not a tag: letters, digits, '-' and '_', with at least one letter", tag=repr(text))
    return tag


def find_tags(text: str) -> list[str]:
    """The tags in `text`, each once, in the order written."""
    found: list[str] = []
    for match in _TAG.finditer(text):
        try:
            tag = normalize_tag(match.group(1))
        except Invalid:
            continue
        if tag not in found:
            found.append(tag)
    return found


def post_tags(title: str, body: str) -> list[str]:
    """The tags of a post: those of its title and its body."""
    return find_tags(f"{title}\n{body}")


def tag_spans(text: str) -> list[tuple[int, int, str]]:
    """Where each tag stands in `text` (start and end of `#tag`) and the tag it names."""
    spans = []
    for match in _TAG.finditer(text):
        try:
            spans.append((match.start(), match.end(), normalize_tag(match.group(1))))
        except Invalid:
            continue
    return spans


def tag_post(session: Session, post: Post) -> None:
    """Record the tags of `post`'s title and body, replacing those recorded before (after an edit)."""
    session.execute(delete(Tagging).where(Tagging.post_id == post.id, Tagging.comment_id.is_(None)))
    for tag in post_tags(post.title, post.body_text):
        session.add(Tagging(tag=tag, post_id=post.id, created_at=post.created_at))


def tag_comment(session: Session, comment: Comment) -> None:
    session.execute(delete(Tagging).where(Tagging.comment_id == comment.id))
    if comment.removed_at is None:
        for tag in find_tags(comment.body_text):
            session.add(Tagging(tag=tag, post_id=comment.post_id, comment_id=comment.id, created_at=comment.created_at))


def of_post(session: Session, post: Post) -> list[str]:
    """The tags of `post`'s own title and body, in the order written."""
    return list(
        session.scalars(
            select(Tagging.tag).where(Tagging.post_id == post.id, Tagging.comment_id.is_(None)).order_by(Tagging.id)
        )
    )


@dataclass(frozen=True)
class Tagged:
    """A tagged post (`comment` None) or comment."""

    post: Post
    comment: Comment | None

    @property
    def item(self) -> Post | Comment:
        return self.comment or self.post


@dataclass(frozen=True)
class TaggedPage:
    tag: str
    items: list[Tagged]
    total: int
    page: int
    pages: int


def tagged(session: Session, viewer: User, tag: str, page: int = 1, page_size: int = TAG_PAGE_SIZE) -> TaggedPage:
    """One page of the posts and comments tagged `tag` that `viewer` may see, newest first.

    A tag used only where the viewer cannot look is, to them, a tag nobody used: the same empty page.
    """
    tag = normalize_tag(tag)
    seen = (
        select(Tagging)
        .join(Post, Post.id == Tagging.post_id)
        .where(Tagging.tag == tag, Post.group_id.in_(visible_group_ids(viewer)))
    )
    total = session.scalar(seen.with_only_columns(func.count(Tagging.id))) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    rows = session.scalars(
        seen.order_by(Tagging.created_at.desc(), Tagging.id.desc()).limit(page_size).offset((page - 1) * page_size)
    ).all()
    items = [Tagged(session.get(Post, row.post_id), row.comment_id and session.get(Comment, row.comment_id)) for row in rows]
    return TaggedPage(tag, items, total, page, pages)

"""Tags: `#tag` written in a post's title or body, a mail's subject, or a comment.

A tag is a word of letters, digits, `-` and `_` with at least one letter, compared in lower
case (`#Storing` and `#storing` are one tag). `#12` ("ticket #12") is a number, not a tag, and
the `#` inside a link (`page#part`) or an HTML entity (`&#39;`) is not one either.
"""

from __future__ import annotations

import re

from sqlalchemy import delete
from sqlalchemy.orm import Session

from hub.models import Comment, Post, Tagging
from hub.services.errors import Invalid

MAX_TAG_LENGTH = 64
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
    for tag in find_tags(f"{post.title}\n{post.body_text}"):
        session.add(Tagging(tag=tag, post_id=post.id, created_at=post.created_at))


def tag_comment(session: Session, comment: Comment) -> None:
    session.execute(delete(Tagging).where(Tagging.comment_id == comment.id))
    if comment.removed_at is None:
        for tag in find_tags(comment.body_text):
            session.add(Tagging(tag=tag, post_id=comment.post_id, comment_id=comment.id, created_at=comment.created_at))

"""The JSON shapes of the API, built from models by the `from_*` functions."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from hub.models import Attachment, Comment, Group, Membership, Post, User
from hub.services.searching import Found
from hub.settings import get_settings
from hub.urls import absolute, attachment_path, group_path, post_path


class Person(BaseModel):
    name: str
    email: str

    @classmethod
    def of(cls, user: User) -> Person:
        return cls(name=user.name, email=user.email)


class GroupOut(BaseModel):
    slug: str
    name: str
    description: str
    private: bool
    address: str
    url: str
    delivery: str | None
    """How the caller gets this group's mail, or None when they are not a member."""

    @classmethod
    def of(cls, group: Group, membership: Membership | None) -> GroupOut:
        return cls(
            slug=group.slug, name=group.name, description=group.description,
            private=group.is_private, address=f"{group.slug}@{get_settings().mail_domain}",
            url=absolute(group_path(group.slug)),
            delivery=membership.delivery.value if membership else None,
        )


class PostSummary(BaseModel):
    id: int
    title: str
    author: Person
    created_at: datetime
    comment_count: int
    url: str


class PostList(BaseModel):
    group: str
    page: int
    pages: int
    posts: list[PostSummary]


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    url: str

    @classmethod
    def of(cls, attachment: Attachment) -> AttachmentOut:
        return cls(
            id=attachment.id, filename=attachment.filename, content_type=attachment.content_type,
            size=attachment.size, url=absolute(attachment_path(attachment.id, attachment.filename)),
        )


class CommentOut(BaseModel):
    id: int
    parent_id: int | None
    author: Person
    body_text: str
    created_at: datetime

    @classmethod
    def of(cls, comment: Comment) -> CommentOut:
        return cls(
            id=comment.id, parent_id=comment.parent_id, author=Person.of(comment.author),
            body_text=comment.body_text, created_at=comment.created_at,
        )


class PostOut(BaseModel):
    id: int
    title: str
    body_text: str
    body_html: str | None
    author: Person
    group: str
    created_at: datetime
    url: str
    attachments: list[AttachmentOut]
    comments: list[CommentOut]

    @classmethod
    def of(cls, post: Post) -> PostOut:
        return cls(
            id=post.id, title=post.title, body_text=post.body_text, body_html=post.body_html,
            author=Person.of(post.author), group=post.group.slug, created_at=post.created_at,
            url=absolute(post_path(post.id)),
            attachments=[AttachmentOut.of(a) for a in post.attachments],
            comments=[CommentOut.of(c) for c in post.comments],
        )


class SearchResultOut(BaseModel):
    kind: str
    id: int
    post_id: int
    title: str
    snippet: str
    url: str

    @classmethod
    def of(cls, found: Found) -> SearchResultOut:
        hit = found.hit
        return cls(
            kind=hit.kind, id=hit.id, post_id=hit.post_id, title=hit.title,
            snippet=hit.snippet, url=absolute(found.url),
        )


class SearchOut(BaseModel):
    total: int
    page: int
    pages: int
    results: list[SearchResultOut]

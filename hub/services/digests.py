"""Digests: one mail per user and frequency with what is new in their groups on that frequency.

A watermark per user and frequency holds the newest post and comment ids a digest covered.
Each run takes what lies above it, sends it, and moves it up in the same transaction, so no
item comes twice; a run with nothing new sends nothing. The outbox key includes the old
watermark, so a task retried after a crash cannot queue the same digest twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import Comment, Delivery, DigestWatermark, Group, Membership, OutgoingMail, Post, User
from hub.services.outbox import compose, queue_mail
from hub.settings import get_settings
from hub.templating import render_mail
from hub.urls import absolute, comment_path, post_path

FREQUENCIES = (Delivery.DAILY, Delivery.WEEKLY)
SNIPPET_LENGTH = 200


@dataclass
class DigestItem:
    title: str
    author: str
    snippet: str
    url: str
    kind: str


@dataclass
class DigestSection:
    group: Group
    posts: list[DigestItem] = field(default_factory=list)
    comments: list[DigestItem] = field(default_factory=list)


def snippet(text: str, length: int = SNIPPET_LENGTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rsplit(" ", 1)[0] + "…"


def send_digests(session: Session, frequency: Delivery | str) -> list[int]:
    """Queue a digest for every user with a group on `frequency`; returns the outbox ids."""
    frequency = Delivery(frequency)
    if frequency not in FREQUENCIES:
        raise ValueError(f"digests are daily or weekly, not {frequency}")
    user_ids = session.scalars(
        select(Membership.user_id).where(Membership.delivery == frequency).distinct()
    ).all()
    queued = (send_digest(session, session.get(User, user_id), frequency) for user_id in user_ids)
    return [outgoing.id for outgoing in queued if outgoing is not None]


def send_digest(session: Session, user: User, frequency: Delivery) -> OutgoingMail | None:
    watermark = _watermark(session, user, frequency)
    newest_post = session.scalar(select(func.max(Post.id))) or 0
    newest_comment = session.scalar(select(func.max(Comment.id))) or 0
    sections = _sections(session, user, frequency, watermark, newest_post, newest_comment)
    key = f"digest:{user.id}:{frequency}:{watermark.last_post_id}:{watermark.last_comment_id}"
    watermark.last_post_id, watermark.last_comment_id = newest_post, newest_comment
    if not sections:
        return None
    post_count = sum(len(s.posts) for s in sections)
    comment_count = sum(len(s.comments) for s in sections)
    subject = _subject(post_count, comment_count, [s.group.name for s in sections])
    text, html = render_mail(
        "digest", recipient=user, sections=sections, frequency=frequency.value,
        subject=subject, hub_url=absolute("/"),
    )
    settings = get_settings()
    message = compose(
        subject=subject,
        sender=("Plein", f"digest@{settings.mail_domain}"),
        recipient=(user.name, user.email),
        text=text, html=html,
        headers={"Auto-Submitted": "auto-generated", "Precedence": "bulk"},
    )
    return queue_mail(session, key, message)


def _watermark(session: Session, user: User, frequency: Delivery) -> DigestWatermark:
    watermark = session.scalar(
        select(DigestWatermark).where(
            DigestWatermark.user_id == user.id, DigestWatermark.frequency == frequency.value
        )
    )
    if watermark is None:
        watermark = DigestWatermark(user_id=user.id, frequency=frequency.value, last_post_id=0, last_comment_id=0)
        session.add(watermark)
    return watermark


def _sections(
    session: Session,
    user: User,
    frequency: Delivery,
    watermark: DigestWatermark,
    newest_post: int,
    newest_comment: int,
) -> list[DigestSection]:
    memberships = session.scalars(
        select(Membership).where(Membership.user_id == user.id, Membership.delivery == frequency)
    ).all()
    sections = []
    for membership in sorted(memberships, key=lambda m: m.group.name):
        section = DigestSection(membership.group)
        posts = session.scalars(
            select(Post).where(
                Post.group_id == membership.group_id,
                Post.id > watermark.last_post_id,
                Post.id <= newest_post,
                Post.author_id != user.id,
                Post.created_at >= membership.created_at,
            ).order_by(Post.id)
        )
        for post in posts:
            section.posts.append(
                DigestItem(post.title, post.author.name, snippet(post.body_text), absolute(post_path(post.id)), "post")
            )
        comments = session.scalars(
            select(Comment).join(Post).where(
                Post.group_id == membership.group_id,
                Comment.id > watermark.last_comment_id,
                Comment.id <= newest_comment,
                Comment.author_id != user.id,
                Comment.created_at >= membership.created_at,
            ).order_by(Comment.id)
        )
        for comment in comments:
            section.comments.append(
                DigestItem(
                    f"Re: {comment.post.title}", comment.author.name, snippet(comment.body_text),
                    absolute(comment_path(comment.post_id, comment.id)), "comment",
                )
            )
        if section.posts or section.comments:
            sections.append(section)
    return sections


def _subject(post_count: int, comment_count: int, group_names: list[str]) -> str:
    parts = []
    if post_count:
        parts.append(f"{post_count} new post{'s' if post_count != 1 else ''}")
    if comment_count:
        parts.append(f"{comment_count} new comment{'s' if comment_count != 1 else ''}")
    where = ", ".join(group_names[:3]) + (f" and {len(group_names) - 3} more" if len(group_names) > 3 else "")
    return f"Plein: {' and '.join(parts)} in {where}"

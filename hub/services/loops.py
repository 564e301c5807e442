"""How many comments by mail a thread takes in an hour: the brake on mail loops.

Headers catch most machines (`Auto-Submitted`, `Precedence`, Plein's own `List-Id` and
`X-Loop`, out-of-office subjects), but an autoresponder that sends none of them and ignores
Plein's `Precedence: list` answers every comment mail with a comment, and two of them in one
thread answer each other for ever. People do not write that fast: past a limit per sender
and one per thread, comments by mail are refused. The counts come from the comments on
record, so they hold across workers and restarts (two workers deciding at the same instant
may each take one more). Comments written on the web are not counted and never refused here.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models import Comment, Post, User, utcnow

WINDOW = timedelta(hours=1)


def mail_comment_refusal(session: Session, sender: User, post: Post) -> str:
    """Why a comment by mail from `sender` on `post` is over this hour's limits, or ""."""
    settings = context_of(session).settings
    by_mail = select(func.count(Comment.id)).where(
        Comment.post_id == post.id, Comment.inbound_id.is_not(None), Comment.created_at >= utcnow() - WINDOW,
    )
    per_sender = settings.max_mail_comments_per_sender_per_thread_per_hour
    if per_sender and session.scalar(by_mail.where(Comment.author_id == sender.id)) >= per_sender:
        return (
            f"{sender.email} already wrote {per_sender} comments by mail on post {post.id} within the hour,"
            " the most taken from one sender (a mail loop?)"
        )
    per_thread = settings.max_mail_comments_per_thread_per_hour
    if per_thread and session.scalar(by_mail) >= per_thread:
        return f"post {post.id} already had {per_thread} comments by mail within the hour, the most taken (a mail loop?)"
    return ""

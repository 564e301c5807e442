"""Receipts to senders: what Plein made of a mail, and a short while to change or undo it.

After a post or comment arrives by mail (SMTP, IMAP, or approved from a moderation queue: all
go through `hub.services.inbound`), its sender gets one short mail with the text exactly as
posted, after reply trimming. It is how people learn to trust the trimming, and how they fix
it when it cut too much or too little.

The receipt's edit and undo links work without signing in (the sender may never open the hub
otherwise). Their token is signed for the kind (a post's token never opens a comment with the
same id) and names the item, its author and the moment the links stop working, 15 minutes
after posting. Together with the item's own creation time that binds the token to exactly one
post or comment, even where a database reuses a deleted row's id.

Receipts are transactional mail (`Auto-Submitted: auto-generated`, RFC 3834, and no list
headers), so a receipt that finds its way back to a group address is never posted. Each
person may switch them off on /preferences, in the API, or with the signed link in every
receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models import Comment, Post, User, utcnow
from hub.services import accounts, anonymity, mail_keys, posts, signing, subscriptions
from hub.services.errors import Forbidden, NotFound
from hub.services.formatted_mail import mail_body
from hub.services.outbox import compose_answer, queue_mail
from hub.templating import format_clock
from hub.urls import comment_path, post_path, receipt_edit_path, receipt_undo_path, receipts_off_path

EDIT_WINDOW = timedelta(minutes=15)
KINDS = ("post", "comment")
_RECEIPTS_OFF = "receipts-off"


def _closes_at(item: Post | Comment) -> int:
    """When the receipt's links stop working, in whole seconds since the epoch."""
    return int((item.created_at + EDIT_WINDOW).timestamp())


def edit_token(kind: str, item: Post | Comment, author: User | None = None) -> str:
    """Names the item and its author (given for an anonymous item, which names none): only ever in the author's
    own receipt, so it tells no one else."""
    author_id = author.id if author is not None else item.author_id
    return signing.sign(item, f"receipt-{kind}", item.id, author_id, _closes_at(item))


def stop_token(user: User) -> str:
    return signing.sign(user, _RECEIPTS_OFF, user.id)


def _load(session: Session, kind: str, item_id: int) -> Post | Comment | None:
    """The item, or None when it is gone: a comment its author removed is only a mark in its thread."""
    item = session.get(Post if kind == "post" else Comment, item_id) if kind in KINDS else None
    return None if isinstance(item, Comment) and item.removed_at is not None else item


def send_receipt(session: Session, kind: str, item_id: int, author: User | None = None) -> bool:
    """Queue the receipt of post or comment `item_id` to its author; whether one was queued now.

    Publishing calls this in the transaction that posts the mail, while it still knows (as `author`) who wrote
    an anonymous item. Nothing when the item is gone, when its author switched receipts off, or when this
    receipt was queued before (its key is `hub.services.mail_keys.receipt`).
    """
    item = _load(session, kind, item_id)
    author = author or (item.author if item is not None else None)
    if item is None or author is None or not author.receipts or not anonymity.wrote(item, author.id):
        return False
    post = item if isinstance(item, Post) else item.post
    token = edit_token(kind, item, author)
    closes = datetime.fromtimestamp(_closes_at(item), UTC)
    attached = item.attachments if kind == "comment" else [a for a in post.attachments if a.comment_id is None]
    catalogue, url = context_of(session).catalogue, context_of(session).url
    text, html = catalogue.render_mail(
        "receipt", language=author.language, kind=kind, post=post, body=item.body_text, recipient=author,
        body_html=mail_body(session, item),
        attachments=[a.filename for a in attached],
        view_url=context_of(session).mail_url(post_path(post.id) if kind == "post" else comment_path(post.id, item.id)),
        edit_url=url(receipt_edit_path(kind, token)), undo_url=url(receipt_undo_path(kind, token)),
        stop_url=url(receipts_off_path(stop_token(author))), preferences_url=url("/preferences"),
        minutes=int(EDIT_WINDOW.total_seconds() // 60), until=format_clock(closes, catalogue.known(author.language), author.timezone),
    )
    title = post.title if kind == "post" else f"Re: {post.title}"
    message = compose_answer(
        session, subject=catalogue.translator(author.language).gettext("Posted to %(group)s: %(title)s") % {
            "group": post.group.name, "title": title,
        },
        recipient=(author.name, author.email), text=text, html=html,
        answers=item.message_id, auto_submitted="auto-generated",
    )
    return queue_mail(session, mail_keys.receipt(kind, item), message) is not None


@dataclass(frozen=True)
class ByLink:
    """A post or comment as its receipt's link names it, with when that link stops working."""

    kind: str
    post: Post
    comment: Comment | None
    closes_at: datetime
    author: User

    @property
    def expired(self) -> bool:
        return utcnow() >= self.closes_at

    @property
    def view_path(self) -> str:
        return comment_path(self.post.id, self.comment.id) if self.comment else post_path(self.post.id)


def by_link(session: Session, kind: str, token: str) -> ByLink:
    """What a receipt's link names; NotFound when the token is not ours or the item is gone."""
    parts = signing.verify(session, f"receipt-{kind}", token) if kind in KINDS else None
    if not parts or len(parts) != 3:
        raise NotFound("This link is not valid. Use the link in your receipt as it came.")
    item_id, author_id, closes = parts
    item = _load(session, kind, item_id)
    author = session.get(User, author_id)
    if item is None or author is None or not anonymity.wrote(item, author_id) or _closes_at(item) != closes:
        if kind == "post":
            raise NotFound("This post is no longer there: it was undone or deleted.")
        raise NotFound("This comment is no longer there: it was undone or deleted.")
    post = item if isinstance(item, Post) else item.post
    comment = item if isinstance(item, Comment) else None
    return ByLink(kind, post, comment, datetime.fromtimestamp(closes, UTC), author)


def _open(session: Session, kind: str, token: str) -> ByLink:
    found = by_link(session, kind, token)
    if found.expired:
        minutes = int(EDIT_WINDOW.total_seconds() // 60)
        raise Forbidden(
            "This link has expired: a receipt's links work for %(minutes)s minutes after posting.", minutes=minutes
        )
    if not accounts.is_active(found.author):
        raise Forbidden("This link no longer works: its author has left.")
    return found


def edit_by_link(session: Session, kind: str, token: str, body: str, title: str = "") -> ByLink:
    """Change the post (title and text) or comment (text) a receipt's link names, while it works."""
    found = _open(session, kind, token)
    if found.comment is not None:
        posts.edit_comment(session, found.comment, found.author, body)
    else:
        posts.edit_post(session, found.post, found.author, title, body)
    return found


def undo_by_link(session: Session, kind: str, token: str) -> ByLink:
    """Delete the post or comment a receipt's link names, while it works."""
    found = _open(session, kind, token)
    if found.comment is not None:
        posts.delete_comment(session, found.comment, found.author)
    else:
        posts.delete_post(session, found.post, found.author)
    return found


def user_for_stop_token(session: Session, token: str) -> User:
    return subscriptions.user_for_link(session, _RECEIPTS_OFF, token)


def stop_receipts(session: Session, token: str) -> User:
    user = user_for_stop_token(session, token)
    user.receipts = False
    session.flush()
    return user

"""Mail to members whose delivery is `each`: one message per new post and per new comment.

A comment is also mailed to the people following its thread (the post's author and everyone
who commented before), whatever their delivery, unless they switched reply notifications off
or may no longer see the group. Who muted a thread or its group (`hub.services.follows`) gets
none of its mail, as a member on `each` nor as a follower. One key per comment and person (`mail_keys.comment_mail`) means a
person who is both a member on `each` and a follower gets the comment once.

Each mail carries a stable Message-ID (`hub.services.message_ids`) and the
In-Reply-To/References that make mail clients thread it, list headers (RFC 2369, RFC 2919,
RFC 8058), and a signed Reply-To that brings an answer back as a comment on the right post.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import jobs
from hub.context import context_of
from hub.models import Comment, Delivery, Group, Membership, Post, User
from hub.services import addresses, anonymity, follows, mail_keys
from hub.services.formatted_mail import mail_body
from hub.services.message_ids import message_id
from hub.services.outbox import Composed, compose, queue_mail
from hub.services.subscriptions import replies_token, unsubscribe_token
from hub.services.visibility import can_see
from hub.urls import attachment_path, comment_path, group_path, post_path, replies_off_path, unsubscribe_path
from mailgateway.addresses import ANONYMOUS

NOTIFY_POST = "plein.delivery.notify_post"
NOTIFY_COMMENT = "plein.delivery.notify_comment"
FEW_READERS = 25
"""Mail in that goes out to at most this many readers is queued in the transaction that posts
it (`notify_if_few`): a job of its own cost the workers more than the mail. A larger fan-out
stays a job, so the next mail in is not kept waiting behind it."""


class HasId(Protocol):
    """A post, or a view of one such as a digest's: a reply address needs only its id."""

    @property
    def id(self) -> int: ...


def group_address(group: Group) -> str:
    return addresses.address(group, "group", group.slug)


def reply_address(post: HasId, comment: Comment | None, user: User) -> str:
    return addresses.signed_address(user, "reply", post.id, comment.id if comment else 0, user.id)


def group_list_headers(group: Group) -> dict[str, str]:
    return {
        "List-Id": f"{group.name} <{group.slug}.{context_of(group).settings.mail_domain}>",
        "List-Post": f"<mailto:{group_address(group)}>",
        "List-Archive": f"<{context_of(group).url(group_path(group.slug))}>",
    }


def list_headers(membership: Membership) -> dict[str, str]:
    token, url = unsubscribe_token(membership), context_of(membership).url
    return {
        **group_list_headers(membership.group),
        "List-Unsubscribe": f"<{url(unsubscribe_path(token))}>, <mailto:{addresses.address(membership, 'unsubscribe', token)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Precedence": "list",
    }


def _members_for_each(session: Session, post: Post, author: User | None) -> list[Membership]:
    """Members on `each` but the author, minus who muted the group or the thread. The author of an anonymous
    item is not known here, and gets it as every other member does."""
    query = select(Membership).where(
        Membership.group_id == post.group_id,
        Membership.delivery == Delivery.EACH,
        ~follows.mutes_thread(Membership.user_id, post),
    )
    if author is not None:
        query = query.where(Membership.user_id != author.id)
    return list(session.scalars(query))


def _sender(author: User | None, group: Group, reader: User) -> tuple[str, str]:
    """The From of a group's mail: its author's name (or "Anonymous") via the group, at the group's address.
    Never the author's own address, nor anything of the mail they sent."""
    name = author.name if author is not None else context_of(group).catalogue.translator(reader.language).gettext("Anonymous")
    return f"{name} via {group.name}", group_address(group)


def notify_if_few(session: Session, post: Post, comment: Comment | None = None) -> None:
    """Queue the mail of a new post (or of its new comment) now when it goes to `FEW_READERS` or
    fewer, instead of in the job `hub.services.posts` asked for; leave that job otherwise."""
    if comment is None:
        if notify_post(session, post.id, at_most=FEW_READERS) is not None:
            jobs.cancel(session, NOTIFY_POST, post.id)
    elif notify_comment(session, comment.id, at_most=FEW_READERS) is not None:
        jobs.cancel(session, NOTIFY_COMMENT, comment.id)


def notify_post(session: Session, post_id: int, *, at_most: int | None = None) -> int | None:
    """Queue the mail of a new post to every `each` member but its author; returns how many.

    With `at_most`, nothing is queued (and None returned) when more people would get it.
    """
    post = session.get(Post, post_id)
    if post is None:
        return 0
    members = _members_for_each(session, post, post.author)
    if at_most is not None and len(members) > at_most:
        return None
    queued, render_mail, url = 0, context_of(session).catalogue.render_mail, context_of(session).url
    body = mail_body(session, post) if members else None
    for membership in members:
        user = membership.user
        text, html = render_mail(
            "post", post=post, body=body, recipient=user, language=user.language,
            url=context_of(session).mail_url(post_path(post.id)),
            attachments=[(a.filename, a.size, url(attachment_path(a.id, a.filename))) for a in post.attachments],
            unsubscribe_url=url(unsubscribe_path(unsubscribe_token(membership))),
        )
        message = compose(
            subject=f"[{post.group.name}] {post.headline}",
            sender=_sender(post.author, post.group, user),
            recipient=(user.name, user.email),
            text=text, html=html,
            message_id=message_id(session, "post", post.id),
            headers={"Reply-To": reply_address(post, None, user), **list_headers(membership)},
        )
        queued += queue_mail(session, mail_keys.post_mail(post, user), message) is not None
    return queued


def notify_comment(session: Session, comment_id: int, *, at_most: int | None = None) -> int | None:
    """Queue the mail of a new comment, threaded under what it answers; `at_most` as for posts."""
    comment = session.get(Comment, comment_id)
    if comment is None or comment.removed_at is not None:
        return 0
    post = comment.post
    members = _members_for_each(session, post, comment.author)
    followers = _followers(session, comment)
    if at_most is not None and len(members) + len(followers) > at_most:
        return None
    queued, render_mail, url = 0, context_of(session).catalogue.render_mail, context_of(session).url
    body = mail_body(session, comment) if members or followers else None
    for membership in members:
        user = membership.user
        text, html = render_mail(
            "comment", post=post, comment=comment, body=body, recipient=user, language=user.language,
            url=context_of(session).mail_url(comment_path(post.id, comment.id)),
            unsubscribe_url=url(unsubscribe_path(unsubscribe_token(membership))),
        )
        message = _comment_mail(session, comment, user, text, html, list_headers(membership))
        queued += queue_mail(session, mail_keys.comment_mail(comment, user), message) is not None
    for user in followers:
        stop_url = url(replies_off_path(replies_token(user)))
        own_post = anonymity.wrote(post, user.id)
        # The anonymous author's own copy answers to the group's anonymous address, so that replying keeps them so.
        anonymous_reply = own_post and post.anonymous and anonymity.allows(post.group)
        text, html = render_mail(
            "reply", post=post, comment=comment, body=body, recipient=user, language=user.language,
            url=context_of(session).mail_url(comment_path(post.id, comment.id)), stop_url=stop_url,
            preferences_url=url("/preferences"), own_post=own_post, anonymous_reply=anonymous_reply,
        )
        stop_mailto = f"mailto:{addresses.address(session, 'replies-off', replies_token(user))}"
        headers = {
            **group_list_headers(post.group),
            "List-Unsubscribe": f"<{stop_url}>, <{stop_mailto}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        if anonymous_reply:
            headers["Reply-To"] = addresses.address(session, ANONYMOUS, post.group.slug)
        message = _comment_mail(session, comment, user, text, html, headers)
        queued += queue_mail(session, mail_keys.comment_mail(comment, user), message) is not None
    return queued


def _comment_mail(
    session: Session, comment: Comment, user: User, text: str, html: str, list_headers: dict[str, str]
) -> Composed:
    """A comment's mail to one reader, threaded under what the comment answers."""
    post = comment.post
    started = message_id(session, "post", post.id)
    answered = message_id(session, "comment", comment.parent_id) if comment.parent_id else started
    return compose(
        subject=f"Re: [{post.group.name}] {post.headline}",
        sender=_sender(comment.author, post.group, user),
        recipient=(user.name, user.email),
        text=text, html=html,
        message_id=message_id(session, "comment", comment.id),
        headers={
            "In-Reply-To": answered,
            "References": " ".join(dict.fromkeys([started, answered])),
            "Reply-To": reply_address(post, comment, user),
            **list_headers,
        },
    )


def _followers(session: Session, comment: Comment) -> list[User]:
    """Who wrote the post or commented on it before, wants reply mail, muted neither thread nor group, and may
    still see it. The anonymous author of the post, or of the comment answered, is found by their mark
    (`anonymity.hidden_author`): they get the answers to their thread as anyone would."""
    post = comment.post
    earlier = select(Comment.author_id).where(
        Comment.post_id == post.id, Comment.id < comment.id, Comment.author_id.is_not(None)
    )
    hidden = {
        found.id for item in (post, comment.parent) if item is not None and item.anonymous
        if (found := anonymity.hidden_author(session, item)) is not None
    }
    query = select(User).where(
        (User.id == post.author_id) | User.id.in_(earlier) | User.id.in_(hidden),
        User.notify_replies.is_(True),
        ~follows.mutes_thread(User.id, post),
    ).order_by(User.id)
    people = session.scalars(query if comment.author_id is None else query.where(User.id != comment.author_id))
    return [
        user for user in people
        if can_see(session, user, post.group) and not (comment.anonymous and anonymity.wrote(comment, user.id))
    ]

"""A person's notifications: what the bell in the header counts and /notifications lists.

Four kinds of event make one: an answer to you (a comment on your post, or an answer to your
comment), a mention, a reaction to what you wrote, and a new post in a group, by a person or with
a tag you follow. Never for what the person did themselves, for what they muted (the group,
the thread or the person), or for an item they may not see: a mention of someone who cannot
see where it was written makes nothing at all.

Each person chooses per kind how they hear of it (`channels_of`): by mail at once, in one daily
mail at their digest hour, or on the web only. A mail at once is keyed as the group mail about
the same item (`hub.services.mail_keys`), so nobody gets two mails about one post or comment.
An answer's mail at once is the mail to the thread's followers (`hub.services.notifications`),
which goes to exactly these people: the reply channel "mail" is `User.notify_replies`.

A new post can have thousands of followers; that fan-out runs as a job (`NOTIFY_POST`), in sets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from gettext import NullTranslations

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.locale import N_
from hub.models import (
    Channel,
    Comment,
    Delivery,
    Follow,
    GroupKind,
    Membership,
    Notification,
    NotificationChannel,
    NotificationKind,
    Post,
    Tagging,
    User,
    utcnow,
)
from hub.services import addresses, mail_keys, mentions, notifications
from hub.services.digests import SNIPPET_LENGTH, period_of
from hub.services.errors import Invalid
from hub.services.formatted_mail import mail_body
from hub.services.message_ids import message_id
from hub.services.outbox import compose, queue_mail
from hub.services.rendering import snippet
from hub.services.visibility import can_see, visible_group_ids, visible_group_ids_of
from hub.urls import comment_path, post_path

NOTIFY_POST = "plein.inbox.notify_post"
DEFAULTS = {
    NotificationKind.MENTION: Channel.MAIL,
    NotificationKind.REPLY: Channel.MAIL,
    NotificationKind.REACTION: Channel.WEB,
    NotificationKind.POST: Channel.WEB,
    NotificationKind.STATUS: Channel.WEB,
}
PAGE_SIZE = 50
REACTION_NAMES = {
    "like": N_("like"),
    "thanks": N_("thanks"),
    "agree": N_("agree"),
    "insightful": N_("insightful"),
    "celebrate": N_("celebrate"),
}


def channels_of(session: Session, user: User) -> dict[str, str]:
    """The channel `user` chose for each kind, or its default."""
    chosen = dict(
        session.execute(
            select(NotificationChannel.kind, NotificationChannel.channel).where(NotificationChannel.user_id == user.id)
        )
        .tuples()
        .all()
    )
    channels = {kind.value: chosen.get(kind, default.value) for kind, default in DEFAULTS.items()}
    if user.notify_replies:
        channels[NotificationKind.REPLY] = Channel.MAIL.value
    elif channels[NotificationKind.REPLY] == Channel.MAIL:
        channels[NotificationKind.REPLY] = Channel.WEB.value  # reply mails switched off by the link in one
    return channels


def set_channels(session: Session, user: User, wanted: dict[str, str]) -> dict[str, str]:
    """Change the channel of the kinds in `wanted`; the others stay as they were."""
    for kind, channel in wanted.items():
        if kind not in DEFAULTS:
            raise Invalid("a notification kind is one of %(choices)s", choices=", ".join(DEFAULTS))
        if channel not in {c.value for c in Channel}:
            raise Invalid("a notification channel is one of %(choices)s", choices=", ".join(Channel))
    for kind, channel in wanted.items():
        row = session.get(NotificationChannel, (user.id, kind))
        if row is None:
            session.add(NotificationChannel(user_id=user.id, kind=kind, channel=channel))
        else:
            row.channel = channel
        if kind == NotificationKind.REPLY:
            user.notify_replies = channel == Channel.MAIL
    session.flush()
    return channels_of(session, user)


def _muted(session: Session, user_ids: Iterable[int], post: Post, actor: User | None) -> set[int]:
    """Who of `user_ids` muted the group, the thread or the person (none for an anonymous actor)."""
    muted = [Follow.group_id == post.group_id, Follow.post_id == post.id]
    if actor is not None:
        muted.append(Follow.person_id == actor.id)
    return set(
        session.scalars(
            select(Follow.user_id).where(Follow.user_id.in_(list(user_ids)), Follow.muted.is_(True), or_(*muted))
        )
    )


def _notify(
    session: Session,
    recipient: User,
    kind: NotificationKind,
    key: str,
    actor: User | None,
    post: Post,
    comment: Comment | None = None,
    reaction: str | None = None,
) -> Notification | None:
    """One notification, unless it is the person's own doing, muted, invisible to them or made before. An
    anonymous actor is None: it names no one, and its author may be told of their own item as anyone is."""
    if recipient is None or (actor is not None and recipient.id == actor.id) or not can_see(session, recipient, post.group):
        return None
    if _muted(session, [recipient.id], post, actor):
        return None
    if session.scalar(select(Notification.id).where(Notification.user_id == recipient.id, Notification.key == key)):
        return None
    channel = channels_of(session, recipient)[kind]
    notification = Notification(
        user_id=recipient.id,
        key=key,
        kind=kind,
        actor_id=actor.id if actor is not None else None,
        group_id=post.group_id,
        post_id=post.id,
        comment_id=comment.id if comment else None,
        reaction=reaction,
        channel=channel,
    )
    session.add(notification)
    session.flush()
    if channel == Channel.MAIL:
        if kind != NotificationKind.REPLY:  # the thread followers' mail is the one at once
            _mail_at_once(session, notification, recipient, actor, post, comment)
        notification.mailed_at = utcnow()
    return notification


def _item_key(post: Post, comment: Comment | None) -> str:
    return f"comment:{comment.id}" if comment else f"post:{post.id}"


def notify_mentions(session: Session, post: Post, comment: Comment | None = None) -> list[Notification]:
    """Notify whom a post (or a comment on it) mentions, each once whatever edits follow."""
    item = comment or post
    text = item.body_text if comment else f"{post.title}\n{post.body_text}"
    made = []
    for person in mentions.mentioned_people(session, text):
        key = f"mention:{_item_key(post, comment)}"
        made.append(_notify(session, person, NotificationKind.MENTION, key, item.author, post, comment))
    return [n for n in made if n is not None]


def notify_comment(session: Session, comment: Comment) -> None:
    """A new comment: the answer to the post's author and to the author of what it answers, and its mentions."""
    post = comment.post
    mentioned = {n.user_id for n in notify_mentions(session, post, comment)}
    answered = {post.author_id} | ({comment.parent.author_id} if comment.parent else set())
    answered.discard(None)  # an anonymous author hears of answers by mail only (`hub.services.notifications`)
    for person_id in sorted(answered - mentioned):
        person = session.get(User, person_id)
        key = f"reply:comment:{comment.id}"
        _notify(session, person, NotificationKind.REPLY, key, comment.author, post, comment)


def notify_reaction(session: Session, reactor: User, item: Post | Comment, reaction: str) -> None:
    """Tell the author of `item` of a reaction; never for an anonymous item, whose author no row may name."""
    if item.anonymous:
        return
    post = item.post if isinstance(item, Comment) else item
    comment = item if isinstance(item, Comment) else None
    key = f"reaction:{_item_key(post, comment)}:{reaction}:{reactor.id}"
    _notify(session, item.author, NotificationKind.REACTION, key, reactor, post, comment, reaction)


def withdraw_reaction(session: Session, reactor: User, item: Post | Comment, reaction: str) -> None:
    """A reaction taken back takes its notification along while it is unread."""
    post = item.post if isinstance(item, Comment) else item
    comment = item if isinstance(item, Comment) else None
    key = f"reaction:{_item_key(post, comment)}:{reaction}:{reactor.id}"
    session.execute(
        delete(Notification).where(
            Notification.user_id == item.author_id, Notification.key == key, Notification.read_at.is_(None)
        )
    )


def forget_comment(session: Session, comment: Comment) -> None:
    """A comment removed by its author takes along what it notified: its words and reactions are gone."""
    session.execute(delete(Notification).where(Notification.comment_id == comment.id))


def notify_post(session: Session, post_id: int) -> int:
    """A new post: its mentions, then everyone following its group, its author or one of its tags; how many
    notifications were made. Safe to run twice: who has one already is left out."""
    post = session.get(Post, post_id)
    if post is None:
        return 0
    mentioned = {n.user_id for n in notify_mentions(session, post)}
    key, kind = f"post:{post.id}", NotificationKind.POST if post.title else NotificationKind.STATUS
    tags = select(Tagging.tag).where(Tagging.post_id == post.id, Tagging.comment_id.is_(None))
    followers = select(Follow.user_id).where(
        Follow.following.is_(True),
        or_(Follow.group_id == post.group_id, Follow.person_id == post.author_id, Follow.tag.in_(tags)),
    )
    muted = select(Follow.user_id).where(
        Follow.muted.is_(True),
        or_(
            Follow.group_id == post.group_id,
            Follow.post_id == post.id,
            Follow.person_id == post.author_id,
            Follow.tag.in_(tags),
        ),
    )
    notified = select(Notification.user_id).where(Notification.key.in_([key, f"mention:{key}"]))
    query = select(User.id).where(User.id.in_(followers), User.id.not_in(muted), User.id.not_in(notified))
    if post.author_id is not None:
        query = query.where(User.id != post.author_id)
    if post.group.is_private:
        query = query.where(User.id.in_(select(Membership.user_id).where(Membership.group_id == post.group_id)))
    recipients = [user_id for user_id in session.scalars(query) if user_id not in mentioned]  # mentioned: told so
    if not recipients:
        return 0
    chosen = dict(
        session.execute(
            select(NotificationChannel.user_id, NotificationChannel.channel).where(
                NotificationChannel.kind == kind, NotificationChannel.user_id.in_(followers)
            )
        )
        .tuples()
        .all()
    )
    now, default = utcnow(), DEFAULTS[kind].value
    rows = [
        {
            "user_id": user_id,
            "key": key,
            "kind": kind.value,
            "actor_id": post.author_id,
            "group_id": post.group_id,
            "post_id": post.id,
            "channel": chosen.get(user_id, default),
            "created_at": now,
            "mailed_at": now if chosen.get(user_id, default) == Channel.MAIL else None,
        }
        for user_id in recipients
    ]
    for start in range(0, len(rows), 1000):
        session.execute(insert(Notification), rows[start : start + 1000])
    by_mail = [user_id for user_id in recipients if chosen.get(user_id) == Channel.MAIL]
    for notification in session.scalars(
        select(Notification).where(Notification.key == key, Notification.user_id.in_(by_mail))
    ):
        _mail_at_once(session, notification, session.get(User, notification.user_id), post.author, post, None)
    return len(rows)


def notify_edit(session: Session, item: Post | Comment) -> None:
    """An edit may mention someone new; who was mentioned before is not notified again."""
    if isinstance(item, Comment):
        notify_mentions(session, item.post, item)
    else:
        notify_mentions(session, item)


@dataclass(frozen=True)
class Entry:
    """One line of the list: a notification, or the reactions of several people to one item in one reaction."""

    ids: list[int]
    kind: str
    who: User | None
    """None for an anonymous post or comment."""
    others: int
    post: Post
    comment: Comment | None
    reaction: str | None
    created_at: datetime
    read: bool

    @property
    def link(self) -> str:
        return comment_path(self.post.id, self.comment.id) if self.comment else post_path(self.post.id)


@dataclass(frozen=True)
class Inbox:
    unread: int
    entries: list[Entry]
    next_cursor: str | None = None
    """Where the next, older page starts (`list_notifications`); None on the last page."""


def _visible(user: User):
    return (Notification.user_id == user.id) & Notification.group_id.in_(visible_group_ids(user))


def _unread_count():
    reader = bindparam("reader")
    unread = (
        (Notification.user_id == reader)
        & Notification.group_id.in_(visible_group_ids_of(reader))
        & Notification.read_at.is_(None)
    )
    single = select(func.count()).where(unread, Notification.kind != NotificationKind.REACTION)
    grouped = (
        select(Notification.post_id, Notification.comment_id, Notification.reaction)
        .where(unread, Notification.kind == NotificationKind.REACTION)
        .distinct()
        .subquery()
    )
    return select(single.scalar_subquery() + select(func.count()).select_from(grouped).scalar_subquery())


_UNREAD_COUNT = _unread_count()
"""Built once: every page's header asks it."""


def unread_count(session: Session, user: User) -> int:
    """Unread entries in groups `user` may see, reactions to one item in one reaction counted once; one query."""
    return session.scalar(_UNREAD_COUNT, {"reader": user.id})


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"(\d{1,19})-(\d{1,19})")


def _cursor_of(row: Notification) -> str:
    """The position just past `row`: its time in microseconds and its id, as `1765100000000000-42`."""
    return f"{(row.created_at - _EPOCH) // timedelta(microseconds=1)}-{row.id}"


def _position(cursor: str) -> tuple[datetime, int]:
    found = _CURSOR.fullmatch(cursor)
    try:
        if found is None:
            raise ValueError(cursor)
        return _EPOCH + timedelta(microseconds=int(found[1])), int(found[2])
    except (ValueError, OverflowError):
        raise Invalid("a cursor is the next_cursor of an earlier page, such as 1765100000000000-42") from None


def list_notifications(session: Session, user: User, limit: int | None = None, cursor: str | None = None) -> Inbox:
    """A page of `limit` (else `PAGE_SIZE`) entries `user` may still see, newest first, older than `cursor` (an
    earlier page's `next_cursor`) when given; the reactions to one item in one reaction are one entry.

    A page is an unbroken run of notifications in time, so none is skipped or shown twice from page to page;
    reactions to one item on both sides of a page's end are an entry on each page.
    """
    limit = limit or PAGE_SIZE
    query = select(Notification).where(_visible(user))
    if cursor is not None:
        at, last_id = _position(cursor)
        query = query.where(
            (Notification.created_at < at) | ((Notification.created_at == at) & (Notification.id < last_id))
        )
    window = limit * 5
    rows = session.scalars(
        query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(window + 1)
    ).all()
    grouped: dict[tuple | int, list[Notification]] = {}
    taken = 0
    for row in rows[:window]:
        key = (row.post_id, row.comment_id, row.reaction) if row.kind == NotificationKind.REACTION else row.id
        if key not in grouped and len(grouped) == limit:
            break
        grouped.setdefault(key, []).append(row)
        taken += 1
    people = {u.id: u for u in session.scalars(select(User).where(User.id.in_({r.actor_id for r in rows[:taken]})))}
    entries = []
    for group in grouped.values():
        newest = group[0]
        entries.append(
            Entry(
                ids=[n.id for n in group],
                kind=newest.kind,
                who=people.get(newest.actor_id),
                others=len(group) - 1,
                post=session.get(Post, newest.post_id),
                comment=session.get(Comment, newest.comment_id) if newest.comment_id else None,
                reaction=newest.reaction,
                created_at=newest.created_at,
                read=all(n.read_at is not None for n in group),
            )
        )
    next_cursor = _cursor_of(rows[taken - 1]) if taken < len(rows) else None
    return Inbox(unread_count(session, user), entries, next_cursor)


def mark_read(session: Session, user: User, ids: list[int] | None = None) -> int:
    """Mark `user`'s notifications read: all of them, or those of `ids` (others' ids are ignored); how many."""
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    return session.execute(query.values(read_at=utcnow())).rowcount


def mark_thread_read(session: Session, user: User, post: Post) -> int:
    """Reading a thread reads what `user` was notified of in it; how many; one UPDATE."""
    return session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.post_id == post.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    ).rowcount


def name_of(t: NullTranslations, who: User | None) -> str:
    """Who did something, in a sentence: their name, or "Anonymous"."""
    return who.name if who is not None else t.gettext("Anonymous")


def place(post: Post) -> str:
    """Where `post` was written, in a sentence: its group's name, or nothing for a person's own page."""
    return "" if post.group.kind == GroupKind.PERSONAL else post.group.name


def describe(t: NullTranslations, kind: str, who: str, title: str, *, reaction=None, group="", others=0) -> str:
    """One notification in words, in the language of `t`: "Sanne and 4 others liked “Lift stuck”"."""
    title = f"\u201c{title}\u201d"
    if kind == NotificationKind.MENTION:
        return t.gettext("%(who)s mentioned you in %(title)s") % {"who": who, "title": title}
    if kind == NotificationKind.REPLY:
        return t.gettext("%(who)s answered you in %(title)s") % {"who": who, "title": title}
    if kind == NotificationKind.POST and not group:
        return t.gettext("%(who)s posted %(title)s on their blog") % {"who": who, "title": title}
    if kind == NotificationKind.POST:
        return t.gettext("%(who)s posted %(title)s in %(group)s") % {"who": who, "title": title, "group": group}
    if kind == NotificationKind.STATUS and not group:
        return t.gettext("%(who)s shared an update: %(title)s") % {"who": who, "title": title}
    if kind == NotificationKind.STATUS:
        return t.gettext("%(who)s shared an update in %(group)s: %(title)s") % {"who": who, "title": title, "group": group}
    values = {"who": who, "title": title, "num": others, "reaction": t.gettext(REACTION_NAMES.get(reaction, ""))}
    if reaction == "like":
        if not others:
            return t.gettext("%(who)s liked what you wrote in %(title)s") % values
        return (
            t.ngettext(
                "%(who)s and %(num)d other liked what you wrote in %(title)s",
                "%(who)s and %(num)d others liked what you wrote in %(title)s",
                others,
            )
            % values
        )
    if not others:
        return t.gettext("%(who)s reacted with %(reaction)s to what you wrote in %(title)s") % values
    return (
        t.ngettext(
            "%(who)s and %(num)d other reacted with %(reaction)s to what you wrote in %(title)s",
            "%(who)s and %(num)d others reacted with %(reaction)s to what you wrote in %(title)s",
            others,
        )
        % values
    )


def _mail_at_once(
    session: Session, notification: Notification, recipient: User, actor: User | None, post: Post,
    comment: Comment | None,
) -> int | None:
    """The mail of one notification, with the group mail's headers and a reply address that comments."""
    context = context_of(session)
    t = context.catalogue.translator(recipient.language)
    url = context.mail_url(comment_path(post.id, comment.id) if comment else post_path(post.id))
    sentence = describe(
        t, notification.kind, name_of(t, actor), post.headline, reaction=notification.reaction, group=place(post)
    )
    text, html = context.catalogue.render_mail(
        "notification",
        language=recipient.language,
        sentence=sentence,
        recipient=recipient,
        body=None if notification.kind == NotificationKind.REACTION else (comment or post).body_text,
        body_html=None if notification.kind == NotificationKind.REACTION else mail_body(session, comment or post),
        url=url,
        preferences_url=context.url("/preferences"),
    )
    started = message_id(session, "post", post.id)
    answered = message_id(session, "comment", comment.id) if comment else started
    headers = {"Reply-To": notifications.reply_address(post, comment, recipient)}
    if notification.kind == NotificationKind.REACTION:
        own_id, headers["In-Reply-To"], headers["References"] = (
            None,
            answered,
            " ".join(dict.fromkeys([started, answered])),
        )
        key = mail_keys.reaction_mail(comment or post, recipient, notification.actor_id, notification.reaction)
    elif comment is not None:
        own_id = answered
        parent = message_id(session, "comment", comment.parent_id) if comment.parent_id else started
        headers["In-Reply-To"], headers["References"] = parent, " ".join(dict.fromkeys([started, parent]))
        key = mail_keys.comment_mail(comment, recipient)
    else:
        own_id, key = started, mail_keys.post_mail(post, recipient)
    message = compose(
        subject=f"[{post.group.name}] {sentence}" if comment is None else f"Re: [{post.group.name}] {post.headline}",
        sender=(f"{name_of(t, actor)} via {post.group.name}", notifications.group_address(post.group)),
        recipient=(recipient.name, recipient.email),
        text=text,
        html=html,
        message_id=own_id,
        headers={**headers, **notifications.group_list_headers(post.group)},
    )
    return queue_mail(session, key, message)


@dataclass
class DailyRun:
    last_user_id: int
    """Where the next chunk starts; equal to the start when no one was left."""
    queued: list[int]


def queue_daily_mails(session: Session, now: datetime, *, after_user_id: int = 0, limit: int = 500) -> DailyRun:
    """The daily mail of unmailed `daily` notifications for everyone whose digest hour has come, up to `limit`
    people with ids above `after_user_id`; the caller commits after each chunk, as for digests."""
    user_ids = session.scalars(
        select(Notification.user_id)
        .where(
            Notification.channel == Channel.DAILY,
            Notification.mailed_at.is_(None),
            Notification.user_id > after_user_id,
        )
        .distinct()
        .order_by(Notification.user_id)
        .limit(limit)
    ).all()
    queued = []
    for user in session.scalars(select(User).where(User.id.in_(user_ids)).order_by(User.id)):
        period = period_of(user, Delivery.DAILY, now)
        if period and (outgoing := _daily_mail(session, user, period)) is not None:
            queued.append(outgoing)
    return DailyRun(user_ids[-1] if user_ids else after_user_id, queued)


def _daily_mail(session: Session, user: User, period: str) -> int | None:
    waiting = session.scalars(
        select(Notification)
        .where(Notification.user_id == user.id, Notification.channel == Channel.DAILY, Notification.mailed_at.is_(None))
        .order_by(Notification.created_at, Notification.id)
    ).all()
    seen = set(session.scalars(visible_group_ids(user)))
    shown = [notification for notification in waiting if notification.group_id in seen]
    if not shown:
        return None
    context = context_of(session)
    t = context.catalogue.translator(user.language)
    lines = []
    for notification in shown:
        post, actor = session.get(Post, notification.post_id), session.get(User, notification.actor_id)
        path = comment_path(post.id, notification.comment_id) if notification.comment_id else post_path(post.id)
        sentence = describe(
            t, notification.kind, actor.name, post.headline, reaction=notification.reaction, group=place(post)
        )
        lines.append(
            {"sentence": sentence, "url": context.mail_url(path), "snippet": snippet(post.body_text, SNIPPET_LENGTH)}
        )
    text, html = context.catalogue.render_mail(
        "notifications_daily",
        language=user.language,
        recipient=user,
        lines=lines,
        url=context.url("/notifications"),
        preferences_url=context.url("/preferences"),
    )
    subject = t.ngettext("Plein: %(num)d notification for you", "Plein: %(num)d notifications for you", len(lines)) % {
        "num": len(lines)
    }
    message = compose(
        subject=subject,
        sender=("Plein", addresses.address(session, "digest")),
        recipient=(user.name, user.email),
        text=text,
        html=html,
    )
    outgoing = queue_mail(session, mail_keys.daily_notifications(user, period), message)
    if outgoing is not None:
        now = utcnow()
        for notification in waiting:
            notification.mailed_at = now
    return outgoing

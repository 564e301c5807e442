"""Digests: one mail per person and period covering all their groups on that frequency but those they muted.

A watermark per user and frequency holds the newest post and comment ids a digest covered.
A run takes what lies above it, up to the newest ids no open transaction can still add below
(`digest_horizon`), queues one mail, and moves the watermark in the same transaction, so no
item comes twice, none is skipped, and a run with nothing new sends nothing.

Scheduled digests go out at each person's own hour in their own time zone (weekly ones on
their weekday): beat runs `queue_due_digests` every hour, and a person is due once the hour
has come in the current period (a day, or an ISO week) and the watermark has not been moved
for that period yet. The outbox key and Message-ID name user, frequency and period, so a
worker killed mid-run, or a run repeated, neither loses nor repeats a digest: whatever did
not commit is due again at the next run. `send_digests` (`plein digest run`) sends to
everyone on a frequency right now, whatever the hour.

What an archive import brought in (`import_id`) is old mail, not news: no digest includes it.

What is new is loaded once per run (`Activity`), then sliced per person in memory: a run
over ten thousand people asks the database a handful of questions, not ten thousand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel.support import NullTranslations
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from hub.context import context_of
from hub.models import Comment, Delivery, DigestWatermark, Membership, Post, User, utcnow
from hub.services import addresses, digest_horizon, follows
from hub.services.message_ids import message_id
from hub.services.notifications import reply_address
from hub.services.outbox import compose, queue_mail
from hub.services.rendering import snippet
from hub.services.subscriptions import digest_unsubscribe_token
from hub.templating import Catalogue, format_moment
from hub.urls import comment_path, post_path, unsubscribe_path

T = TypeVar("T")
FREQUENCIES = (Delivery.DAILY, Delivery.WEEKLY)
SNIPPET_LENGTH = 160
"""About two lines of a phone screen in a mail's wider type."""


@dataclass
class DigestItem:
    post_id: int
    title: str
    group: str
    author: str
    time: str
    snippet: str
    new_comments: int
    latest_comment: str
    """The newest new comment, as `Name: snippet`; empty when there is none."""
    url: str
    reply_to: str
    """The item's own signed reply address: an answer sent there becomes a comment."""
    reply_mailto: str
    is_new: bool
    """A new post, rather than an older one with new comments."""
    text: str = ""
    html: Markup = Markup("")
    """The item as the digest shows it; rendered once per post and shared by every reader."""


@dataclass
class DigestSection:
    name: str
    """The group's name; empty for the section of threads the reader wrote or joined."""
    items: list[DigestItem] = field(default_factory=list)


@dataclass
class Digest:
    subject: str
    text: str
    html: str


class PostView(NamedTuple):
    """What a digest needs of a post, as plain values: read for every reader, so it must be cheap."""

    id: int
    author_id: int | None
    created_at: datetime
    title: str
    author: str | None
    """The author's name; None for an anonymous post, named "Anonymous" in the reader's language."""
    body_text: str


class Activity:
    """Posts and comments above a watermark, read once for every person in a run."""

    def __init__(self, session: Session, since_post: int, since_comment: int) -> None:
        self.newest_post, self.newest_comment = digest_horizon.settled_newest(session)
        self.since_post, self.since_comment = since_post, since_comment
        comments = session.execute(
            select(Comment.id, Comment.post_id, Comment.author_id, Comment.created_at, Comment.body_text).where(
                Comment.id > since_comment, Comment.id <= self.newest_comment, Comment.removed_at.is_(None),
                Comment.import_id.is_(None),
            ).order_by(Comment.id)
        ).all()
        self.comments_by_post: dict[int, list] = defaultdict(list)
        for row in comments:
            self.comments_by_post[row.post_id].append(row)
        posts: dict[int, Post] = {
            post.id: post
            for post in session.scalars(
                select(Post).options(joinedload(Post.author), joinedload(Post.group)).where(
                    (Post.id > since_post) & (Post.id <= self.newest_post) & Post.import_id.is_(None)
                    | Post.id.in_(list(self.comments_by_post))
                )
            ).unique()
        }
        self.posts_by_group: dict[int, list[PostView]] = defaultdict(list)
        for post in sorted(posts.values(), key=lambda p: p.id):
            self.posts_by_group[post.group_id].append(
                PostView(
                    post.id, post.author_id, post.created_at, post.title,
                    post.author.name if post.author is not None else None, post.body_text,
                )
            )
        self.participants: dict[int, set[int]] = defaultdict(set)
        for post in posts.values():
            self.participants[post.id].add(post.author_id)
        for post_id, author_id in session.execute(
            select(Comment.post_id, Comment.author_id).where(Comment.post_id.in_(list(self.comments_by_post))).distinct()
        ):
            self.participants[post_id].add(author_id)
        self.commenter_names = dict(
            session.execute(
                select(User.id, User.name).where(User.id.in_({row.author_id for row in comments}))
            ).all()
        )
        self._shared: dict[tuple, Any] = {}

    def shared(self, key: tuple, make: Callable[[], T]) -> T:
        """Text that is the same in every reader's digest (a snippet, a local time), made once."""
        if key not in self._shared:
            self._shared[key] = make()
        return self._shared[key]


def send_digests(session: Session, frequency: Delivery | str) -> list[int]:
    """Queue a digest, right now, for every user with a group on `frequency`; the outbox ids."""
    frequency = _frequency(frequency)
    user_ids = session.scalars(
        select(Membership.user_id).where(Membership.delivery == frequency).distinct().order_by(Membership.user_id)
    ).all()
    return _run(session, list(user_ids), frequency, period=None)


def period_of(user: User, frequency: Delivery, now: datetime) -> str | None:
    """The period whose digest is due for `user` at `now`, or None before their hour has come."""
    local = now.astimezone(ZoneInfo(user.timezone))
    if frequency == Delivery.DAILY:
        return local.date().isoformat() if local.hour >= user.digest_hour else None
    year, week, weekday = local.isocalendar()
    if (weekday - 1, local.hour) < (user.digest_weekday, user.digest_hour):
        return None
    return f"{year}-W{week:02d}"


@dataclass
class DueRun:
    last_user_id: int
    """Where the next chunk starts; equal to the start when no user was left."""
    queued: list[int]


def queue_due_digests(session: Session, now: datetime, *, after_user_id: int = 0, limit: int = 500) -> DueRun:
    """Queue the digests that are due at `now` for up to `limit` users with ids above `after_user_id`.

    The caller commits after each chunk and calls again from `last_user_id` until it stays put.
    """
    user_ids = session.scalars(
        select(Membership.user_id)
        .where(Membership.delivery.in_(FREQUENCIES), Membership.user_id > after_user_id)
        .distinct().order_by(Membership.user_id).limit(limit)
    ).all()
    if not user_ids:
        return DueRun(after_user_id, [])
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    on_frequency = set(
        session.execute(
            select(Membership.user_id, Membership.delivery)
            .where(Membership.user_id.in_(user_ids), Membership.delivery.in_(FREQUENCIES))
            .distinct()
        ).tuples()
    )
    queued: list[int] = []
    for frequency in FREQUENCIES:
        by_period: dict[str, list[int]] = defaultdict(list)
        for user_id in user_ids:
            period = (user_id, frequency) in on_frequency and period_of(users[user_id], frequency, now)
            if period:
                by_period[period].append(user_id)
        for period, ids in by_period.items():
            queued += _run(session, ids, frequency, period=period)
    return DueRun(user_ids[-1], queued)


def preview_digest(session: Session, user: User, frequency: Delivery | str) -> Digest | None:
    """The digest `user` would get now, without moving anything; None when nothing is new."""
    frequency = _frequency(frequency)
    watermark = _watermarks(session, [user.id], frequency, create=False).get(user.id)
    since = (watermark.last_post_id, watermark.last_comment_id) if watermark else _start_for(session, user.id, frequency)
    activity = Activity(session, *since)
    memberships = _memberships(session, [user.id], frequency)[user.id]
    return _build(user, frequency, memberships, activity, since)


def _frequency(frequency: Delivery | str) -> Delivery:
    frequency = Delivery(frequency)
    if frequency not in FREQUENCIES:
        raise ValueError(f"digests are daily or weekly, not {frequency}")
    return frequency


def _run(session: Session, user_ids: list[int], frequency: Delivery, period: str | None) -> list[int]:
    if not user_ids:
        return []
    watermarks = _watermarks(session, user_ids, frequency, create=True)
    if period is not None:
        user_ids = [uid for uid in user_ids if watermarks[uid].period != period]
    if not user_ids:
        return []
    starts = {uid: (watermarks[uid].last_post_id, watermarks[uid].last_comment_id) for uid in user_ids}
    activity = Activity(session, min(s[0] for s in starts.values()), min(s[1] for s in starts.values()))
    memberships = _memberships(session, user_ids, frequency)
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    queued = []
    for user_id in user_ids:
        watermark = watermarks[user_id]
        user = users[user_id]
        digest = _build(user, frequency, memberships[user_id], activity, starts[user_id])
        key = (
            f"digest:{user_id}:{frequency}:{period}" if period
            else f"digest:{user_id}:{frequency}:{watermark.last_post_id}:{watermark.last_comment_id}"
        )
        watermark.last_post_id, watermark.last_comment_id = activity.newest_post, activity.newest_comment
        if period is not None:
            watermark.period = period
        if digest is None:
            continue
        watermark.sent_at = utcnow()
        outgoing_id = _queue(session, user, frequency, digest, key)
        if outgoing_id is not None:
            queued.append(outgoing_id)
    session.flush()
    return queued


def _queue(session: Session, user: User, frequency: Delivery, digest: Digest, key: str) -> int | None:
    context = context_of(session)
    domain, url = context.settings.mail_domain, context.url
    token = digest_unsubscribe_token(user, frequency)
    message = compose(
        subject=digest.subject,
        sender=("Plein", addresses.address(session, "digest")),
        recipient=(user.name, user.email),
        text=digest.text, html=digest.html,
        message_id=message_id(session, "digest", key.removeprefix("digest:").replace(":", "-")),
        headers={
            "Auto-Submitted": "auto-generated",
            "Precedence": "bulk",
            "List-Id": f"Plein {frequency.value} digest <digest.{domain}>",
            "List-Archive": f"<{url('/')}>",
            "List-Unsubscribe": f"<{url(unsubscribe_path(token))}>, <mailto:{addresses.address(session, 'unsubscribe', token)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    return queue_mail(session, key, message)


def _watermarks(session: Session, user_ids: list[int], frequency: Delivery, *, create: bool) -> dict[int, DigestWatermark]:
    found = {
        w.user_id: w
        for w in session.scalars(
            select(DigestWatermark).where(
                DigestWatermark.user_id.in_(user_ids), DigestWatermark.frequency == frequency.value
            )
        )
    }
    if create:
        for user_id in user_ids:
            if user_id not in found:
                last_post, last_comment = _start_for(session, user_id, frequency)
                found[user_id] = DigestWatermark(
                    user_id=user_id, frequency=frequency.value, last_post_id=last_post, last_comment_id=last_comment
                )
                session.add(found[user_id])
    return found


def _start_for(session: Session, user_id: int, frequency: Delivery) -> tuple[int, int]:
    """Where a first digest starts: just before the user joined their first group on `frequency`."""
    joined = session.scalar(
        select(func.min(Membership.created_at)).where(Membership.user_id == user_id, Membership.delivery == frequency)
    )
    if joined is None:
        return 0, 0
    return (
        session.scalar(select(func.max(Post.id)).where(Post.created_at < joined)) or 0,
        session.scalar(select(func.max(Comment.id)).where(Comment.created_at < joined)) or 0,
    )


def _memberships(session: Session, user_ids: list[int], frequency: Delivery) -> dict[int, list[Membership]]:
    found: dict[int, list[Membership]] = defaultdict(list)
    for membership in session.scalars(
        select(Membership).options(joinedload(Membership.group)).where(
            Membership.user_id.in_(user_ids),
            Membership.delivery == frequency,
            ~follows.mutes_group(Membership.user_id, Membership.group_id),
        )
    ):
        found[membership.user_id].append(membership)
    return found


def _build(
    user: User,
    frequency: Delivery,
    memberships: list[Membership],
    activity: Activity,
    since: tuple[int, int],
) -> Digest | None:
    """Sections in reading order: threads the user wrote or joined first, then group by group."""
    catalogue, url = context_of(user).catalogue, context_of(user).url
    language = catalogue.known(user.language)
    shared = activity.shared
    followed = DigestSection("")
    sections: list[DigestSection] = []
    post_count = comment_count = 0
    user_id, newest_post = user.id, activity.newest_post
    anonymous = catalogue.translator(language).gettext("Anonymous")
    for membership in sorted(memberships, key=lambda m: m.group.name.lower()):
        section = DigestSection(membership.group.name)
        joined = membership.created_at
        for post in activity.posts_by_group.get(membership.group_id, []):
            is_new = since[0] < post.id <= newest_post and post.author_id != user_id and post.created_at >= joined
            comments = [
                c for c in activity.comments_by_post.get(post.id, [])
                if c.id > since[1] and c.author_id != user_id and c.created_at >= joined
            ]
            if not is_new and not comments:
                continue
            post_count += is_new
            comment_count += len(comments)
            latest = comments[-1] if comments else None
            address = reply_address(post, None, user)
            item = DigestItem(
                post_id=post.id, title=post.title, group=section.name, author=post.author or anonymous,
                time=shared(("time", post.id, user.timezone, language),
                            lambda: format_moment(post.created_at, language, user.timezone, date="MMMd")),
                snippet=shared(("snippet", post.id), lambda: snippet(post.body_text, SNIPPET_LENGTH)),
                new_comments=len(comments),
                latest_comment=shared(
                    ("latest", latest.id, language),
                    lambda: f"{activity.commenter_names.get(latest.author_id, anonymous)}: {snippet(latest.body_text, 120)}",
                ) if latest else "",
                url=context_of(user).mail_url(
                    comment_path(post.id, comments[0].id) if comments and not is_new else post_path(post.id)
                ),
                reply_to=address,
                reply_mailto=f"mailto:{address}?subject=" + shared(("subject", post.id), lambda: quote("Re: " + post.title)),
                is_new=is_new,
            )
            if comments and user_id in activity.participants[post.id]:
                followed.items.append(item)
            else:
                section.items.append(item)
        if section.items:
            section.items.sort(key=lambda i: (not i.is_new, i.post_id))
            sections.append(section)
    if not followed.items and not sections:
        return None
    ordered = [followed, *sections] if followed.items else sections
    for section in ordered:
        for item in section.items:
            _render_item(catalogue, item, language, show_group=not section.name, shared=shared)
    groups = sorted({i.group for i in followed.items} | {s.name for s in sections}, key=str.lower)
    subject = _subject(catalogue.translator(language), post_count, comment_count, groups)
    text, html = catalogue.render_mail(
        "digest", language, recipient=user, sections=ordered, frequency=frequency.value,
        subject=subject, hub_url=url("/"), preferences_url=url("/preferences"),
        unsubscribe_url=url(unsubscribe_path(digest_unsubscribe_token(user, frequency))),
    )
    return Digest(subject, text, html)


_REPLY_PLACEHOLDER = "\x00reply-address\x00"


def _render_item(catalogue: Catalogue, item: DigestItem, language: str, *, show_group: bool, shared) -> None:
    """Render `item` from the copy shared by every reader, with this reader's own reply address.

    Everything but the signed reply address is the same for everyone who sees this post with
    the same new comments in the same language and time zone: ten thousand digests render a
    few hundred items, not three hundred thousand.
    """
    address = item.reply_to
    text, html = shared(
        ("item", language, show_group, item.post_id, item.time, item.new_comments, item.latest_comment, item.url),
        lambda: catalogue.render_mail(
            "digest_item", language, show_group=show_group,
            item=replace(
                item, reply_to=_REPLY_PLACEHOLDER,
                reply_mailto=item.reply_mailto.replace(address, _REPLY_PLACEHOLDER),
            ),
        ),
    )
    item.text = text.replace(_REPLY_PLACEHOLDER, address)
    item.html = Markup(html.replace(_REPLY_PLACEHOLDER, address))


def _subject(t: NullTranslations, post_count: int, comment_count: int, group_names: list[str]) -> str:
    parts = []
    if post_count:
        parts.append(t.ngettext("%(num)d new post", "%(num)d new posts", post_count) % {"num": post_count})
    if comment_count:
        parts.append(t.ngettext("%(num)d new comment", "%(num)d new comments", comment_count) % {"num": comment_count})
    what = t.gettext("%(first)s and %(second)s") % {"first": parts[0], "second": parts[1]} if len(parts) == 2 else parts[0]
    where = ", ".join(group_names[:3])
    if len(group_names) > 3:
        where = t.gettext("%(groups)s and %(num)d more") % {"groups": where, "num": len(group_names) - 3}
    return t.gettext("Plein: %(what)s in %(where)s") % {"what": what, "where": where}

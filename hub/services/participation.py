"""Counting who comes and takes part: one row per page a signed-in person opens, folded each day into rollups.

Recording costs a page one insert and reads nothing (`record_view`). A worker rolls each finished day up
(`roll_up_day`, run by beat through `roll_up_due`): the whole hub's day, each person's day by channel (web:
pages, clicks on Plein's links in mail, what they wrote or reacted on the web; mail: what they sent to Plein),
and who opened which thread. A roll-up replaces the day's rows, so it may run twice. Raw events older than
`PLEIN_STATS_VIEW_RETENTION_DAYS` are then removed (`remove_old_views`); the rollups stay.

An item with no author (an anonymous post or comment) counts in the day's numbers of posts and comments, and in
no person's row. Mail is not tracked: no pixel, no opened-mail count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, delete, func, insert, select
from sqlalchemy.orm import Session

from hub.models import (
    ActivityChannel,
    Comment,
    HubDay,
    PersonDay,
    Post,
    PostViewDay,
    Reaction,
    User,
    ViewEvent,
)
from hub.models.base import utcnow

ROLLUP_TASK = "plein.stats.roll_up"
CLEANUP_TASK = "plein.stats.remove_old_views"


def record_view(session: Session, user: User, post_id: int | None = None, *, from_mail: bool = False) -> None:
    """A page (a thread's when `post_id` is given) opened by `user`: one insert in the request's transaction."""
    session.add(ViewEvent(user_id=user.id, post_id=post_id, from_mail=from_mail))


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


@dataclass
class _Person:
    visits: int = 0
    mail_clicks: int = 0
    posts: int = 0
    comments: int = 0
    reactions: int = 0


def _written(session: Session, model, start: datetime, end: datetime) -> list[tuple[int | None, bool, int]]:
    """(author, by mail, how many) of the posts or comments written between `start` and `end`."""
    by_mail = model.inbound_id.is_not(None)  # an item sent by mail names the message it came in
    return session.execute(
        select(model.author_id, by_mail, func.count())
        .where(model.created_at >= start, model.created_at < end)
        .group_by(model.author_id, by_mail)
    ).all()


def roll_up_day(session: Session, day: date) -> HubDay:
    """Fold `day` (UTC) into the rollups, replacing what an earlier run made of it."""
    start, end = day_bounds(day)
    for table in (HubDay, PersonDay, PostViewDay):
        session.execute(delete(table).where(table.day == day))
    people: dict[tuple[int, str], _Person] = defaultdict(_Person)
    views = 0
    in_day = and_(ViewEvent.created_at >= start, ViewEvent.created_at < end)
    # Only people who are still there: the raw table has no foreign keys.
    known = select(User.id)
    clicks = func.sum(case((ViewEvent.from_mail.is_(True), 1), else_=0))
    for user_id, count, from_mail in session.execute(
        select(ViewEvent.user_id, func.count(), clicks).where(in_day, ViewEvent.user_id.in_(known))
        .group_by(ViewEvent.user_id)
    ):
        person = people[user_id, ActivityChannel.WEB]
        person.visits, person.mail_clicks = count, int(from_mail or 0)
        views += count
    totals = {}
    for model, field in ((Post, "posts"), (Comment, "comments")):
        totals[field] = 0
        for author_id, by_mail, count in _written(session, model, start, end):
            totals[field] += count
            if author_id is not None:
                person = people[author_id, ActivityChannel.MAIL if by_mail else ActivityChannel.WEB]
                setattr(person, field, getattr(person, field) + count)
    totals["reactions"] = 0
    for user_id, count in session.execute(
        select(Reaction.user_id, func.count()).where(Reaction.created_at >= start, Reaction.created_at < end)
        .group_by(Reaction.user_id)
    ):
        people[user_id, ActivityChannel.WEB].reactions += count
        totals["reactions"] += count
    if people:
        session.execute(insert(PersonDay), [
            {"day": day, "user_id": user_id, "channel": channel.value, **vars(person)}
            for (user_id, channel), person in people.items()
        ])
    threads = session.execute(
        select(ViewEvent.post_id, ViewEvent.user_id)
        .where(in_day, ViewEvent.post_id.in_(select(Post.id)), ViewEvent.user_id.in_(known))
        .distinct()
    ).all()
    if threads:
        session.execute(insert(PostViewDay), [
            {"day": day, "post_id": post_id, "user_id": user_id} for post_id, user_id in threads
        ])
    visitors = sum(1 for (_, channel), person in people.items() if channel == ActivityChannel.WEB and person.visits)
    hub_day = HubDay(day=day, visitors=visitors, views=views, rolled_up_at=utcnow(), **totals)
    session.add(hub_day)
    session.flush()
    return hub_day


def roll_up_due(session: Session, retention_days: int, today: date | None = None) -> list[date]:
    """Roll up every finished day not rolled up yet, from the last one rolled up (or, the first time, as far back
    as raw views are kept) to yesterday; and today so far, which the next run replaces. The days rolled up."""
    today = today or utcnow().date()
    last = session.scalar(select(HubDay).order_by(HubDay.day.desc()).limit(1))
    if last is None:
        first = today - timedelta(days=retention_days)
    else:
        # Each run rolls up every day from the first unfinished one: only the last can be unfinished.
        finished = last.rolled_up_at >= day_bounds(last.day)[1]
        first = min(last.day + timedelta(days=1) if finished else last.day, today)
    days = [first + timedelta(days=n) for n in range((today - first).days + 1)]
    for day in days:
        roll_up_day(session, day)
    return days


def remove_old_views(session: Session, retention_days: int, now: datetime | None = None) -> int:
    """Remove raw views older than `retention_days`; how many."""
    before = (now or utcnow()) - timedelta(days=retention_days)
    return session.execute(delete(ViewEvent).where(ViewEvent.created_at < before)).rowcount

"""The statistics an administrator (the whole hub) or a group owner (their groups) reads on `/stats`, over the API
and in `plein stats export`: who visited, reacted and created per day, week or month, as counts and as shares of
everyone in scope; reach since launch; mail versus web; per group and per department; top threads, most-followed
tags, rising topics; and how many posts got an answer, how fast.

People are counted from the rollups (hub.services.participation); a group's figures from its threads' views and
what was written in it. Anonymous items count as items and as no one. Nothing names a group, thread, tag or word
the reader may not see: threads, tags and words come from the groups the reader sees only, and counts over the
whole hub name nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median

from sqlalchemy import and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from hub.models import (
    ActivityChannel,
    Comment,
    Department,
    Follow,
    FollowKind,
    Group,
    GroupKind,
    HubDay,
    Membership,
    PersonDay,
    Post,
    PostViewDay,
    Reaction,
    Tagging,
    User,
)
from hub.models.base import utcnow
from hub.services import groups as group_service
from hub.services.directory import subtree_ids
from hub.services.errors import Forbidden, Invalid, NotFound
from hub.services.participation import day_bounds
from hub.services.visibility import visible_group_ids
from hub.urls import post_path, tag_path

PERIODS = ("day", "week", "month")
DEFAULT_DAYS = 90
LONGEST_SPAN = 3 * 366
"""Days one request may cover."""
TOP = 10
WORD_SAMPLE = 2_000
"""Newest posts of each week whose words are counted for rising topics, each read up to `WORD_TEXT` characters."""
WORD_TEXT = 2_000
_WORD = re.compile(r"[^\W\d_][\w'-]{3,39}")
COMMON_WORDS = frozenset(
    "this that with from have what your will about there their would could should been were they them then than "
    "when which where just also into more some only other very like over such here does done dank voor niet maar "
    "zijn wordt worden deze door naar over onze jullie heeft hebben kunnen moeten graag even alle omdat want wat "
    "waar wanneer bij tot ook nog als dan dat die het een van met zich hier daar nieuwe nieuw erbij heel veel goed "
    "weer alleen eerst vandaag morgen gisteren".split()
)
"""Words too common in English and Dutch to be a topic."""


@dataclass(frozen=True)
class Scope:
    start: date
    end: date
    """The last day counted (inclusive)."""
    groups: tuple[Group, ...] | None
    """The groups counted; None for the whole hub."""
    department: Department | None


@dataclass(frozen=True)
class Bucket:
    start: date
    visited: int
    reacted: int
    created: int


@dataclass(frozen=True)
class Funnel:
    people: int
    """Everyone in scope still with the company: the base of every share."""
    active: int
    visited: int
    reacted: int
    created: int

    def share(self, count: int) -> float:
        return round(count / self.people, 4) if self.people else 0.0


@dataclass(frozen=True)
class Channels:
    mail_only: int
    web_only: int
    both: int


@dataclass(frozen=True)
class Row:
    """One group's or department's people and what they did."""

    key: str
    name: str
    people: int
    visited: int
    reacted: int
    created: int


@dataclass(frozen=True)
class Thread:
    post_id: int
    title: str
    group: str
    viewers: int
    comments: int
    reactions: int


@dataclass(frozen=True)
class Rising:
    term: str
    kind: str
    """`tag` or `word`."""
    this_week: int
    week_before: int


@dataclass(frozen=True)
class Answers:
    posts: int
    answered: int
    median_hours: float | None
    within_a_day: int


@dataclass
class Figures:
    scope: Scope
    period: str
    series: list[Bucket]
    funnel: Funnel
    items: dict[str, int]
    reach: int
    reach_share: float
    launched: date | None
    channels: Channels
    groups: list[Row] = field(default_factory=list)
    departments: list[Row] = field(default_factory=list)
    top_threads: list[Thread] = field(default_factory=list)
    followed_tags: list[tuple[str, int]] = field(default_factory=list)
    rising: list[Rising] = field(default_factory=list)
    answers: Answers | None = None


def may_read(session: Session, viewer: User) -> bool:
    """Whether `viewer` has statistics to read: an administrator, or the owner of a group."""
    return viewer.is_admin or bool(_owned(session, viewer))


def _owned(session: Session, viewer: User) -> list[Group]:
    return list(session.scalars(
        select(Group).join(Membership, Membership.group_id == Group.id)
        .where(Membership.user_id == viewer.id, Membership.is_owner.is_(True), Group.kind == GroupKind.GROUP)
        .order_by(Group.name, Group.id)
    ))


def readable_groups(session: Session, viewer: User) -> list[Group]:
    """The groups whose statistics `viewer` may read on their own: every group they see (an administrator), or the
    groups they own."""
    if viewer.is_admin:
        return list(session.scalars(
            select(Group).where(Group.id.in_(visible_group_ids(viewer)), Group.kind == GroupKind.GROUP)
            .order_by(Group.name, Group.id)
        ))
    return _owned(session, viewer)


def department_choices(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.path)))


def parse_day(text: str | None, default: date, name: str) -> date:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("%(name)s must be a date as YYYY-MM-DD, not %(value)s", name=name, value=text[:40]) from None


def chosen_days(start: str | None, end: str | None, today: date | None = None) -> tuple[date, date]:
    """The first and last day asked for as YYYY-MM-DD: by default the `DEFAULT_DAYS` up to today."""
    last = parse_day(end, today or utcnow().date(), "to")
    return parse_day(start, last - timedelta(days=DEFAULT_DAYS - 1), "from"), last


def _seen_group_ids(viewer: User | None):
    """The groups whose names, threads and words `viewer` may read: all for the operator (None, `plein stats`)."""
    return select(Group.id) if viewer is None else visible_group_ids(viewer)


def scope_for(
    session: Session, viewer: User | None, start: date, end: date, group: str | None = None, department: int | None = None,
) -> Scope:
    """What `viewer` may count: the whole hub (an administrator, or the operator as None), or the groups they own;
    narrowed to one group or department. A group they may not see is as unknown as one that is not there; one
    they see but do not own is forbidden."""
    if end < start:
        raise Invalid("the period ends (%(end)s) before it starts (%(start)s)", start=start, end=end)
    if (end - start).days >= LONGEST_SPAN:
        raise Invalid("a period covers at most %(days)s days", days=LONGEST_SPAN)
    if group:
        try:
            chosen = (group_service.get_group(session, group) if viewer is None
                      else group_service.get_visible_group(session, viewer, group))
        except NotFound:
            raise Invalid("unknown group %(slug)s", slug=group[:64]) from None
        if viewer is not None and not group_service.is_owner(session, viewer, chosen):
            raise Forbidden("Only the owners of %(name)s and administrators read its statistics.", name=chosen.name)
        groups = (chosen,)
    elif viewer is None or viewer.is_admin:
        groups = None
    else:
        groups = tuple(_owned(session, viewer))
        if not groups:
            raise Forbidden("Statistics are for administrators and group owners.")
    # Ids are `integer` columns: a larger number is no department, and PostgreSQL would refuse to compare it.
    chosen_department = session.get(Department, department) if department and 0 < department < 2**31 else None
    if department is not None and chosen_department is None:
        raise Invalid("unknown department %(id)s", id=department)
    return Scope(start, end, groups, chosen_department)


def _date_of(column, session: Session):
    return func.date(column) if session.get_bind().dialect.name == "sqlite" else func.cast(column, PersonDay.day.type)


def _bucket(column, period: str, session: Session):
    sqlite = session.get_bind().dialect.name == "sqlite"
    if period == "day":
        return column
    if period == "week":
        if sqlite:  # the Monday on or before: six days back, then on to the next Monday
            return func.date(column, "-6 days", "weekday 1")
        return func.cast(func.date_trunc("week", column), PersonDay.day.type)
    return func.strftime("%Y-%m-01", column) if sqlite else func.cast(func.date_trunc("month", column), PersonDay.day.type)


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(value)


def _activity(session: Session, scope: Scope, since: date | None, with_group: bool = False):
    """One row per thing a person did: day, user_id, and 1 or 0 for visited, reacted, created, by_mail, on_web
    (and group_id with `with_group`), from `since` (None: since launch) to the scope's end."""
    until = scope.end
    if scope.groups is None and not with_group:
        rows = select(
            PersonDay.day.label("day"), PersonDay.user_id.label("user_id"),
            case((PersonDay.visits > 0, 1), else_=0).label("visited"),
            case((PersonDay.comments + PersonDay.reactions > 0, 1), else_=0).label("reacted"),
            case((PersonDay.posts > 0, 1), else_=0).label("created"),
            case((PersonDay.channel == ActivityChannel.MAIL.value, 1), else_=0).label("by_mail"),
            case((PersonDay.channel == ActivityChannel.WEB.value, 1), else_=0).label("on_web"),
        ).where(PersonDay.day <= until)
        if since is not None:
            rows = rows.where(PersonDay.day >= since)
        return rows.subquery()
    group_ids = [g.id for g in scope.groups] if scope.groups is not None else None
    start = day_bounds(since)[0] if since else None
    end = day_bounds(until)[1]

    def within(statement, group_column, day_column, is_time=True):
        if group_ids is not None:
            statement = statement.where(group_column.in_(group_ids))
        if start is not None:
            statement = statement.where(day_column >= (start if is_time else since))
        return statement.where(day_column < end if is_time else day_column <= until)

    def columns(day, user, visited, reacted, created, by_mail, on_web, group_id):
        chosen = [day.label("day"), user.label("user_id"), visited.label("visited"), reacted.label("reacted"),
                  created.label("created"), by_mail.label("by_mail"), on_web.label("on_web")]
        return chosen + ([group_id.label("group_id")] if with_group else [])

    def by_mail(model):
        return case((model.inbound_id.is_not(None), 1), else_=0), case((model.inbound_id.is_(None), 1), else_=0)

    one, zero = literal(1), literal(0)
    viewed = within(
        select(*columns(PostViewDay.day, PostViewDay.user_id, one, zero, zero, zero, one, Post.group_id))
        .join(Post, Post.id == PostViewDay.post_id), Post.group_id, PostViewDay.day, is_time=False,
    )
    posted = within(
        select(*columns(_date_of(Post.created_at, session), Post.author_id, zero, zero, one, *by_mail(Post),
                        Post.group_id))
        .where(Post.author_id.is_not(None)),
        Post.group_id, Post.created_at,
    )
    commented = within(
        select(*columns(_date_of(Comment.created_at, session), Comment.author_id, zero, one, zero, *by_mail(Comment),
                        Post.group_id))
        .join(Post, Post.id == Comment.post_id)
        .where(Comment.author_id.is_not(None)),
        Post.group_id, Comment.created_at,
    )
    reacted = within(
        select(*columns(_date_of(Reaction.created_at, session), Reaction.user_id, zero, one, zero, zero, one,
                        Post.group_id))
        .join(Post, Post.id == Reaction.post_id), Post.group_id, Reaction.created_at,
    )
    return union_all(viewed, posted, commented, reacted).subquery()


def _in_department(statement, activity, scope: Scope):
    if scope.department is None:
        return statement
    return statement.join(User, User.id == activity.c.user_id).where(User.department_id.in_(subtree_ids(scope.department)))


def _distinct_when(activity, column):
    return func.count(func.distinct(case((column > 0, activity.c.user_id))))


def _people(session: Session, scope: Scope) -> int:
    statement = select(func.count(func.distinct(User.id))).where(User.deactivated_at.is_(None))
    if scope.groups is not None:
        statement = statement.join(Membership, Membership.user_id == User.id).where(
            Membership.group_id.in_([g.id for g in scope.groups])
        )
    if scope.department is not None:
        statement = statement.where(User.department_id.in_(subtree_ids(scope.department)))
    return session.scalar(statement) or 0


def _series(session: Session, scope: Scope, period: str) -> list[Bucket]:
    activity = _activity(session, scope, scope.start)
    bucket = _bucket(activity.c.day, period, session).label("bucket")
    statement = _in_department(
        select(bucket, _distinct_when(activity, activity.c.visited), _distinct_when(activity, activity.c.reacted),
               _distinct_when(activity, activity.c.created)), activity, scope,
    ).group_by(bucket).order_by(bucket)
    counted = {_as_date(start): counts for start, *counts in session.execute(statement)}
    return [Bucket(start, *counted.get(start, (0, 0, 0))) for start in bucket_starts(scope.start, scope.end, period)]


def bucket_starts(start: date, end: date, period: str) -> list[date]:
    """The first day of every day, week (from Monday) or month that the days from `start` to `end` touch.

    >>> bucket_starts(date(2026, 1, 30), date(2026, 3, 2), "month")
    [datetime.date(2026, 1, 1), datetime.date(2026, 2, 1), datetime.date(2026, 3, 1)]
    >>> bucket_starts(date(2026, 12, 2), date(2026, 12, 8), "week")
    [datetime.date(2026, 11, 30), datetime.date(2026, 12, 7)]
    """
    if period == "day":
        first, step = start, timedelta(days=1)
    elif period == "week":
        first, step = start - timedelta(days=start.weekday()), timedelta(days=7)
    else:
        first, step = start.replace(day=1), None
    starts = []
    while first <= end:
        starts.append(first)
        first = first + step if step else (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return starts


def _funnel(session: Session, scope: Scope, people: int) -> tuple[Funnel, Channels]:
    activity = _activity(session, scope, scope.start)
    per_person = _in_department(
        select(activity.c.user_id, func.max(activity.c.visited).label("visited"),
               func.max(activity.c.reacted).label("reacted"), func.max(activity.c.created).label("created"),
               func.max(activity.c.by_mail).label("by_mail"), func.max(activity.c.on_web).label("on_web")),
        activity, scope,
    ).group_by(activity.c.user_id).subquery()
    took_part = or_(per_person.c.reacted > 0, per_person.c.created > 0, per_person.c.by_mail > 0)

    def count(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = session.execute(select(
        count(or_(per_person.c.visited > 0, took_part)), count(per_person.c.visited > 0),
        count(per_person.c.reacted > 0), count(per_person.c.created > 0),
        count(and_(per_person.c.by_mail > 0, per_person.c.on_web == 0)),
        count(and_(per_person.c.by_mail == 0, per_person.c.on_web > 0)),
        count(and_(per_person.c.by_mail > 0, per_person.c.on_web > 0)),
    )).one()
    return Funnel(people, *row[:4]), Channels(*row[4:])


def _reach(session: Session, scope: Scope) -> int:
    activity = _activity(session, scope, None)
    return session.scalar(_in_department(
        select(func.count(func.distinct(case((or_(activity.c.visited > 0, activity.c.by_mail > 0),
                                               activity.c.user_id))))),
        activity, scope,
    )) or 0


def _items(session: Session, scope: Scope) -> dict[str, int]:
    start, end = day_bounds(scope.start)[0], day_bounds(scope.end)[1]
    counts = {}
    for name, model, group_column, joined in (
        ("posts", Post, Post.group_id, None), ("comments", Comment, Post.group_id, Comment.post_id),
        ("reactions", Reaction, Post.group_id, Reaction.post_id),
    ):
        statement = select(func.count()).select_from(model).where(model.created_at >= start, model.created_at < end)
        if scope.groups is not None or scope.department is not None:
            if joined is not None:
                statement = statement.join(Post, Post.id == joined)
            if scope.groups is not None:
                statement = statement.where(group_column.in_([g.id for g in scope.groups]))
            if scope.department is not None:
                author = model.user_id if model is Reaction else model.author_id
                statement = statement.join(User, User.id == author).where(
                    User.department_id.in_(subtree_ids(scope.department))
                )
        counts[name] = session.scalar(statement) or 0
    return counts


def _visible_groups(session: Session, viewer: User | None, scope: Scope) -> list[Group]:
    if scope.groups is not None:
        return list(scope.groups)
    return list(session.scalars(
        select(Group).where(Group.id.in_(_seen_group_ids(viewer)), Group.kind == GroupKind.GROUP)
        .order_by(Group.name, Group.id)
    ))


def _group_rows(session: Session, viewer: User | None, scope: Scope) -> list[Row]:
    shown = _visible_groups(session, viewer, scope)
    if not shown:
        return []
    narrowed = Scope(scope.start, scope.end, tuple(shown), scope.department)
    activity = _activity(session, narrowed, scope.start, with_group=True)
    done = {
        group_id: counts for group_id, *counts in session.execute(_in_department(
            select(activity.c.group_id, _distinct_when(activity, activity.c.visited),
                   _distinct_when(activity, activity.c.reacted), _distinct_when(activity, activity.c.created)),
            activity, scope,
        ).group_by(activity.c.group_id))
    }
    members = select(Membership.group_id, func.count()).join(User, User.id == Membership.user_id).where(
        User.deactivated_at.is_(None), Membership.group_id.in_([g.id for g in shown])
    )
    if scope.department is not None:
        members = members.where(User.department_id.in_(subtree_ids(scope.department)))
    people = dict(session.execute(members.group_by(Membership.group_id)).all())
    rows = [Row(g.slug, g.name, people.get(g.id, 0), *done.get(g.id, (0, 0, 0))) for g in shown]
    return sorted(rows, key=lambda r: (-(r.visited + r.reacted + r.created), r.name))


def _department_rows(session: Session, scope: Scope) -> list[Row]:
    """The departments one level below the chosen one (or at the top, and below a lone department at the top: the
    company itself), each counting the people below it too: everyone, or the members of the scope's groups."""
    parent_id = scope.department.id if scope.department else None
    while True:
        departments = list(session.scalars(select(Department).where(
            Department.parent_id == parent_id if parent_id else Department.parent_id.is_(None)
        ).order_by(Department.name)))
        if len(departments) != 1 or not departments[0].children:
            break
        parent_id = departments[0].id
    if not departments:
        return []
    paths = {d.id: d.path for d in departments}
    everyone = {d_id: path for d_id, path in session.execute(select(Department.id, Department.path))}

    def top_of(department_id: int | None) -> int | None:
        path = everyone.get(department_id)
        return next((d_id for d_id, top in paths.items() if path and (path == top or path.startswith(top + "/"))),
                    None)

    activity = _activity(session, scope, scope.start)
    done: dict[int, list[int]] = {d.id: [0, 0, 0] for d in departments}
    for department_id, *counts in session.execute(
        select(User.department_id, _distinct_when(activity, activity.c.visited),
               _distinct_when(activity, activity.c.reacted), _distinct_when(activity, activity.c.created))
        .join(User, User.id == activity.c.user_id).group_by(User.department_id)
    ):
        top = top_of(department_id)
        if top is not None:
            done[top] = [a + b for a, b in zip(done[top], counts)]
    counted = select(User.department_id, func.count(func.distinct(User.id))).where(User.deactivated_at.is_(None))
    if scope.groups is not None:
        counted = counted.join(Membership, Membership.user_id == User.id).where(
            Membership.group_id.in_([g.id for g in scope.groups])
        )
    people: Counter[int] = Counter()
    for department_id, count in session.execute(counted.group_by(User.department_id)):
        top = top_of(department_id)
        if top is not None:
            people[top] += count
    return [Row(str(d.id), d.path, people[d.id], *done[d.id]) for d in departments]


def _seen_posts(viewer: User | None, scope: Scope):
    """The posts in the scope's groups that `viewer` may see."""
    statement = select(Post.id).where(Post.group_id.in_(_seen_group_ids(viewer)))
    if scope.groups is not None:
        statement = statement.where(Post.group_id.in_([g.id for g in scope.groups]))
    return statement


def _top_threads(session: Session, viewer: User | None, scope: Scope) -> list[Thread]:
    start, end = day_bounds(scope.start)[0], day_bounds(scope.end)[1]
    seen = _seen_posts(viewer, scope)
    viewers = dict(session.execute(
        select(PostViewDay.post_id, func.count(func.distinct(PostViewDay.user_id)))
        .where(PostViewDay.day >= scope.start, PostViewDay.day <= scope.end, PostViewDay.post_id.in_(seen))
        .group_by(PostViewDay.post_id)
    ).all())
    comments = dict(session.execute(
        select(Comment.post_id, func.count()).where(
            Comment.created_at >= start, Comment.created_at < end, Comment.post_id.in_(seen),
            Comment.removed_at.is_(None),
        ).group_by(Comment.post_id)
    ).all())
    reactions = dict(session.execute(
        select(Reaction.post_id, func.count()).where(
            Reaction.created_at >= start, Reaction.created_at < end, Reaction.post_id.in_(seen)
        ).group_by(Reaction.post_id)
    ).all())
    scores = Counter()
    for counts in (viewers, comments, reactions):
        scores.update(counts)
    best = [post_id for post_id, _ in sorted(scores.items(), key=lambda kv: (-kv[1], -kv[0]))[:TOP]]
    posts = {p.id: p for p in session.scalars(select(Post).where(Post.id.in_(best)))}
    return [
        Thread(post_id, posts[post_id].headline, posts[post_id].group.name, viewers.get(post_id, 0),
               comments.get(post_id, 0), reactions.get(post_id, 0))
        for post_id in best if post_id in posts
    ]


def _followed_tags(session: Session, viewer: User | None, scope: Scope) -> list[tuple[str, int]]:
    """Tags followed most, among tags written in a post the reader may see in scope: a tag used only in a private
    group is never named to someone outside it."""
    used = select(Tagging.tag).where(Tagging.post_id.in_(_seen_posts(viewer, scope)))
    followers = func.count().label("followers")
    return [tuple(row) for row in session.execute(
        select(Follow.tag, followers).where(
            Follow.kind == FollowKind.TAG.value, Follow.following.is_(True), Follow.tag.in_(used)
        ).group_by(Follow.tag).order_by(followers.desc(), Follow.tag).limit(TOP)
    )]


def _words(session: Session, seen, start: datetime, end: datetime) -> Counter[str]:
    """In how many of the week's posts (the newest `WORD_SAMPLE`) each word stands."""
    rows = session.execute(
        select(Post.title, func.substr(Post.body_text, 1, WORD_TEXT))
        .where(Post.id.in_(seen), Post.created_at >= start, Post.created_at < end)
        .order_by(Post.created_at.desc()).limit(WORD_SAMPLE)
    )
    counted: Counter[str] = Counter()
    for title, body in rows:
        words = {w.lower() for w in _WORD.findall(f"{title} {body}")}
        counted.update(w for w in words if w not in COMMON_WORDS)
    return counted


def _rising(session: Session, viewer: User | None, scope: Scope) -> list[Rising]:
    """Tags and words used in more posts in the scope's last seven days than in the seven before, most grown
    first; only what stands in posts the reader may see."""
    week_end = day_bounds(scope.end)[1]
    week_start, before = week_end - timedelta(days=7), week_end - timedelta(days=14)
    seen = _seen_posts(viewer, scope)
    found = []
    uses = func.count(func.distinct(Tagging.post_id))
    for start, end in ((week_start, week_end), (before, week_start)):
        found.append(Counter(dict(session.execute(
            select(Tagging.tag, uses).where(
                Tagging.post_id.in_(seen), Tagging.created_at >= start, Tagging.created_at < end
            ).group_by(Tagging.tag)
        ).all())))
    tags_now, tags_before = found
    words_now, words_before = _words(session, seen, week_start, week_end), _words(session, seen, before, week_start)
    rising = [Rising(t, "tag", n, tags_before[t]) for t, n in tags_now.items() if n > tags_before[t]]
    rising += [
        Rising(w, "word", n, words_before[w]) for w, n in words_now.items()
        if n >= 2 and n > words_before[w] and w not in tags_now
    ]
    return sorted(rising, key=lambda r: (-(r.this_week - r.week_before), -r.this_week, r.term))[:TOP]


def _answers(session: Session, scope: Scope) -> Answers:
    """Posts written in the period and how many got a comment from someone other than their author, and how soon.
    An item with no author (anonymous) answers any post and is answered by anyone."""
    start, end = day_bounds(scope.start)[0], day_bounds(scope.end)[1]
    posts = select(Post.id, Post.created_at, Post.author_id).where(Post.created_at >= start, Post.created_at < end)
    if scope.groups is not None:
        posts = posts.where(Post.group_id.in_([g.id for g in scope.groups]))
    if scope.department is not None:
        posts = posts.join(User, User.id == Post.author_id).where(User.department_id.in_(subtree_ids(scope.department)))
    posts = posts.subquery()
    first = func.min(Comment.created_at)
    answered = session.execute(
        select(posts.c.created_at, first).join(Comment, Comment.post_id == posts.c.id).where(
            Comment.removed_at.is_(None),
            or_(Comment.author_id.is_(None), posts.c.author_id.is_(None), Comment.author_id != posts.c.author_id),
        ).group_by(posts.c.id, posts.c.created_at)
    ).all()
    hours = [(answer - asked).total_seconds() / 3600 for asked, answer in answered]
    return Answers(
        session.scalar(select(func.count()).select_from(posts)) or 0, len(hours),
        round(median(hours), 1) if hours else None, sum(1 for h in hours if h <= 24),
    )


def figures(session: Session, viewer: User | None, scope: Scope, period: str = "week") -> Figures:
    """The figures of `scope` as `viewer` (None: the operator, who sees every group) may read them."""
    if period not in PERIODS:
        raise Invalid("period must be one of %(choices)s", choices=", ".join(PERIODS))
    people = _people(session, scope)
    funnel, channels = _funnel(session, scope, people)
    reach = _reach(session, scope)
    return Figures(
        scope=scope, period=period, series=_series(session, scope, period), funnel=funnel,
        items=_items(session, scope), reach=reach, reach_share=funnel.share(reach),
        launched=session.scalar(select(func.min(HubDay.day))), channels=channels,
        groups=_group_rows(session, viewer, scope),
        departments=_department_rows(session, scope),
        top_threads=_top_threads(session, viewer, scope), followed_tags=_followed_tags(session, viewer, scope),
        rising=_rising(session, viewer, scope), answers=_answers(session, scope),
    )


def as_dict(found: Figures) -> dict:
    """The figures as plain data, as the API answers them and the export writes them; shares are of `people`,
    between 0 and 1."""
    funnel = found.funnel
    return {
        "from": found.scope.start.isoformat(), "to": found.scope.end.isoformat(), "period": found.period,
        "groups_counted": None if found.scope.groups is None else [g.slug for g in found.scope.groups],
        "department": found.scope.department.path if found.scope.department else None,
        "people": funnel.people,
        "funnel": {name: {"people": getattr(funnel, name), "share": funnel.share(getattr(funnel, name))}
                   for name in ("active", "visited", "reacted", "created")},
        "reach": {"people": found.reach, "share": found.reach_share,
                  "since": found.launched.isoformat() if found.launched else None},
        "series": [{"start": b.start.isoformat(), "visited": b.visited, "reacted": b.reacted, "created": b.created}
                   for b in found.series],
        "items": found.items,
        "mail_versus_web": {"mail_only": found.channels.mail_only, "web_only": found.channels.web_only,
                            "both": found.channels.both},
        "groups": [vars(row) | {"slug": row.key} for row in found.groups],
        "departments": [vars(row) | {"id": int(row.key)} for row in found.departments],
        "top_threads": [vars(t) | {"url": post_path(t.post_id)} for t in found.top_threads],
        "followed_tags": [{"tag": tag, "followers": n, "url": tag_path(tag)} for tag, n in found.followed_tags],
        "rising": [vars(r) for r in found.rising],
        "answers": vars(found.answers),
    }



def as_rows(found: Figures) -> list[tuple[str, str, str, object]]:
    """The figures as rows of (section, name, measure, value), for a CSV file: one number each."""
    data = as_dict(found)
    rows: list[tuple[str, str, str, object]] = [("scope", "", key, data[key]) for key in ("from", "to", "period")]
    rows.append(("people", "", "people", data["people"]))
    for name, counted in data["funnel"].items():
        rows += [("funnel", name, "people", counted["people"]), ("funnel", name, "share", counted["share"])]
    rows += [("reach", "", key, value) for key, value in data["reach"].items()]
    rows += [("items", "", key, value) for key, value in data["items"].items()]
    rows += [("mail_versus_web", "", key, value) for key, value in data["mail_versus_web"].items()]
    rows += [("answers", "", key, value) for key, value in data["answers"].items()]
    for section, name_of, measures in (
        ("series", "start", ("visited", "reacted", "created")),
        ("groups", "slug", ("people", "visited", "reacted", "created")),
        ("departments", "name", ("people", "visited", "reacted", "created")),
        ("top_threads", "url", ("title", "group", "viewers", "comments", "reactions")),
        ("followed_tags", "tag", ("followers",)),
        ("rising", "term", ("kind", "this_week", "week_before")),
    ):
        rows += [(section, item[name_of], measure, item[measure]) for item in data[section] for measure in measures]
    return rows

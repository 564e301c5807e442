"""The home feed, read marks, and a group's threads by last activity.

The feed of one reader is what is new in everything they follow, newest first: posts and
comments by followed people, in followed groups and with followed tags, and comments in followed
threads. What they mute (a thread, a group, a person, a tag) stays out, and so does everything
in a group they may not see and every comment removed by its author.

A page is looked for first among the newest posts and comments of the whole hub, a window of
them at a time, then per kind of follow, each an index range scan (migration 0023) that stops
after one page (`feed_keys`). So a page costs a bounded number of rows however large the hub
grows and however far back the reader pages; bench/feed.py measures it (docs/performance.md).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, exists, func, literal, or_, select, union
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from hub.models import Comment, Follow, Group, Membership, Post, PostingPolicy, Tagging, ThreadRead, User
from hub.models.base import utcnow
from hub.services import reactions
from hub.services.errors import Invalid
from hub.services.visibility import visible_group_ids, visible_groups_query

PAGE_SIZE = 20
RECENT = 1_000
WINDOWS = 4
"""How many of the newest posts, and of the newest comments, a page looks through at a time, and how many
times, before it reads per kind of follow."""
SNIPPET_LENGTH = 200
_POST, _COMMENT = 1, 0
"""Ranks: of a post and a comment written at the same instant, the post comes first."""
_KIND = {_POST: "post", _COMMENT: "comment"}

Key = tuple[datetime, int, int]
"""Where an item stands in the feed: (written at, rank, id), newest first."""


def encode_cursor(key: Key) -> str:
    created_at, rank, item_id = key
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{rank}|{item_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Key:
    """The key a cursor of `encode_cursor` holds; Invalid for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        written, rank, item_id = text.split("|")
        created_at = datetime.fromisoformat(written)
        if created_at.tzinfo is None or int(rank) not in _KIND or not re.fullmatch(r"[0-9]{1,10}", item_id):
            raise ValueError(text)
        return created_at.astimezone(UTC), int(rank), int(item_id)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise Invalid("the cursor %(cursor)s is not one the feed gave out", cursor=repr(cursor[:100])) from None


@dataclass(frozen=True)
class FeedItem:
    kind: str
    post_id: int
    id: int
    title: str
    snippet: str
    author: User
    group: Group
    created_at: datetime
    reactions: dict[str, int]
    unread: bool


@dataclass(frozen=True)
class FeedPage:
    items: list[FeedItem]
    next_cursor: str | None


@dataclass
class _Standing:
    """A reader's follows and mutes, by kind of target."""

    following: dict[str, set] = field(
        default_factory=lambda: {"person": set(), "group": set(), "post": set(), "tag": set()}
    )
    muted: dict[str, set] = field(
        default_factory=lambda: {"person": set(), "group": set(), "post": set(), "tag": set()}
    )


def _standing(session: Session, reader: User) -> _Standing:
    standing = _Standing()
    for row in session.scalars(select(Follow).where(Follow.user_id == reader.id)):
        target = {"person": row.person_id, "group": row.group_id, "post": row.post_id, "tag": row.tag}[row.kind]
        if row.muted:
            standing.muted[row.kind].add(target)
        elif row.following:
            standing.following[row.kind].add(target)
    return standing


def _past(created_at, rank: int, item_id, cursor: Key | None):
    """Items of one `rank` that come after `cursor` in the feed."""
    if cursor is None:
        return literal(True)
    at, cursor_rank, cursor_id = cursor
    if rank < cursor_rank:
        same_instant = literal(True)
    elif rank == cursor_rank:
        same_instant = item_id < cursor_id
    else:
        same_instant = literal(False)
    return or_(created_at < at, and_(created_at == at, same_instant))


def _rules(reader: User, muted: dict[str, set]) -> tuple[list, list]:
    """What every post and every comment in the feed must pass: visible, not muted, not removed."""
    seen = visible_group_ids(reader)
    post_rules, comment_rules = [Post.group_id.in_(seen)], [Comment.removed_at.is_(None), Post.group_id.in_(seen)]
    if muted["group"]:
        post_rules.append(Post.group_id.not_in(muted["group"]))
        comment_rules.append(Post.group_id.not_in(muted["group"]))
    if muted["post"]:
        post_rules.append(Post.id.not_in(muted["post"]))
        comment_rules.append(Comment.post_id.not_in(muted["post"]))
    if muted["person"]:
        post_rules.append(Post.author_id.not_in(muted["person"]))
        comment_rules.append(Comment.author_id.not_in(muted["person"]))
    if muted["tag"]:
        tagged = Tagging.tag.in_(muted["tag"])
        post_rules.append(~exists().where(Tagging.post_id == Post.id, Tagging.comment_id.is_(None), tagged))
        comment_rules.append(~exists().where(Tagging.comment_id == Comment.id, tagged))
    return post_rules, comment_rules


def _posts(*where):
    return select(literal(_POST).label("rank"), Post.id.label("id"), Post.created_at.label("created_at")).where(*where)


def _comments(*where):
    return (
        select(literal(_COMMENT).label("rank"), Comment.id.label("id"), Comment.created_at.label("created_at"))
        .join(Post, Post.id == Comment.post_id)
        .where(*where)
    )


def _newest_first(statement, model, limit: int):
    return statement.order_by(model.created_at.desc(), model.id.desc()).limit(limit)


def _sources(follows: dict[str, set], rules: tuple[list, list], cursor: Key | None, limit: int):
    """For each kind of follow, the newest `limit` items past `cursor` that it brings."""
    post_rules = [*rules[0], _past(Post.created_at, _POST, Post.id, cursor)]
    comment_rules = [*rules[1], _past(Comment.created_at, _COMMENT, Comment.id, cursor)]

    def posts(where):
        return _newest_first(_posts(where, *post_rules), Post, limit)

    def comments(where):
        return _newest_first(_comments(where, *comment_rules), Comment, limit)

    if follows["person"]:
        yield posts(Post.author_id.in_(follows["person"]))
        yield comments(Comment.author_id.in_(follows["person"]))
    if follows["group"]:
        yield posts(Post.group_id.in_(follows["group"]))
        yield comments(Post.group_id.in_(follows["group"]))
    if follows["tag"]:
        with_tag = select(Tagging.post_id).where(Tagging.tag.in_(follows["tag"]), Tagging.comment_id.is_(None))
        yield posts(Post.id.in_(with_tag))
        yield comments(Comment.id.in_(select(Tagging.comment_id).where(Tagging.tag.in_(follows["tag"]))))
    if follows["post"]:
        yield comments(Comment.post_id.in_(follows["post"]))


def _followed(follows: dict[str, set]) -> tuple[object, object]:
    """Whether a post, and a comment, is brought by any of `follows`: one condition each, checked row by row."""
    tags = Tagging.tag.in_(follows["tag"])
    post_by = [Post.author_id.in_(follows["person"]), Post.group_id.in_(follows["group"])]
    comment_by = [
        Comment.author_id.in_(follows["person"]),
        Post.group_id.in_(follows["group"]),
        Comment.post_id.in_(follows["post"]),
    ]
    if follows["tag"]:
        post_by.append(exists().where(Tagging.post_id == Post.id, Tagging.comment_id.is_(None), tags))
        comment_by.append(exists().where(Tagging.comment_id == Comment.id, tags))
    return or_(*post_by), or_(*comment_by)


def _floor(session: Session, model, rank: int, cursor: Key | None) -> Key | None:
    """The key of the `RECENT`-th newest post or comment past `cursor`; None when there are fewer."""
    row = session.execute(
        select(model.created_at, model.id)
        .where(_past(model.created_at, rank, model.id, cursor))
        .order_by(model.created_at.desc(), model.id.desc())
        .offset(RECENT - 1)
        .limit(1)
    ).first()
    return None if row is None else (_aware(row[0]), rank, row[1])


def _recent(follows: dict[str, set], rules: tuple[list, list], cursor: Key | None):
    """The followed items among the newest `RECENT` posts and the newest `RECENT` comments past `cursor`: the
    window is picked by the index on `created_at` alone, so the database looks at no more rows than that."""
    post_by, comment_by = _followed(follows)
    window = [
        _newest_first(select(model.id).where(_past(model.created_at, rank, model.id, cursor)), model, RECENT)
        for model, rank in ((Post, _POST), (Comment, _COMMENT))
    ]
    yield _posts(Post.id.in_(window[0]), post_by, *rules[0])
    yield _comments(Comment.id.in_(window[1]), comment_by, *rules[1])


def _union(statements, size: int):
    every = union(*[select(s.c.rank, s.c.id, s.c.created_at) for s in (st.subquery() for st in statements)])
    every = every.subquery()
    return (
        select(every.c.created_at, every.c.rank, every.c.id)
        .order_by(every.c.created_at.desc(), every.c.rank.desc(), every.c.id.desc())
        .limit(size + 1)
    )


def _keys(session: Session, statement) -> list[Key]:
    return [(_aware(created_at), rank, item_id) for created_at, rank, item_id in session.execute(statement)]


def feed_keys(session: Session, reader: User, cursor: Key | None = None, size: int = PAGE_SIZE) -> list[Key]:
    """The keys of the next `size` items of `reader`'s feed after `cursor`, and one more if there is one.

    First among the newest items of the whole hub, a window at a time (`_recent`): where a reader follows
    enough, their page is there, found in a few thousand rows whatever the size of the hub. Past `WINDOWS`
    windows the rest is read per kind of follow (`_sources`), each an index range scan that stops after one
    page: a reader who follows little gets there, and little to read.
    """
    standing = _standing(session, reader)
    if not any(standing.following.values()):
        return []
    rules = _rules(reader, standing.muted)
    found: list[Key] = []
    for _ in range(WINDOWS):
        floors = [f for f in (_floor(session, Post, _POST, cursor), _floor(session, Comment, _COMMENT, cursor)) if f]
        floor = max(floors, default=None)
        recent = _keys(session, _union(_recent(standing.following, rules, cursor), size))
        found += [key for key in recent if floor is None or key >= floor]
        if floor is None or len(found) > size:
            return found[: size + 1]
        cursor = floor
    return (found + _keys(session, _union(_sources(standing.following, rules, cursor, size + 1), size)))[: size + 1]


def _aware(value: datetime | str) -> datetime:
    """A timestamp from a union, which SQLite hands back untyped: as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def snippet(text: str, length: int = SNIPPET_LENGTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "\N{HORIZONTAL ELLIPSIS}"


def home_feed(session: Session, reader: User, cursor: str | None = None, size: int = PAGE_SIZE) -> FeedPage:
    """One page of `reader`'s feed after `cursor` (from the page before; None for the newest)."""
    keys = feed_keys(session, reader, decode_cursor(cursor) if cursor else None, size)
    more, keys = len(keys) > size, keys[:size]
    post_ids = [item_id for _, rank, item_id in keys if rank == _POST]
    comment_ids = [item_id for _, rank, item_id in keys if rank == _COMMENT]
    found: dict[tuple[int, int], Post | Comment] = {}
    if post_ids:
        query = select(Post).where(Post.id.in_(post_ids)).options(joinedload(Post.author), joinedload(Post.group))
        found.update(((_POST, p.id), p) for p in session.scalars(query))
    if comment_ids:
        query = (
            select(Comment)
            .where(Comment.id.in_(comment_ids))
            .options(joinedload(Comment.author), joinedload(Comment.post).joinedload(Post.group))
        )
        found.update(((_COMMENT, c.id), c) for c in session.scalars(query))
    counts = reactions.counts_of(session, reader, [(_KIND[rank], item_id) for _, rank, item_id in keys])
    read = read_marks(
        session, reader, {item.post_id if rank == _COMMENT else item.id for (rank, _), item in found.items()}
    )
    items = []
    for created_at, rank, item_id in keys:
        item = found[rank, item_id]
        post = item.post if isinstance(item, Comment) else item
        items.append(
            FeedItem(
                kind=_KIND[rank],
                post_id=post.id,
                id=item.id,
                title=post.title,
                snippet=snippet(item.body_text),
                author=item.author,
                group=post.group,
                created_at=created_at,
                reactions=counts.get((_KIND[rank], item.id)) or dict.fromkeys(reactions.REACTIONS, 0),
                unread=item.author_id != reader.id and _after(created_at, read.get(post.id)),
            )
        )
    return FeedPage(items, encode_cursor(keys[-1]) if more else None)


def postable_groups(session: Session, reader: User) -> list[Group]:
    """The groups `reader` may see and post to, by name (the rule of `groups.can_post`, in one query)."""
    query = visible_groups_query(reader).where(Group.archived_at.is_(None))
    if not reader.is_admin:
        member_of = select(Membership.group_id).where(Membership.user_id == reader.id)
        query = query.where(or_(Group.posting_policy != PostingPolicy.MEMBERS, Group.id.in_(member_of)))
    return list(session.scalars(query.order_by(Group.name)))


def _after(written: datetime, read_at: datetime | None) -> bool:
    return read_at is None or read_at < written


def read_marks(session: Session, reader: User, post_ids) -> dict[int, datetime]:
    """When `reader` last opened each of these threads, for those they opened."""
    if not post_ids:
        return {}
    rows = session.execute(
        select(ThreadRead.post_id, ThreadRead.read_at).where(
            ThreadRead.user_id == reader.id, ThreadRead.post_id.in_(list(post_ids))
        )
    )
    return dict(rows.all())


def mark_read(session: Session, reader: User, post: Post) -> None:
    """`reader` opened `post`'s thread now: one upsert, safe when the same reader opens it twice at once."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(ThreadRead).values(user_id=reader.id, post_id=post.id, read_at=utcnow())
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[ThreadRead.user_id, ThreadRead.post_id], set_={"read_at": statement.excluded.read_at}
        )
    )


@dataclass(frozen=True)
class Thread:
    post: Post
    last_activity: datetime
    comments: int
    unread: bool


@dataclass(frozen=True)
class ThreadPage:
    threads: list[Thread]
    page: int
    pages: int


def threads_by_activity(session: Session, reader: User, group: Group, page: int = 1, page_size: int = 20) -> ThreadPage:
    """One page of the threads of a group the caller found visible to `reader`, the latest post or comment first.

    A thread is unread while someone else wrote in it after `reader` last opened it.
    """
    total = session.scalar(select(func.count()).where(Post.group_id == group.id)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    latest_comment = (
        select(func.max(Comment.created_at))
        .where(Comment.post_id == Post.id, Comment.removed_at.is_(None))
        .scalar_subquery()
    )
    activity = func.coalesce(latest_comment, Post.created_at)
    rows = session.execute(
        select(Post, activity)
        .where(Post.group_id == group.id)
        .options(joinedload(Post.author))
        .order_by(activity.desc(), Post.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    ids = [post.id for post, _ in rows]
    stats = {
        post_id: (count, latest)
        for post_id, count, latest in session.execute(
            select(
                Comment.post_id,
                func.count(),
                func.max(Comment.created_at).filter(Comment.author_id != reader.id),
            )
            .where(Comment.post_id.in_(ids), Comment.removed_at.is_(None))
            .group_by(Comment.post_id)
        )
    }
    read = read_marks(session, reader, ids)
    threads = []
    for post, last in rows:
        count, latest = stats.get(post.id, (0, None))
        by_others = [_aware(latest)] if latest is not None else []
        if post.author_id != reader.id:
            by_others.append(post.created_at)
        unread = bool(by_others) and _after(max(by_others), read.get(post.id))
        threads.append(Thread(post, _aware(last), count, unread))
    return ThreadPage(threads, page, pages)

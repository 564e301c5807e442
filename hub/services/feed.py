"""The home feed, read marks, and a group's threads by last activity.

The feed of one reader is what is new in everything they follow, newest first: posts and
comments by followed people, in followed groups and with followed tags, and comments in followed
threads. What they mute (a thread, a group, a person, a tag) stays out, and so does everything
in a group they may not see and every comment removed by its author.

A page is looked for first among the newest posts and comments of the whole hub, which each
process keeps (hub.services.newest_items); further back, a window of them at a time in SQL; past
those, per kind of follow, each an index range scan (migration 0023) that stops after one page
(`feed_keys`). So a page costs a bounded number of rows however large the hub grows and however
far back the reader pages; bench/feed.py measures it (docs/performance.md).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import (
    String,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from hub.context import context_of
from hub.models import Comment, Follow, Group, Membership, Post, PostingPolicy, Tagging, ThreadRead, User
from hub.models.base import utcnow
from hub.services import reactions
from hub.services.errors import Invalid
from hub.services.newest_items import COMMENT as _COMMENT
from hub.services.newest_items import POST as _POST
from hub.services.newest_items import Key, NewestItems, Window, aware
from hub.services.rendering import snippet
from hub.services.visibility import hidden_group_ids_of, visible_groups_query

PAGE_SIZE = 20
RECENT = 1_000
WINDOWS = 4
"""How many of the newest posts, and of the newest comments, a page looks through at a time, and how many
times, before it reads per kind of follow."""
_KIND = {_POST: "post", _COMMENT: "comment"}


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
class FeedAuthor:
    name: str
    email: str
    deactivated_at: datetime | None
    """When they left (a former colleague), or None."""


@dataclass(frozen=True)
class FeedGroup:
    slug: str
    name: str


@dataclass(frozen=True)
class FeedItem:
    kind: str
    post_id: int
    id: int
    title: str
    snippet: str
    author: FeedAuthor | None
    """None for an anonymous post or comment."""
    group: FeedGroup
    created_at: datetime
    reactions: dict[str, int]
    unread: bool


@dataclass(frozen=True)
class FeedPage:
    items: list[FeedItem]
    next_cursor: str | None


_KINDS = ("person", "group", "post", "tag")


@dataclass
class _Standing:
    """A reader's follows and mutes, by kind of target, and the private groups they may not see."""

    following: dict[str, list] = field(default_factory=lambda: {kind: [] for kind in _KINDS})
    muted: dict[str, list] = field(default_factory=lambda: {kind: [] for kind in _KINDS})
    hidden_groups: list[int] = field(default_factory=list)

    @property
    def shape(self) -> tuple[frozenset[str], frozenset[str]]:
        """The kinds the reader follows and the kinds they mute: what their statements must look at."""
        return (
            frozenset(kind for kind, targets in self.following.items() if targets),
            frozenset(kind for kind, targets in self.muted.items() if targets),
        )

    def parameters(self, reader_id: int) -> dict:
        """The values the feed's statements are built to take (`_list`, `bindparam`)."""
        return {
            "reader": reader_id,
            "hidden_group": self.hidden_groups,
            **{f"following_{kind}": targets for kind, targets in self.following.items()},
            **{f"muted_{kind}": targets for kind, targets in self.muted.items()},
        }


# The statements below are built once for each shape of a reader's follows (`_Standing.shape`: which kinds they
# follow and mute, so a statement looks at nothing a reader has none of), with bound parameters for everything
# that differs from reader to reader and page to page, and run on the session's connection as plain rows: per
# page the database does the work, not the building of statements or of ORM objects.


def _list(name: str):
    return bindparam(name, expanding=True)


_HIDDEN = "hidden"
_hidden = hidden_group_ids_of(bindparam("reader")).subquery()
_STANDING = union_all(
    select(Follow.kind, Follow.person_id, Follow.group_id, Follow.post_id, Follow.tag, Follow.muted).where(
        Follow.user_id == bindparam("reader"), or_(Follow.muted, Follow.following)
    ),
    # The private groups hidden from the reader come along as rows of a kind of their own: one round trip, not two.
    select(literal(_HIDDEN, String), null(), _hidden.c.id, null(), null(), false()),
)


def _standing(connection, reader: User) -> _Standing:
    standing = _Standing()
    for kind, person_id, group_id, post_id, tag, muted in connection.execute(_STANDING, {"reader": reader.id}).all():
        if kind == _HIDDEN:
            standing.hidden_groups.append(group_id)
            continue
        target = {"person": person_id, "group": group_id, "post": post_id, "tag": tag}[kind]
        (standing.muted if muted else standing.following)[kind].append(target)
    return standing


_BEYOND = 2**62
"""Greater than any id: at the cursor's instant, every item of a lower rank comes after it."""
_NEVER = datetime(9999, 12, 31, tzinfo=UTC)
"""Later than anything written: the place of the first page's cursor."""
_EVER = datetime(1970, 1, 1, tzinfo=UTC)
"""Earlier than anything written: the floor of a window that holds everything past the cursor."""


def _past(model):
    """Posts or comments that come after the cursor in the feed: with `_bounds`, (written at, id) below
    (`at`, `below_<rank>`), a range of the `(created_at, id)` indexes."""
    rank = _POST if model is Post else _COMMENT
    return tuple_(model.created_at, model.id) < tuple_(
        bindparam("at", type_=Post.created_at.type), bindparam(f"below_{rank}")
    )


def _bounds(cursor: Key | None) -> dict:
    if cursor is None:
        return {"at": _NEVER, f"below_{_POST}": _BEYOND, f"below_{_COMMENT}": _BEYOND}
    at, cursor_rank, cursor_id = cursor

    def below(rank: int) -> int:
        return _BEYOND if rank < cursor_rank else cursor_id if rank == cursor_rank else 0

    return {"at": at, f"below_{_POST}": below(_POST), f"below_{_COMMENT}": below(_COMMENT)}


def _followed(following: frozenset[str], *, person, group, tagged, thread=None):
    """Whether an item comes from what the reader follows, of the kinds they follow: its author, its group, its
    thread (for a comment) or one of its tags (`tagged(list)`: whether it has a tag in that list)."""
    columns = {"person": person, "group": group, "post": thread}
    terms = [
        column.in_(_list(f"following_{kind}"))
        for kind, column in columns.items()
        if kind in following and column is not None
    ]
    if "tag" in following:
        terms.append(tagged("following_tag"))
    return or_(false(), *terms)


def _rules(muted: frozenset[str], *, person, group, thread, tagged) -> list:
    """What every item in the feed must pass: in a group the reader may see, nothing of it muted."""
    rules = [group.not_in(_list("hidden_group"))]
    columns = {"person": person, "group": group, "post": thread}
    rules += [column.not_in(_list(f"muted_{kind}")) for kind, column in columns.items() if kind in muted]
    if "tag" in muted:
        rules.append(~tagged("muted_tag"))
    return rules


def _newest_first(statement, model, limit):
    return statement.order_by(model.created_at.desc(), model.id.desc()).limit(limit)


def _union(statements):
    every = union(*[select(s.c.rank, s.c.id, s.c.created_at) for s in (st.subquery() for st in statements)])
    every = every.subquery()
    return (
        select(every.c.created_at, every.c.rank, every.c.id)
        .order_by(every.c.created_at.desc(), every.c.rank.desc(), every.c.id.desc())
        .limit(bindparam("size"))
    )


def _floors():
    """The `RECENT`-th newest post and comment past the cursor: where a window ends (a row each, if there are
    that many)."""
    return union(
        *[
            select(literal(rank).label("rank"), w.c.created_at, w.c.id)
            for rank, w in (
                (
                    rank,
                    _newest_first(select(model.created_at, model.id).where(_past(model)), model, 1)
                    .offset(bindparam("recent") - 1)
                    .subquery(),
                )
                for model, rank in ((Post, _POST), (Comment, _COMMENT))
            )
        ]
    )


_FLOORS = _floors()


def _since_floor(rank: int):
    """Written no earlier than the window of `rank` reaches (`_floor_parameters`)."""
    return Tagging.created_at >= bindparam(f"floor_{rank}", type_=Tagging.created_at.type)


def _own_tagging_of_a_post():
    """`comment_id IS NULL`, written so that no index on `comment_id` serves it: SQLite would otherwise seek
    every post's tagging by `(comment_id, tag)` rather than range over `(tag, created_at)` from the floor."""
    return func.coalesce(Tagging.comment_id, 0) == 0


@functools.cache
def _recent(following: frozenset[str], muted: frozenset[str]):
    """The followed items among the newest `RECENT` posts and the newest `RECENT` comments past the cursor.

    Each window is read from an index on `(created_at, id, ...)` that holds every column the rules look at
    (migration 0025a), so the database looks at no more than those rows, and at no table row but a comment's
    post; the followed and muted tags are an index range of the taggings written since the window's floor, read
    once per statement, not a lookup per row.
    """
    posts = _newest_first(
        select(Post.id, Post.created_at, Post.author_id, Post.group_id).where(_past(Post)),
        Post,
        bindparam("recent"),
    ).subquery()
    comments = _newest_first(
        select(Comment.id, Comment.created_at, Comment.post_id, Comment.author_id, Comment.removed_at).where(
            _past(Comment)
        ),
        Comment,
        bindparam("recent"),
    ).subquery()

    def post_tagged(tags: str):
        return posts.c.id.in_(
            select(Tagging.post_id).where(Tagging.tag.in_(_list(tags)), _own_tagging_of_a_post(), _since_floor(_POST))
        )

    def comment_tagged(tags: str):
        return comments.c.id.in_(
            select(Tagging.comment_id).where(
                Tagging.tag.in_(_list(tags)), Tagging.comment_id.is_not(None), _since_floor(_COMMENT)
            )
        )

    post_columns = {"person": posts.c.author_id, "group": posts.c.group_id, "tagged": post_tagged}
    comment_columns = {"person": comments.c.author_id, "group": Post.group_id, "tagged": comment_tagged}
    return _union(
        [
            select(literal(_POST).label("rank"), posts.c.id, posts.c.created_at).where(
                _followed(following, **post_columns), *_rules(muted, thread=posts.c.id, **post_columns)
            ),
            select(literal(_COMMENT).label("rank"), comments.c.id, comments.c.created_at)
            .join(Post, Post.id == comments.c.post_id)
            .where(
                comments.c.removed_at.is_(None),
                _followed(following, thread=comments.c.post_id, **comment_columns),
                *_rules(muted, thread=comments.c.post_id, **comment_columns),
            ),
        ]
    )


@functools.cache
def _sources(following: frozenset[str], muted: frozenset[str]):
    """For each kind of follow the reader has, the newest page of items past the cursor that it brings: an index
    range scan each (migration 0023), the tags looked up per item as the scan goes."""

    def post_tagged(tags: str):
        return exists().where(Tagging.post_id == Post.id, Tagging.comment_id.is_(None), Tagging.tag.in_(_list(tags)))

    def comment_tagged(tags: str):
        return exists().where(Tagging.comment_id == Comment.id, Tagging.tag.in_(_list(tags)))

    def posts(where):
        rules = _rules(muted, person=Post.author_id, group=Post.group_id, thread=Post.id, tagged=post_tagged)
        return _newest_first(
            select(literal(_POST).label("rank"), Post.id, Post.created_at).where(where, _past(Post), *rules),
            Post,
            bindparam("size"),
        )

    def comments(where):
        rules = _rules(
            muted, person=Comment.author_id, group=Post.group_id, thread=Comment.post_id, tagged=comment_tagged
        )
        return _newest_first(
            select(literal(_COMMENT).label("rank"), Comment.id, Comment.created_at)
            .join(Post, Post.id == Comment.post_id)
            .where(where, _past(Comment), Comment.removed_at.is_(None), *rules),
            Comment,
            bindparam("size"),
        )

    statements = []
    if "person" in following:
        statements += [posts(Post.author_id.in_(_list("following_person")))]
        statements += [comments(Comment.author_id.in_(_list("following_person")))]
    if "group" in following:
        statements += [posts(Post.group_id.in_(_list("following_group")))]
        statements += [comments(Post.group_id.in_(_list("following_group")))]
    if "tag" in following:
        tagged = Tagging.tag.in_(_list("following_tag"))
        statements += [posts(Post.id.in_(select(Tagging.post_id).where(tagged, Tagging.comment_id.is_(None))))]
        statements += [comments(Comment.id.in_(select(Tagging.comment_id).where(tagged)))]
    if "post" in following:
        statements += [comments(Comment.post_id.in_(_list("following_post")))]
    return _union(statements)


def _keys(rows) -> list[Key]:
    return [(aware(created_at), rank, item_id) for created_at, rank, item_id in rows]


@dataclass(frozen=True)
class _Tagged:
    following: frozenset[tuple[int, int]]
    muted: frozenset[tuple[int, int]]
    """(rank, id) of the items with a followed tag, and with a muted one."""


_TAGGED_SINCE = select(Tagging.post_id, Tagging.comment_id, Tagging.tag).where(
    Tagging.tag.in_(_list("tags")), Tagging.created_at >= bindparam("since", type_=Tagging.created_at.type)
)


def _tagged_since(connection, standing: _Standing, since: datetime | None) -> _Tagged:
    """The items written since `since` with a tag the reader follows or mutes: an index range per tag."""
    following, muted = set(standing.following["tag"]), set(standing.muted["tag"])
    if since is None or not (following or muted):
        return _Tagged(frozenset(), frozenset())
    rows = connection.execute(_TAGGED_SINCE, {"tags": [*following, *muted], "since": since}).all()
    items = [
        ((_POST, post_id) if comment_id is None else (_COMMENT, comment_id), tag) for post_id, comment_id, tag in rows
    ]
    return _Tagged(
        frozenset(item for item, tag in items if tag in following),
        frozenset(item for item, tag in items if tag in muted),
    )


def _followed_among_newest(window: Window, standing: _Standing, tagged: _Tagged, cursor: Key | None) -> list[Key]:
    """The keys past `cursor` of the items in `window` that the reader follows and may see, newest first, as
    far as the window knows them: a removed comment or a deleted post is still among them (`_still_there`)."""
    following, muted = standing.following, standing.muted
    found: set = set()
    for person in following["person"]:
        found.update(window.by_author.get(person, ()))
    for group in following["group"]:
        found.update(window.by_group.get(group, ()))
    for post in following["post"]:
        found.update(window.by_thread.get(post, ()))
    found.update(window.items[item] for item in tagged.following if item in window.items)
    hidden = {*standing.hidden_groups, *muted["group"]}
    muted_people, muted_threads = set(muted["person"]), set(muted["post"])
    return sorted(
        (
            item.key
            for item in found
            if item.group_id not in hidden
            and item.author_id not in muted_people
            and item.post_id not in muted_threads
            and (item.key[1], item.key[2]) not in tagged.muted
            and (cursor is None or item.key < cursor)
        ),
        reverse=True,
    )


_THERE = union_all(
    select(literal(_POST), Post.id).where(Post.id.in_(_list("posts"))),
    select(literal(_COMMENT), Comment.id).where(Comment.id.in_(_list("comments")), Comment.removed_at.is_(None)),
)


def _still_there(connection, keys: list[Key], wanted: int) -> list[Key]:
    """The first `wanted` of `keys` whose item is still there: not deleted, and not removed by its author."""
    kept: list[Key] = []
    for start in range(0, len(keys), 2 * wanted):
        chunk = keys[start : start + 2 * wanted]
        given = {rank: [item_id for _, r, item_id in chunk if r == rank] for rank in _KIND}
        there = set(connection.execute(_THERE, {"posts": given[_POST], "comments": given[_COMMENT]}).all())
        kept += [key for key in chunk if (key[1], key[2]) in there]
        if len(kept) >= wanted:
            break
    return kept[:wanted]


def feed_keys(session: Session, reader: User, cursor: Key | None = None, size: int = PAGE_SIZE) -> list[Key]:
    """The keys of the next `size` items of `reader`'s feed after `cursor`, and one more if there is one.

    First among the newest `RECENT * WINDOWS` posts and comments, as this process keeps them
    (`_followed_among_newest`): where a reader follows enough, their page is there, found in a few dictionary
    lookups whatever the size of the hub. A cursor further back than those is looked for a window at a time
    in SQL (`_recent`). Past the windows the rest is read per kind of follow (`_sources`), each an index range
    scan that stops after one page: a reader who follows little gets there, and little to read.
    """
    connection = session.connection()
    standing = _standing(connection, reader)
    following, muted = standing.shape
    if not following:
        return []
    given = {**standing.parameters(reader.id), "size": size + 1, "recent": RECENT}
    found: list[Key] = []
    window = context_of(session).kept.setdefault("newest items", NewestItems()).window(connection, RECENT * WINDOWS)
    windows = WINDOWS
    if cursor is None or window.floor is None or cursor > window.floor:
        tagged = _tagged_since(connection, standing, window.oldest)
        newest = _followed_among_newest(window, standing, tagged, cursor)
        found = _still_there(
            connection, [key for key in newest if window.floor is None or key >= window.floor], size + 1
        )
        if window.floor is None or len(found) > size:
            return found[: size + 1]
        cursor, windows = window.floor, 0
    for _ in range(windows):
        bounds = _bounds(cursor)
        floors = {
            rank: (aware(at), rank, item_id) for rank, at, item_id in connection.execute(_FLOORS, {**given, **bounds})
        }
        reaches = {f"floor_{rank}": floors[rank][0] if rank in floors else _EVER for rank in _KIND}
        floor = max(floors.values(), default=None)
        recent = _keys(connection.execute(_recent(following, muted), {**given, **bounds, **reaches}))
        found += [key for key in recent if floor is None or key >= floor]
        if floor is None or len(found) > size:
            return found[: size + 1]
        cursor = floor
    rest = _keys(connection.execute(_sources(following, muted), {**given, **_bounds(cursor)}))
    return (found + rest)[: size + 1]


def _items():
    """What a page shows of its posts and comments, with their authors, groups and the reader's read marks."""
    read = and_(ThreadRead.user_id == bindparam("reader"), ThreadRead.post_id == Post.id)
    columns = (
        User.name,
        User.email,
        User.deactivated_at,
        Group.slug,
        Group.name.label("group_name"),
        ThreadRead.read_at,
    )
    posts = (
        select(
            literal(_POST).label("rank"),
            Post.id,
            Post.id.label("post_id"),
            Post.title,
            Post.body_text,
            Post.author_id,
            *columns,
        )
        .outerjoin(User, User.id == Post.author_id)
        .join(Group, Group.id == Post.group_id)
        .outerjoin(ThreadRead, read)
        .where(Post.id.in_(_list("posts")))
    )
    comments = (
        select(
            literal(_COMMENT).label("rank"),
            Comment.id,
            Comment.post_id,
            Post.title,
            Comment.body_text,
            Comment.author_id,
            *columns,
        )
        .join(Post, Post.id == Comment.post_id)
        .outerjoin(User, User.id == Comment.author_id)
        .join(Group, Group.id == Post.group_id)
        .outerjoin(ThreadRead, read)
        .where(Comment.id.in_(_list("comments")))
    )
    return union_all(posts, comments)


_ITEMS = _items()


def home_feed(session: Session, reader: User, cursor: str | None = None, size: int = PAGE_SIZE) -> FeedPage:
    """One page of `reader`'s feed after `cursor` (from the page before; None for the newest)."""
    keys = feed_keys(session, reader, decode_cursor(cursor) if cursor else None, size)
    more, keys = len(keys) > size, keys[:size]
    if not keys:
        return FeedPage([], None)
    rows = session.connection().execute(
        _ITEMS,
        {
            "reader": reader.id,
            "posts": [item_id for _, rank, item_id in keys if rank == _POST],
            "comments": [item_id for _, rank, item_id in keys if rank == _COMMENT],
        },
    )
    found = {(row.rank, row.id): row for row in rows}
    counts = reactions.counts_of(session, reader, [(_KIND[rank], item_id) for _, rank, item_id in keys])
    items = []
    for created_at, rank, item_id in keys:
        row = found[rank, item_id]
        read_at = None if row.read_at is None else aware(row.read_at)
        items.append(
            FeedItem(
                kind=_KIND[rank],
                post_id=row.post_id,
                id=item_id,
                title=row.title,
                snippet=snippet(row.body_text),
                author=None if row.author_id is None else FeedAuthor(row.name, row.email, row.deactivated_at),
                group=FeedGroup(row.slug, row.group_name),
                created_at=created_at,
                reactions=counts.get((_KIND[rank], item_id)) or dict.fromkeys(reactions.REACTIONS, 0),
                unread=row.author_id != reader.id and _after(created_at, read_at),
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
                func.max(Comment.created_at).filter(or_(Comment.author_id.is_(None), Comment.author_id != reader.id)),
            )
            .where(Comment.post_id.in_(ids), Comment.removed_at.is_(None))
            .group_by(Comment.post_id)
        )
    }
    read = read_marks(session, reader, ids)
    threads = []
    for post, last in rows:
        count, latest = stats.get(post.id, (0, None))
        by_others = [aware(latest)] if latest is not None else []
        if post.author_id != reader.id:
            by_others.append(post.created_at)
        unread = bool(by_others) and _after(max(by_others), read.get(post.id))
        threads.append(Thread(post, aware(last), count, unread))
    return ThreadPage(threads, page, pages)

"""The newest posts and comments of the whole hub, kept by each process for the home feed.

A reader's first page of the feed is found among the newest items of the hub (hub.services.feed).
Reading and filtering those in the database for every page cost more than all the rest of a page
(docs/performance.md), though they are the same for every reader. So each process keeps, for the
newest posts and the newest comments, what never changes about an item: when it was written, its
id, its thread, its author and its group, indexed by author, group and thread, so that a reader's
items there are a few dictionary lookups. What may change (a comment removed, a post deleted, its
tags, who may see a group) is not kept: the feed looks that up in the database.

Before each page the process asks for the last ids of posts and of comments. Where one is new, it
reads the last `LAG` ids of that kind for items it has not taken in: the new ones, and any whose
transaction committed after a later id's had (ids are handed out before commit). An item that
commits later still, `LAG` ids behind, waits for the next process start; that is the price of not
reading the windows again for every page.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, select

from hub.models import Comment, Post

POST, COMMENT = 1, 0
"""Ranks in the feed: of a post and a comment written at the same instant, the post comes first."""
LAG = 64

Key = tuple[datetime, int, int]
"""Where an item stands in the feed: (written at, rank, id), newest first."""


@dataclass(frozen=True)
class Item:
    key: Key
    """(written at, rank, id): its place in the feed, newest first."""
    post_id: int
    author_id: int
    group_id: int


@dataclass(frozen=True)
class Window:
    """The newest `size` posts and `size` comments, as far back as both reach."""

    items: dict[tuple[int, int], Item]
    """By (rank, id)."""
    floor: Key | None
    """The oldest key down to which the window holds every item; None if it holds every item there is."""
    oldest: datetime | None
    """When its oldest item was written."""
    by_author: dict[int, list[Item]] = field(default_factory=lambda: defaultdict(list))
    by_group: dict[int, list[Item]] = field(default_factory=lambda: defaultdict(list))
    by_thread: dict[int, list[Item]] = field(default_factory=lambda: defaultdict(list))
    """Comments by the post they answer."""


def aware(value: datetime | str) -> datetime:
    """A timestamp as SQLite may hand it back (untyped, from a union or a join): an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


_COLUMNS = {
    POST: select(Post.created_at, Post.id, Post.id, Post.author_id, Post.group_id),
    COMMENT: select(Comment.created_at, Comment.id, Comment.post_id, Comment.author_id, Post.group_id).join(
        Post, Post.id == Comment.post_id
    ),
}
_MODEL = {POST: Post, COMMENT: Comment}
_NEWEST = {
    rank: statement.order_by(_MODEL[rank].created_at.desc(), _MODEL[rank].id.desc()).limit(bindparam("size"))
    for rank, statement in _COLUMNS.items()
}
_LATEST_IDS = {rank: statement.where(_MODEL[rank].id > bindparam("after")) for rank, statement in _COLUMNS.items()}
_LAST_IDS = select(select(func.max(Post.id)).scalar_subquery(), select(func.max(Comment.id)).scalar_subquery())


class NewestItems:
    """The window of one process, brought up to date by `window()`; safe to share between its threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._size = 0
        self._held: dict[int, dict[int, Item]] = {POST: {}, COMMENT: {}}
        self._whole: dict[int, bool] = {POST: False, COMMENT: False}
        self._last_id: dict[int, int] = {POST: 0, COMMENT: 0}
        self._seen: dict[int, set[int]] = {POST: set(), COMMENT: set()}
        """The ids among the last `LAG` taken in, held or not (older than the window)."""
        self._window: Window | None = None

    def window(self, connection, size: int) -> Window:
        """The newest `size` posts and `size` comments as the database has them now (`connection`)."""
        with self._lock:
            if self._window is None or size != self._size:
                self._load(connection, size)
            elif self._catch_up(connection):
                self._window = self._build()
            return self._window

    def _load(self, connection, size: int) -> None:
        self._size = size
        for rank in (POST, COMMENT):
            rows = connection.execute(_NEWEST[rank], {"size": size}).all()
            self._held[rank] = {row[1]: _item(rank, row) for row in rows}
            self._whole[rank] = len(rows) < size
            self._last_id[rank] = max(self._held[rank], default=0)
            self._seen[rank] = set(self._held[rank])
        self._catch_up(connection)  # ids past the newest by time: written with an earlier time, or not at all
        self._window = self._build()

    def _catch_up(self, connection) -> bool:
        """Take in the items among the last `LAG` ids not taken in yet, if there is a new last id; whether there
        were any."""
        last_ids = dict(zip((POST, COMMENT), connection.execute(_LAST_IDS).one(), strict=True))
        changed = False
        for rank in (POST, COMMENT):
            if (last_ids[rank] or 0) <= self._last_id[rank]:
                continue
            seen = self._seen[rank]
            for row in connection.execute(_LATEST_IDS[rank], {"after": self._last_id[rank] - LAG}).all():
                if row[1] not in seen:
                    seen.add(row[1])
                    self._held[rank][row[1]] = _item(rank, row)
                    self._last_id[rank] = max(self._last_id[rank], row[1])
                    changed = True
            self._seen[rank] = {item_id for item_id in seen if item_id > self._last_id[rank] - LAG}
        return changed

    def _build(self) -> Window:
        floors = []
        for rank in (POST, COMMENT):
            every = sorted(self._held[rank].values(), key=lambda item: item.key, reverse=True)
            newest = every[: self._size]
            self._held[rank] = {item.key[2]: item for item in newest}
            if len(every) > self._size:
                self._whole[rank] = False
            if not self._whole[rank]:
                floors.append(newest[-1].key)
        items = {(rank, item_id): item for rank, held in self._held.items() for item_id, item in held.items()}
        oldest = min((item.key[0] for item in items.values()), default=None)
        window = Window(items, floor=max(floors, default=None), oldest=oldest)
        for (rank, _), item in window.items.items():
            window.by_author[item.author_id].append(item)
            window.by_group[item.group_id].append(item)
            if rank == COMMENT:
                window.by_thread[item.post_id].append(item)
        return window


def _item(rank: int, row) -> Item:
    created_at, item_id, post_id, author_id, group_id = row
    return Item((aware(created_at), rank, item_id), post_id, author_id, group_id)

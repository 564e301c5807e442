"""Reactions to posts and comments: giving and taking one back, and reading them as a given reader.

Only someone who may see an item reacts to it or sees its reactions: for anyone else the item is
missing (`hub.services.posts.get_post`, `get_comment`), and counts for search hits are read only
for items in groups the reader may see. A thread's reactions, and those of a page of search hits,
are each one query.

A reply by mail that says nothing but a like (`is_like`) becomes a like of what it answers
(`hub.services.inbound`), as Discourse takes a `+1`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.models import Comment, Group, Membership, Post, Reaction, User
from hub.services import inbox
from hub.services.errors import Invalid
from hub.services.groups import require_open

REACTIONS = ("like", "thanks", "agree", "insightful", "celebrate")


@dataclass(frozen=True)
class Reactor:
    name: str
    email: str


@dataclass(frozen=True)
class ItemReactions:
    """The reactions to one post or comment, as one reader sees them."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REACTIONS, 0))
    mine: frozenset[str] = frozenset()
    people: dict[str, list[Reactor]] = field(default_factory=lambda: {r: [] for r in REACTIONS})

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class ThreadReactions:
    """A thread's reactions: the post's, and each comment's by its id."""

    post: ItemReactions
    comments: dict[int, ItemReactions]

    def of(self, comment: Comment) -> ItemReactions:
        return self.comments.get(comment.id) or ItemReactions()


def _checked(reaction: str) -> str:
    if reaction not in REACTIONS:
        raise Invalid("a reaction is one of %(choices)s", choices=", ".join(REACTIONS))
    return reaction


def _item(item: Post | Comment) -> tuple[int, int | None]:
    return (item.post_id, item.id) if isinstance(item, Comment) else (item.id, None)


def _mine(user: User, item: Post | Comment, reaction: str):
    post_id, comment_id = _item(item)
    return select(Reaction.id).where(
        Reaction.user_id == user.id,
        Reaction.post_id == post_id,
        Reaction.reaction == reaction,
        Reaction.comment_id.is_(None) if comment_id is None else Reaction.comment_id == comment_id,
    )


def react(session: Session, user: User, item: Post | Comment, reaction: str) -> bool:
    """Give `reaction` to an item the caller found visible to `user`; False when they had given it already."""
    _checked(reaction)
    require_open(item.group if isinstance(item, Post) else item.post.group)
    if isinstance(item, Comment) and item.removed_at is not None:
        raise Invalid("a comment removed by its author takes no reactions")
    if session.scalar(_mine(user, item, reaction)) is not None:
        return False
    post_id, comment_id = _item(item)
    try:
        with session.begin_nested():  # the same reaction given at the same moment elsewhere: taken as given
            session.add(Reaction(user_id=user.id, post_id=post_id, comment_id=comment_id, reaction=reaction))
    except IntegrityError:
        return False
    inbox.notify_reaction(session, user, item, reaction)
    return True


def unreact(session: Session, user: User, item: Post | Comment, reaction: str) -> bool:
    """Take `reaction` back; False when there was none to take."""
    _checked(reaction)
    gone = session.execute(delete(Reaction).where(Reaction.id.in_(_mine(user, item, reaction))))
    if gone.rowcount:
        inbox.withdraw_reaction(session, user, item, reaction)
    return gone.rowcount > 0


def _collect(rows, viewer: User) -> dict[int | None, ItemReactions]:
    """Rows of (comment id, reaction, user id, name, email), oldest first, as reactions per item."""
    items: dict[int | None, ItemReactions] = {}
    mine: dict[int | None, set[str]] = {}
    for comment_id, reaction, user_id, name, email in rows:
        item = items.setdefault(comment_id, ItemReactions())
        item.counts[reaction] += 1
        item.people[reaction].append(Reactor(name, email))
        if user_id == viewer.id:
            mine.setdefault(comment_id, set()).add(reaction)
    return {key: ItemReactions(item.counts, frozenset(mine.get(key, ())), item.people) for key, item in items.items()}


def of_thread(session: Session, viewer: User, post: Post) -> ThreadReactions:
    """Reactions to a post the caller found visible to `viewer`, and to each of its comments."""
    rows = session.execute(
        select(Reaction.comment_id, Reaction.reaction, User.id, User.name, User.email)
        .join(User, User.id == Reaction.user_id)
        .where(Reaction.post_id == post.id, Reaction.reaction.in_(REACTIONS))
        .order_by(Reaction.id)
    ).all()
    items = _collect(rows, viewer)
    return ThreadReactions(items.pop(None, ItemReactions()), items)


def of_item(session: Session, viewer: User, item: Post | Comment) -> ItemReactions:
    """Reactions to one item the caller found visible to `viewer`."""
    thread = of_thread(session, viewer, item.post if isinstance(item, Comment) else item)
    return thread.of(item) if isinstance(item, Comment) else thread.post


def _counts():
    member_of = select(Membership.group_id).where(Membership.user_id == bindparam("viewer"))
    return (
        select(Reaction.post_id, Reaction.comment_id, Reaction.reaction, func.count())
        .join(Post, Post.id == Reaction.post_id)
        .join(Group, Group.id == Post.group_id)
        .where(
            or_(Group.is_private.is_(False), Group.id.in_(member_of)),
            or_(
                Reaction.post_id.in_(bindparam("posts", expanding=True)) & Reaction.comment_id.is_(None),
                Reaction.comment_id.in_(bindparam("comments", expanding=True)),
            ),
            Reaction.reaction.in_(REACTIONS),
        )
        .group_by(Reaction.post_id, Reaction.comment_id, Reaction.reaction)
    )


_COUNTS = _counts()
"""Built once: a page of the feed or of search hits asks for it each time."""


def counts_of(session: Session, viewer: User, items: list[tuple[str, int]]) -> dict[tuple[str, int], dict[str, int]]:
    """Counts per reaction of posts and comments (`("post", id)` or `("status", id)`, `("comment", id)`) in one query, say a page of
    search hits; items of other kinds, or in groups `viewer` may not see, are left out."""
    post_kinds = {item_id: kind for kind, item_id in items if kind in ("post", "status")}
    comment_ids = [item_id for kind, item_id in items if kind == "comment"]
    if not post_kinds and not comment_ids:
        return {}
    rows = session.execute(_COUNTS, {"viewer": viewer.id, "posts": list(post_kinds), "comments": comment_ids}).all()
    wanted = set(items)
    counts: dict[tuple[str, int], dict[str, int]] = {}
    for post_id, comment_id, reaction, count in rows:
        key = (post_kinds.get(post_id, "post"), post_id) if comment_id is None else ("comment", comment_id)
        if key in wanted:
            counts.setdefault(key, dict.fromkeys(REACTIONS, 0))[reaction] = count
    return counts


_THUMBS_UP = "\N{THUMBS UP SIGN}"
_DROPPED = {ord("\N{VARIATION SELECTOR-16}"): None, **{c: None for c in range(0x1F3FB, 0x1F400)}}  # skin tones
_LIKES = {"+1", _THUMBS_UP, "like", "eens", "duim omhoog"}
_AROUND = " \t\r\n.,!?;:()[]{}'\"*_~-\u2018\u2019\u201c\u201d\u2026"


def is_like(reply_text: str) -> bool:
    """Whether a reply's own words (trimmed of quotes and signature) say only that its author likes
    what it answers: `+1`, a thumbs-up in any skin tone, `like`, `eens` or `duim omhoog`, in any case,
    with punctuation and space around it.

    >>> [is_like(t) for t in ("+1", " Like! ", "👍🏽", "Duim  omhoog.", "+1 but what about X", "+2", "")]
    [True, True, True, True, False, False, False]
    """
    text = unicodedata.normalize("NFC", reply_text).translate(_DROPPED).strip(_AROUND)
    return " ".join(text.casefold().split()) in _LIKES

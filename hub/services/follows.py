"""Following and muting people, groups, threads and tags.

A reader follows what they want to hear of: posts by a person, posts in a group, comments in a
thread, posts with a tag. Joining a group follows it and leaving unfollows it
(`hub.services.groups`); writing in a thread follows it (`hub.services.posts`). Muting silences
a target whether or not it is followed; unmuting gives back the follow as it was.

These functions take targets that the caller has already found as the reader may see them
(`get_visible_group`, `posts.get_post`): following a thing never tells whether it exists.
What a reader follows in a group they can no longer see is kept but never listed
(`list_follows`), so that it comes back if they rejoin.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from hub.models import Follow, FollowKind, Group, Post, User
from hub.services.tags import normalize_tag
from hub.services.visibility import visible_group_ids
from hub.urls import group_path, person_path, post_path, tag_path

Target = User | Group | Post | str
"""A person, a group, a thread (its post) or a tag."""

_COLUMNS = {
    FollowKind.PERSON: Follow.person_id,
    FollowKind.GROUP: Follow.group_id,
    FollowKind.POST: Follow.post_id,
    FollowKind.TAG: Follow.tag,
}


def _kind_and_key(target: Target) -> tuple[FollowKind, int | str]:
    if isinstance(target, User):
        return FollowKind.PERSON, target.id
    if isinstance(target, Group):
        return FollowKind.GROUP, target.id
    if isinstance(target, Post):
        return FollowKind.POST, target.id
    return FollowKind.TAG, normalize_tag(target)


def standing(session: Session, user: User, target: Target) -> Follow | None:
    """`user`'s row for `target`, None when they neither follow nor mute it."""
    kind, key = _kind_and_key(target)
    return session.scalar(select(Follow).where(Follow.user_id == user.id, _COLUMNS[kind] == key))


def _set(session: Session, user: User, target: Target, **flags: bool) -> Follow | None:
    kind, key = _kind_and_key(target)
    row = standing(session, user, target)
    if row is None:
        if not any(flags.values()):
            return None
        row = Follow(user_id=user.id, kind=kind, following=False, muted=False)
        setattr(row, _COLUMNS[kind].key, key)
        session.add(row)
    for flag, value in flags.items():
        setattr(row, flag, value)
    if not row.following and not row.muted:
        session.delete(row)
        row = None
    session.flush()
    return row


def follow(session: Session, user: User, target: Target) -> Follow:
    return _set(session, user, target, following=True)


def unfollow(session: Session, user: User, target: Target) -> None:
    _set(session, user, target, following=False)


def mute(session: Session, user: User, target: Target) -> Follow:
    return _set(session, user, target, muted=True)


def unmute(session: Session, user: User, target: Target) -> None:
    _set(session, user, target, muted=False)


def is_following(session: Session, user: User, target: Target) -> bool:
    row = standing(session, user, target)
    return row is not None and row.following and not row.muted


def is_muted(session: Session, user: User, target: Target) -> bool:
    row = standing(session, user, target)
    return row is not None and row.muted


def mutes_group(user_id: object, group_id: object) -> ColumnElement[bool]:
    """Whether reader `user_id` muted group `group_id`: values or columns, so one query asks it of many readers."""
    return exists().where(Follow.user_id == user_id, Follow.group_id == group_id, Follow.muted.is_(True))


def mutes_thread(user_id: object, post: Post) -> ColumnElement[bool]:
    """Whether reader `user_id` muted `post`'s thread or its group, as `mutes_group`."""
    return exists().where(
        Follow.user_id == user_id,
        Follow.muted.is_(True),
        or_(Follow.group_id == post.group_id, Follow.post_id == post.id),
    )


def list_follows(session: Session, user: User) -> list[Follow]:
    """Everything `user` follows or mutes that they may still see, newest first.

    A group, or a thread in a group, that they cannot see is left out; people and tags are
    always listed. Read by the user's own rows (a few hundred at most) and sifted here: a
    condition on the targets in SQL lets SQLite look through everyone's follows.
    """
    rows = session.scalars(
        select(Follow).where(Follow.user_id == user.id).order_by(Follow.created_at.desc(), Follow.id.desc())
    ).all()
    seen = set(session.scalars(visible_group_ids(user)))
    threads = [row.post_id for row in rows if row.post_id is not None]
    group_of_thread = dict(session.execute(select(Post.id, Post.group_id).where(Post.id.in_(threads))).all())
    return [
        row
        for row in rows
        if (row.group_id is None and row.post_id is None)
        or row.group_id in seen
        or group_of_thread.get(row.post_id) in seen
    ]


@dataclass(frozen=True)
class Followed:
    """One row of `list_follows` as a reader reads it: what it is, by which name, and where it is."""

    kind: FollowKind
    target: str
    """What names it in `/api/follows/{kind}/{target}`: an address, a slug, a post's id or a tag."""
    name: str
    path: str
    following: bool
    muted: bool


def describe(target: Target, row: Follow | None) -> Followed:
    """`target` with the reader's standing towards it (`row`, from `standing`)."""
    following, muted = (row.following, row.muted) if row is not None else (False, False)
    if isinstance(target, User):
        return Followed(FollowKind.PERSON, target.email, target.name, person_path(target.email), following, muted)
    if isinstance(target, Group):
        return Followed(FollowKind.GROUP, target.slug, target.name, group_path(target.slug), following, muted)
    if isinstance(target, Post):
        return Followed(FollowKind.POST, str(target.id), target.title, post_path(target.id), following, muted)
    tag = normalize_tag(target)
    return Followed(FollowKind.TAG, tag, f"#{tag}", tag_path(tag), following, muted)


def standing_of(session: Session, user: User, target: Target) -> Followed:
    """`target` described with `user`'s standing towards it, for a follow button."""
    return describe(target, standing(session, user, target))


def _target_of(session: Session, row: Follow) -> Target:
    if row.tag is not None:
        return row.tag
    model, key = (User, row.person_id) if row.person_id else (Group, row.group_id) if row.group_id else (Post, row.post_id)
    return session.get(model, key)


def described_follows(session: Session, user: User) -> list[Followed]:
    """`list_follows`, each with its name and link."""
    rows = list_follows(session, user)
    for model, column in ((User, "person_id"), (Group, "group_id"), (Post, "post_id")):
        wanted = [getattr(row, column) for row in rows if getattr(row, column) is not None]
        if wanted:  # into the session's identity map at once, where `_target_of` finds them
            session.scalars(select(model).where(model.id.in_(wanted))).all()
    return [describe(_target_of(session, row), row) for row in rows]

"""What a profile shows besides what the person wrote about themselves: where they stand (department,
manager, direct reports), their groups and what they wrote lately.

Groups and activity go through the reader's eyes: a private group the reader is not in, and everything
in it, is left out as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Comment, Department, Group, Membership, Post, User
from hub.services import accounts, personal
from hub.services.errors import NotFound
from hub.services.rendering import snippet
from hub.services.visibility import visible_group_ids

RECENT_ACTIVITY = 10


def get_person(session: Session, reader: User, email: str) -> User:
    """The person with address `email`, as `reader` may look them up.

    An external author of an imported archive (`User.external`) is only there for a reader who may see
    something they wrote: from a private group's archive, that they exist would tell of it."""
    person = accounts.get_user(session, email)
    if person.external and person.id != reader.id and not session.scalar(select(
        select(Post.id).where(Post.author_id == person.id, Post.group_id.in_(visible_group_ids(reader))).exists()
        | select(Comment.id).join(Post, Comment.post_id == Post.id)
        .where(Comment.author_id == person.id, Post.group_id.in_(visible_group_ids(reader))).exists()
    )):
        raise NotFound("no user with address %(email)s", email=email)
    return person


@dataclass(frozen=True)
class Activity:
    kind: str
    """`post` or `comment`."""
    id: int
    post_id: int
    title: str
    """The thread's title."""
    snippet: str
    group: Group
    created_at: datetime


@dataclass(frozen=True)
class PersonDetails:
    department: Department | None
    manager: User | None
    reports: list[User]
    """Their direct reports still with the company, by name."""
    groups: list[Group]
    activity: list[Activity]
    statuses: list[personal.PersonalPost]
    """Their newest short updates the reader may see (`hub.services.personal`)."""


def recent_activity(session: Session, reader: User, person: User, limit: int = RECENT_ACTIVITY) -> list[Activity]:
    """The newest posts and comments of `person` that `reader` may see."""
    seen = visible_group_ids(reader)
    posts = session.scalars(
        select(Post)
        .where(Post.author_id == person.id, Post.group_id.in_(seen))
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(limit)
    )
    comments = session.scalars(
        select(Comment)
        .join(Post, Post.id == Comment.post_id)
        .where(Comment.author_id == person.id, Comment.removed_at.is_(None), Post.group_id.in_(seen))
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
    )
    found = [Activity("post", p.id, p.id, p.title, snippet(p.body_text), p.group, p.created_at) for p in posts]
    found += [
        Activity("comment", c.id, c.post_id, c.post.title, snippet(c.body_text), c.post.group, c.created_at)
        for c in comments
    ]
    found.sort(key=lambda a: (a.created_at, a.kind == "post", a.id), reverse=True)
    return found[:limit]


def person_details(session: Session, reader: User, person: User) -> PersonDetails:
    groups = list(
        session.scalars(
            select(Group)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.user_id == person.id, Group.id.in_(visible_group_ids(reader)))
            .order_by(Group.name, Group.id)
        )
    )
    reports = list(
        session.scalars(
            select(User).where(User.manager_id == person.id, User.deactivated_at.is_(None)).order_by(User.name, User.id)
        )
    )
    return PersonDetails(
        department=session.get(Department, person.department_id) if person.department_id else None,
        manager=session.get(User, person.manager_id) if person.manager_id else None,
        reports=reports,
        groups=groups,
        activity=recent_activity(session, reader, person),
        statuses=personal.recent_statuses(session, reader, person),
    )

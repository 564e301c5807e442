"""The one rule of who sees what: a public group is open to every user of the hub; a private
group, and everything in it, exists only for its members.

Every page and API answer goes through `visible_groups_query` or `can_see`, every search
through `group_access`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.models import Group, GroupKind, Membership, User


def find_membership(session: Session, group: Group, user: User) -> Membership | None:
    return session.scalar(select(Membership).where(Membership.group_id == group.id, Membership.user_id == user.id))


def memberships_of(session: Session, user: User, groups: list[Group]) -> dict[int, Membership | None]:
    """`user`'s membership of each of `groups`, by group id (None where they are no member), in one query."""
    found = {group.id: None for group in groups}
    for membership in session.scalars(
        select(Membership).where(Membership.user_id == user.id, Membership.group_id.in_(list(found)))
    ):
        found[membership.group_id] = membership
    return found


def _visible_to(user_id):
    member_of = select(Membership.group_id).where(Membership.user_id == user_id)
    return or_(Group.is_private.is_(False), Group.id.in_(member_of))


def visible_groups_query(user: User):
    """The groups `user` may see, to list: never a personal space (`hub.services.personal`), which is read as
    a public group but listed as no group."""
    return select(Group).where(_visible_to(user.id), Group.kind == GroupKind.GROUP)


@dataclass(frozen=True)
class GroupAccess:
    """Every group there is, split by whether one user may see it: what search filters on."""

    visible: frozenset[int]
    hidden: frozenset[int]


def group_access(session: Session, user: User) -> GroupAccess:
    """Which groups `user` may see and which not, read in one query so the two agree."""
    member_of = select(Membership.group_id).where(Membership.user_id == user.id)
    rows = session.execute(select(Group.id, or_(Group.is_private.is_(False), Group.id.in_(member_of)))).all()
    return GroupAccess(
        visible=frozenset(group_id for group_id, seen in rows if seen),
        hidden=frozenset(group_id for group_id, seen in rows if not seen),
    )


def can_see(session: Session, user: User, group: Group) -> bool:
    return not group.is_private or find_membership(session, group, user) is not None


def visible_group_ids(user: User):
    """The ids of the groups `user` may see, as a subquery to filter any listing by."""
    return visible_group_ids_of(user.id)


def visible_group_ids_of(user_id):
    """`visible_group_ids` of the user with `user_id`, which may be a bound parameter: a statement built once
    then serves every reader."""
    return select(Group.id).where(_visible_to(user_id))


def hidden_group_ids_of(user_id):
    """The ids of the private groups the user with `user_id` (which may be a bound parameter) is not a member
    of: what a listing must leave out, a short list where most groups are public."""
    member_of = select(Membership.group_id).where(Membership.user_id == user_id)
    return select(Group.id).where(Group.is_private.is_(True), Group.id.not_in(member_of))

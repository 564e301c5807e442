"""Who is in a group whose membership follows the directory: the all-company group (every active person)
and department groups (the active people of a department and of every department below it).

A department group takes the departments below its own, as HumHub's and Viva Engage's do and as
`/org` counts a department's people: a group for `KPN/Consumer` is for everyone who works in
Consumer, whatever team they are in.

Membership is kept in step whenever people change: `place` for one person (created, deactivated,
reactivated), `keep_in_step` for everyone after an import or a directory sync: the directory and
the managed memberships are each read once, and each managed group gets one set-difference, so a
batch of 30,000 costs the same few queries as a batch of one. Joining adds a follow of the group
and leaving takes it away, as `hub.services.groups` does by hand; a member keeps choosing how they
get the group's mail.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, and_, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from hub.models import Delivery, Department, Follow, FollowKind, Group, Membership, User, utcnow

CHUNK = 500
"""Ids per statement: SQLite takes at most 32,766 parameters in one."""


def follows_directory(group: Group) -> bool:
    return group.follows_everyone or group.follows_department_id is not None


def managed_groups_query() -> Select[tuple[Group]]:
    return select(Group).where(or_(Group.follows_everyone.is_(True), Group.follows_department_id.is_not(None)))


def place(session: Session, user: User) -> None:
    """Put `user` in the managed groups they belong in now, and take them out of the others."""
    session.flush()
    _keep(session, [user.id])


def keep_in_step(session: Session, groups: Sequence[Group] | None = None) -> None:
    """Bring the membership of every managed group (or of `groups`) in line with the directory."""
    session.flush()
    _keep(session, None, groups)


def _keep(session: Session, user_ids: list[int] | None, groups: Sequence[Group] | None = None) -> None:
    managed = list(groups) if groups is not None else list(session.scalars(managed_groups_query()))
    managed = [group for group in managed if follows_directory(group) and group.archived_at is None]
    if not managed:
        return
    active = select(User.id, User.department_id, User.default_delivery).where(User.deactivated_at.is_(None))
    if user_ids is not None:
        active = active.where(User.id.in_(user_ids))
    people = session.execute(active).all()
    parents = dict(session.execute(select(Department.id, Department.parent_id)).tuples().all())
    by_department: dict[int, list[Group]] = defaultdict(list)
    for group in managed:
        if group.follows_department_id is not None:
            by_department[group.follows_department_id].append(group)
    wanted: dict[int, set[int]] = {group.id: set() for group in managed}
    delivery = {}
    for user_id, department_id, default_delivery in people:
        delivery[user_id] = default_delivery
        for group in managed:
            if group.follows_everyone:
                wanted[group.id].add(user_id)
        seen = set()
        while department_id is not None and department_id not in seen:
            seen.add(department_id)
            for group in by_department.get(department_id, ()):
                wanted[group.id].add(user_id)
            department_id = parents.get(department_id)
    members = select(Membership.group_id, Membership.user_id).where(Membership.group_id.in_(wanted))
    if user_ids is not None:
        members = members.where(Membership.user_id.in_(user_ids))
    current: dict[int, set[int]] = defaultdict(set)
    for group_id, user_id in session.execute(members):
        current[group_id].add(user_id)
    for group_id, want in wanted.items():
        _join(session, group_id, sorted(want - current[group_id]), delivery)
        _leave(session, group_id, sorted(current[group_id] - want))
    _forget_loaded(session, managed)


def _forget_loaded(session: Session, groups: list[Group]) -> None:
    """The statements above went around the session: what it holds of memberships and follows is read again."""
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, Membership | Follow):
            session.expire(loaded)
        elif isinstance(loaded, User):
            session.expire(loaded, ["memberships"])
    for group in groups:
        session.expire(group, ["memberships"])


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _join(session: Session, group_id: int, user_ids: list[int], delivery: dict[int, str]) -> None:
    if not user_ids:
        return
    now = utcnow()  # one moment for the batch, as the rows are written in bulk, around the ORM
    session.execute(
        insert(Membership.__table__),
        [
            {"group_id": group_id, "user_id": user_id, "delivery": Delivery(delivery[user_id]), "created_at": now}
            for user_id in user_ids
        ],
    )
    for chunk in _chunks(user_ids):
        rows = select(Follow.user_id).where(Follow.group_id == group_id, Follow.user_id.in_(chunk))
        known = set(session.scalars(rows))
        if known:
            session.execute(
                update(Follow)
                .where(Follow.group_id == group_id, Follow.user_id.in_(known))
                .values(following=True)
                .execution_options(synchronize_session=False)
            )
        fresh = [user_id for user_id in chunk if user_id not in known]
        if fresh:
            session.execute(
                insert(Follow.__table__),
                [
                    {
                        "user_id": user_id,
                        "kind": FollowKind.GROUP.value,
                        "group_id": group_id,
                        "following": True,
                        "muted": False,
                        "created_at": now,
                    }
                    for user_id in fresh
                ],
            )


def _leave(session: Session, group_id: int, user_ids: list[int]) -> None:
    for chunk in _chunks(user_ids):
        session.execute(
            delete(Membership)
            .where(Membership.group_id == group_id, Membership.user_id.in_(chunk))
            .execution_options(synchronize_session=False)
        )
        in_group = and_(Follow.group_id == group_id, Follow.user_id.in_(chunk))
        session.execute(
            delete(Follow).where(in_group, Follow.muted.is_(False)).execution_options(synchronize_session=False)
        )
        session.execute(
            update(Follow).where(in_group).values(following=False).execution_options(synchronize_session=False)
        )

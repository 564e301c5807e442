"""The department tree as people browse it: every department with how many people work in it, and a
department's page: its people with the manager first, its sub-departments, and the groups its people
are most active in.

A department's number of people counts everyone in it and in the departments below it, deactivated
people left out. The tree is read in two queries (the departments, and the people per department)
and summed up the tree in Python, once per process until the organisation changes (`OrganisationVersion`).

The manager of a department is the person in it with the most direct reports among the people of the
department and the departments below it (a head of department manages the heads of its sub-departments
more often than the people beside them); ties go to the first by name; with no reports at all, no one
is marked. The most active groups count posts and comments of the department's people (below it too)
in the last `ACTIVE_DAYS` days (at most the newest `ACTIVITY_SAMPLE` of each), in the groups the reader
may see only: a private group is neither shown nor counted for a non-member. The counts are the same for every
reader, so a process keeps them until something new is written (`_activity`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import bindparam, func, select, union_all
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models import Comment, Department, Group, GroupKind, OrganisationVersion, Post, User
from hub.models.base import utcnow
from hub.services.directory import subtree_ids
from hub.services.errors import NotFound
from hub.services.visibility import hidden_group_ids_of

_KEPT = "department tree"
_KEPT_ACTIVITY = "department activity"
ACTIVE_DAYS = 90
ACTIVE_GROUPS = 5
ACTIVITY_SAMPLE = 1_000
"""The newest posts, and comments, of those days that are counted: all of them for most departments, the latest
for the largest, so a page costs the same at the top of the tree as at the bottom."""
ACTIVITY_KEPT = timedelta(minutes=10)
"""How long a process counts a department's most active groups as they were, while nothing new is written: what a
removal or the days moving on may take to show."""
FEW = 2_000
"""Up to this many people, a department's items are found by author; above, by time. By author reads all their
items of those days; by time reads items until the sample holds their newest, about `ACTIVITY_SAMPLE` divided by
their share of everyone's: the two cost about the same where they share a tenth of everyone's items."""


@dataclass
class DepartmentNode:
    id: int
    name: str
    path: str
    parent_id: int | None
    people: int = 0
    """In this department and every department below it."""
    children: list[DepartmentNode] = field(default_factory=list)


@dataclass(frozen=True)
class ActiveGroup:
    group: Group
    items: int
    """Posts and comments by the department's people in the last `ACTIVE_DAYS` days."""


@dataclass(frozen=True)
class DepartmentPage:
    department: Department
    ancestors: list[Department]
    manager: User | None
    people: list[User]
    """Everyone in this department itself, the manager first, then by name."""
    children: list[DepartmentNode]
    active_groups: list[ActiveGroup]


def _active():
    return User.deactivated_at.is_(None)


def _nodes(session: Session) -> dict[int, DepartmentNode]:
    """Every department with its people counted up the tree, as this process counted them at the organisation's
    present version (`OrganisationVersion`): counted again only once the tree or who is in it has changed. The
    nodes are shared by every request of the process, so no caller changes them."""
    version = session.scalar(select(OrganisationVersion.version))
    kept = context_of(session).kept.get(_KEPT)
    if kept is not None and kept[0] == version:
        return kept[1]
    connection = session.connection()
    statement = select(Department.id, Department.name, Department.path, Department.parent_id)
    counted = select(User.department_id, func.count()).where(_active(), User.department_id.is_not(None))
    nodes = {row.id: DepartmentNode(row.id, row.name, row.path, row.parent_id) for row in connection.execute(statement)}
    for department_id, people in connection.execute(counted.group_by(User.department_id)):
        node = nodes.get(department_id)
        while node is not None:
            node.people += people
            node = nodes.get(node.parent_id)
    for node in sorted(nodes.values(), key=lambda n: (n.name.lower(), n.id)):
        if node.parent_id in nodes:
            nodes[node.parent_id].children.append(node)
    context_of(session).kept[_KEPT] = (version, nodes)
    return nodes


def department_tree(session: Session) -> list[DepartmentNode]:
    """The departments at the top, A to Z, each with the departments below it."""
    nodes = _nodes(session)
    return sorted((n for n in nodes.values() if n.parent_id is None), key=lambda n: (n.name.lower(), n.id))


def get_department(session: Session, department_id: int) -> Department:
    department = session.get(Department, department_id)
    if department is None:
        raise NotFound("no department %(id)s", id=department_id)
    return department


def _manager(session: Session, department: Department, people: list[User]) -> User | None:
    here = {person.id: person for person in people}
    if not here:
        return None
    reports = session.execute(
        select(User.manager_id, func.count())
        .where(_active(), User.manager_id.in_(here), User.department_id.in_(subtree_ids(department)))
        .group_by(User.manager_id)
    ).all()
    if not reports:
        return None
    most = max(count for _, count in reports)
    return min((here[manager_id] for manager_id, count in reports if count == most), key=lambda p: (p.name, p.id))


def active_groups(
    session: Session, reader: User, department: Department, limit: int = ACTIVE_GROUPS
) -> list[ActiveGroup]:
    """The groups the reader may see that the department's people wrote most in lately, most first."""
    hidden = set(session.scalars(_HIDDEN, {"reader": reader.id}))
    shown = [(group_id, items) for group_id, items in _activity(session, department) if group_id not in hidden][:limit]
    named = {group.id: group for group in session.scalars(select(Group).where(Group.id.in_([g for g, _ in shown])))}
    return [ActiveGroup(named[group_id], items) for group_id, items in shown]


_HIDDEN = hidden_group_ids_of(bindparam("reader"))
_NEWEST = select(
    select(func.max(Post.id)).scalar_subquery(),
    select(func.max(Comment.id)).scalar_subquery(),
    select(OrganisationVersion.version).scalar_subquery(),
)


def _activity(session: Session, department: Department) -> list[tuple[int, int]]:
    """(group id, items) of every group the department's people wrote in lately, most first, whoever reads: kept by
    the process until anything new is written anywhere or someone moves, or for `ACTIVITY_KEPT` (a removal, and the
    days moving on)."""
    newest, now = tuple(session.execute(_NEWEST).one()), utcnow()
    kept = context_of(session).kept.setdefault(_KEPT_ACTIVITY, {})
    found = kept.get(department.id)
    if found is not None and found[0] == newest and now - found[1] < ACTIVITY_KEPT:
        return found[2]
    counted = _count_activity(session, department, since=now - timedelta(days=ACTIVE_DAYS))
    kept[department.id] = (newest, now, counted)
    return counted


def _count_activity(session: Session, department: Department, since) -> list[tuple[int, int]]:
    below = subtree_ids(department)
    authors = select(User.id).where(User.department_id.in_(below))
    few = session.scalar(select(func.count()).select_from(authors.limit(FEW + 1).subquery())) <= FEW
    # A few people's items are read by author (an index each); many people's by time, newest first, until the
    # sample is full, each item's author looked up by id: `+ 0` keeps the database from the author index, which
    # would read every item of them all.
    if few:
        posts = select(Post.group_id.label("group_id")).where(Post.author_id.in_(authors))
        comments = select(Comment.post_id).where(Comment.author_id.in_(authors))
    else:
        posts = (
            select(Post.group_id.label("group_id"))
            .join(User, User.id == Post.author_id + 0)
            .where(User.department_id.in_(below))
        )
        comments = (
            select(Comment.post_id).join(User, User.id == Comment.author_id + 0).where(User.department_id.in_(below))
        )
    wrote = posts.where(Post.created_at >= since).order_by(Post.created_at.desc()).limit(ACTIVITY_SAMPLE).subquery()
    answered = (
        comments.where(Comment.created_at >= since, Comment.removed_at.is_(None))
        .order_by(Comment.created_at.desc())
        .limit(ACTIVITY_SAMPLE)
        .subquery()
    )
    in_threads = select(Post.group_id.label("group_id")).join(answered, answered.c.post_id == Post.id)
    written = union_all(select(wrote.c.group_id), in_threads).subquery()
    items = func.count().label("items")
    # The sample is of everything they wrote, counted for every reader; what a reader may not see is left out when
    # it is shown (`active_groups`), neither shown nor counted.
    rows = session.execute(
        select(Group.id, items)
        .join(written, written.c.group_id == Group.id)
        .where(Group.kind == GroupKind.GROUP)
        .group_by(Group.id, Group.name)
        .order_by(items.desc(), Group.name, Group.id)
    ).all()
    return [(group_id, count) for group_id, count in rows]


def department_page(session: Session, reader: User, department_id: int) -> DepartmentPage:
    department = get_department(session, department_id)
    people = list(
        session.scalars(select(User).where(_active(), User.department_id == department.id).order_by(User.name, User.id))
    )
    manager = _manager(session, department, people)
    if manager is not None:
        people = [manager, *(person for person in people if person.id != manager.id)]
    ancestors = []
    parent = department.parent
    while parent is not None:
        ancestors.insert(0, parent)
        parent = parent.parent
    return DepartmentPage(
        department,
        ancestors,
        manager,
        people,
        _nodes(session)[department.id].children,
        active_groups(session, reader, department),
    )

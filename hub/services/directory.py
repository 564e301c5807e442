"""The people directory: everyone still with the company, found by name, address, title or expertise,
narrowed by department (with the departments below it), location, expertise and first letter, A to Z.

People are not private, so the directory needs no visibility rule; deactivated people are left out.
A page is one query read along the `(name, id)` index (migration 0026) from a cursor, so paging
through 30,000 people costs the same on every page (bench/directory.py, docs/performance.md).
Names sort as the database collates them: case-insensitively on PostgreSQL, byte order on SQLite.
"""

from __future__ import annotations

import base64
import binascii
import json
import string
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.util import ClauseAdapter

from hub.models import Department, User
from hub.services.errors import Invalid, NotFound
from hub.services.profiles import expertise_tags

PAGE_SIZE = 30
MAX_QUERY = 200
SCAN_WINDOW = 1_000
"""How many people, in name order, a search word is first matched against (`people_page`)."""
MANY = 2_000
"""A department with at least this many people (below it too) is read along the name index, where a page fills
after a few hundred rows; a smaller one by its people, sorted: either way a page reads a bounded number of rows."""
LETTERS = string.ascii_uppercase


@dataclass(frozen=True)
class Filters:
    q: str = ""
    department: str = ""
    """A department's path: its people and those of every department below it."""
    location: str = ""
    expertise: str = ""
    letter: str = ""
    """A to Z: names that start with it, in either case."""


@dataclass(frozen=True)
class PeoplePage:
    people: list[User]
    next_cursor: str | None


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _encode_cursor(user: User) -> str:
    return base64.urlsafe_b64encode(json.dumps([user.name, user.id]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        name, user_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(name, str) or not isinstance(user_id, int) or isinstance(user_id, bool):
            raise ValueError(cursor)
        return name, user_id
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise Invalid("the cursor %(cursor)s is not one the directory gave out", cursor=repr(cursor[:100])) from None


def subtree_ids(department: Department):
    """The ids of `department` and every department below it, as a subquery."""
    below = Department.path.like(_like(department.path) + "/%", escape="\\")
    return select(Department.id).where(or_(Department.id == department.id, below))


def get_department_by_path(session: Session, path: str) -> Department:
    department = session.scalar(select(Department).where(Department.path == path.strip().strip("/")))
    if department is None:
        raise NotFound("no department %(path)s", path=path)
    return department


def in_department(below):
    """`User.department_id` in the subquery `below`, written so the database does not choose the department index:
    `+ 0` hides it."""
    return (User.department_id + 0).in_(below)


def _fewer_than_many(session: Session, below) -> bool:
    """Whether the departments `below` have fewer than `MANY` active people, counting no further than that."""
    probe = select(User.id).where(User.deactivated_at.is_(None), User.department_id.in_(below)).limit(MANY)
    return session.scalar(select(func.count()).select_from(probe.subquery())) < MANY


def _conditions(session: Session, filters: Filters) -> list:
    rules = [User.deactivated_at.is_(None)]
    if len(filters.q) > MAX_QUERY:
        raise Invalid("a search is at most %(max)s characters", max=MAX_QUERY)
    # SQLite's LIKE ignores case already (as its lower() does, for ASCII only); `ilike` would add a lower() a row.
    sqlite = session.get_bind().dialect.name == "sqlite"
    for word in filters.q.split():
        pattern = f"%{_like(word)}%"
        columns = (User.name, User.email, User.job_title, User.expertise)
        rules.append(or_(*(c.like(pattern, escape="\\") if sqlite else c.ilike(pattern, escape="\\") for c in columns)))
    if filters.department.strip():
        below = subtree_ids(get_department_by_path(session, filters.department))
        rules.append(User.department_id.in_(below) if _fewer_than_many(session, below) else in_department(below))
    if filters.location.strip():
        rules.append(User.location == " ".join(filters.location.split()))
    for tag in expertise_tags(filters.expertise):
        # Tags are stored as "a, b, c" (hub.services.profiles.update_profile).
        rules.append(
            ("," + func.replace(func.lower(User.expertise), ", ", ",") + ",").like(f"%,{_like(tag)},%", escape="\\")
        )
    if filters.letter:
        letter = filters.letter.upper()
        if letter not in LETTERS:
            raise Invalid("the letter must be one of A to Z, not %(letter)s", letter=repr(filters.letter[:10]))
        upper, lower = letter, letter.lower()
        rules.append(
            or_(
                and_(User.name >= upper, User.name < chr(ord(upper) + 1)),
                and_(User.name >= lower, User.name < chr(ord(lower) + 1)),
            )
        )
    return rules


def people_page(session: Session, filters: Filters, cursor: str | None = None, size: int = PAGE_SIZE) -> PeoplePage:
    """One page of the directory, A to Z from `cursor`; Invalid for a bad filter or cursor, NotFound for an unknown
    department."""
    rules = _conditions(session, filters)
    after = []
    if cursor:
        name, user_id = _decode_cursor(cursor)
        after.append(or_(User.name > name, and_(User.name == name, User.id > user_id)))
    if filters.q.strip() and not (filters.department.strip() or filters.location.strip()):
        # Words are matched row by row: first along the name index over the next `SCAN_WINDOW` people, where a
        # common word fills the page; a rare word (or one that matches no one) is then matched over the table read
        # straight through and sorted, not person by person in name order (`|| ''` hides the index).
        window = (
            select(User)
            .where(User.deactivated_at.is_(None), *after)
            .order_by(User.name, User.id)
            .limit(SCAN_WINDOW)
            .subquery()
        )
        near = aliased(User, window)
        matching = ClauseAdapter(window).traverse(and_(*rules))
        found = list(session.scalars(select(near).where(matching).order_by(near.name, near.id).limit(size + 1)))
        if len(found) <= size:
            by_name = User.name.concat("")
            found = list(session.scalars(select(User).where(*rules, *after).order_by(by_name, User.id).limit(size + 1)))
    else:
        found = list(session.scalars(select(User).where(*rules, *after).order_by(User.name, User.id).limit(size + 1)))
    more = len(found) > size
    return PeoplePage(found[:size], _encode_cursor(found[size - 1]) if more else None)


def locations(session: Session) -> list[str]:
    """Every location someone in the directory is at, A to Z: what the location filter offers.

    Read as a skip scan along the `(location, deactivated_at)` index: each step seeks the next location after the
    last one, so twenty places cost twenty seeks, not a walk over everyone."""
    here = User.deactivated_at.is_(None)
    places = select(func.min(User.location).label("place")).where(User.location != "", here).cte(recursive=True)
    last = places.alias()
    following = select(func.min(User.location)).where(User.location > last.c.place, here).scalar_subquery()
    places = places.union_all(select(following).where(last.c.place.is_not(None)))
    return list(session.scalars(select(places.c.place).where(places.c.place.is_not(None))))

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
from sqlalchemy.orm import Session

from hub.models import Department, User
from hub.services.errors import Invalid, NotFound
from hub.services.profiles import expertise_tags

PAGE_SIZE = 30
MAX_QUERY = 200
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
        rules.append(User.department_id.in_(subtree_ids(get_department_by_path(session, filters.department))))
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
    if cursor:
        name, user_id = _decode_cursor(cursor)
        rules.append(or_(User.name > name, and_(User.name == name, User.id > user_id)))
    found = list(session.scalars(select(User).where(*rules).order_by(User.name, User.id).limit(size + 1)))
    more = len(found) > size
    return PeoplePage(found[:size], _encode_cursor(found[size - 1]) if more else None)


def locations(session: Session) -> list[str]:
    """Every location someone in the directory is at, A to Z: what the location filter offers."""
    return list(
        session.scalars(
            select(User.location)
            .where(User.location != "", User.deactivated_at.is_(None))
            .group_by(User.location)
            .order_by(User.location)
        )
    )
